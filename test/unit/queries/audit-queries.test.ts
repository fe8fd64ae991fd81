import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeytrailDb } from '../../../src/store/database.js';
import {
  ADMINS, ALICE, ANALYTICS, APP, eid, K1, K1_ALIAS, K1_ID, K2, K2_ID, K3, K3_ID, K6, K6_ID, openSeededDb, ORG_ACCOUNT, OWNER, pick,
  runQuery, sid, STRANGER, STRANGER_ROLE, VENDOR, VENDOR_ROLE,
} from './seed.js';

// Expected rows are counted by hand from the seed (seed.ts, events numbered by eid(n)).
const MARCH = { since: '2024-03-01T00:00:00Z', until: '2024-04-01T00:00:00Z' };

let db: KeytrailDb;
beforeAll(async () => {
  db = await openSeededDb();
});
afterAll(() => db.close());

describe('Query: key-usage-by-principal', () => {
  // K1 in March: AppRole 3, 4, 5 (by alias), 6 (error), 13 (bare id), 14 (ReEncrypt destination),
  // 17 and 37 (denied), 52 (ReEncrypt source, failed: destination pending deletion); Alice 15, 16, 18, 19, 20, 24; the vendor 7, 8 (two copies each), 9 (denied),
  // 21; AWS 22, 25 (RotateKey); the stranger 10; Analytics 11; Admins via S3 12. Not: February (1,
  // 2, 26), 04-01 00:00 (49, until is exclusive), 04-02 (48), the rotation EventBridge event (23).
  const expected = [
    { principal_arn: APP, principal_account_id: OWNER, principal_type: 'AssumedRole', calls: 9, errors: 4, first_seen: '2024-03-02 10:00:00', last_seen: '2024-03-25 10:00:00' },
    { principal_arn: ALICE, principal_account_id: OWNER, principal_type: 'IAMUser', calls: 6, errors: 0, first_seen: '2024-03-15 09:00:00', last_seen: '2024-03-20 17:41:57' },
    { principal_arn: VENDOR_ROLE, principal_account_id: VENDOR, principal_type: 'AssumedRole', calls: 4, errors: 1, first_seen: '2024-03-06 10:15:02', last_seen: '2024-03-19 10:00:00' },
    { principal_arn: null, principal_account_id: OWNER, principal_type: 'AWSService', calls: 2, errors: 0, first_seen: '2024-03-01 01:41:59', last_seen: '2024-03-20 17:42:30' },
    { principal_arn: ADMINS, principal_account_id: OWNER, principal_type: 'AssumedRole', calls: 1, errors: 0, first_seen: '2024-03-12 10:00:00', last_seen: '2024-03-12 10:00:00' },
    { principal_arn: ANALYTICS, principal_account_id: ORG_ACCOUNT, principal_type: 'AssumedRole', calls: 1, errors: 0, first_seen: '2024-03-11 10:00:00', last_seen: '2024-03-11 10:00:00' },
    { principal_arn: STRANGER_ROLE, principal_account_id: STRANGER, principal_type: 'AssumedRole', calls: 1, errors: 1, first_seen: '2024-03-10 10:00:00', last_seen: '2024-03-10 10:00:00' },
  ];

  it('counts each caller of a key by ARN, a cross-account call once, failed calls included', async () => {
    const { rows } = await runQuery(db, 'key-usage-by-principal', { key: K1, ...MARCH });
    expect(rows).toEqual(expected);
  });

  it('resolves a bare key id to the same key', async () => {
    const byId = await runQuery(db, 'key-usage-by-principal', { key: K1_ID, ...MARCH });
    expect(byId.rows).toEqual(expected);
  });

  it('resolves an alias through the calls that logged it with the key, and counts calls that logged only the alias', async () => {
    // 5 and 19 name alias/project-key and K1; 53 names only the alias (no resources).
    const byAlias = await runQuery(db, 'key-usage-by-principal', { key: K1_ALIAS, ...MARCH });
    expect(byAlias.rows).toEqual([{ ...expected[0], calls: 10, last_seen: '2024-03-26 10:00:00' }, ...expected.slice(1)]);
  });

  it('finds a key whose records name it by bare id only when given its ARN', async () => {
    const { rows } = await runQuery(db, 'key-usage-by-principal', { key: K6, ...MARCH });
    expect(pick(rows, ['principal_arn', 'calls'])).toEqual([{ principal_arn: APP, calls: 1 }]);
  });

  it('takes the window bounds as since inclusive and until exclusive, in either timestamp form', async () => {
    // 03-02 10:00 is AppRole's first March call on K1; 03-05 08:00 (6) is at until.
    const { rows } = await runQuery(db, 'key-usage-by-principal', { key: K1, since: '2024-03-02 10:00:00', until: '2024-03-05T08:00:00Z' });
    expect(pick(rows, ['principal_arn', 'calls', 'errors'])).toEqual([{ principal_arn: APP, calls: 3, errors: 0 }]);
  });

  it('returns no rows for a key nothing logged', async () => {
    const { rows } = await runQuery(db, 'key-usage-by-principal', { key: 'alias/never-used', ...MARCH });
    expect(rows).toEqual([]);
  });
});

