import { describe, expect, it } from 'vitest';
import { kmsKeyPolicyPublic as detector } from '../../../src/detectors/kms-key-policy-public.js';
import { corpusEvent, detect, fixtureEvent, fixtureRecordWith, KEY_ARN, KEY_ID, toEvent, type JsonRecord } from './helpers.js';

/** The vendor-shared PutKeyPolicy with its policy document edited. */
function putPolicyWith(edit: (policy: { Statement: object[] }) => void): JsonRecord {
  return fixtureRecordWith('policy-put-key-policy-vendor-shared', (r) => {
    const req = r['requestParameters'] as JsonRecord;
    const policy = JSON.parse(String(req['policy'])) as { Statement: object[] };
    edit(policy);
    req['policy'] = JSON.stringify(policy);
  });
}

describe('Detector: KMS.KeyPolicyPublic', () => {
  it('fires on a PutKeyPolicy that allows {"AWS": "*"} without a condition', () => {
    const event = fixtureEvent('policy-put-key-policy-public');
    const draft = detect(detector, event);
    expect(draft).not.toBeNull();
    expect(draft?.dedupKey).toBe(event.eventId);
    expect(draft?.keyArn).toBe(KEY_ARN);
    expect(draft?.accountId).toBe('111122223333');
    expect(draft?.principalArn).toBe('arn:aws:sts::111122223333:assumed-role/KMSAdminRole/alice');
    expect(draft?.summary).toBe(
      `PutKeyPolicy by arn:aws:sts::111122223333:assumed-role/KMSAdminRole/alice set a key policy on ${KEY_ARN} that any AWS account can use: ` +
        'statement "AllowDecryptForAnyone" allows kms:Decrypt to Principal {"AWS": "*"} without an organization or account condition.',
    );
    expect(draft?.context['publicStatements']).toEqual([
      { index: 6, sid: 'AllowDecryptForAnyone', reason: 'Principal {"AWS": "*"}', principals: ['*'], actions: ['kms:Decrypt'], notActions: null, conditionKeys: [] },
    ]);
  });

  it('fires on a CreateKey whose policy has Principal "*"', () => {
    const draft = detect(detector, fixtureEvent('policy-create-key-public'));
    expect(draft?.keyArn).toBe(KEY_ARN);
    expect(draft?.summary).toContain('statement "ShareWithEveryone" allows kms:Decrypt, kms:GenerateDataKey*, kms:DescribeKey to Principal "*"');
  });

  it('fires on a wildcard whose only condition is kms:ViaService (any account can call through a service)', () => {
    const record = putPolicyWith((p) =>
      p.Statement.push({ Sid: 'ViaS3', Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'kms:ViaService': 's3.us-west-2.amazonaws.com' } } }),
    );
    const draft = detect(detector, toEvent(record));
    expect(draft?.context['publicStatements']).toMatchObject([{ sid: 'ViaS3', conditionKeys: ['kms:ViaService'] }]);
  });

  it('ignores a wildcard limited to the organization (aws:PrincipalOrgID)', () => {
    expect(detect(detector, fixtureEvent('policy-put-key-policy-org-wildcard'))).toBeNull();
  });

  it('ignores a vendor-shared policy whose only wildcard is pinned by kms:CallerAccount and kms:ViaService', () => {
    expect(detect(detector, fixtureEvent('policy-put-key-policy-vendor-shared'))).toBeNull();
  });

  it('ignores a Deny statement with Principal "*"', () => {
    const record = putPolicyWith((p) =>
      p.Statement.push({ Sid: 'DenyOutsideOrg', Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*', Condition: { StringNotEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } } }),
    );
    expect(detect(detector, toEvent(record))).toBeNull();
  });

  it("ignores the guide's PutKeyPolicy, whose policy is not valid JSON, without throwing", () => {
    const guide = corpusEvent(40);
    expect(() => detect(detector, guide)).not.toThrow();
    expect(detect(detector, guide)).toBeNull();
  });

  it('ignores the call when errorCode is set (a failed PutKeyPolicy changed nothing)', () => {
    const failed = fixtureEvent('policy-put-key-policy-public', {
      errorCode: 'MalformedPolicyDocumentException',
      errorMessage: 'The new key policy will not allow you to update the key policy in the future.',
    });
    expect(failed.outcome).toBe('error');
    expect(detect(detector, failed)).toBeNull();
  });

  it('ignores operations that do not set a policy (GetKeyPolicy) and CreateKey without a policy', () => {
    expect(detect(detector, corpusEvent(33))).toBeNull();
    expect(detect(detector, corpusEvent(7))).toBeNull();
  });

  it('works without resources: the key is the bare id from the request, the account the caller', () => {
    const draft = detect(detector, fixtureEvent('policy-put-key-policy-public', { resources: null }));
    expect(draft?.keyArn).toBeNull();
    expect(draft?.accountId).toBe('111122223333');
    expect(draft?.summary).toContain(`set a key policy on ${KEY_ID} that any AWS account can use`);
  });

  it('names the replica for a ReplicateKey whose replica policy is public, and ignores the guide example', () => {
    expect(detect(detector, corpusEvent(41))).toBeNull();
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' }] });
    const replica = corpusEvent(41, (r) => {
      (r['requestParameters'] as JsonRecord)['policy'] = policy;
    });
    const draft = detect(detector, replica);
    expect(draft?.keyArn).toBe('arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    expect(draft?.region).toBe('us-west-2');
    expect(draft?.context['primaryKeyArn']).toBe('arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab');
  });
});
