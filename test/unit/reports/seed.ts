import { readFileSync } from 'node:fs';
import { KeytrailConfigSchema, type KeytrailConfig } from '../../../src/config/schema.js';
import { FINDING_SCHEMA_VERSION, FindingSchema, type Finding } from '../../../src/findings/finding.js';
import { FindingStore } from '../../../src/findings/store.js';
import { normalizeValue } from '../../../src/normalize/normalize.js';
import type { KmsEvent } from '../../../src/normalize/types.js';
import { KeytrailDb } from '../../../src/store/database.js';
import { EventStore } from '../../../src/store/event-store.js';
import { corpusRecord, lifecycleEvent } from '../../support/corpus.js';

/**
 * March 2024 for the reports, built from the AWS guide's example records (test/fixtures/corpus),
 * varied with structuredClone. Every expectation in the report tests is counted by hand from here.
 *
 * Accounts: 111122223333 owns every key; 222233334444 is in the organization (trusted);
 * 444455556666 is vendor Acme (declared on K1); 999988887777 a stranger; 777766665555 an auditor
 * whose use of K1 a suppression acknowledges.
 *
 * Stored events fall on 03-02 … 03-21, except 03-04 (a day without events); the period in most
 * tests is 2024-03-01 to 2024-03-31.
 */
export const OWNER = '111122223333';
export const ORG = '222233334444';
export const VENDOR = '444455556666';
export const STRANGER = '999988887777';
export const AUDITOR = '777766665555';

const keyArn = (id: string) => `arn:aws:kms:us-west-2:${OWNER}:key/${id}`;
/** Used, shared with vendor Acme, rotated (service event + EventBridge), policy changed; alias/project-key. */
export const K1_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
export const K1 = keyArn(K1_ID);
/** Scheduled for deletion on 03-20 (deletionDate logged: 2024-04-19 12:00), then still called. */
export const K2_ID = '0987dcba-09fe-87dc-65ba-ab0987654321';
export const K2 = keyArn(K2_ID);
/** Scheduled on 03-10 and cancelled on 03-11. */
export const K3_ID = 'mrk-1234abcd12ab34cd56ef1234567890ab';
export const K3 = keyArn(K3_ID);
/** Created with origin EXTERNAL on 03-02, key material imported the same day. */
export const K4_ID = '4567cdef-45ab-67cd-89ef-4567890abcde';
export const K4 = keyArn(K4_ID);
/** Disabled on 03-12. */
export const K5_ID = '5678abcd-56ab-78cd-90ef-5678901abcde';
export const K5 = keyArn(K5_ID);

/** An encryption context value a caller chose: it must come out of every report as text. */
export const HOSTILE_CONTEXT = '<script>alert("ctx")</script>';
/** An alias name as logged (CreateAlias accepts no such name, but a record can carry anything). */
export const HOSTILE_ALIAS = 'alias/<img src=x onerror=alert(1)>';

type Json = Record<string, unknown>;

function assumedRole(account: string, role: string, session: string): Json {
  return {
    type: 'AssumedRole',
    principalId: `AROA${account.slice(0, 6)}EXAMPLE:${session}`,
    arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
    accountId: account,
    accessKeyId: `ASIA${account.slice(0, 6)}EXAMPLE`,
    sessionContext: {
      sessionIssuer: { type: 'Role', principalId: `AROA${account.slice(0, 6)}EXAMPLE`, arn: `arn:aws:iam::${account}:role/${role}`, accountId: account, userName: role },
      attributes: { creationDate: '2024-03-01T08:00:00Z', mfaAuthenticated: 'false' },
    },
  };
}

export const ALICE = `arn:aws:iam::${OWNER}:user/Alice`;
const APP = assumedRole(OWNER, 'AppRole', 'app-1');
export const APP_ROLE = `arn:aws:iam::${OWNER}:role/AppRole`;
const ANALYTICS = assumedRole(ORG, 'Analytics', 'job-7');
const ACME = assumedRole(VENDOR, 'AcmeKmsAccess', 'acme-sync');
export const ACME_ROLE = `arn:aws:iam::${VENDOR}:role/AcmeKmsAccess`;
const STRANGER_ID = assumedRole(STRANGER, 'DataPipelineRole', 'etl-run');
const AUDITOR_ID = assumedRole(AUDITOR, 'AuditReader', 'q1-review');

