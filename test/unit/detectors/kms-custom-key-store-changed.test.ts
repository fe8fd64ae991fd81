import { describe, expect, it } from 'vitest';
import { kmsCustomKeyStoreChanged as detector } from '../../../src/detectors/kms-custom-key-store-changed.js';
import { corpusEvent, detect, fixtureEvent, otherServiceEvent } from './helpers.js';

describe('Detector: KMS.CustomKeyStoreChanged', () => {
  it.each([3, 5, 15, 24, 55])('fires on corpus line %i', (line) => {
    const draft = detect(detector, corpusEvent(line));
    expect(draft?.context['customKeyStoreId']).toBe('cks-1234567890abcdef0');
    expect(draft?.summary).toContain('cks-1234567890abcdef0');
  });

  it('keeps a failed call and says it failed', () => {
    const draft = detect(detector, fixtureEvent('connect-custom-key-store-failed'));
    expect(draft?.summary).toContain('it failed (CloudHsmClusterNotActiveException');
    expect(draft?.dedupKey).toBe('cks-1234567890abcdef0|ConnectCustomKeyStore|error');
  });

  it('ignores DescribeCustomKeyStores (reads change nothing)', () => {
    expect(detect(detector, corpusEvent(20))).toBeNull();
  });

  it('ignores the event name from another service', () => {
    expect(detect(detector, otherServiceEvent({ eventName: 'CreateCustomKeyStore' }))).toBeNull();
  });

  it('works without a key or resources (stores are not keys)', () => {
    const draft = detect(detector, corpusEvent(3, { resources: null }));
    expect(draft?.keyArn).toBeNull();
    expect(draft?.accountId).toBe('111122223333');
  });
});
