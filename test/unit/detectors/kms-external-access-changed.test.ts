import { describe, expect, it } from 'vitest';
import { kmsExternalAccessChanged as detector } from '../../../src/detectors/kms-external-access-changed.js';
import type { KmsEvent } from '../../../src/normalize/types.js';
import { contextFor, corpusEvent, fixtureEvent, fixtureRecordWith, KEY_ARN, KEY_ID, toEvent, type JsonRecord } from './helpers.js';
import { runQueryDetector } from './lib/policy-query-harness.js';

const ADMIN = 'arn:aws:sts::111122223333:assumed-role/KMSAdminRole/alice';
const VENDOR_ROLE = 'arn:aws:iam::444455556666:role/VendorKmsAccess';
const VENDOR_ROOT = 'arn:aws:iam::444455556666:root';
const ACME = { keys: [{ key_arn: KEY_ARN, vendors: [{ name: 'Acme Analytics', accounts: ['444455556666'] }] }] };
const IN_ACCOUNT_VENDOR = { keys: [{ key_arn: KEY_ARN, vendors: [{ name: 'AI for Work', principals: ['arn:aws:iam::111122223333:role/AIforWorkByokAccessRole'] }] }] };

interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action: unknown;
  Resource: string;
  Condition?: unknown;
}

/** The vendor-shared policy as first put on 2024-03-01. */
const baseline = () => fixtureEvent('policy-put-key-policy-vendor-shared');

/** A later PutKeyPolicy (2024-03-04) of the vendor-shared policy, edited. */
function laterPolicy(edit: (statements: Statement[]) => Statement[], patch: JsonRecord = {}): KmsEvent {
  return toEvent(
    fixtureRecordWith('policy-put-key-policy-vendor-shared', (r) => {
      const req = r['requestParameters'] as JsonRecord;
      const policy = JSON.parse(String(req['policy'])) as { Statement: Statement[] };
      policy.Statement = edit(policy.Statement);
      req['policy'] = JSON.stringify(policy, null, 2);
      Object.assign(r, { eventTime: '2024-03-04T11:22:33Z', eventID: '6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d', requestID: '7b8c9d0e-1f2a-4b3c-9d4e-5f6a7b8c9d0e' }, patch);
    }),
  );
}

const without = (...sids: string[]) => (s: Statement[]) => s.filter((x) => !sids.includes(x.Sid ?? ''));
const plus = (...more: Statement[]) => (s: Statement[]) => [...s, ...more];

async function drafts(events: KmsEvent[], config: unknown = {}) {
  return (await runQueryDetector(detector, events, contextFor(config))).drafts;
}

/**
 * Run over the changes from 2024-03-02 on: the baseline policy (2024-03-01) is stored history the
 * query reads, not a change it reports.
 */
async function changes(events: KmsEvent[], config: unknown = {}) {
  return (await runQueryDetector(detector, events, contextFor(config), { from: '2024-03-02T00:00:00.000Z', to: '2024-04-01T00:00:00.000Z' })).drafts;
}

