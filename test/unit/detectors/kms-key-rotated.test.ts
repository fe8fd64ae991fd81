import { describe, expect, it } from 'vitest';
import { kmsKeyRotated as detector } from '../../../src/detectors/kms-key-rotated.js';
import { corpusEvent, detect, fixtureEvent, KEY_ARN, KEY_ID, lifecycleKmsEvent } from './helpers.js';

describe('Detector: KMS.KeyRotated', () => {
  it('is evidence only: info and not sent', () => {
    expect(detector.severity).toBe('info');
    expect(detector.alert).toBe(false);
  });

  it('fires on the lifecycle event, both RotateKey service events and RotateKeyOnDemand, with one dedup key', () => {
    const drafts = [lifecycleKmsEvent(1), corpusEvent(44), corpusEvent(45), corpusEvent(46)].map((e) => detect(detector, e));
    expect(drafts.map((d) => d?.dedupKey)).toEqual([KEY_ARN, KEY_ARN, KEY_ARN, KEY_ARN]);
    expect(drafts.map((d) => d?.context['rotationType'])).toEqual([null, 'AUTOMATIC', 'ON_DEMAND', 'ON_DEMAND']);
  });

  it('ignores a failed RotateKeyOnDemand: nothing rotated', () => {
    expect(detect(detector, fixtureEvent('rotate-key-on-demand-unsupported'))).toBeNull();
  });

  it('ignores rotation settings and other lifecycle events', () => {
    expect(detect(detector, corpusEvent(23))).toBeNull();
    expect(detect(detector, lifecycleKmsEvent(3))).toBeNull();
  });

  it('works without resources, from serviceEventDetails.keyId', () => {
    const draft = detect(detector, corpusEvent(44, { resources: null }));
    expect(draft?.keyArn).toBeNull();
    expect(draft?.dedupKey).toBe(KEY_ID);
  });
});
