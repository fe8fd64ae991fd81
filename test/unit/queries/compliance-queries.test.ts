import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeytrailDb } from '../../../src/store/database.js';
import {
  ALICE, APP, eid, K1, K1_ALIAS, K1_ID, K2, K2_ID, K3, K3_ID, K4, K4_ID, K5, K5_ID, openSeededDb, ORG_ACCOUNT, OWNER, pick, runQuery,
  STRANGER, TRAIL_ADMIN, VENDOR, VENDOR_ROLE,
} from './seed.js';

// Expected rows are counted by hand from the seed (seed.ts, events numbered by eid(n)).
const MARCH = { since: '2024-03-01T00:00:00Z', until: '2024-04-01T00:00:00Z' };

let db: KeytrailDb;
beforeAll(async () => {
  db = await openSeededDb();
});
afterAll(() => db.close());

describe('Query: external-account-key-use', () => {
  const vendorOnK2 = { key_arn: K2, key_id: K2_ID, key_account_id: OWNER, principal_account_id: VENDOR, principals: 1, calls: 1, errors: 1, operations: ['Decrypt'], first_seen: '2024-03-22 10:00:00', last_seen: '2024-03-22 10:00:00' };
  const vendorOnK1 = { key_arn: K1, key_id: K1_ID, key_account_id: OWNER, principal_account_id: VENDOR, principals: 1, calls: 4, errors: 1, operations: ['Decrypt', 'GenerateDataKey', 'RetireGrant'], first_seen: '2024-03-06 10:15:02', last_seen: '2024-03-19 10:00:00' };
  const strangerOnK1 = { key_arn: K1, key_id: K1_ID, key_account_id: OWNER, principal_account_id: STRANGER, principals: 1, calls: 1, errors: 1, operations: ['Decrypt'], first_seen: '2024-03-10 10:00:00', last_seen: '2024-03-10 10:00:00' };

  it('lists keys used by accounts outside the organization, denied attempts included', async () => {
    const { rows } = await runQuery(db, 'external-account-key-use', { org_accounts: `${OWNER},${ORG_ACCOUNT}`, ...MARCH });
    expect(rows).toEqual([vendorOnK2, vendorOnK1, strangerOnK1]);
  });

  it('treats every account but the key owner as external when the organization list is empty', async () => {
    const { rows } = await runQuery(db, 'external-account-key-use', { org_accounts: '', ...MARCH });
    expect(pick(rows, ['key_id', 'principal_account_id', 'calls', 'errors'])).toEqual([
      { key_id: K2_ID, principal_account_id: VENDOR, calls: 1, errors: 1 },
      { key_id: K1_ID, principal_account_id: ORG_ACCOUNT, calls: 1, errors: 0 },
      { key_id: K1_ID, principal_account_id: VENDOR, calls: 4, errors: 1 },
      { key_id: K1_ID, principal_account_id: STRANGER, calls: 1, errors: 1 },
    ]);
  });
});

describe('Query: keys-pending-deletion', () => {
  it('lists keys still pending deletion with the calls made after scheduling', async () => {
    const { rows } = await runQuery(db, 'keys-pending-deletion', { as_of: '2024-04-01T00:00:00Z' });
    // Not K3 (cancelled, 34), K4 (deleted, 38), K1 (the ScheduleKeyDeletion 37 was denied).
    expect(rows).toEqual([
      // After 29: 30 (pending deletion), 31 (pending deletion, two copies), 32 (DescribeKey), 52
      // (ReEncrypt into K2, pending deletion).
      {
        key_arn: K2, key_id: K2_ID, scheduled_at: '2024-03-20 12:00:00', scheduled_by: ALICE, pending_window_days: 30,
        deletion_due_at: '2024-04-19 12:00:00', status: 'pending deletion',
        calls_after: 4, failed_pending_deletion: 3, callers_after: 3, last_call_after: '2024-03-24 10:00:00',
      },
      // No pendingWindowInDays in the request: KMS's default of 30 days ran out on 03-11.
      {
        key_arn: K5, key_id: K5_ID, scheduled_at: '2024-02-10 00:00:00', scheduled_by: ALICE, pending_window_days: 30,
        deletion_due_at: '2024-03-11 00:00:00', status: 'deletion due',
        calls_after: 0, failed_pending_deletion: 0, callers_after: 0, last_call_after: null,
      },
    ]);
  });

  it('answers as of an earlier time: K3 not yet cancelled, K5 not yet due, K2 not yet scheduled', async () => {
    const { rows } = await runQuery(db, 'keys-pending-deletion', { as_of: '2024-03-10 12:00:00' });
    expect(pick(rows, ['key_arn', 'scheduled_at', 'deletion_due_at', 'status', 'calls_after'])).toEqual([
      { key_arn: K5, scheduled_at: '2024-02-10 00:00:00', deletion_due_at: '2024-03-11 00:00:00', status: 'pending deletion', calls_after: 0 },
      { key_arn: K3, scheduled_at: '2024-03-10 09:00:00', deletion_due_at: '2024-04-09 09:00:00', status: 'pending deletion', calls_after: 0 },
    ]);
  });

  it('leaves out a key once its deletion is recorded', async () => {
    const { rows } = await runQuery(db, 'keys-pending-deletion', { as_of: '2024-02-05T00:00:00Z' });
    expect(pick(rows, ['key_arn', 'pending_window_days', 'deletion_due_at'])).toEqual([
      { key_arn: K4, pending_window_days: 7, deletion_due_at: '2024-02-08 00:00:00' },
    ]);
    const after = await runQuery(db, 'keys-pending-deletion', { as_of: '2024-02-09T00:00:00Z' });
    expect(after.rows.map((r) => r['key_id'])).not.toContain(K4_ID);
  });
});

