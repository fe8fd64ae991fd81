import { describe, expect, it } from 'vitest';
import { kmsDisabledKeyUsed as detector } from '../../../src/detectors/kms-disabled-key-used.js';
import { contextFor, corpusEvent, detect, fixtureEvent, KEY_ARN, KEY_ID, VENDOR_CONFIG, otherServiceEvent } from './helpers.js';

describe('Detector: KMS.DisabledKeyUsed', () => {
  it('fires on DisabledException and names key, caller and operation', () => {
    const draft = detect(detector, fixtureEvent('encrypt-disabled-key'));
    expect(draft?.keyArn).toBe(KEY_ARN);
    expect(draft?.summary).toContain('Encrypt by arn:aws:iam::111122223333:user/Alice (account 111122223333)');
    expect(draft?.summary).toContain('is disabled');
    expect(draft?.context).toMatchObject({ operation: 'Encrypt', errorCode: 'DisabledException' });
  });

  it('says a declared vendor is the caller whose access is broken', () => {
    const event = fixtureEvent('encrypt-disabled-key', (r) => {
      r['userIdentity'] = { type: 'AssumedRole', arn: 'arn:aws:sts::444455556666:assumed-role/AcmeReader/s1', accountId: '444455556666' };
    });
    expect(detect(detector, event, contextFor(VENDOR_CONFIG))?.summary).toContain("vendor Acme Analytics, whose access is broken");
  });

  it('ignores DisabledException for a key pending deletion (KMS.PendingDeletionKeyUsed reports it)', () => {
    expect(detect(detector, fixtureEvent('generate-data-key-disabled-pending-deletion'))).toBeNull();
  });

  it('ignores other error codes and successful calls', () => {
    expect(detect(detector, corpusEvent(10))).toBeNull();
    expect(detect(detector, corpusEvent(26))).toBeNull();
  });

  it('ignores DisabledException logged by another service', () => {
    expect(detect(detector, otherServiceEvent({ errorCode: 'DisabledException', errorMessage: `${KEY_ARN} is disabled.` }))).toBeNull();
  });

  it('works without resources: dedup key falls back to the key id', () => {
    const event = fixtureEvent('encrypt-disabled-key', (r) => {
      r['resources'] = null;
      r['requestParameters'] = { keyId: KEY_ID };
    });
    expect(detect(detector, event)?.keyArn).toBe(KEY_ARN); // from the message
    const bare = fixtureEvent('encrypt-disabled-key', (r) => {
      r['resources'] = null;
      r['requestParameters'] = { keyId: KEY_ID };
      r['errorMessage'] = 'The request was rejected because the specified KMS key is not enabled.';
    });
    const draft = detect(detector, bare);
    expect(draft?.keyArn).toBeNull();
    expect(draft?.dedupKey.startsWith(`${KEY_ID}|`)).toBe(true);
  });
});

describe('Detector: KMS.DisabledKeyUsed on ReEncrypt', () => {
  it('names the disabled destination key from the message', () => {
    const destination = 'arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321';
    const event = fixtureEvent('encrypt-disabled-key', (r) => {
      r['eventName'] = 'ReEncrypt';
      r['errorMessage'] = `${destination} is disabled.`;
      r['resources'] = [
        { accountId: '111122223333', type: 'AWS::KMS::Key', ARN: KEY_ARN },
        { accountId: '111122223333', type: 'AWS::KMS::Key', ARN: destination },
      ];
    });
    const draft = detect(detector, event);
    expect(draft?.keyArn).toBe(destination);
    expect(draft?.summary).toContain(`KMS key ${destination} is disabled`);
  });
});
