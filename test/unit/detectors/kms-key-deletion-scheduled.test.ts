import { describe, expect, it } from 'vitest';
import { kmsKeyDeletionScheduled as detector } from '../../../src/detectors/kms-key-deletion-scheduled.js';
import { contextFor, corpusEvent, detect, fixtureEvent, KEY_ARN, KEY_ID, usageFixture, VENDOR_CONFIG } from './helpers.js';

const unused = { usageSummary: usageFixture() };
const used = {
  usageSummary: usageFixture({
    totalCalls: 12,
    cryptographicCalls: 10,
    byOperation: { Decrypt: 10, DescribeKey: 2 },
    principals: [{ arn: 'arn:aws:iam::111122223333:role/App', accountId: '111122223333', calls: 12 }],
    accounts: [{ accountId: '111122223333', calls: 12, external: false, vendor: null }],
    services: ['s3'],
    lastCryptographicUse: '2021-03-20T00:00:00.000Z',
  }),
};

describe('Detector: KMS.KeyDeletionScheduled', () => {
  it('fires on a successful ScheduleKeyDeletion with deletion date, window and usage summary', () => {
    const draft = detect(detector, corpusEvent(47), contextFor(), unused);
    expect(draft?.severity).toBe('high');
    expect(draft?.dedupKey).toBe(KEY_ARN);
    expect(draft?.context).toMatchObject({ deletionDate: '2021-04-12T18:58:30.000Z', pendingWindowInDays: 20, keyState: 'PendingDeletion' });
    expect(draft?.context['usageSummary']).toEqual(unused.usageSummary);
    expect(draft?.summary).toContain('to be deleted on 2021-04-12T18:58:30.000Z (waiting period 20 days)');
    expect(draft?.summary).toContain('No calls on the key in the 90 days before');
  });

  it('reads the other deletion-date format and the multi-Region case without a date', () => {
    expect(detect(detector, corpusEvent(49), contextFor(), unused)?.context['deletionDate']).toBe('2021-11-02T23:25:25.000Z');
    const replica = detect(detector, corpusEvent(48), contextFor(), unused);
    expect(replica?.context).toMatchObject({ deletionDate: null, keyState: 'PendingReplicaDeletion', pendingWindowInDays: 30 });
    expect(replica?.summary).toContain('once its replica keys are deleted');
  });

  it('is critical when the key was used in the lookback window', () => {
    const draft = detect(detector, corpusEvent(47), contextFor(), used);
    expect(draft?.severity).toBe('critical');
    expect(draft?.summary).toContain('12 calls (10 cryptographic) by 1 principal from 1 account, via s3');
  });

  it('is critical when the key is declared never_delete', () => {
    const draft = detect(detector, corpusEvent(47), contextFor({ keys: [{ key_id: KEY_ID, never_delete: true }] }), unused);
    expect(draft?.severity).toBe('critical');
    expect(draft?.summary).toContain('declared never_delete');
  });

  it('is critical and names the vendor when the key is shared with one', () => {
    const draft = detect(detector, corpusEvent(47), contextFor(VENDOR_CONFIG), unused);
    expect(draft?.severity).toBe('critical');
    expect(draft?.summary).toContain("Deleting it breaks vendor Acme Analytics's access.");
    expect(draft?.context['vendorsAffected']).toEqual(['Acme Analytics']);
  });

  it('ignores a failed ScheduleKeyDeletion: nothing was scheduled', () => {
    expect(detect(detector, fixtureEvent('schedule-key-deletion-denied'), contextFor(), unused)).toBeNull();
  });

  it('ignores other operations on the key', () => {
    expect(detect(detector, corpusEvent(2), contextFor(), unused)).toBeNull();
  });

  it('works without resources (the key comes from the response)', () => {
    const draft = detect(detector, fixtureEvent('schedule-key-deletion-null-resources'), contextFor(), unused);
    expect(draft?.keyArn).toBe(KEY_ARN);
    const bare = fixtureEvent('schedule-key-deletion-null-resources', { responseElements: null });
    const bareDraft = detect(detector, bare, contextFor(), unused);
    expect(bareDraft?.keyArn).toBeNull();
    expect(bareDraft?.dedupKey).toBe(KEY_ID);
  });
});