export function eid(n: number, copy: 'a' | 'b' = 'a'): string {
  return `7a1d2c3b-${String(n).padStart(4, '0')}-4a5b-8c7d-00000000000${copy}`;
}

interface Variation {
  n: number;
  /** Corpus line (test/fixtures/corpus/kms-guide-examples.index.tsv). */
  line: number;
  time: string;
  identity?: Json;
  key?: string;
  keyRef?: string;
  error?: [code: string, message: string];
  edit?: (record: Json) => void;
}

function record(v: Variation): Json {
  const r = structuredClone(corpusRecord(v.line));
  r['eventID'] = eid(v.n);
  r['eventTime'] = v.time;
  r['awsRegion'] = 'us-west-2';
  r['recipientAccountId'] = OWNER;
  if (v.identity) r['userIdentity'] = structuredClone(v.identity);
  if (v.key) {
    r['resources'] = [{ accountId: OWNER, type: 'AWS::KMS::Key', ARN: v.key }];
    const params = r['requestParameters'];
    if (params && typeof params === 'object' && 'keyId' in params) (params as Json)['keyId'] = v.keyRef ?? v.key;
  }
  if (v.error) [r['errorCode'], r['errorMessage']] = v.error;
  v.edit?.(r);
  return r;
}

/** A cross-account call: the caller's copy and (unless denied) the owner's copy, one sharedEventID. */
function crossAccount(v: Variation & { callerAccount: string; callerOnly?: boolean }): Json[] {
  const caller = record(v);
  caller['sharedEventID'] = `5e3e4d5c-${String(v.n).padStart(4, '0')}-4b6a-9d8e-0000000000ff`;
  caller['recipientAccountId'] = v.callerAccount;
  if (v.callerOnly) return [caller];
  const owner = structuredClone(caller);
  owner['eventID'] = eid(v.n, 'b');
  owner['recipientAccountId'] = OWNER;
  return [caller, owner];
}

function lifecycle(n: number, line: number, time: string, keyId: string): Json {
  const e = structuredClone(lifecycleEvent(line));
  e['id'] = eid(n);
  e['time'] = time;
  e['resources'] = [keyArn(keyId)];
  e['detail'] = { 'key-id': keyId };
  return e;
}

const denied = (caller: string, action: string, key: string) =>
  `User: ${caller} is not authorized to perform: kms:${action} on resource: ${key} because no resource-based policy allows the kms:${action} action`;