describe('Query: key-usage-by-service', () => {
  it('groups a key\'s calls by the service named in the encryption context or invokedBy', async () => {
    const { rows } = await runQuery(db, 'key-usage-by-service', { key: K1, ...MARCH });
    expect(rows).toEqual([
      // Everything but 12, 22 and 25 (see key-usage-by-principal): 21 calls, 6 failed, 5 principals.
      {
        via_service: null, invoked_by: null, calls: 21, errors: 6, principals: 5,
        operations: ['CreateGrant', 'Decrypt', 'DisableKeyRotation', 'EnableKeyRotation', 'GenerateDataKey', 'PutKeyPolicy', 'ReEncrypt', 'RetireGrant', 'RotateKeyOnDemand', 'ScheduleKeyDeletion', 'TagResource', 'UpdateAlias'],
        first_seen: '2024-03-02 10:00:00', last_seen: '2024-03-25 10:00:00',
      },
      { via_service: null, invoked_by: 'AWS Internal', calls: 2, errors: 0, principals: 0, operations: ['RotateKey'], first_seen: '2024-03-01 01:41:59', last_seen: '2024-03-20 17:42:30' },
      { via_service: 's3', invoked_by: 'internal.amazonaws.com', calls: 1, errors: 0, principals: 1, operations: ['GenerateDataKey'], first_seen: '2024-03-12 10:00:00', last_seen: '2024-03-12 10:00:00' },
    ]);
  });
});

describe('Query: vendor-usage-by-key', () => {
  it('lists each key a vendor account used, with its operations', async () => {
    const { rows } = await runQuery(db, 'vendor-usage-by-key', { vendor_accounts: VENDOR, ...MARCH });
    expect(rows).toEqual([
      // 31: a Decrypt of K2 after its deletion was scheduled (both copies, one call).
      { key_arn: K2, key_id: K2_ID, vendor_account_id: VENDOR, principals: 1, calls: 1, errors: 1, operations: ['Decrypt'], first_seen: '2024-03-22 10:00:00', last_seen: '2024-03-22 10:00:00' },
      // 7, 8, 9 (denied), 21 (RetireGrant).
      { key_arn: K1, key_id: K1_ID, vendor_account_id: VENDOR, principals: 1, calls: 4, errors: 1, operations: ['Decrypt', 'GenerateDataKey', 'RetireGrant'], first_seen: '2024-03-06 10:15:02', last_seen: '2024-03-19 10:00:00' },
    ]);
  });

  it('reads a comma-separated list with spaces, and matches whole account ids only', async () => {
    const two = await runQuery(db, 'vendor-usage-by-key', { vendor_accounts: ` ${STRANGER} , ${VENDOR}`, ...MARCH });
    expect(pick(two.rows, ['key_id', 'vendor_account_id', 'calls'])).toEqual([
      { key_id: K2_ID, vendor_account_id: VENDOR, calls: 1 },
      { key_id: K1_ID, vendor_account_id: VENDOR, calls: 4 },
      { key_id: K1_ID, vendor_account_id: STRANGER, calls: 1 },
    ]);
    const partial = await runQuery(db, 'vendor-usage-by-key', { vendor_accounts: VENDOR.slice(1), ...MARCH });
    expect(partial.rows).toEqual([]);
  });

  it('does not count the owner account\'s calls on its own keys', async () => {
    const { rows } = await runQuery(db, 'vendor-usage-by-key', { vendor_accounts: OWNER, ...MARCH });
    expect(rows).toEqual([]);
  });
});

