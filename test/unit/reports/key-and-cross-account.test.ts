import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnknownKeyError } from '../../../src/analysis/past-usage.js';
import { buildCrossAccountReport, buildKeyReport, type CrossAccountReport, type KeyReport } from '../../../src/reports/index.js';
import type { KeytrailDb } from '../../../src/store/database.js';
import { ACME_ROLE, AUDITOR, CONFIG, HOSTILE_CONTEXT, K1, K1_ID, K2, MARCH, NOW, ORG, STRANGER, VENDOR, openSeededDb } from './seed.js';

describe('Report: key', () => {
  let db: KeytrailDb;
  let k1: KeyReport;

  beforeAll(async () => {
    db = await openSeededDb();
    k1 = await buildKeyReport(db, 'alias/project-key', { config: CONFIG, ...MARCH, now: NOW });
  });
  afterAll(() => db.close());

  it('resolves the alias and takes past usage over the period from pastUsage', () => {
    expect(k1.usage.key).toMatchObject({ arn: K1, id: K1_ID, resolvedFrom: 'alias' });
    expect(k1.usage.window).toMatchObject({ firstDay: '2024-03-01', lastDay: '2024-03-31', days: 31 });
    // The usage counts are pastUsage's own; the report only carries them.
    expect(k1.usage.totals.calls).toBe(12);
    expect(k1.usage.externalAccounts.map((a) => a.accountId).sort()).toEqual([AUDITOR, ORG, STRANGER, VENDOR].sort());
  });

  it('lists the events on the key, oldest first, a call logged in two accounts once', () => {
    expect(k1.timeline.total).toBe(13);
    expect(k1.timeline.shown).toBe(13);
    expect(k1.timeline.events.map((e) => e.event)).toEqual([
      'Decrypt', 'Decrypt', 'Decrypt', 'Decrypt', 'GenerateDataKey', 'Decrypt', 'Decrypt', 'Decrypt',
      'RotateKey', 'KMS CMK Rotation', 'PutKeyPolicy', 'CreateGrant', 'DisableKeyRotation',
    ]);
    expect(k1.timeline.events[2]?.encryptionContext).toContain(HOSTILE_CONTEXT.replace(/"/g, '\\"'));
  });

  it('keeps the latest events when there are more than the limit, and says how many there were', async () => {
    const short = await buildKeyReport(db, K1, { config: CONFIG, ...MARCH, now: NOW, timelineLimit: 3 });
    expect(short.timeline).toMatchObject({ total: 13, shown: 3 });
    expect(short.timeline.events.map((e) => e.event)).toEqual(['PutKeyPolicy', 'CreateGrant', 'DisableKeyRotation']);
  });

  it('carries rotation, administration and only this key\'s findings', () => {
    expect(k1.rotation).toMatchObject({ rotations: 1, status: 'rotated in period' });
    expect(k1.pendingDeletion).toBeNull();
    expect(k1.administration.actions.map((a) => a.operation)).toEqual(['PutKeyPolicy', 'CreateGrant', 'DisableKeyRotation']);
    expect(k1.findings.open.map((f) => f.detectorId)).toEqual(['KMS.ExternalAccessChanged', 'KMS.CrossAccountUse']);
    expect(k1.findings.suppressed.map((f) => f.accountId)).toEqual([AUDITOR]);
  });

  it('shows a key pending deletion with its deletion date', async () => {
    const k2 = await buildKeyReport(db, K2, { config: CONFIG, ...MARCH, now: NOW });
    expect(k2.pendingDeletion).toMatchObject({ deletionDate: '2024-04-19T12:00:00.000Z', failedPendingDeletion: 1 });
    expect(k2.usage.lifecycle.lastKnownState).toBe('pending-deletion');
    expect(k2.findings.open.map((f) => [f.detectorId, f.severity])).toEqual([['KMS.PendingDeletionKeyUsed', 'critical']]);
  });

  it('fails with the key it could not find', async () => {
    await expect(buildKeyReport(db, 'alias/nobody', { config: CONFIG, ...MARCH, now: NOW })).rejects.toBeInstanceOf(UnknownKeyError);
  });
});

describe('Report: cross-account', () => {
  let db: KeytrailDb;
  let report: CrossAccountReport;

  beforeAll(async () => {
    db = await openSeededDb();
    report = await buildCrossAccountReport(db, { config: CONFIG, ...MARCH, now: NOW });
  });
  afterAll(() => db.close());

  it('has one row per key, caller account, principal (the role) and operation', () => {
    expect(report.rows.map((r) => [r.callerAccountId, r.principal, r.operation, r.access, r.vendor, r.calls, r.errors, r.firstSeen])).toEqual([
      [ORG, `arn:aws:iam::${ORG}:role/Analytics`, 'Decrypt', 'trusted', null, 1, 0, '2024-03-07T10:00:00.000Z'],
      [VENDOR, ACME_ROLE, 'Decrypt', 'vendor', 'Acme', 1, 0, '2024-03-06T10:00:00.000Z'],
      [VENDOR, ACME_ROLE, 'GenerateDataKey', 'vendor', 'Acme', 1, 0, '2024-03-06T11:00:00.000Z'],
      [AUDITOR, `arn:aws:iam::${AUDITOR}:role/AuditReader`, 'Decrypt', 'unknown', null, 1, 0, '2024-03-09T10:00:00.000Z'],
      [STRANGER, `arn:aws:iam::${STRANGER}:role/DataPipelineRole`, 'Decrypt', 'unknown', null, 1, 1, '2024-03-08T10:00:00.000Z'],
    ]);
    expect(report.rows.every((r) => r.keyArn === K1 && r.alias === 'alias/project-key')).toBe(true);
  });

  it('totals calls, accounts and unknown accounts, and counts calls per day and account', () => {
    // The auditor is unknown to the configuration but acknowledged by a suppression: the stranger is the one.
    expect(report.totals).toEqual({ calls: 5, errors: 1, keys: 1, accounts: 4, unknownAccounts: 1 });
    expect(report.daily).toEqual([
      { day: '2024-03-06', callerAccountId: VENDOR, calls: 2 },
      { day: '2024-03-07', callerAccountId: ORG, calls: 1 },
      { day: '2024-03-08', callerAccountId: STRANGER, calls: 1 },
      { day: '2024-03-09', callerAccountId: AUDITOR, calls: 1 },
    ]);
  });

  it('treats a vendor declared only on another key as a vendor not declared for this key', async () => {
    const [declared] = CONFIG.keys;
    if (!declared) throw new Error('the seed config declares K1');
    const config = { ...CONFIG, keys: [{ ...declared, key_arn: K2, alias: undefined }] };
    const other = await buildCrossAccountReport(db, { config, ...MARCH, now: NOW });
    const acme = other.rows.filter((r) => r.callerAccountId === VENDOR);
    expect(acme.map((r) => [r.access, r.vendor, r.vendorDeclaredForKey])).toEqual([
      ['vendor', 'Acme', false],
      ['vendor', 'Acme', false],
    ]);
  });
});
