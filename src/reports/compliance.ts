import type { KeytrailConfig } from '../config/schema.js';
import type { KeytrailDb } from '../store/database.js';
import {
  administration,
  callerUsage,
  crossAccountSummary,
  findingsEvidence,
  keyInventory,
  loggingChanges,
  pendingDeletions,
  periodTotals,
  rotationEvidence,
  usageEvidence,
} from './evidence.js';
import { loadKeyLabels } from './labels.js';
import { resolvePeriod, type PeriodOptions } from './period.js';
import type { ComplianceReport, ControlMapping } from './types.js';

export interface ReportOptions extends PeriodOptions {
  config: KeytrailConfig;
  /** The clock for `generatedAt` and an empty store's default period (default: now). */
  now?: Date;
}

/**
 * The compliance report: the evidence an auditor asks for about KMS key management over a period
 * (PCI DSS v4.0 requirements 3.6 and 3.7, SOC 2 CC6.1), from stored events and findings only.
 */
export async function buildComplianceReport(db: KeytrailDb, options: ReportOptions): Promise<ComplianceReport> {
  const now = options.now ?? new Date();
  const period = await resolvePeriod(db, options, now);
  const labels = await loadKeyLabels(db, options.config);
  const inventory = await keyInventory(db, period, labels);
  const crossAccount = await crossAccountSummary(db, period, labels, options.config, now);
  const callers = await callerUsage(db, period);
  const report: Omit<ComplianceReport, 'controls'> = {
    reportVersion: 1,
    kind: 'compliance',
    generatedAt: now.toISOString(),
    period,
    loggingChanges: await loggingChanges(db, period),
    totals: await periodTotals(db, period, callers.callers),
    keys: inventory.keys,
    transitions: inventory.transitions,
    rotation: await rotationEvidence(
      db,
      period,
      inventory.keys.map((k) => ({ ...k, deleted: k.stateAtEnd === 'deleted' })),
    ),
    pendingDeletion: await pendingDeletions(db, period, labels),
    administration: await administration(db, period, labels),
    crossAccount,
    findings: await findingsEvidence(db, period, labels),
    usage: await usageEvidence(db, period, labels, callers),
  };
  return { ...report, controls: controlMappings(report) };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Each control an auditor tests for KMS key management, the sections that evidence it, what the
 * evidence cannot show, and whether something in this period needs attention.
 */
export function controlMappings(r: Omit<ComplianceReport, 'controls'>): ControlMapping[] {
  const gaps = r.period.evidence.gapDays;
  const noRotation = r.rotation.filter((k) => k.noEvidenceInPeriod);
  const unexplained = r.rotation.filter((k) => k.status === 'no evidence' || k.status === 'rotation disabled');
  const due = r.pendingDeletion.filter((p) => p.status === 'deletion due');
  const stillUsed = r.pendingDeletion.filter((p) => p.failedPendingDeletion > 0);
  const unknown = r.crossAccount.filter((c) => c.suppressedBy === null && (c.access === 'unknown' || (c.access === 'vendor' && !c.vendorDeclaredForKey)));
  const failedAdmin = r.administration.actions.filter((a) => a.outcome !== 'success');
  const openHigh = r.findings.openBySeverity.critical + r.findings.openBySeverity.high;
  return [
    {
      framework: 'PCI DSS v4.0',
      control: '10.2, 10.7 (supporting: audit log completeness)',
      requirement: 'Audit logs capture key-management activity and are protected from interruption.',
      sections: ['period'],
      evidence: 'First and last stored event, the days of the period without any stored event, and trail changes that stopped or narrowed KMS logging.',
      limits: 'Shows only what was ingested: a day without events may be a quiet day or a missing trail file.',
      status: gaps > 0 || r.loggingChanges.length > 0 ? 'attention' : r.totals.events > 0 ? 'evidence' : 'no evidence',
      statusReason:
        r.totals.events === 0
          ? 'no events are stored for the period'
          : gaps > 0 || r.loggingChanges.length > 0
            ? `${plural(gaps, 'day')} without stored events; ${plural(r.loggingChanges.length, 'change')} that stopped or narrowed KMS logging`
            : 'every day of the period has stored events',
    },
    {
      framework: 'PCI DSS v4.0',
      control: '3.6.1, 3.7 (key inventory and lifecycle)',
      requirement: 'Keys are known and managed through their lifecycle: generation, activation, suspension, retirement.',
      sections: ['inventory'],
      evidence: 'Every key seen in the period with its owner account, declared purpose, state at the end of the period and state changes (created, enabled, disabled, deletion scheduled or cancelled, deleted, key material imported or deleted).',
      limits: 'A key never used or changed in the period does not appear; compare with the account\'s key list (ListKeys).',
      status: r.keys.length > 0 ? 'evidence' : 'no evidence',
      statusReason: `${plural(r.keys.length, 'key')} seen, ${plural(r.transitions.length, 'state change')} in the period`,
    },
    {
      framework: 'PCI DSS v4.0',
      control: '3.7.4 (cryptoperiod)',
      requirement: 'Keys are changed at the end of their defined cryptoperiod.',
      sections: ['rotation'],
      evidence: 'Rotations per key (RotateKey service events, "KMS CMK Rotation" events, RotateKeyOnDemand), the last rotation, and whether rotation was last enabled or disabled.',
      limits: 'The cryptoperiod itself is the organization\'s policy; keys with imported material are rotated by importing new material into a new key.',
      status: unexplained.length > 0 ? 'attention' : r.rotation.length > 0 ? 'evidence' : 'no evidence',
      statusReason:
        r.rotation.length === 0
          ? 'no keys seen'
          : `${plural(noRotation.length, 'key')} of ${r.rotation.length} without rotation in the period` +
            (unexplained.length > 0
              ? `; ${plural(unexplained.length, 'key')} with rotation disabled or no rotation evidence at all (${unexplained.map((k) => k.alias ?? k.keyId).join(', ')})`
              : '; each is explained (rotated within a year, rotation enabled, imported material or deleted)'),
    },
    {
      framework: 'PCI DSS v4.0',
      control: '3.7.5 (retirement and destruction)',
      requirement: 'Keys are retired, replaced or destroyed when no longer needed or when their integrity is weakened.',
      sections: ['pending-deletion', 'transitions'],
      evidence: 'Keys pending deletion at the end of the period with the deletion date KMS logged and any use after scheduling; keys disabled or deleted, and key material deleted or expired, in the period.',
      limits: 'Retirement of keys outside AWS KMS (HSM copies of imported key material) is not visible in CloudTrail.',
      status: due.length > 0 || stillUsed.length > 0 ? 'attention' : 'evidence',
      statusReason:
        due.length > 0 || stillUsed.length > 0
          ? `${plural(due.length, 'key')} past the deletion date with no deletion stored; ${plural(stillUsed.length, 'key')} still called while pending deletion`
          : `${plural(r.pendingDeletion.length, 'key')} pending deletion; ${plural(r.transitions.filter((t) => t.kind === 'deleted').length, 'deletion')} in the period`,
    },
    {
      framework: 'PCI DSS v4.0',
      control: '3.6.1, 3.7.8 (key custodians)',
      requirement: 'Access to keys is restricted to the fewest custodians necessary; custodians are known and accountable.',
      sections: ['administration'],
      evidence: 'Every administrative call (key policies, grants, enable/disable, deletion, rotation, aliases, key material, tags), failed attempts included, and who made them.',
      limits: 'Custodian acknowledgements and the list of authorized custodians are documents, not logs: compare the administrators listed here with that list.',
      status: failedAdmin.length > 0 ? 'attention' : 'evidence',
      statusReason: `${plural(r.administration.actions.length, 'administrative call')} by ${plural(r.administration.byPrincipal.length, 'principal')}; ${plural(failedAdmin.length, 'failed attempt')}`,
    },
    {
      framework: 'SOC 2 (2017 TSC)',
      control: 'CC6.1 (logical access)',
      requirement: 'Logical access to protected information assets, including encryption keys, is restricted to authorized users and systems.',
      sections: ['cross-account', 'administration', 'findings'],
      evidence: 'Use of keys from other accounts with the caller classified as declared vendor, trusted (organization) account or unknown; policy and grant changes; open and suppressed findings with their reasons.',
      limits: 'Shows access that was exercised (or attempted), not every principal a key policy or grant allows.',
      status: unknown.length > 0 || openHigh > 0 ? 'attention' : 'evidence',
      statusReason: `${plural(unknown.length, 'key and account pair')} with unknown or undeclared cross-account use; ${plural(openHigh, 'open critical or high finding')}`,
    },
  ];
}