describe('Query: failed-calls-by-error', () => {
  it('groups March\'s failed calls by error code and operation', async () => {
    const { rows } = await runQuery(db, 'failed-calls-by-error', MARCH);
    expect(pick(rows, ['error_code', 'event_name', 'calls', 'keys', 'principals', 'first_seen', 'last_seen'])).toEqual([
      // 9 (vendor), 10 (stranger)
      { error_code: 'AccessDeniedException', event_name: 'Decrypt', calls: 2, keys: 1, principals: 2, first_seen: '2024-03-09 10:00:00', last_seen: '2024-03-10 10:00:00' },
      // 30, 31 (two copies): K2 pending deletion
      { error_code: 'KMSInvalidStateException', event_name: 'Decrypt', calls: 2, keys: 1, principals: 2, first_seen: '2024-03-21 10:00:00', last_seen: '2024-03-22 10:00:00' },
      { error_code: 'AccessDeniedException', event_name: 'DisableKeyRotation', calls: 1, keys: 1, principals: 1, first_seen: '2024-03-16 10:00:00', last_seen: '2024-03-16 10:00:00' },
      { error_code: 'AccessDeniedException', event_name: 'ScheduleKeyDeletion', calls: 1, keys: 1, principals: 1, first_seen: '2024-03-25 10:00:00', last_seen: '2024-03-25 10:00:00' },
      // 46: a trail call names no key
      { error_code: 'AccessDeniedException', event_name: 'StopLogging', calls: 1, keys: 0, principals: 1, first_seen: '2024-03-10 08:00:00', last_seen: '2024-03-10 08:00:00' },
      { error_code: 'IncorrectKeyException', event_name: 'Decrypt', calls: 1, keys: 1, principals: 1, first_seen: '2024-03-05 08:00:00', last_seen: '2024-03-05 08:00:00' },
      // 52: counted on its primary key, K1
      { error_code: 'KMSInvalidStateException', event_name: 'ReEncrypt', calls: 1, keys: 1, principals: 1, first_seen: '2024-03-24 10:00:00', last_seen: '2024-03-24 10:00:00' },
    ]);
    expect(rows[1]?.['sample_error_message']).toBe(`${K2} is pending deletion.`);
    expect(rows[0]?.['sample_error_message']).toMatch(/^User: arn:aws:sts::444455556666:.* is not authorized to perform: kms:Decrypt/);
  });
});

describe('Query: first-seen-principals', () => {
  const columns = ['key_id', 'principal_arn', 'is_cross_account', 'first_seen', 'first_event_name', 'first_event_id', 'calls'];

  it('lists principals whose first call on a key falls in the window, with that call', async () => {
    const { rows } = await runQuery(db, 'first-seen-principals', MARCH);
    // Not: AppRole and Alice on K1 (February), AWS service events (no principal ARN).
    expect(pick(rows, columns)).toEqual([
      { key_id: K2_ID, principal_arn: APP, is_cross_account: false, first_seen: '2024-03-05 12:00:00', first_event_name: 'Decrypt', first_event_id: eid(28), calls: 3 },
      { key_id: K1_ID, principal_arn: VENDOR_ROLE, is_cross_account: true, first_seen: '2024-03-06 10:15:02', first_event_name: 'Decrypt', first_event_id: eid(7), calls: 4 },
      { key_id: K3_ID, principal_arn: ALICE, is_cross_account: false, first_seen: '2024-03-10 09:00:00', first_event_name: 'ScheduleKeyDeletion', first_event_id: eid(33), calls: 2 },
      { key_id: K1_ID, principal_arn: STRANGER_ROLE, is_cross_account: true, first_seen: '2024-03-10 10:00:00', first_event_name: 'Decrypt', first_event_id: eid(10), calls: 1 },
      { key_id: K1_ID, principal_arn: ANALYTICS, is_cross_account: true, first_seen: '2024-03-11 10:00:00', first_event_name: 'Decrypt', first_event_id: eid(11), calls: 1 },
      { key_id: K3_ID, principal_arn: APP, is_cross_account: false, first_seen: '2024-03-12 09:00:00', first_event_name: 'Decrypt', first_event_id: eid(35), calls: 1 },
      { key_id: K1_ID, principal_arn: ADMINS, is_cross_account: false, first_seen: '2024-03-12 10:00:00', first_event_name: 'GenerateDataKey', first_event_id: eid(12), calls: 1 },
      { key_id: K6_ID, principal_arn: APP, is_cross_account: false, first_seen: '2024-03-15 10:00:00', first_event_name: 'Decrypt', first_event_id: eid(50), calls: 1 },
      { key_id: K2_ID, principal_arn: ALICE, is_cross_account: false, first_seen: '2024-03-20 12:00:00', first_event_name: 'ScheduleKeyDeletion', first_event_id: eid(29), calls: 2 },
      { key_id: K2_ID, principal_arn: VENDOR_ROLE, is_cross_account: true, first_seen: '2024-03-22 10:00:00', first_event_name: 'Decrypt', first_event_id: eid(31), calls: 1 },
    ]);
    // The key ARN comes from any row of the key; K6 has none.
    expect(rows.find((r) => r['key_id'] === K3_ID)?.['key_arn']).toBe(K3);
    expect(rows.find((r) => r['key_id'] === K6_ID)?.['key_arn']).toBeNull();
  });

  it('counts calls up to until only', async () => {
    const { rows } = await runQuery(db, 'first-seen-principals', { since: '2024-03-10 00:00:00', until: '2024-03-11 00:00:00' });
    // Alice's CancelKeyDeletion on K3 (34, 03-11 09:00) is past until.
    expect(pick(rows, ['key_id', 'principal_arn', 'calls'])).toEqual([
      { key_id: K3_ID, principal_arn: ALICE, calls: 1 },
      { key_id: K1_ID, principal_arn: STRANGER_ROLE, calls: 1 },
    ]);
  });
});