describe('Query: key-administration-activity', () => {
  const columns = ['event_time', 'event_name', 'outcome', 'key_id', 'principal_arn', 'event_id'];
  const k1 = [
    { event_time: '2024-03-15 09:00:00', event_name: 'PutKeyPolicy', outcome: 'success', key_id: K1_ID, principal_arn: ALICE, event_id: eid(15) },
    { event_time: '2024-03-15 09:05:00', event_name: 'CreateGrant', outcome: 'success', key_id: K1_ID, principal_arn: ALICE, event_id: eid(16) },
    { event_time: '2024-03-16 10:00:00', event_name: 'DisableKeyRotation', outcome: 'error', key_id: K1_ID, principal_arn: APP, event_id: eid(17) },
    { event_time: '2024-03-17 10:00:00', event_name: 'EnableKeyRotation', outcome: 'success', key_id: K1_ID, principal_arn: ALICE, event_id: eid(18) },
    { event_time: '2024-03-18 10:00:00', event_name: 'UpdateAlias', outcome: 'success', key_id: K1_ID, principal_arn: ALICE, event_id: eid(19) },
    { event_time: '2024-03-18 11:00:00', event_name: 'TagResource', outcome: 'success', key_id: K1_ID, principal_arn: ALICE, event_id: eid(20) },
    // Logged in the vendor's and the owner's account: listed once.
    { event_time: '2024-03-19 10:00:00', event_name: 'RetireGrant', outcome: 'success', key_id: K1_ID, principal_arn: VENDOR_ROLE, event_id: eid(21) },
    { event_time: '2024-03-20 17:41:57', event_name: 'RotateKeyOnDemand', outcome: 'success', key_id: K1_ID, principal_arn: ALICE, event_id: eid(24) },
    { event_time: '2024-03-25 10:00:00', event_name: 'ScheduleKeyDeletion', outcome: 'error', key_id: K1_ID, principal_arn: APP, event_id: eid(37) },
  ];

  it('lists every key\'s administration in the window, in time order, failed attempts included', async () => {
    const { rows } = await runQuery(db, 'key-administration-activity', { key: '', ...MARCH });
    // Not: February's DisableKeyRotation (26) and ScheduleKeyDeletion (36, 39); cryptographic calls;
    // AWS service events; trail changes.
    expect(pick(rows, columns)).toEqual([
      { event_time: '2024-03-10 09:00:00', event_name: 'ScheduleKeyDeletion', outcome: 'success', key_id: K3_ID, principal_arn: ALICE, event_id: eid(33) },
      { event_time: '2024-03-11 09:00:00', event_name: 'CancelKeyDeletion', outcome: 'success', key_id: K3_ID, principal_arn: ALICE, event_id: eid(34) },
      ...k1.slice(0, 7),
      { event_time: '2024-03-20 12:00:00', event_name: 'ScheduleKeyDeletion', outcome: 'success', key_id: K2_ID, principal_arn: ALICE, event_id: eid(29) },
      ...k1.slice(7),
    ]);
    expect(rows.find((r) => r['event_name'] === 'DisableKeyRotation')?.['error_code']).toBe('AccessDeniedException');
    expect(rows.find((r) => r['event_name'] === 'UpdateAlias')?.['alias_name']).toBe(K1_ALIAS);
    // Who, as reports group administrators: the role behind a session, and the service that called.
    expect(pick(rows.filter((r) => [eid(15), eid(17), eid(21)].includes(String(r['event_id']))), ['principal_type', 'session_issuer_arn', 'invoked_by'])).toEqual([
      { principal_type: 'IAMUser', session_issuer_arn: null, invoked_by: null },
      { principal_type: 'AssumedRole', session_issuer_arn: `arn:aws:iam::${OWNER}:role/AppRole`, invoked_by: null },
      { principal_type: 'AssumedRole', session_issuer_arn: `arn:aws:iam::${VENDOR}:role/AcmeKmsAccess`, invoked_by: null },
    ]);
  });

  it('narrows to one key given by alias or ARN', async () => {
    const byAlias = await runQuery(db, 'key-administration-activity', { key: K1_ALIAS, ...MARCH });
    expect(pick(byAlias.rows, columns)).toEqual(k1);
    const mrk = await runQuery(db, 'key-administration-activity', { key: K3, ...MARCH });
    expect(pick(mrk.rows, ['event_name', 'event_id'])).toEqual([
      { event_name: 'ScheduleKeyDeletion', event_id: eid(33) },
      { event_name: 'CancelKeyDeletion', event_id: eid(34) },
    ]);
  });
});