export function seedRecords(): Json[] {
  return [
    // --- K1: use by the app (03-02, 03-03, 03-05), one with a hostile encryption context (03-05).
    record({ n: 1, line: 9, time: '2024-03-02T10:00:00Z', identity: APP, key: K1 }),
    record({ n: 2, line: 9, time: '2024-03-03T10:00:00Z', identity: APP, key: K1, keyRef: 'alias/project-key' }),
    record({
      n: 3, line: 9, time: '2024-03-05T10:00:00Z', identity: APP, key: K1,
      edit: (r) => ((r['requestParameters'] as Json)['encryptionContext'] = { tenant: HOSTILE_CONTEXT, formula: '=HYPERLINK("http://evil.example")' }),
    }),
    // Cross-account: vendor Acme (both copies, counts once), the org account (trusted), a stranger
    // (denied: caller's copy only), the auditor (acknowledged by a suppression).
    ...crossAccount({ n: 4, line: 9, time: '2024-03-06T10:00:00Z', identity: ACME, key: K1, callerAccount: VENDOR }),
    ...crossAccount({ n: 5, line: 27, time: '2024-03-06T11:00:00Z', identity: ACME, key: K1, callerAccount: VENDOR }),
    ...crossAccount({ n: 6, line: 9, time: '2024-03-07T10:00:00Z', identity: ANALYTICS, key: K1, callerAccount: ORG }),
    ...crossAccount({
      n: 7, line: 9, time: '2024-03-08T10:00:00Z', identity: STRANGER_ID, key: K1, callerAccount: STRANGER, callerOnly: true,
      error: ['AccessDeniedException', denied(`arn:aws:sts::${STRANGER}:assumed-role/DataPipelineRole/etl-run`, 'Decrypt', K1)],
    }),
    ...crossAccount({ n: 8, line: 9, time: '2024-03-09T10:00:00Z', identity: AUDITOR_ID, key: K1, callerAccount: AUDITOR }),
    // Rotation: the RotateKey service event and the "KMS CMK Rotation" event of one rotation (03-10),
    // and one a year earlier (outside the period).
    record({ n: 9, line: 44, time: '2024-03-10T01:41:59Z' }),
    lifecycle(10, 1, '2024-03-10T01:42:10Z', K1_ID),
    record({ n: 11, line: 44, time: '2023-03-10T01:40:00Z' }),
    // Administration: policy, grant to the vendor, a denied DisableKeyRotation, an alias.
    record({ n: 12, line: 40, time: '2024-03-15T09:00:00Z', key: K1 }),
    record({ n: 13, line: 6, time: '2024-03-15T09:05:00Z', key: K1, edit: (r) => ((r['requestParameters'] as Json)['granteePrincipal'] = ACME_ROLE) }),
    record({
      n: 14, line: 23, time: '2024-03-16T10:00:00Z', identity: APP, key: K1,
      error: ['AccessDeniedException', denied(`arn:aws:sts::${OWNER}:assumed-role/AppRole/app-1`, 'DisableKeyRotation', K1)],
    }),

    // --- K2: used, scheduled for deletion on 03-20 with the date KMS logged, then a failed Decrypt.
    record({ n: 20, line: 9, time: '2024-03-05T12:00:00Z', identity: APP, key: K2 }),
    record({
      n: 21, line: 49, time: '2024-03-20T12:00:00Z', key: K2,
      edit: (r) => {
        (r['requestParameters'] as Json)['pendingWindowInDays'] = 30;
        r['responseElements'] = { keyId: K2, deletionDate: 'Apr 19, 2024, 12:00:00 PM', keyState: 'PendingDeletion', pendingWindowInDays: 30 };
      },
    }),
    record({ n: 22, line: 9, time: '2024-03-21T10:00:00Z', identity: APP, key: K2, error: ['KMSInvalidStateException', `${K2} is pending deletion.`] }),

    // --- K3: scheduled on 03-10, cancelled on 03-11: not pending at the end.
    record({
      n: 30, line: 47, time: '2024-03-10T09:00:00Z', key: K3, keyRef: K3_ID,
      edit: (r) => (r['responseElements'] = { keyId: K3, keyState: 'PendingDeletion', deletionDate: 'Mar 30, 2024, 9:00:00 AM' }),
    }),
    record({ n: 31, line: 2, time: '2024-03-11T09:00:00Z', key: K3, keyRef: K3_ID, edit: (r) => (r['responseElements'] = { keyId: K3 }) }),

    // --- K4: CreateKey with origin EXTERNAL, then ImportKeyMaterial (expires 2024-06-01).
    record({
      n: 40, line: 7, time: '2024-03-02T08:00:00Z', key: K4,
      edit: (r) => {
        const meta = (r['responseElements'] as Json)['keyMetadata'] as Json;
        meta['keyId'] = K4_ID;
        meta['arn'] = K4;
      },
    }),
    record({ n: 41, line: 36, time: '2024-03-02T08:10:00Z', key: K4, keyRef: K4_ID, edit: (r) => ((r['requestParameters'] as Json)['validTo'] = 'Jun 1, 2024 12:00:00 AM') }),

    // --- K5: disabled on 03-12; an alias with a name that is markup (as logged).
    record({ n: 50, line: 22, time: '2024-03-12T10:00:00Z', key: K5, keyRef: K5_ID }),
    record({
      n: 51, line: 4, time: '2024-03-12T10:05:00Z', key: K5,
      edit: (r) => {
        r['requestParameters'] = { aliasName: HOSTILE_ALIAS, targetKeyId: K5_ID };
        r['resources'] = [
          { accountId: OWNER, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:us-west-2:${OWNER}:${HOSTILE_ALIAS}` },
          { accountId: OWNER, type: 'AWS::KMS::Key', ARN: K5 },
        ];
      },
    }),

    // --- The management trail stops logging on 03-18 (never restarted).
    trailFixture(60, 'trail-stop-logging', (r) => (r['eventTime'] = '2024-03-18T13:45:59Z')),
  ];
}

function trailFixture(n: number, name: string, edit: (r: Json) => void): Json {
  const r = JSON.parse(readFileSync(new URL(`../../fixtures/reports/${name}.json`, import.meta.url), 'utf8')) as Json;
  r['eventID'] = eid(n);
  edit(r);
  return r;
}

export function seedEvents(): KmsEvent[] {
  return seedRecords().map((value, position) => {
    const result = normalizeValue(value, { uri: 'seed', position }, '2024-04-05T00:00:00.000Z');
    if (result.kind !== 'event') throw new Error(`seed record ${position} did not normalize: ${JSON.stringify(result)}`);
    return result.event;
  });
}

export const CONFIG: KeytrailConfig = KeytrailConfigSchema.parse({
  trusted_accounts: [ORG],
  keys: [
    {
      key_arn: K1,
      alias: 'alias/project-key',
      description: 'Project data',
      vendors: [{ name: 'Acme', accounts: [VENDOR], principals: [ACME_ROLE] }],
    },
  ],
  suppressions: [{ detector: 'KMS.CrossAccountUse', key: K1, account: AUDITOR, reason: 'Q1 audit engagement' }],
});

function finding(n: number, overrides: Partial<Finding>): Finding {
  return FindingSchema.parse({
    schema_version: FINDING_SCHEMA_VERSION,
    finding_id: n.toString(16).padStart(32, '0'),
    detector_id: 'KMS.CrossAccountUse',
    severity: 'medium',
    title: 'Cross-account use',
    summary: 'See https://docs.aws.amazon.com/kms/latest/developerguide/logging-using-cloudtrail.html for the record.',
    occurred_at: '2024-03-08T10:00:00.000Z',
    account_id: OWNER,
    region: 'us-west-2',
    key_arn: K1,
    principal_arn: null,
    principal_account_id: null,
    event_ids: [eid(n)],
    context: {},
    runbook: [],
    references: [],
    ...overrides,
  });
}

/**
 * Findings as the table holds them: in the period 1 critical (K2), 2 high (K1, K5), 1 medium (K1),
 * 1 medium suppressed (the auditor); one high in February (outside the period).
 */
export const FINDINGS: { finding: Finding; suppressedBy: string | null }[] = [
  { finding: finding(1, { detector_id: 'KMS.PendingDeletionKeyUsed', severity: 'critical', key_arn: K2, occurred_at: '2024-03-21T10:00:00.000Z', title: 'Pending deletion key used' }), suppressedBy: null },
  { finding: finding(2, { detector_id: 'KMS.KeyDisabled', severity: 'high', key_arn: K5, occurred_at: '2024-03-12T10:00:00.000Z', principal_arn: ALICE }), suppressedBy: null },
  { finding: finding(3, { detector_id: 'KMS.ExternalAccessChanged', severity: 'high', occurred_at: '2024-03-15T09:05:00.000Z', principal_arn: ALICE }), suppressedBy: null },
  { finding: finding(4, { principal_account_id: STRANGER, occurred_at: '2024-03-08T10:00:00.000Z' }), suppressedBy: null },
  { finding: finding(5, { principal_account_id: AUDITOR, occurred_at: '2024-03-09T10:00:00.000Z' }), suppressedBy: 'suppressions[0] (reason: Q1 audit engagement)' },
  { finding: finding(6, { detector_id: 'KMS.KeyDisabled', severity: 'high', key_arn: K3, occurred_at: '2024-02-10T10:00:00.000Z' }), suppressedBy: null },
];

/** A real in-memory DuckDB holding the seed events and findings. */
export async function openSeededDb(): Promise<KeytrailDb> {
  const db = await KeytrailDb.open({ path: ':memory:', threads: 1 });
  await new EventStore(db).insertEvents(seedEvents());
  await new FindingStore(db).upsert(FINDINGS, new Date('2024-04-01T00:00:00Z'));
  return db;
}

/** The period most tests ask for. */
export const MARCH = { since: '2024-03-01', until: '2024-03-31' } as const;
export const NOW = new Date('2024-04-05T00:00:00Z');
