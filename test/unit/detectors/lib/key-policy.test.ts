import { describe, expect, it } from 'vitest';
import { parseKeyPolicy, policyAccess, publicGrants, scopeConstraints, type KeyPolicyStatement } from '../../../../src/detectors/lib/key-policy.js';

function statements(...items: object[]): KeyPolicyStatement[] {
  const parsed = parseKeyPolicy(JSON.stringify({ Version: '2012-10-17', Statement: items }));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.statements;
}

const ROOT = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' };

describe('key policy analysis', () => {
  it('reports text that is not JSON as unparseable instead of throwing', () => {
    // The Developer Guide's PutKeyPolicy example: a missing "}," after the principal.
    const guide = '{\n "Version" : "2012-10-17",\n "Statement" : [ {\n "Effect" : "Allow",\n "Principal" : {\n "AWS" : "arn:aws:iam::111122223333:root"\n "Action" : "kms:*"\n } ]\n}';
    expect(parseKeyPolicy(guide)).toEqual({ ok: false, reason: 'policy is not valid JSON' });
    expect(parseKeyPolicy('{"Version":"2012-10-17"}')).toEqual({ ok: false, reason: 'policy has no Statement' });
    expect(parseKeyPolicy(null).ok).toBe(false);
  });

  it('accepts a single statement object as well as a list', () => {
    const parsed = parseKeyPolicy(JSON.stringify({ Statement: ROOT }));
    expect(parsed.ok && parsed.statements.map((s) => s.principals[0]?.accountId)).toEqual(['111122223333']);
  });

  it.each([
    ['"*"', '*'],
    ['{"AWS": "*"}', { AWS: '*' }],
    ['{"AWS": ["arn:aws:iam::*:root"]}', { AWS: ['arn:aws:iam::*:root'] }],
  ])('treats Principal %s without a condition as public', (_label, principal) => {
    const grants = publicGrants(statements(ROOT, { Effect: 'Allow', Principal: principal, Action: 'kms:Decrypt', Resource: '*' }));
    expect(grants).toHaveLength(1);
    expect(grants[0]?.actions).toEqual(['kms:Decrypt']);
  });

  it('treats an Allow with NotPrincipal as public', () => {
    const grants = publicGrants(statements({ Effect: 'Allow', NotPrincipal: { AWS: 'arn:aws:iam::111122223333:root' }, Action: 'kms:*', Resource: '*' }));
    expect(grants[0]?.reason).toMatch(/NotPrincipal/);
  });

  it.each([
    ['aws:PrincipalOrgID', { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } }],
    ['aws:PrincipalAccount', { StringEquals: { 'aws:PrincipalAccount': ['111122223333', '444455556666'] } }],
    ['kms:CallerAccount with kms:ViaService', { StringEquals: { 'kms:CallerAccount': '111122223333', 'kms:ViaService': 'ec2.us-west-2.amazonaws.com' } }],
    ['aws:SourceAccount', { StringEquals: { 'aws:SourceAccount': '111122223333' } }],
    ['aws:SourceArn with an account', { ArnLike: { 'aws:SourceArn': 'arn:aws:cloudtrail:*:111122223333:trail/*' } }],
    ['aws:PrincipalOrgPaths', { 'ForAnyValue:StringLike': { 'aws:PrincipalOrgPaths': ['o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*'] } }],
    ['aws:SourceOrgID', { StringEquals: { 'aws:SourceOrgID': 'o-a1b2c3d4e5' } }],
    ['a lower-case condition key', { StringEquals: { 'aws:principalorgid': 'o-a1b2c3d4e5' } }],
  ])('does not treat a wildcard limited by %s as public', (_label, condition) => {
    expect(publicGrants(statements({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:Decrypt', Resource: '*', Condition: condition }))).toEqual([]);
  });

  it.each([
    ['kms:ViaService alone', { StringEquals: { 'kms:ViaService': 's3.us-west-2.amazonaws.com' } }],
    ['a negated operator', { StringNotEquals: { 'aws:PrincipalAccount': '111122223333' } }],
    ['an IfExists operator', { StringEqualsIfExists: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } }],
    ['ForAllValues (true when the key is absent)', { 'ForAllValues:StringEquals': { 'aws:PrincipalOrgPaths': ['o-a1b2c3d4e5/r-ab12/'] } }],
    ['a wildcard account', { StringLike: { 'aws:PrincipalAccount': '*' } }],
    ['aws:SourceArn without an account', { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::*' } }],
    ['a network condition', { StringEquals: { 'aws:SourceVpce': 'vpce-1a2b3c4d' } }],
  ])('still treats a wildcard "limited" by %s as public', (_label, condition) => {
    expect(publicGrants(statements({ Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*', Condition: condition }))).toHaveLength(1);
  });

  it('never treats a Deny statement as public', () => {
    expect(publicGrants(statements(ROOT, { Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*' }))).toEqual([]);
  });

  it('lists granted principals, writing bare accounts and pinned wildcards as account roots', () => {
    const access = policyAccess(
      statements(
        ROOT,
        { Sid: 'Vendor', Effect: 'Allow', Principal: { AWS: ['444455556666', 'arn:aws:iam::444455556666:role/VendorKmsAccess'] }, Action: 'kms:Decrypt', Resource: '*' },
        { Sid: 'Partner', Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'kms:CallerAccount': '999988887777' } } },
        { Sid: 'Org', Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } } },
        { Sid: 'Logs', Effect: 'Allow', Principal: { Service: 'logs.us-west-2.amazonaws.com' }, Action: 'kms:Encrypt*', Resource: '*' },
        { Sid: 'Open', Effect: 'Allow', Principal: '*', Action: 'kms:DescribeKey', Resource: '*' },
        { Sid: 'NoStranger', Effect: 'Deny', Principal: { AWS: 'arn:aws:iam::777788889999:root' }, Action: 'kms:*', Resource: '*' },
      ),
    );
    expect(access.granted.map((p) => [p.id, p.accountId, p.via])).toEqual([
      ['arn:aws:iam::111122223333:root', '111122223333', 'principal'],
      ['arn:aws:iam::444455556666:root', '444455556666', 'principal'],
      ['arn:aws:iam::444455556666:role/VendorKmsAccess', '444455556666', 'principal'],
      ['arn:aws:iam::999988887777:root', '999988887777', 'condition'],
    ]);
    expect(access.organizations).toEqual(['o-a1b2c3d4e5']);
    expect(access.publicStatements).toBe(1);
    expect(access.denied.map((p) => p.id)).toEqual(['arn:aws:iam::777788889999:root']);
  });

  it('marks a principal named outright as such, even when a pinned wildcard names its account first', () => {
    const access = policyAccess(
      statements(
        { Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'kms:CallerAccount': '111122223333', 'kms:ViaService': 'ec2.us-west-2.amazonaws.com' } } },
        ROOT,
      ),
    );
    expect(access.granted).toMatchObject([{ id: 'arn:aws:iam::111122223333:root', via: 'principal', sids: ['#0', 'Enable IAM User Permissions'] }]);
  });

  it('keeps the accounts that every account condition allows', () => {
    const limits = scopeConstraints([
      { operator: 'StringEquals', key: 'aws:PrincipalAccount', values: ['111122223333', '444455556666'] },
      { operator: 'StringEquals', key: 'kms:CallerAccount', values: ['444455556666'] },
    ]);
    expect(limits.map((l) => l.accounts)).toEqual([['111122223333', '444455556666'], ['444455556666']]);
    const access = policyAccess(
      statements({
        Effect: 'Allow',
        Principal: '*',
        Action: 'kms:Decrypt',
        Resource: '*',
        Condition: { StringEquals: { 'aws:PrincipalAccount': ['111122223333', '444455556666'], 'kms:CallerAccount': '444455556666' } },
      }),
    );
    expect(access.granted.map((p) => p.id)).toEqual(['arn:aws:iam::444455556666:root']);
  });
});
