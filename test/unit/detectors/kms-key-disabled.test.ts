import { describe, expect, it } from 'vitest';
import { kmsKeyDisabled as detector } from '../../../src/detectors/kms-key-disabled.js';
import { contextFor, corpusEvent, detect, fixtureEvent, KEY_ARN, KEY_ID, usageFixture, VENDOR_CONFIG } from './helpers.js';

const unused = { usageSummary: usageFixture() };

describe('Detector: KMS.KeyDisabled', () => {
  it('fires on a successful DisableKey with a usage summary', () => {
    const draft = detect(detector, corpusEvent(22), contextFor(), unused);
    expect(draft?.severity).toBe('high');
    expect(draft?.keyArn).toBe(KEY_ARN);
    expect(draft?.summary).toContain('arn:aws:iam::111122223333:user/Alice disabled KMS key');
    expect(draft?.context['usageSummary']).toEqual(unused.usageSummary);
  });

  it("says disabling a vendor's key breaks the vendor's access, and is critical", () => {
    const draft = detect(detector, corpusEvent(22), contextFor(VENDOR_CONFIG), unused);
    expect(draft?.summary).toContain("Disabling it breaks vendor Acme Analytics's access.");
    expect(draft?.severity).toBe('critical');
  });

  it('is critical when the key had cryptographic use in the lookback window', () => {
    const draft = detect(detector, corpusEvent(22), contextFor(), { usageSummary: usageFixture({ totalCalls: 1, cryptographicCalls: 1 }) });
    expect(draft?.severity).toBe('critical');
  });

  it('stays high for never_delete alone (disabling can be undone)', () => {
    const draft = detect(detector, corpusEvent(22), contextFor({ keys: [{ key_id: KEY_ID, never_delete: true }] }), unused);
    expect(draft?.severity).toBe('high');
  });

  it('ignores a failed DisableKey: the key is still enabled', () => {
    expect(detect(detector, fixtureEvent('disable-key-denied'), contextFor(), unused)).toBeNull();
  });

  it('ignores EnableKey', () => {
    expect(detect(detector, corpusEvent(25), contextFor(), unused)).toBeNull();
  });

  it('works without resources', () => {
    const event = corpusEvent(22, { resources: null, responseElements: null });
    const draft = detect(detector, event, contextFor(), unused);
    expect(draft?.keyArn).toBeNull();
    expect(draft?.dedupKey).toBe(KEY_ID);
  });
});