describe('Query: key-rotation-evidence', () => {
  const none = { rotations: 0, rotate_key_events: 0, rotation_notifications: 0, on_demand_requests: 0, last_rotated_at: null, rotation_enabled: null, rotation_state_changes: 0, last_state_change_at: null, last_state_change_by: null };

  it('gives every key its rotations in the window, last rotation and rotation state', async () => {
    const { rows } = await runQuery(db, 'key-rotation-evidence', MARCH);
    expect(rows).toEqual([
      { key_arn: K2, key_id: K2_ID, ...none },
      // RotateKey 22 (automatic) and 25 (on demand), the EventBridge notification 23 of the first,
      // RotateKeyOnDemand 24. Rotation disabled in February (26), enabled on 03-17 (18); the denied
      // DisableKeyRotation (17) changed nothing.
      {
        key_arn: K1, key_id: K1_ID, rotations: 2, rotate_key_events: 2, rotation_notifications: 1, on_demand_requests: 1,
        last_rotated_at: '2024-03-20 17:42:30', rotation_enabled: true, rotation_state_changes: 1,
        last_state_change_at: '2024-03-17 10:00:00', last_state_change_by: ALICE,
      },
      { key_arn: K4, key_id: K4_ID, ...none },
      { key_arn: K5, key_id: K5_ID, ...none },
      { key_arn: K3, key_id: K3_ID, ...none },
    ]);
  });

  it('looks back past the window for the last rotation and the rotation state', async () => {
    const { rows } = await runQuery(db, 'key-rotation-evidence', { since: '2024-02-01T00:00:00Z', until: '2024-03-01T00:00:00Z' });
    // Keys seen before March: K1, K4, K5. K1 last rotated a year earlier (27); disabled on 02-01 (26).
    expect(rows).toEqual([
      {
        key_arn: K1, key_id: K1_ID, rotations: 0, rotate_key_events: 0, rotation_notifications: 0, on_demand_requests: 0,
        last_rotated_at: '2023-03-01 01:40:00', rotation_enabled: false, rotation_state_changes: 1,
        last_state_change_at: '2024-02-01 10:00:00', last_state_change_by: ALICE,
      },
      { key_arn: K4, key_id: K4_ID, ...none },
      { key_arn: K5, key_id: K5_ID, ...none },
    ]);
  });
});

describe('Query: trail-kms-logging-changes', () => {
  it('classifies trail changes by what they do to KMS logging and finds when logging came back', async () => {
    const { rows } = await runQuery(db, 'trail-kms-logging-changes', MARCH);
    // 47 (DeleteTrail of old-trail) is in February.
    expect(pick(rows, ['event_time', 'event_name', 'trail_name', 'kms_logging', 'restored_at', 'outcome', 'principal_arn', 'event_id'])).toEqual([
      { event_time: '2024-03-09 12:00:41', event_name: 'PutEventSelectors', trail_name: 'management-events', kms_logging: 'excludes kms', restored_at: '2024-03-09 12:30:17', outcome: 'success', principal_arn: TRAIL_ADMIN, event_id: eid(40) },
      { event_time: '2024-03-09 12:30:17', event_name: 'PutEventSelectors', trail_name: 'management-events', kms_logging: 'selectors changed', restored_at: null, outcome: 'success', principal_arn: TRAIL_ADMIN, event_id: eid(41) },
      // Advanced selectors (eventSource notEquals kms.amazonaws.com), trail named by ARN.
      { event_time: '2024-03-09 13:10:05', event_name: 'PutEventSelectors', trail_name: 'management-events', kms_logging: 'excludes kms', restored_at: null, outcome: 'success', principal_arn: TRAIL_ADMIN, event_id: eid(42) },
      { event_time: '2024-03-09 13:45:59', event_name: 'StopLogging', trail_name: 'management-events', kms_logging: 'stopped', restored_at: '2024-03-09 13:55:00', outcome: 'success', principal_arn: TRAIL_ADMIN, event_id: eid(43) },
      { event_time: '2024-03-09 13:55:00', event_name: 'StartLogging', trail_name: 'management-events', kms_logging: 'started', restored_at: null, outcome: 'success', principal_arn: TRAIL_ADMIN, event_id: eid(44) },
      { event_time: '2024-03-09 14:02:33', event_name: 'DeleteTrail', trail_name: 'management-events', kms_logging: 'trail deleted', restored_at: null, outcome: 'success', principal_arn: TRAIL_ADMIN, event_id: eid(45) },
      { event_time: '2024-03-10 08:00:00', event_name: 'StopLogging', trail_name: 'org-trail', kms_logging: 'unchanged (call failed)', restored_at: null, outcome: 'error', principal_arn: APP, event_id: eid(46) },
      { event_time: '2024-03-10 09:00:00', event_name: 'PutEventSelectors', trail_name: 'data-trail', kms_logging: 'excludes management events', restored_at: null, outcome: 'success', principal_arn: TRAIL_ADMIN, event_id: eid(51) },
    ]);
  });
});
