import { describe, expect, it } from 'vitest';
import { kmsPendingDeletionKeyUsed as detector } from '../../../src/detectors/kms-pending-deletion-key-used.js';
import { contextFor, corpusEvent, detect, fixtureEvent, KEY_ARN, KEY_ID, VENDOR_CONFIG, otherServiceEvent } from './helpers.js';

describe('Detector: KMS.PendingDeletionKeyUsed', () => {
  it('fires on the guide alarm wording and names key, caller, account, operation, context and deletion date', () => {
    const draft = detect(detector, fixtureEvent('decrypt-pending-deletion'), contextFor(), { deletionDate: '2021-04-12T18:58:30.000Z' });
    expect(draft).not.toBeNull();
    expect(draft?.keyArn).toBe(KEY_ARN);
    expect(draft?.principalArn).toBe('arn:aws:iam::111122223333:user/Alice');
    expect(draft?.principalAccountId).toBe('111122223333');
    expect(draft?.summary).toContain('Decrypt by arn:aws:iam::111122223333:user/Alice (account 111122223333)');
    expect(draft?.summary).toContain(`${KEY_ARN} is pending deletion`);
    expect(draft?.summary).toContain('2021-04-12T18:58:30.000Z');
    expect(draft?.context).toMatchObject({
      operation: 'Decrypt',
      deletionDate: '2021-04-12T18:58:30.000Z',
      encryptionContext: { Department: 'Engineering', Project: 'Alpha' },
      errorCode: 'KMSInvalidStateException',
    });
  });

  it('fires on DisabledException saying the key is pending deletion (key-state table note [2])', () => {
    expect(detect(detector, fixtureEvent('generate-data-key-disabled-pending-deletion'))).not.toBeNull();
  });

  it('fires on KMSInvalidStateException for a key pending replica deletion', () => {
    const event = fixtureEvent('decrypt-pending-deletion', { errorMessage: `${KEY_ARN} is pending replica deletion.` });
    expect(detect(detector, event)).not.toBeNull();
  });

  it('names the via service and the vendor when a declared vendor is the caller', () => {
    const event = fixtureEvent('decrypt-pending-deletion', (r) => {
      r['userIdentity'] = { type: 'AssumedRole', arn: 'arn:aws:sts::444455556666:assumed-role/AcmeReader/s1', accountId: '444455556666' };
      r['requestParameters'] = { keyId: KEY_ARN, encryptionContext: { 'aws:s3:arn': 'arn:aws:s3:::tenant-bucket/x' } };
    });
    const draft = detect(detector, event, contextFor(VENDOR_CONFIG));
    expect(draft?.summary).toContain('via s3');
    expect(draft?.summary).toContain('vendor Acme Analytics');
    expect(draft?.context['vendor']).toBe('Acme Analytics');
  });

  it('ignores the same message from another service (the metric filter requires eventSource kms*)', () => {
    const event = otherServiceEvent({ errorCode: 'Client.InvalidKMSKey.InvalidState', errorMessage: `${KEY_ARN} is pending deletion.` });
    expect(event.eventSource).toBe('ec2.amazonaws.com');
    expect(detect(detector, event)).toBeNull();
  });

  it('ignores a KMSInvalidStateException that is about another state (external key store proxy)', () => {
    expect(detect(detector, corpusEvent(13))).toBeNull();
  });

  it('ignores "is not pending deletion" (CancelKeyDeletion on a live key)', () => {
    const event = corpusEvent(2, { errorCode: 'KMSInvalidStateException', errorMessage: `${KEY_ARN} is not pending deletion (or pending replica deletion)` });
    expect(detect(detector, event)).toBeNull();
  });

  it('ignores a successful call and other errors on the key', () => {
    expect(detect(detector, corpusEvent(9))).toBeNull();
    expect(detect(detector, corpusEvent(10))).toBeNull();
  });

  it('works without resources: the key ARN comes from the message, else the dedup key falls back to the key id', () => {
    const noResources = (r: Record<string, unknown>) => {
      r['resources'] = null;
      r['requestParameters'] = { keyId: KEY_ID, encryptionContext: { Department: 'Engineering' } };
    };
    const fromMessage = detect(detector, fixtureEvent('decrypt-pending-deletion', noResources), contextFor(), { deletionDate: '2021-04-12T18:58:30.000Z' });
    expect(fromMessage?.keyArn).toBe(KEY_ARN);
    expect(fromMessage?.context['deletionDate']).toBe('2021-04-12T18:58:30.000Z');
    const bare = fixtureEvent('decrypt-pending-deletion', (r) => {
      noResources(r);
      r['errorMessage'] = 'The key is pending deletion.';
    });
    const draft = detect(detector, bare);
    expect(draft?.keyArn).toBeNull();
    expect(draft?.dedupKey).toBe(`${KEY_ID}|arn:aws:iam::111122223333:user/Alice`);
  });

  it('makes one dedup key per key and caller, whatever the operation', () => {
    const decrypt = detect(detector, fixtureEvent('decrypt-pending-deletion'));
    const encrypt = detect(detector, fixtureEvent('decrypt-pending-deletion', { eventName: 'Encrypt', eventID: 'other-id' }));
    const bob = detect(detector, fixtureEvent('decrypt-pending-deletion', (r) => {
      r['userIdentity'] = { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/Bob', accountId: '111122223333' };
    }));
    expect(encrypt?.dedupKey).toBe(decrypt?.dedupKey);
    expect(bob?.dedupKey).not.toBe(decrypt?.dedupKey);
  });
});

describe('Detector: KMS.PendingDeletionKeyUsed on ReEncrypt', () => {
  it('names the destination key the message names, not the source key, and drops the source key’s deletion date', () => {
    const destination = 'arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321';
    const event = fixtureEvent('decrypt-pending-deletion', (r) => {
      r['eventName'] = 'ReEncrypt';
      r['errorMessage'] = `${destination} is pending deletion.`;
      r['requestParameters'] = { sourceKeyId: KEY_ARN, destinationKeyId: destination };
      r['resources'] = [
        { accountId: '111122223333', type: 'AWS::KMS::Key', ARN: KEY_ARN },
        { accountId: '111122223333', type: 'AWS::KMS::Key', ARN: destination },
      ];
    });
    expect(event.keyArn).toBe(KEY_ARN);
    const draft = detect(detector, event, contextFor(), { deletionDate: '2021-04-12T18:58:30.000Z' });
    expect(draft?.keyArn).toBe(destination);
    expect(draft?.dedupKey.startsWith(`${destination}|`)).toBe(true);
    expect(draft?.summary).toContain(`${destination} is pending deletion`);
    expect(draft?.context['deletionDate']).toBeNull();
  });
});
