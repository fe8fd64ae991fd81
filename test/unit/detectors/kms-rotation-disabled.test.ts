import { describe, expect, it } from 'vitest';
import { kmsRotationDisabled as detector } from '../../../src/detectors/kms-rotation-disabled.js';
import { corpusEvent, detect, fixtureEvent, KEY_ARN } from './helpers.js';

describe('Detector: KMS.RotationDisabled', () => {
  it('fires on a successful DisableKeyRotation', () => {
    const draft = detect(detector, corpusEvent(23));
    expect(draft?.dedupKey).toBe(KEY_ARN);
    expect(draft?.summary).toBe(`arn:aws:iam::111122223333:user/Alice disabled automatic rotation of KMS key ${KEY_ARN}.`);
  });

  it('ignores a failed DisableKeyRotation', () => {
    expect(detect(detector, fixtureEvent('disable-key-rotation-denied'))).toBeNull();
  });

  it('ignores GetKeyRotationStatus', () => {
    expect(detect(detector, corpusEvent(34))).toBeNull();
  });

  it('works without resources (key from the request ARN, else the event id)', () => {
    expect(detect(detector, corpusEvent(23, { resources: null }))?.keyArn).toBe(KEY_ARN);
    const bare = corpusEvent(23, { resources: null, requestParameters: null });
    expect(detect(detector, bare)?.dedupKey).toBe(bare.eventId);
  });
});
