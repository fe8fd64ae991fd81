import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildComplianceReport, type ComplianceReport } from '../../../src/reports/index.js';
import type { KeytrailDb } from '../../../src/store/database.js';
import { ACME_ROLE, ALICE, APP_ROLE, AUDITOR, CONFIG, K1, K2, K2_ID, K3, K4, K5, MARCH, NOW, ORG, STRANGER, VENDOR, HOSTILE_ALIAS, openSeededDb } from './seed.js';

describe('Report: compliance', () => {
  let db: KeytrailDb;
  let report: ComplianceReport;

  beforeAll(async () => {
    db = await openSeededDb();
    report = await buildComplianceReport(db, { config: CONFIG, ...MARCH, now: NOW });
  });
  afterAll(() => db.close());

  it('states the period, the stored range and the days without any stored event', () => {
    expect(report.period).toMatchObject({ firstDay: '2024-03-01', lastDay: '2024-03-31', days: 31, from: '2024-03-01T00:00:00.000Z', to: '2024-04-01T00:00:00.000Z' });
    // The year-old rotation is the first stored event, K2's failed Decrypt the last.
    expect(report.period.evidence.firstEvent).toBe('2023-03-10T01:40:00.000Z');
    expect(report.period.evidence.lastEvent).toBe('2024-03-21T10:00:00.000Z');
    expect(report.period.evidence.gaps.map((g) => [g.from, g.to, g.position])).toEqual([
      ['2024-03-01', '2024-03-01', 'within-evidence'],
      ['2024-03-04', '2024-03-04', 'within-evidence'],
      ['2024-03-13', '2024-03-14', 'within-evidence'],
      ['2024-03-17', '2024-03-17', 'within-evidence'],
      ['2024-03-19', '2024-03-19', 'within-evidence'],
      ['2024-03-22', '2024-03-31', 'after-evidence'],
    ]);
    expect(report.period.evidence.gapDays).toBe(16);
  });

  it('lists the trail change that stopped KMS logging, with no restart seen', () => {
    expect(report.loggingChanges).toEqual([
      expect.objectContaining({ operation: 'StopLogging', trail: 'management-events', effect: 'stopped', restoredAt: null, time: '2024-03-18T13:45:59.000Z' }),
    ]);
  });

  it('inventories every key seen, aliases first, with the state the last stored change left it in', () => {
    expect(report.keys.map((k) => [k.keyArn, k.alias, k.stateAtEnd, k.importedMaterial])).toEqual([
      [K5, HOSTILE_ALIAS, 'disabled', false],
      [K1, 'alias/project-key', null, false],
      [K2, null, 'pending-deletion', false],
      [K4, null, 'enabled', true],
      [K3, null, 'disabled', false],
    ]);
    const k1 = report.keys.find((k) => k.keyArn === K1);
    // 3 app calls, vendor 2 (each logged twice), org 1, stranger 1 (denied), auditor 1, RotateKey,
    // PutKeyPolicy, CreateGrant, denied DisableKeyRotation; the "KMS CMK Rotation" event is no call.
    expect(k1).toMatchObject({ declared: true, description: 'Project data', vendors: ['Acme'], calls: 12, errors: 2 });
  });

  it('lists the state changes of the period in time order, with what the records say', () => {
    expect(report.transitions.map((t) => [t.time.slice(0, 10), t.keyArn, t.kind, t.detail])).toEqual([
      ['2024-03-02', K4, 'created', 'origin EXTERNAL, SYMMETRIC_DEFAULT'],
      ['2024-03-02', K4, 'key-material-imported', 'material expires 2024-06-01 00:00:00Z'],
      ['2024-03-10', K3, 'deletion-scheduled', 'deletion date 2024-03-30 09:00:00Z, 20-day window'],
      ['2024-03-11', K3, 'deletion-cancelled', null],
      ['2024-03-12', K5, 'disabled', null],
      ['2024-03-20', K2, 'deletion-scheduled', 'deletion date 2024-04-19 12:00:00Z, 30-day window'],
    ]);
    expect(report.transitions.every((t) => t.by === ALICE)).toBe(true);
  });

  it('counts one rotation for the service event and the EventBridge event, and reads the rest', () => {
    const byKey = new Map(report.rotation.map((r) => [r.keyArn, r]));
    expect(byKey.get(K1)).toMatchObject({ rotations: 1, lastRotatedAt: '2024-03-10T01:42:10.000Z', noEvidenceInPeriod: false, status: 'rotated in period' });
    expect(byKey.get(K4)).toMatchObject({ rotations: 0, noEvidenceInPeriod: true, status: 'imported material' });
    expect(byKey.get(K2)).toMatchObject({ rotations: 0, lastRotatedAt: null, noEvidenceInPeriod: true, status: 'no evidence' });
    expect(report.rotation.filter((r) => r.noEvidenceInPeriod).map((r) => r.keyArn).sort()).toEqual([K2, K3, K4, K5].sort());
  });

  it('lists the key pending deletion with the deletion date KMS logged, and the call that failed since', () => {
    expect(report.pendingDeletion).toEqual([
      {
        keyArn: K2,
        keyId: K2_ID,
        alias: null,
        scheduledAt: '2024-03-20T12:00:00.000Z',
        scheduledBy: ALICE,
        pendingWindowDays: 30,
        deletionDate: '2024-04-19T12:00:00.000Z',
        deletionDateSource: 'logged',
        status: 'pending deletion',
        callsAfterScheduling: 1,
        failedPendingDeletion: 1,
        lastCallAfterScheduling: '2024-03-21T10:00:00.000Z',
      },
    ]);
  });

  it('says a deletion is due when the end of the period passes the deletion date without a deletion', async () => {
    const later = await buildComplianceReport(db, { config: CONFIG, since: '2024-03-01', until: '2024-04-30', now: NOW });
    expect(later.pendingDeletion.map((p) => [p.keyArn, p.status])).toEqual([[K2, 'deletion due']]);
    // Before the scheduling there is nothing pending; K3's scheduling was cancelled.
    const before = await buildComplianceReport(db, { config: CONFIG, since: '2024-03-01', until: '2024-03-19', now: NOW });
    expect(before.pendingDeletion).toEqual([]);
  });

  it('lists administrative actions, failed ones included, and who made them', () => {
    const actions = report.administration.actions;
    expect(actions.map((a) => [a.operation, a.outcome, a.keyArn])).toEqual([
      ['CreateKey', 'success', K4],
      ['ImportKeyMaterial', 'success', K4],
      ['ScheduleKeyDeletion', 'success', K3],
      ['CancelKeyDeletion', 'success', K3],
      ['DisableKey', 'success', K5],
      ['CreateAlias', 'success', K5],
      ['PutKeyPolicy', 'success', K1],
      ['CreateGrant', 'success', K1],
      ['DisableKeyRotation', 'error', K1],
      ['ScheduleKeyDeletion', 'success', K2],
    ]);
    expect(actions.find((a) => a.operation === 'DisableKeyRotation')).toMatchObject({ errorCode: 'AccessDeniedException' });
    expect(report.administration.byPrincipal.map((p) => [p.principal, p.actions, p.failed, p.keys])).toEqual([
      [ALICE, 9, 0, 5],
      [APP_ROLE, 1, 1, 1],
    ]);
  });

  it('classifies cross-account callers: declared vendor, trusted account, unknown, and unknown but acknowledged', () => {
    expect(report.crossAccount.map((c) => [c.callerAccountId, c.access, c.vendor, c.suppressedBy, c.calls, c.errors])).toEqual([
      [ORG, 'trusted', null, null, 1, 0],
      // Two calls, each logged in both accounts.
      [VENDOR, 'vendor', 'Acme', null, 2, 0],
      [AUDITOR, 'unknown', null, 'suppressions[0] (reason: Q1 audit engagement)', 1, 0],
      // Denied: logged only in the stranger's account.
      [STRANGER, 'unknown', null, null, 1, 1],
    ]);
    expect(report.crossAccount.every((c) => c.keyArn === K1 && c.keyAccountId === '111122223333')).toBe(true);
    expect(report.crossAccount.find((c) => c.callerAccountId === VENDOR)).toMatchObject({ vendorDeclaredForKey: true, operations: ['Decrypt', 'GenerateDataKey'] });
  });

  it('counts open findings of the period by severity and lists suppressed ones apart', () => {
    expect(report.findings.openBySeverity).toEqual({ critical: 1, high: 2, medium: 1, low: 0, info: 0 });
    expect(report.findings.open.map((f) => f.detectorId)).toEqual(['KMS.PendingDeletionKeyUsed', 'KMS.KeyDisabled', 'KMS.ExternalAccessChanged', 'KMS.CrossAccountUse']);
    expect(report.findings.suppressed.map((f) => [f.accountId, f.suppressedBy])).toEqual([[AUDITOR, 'suppressions[0] (reason: Q1 audit engagement)']]);
    // The February finding is outside the period.
    expect([...report.findings.open, ...report.findings.suppressed].some((f) => f.keyArn === K3)).toBe(false);
    expect(report.findings.daily).toEqual([
      { day: '2024-03-08', severity: 'medium', findings: 1 },
      { day: '2024-03-12', severity: 'high', findings: 1 },
      { day: '2024-03-15', severity: 'high', findings: 1 },
      { day: '2024-03-21', severity: 'critical', findings: 1 },
    ]);
  });

  it('counts calls per day and key, and callers as roles', () => {
    const k1Days = report.usage.dailyByKey.filter((d) => d.keyArn === K1);
    expect(k1Days.reduce((n, d) => n + d.calls, 0)).toBe(12);
    expect(k1Days.find((d) => d.day === '2024-03-06')?.calls).toBe(2);
    expect(report.usage.byPrincipal.slice(0, 3)).toEqual([
      { principal: ALICE, accountId: '111122223333', calls: 9, errors: 0, keys: 5 },
      { principal: APP_ROLE, accountId: '111122223333', calls: 6, errors: 2, keys: 2 },
      { principal: ACME_ROLE, accountId: VENDOR, calls: 2, errors: 0, keys: 1 },
    ]);
  });

  it('maps PCI DSS 3.6/3.7 and SOC 2 CC6.1 to the sections, and says what needs attention', () => {
    const byControl = new Map(report.controls.map((c) => [c.control, c]));
    expect([...byControl.keys()]).toEqual([
      '10.2, 10.7 (supporting: audit log completeness)',
      '3.6.1, 3.7 (key inventory and lifecycle)',
      '3.7.4 (cryptoperiod)',
      '3.7.5 (retirement and destruction)',
      '3.6.1, 3.7.8 (key custodians)',
      'CC6.1 (logical access)',
    ]);
    expect(byControl.get('3.7.4 (cryptoperiod)')).toMatchObject({ sections: ['rotation'], status: 'attention' });
    expect(byControl.get('3.7.4 (cryptoperiod)')?.statusReason).toContain('3 keys with rotation disabled or no rotation evidence at all');
    expect(byControl.get('3.7.5 (retirement and destruction)')).toMatchObject({ status: 'attention' });
    expect(byControl.get('3.7.5 (retirement and destruction)')?.statusReason).toContain('1 key still called while pending deletion');
    // The stranger is the one pair not allowlisted: the auditor is acknowledged by a suppression.
    expect(byControl.get('CC6.1 (logical access)')?.statusReason).toBe('1 key and account pair with unknown or undeclared cross-account use; 3 open critical or high findings');
  });

  it('defaults the period to the days with stored events', async () => {
    const all = await buildComplianceReport(db, { config: CONFIG, now: NOW });
    expect([all.period.firstDay, all.period.lastDay]).toEqual(['2023-03-10', '2024-03-21']);
    expect(all.period.sinceGiven).toBe(false);
  });

  it('rejects a period that ends before it starts, and a date it cannot read', async () => {
    await expect(buildComplianceReport(db, { config: CONFIG, since: '2024-03-10', until: '2024-03-01', now: NOW })).rejects.toThrow(/after --until/);
    await expect(buildComplianceReport(db, { config: CONFIG, since: 'last tuesday', now: NOW })).rejects.toThrow(/--since: not a date/);
  });
});