describe('Query: cross-account-call-pairs', () => {
  it('pairs the caller\'s and the owner\'s copy of each cross-account call', async () => {
    const { rows } = await runQuery(db, 'cross-account-call-pairs', MARCH);
    expect(pick(rows, ['call_id', 'event_time', 'event_name', 'key_arn', 'principal_account_id', 'outcome', 'error_code', 'caller_copy_event_id', 'owner_copy_event_id', 'copies'])).toEqual([
      { call_id: sid(7), event_time: '2024-03-06 10:15:02', event_name: 'Decrypt', key_arn: K1, principal_account_id: VENDOR, outcome: 'success', error_code: null, caller_copy_event_id: eid(7), owner_copy_event_id: eid(7, 'b'), copies: 2 },
      { call_id: sid(8), event_time: '2024-03-08 10:00:00', event_name: 'GenerateDataKey', key_arn: K1, principal_account_id: VENDOR, outcome: 'success', error_code: null, caller_copy_event_id: eid(8), owner_copy_event_id: eid(8, 'b'), copies: 2 },
      // Denied: logged in the caller's account only.
      { call_id: sid(9), event_time: '2024-03-09 10:00:00', event_name: 'Decrypt', key_arn: K1, principal_account_id: VENDOR, outcome: 'error', error_code: 'AccessDeniedException', caller_copy_event_id: eid(9), owner_copy_event_id: null, copies: 1 },
      { call_id: sid(10), event_time: '2024-03-10 10:00:00', event_name: 'Decrypt', key_arn: K1, principal_account_id: STRANGER, outcome: 'error', error_code: 'AccessDeniedException', caller_copy_event_id: eid(10), owner_copy_event_id: null, copies: 1 },
      { call_id: sid(11), event_time: '2024-03-11 10:00:00', event_name: 'Decrypt', key_arn: K1, principal_account_id: ORG_ACCOUNT, outcome: 'success', error_code: null, caller_copy_event_id: eid(11), owner_copy_event_id: eid(11, 'b'), copies: 2 },
      { call_id: sid(21), event_time: '2024-03-19 10:00:00', event_name: 'RetireGrant', key_arn: K1, principal_account_id: VENDOR, outcome: 'success', error_code: null, caller_copy_event_id: eid(21), owner_copy_event_id: eid(21, 'b'), copies: 2 },
      { call_id: sid(31), event_time: '2024-03-22 10:00:00', event_name: 'Decrypt', key_arn: K2, principal_account_id: VENDOR, outcome: 'error', error_code: 'KMSInvalidStateException', caller_copy_event_id: eid(31), owner_copy_event_id: eid(31, 'b'), copies: 2 },
    ]);
  });
});
