import { describe, expect, it } from 'vitest';
import { kmsKeyDeleted as detector } from '../../../src/detectors/kms-key-deleted.js';
import { contextFor, corpusEvent, detect, fixtureEvent, KEY_ARN, KEY_ID, lifecycleKmsEvent, usageFixture, VENDOR_CONFIG } from './helpers.js';

const unused = { usageSummary: usageFixture() };
const used = { usageSummary: usageFixture({ totalCalls: 3, cryptographicCalls: 3 }) };

describe('Detector: KMS.KeyDeleted', () => {
  it('fires on the KMS CMK Deletion lifecycle event, medium when unused', () => {
    const draft = detect(detector, lifecycleKmsEvent(3), contextFor(), unused);
    expect(draft?.severity).toBe('medium');
    expect(draft?.keyArn).toBe(KEY_ARN);
    expect(draft?.summary).toContain('was deleted; data encrypted under it is unrecoverable');
  });

  it('fires on the DeleteKey service event, high when used in the lookback window', () => {
    const draft = detect(detector, corpusEvent(19), contextFor(), used);
    expect(draft?.severity).toBe('high');
    expect(draft?.context['customKeyStoreId']).toBe('cks-1234567890abcdef0');
  });

  it('gives the lifecycle event, its retry and the service event one dedup key: the key', () => {
    const keys = [lifecycleKmsEvent(3), fixtureEvent('kms-cmk-deletion-retry'), corpusEvent(19)].map((e) => detect(detector, e, contextFor(), unused)?.dedupKey);
    expect(new Set(keys)).toEqual(new Set([KEY_ARN]));
    expect(detector.oncePerDedupKey).toBe(true);
  });

  it('reports orphaned CloudHSM key material when backing key deletion failed', () => {
    const draft = detect(detector, corpusEvent(67), contextFor(), unused);
    expect(draft?.summary).toContain('1 backing key(s) in the CloudHSM cluster were not deleted');
    expect(draft?.context['backingKeysDeletionStatus']).toEqual([{ keyHandle: '16', backingKeyId: 'backing-key-id', deletionStatus: 'FAILURE' }]);
  });

  it("is high and names the vendor when a vendor's key was deleted", () => {
    const draft = detect(detector, lifecycleKmsEvent(3), contextFor(VENDOR_CONFIG), unused);
    expect(draft?.severity).toBe('high');
    expect(draft?.summary).toContain("This breaks vendor Acme Analytics's access.");
  });

  it('ignores a DeleteKey that is not a service event (KMS has no DeleteKey API)', () => {
    const event = corpusEvent(19, { eventType: 'AwsApiCall', errorCode: 'UnknownOperationException', errorMessage: 'Unknown operation' });
    expect(event.eventKind).toBe('api_call');
    expect(detect(detector, event, contextFor(), unused)).toBeNull();
  });

  it('ignores the other lifecycle events and ScheduleKeyDeletion', () => {
    expect(detect(detector, lifecycleKmsEvent(1), contextFor(), unused)).toBeNull();
    expect(detect(detector, lifecycleKmsEvent(2), contextFor(), unused)).toBeNull();
    expect(detect(detector, corpusEvent(47), contextFor(), unused)).toBeNull();
  });

  it('fires without resources, falling back to the key id, then the event id', () => {
    const withId = corpusEvent(19, { resources: null, responseElements: { keyId: KEY_ID } });
    expect(detect(detector, withId, contextFor(), unused)?.dedupKey).toBe(KEY_ID);
    const none = fixtureEvent('delete-key-null-resources');
    expect(detect(detector, none, contextFor(), { usageSummary: null })?.dedupKey).toBe(none.eventId);
  });
});
