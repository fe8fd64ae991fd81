import { formatNumber, formatTime, plural, type ChartSpec, type ReportDocument } from './document.js';
import { accessLabel, principalName } from './labels.js';
import { OTHER_COLOR, seriesColor } from './palette.js';
import { periodDays } from './period.js';
import type { CrossAccountReport } from './types.js';
import { crossAccountSummaryTable, keyLabel, periodSection, periodText, principalChart } from './view-common.js';

const MAX_ACCOUNT_SERIES = 8;

/** The cross-account report as a document: totals, the charts, then every row. */
export function crossAccountDocument(r: CrossAccountReport): ReportDocument {
  const days = periodDays(r.period);
  const index = new Map(days.map((d, i) => [d, i]));
  const accessOf = new Map<string, string>();
  for (const a of r.byAccount) if (!accessOf.has(a.callerAccountId) || a.access === 'unknown') accessOf.set(a.callerAccountId, accessLabel(a).replace(/ \(not declared for this key\)$/, ''));
  const totals = new Map<string, number>();
  for (const d of r.daily) totals.set(d.callerAccountId, (totals.get(d.callerAccountId) ?? 0) + d.calls);
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const shown = ranked.slice(0, ranked.length > MAX_ACCOUNT_SERIES + 1 ? MAX_ACCOUNT_SERIES : ranked.length).map(([a]) => a);
  const series = shown.map((account, i) => {
    const values = days.map(() => 0);
    for (const d of r.daily) {
      const at = index.get(d.day);
      if (at !== undefined && d.callerAccountId === account) values[at] = d.calls;
    }
    return { name: `${account} (${accessOf.get(account) ?? 'unknown'})`, values, color: seriesColor(i) };
  });
  if (shown.length < ranked.length) {
    const values = days.map(() => 0);
    for (const d of r.daily) {
      const at = index.get(d.day);
      if (at !== undefined && !shown.includes(d.callerAccountId)) values[at] = (values[at] ?? 0) + d.calls;
    }
    series.push({ name: `${ranked.length - shown.length} other accounts`, values, color: OTHER_COLOR });
  }
  const daily: ChartSpec = {
    id: 'cross_account_daily',
    title: 'Cross-account calls per day, by caller account',
    summary:
      r.totals.calls === 0
        ? 'No cross-account calls in the period.'
        : `${plural(r.totals.calls, 'call')} from ${plural(r.totals.accounts, 'account')} on ${plural(r.totals.keys, 'key')}; ` +
          `most: ${ranked.slice(0, 3).map(([a, n]) => `${a} (${accessOf.get(a) ?? 'unknown'}) ${formatNumber(n)}`).join(', ')}.`,
    orientation: 'vertical',
    categories: days,
    series,
    stacked: true,
    valueName: 'calls',
    data: {
      kind: 'table',
      id: 'cross_account_daily_data',
      title: 'Cross-account calls per day: data',
      columns: [{ id: 'day', label: 'Day', kind: 'day' }, ...series.map((s, i) => ({ id: `s${i}`, label: s.name, kind: 'number' as const }))],
      rows: days.map((day, d) => ({ day, ...Object.fromEntries(series.map((s, i) => [`s${i}`, s.values[d] ?? 0])) })),
      empty: 'No calls.',
      csv: false,
    },
  };
  const principals = new Map<string, { principal: string; accountId: string; calls: number; errors: number }>();
  for (const row of r.rows) {
    const p = principals.get(row.principal) ?? { principal: row.principal, accountId: row.callerAccountId, calls: 0, errors: 0 };
    p.calls += row.calls;
    p.errors += row.errors;
    principals.set(row.principal, p);
  }
  const byPrincipal = [...principals.values()].sort((a, b) => b.calls - a.calls || a.principal.localeCompare(b.principal));

  return {
    title: 'KMS cross-account key use',
    subtitle: periodText(r.period),
    lead: [
      'Every call on a KMS key made from an account other than the key owner\'s, denied calls included (they are attempts, logged ' +
        'only in the caller\'s account). A call logged in both accounts counts once. Callers are classified against the configuration: ' +
        'a declared BYOK vendor, a trusted account (trusted_accounts), or unknown.',
    ],
    sections: [
      {
        id: 'summary',
        title: 'At a glance',
        blocks: [
          {
            kind: 'facts',
            items: [
              { label: 'Period', value: periodText(r.period) },
              { label: 'Cross-account calls', value: formatNumber(r.totals.calls) },
              { label: 'Failed', value: formatNumber(r.totals.errors), tone: r.totals.errors > 0 ? 'attention' : 'ok' },
              { label: 'Keys', value: formatNumber(r.totals.keys) },
              { label: 'Caller accounts', value: formatNumber(r.totals.accounts) },
              { label: 'Unknown accounts (no suppression)', value: formatNumber(r.totals.unknownAccounts), tone: r.totals.unknownAccounts > 0 ? 'attention' : 'ok' },
            ],
          },
          { kind: 'chart', chart: daily },
          { kind: 'chart', chart: principalChart('cross_account_by_principal', 'Cross-account calls by caller', byPrincipal) },
        ],
      },
      { id: 'by-account', title: 'By key and caller account', blocks: [crossAccountSummaryTable(r.byAccount)] },
      {
        id: 'rows',
        title: 'By key, caller, principal and operation',
        blocks: [
          {
            kind: 'table',
            id: 'cross_account',
            title: 'Cross-account calls',
            columns: [
              { id: 'key', label: 'Key', kind: 'code' },
              { id: 'key_account', label: 'Key owner', kind: 'code' },
              { id: 'caller_account', label: 'Caller account', kind: 'code' },
              { id: 'access', label: 'Caller is', kind: 'status' },
              { id: 'suppressed_by', label: 'Known by suppression', kind: 'text', csvOnly: true },
              { id: 'principal', label: 'Principal', kind: 'arn' },
              { id: 'operation', label: 'Operation', kind: 'code' },
              { id: 'calls', label: 'Calls', kind: 'number' },
              { id: 'errors', label: 'Failed', kind: 'number' },
              { id: 'first_seen', label: 'First', kind: 'time' },
              { id: 'last_seen', label: 'Last', kind: 'time' },
              { id: 'key_arn', label: 'Key ARN', kind: 'arn', csvOnly: true },
            ],
            rows: r.rows.map((row) => ({
              key: keyLabel(row),
              key_account: row.keyAccountId,
              caller_account: row.callerAccountId,
              access: accessLabel(row),
              suppressed_by: row.suppressedBy,
              principal: row.principal.startsWith('arn:') ? row.principal : principalName(null, row.principal),
              operation: row.operation,
              calls: row.calls,
              errors: row.errors,
              first_seen: row.firstSeen,
              last_seen: row.lastSeen,
              key_arn: row.keyArn ?? row.keyId,
            })),
            empty: 'No cross-account calls in the period.',
            displayLimit: 500,
          },
        ],
      },
      periodSection(r.period, r.loggingChanges),
    ],
    footer: `Generated by keytrail at ${formatTime(r.generatedAt)}.`,
  };
}
