import { describe, expect, it } from 'vitest';
import { kmsImportedKeyMaterialExpired as detector } from '../../../src/detectors/kms-imported-key-material-expired.js';
import { contextFor, corpusEvent, detect, KEY_ARN, KEY_ID, lifecycleKmsEvent, usageFixture, VENDOR_CONFIG, otherServiceEvent } from './helpers.js';

const facts = { usageSummary: usageFixture() };

describe('Detector: KMS.ImportedKeyMaterialExpired', () => {
  it('fires on the lifecycle event and on the DeleteExpiredKeyMaterial service event with one dedup key', () => {
    const lifecycle = detect(detector, lifecycleKmsEvent(2), contextFor(), facts);
    const service = detect(detector, corpusEvent(16), contextFor(), facts);
    expect(lifecycle?.summary).toContain('expired and KMS deleted it');
    expect(lifecycle?.dedupKey).toBe(KEY_ARN);
    expect(service?.dedupKey).toBe(KEY_ARN);
    expect(lifecycle?.severity).toBeUndefined();
  });

  it("names the vendor whose access breaks", () => {
    expect(detect(detector, lifecycleKmsEvent(2), contextFor(VENDOR_CONFIG), facts)?.summary).toContain(
      "This breaks vendor Acme Analytics's access.",
    );
  });

  it('ignores the other lifecycle events', () => {
    expect(detect(detector, lifecycleKmsEvent(1), contextFor(), facts)).toBeNull();
    expect(detect(detector, lifecycleKmsEvent(3), contextFor(), facts)).toBeNull();
  });

  it('ignores DeleteImportedKeyMaterial (a person did that: KMS.ImportedKeyMaterialDeleted)', () => {
    expect(detect(detector, corpusEvent(17), contextFor(), facts)).toBeNull();
  });

  it('ignores the event name from another service', () => {
    expect(detect(detector, otherServiceEvent({ eventName: 'DeleteExpiredKeyMaterial' }), contextFor(), facts)).toBeNull();
  });

  it('keeps a service event that carries an error (failed calls are evidence)', () => {
    expect(detect(detector, corpusEvent(16, { errorCode: 'InternalError', errorMessage: 'x' }), contextFor(), facts)).not.toBeNull();
  });

  it('works without resources, from serviceEventDetails.keyId', () => {
    const draft = detect(detector, corpusEvent(16, { resources: null }), contextFor(), facts);
    expect(draft?.keyArn).toBeNull();
    expect(draft?.dedupKey).toBe(KEY_ID);
  });
});
