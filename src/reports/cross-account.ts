import type { KeytrailDb } from '../store/database.js';
import type { ReportOptions } from './compliance.js';
import { crossAccountDaily, crossAccountRows, loggingChanges, summarizeCrossAccount } from './evidence.js';
import { loadKeyLabels } from './labels.js';
import { resolvePeriod } from './period.js';
import type { CrossAccountReport } from './types.js';

/**
 * Every cross-account use of a key in the period (caller account ≠ key owner), by key, caller
 * account, principal and operation, each caller classified as a declared vendor, a trusted account
 * or unknown. Denied calls are included: they are attempts, logged only in the caller's account.
 */
export async function buildCrossAccountReport(db: KeytrailDb, options: ReportOptions): Promise<CrossAccountReport> {
  const now = options.now ?? new Date();
  const period = await resolvePeriod(db, options, now);
  const labels = await loadKeyLabels(db, options.config);
  const rows = await crossAccountRows(db, period, labels, options.config, now);
  const byAccount = summarizeCrossAccount(rows);
  return {
    reportVersion: 1,
    kind: 'cross-account',
    generatedAt: now.toISOString(),
    period,
    loggingChanges: await loggingChanges(db, period),
    totals: {
      calls: rows.reduce((n, r) => n + r.calls, 0),
      errors: rows.reduce((n, r) => n + r.errors, 0),
      keys: new Set(rows.map((r) => `${r.keyId}|${r.keyArn ?? ''}`)).size,
      accounts: new Set(rows.map((r) => r.callerAccountId)).size,
      unknownAccounts: new Set(rows.filter((r) => r.access === 'unknown' && r.suppressedBy === null).map((r) => r.callerAccountId)).size,
    },
    rows,
    byAccount,
    daily: await crossAccountDaily(db, period),
  };
}