describe('Detector: KMS.ExternalAccessChanged', () => {
  describe('key policies', () => {
    it('reports an external account added to the key policy (medium)', async () => {
      const change = laterPolicy(plus({ Sid: 'Partner', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::999988887777:root' }, Action: 'kms:Decrypt', Resource: '*' }));
      const [draft, ...rest] = await changes([baseline(), change], ACME);
      expect(rest).toEqual([]);
      expect(draft?.severity).toBe('medium');
      expect(draft?.summary).toBe(`PutKeyPolicy by ${ADMIN} on key ${KEY_ARN}: added external principal arn:aws:iam::999988887777:root.`);
      expect(draft).toMatchObject({ dedupKey: `policy|${change.eventId}`, eventIds: [change.eventId], accountId: '111122223333', keyArn: KEY_ARN });
      expect(draft?.context['added']).toEqual([
        { principal: 'arn:aws:iam::999988887777:root', accountId: '999988887777', via: 'principal', statements: ['Partner'], actions: ['kms:Decrypt'], vendor: null, trusted: false },
      ]);
      expect(draft?.context['previousPolicy']).toEqual({ state: 'seen', eventId: baseline().eventId, eventName: 'PutKeyPolicy', eventTime: '2024-03-01T09:00:12.000Z' });
    });

    it('reports an account let in through a wildcard pinned by kms:CallerAccount', async () => {
      const change = laterPolicy(plus({ Sid: 'ViaCaller', Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'kms:CallerAccount': '999988887777' } } }));
      const [draft] = await changes([baseline(), change]);
      expect(draft?.summary).toContain('added external principal arn:aws:iam::999988887777:root (via a condition on "*")');
    });

    it('is high and names the vendor when a declared vendor is removed from the policy', async () => {
      const change = laterPolicy(without('Allow use of the key', 'Allow attachment of persistent resources'));
      const [draft] = await changes([baseline(), change], ACME);
      expect(draft?.severity).toBe('high');
      expect(draft?.summary).toBe(
        `PutKeyPolicy by ${ADMIN} on key ${KEY_ARN}: removed ${VENDOR_ROLE} (vendor "Acme Analytics"), ${VENDOR_ROOT} (vendor "Acme Analytics"); ` +
          'vendor "Acme Analytics" loses access to the key.',
      );
      expect(draft?.context['vendorsLosingAccess']).toEqual(['Acme Analytics']);
    });

    it('is medium when the vendor keeps access through another principal', async () => {
      const [draft] = await changes([baseline(), laterPolicy(without('Allow attachment of persistent resources'))], ACME);
      expect(draft?.severity).toBe('medium');
      expect(draft?.summary).toContain(`vendor "Acme Analytics" is still allowed through ${VENDOR_ROLE}`);
    });

    it("follows a vendor's role in the owner's own account: still allowed through the root's IAM delegation", async () => {
      const [draft] = await changes([baseline(), laterPolicy(without('AllowVendorRoleInThisAccount'))], IN_ACCOUNT_VENDOR);
      expect(draft?.severity).toBe('medium');
      expect(draft?.summary).toContain('removed arn:aws:iam::111122223333:role/AIforWorkByokAccessRole (vendor "AI for Work")');
      expect(draft?.summary).toContain(`vendor "AI for Work" is still allowed only through IAM policies of the key owner's account`);
      const rootGone = await changes([baseline(), laterPolicy(without('AllowVendorRoleInThisAccount', 'Enable IAM User Permissions'))], IN_ACCOUNT_VENDOR);
      expect(rootGone[0]?.severity).toBe('high');
    });

    it('is high when a Deny statement shuts a declared vendor out', async () => {
      const change = laterPolicy(plus({ Sid: 'CutAcme', Effect: 'Deny', Principal: { AWS: VENDOR_ROLE }, Action: 'kms:*', Resource: '*' }));
      const [draft] = await changes([baseline(), change], ACME);
      expect(draft?.severity).toBe('high');
      expect(draft?.summary).toContain(`now explicitly denies ${VENDOR_ROLE} (vendor "Acme Analytics")`);
    });

    it('ignores a policy change that touches only principals of the owner account', async () => {
      const change = laterPolicy(plus({ Sid: 'Auditors', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:role/Auditor' }, Action: 'kms:DescribeKey', Resource: '*' }));
      expect(await changes([baseline(), change], ACME)).toEqual([]);
    });

    it('ignores a wildcard open to everyone (KMS.KeyPolicyPublic reports it)', async () => {
      expect(await changes([baseline(), fixtureEvent('policy-put-key-policy-public')])).toEqual([]);
    });

    it('without the previous policy, reports the external principals present and says so', async () => {
      const [draft] = await drafts([baseline()]);
      expect(draft?.severity).toBe('medium');
      expect(draft?.summary).toBe(
        `PutKeyPolicy by ${ADMIN} on key ${KEY_ARN}: grants external principals ${VENDOR_ROLE}, ${VENDOR_ROOT} ` +
          '(the previous policy of this key was not seen, so removals cannot be told).',
      );
      expect(draft?.context['previousPolicy']).toEqual({ state: 'unseen' });
    });

    it('without the previous policy, warns that a declared vendor missing from the new policy may lose access', async () => {
      const [draft] = await drafts([laterPolicy(without('Allow use of the key', 'Allow attachment of persistent resources'))], ACME);
      expect(draft?.severity).toBe('medium');
      expect(draft?.summary).toContain('declared vendor "Acme Analytics" is not granted by the new policy and may lose access unless it holds a grant');
    });

    it("treats the guide's unparseable PutKeyPolicy as an unreadable previous policy, and as no finding itself", async () => {
      const guide = corpusEvent(40, { eventTime: '2024-02-28T10:00:00Z' });
      const [draft] = await changes([guide, laterPolicy((s) => s)]);
      expect(draft?.summary).toContain(`the previous policy (PutKeyPolicy ${guide.eventId}) could not be read (policy is not valid JSON)`);
      expect(await drafts([corpusEvent(40, { eventTime: '2024-03-02T10:00:00Z' })])).toEqual([]);
    });

    it('ignores the call when errorCode is set', async () => {
      const failed = laterPolicy(plus({ Sid: 'Partner', Effect: 'Allow', Principal: { AWS: '999988887777' }, Action: 'kms:Decrypt', Resource: '*' }), {
        errorCode: 'AccessDeniedException',
        errorMessage: `User: ${ADMIN} is not authorized to perform: kms:PutKeyPolicy on resource: ${KEY_ARN}`,
      });
      expect(await changes([baseline(), failed])).toEqual([]);
    });

    it('reports external principals in a new key, and nothing for a key created with the default policy', async () => {
      const shared = fixtureEvent('policy-create-key-public', (r) => {
        const req = r['requestParameters'] as JsonRecord;
        const policy = JSON.parse(String(req['policy'])) as { Statement: Statement[] };
        policy.Statement[1] = { Sid: 'Partner', Effect: 'Allow', Principal: { AWS: '999988887777' }, Action: 'kms:Decrypt', Resource: '*' };
        req['policy'] = JSON.stringify(policy);
      });
      const [draft] = await drafts([shared]);
      expect(draft?.summary).toBe(`CreateKey by arn:aws:iam::111122223333:user/Alice on key ${KEY_ARN}: added external principal arn:aws:iam::999988887777:root.`);
      expect(draft?.context['previousPolicy']).toEqual({ state: 'none' });
      expect(await drafts([corpusEvent(7, { eventTime: '2024-03-03T16:45:09Z' })])).toEqual([]);
    });

    it('compares against a key created with the default policy', async () => {
      const created = corpusEvent(7, { eventTime: '2024-02-10T10:00:00Z' });
      const [draft] = await drafts([created, baseline()]);
      expect(draft?.summary).toContain(`added external principals ${VENDOR_ROLE}, ${VENDOR_ROOT}`);
      expect(draft?.context['previousPolicy']).toMatchObject({ state: 'seen', eventName: 'CreateKey' });
    });

    it('ignores adding the key\'s own declared vendor: that is the BYOK setup the config describes', async () => {
      const created = corpusEvent(7, { eventTime: '2024-02-10T10:00:00Z' });
      expect(await drafts([created, baseline()], ACME)).toEqual([]);
    });

    it('ignores adding an account of the organization (trusted_accounts)', async () => {
      const created = corpusEvent(7, { eventTime: '2024-02-10T10:00:00Z' });
      expect(await drafts([created, baseline()], { trusted_accounts: ['444455556666'] })).toEqual([]);
    });

    it('works without resources: both policies matched by the bare key id, the caller account as owner', async () => {
      const before = fixtureEvent('policy-put-key-policy-vendor-shared', { resources: null });
      const change = laterPolicy(without('Allow use of the key', 'Allow attachment of persistent resources'), { resources: null });
      expect(change.keyArn).toBeNull();
      const [draft] = await changes([before, change], { keys: [{ key_id: KEY_ID, vendors: [{ name: 'Acme Analytics', accounts: ['444455556666'] }] }] });
      expect(draft?.severity).toBe('high');
      expect(draft?.accountId).toBe('111122223333');
      expect(draft?.summary).toContain(`on key ${KEY_ID}`);
    });
  });

  describe('grants', () => {
    it('reports a grant to an outside account (medium)', async () => {
      const grant = fixtureEvent('grant-create-stranger');
      const [draft] = await drafts([grant]);
      expect(draft?.severity).toBeUndefined();
      expect(draft?.summary).toBe(
        `CreateGrant by ${ADMIN} on key ${KEY_ARN} gives grantee arn:aws:iam::999988887777:role/DataPipelineRole (account 999988887777) ` +
          'Decrypt, GenerateDataKey: an account outside the organization and not a vendor of this key.',
      );
      expect(draft?.dedupKey).toBe(`grant-created|${KEY_ARN}|999988887777|2024-03-06T00:00:00.000Z`);
      expect(draft?.context).toMatchObject({ grantId: '7c9f1e2d3b4a59687f6e5d4c3b2a1908f7e6d5c4b3a2918070f6e5d4c3b2a190', operations: ['Decrypt', 'GenerateDataKey'] });
    });

    it('makes one finding of the two logged copies of a cross-account CreateGrant', async () => {
      const byStranger = (recipient: string, eventID: string) =>
        fixtureEvent('grant-create-stranger', (r) => {
          r['userIdentity'] = fixtureRecordWith('xacct-decrypt-stranger-owner-copy')['userIdentity'];
          Object.assign(r, { recipientAccountId: recipient, eventID, sharedEventID: '2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a' });
        });
      const result = await drafts([byStranger('111122223333', 'aa000000-0000-4000-8000-000000000001'), byStranger('999988887777', 'aa000000-0000-4000-8000-000000000002')]);
      expect(result).toHaveLength(1);
      expect(result[0]?.eventIds).toEqual(['aa000000-0000-4000-8000-000000000001', 'aa000000-0000-4000-8000-000000000002']);
    });

    it('ignores grants to the key’s own vendor, to trusted accounts and to the owner account', async () => {
      expect(await drafts([fixtureEvent('grant-create-vendor')], ACME)).toEqual([]);
      expect(await drafts([fixtureEvent('grant-create-stranger')], { trusted_accounts: ['999988887777'] })).toEqual([]);
      expect(await drafts([corpusEvent(61, { eventTime: '2024-03-06T08:00:00Z' })])).toEqual([]);
    });

    it('is high when a declared vendor’s grant is revoked', async () => {
      const revoke = fixtureEvent('grant-revoke-vendor');
      const [draft] = await drafts([fixtureEvent('grant-create-vendor'), revoke], ACME);
      expect(draft?.severity).toBe('high');
      expect(draft?.summary).toBe(
        `RevokeGrant by ${ADMIN} on key ${KEY_ARN} removed grant 0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0 of ${VENDOR_ROLE} ` +
          '(account 444455556666) for Decrypt, GenerateDataKey: vendor "Acme Analytics" loses that grant.',
      );
      expect(draft?.eventIds).toEqual([revoke.eventId]);
      expect(draft?.context['grantCreatedBy']).toEqual({ eventId: fixtureEvent('grant-create-vendor').eventId, eventTime: '2024-03-06T08:20:04.000Z' });
    });

    it('reports the revocation of an outside account’s grant (medium)', async () => {
      const revoke = fixtureEvent('grant-revoke-vendor', (r) => {
        (r['requestParameters'] as JsonRecord)['grantId'] = '7c9f1e2d3b4a59687f6e5d4c3b2a1908f7e6d5c4b3a2918070f6e5d4c3b2a190';
      });
      const result = await drafts([fixtureEvent('grant-create-stranger'), revoke]);
      expect(result.map((d) => d.context['operation'])).toEqual(['CreateGrant', 'RevokeGrant']);
      const draft = result[1];
      expect(draft?.severity).toBe('medium');
      expect(draft?.summary).toContain('an external grantee loses access');
    });

    it('ignores a vendor retiring its own grant', async () => {
      expect(await drafts([fixtureEvent('grant-create-vendor'), fixtureEvent('grant-retire-by-vendor')], ACME)).toEqual([]);
    });

    it('warns that revoking an unknown grant on a key shared with a vendor may break it', async () => {
      const [draft] = await drafts([fixtureEvent('grant-revoke-vendor')], ACME);
      expect(draft?.severity).toBe('medium');
      expect(draft?.summary).toContain('whose grantee is unknown (its CreateGrant was not seen): this may break vendor "Acme Analytics"');
      expect(await drafts([fixtureEvent('grant-revoke-vendor')])).toEqual([]);
    });

    it('ignores the guide’s own grant records, pairing its RevokeGrant and RetireGrant with the EC2 grant they name', async () => {
      // Lines 42 and 43 retire and revoke grant abcde123…514a, which line 61 created for EC2 in the
      // owner's account: a known grantee, not external, so not even the vendor warning applies.
      const guide = [6, 61, 42, 43].map((line, i) => corpusEvent(line, { eventTime: `2024-03-06T08:0${i}:00Z` }));
      const { drafts: none, rows } = await runQueryDetector(detector, guide, contextFor(ACME));
      expect(none).toEqual([]);
      expect(rows.filter((r) => r['grant_event_id'] === guide[1]?.eventId).map((r) => r['event_name'])).toEqual(['RetireGrant', 'RevokeGrant']);
    });

    it('works without resources on the revocation (the key ARN is in the request)', async () => {
      const [draft] = await drafts([fixtureEvent('grant-create-vendor'), fixtureEvent('grant-revoke-vendor', { resources: null })], ACME);
      expect(draft?.keyArn).toBe(KEY_ARN);
      expect(draft?.severity).toBe('high');
    });
  });
});
