import { describe, expect, it } from 'vitest';
import { kmsCrossAccountUse as detector } from '../../../src/detectors/kms-cross-account-use.js';
import type { KmsEvent } from '../../../src/normalize/types.js';
import { contextFor, corpusEvent, fixtureEvent, fixtureRecordWith, KEY_ARN, type JsonRecord } from './helpers.js';
import { repeated, runQueryDetector } from './lib/policy-query-harness.js';

const OTHER_KEY_ARN = 'arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321';
const STRANGER_ROLE = 'arn:aws:iam::999988887777:role/DataPipelineRole';
const VENDOR_ON_KEY = { keys: [{ key_arn: KEY_ARN, vendors: [{ name: 'Acme Analytics', accounts: ['444455556666'] }] }] };

const ownerCopy = () => fixtureEvent('xacct-decrypt-stranger-owner-copy');
const callerCopy = () => fixtureEvent('xacct-decrypt-stranger-caller-copy');

/** A record's key moved to another key of the same owner. */
function onOtherKey(r: JsonRecord): void {
  (r['requestParameters'] as JsonRecord)['keyId'] = OTHER_KEY_ARN;
  r['resources'] = [{ accountId: '111122223333', type: 'AWS::KMS::Key', ARN: OTHER_KEY_ARN }];
}

async function drafts(events: KmsEvent[], config: unknown = {}) {
  return (await runQueryDetector(detector, events, contextFor(config))).drafts;
}

