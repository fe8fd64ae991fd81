import { readFileSync } from 'node:fs';
import { normalizeValue } from '../../../src/normalize/normalize.js';
import type { KmsEvent } from '../../../src/normalize/types.js';
import { loadQueryCatalog } from '../../../src/cli/query-catalog.js';
import { KeytrailDb, type Row } from '../../../src/store/database.js';
import { EventStore } from '../../../src/store/event-store.js';
import { corpusRecord, lifecycleEvent } from '../../support/corpus.js';

/**
 * One month of KMS activity (March 2024, with some February history and a few events after the
 * month) built from the AWS guide's example records, varied. Every query test seeds this and asserts
 * rows counted by hand from the list below; the numbers in comments are the event numbers (`eid(n)`).
 *
 * Accounts: 111122223333 owns every key; 222233334444 is another account of the organization;
 * 444455556666 is a SaaS vendor (BYOK); 999988887777 is a stranger.
 */
export const OWNER = '111122223333';
export const ORG_ACCOUNT = '222233334444';
export const VENDOR = '444455556666';
export const STRANGER = '999988887777';

const keyArn = (id: string) => `arn:aws:kms:us-west-2:${OWNER}:key/${id}`;
/** The corpus key: used by everyone, shared with the vendor, rotated; alias/project-key. */
export const K1_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
export const K1 = keyArn(K1_ID);
export const K1_ALIAS = 'alias/project-key';
/** Scheduled for deletion on 03-20 and still called afterwards. */
export const K2_ID = '0987dcba-09fe-87dc-65ba-ab0987654321';
export const K2 = keyArn(K2_ID);
/** Multi-Region key: scheduled for deletion on 03-10, cancelled on 03-11. */
export const K3_ID = 'mrk-1234abcd12ab34cd56ef1234567890ab';
export const K3 = keyArn(K3_ID);
/** Scheduled in February (7 days) and deleted ("KMS CMK Deletion"). */
export const K4_ID = '4567cdef-45ab-67cd-89ef-4567890abcde';
export const K4 = keyArn(K4_ID);
/** Scheduled on 02-10 without pendingWindowInDays (30 days): due 03-11, no deletion stored. */
export const K5_ID = '5678abcd-56ab-78cd-90ef-5678901abcde';
export const K5 = keyArn(K5_ID);
/** Only ever named by bare key id (resources null): no row carries its ARN. */
export const K6_ID = '6789abcd-67ab-89cd-01ef-6789012abcde';
export const K6 = keyArn(K6_ID);

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

/** The corpus's own IAM user (`userIdentity` of most guide examples). */
export const ALICE = `arn:aws:iam::${OWNER}:user/Alice`;
const APP_IDENTITY = assumedRole(OWNER, 'AppRole', 'app-1');
export const APP = `arn:aws:sts::${OWNER}:assumed-role/AppRole/app-1`;
const ANALYTICS_IDENTITY = assumedRole(ORG_ACCOUNT, 'Analytics', 'job-7');
export const ANALYTICS = `arn:aws:sts::${ORG_ACCOUNT}:assumed-role/Analytics/job-7`;
const VENDOR_IDENTITY = assumedRole(VENDOR, 'AcmeKmsAccess', 'acme-sync');
export const VENDOR_ROLE = `arn:aws:sts::${VENDOR}:assumed-role/AcmeKmsAccess/acme-sync`;
const STRANGER_IDENTITY = assumedRole(STRANGER, 'DataPipelineRole', 'etl-run');
export const STRANGER_ROLE = `arn:aws:sts::${STRANGER}:assumed-role/DataPipelineRole/etl-run`;
/** Corpus line 64's caller: S3 calling KMS for this role (encryption context aws:s3:arn). */
export const ADMINS = `arn:aws:sts::${OWNER}:assumed-role/Admins/example-user`;
/** CloudTrail fixtures' caller. */
export const TRAIL_ADMIN = `arn:aws:sts::${OWNER}:assumed-role/KMSAdminRole/alice`;

/** Event id of seed event n; `b` is the key owner's copy of a cross-account call. */
export function eid(n: number, copy: 'a' | 'b' = 'a'): string {
  return `6f1d2c3b-${String(n).padStart(4, '0')}-4a5b-8c7d-00000000000${copy}`;
}
/** sharedEventID of seed event n. */
export function sid(n: number): string {
  return `2f3e4d5c-${String(n).padStart(4, '0')}-4b6a-9d8e-0000000000ff`;
}

const accessDenied = (caller: string, action: string, key: string) =>
  `User: ${caller} is not authorized to perform: kms:${action} on resource: ${key} because no resource-based policy allows the kms:${action} action`;
const pendingDeletion = (key: string) => `${key} is pending deletion.`;