describe('Detector: KMS.CrossAccountUse', () => {
  it('makes one finding of the two logged copies of a Decrypt by an unknown account, high on first sight', async () => {
    const [draft, ...rest] = await drafts([ownerCopy(), callerCopy()]);
    expect(rest).toEqual([]);
    expect(draft?.severity).toBe('high');
    expect(draft?.eventIds.sort()).toEqual([ownerCopy().eventId, callerCopy().eventId].sort());
    expect(draft?.dedupKey).toBe(`${KEY_ARN}|999988887777|${STRANGER_ROLE}|2024-03-05T00:00:00.000Z`);
    expect(draft?.summary).toBe(
      `${STRANGER_ROLE} in account 999988887777 made 1 cross-account call (Decrypt ×1) on key ${KEY_ARN} owned by 111122223333; ` +
        'the first time this account is seen on the key.',
    );
    expect(draft).toMatchObject({ accountId: '111122223333', keyArn: KEY_ARN, principalArn: STRANGER_ROLE, principalAccountId: '999988887777', occurredAt: '2024-03-05T10:15:02.000Z' });
    expect(draft?.context).toMatchObject({
      calls: 1,
      records: 2,
      operations: [{ operation: 'Decrypt', calls: 1 }],
      callerAccountId: '999988887777',
      principalArns: ['arn:aws:sts::999988887777:assumed-role/DataPipelineRole/etl-run-20240305'],
      loggedInAccounts: expect.arrayContaining(['111122223333', '999988887777']),
      firstTimeAccountSeenOnKey: true,
      vendor: null,
      firstTime: '2024-03-05T10:15:02.000Z',
      lastTime: '2024-03-05T10:15:02.000Z',
    });
  });

  it('counts repeated use by one role in one dedup window as one finding, and is medium once the account was seen', async () => {
    const day1 = repeated(ownerCopy(), 5, 600, 'day1');
    const day2 = repeated(fixtureEvent('xacct-decrypt-stranger-owner-copy', { eventTime: '2024-03-06T09:00:00Z' }), 3, 60, 'day2');
    const result = await drafts([...day1, ...day2]);
    expect(result.map((d) => [d.severity, d.context['calls'], d.occurredAt])).toEqual([
      ['high', 5, '2024-03-05T10:15:02.000Z'],
      ['medium', 3, '2024-03-06T09:00:00.000Z'],
    ]);
    expect(result[0]?.context['lastTime']).toBe('2024-03-05T10:55:02.000Z');
  });

  it('fires on a denied attempt by an unknown account and says so', async () => {
    const [draft] = await drafts([fixtureEvent('xacct-decrypt-stranger-denied')]);
    expect(draft?.severity).toBe('high');
    expect(draft?.summary).toContain('the call was denied (AccessDeniedException): an attempt by an account the key does not expect');
    expect(draft?.context).toMatchObject({ deniedCalls: 1, failedCalls: 1, errorCodes: ['AccessDeniedException'] });
  });

  it('stays high while the account has only been denied before (it was never let in)', async () => {
    const denied = fixtureEvent('xacct-decrypt-stranger-denied', { eventTime: '2024-03-04T11:40:27Z' });
    const result = await drafts([denied, ownerCopy()]);
    expect(result.map((d) => d.severity)).toEqual(['high', 'high']);
  });

  it('reports other failures of an unknown account as failed calls', async () => {
    const failed = fixtureEvent('xacct-decrypt-stranger-owner-copy', { errorCode: 'KMSInvalidStateException', errorMessage: `${KEY_ARN} is disabled.` });
    const [draft] = await drafts([failed]);
    expect(draft?.summary).toContain('1 failed (KMSInvalidStateException)');
  });

  it('ignores a trusted account', async () => {
    expect(await drafts([ownerCopy(), callerCopy()], { trusted_accounts: ['999988887777'] })).toEqual([]);
  });

  it('ignores a vendor on the key it is declared for', async () => {
    expect(await drafts([fixtureEvent('xacct-generate-data-key-vendor')], VENDOR_ON_KEY)).toEqual([]);
  });

  it('fires for the same vendor account on another key, naming the key it is declared for', async () => {
    const [draft] = await drafts([fixtureEvent('xacct-generate-data-key-vendor', onOtherKey)], VENDOR_ON_KEY);
    expect(draft?.keyArn).toBe(OTHER_KEY_ARN);
    expect(draft?.summary).toContain(`the account is declared as vendor "Acme Analytics" of ${KEY_ARN}, not of this key`);
    expect(draft?.context['vendor']).toEqual({ declaredForOtherKeys: [{ vendor: 'Acme Analytics', key: KEY_ARN }] });
  });

  it('recognises a vendor declared by its role only, and fires for another role of that account', async () => {
    const byRole = { keys: [{ key_arn: KEY_ARN, vendors: [{ name: 'Acme Analytics', principals: ['arn:aws:iam::444455556666:role/VendorKmsAccess'] }] }] };
    expect(await drafts([fixtureEvent('xacct-generate-data-key-vendor')], byRole)).toEqual([]);
    const otherRole = fixtureEvent('xacct-generate-data-key-vendor', (r) => {
      const identity = r['userIdentity'] as JsonRecord;
      identity['arn'] = 'arn:aws:sts::444455556666:assumed-role/Contractor/laptop';
      (identity['sessionContext'] as { sessionIssuer: JsonRecord }).sessionIssuer['arn'] = 'arn:aws:iam::444455556666:role/Contractor';
    });
    const [draft] = await drafts([otherRole], byRole);
    expect(draft?.principalArn).toBe('arn:aws:iam::444455556666:role/Contractor');
  });

  it('groups the sessions of a role under the role even when records carry no sessionContext', async () => {
    const bare = (session: string, eventID: string) =>
      fixtureEvent('xacct-decrypt-stranger-owner-copy', (r) => {
        const identity = r['userIdentity'] as JsonRecord;
        delete identity['sessionContext'];
        identity['arn'] = `arn:aws:sts::999988887777:assumed-role/DataPipelineRole/${session}`;
        Object.assign(r, { eventID, sharedEventID: undefined });
      });
    const result = await drafts([bare('run-1', 'bb000000-0000-4000-8000-000000000001'), bare('run-2', 'bb000000-0000-4000-8000-000000000002')]);
    expect(result.map((d) => [d.principalArn, d.context['calls']])).toEqual([[STRANGER_ROLE, 2]]);
  });

  it('ignores calls from the key owner account', async () => {
    expect(await drafts([corpusEvent(9, { eventTime: '2024-03-05T10:00:00Z' })])).toEqual([]);
  });

  it('ignores non-cryptographic operations (DescribeKey) by another account', async () => {
    const describeKey = corpusEvent(21, (r) => {
      r['eventTime'] = '2024-03-05T10:00:00Z';
      r['userIdentity'] = fixtureRecordWith('xacct-decrypt-stranger-owner-copy')['userIdentity'];
      (r['requestParameters'] as JsonRecord)['keyId'] = KEY_ARN;
    });
    expect(describeKey.isCrossAccount).toBe(true);
    expect(await drafts([describeKey])).toEqual([]);
  });

  it("ignores CloudTrail's own role writing the key owner's trail, but not a stranger's trail", async () => {
    const cloudTrail = corpusEvent(68, { eventTime: '2024-03-05T10:00:00Z' });
    expect(cloudTrail.isCrossAccount).toBe(true);
    expect(await drafts([cloudTrail])).toEqual([]);
    const strangersTrail = corpusEvent(68, (r) => {
      r['eventTime'] = '2024-03-05T10:00:00Z';
      (r['requestParameters'] as { encryptionContext: JsonRecord }).encryptionContext['aws:cloudtrail:arn'] = 'arn:aws:cloudtrail:us-west-2:999988887777:trail/exfil';
    });
    const [draft] = await drafts([strangersTrail]);
    expect(draft?.principalAccountId).toBe('086441151436');
    expect(draft?.context['invokedBy']).toEqual(['internal.amazonaws.com']);
  });

  it('works without resources: the key comes from the key ARN in the request', async () => {
    const [draft] = await drafts([fixtureEvent('xacct-decrypt-stranger-owner-copy', { resources: null })]);
    expect(draft?.keyArn).toBe(KEY_ARN);
  });

  it('ignores events outside the window, and counts a whole bucket when the window starts inside it', async () => {
    const early = fixtureEvent('xacct-decrypt-stranger-owner-copy', { eventTime: '2024-02-20T10:00:00Z' });
    expect(await drafts([early])).toEqual([]);
    const ctx = contextFor();
    expect(detector.params(ctx, { from: '2024-03-05T12:00:00.000Z', to: '2024-03-06T00:00:00.000Z' })['window_from']).toBe('2024-03-05T00:00:00.000Z');
    const { drafts: late } = await runQueryDetector(detector, [ownerCopy()], ctx, { from: '2024-03-05T12:00:00.000Z', to: '2024-03-06T00:00:00.000Z' });
    expect(late[0]?.occurredAt).toBe('2024-03-05T10:15:02.000Z');
  });
});