interface Variation {
  n: number;
  /** Corpus line (kms-guide-examples.index.tsv). */
  line: number;
  time: string;
  identity?: Json;
  /** The key's ARN: resources[] and, where the record has one, requestParameters.keyId. */
  key?: string;
  /** What requestParameters.keyId says instead of the ARN (an alias, a bare id). */
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

/**
 * A cross-account call as CloudTrail logs it: a copy in the caller's account and, unless `callerOnly`
 * (an access-denied call), a copy in the key owner's account; one sharedEventID, two eventIDs.
 */
function crossAccount(v: Variation & { callerAccount: string; callerOnly?: boolean }): Json[] {
  const caller = record(v);
  caller['sharedEventID'] = sid(v.n);
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

function trailFixture(n: number, name: string, edit: (record: Json) => void = () => {}): Json {
  const url = new URL(`../../fixtures/queries/${name}.json`, import.meta.url);
  const r = JSON.parse(readFileSync(url, 'utf8')) as Json;
  r['eventID'] = eid(n);
  edit(r);
  return r;
}

/** The seed, as raw CloudTrail records and EventBridge events. */
export function seedRecords(): Json[] {
  return [
    // --- K1: usage. February history (1, 2), March (3–14, 53), after the window (48, 49).
    record({ n: 1, line: 9, time: '2024-02-20T09:00:00Z', identity: APP_IDENTITY, key: K1 }),
    record({ n: 2, line: 26, time: '2024-02-25T12:00:00Z', key: K1 }),
    record({ n: 3, line: 9, time: '2024-03-02T10:00:00Z', identity: APP_IDENTITY, key: K1 }),
    record({ n: 4, line: 9, time: '2024-03-03T10:00:00Z', identity: APP_IDENTITY, key: K1 }),
    // By alias: resources[] still names the key.
    record({ n: 5, line: 1, time: '2024-03-04T11:00:00Z', identity: APP_IDENTITY, key: K1, keyRef: K1_ALIAS }),
    record({ n: 6, line: 10, time: '2024-03-05T08:00:00Z', identity: APP_IDENTITY, key: K1 }),
    ...crossAccount({ n: 7, line: 9, time: '2024-03-06T10:15:02Z', identity: VENDOR_IDENTITY, key: K1, callerAccount: VENDOR }),
    ...crossAccount({ n: 8, line: 27, time: '2024-03-08T10:00:00Z', identity: VENDOR_IDENTITY, key: K1, callerAccount: VENDOR }),
    ...crossAccount({
      n: 9, line: 9, time: '2024-03-09T10:00:00Z', identity: VENDOR_IDENTITY, key: K1, callerAccount: VENDOR, callerOnly: true,
      error: ['AccessDeniedException', accessDenied(VENDOR_ROLE, 'Decrypt', K1)],
    }),
    ...crossAccount({
      n: 10, line: 9, time: '2024-03-10T10:00:00Z', identity: STRANGER_IDENTITY, key: K1, callerAccount: STRANGER, callerOnly: true,
      error: ['AccessDeniedException', accessDenied(STRANGER_ROLE, 'Decrypt', K1)],
    }),
    ...crossAccount({ n: 11, line: 9, time: '2024-03-11T10:00:00Z', identity: ANALYTICS_IDENTITY, key: K1, callerAccount: ORG_ACCOUNT }),
    // Corpus 64 as is but for time and id: S3 on behalf of Admins/example-user (via_service s3).
    record({ n: 12, line: 64, time: '2024-03-12T10:00:00Z' }),
    // An older-style record: no resources, bare key id: key_arn stays NULL.
    record({
      n: 13, line: 9, time: '2024-03-13T10:00:00Z', identity: APP_IDENTITY,
      edit: (r) => {
        r['resources'] = null;
        (r['requestParameters'] as Json)['keyId'] = K1_ID;
      },
    }),
    // ReEncrypt from K2 into K1: K2 is the primary key, K1 the second resource.
    record({
      n: 14, line: 9, time: '2024-03-14T10:00:00Z', identity: APP_IDENTITY,
      edit: (r) => {
        r['eventName'] = 'ReEncrypt';
        r['requestParameters'] = { sourceKeyId: K2, destinationKeyId: K1, sourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT', destinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
        r['resources'] = [
          { accountId: OWNER, type: 'AWS::KMS::Key', ARN: K2 },
          { accountId: OWNER, type: 'AWS::KMS::Key', ARN: K1 },
        ];
      },
    }),
    // By alias in a record without resources: no key is known, only the alias.
    record({ n: 53, line: 1, time: '2024-03-26T10:00:00Z', identity: APP_IDENTITY, edit: (r) => (r['resources'] = null) }),
    record({ n: 48, line: 9, time: '2024-04-02T10:00:00Z', identity: APP_IDENTITY, key: K1 }),
    record({ n: 49, line: 9, time: '2024-04-01T00:00:00Z', key: K1 }),

    // --- K1: administration.
    record({ n: 15, line: 40, time: '2024-03-15T09:00:00Z', key: K1 }),
    record({
      n: 16, line: 6, time: '2024-03-15T09:05:00Z', key: K1,
      edit: (r) => {
        (r['requestParameters'] as Json)['granteePrincipal'] = `arn:aws:iam::${VENDOR}:role/AcmeKmsAccess`;
      },
    }),
    record({
      n: 17, line: 23, time: '2024-03-16T10:00:00Z', identity: APP_IDENTITY, key: K1,
      error: ['AccessDeniedException', accessDenied(APP, 'DisableKeyRotation', K1)],
    }),
    record({
      n: 18, line: 23, time: '2024-03-17T10:00:00Z', key: K1,
      edit: (r) => {
        r['eventName'] = 'EnableKeyRotation';
        r['requestParameters'] = { keyId: K1, rotationPeriodInDays: 180 };
      },
    }),
    record({
      n: 19, line: 54, time: '2024-03-18T10:00:00Z',
      edit: (r) => {
        r['requestParameters'] = { aliasName: K1_ALIAS, targetKeyId: K1_ID };
        r['resources'] = [
          { accountId: OWNER, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:us-west-2:${OWNER}:${K1_ALIAS}` },
          { accountId: OWNER, type: 'AWS::KMS::Key', ARN: K1 },
        ];
      },
    }),
    record({ n: 20, line: 52, time: '2024-03-18T11:00:00Z', key: K1 }),
    ...crossAccount({ n: 21, line: 42, time: '2024-03-19T10:00:00Z', identity: VENDOR_IDENTITY, key: K1, callerAccount: VENDOR }),
    record({
      n: 37, line: 47, time: '2024-03-25T10:00:00Z', identity: APP_IDENTITY, key: K1,
      error: ['AccessDeniedException', accessDenied(APP, 'ScheduleKeyDeletion', K1)],
    }),

    // --- K1: rotation. Automatic on 03-01 (service event + EventBridge), on demand on 03-20,
    // rotation disabled in February and enabled again on 03-17 (18); one rotation a year earlier.
    record({ n: 22, line: 44, time: '2024-03-01T01:41:59Z' }),
    lifecycle(23, 1, '2024-03-01T01:42:10Z', K1_ID),
    record({ n: 24, line: 46, time: '2024-03-20T17:41:57Z', key: K1, keyRef: K1_ID }),
    record({ n: 25, line: 45, time: '2024-03-20T17:42:30Z' }),
    record({ n: 26, line: 23, time: '2024-02-01T10:00:00Z', key: K1 }),
    record({ n: 27, line: 44, time: '2023-03-01T01:40:00Z' }),

    // --- K2: used, ReEncrypt source (14), scheduled for deletion on 03-20, then four calls (30, 31,
    // 32, and 52 naming K2 as ReEncrypt destination).
    record({ n: 28, line: 9, time: '2024-03-05T12:00:00Z', identity: APP_IDENTITY, key: K2 }),
    record({ n: 29, line: 49, time: '2024-03-20T12:00:00Z', key: K2 }),
    record({
      n: 30, line: 9, time: '2024-03-21T10:00:00Z', identity: APP_IDENTITY, key: K2,
      error: ['KMSInvalidStateException', pendingDeletion(K2)],
    }),
    ...crossAccount({
      n: 31, line: 9, time: '2024-03-22T10:00:00Z', identity: VENDOR_IDENTITY, key: K2, callerAccount: VENDOR,
      error: ['KMSInvalidStateException', pendingDeletion(K2)],
    }),
    record({ n: 32, line: 21, time: '2024-03-23T10:00:00Z', key: K2, keyRef: K2_ID }),
    // ReEncrypt from K1 into K2 fails: the destination is pending deletion (K1 is the primary key).
    record({
      n: 52, line: 9, time: '2024-03-24T10:00:00Z', identity: APP_IDENTITY,
      error: ['KMSInvalidStateException', pendingDeletion(K2)],
      edit: (r) => {
        r['eventName'] = 'ReEncrypt';
        r['requestParameters'] = { sourceKeyId: K1, destinationKeyId: K2, sourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT', destinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
        r['resources'] = [
          { accountId: OWNER, type: 'AWS::KMS::Key', ARN: K1 },
          { accountId: OWNER, type: 'AWS::KMS::Key', ARN: K2 },
        ];
      },
    }),

    // --- K3: scheduled (corpus 48, a multi-Region key) and cancelled the next day, then used.
    record({ n: 33, line: 48, time: '2024-03-10T09:00:00Z' }),
    record({ n: 34, line: 2, time: '2024-03-11T09:00:00Z', key: K3, keyRef: K3_ID, edit: (r) => (r['responseElements'] = { keyId: K3 }) }),
    record({ n: 35, line: 9, time: '2024-03-12T09:00:00Z', identity: APP_IDENTITY, key: K3 }),

    // --- K4: scheduled for 7 days and deleted. K5: scheduled with the default window, nothing since.
    record({ n: 36, line: 47, time: '2024-02-01T00:00:00Z', key: K4, keyRef: K4_ID, edit: (r) => ((r['requestParameters'] as Json)['pendingWindowInDays'] = 7) }),
    lifecycle(38, 3, '2024-02-08T00:05:00Z', K4_ID),
    record({ n: 39, line: 47, time: '2024-02-10T00:00:00Z', key: K5, keyRef: K5_ID, edit: (r) => delete (r['requestParameters'] as Json)['pendingWindowInDays'] }),

    // --- K6: one call naming the key by bare id only.
    record({
      n: 50, line: 9, time: '2024-03-15T10:00:00Z', identity: APP_IDENTITY,
      edit: (r) => {
        r['resources'] = null;
        (r['requestParameters'] as Json)['keyId'] = K6_ID;
      },
    }),

    // --- Trail configuration (fixtures at their own times, 2024-03-09, unless changed).
    trailFixture(40, 'trail-put-event-selectors-exclude-kms'),
    trailFixture(41, 'trail-put-event-selectors-all-management'),
    trailFixture(42, 'trail-put-advanced-event-selectors-exclude-kms'),
    trailFixture(43, 'trail-stop-logging'),
    trailFixture(44, 'trail-stop-logging', (r) => {
      r['eventName'] = 'StartLogging';
      r['eventTime'] = '2024-03-09T13:55:00Z';
    }),
    trailFixture(45, 'trail-delete-trail'),
    trailFixture(46, 'trail-stop-logging', (r) => {
      r['eventTime'] = '2024-03-10T08:00:00Z';
      r['userIdentity'] = structuredClone(APP_IDENTITY);
      r['requestParameters'] = { name: 'org-trail' };
      r['errorCode'] = 'AccessDeniedException';
      r['errorMessage'] = `User: ${APP} is not authorized to perform: cloudtrail:StopLogging on resource: arn:aws:cloudtrail:us-west-2:${OWNER}:trail/org-trail`;
    }),
    trailFixture(47, 'trail-delete-trail', (r) => {
      r['eventTime'] = '2024-02-15T00:00:00Z';
      r['requestParameters'] = { name: 'old-trail' };
    }),
    trailFixture(51, 'trail-put-event-selectors-all-management', (r) => {
      r['eventTime'] = '2024-03-10T09:00:00Z';
      const selectors = [{ readWriteType: 'All', includeManagementEvents: false, dataResources: [{ type: 'AWS::S3::Object', values: ['arn:aws:s3:::example-invoices/'] }] }];
      r['requestParameters'] = { trailName: 'data-trail', eventSelectors: selectors };
      r['responseElements'] = { trailARN: `arn:aws:cloudtrail:us-west-2:${OWNER}:trail/data-trail`, eventSelectors: selectors };
    }),
  ];
}

export function seedEvents(): KmsEvent[] {
  return seedRecords().map((value, position) => {
    const result = normalizeValue(value, { uri: 'seed', position }, '2024-04-05T00:00:00.000Z');
    if (result.kind !== 'event') throw new Error(`seed record ${position} did not normalize: ${JSON.stringify(result)}`);
    return result.event;
  });
}

/** A real in-memory DuckDB holding the seed. */
export async function openSeededDb(): Promise<KeytrailDb> {
  const db = await KeytrailDb.open({ path: ':memory:', threads: 1 });
  await new EventStore(db).insertEvents(seedEvents());
  return db;
}

const catalog = new Map(loadQueryCatalog().map((q) => [q.name, q]));

/**
 * Run the query file named `name` from queries/ with string parameters, as the CLI binds them.
 * Returns the rows and the result's column names.
 */
export async function runQuery(db: KeytrailDb, name: string, params: Record<string, string>): Promise<{ columns: string[]; rows: Row[] }> {
  const query = catalog.get(name);
  if (!query) throw new Error(`no query named ${name} in queries/`);
  return db.table(query.sql, params);
}

/** The same rows with only the named columns, for compact expectations. */
export function pick(rows: readonly Row[], columns: readonly string[]): Row[] {
  return rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c]])));
}
