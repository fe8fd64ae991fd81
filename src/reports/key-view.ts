import { formatNumber, formatTime, plural, type ChartSpec, type ReportDocument } from './document.js';
import { principalName } from './labels.js';
import { OUTCOME_COLORS } from './palette.js';
import { periodDays } from './period.js';
import type { KeyReport } from './types.js';
import { administrationBlocks, findingsSection, pendingDeletionTable, periodSection, periodText, principalChart, rotationTable } from './view-common.js';

const STATE_TEXT = {
  enabled: 'enabled',
  disabled: 'disabled',
  'pending-deletion': 'pending deletion',
  'pending-import': 'pending import',
  deleted: 'deleted',
} as const;

/** One key's report as a document: what it is, who used it, its history, its events, its findings. */
export function keyDocument(r: KeyReport): ReportDocument {
  const u = r.usage;
  const name = u.key.alias?.name ?? u.key.aliases[0]?.name ?? u.key.arn ?? u.key.id;
  const days = periodDays(r.period);
  const byDay = new Map(u.daily.map((d) => [d.day, d]));
  const daily: ChartSpec = {
    id: 'key_daily_usage',
    title: 'Calls per day on this key',
    summary:
      u.totals.calls === 0
        ? 'No calls on the key in the period.'
        : `${plural(u.totals.calls, 'call')} (${plural(u.totals.uses, 'cryptographic use')}, ${plural(u.totals.errors, 'failed call')}) ` +
          `on ${plural(u.daily.length, 'day')} of ${formatNumber(days.length)}; last use ${formatTime(u.totals.lastUse) || 'none'}.`,
    orientation: 'vertical',
    categories: days,
    series: [
      { name: 'successful calls', values: days.map((d) => (byDay.get(d)?.calls ?? 0) - (byDay.get(d)?.errors ?? 0)), color: OUTCOME_COLORS.success },
      { name: 'failed calls', values: days.map((d) => byDay.get(d)?.errors ?? 0), color: OUTCOME_COLORS.error },
    ],
    stacked: true,
    valueName: 'calls',
    data: {
      kind: 'table',
      id: 'key_daily_usage_data',
      title: 'Calls per day: data',
      columns: [
        { id: 'day', label: 'Day', kind: 'day' },
        { id: 'calls', label: 'Calls', kind: 'number' },
        { id: 'uses', label: 'Cryptographic uses', kind: 'number' },
        { id: 'errors', label: 'Failed', kind: 'number' },
      ],
      rows: u.daily.map((d) => ({ day: d.day, calls: d.calls, uses: d.uses, errors: d.errors })),
      empty: 'No calls.',
      csv: false,
    },
  };

  return {
    title: `KMS key report: ${name}`,
    subtitle: periodText(r.period),
    lead: [
      'One key\'s past usage, lifecycle, administration, events and findings over the period, from stored CloudTrail records and KMS ' +
        'EventBridge events only. AWS keeps no record of ciphertexts: these events are the only evidence of what depends on the key.',
    ],
    sections: [
      {
        id: 'summary',
        title: 'At a glance',
        blocks: [
          { kind: 'paragraph', text: u.verdict.headline, tone: u.verdict.status === 'in-use' ? 'attention' : u.verdict.status === 'no-use-seen' ? 'ok' : 'neutral' },
          {
            kind: 'facts',
            items: [
              { label: 'Key', value: u.key.arn ?? u.key.id, wide: true },
              { label: 'Owner account', value: u.key.accountId ?? 'unknown' },
              { label: 'Region', value: u.key.region ?? 'unknown' },
              { label: 'Aliases', value: u.key.aliases.map((a) => a.name).join(', ') || 'none seen' },
              { label: 'State (last stored change)', value: u.lifecycle.lastKnownState === null ? 'no change stored' : STATE_TEXT[u.lifecycle.lastKnownState] },
              {
                label: 'Pending deletion',
                value: r.pendingDeletion ? `deletion ${formatTime(r.pendingDeletion.deletionDate) || 'date unknown'}` : 'no',
                tone: r.pendingDeletion ? 'attention' : 'ok',
              },
              { label: 'Calls in period', value: formatNumber(u.totals.calls) },
              { label: 'Last use', value: formatTime(u.totals.lastUse) || 'none in period' },
              { label: 'Declared', wide: true, value: u.key.declared ? [u.key.declared.description?.replace(/\.\s*$/, ''), u.key.declared.neverDelete ? 'never delete' : null, u.key.declared.vendors.length ? `vendors: ${u.key.declared.vendors.join(', ')}` : null].filter(Boolean).join('; ') || 'yes' : 'not in the configuration' },
            ],
          },
          { kind: 'list', items: u.verdict.reasons },
        ],
      },
      periodSection(r.period, r.loggingChanges),
      {
        id: 'usage',
        title: 'Past usage',
        blocks: [
          { kind: 'chart', chart: daily },
          {
            kind: 'chart',
            chart: principalChart(
              'key_usage_by_principal',
              'Calls by caller (roles, not sessions)',
              u.principals.map((p) => ({ principal: p.arn ?? p.name, accountId: p.accountId, calls: p.calls, errors: p.errors })),
            ),
          },
          {
            kind: 'table',
            id: 'operations',
            title: 'Calls by operation',
            columns: [
              { id: 'operation', label: 'Operation', kind: 'code' },
              { id: 'calls', label: 'Calls', kind: 'number' },
              { id: 'uses', label: 'Uses', kind: 'number' },
              { id: 'errors', label: 'Failed', kind: 'number' },
            ],
            rows: u.operations.map((o) => ({ operation: o.operation, calls: o.calls, uses: o.uses, errors: o.errors })),
            empty: 'No calls in the period.',
          },
          {
            kind: 'table',
            id: 'principals',
            title: 'Callers',
            columns: [
              { id: 'principal', label: 'Caller', kind: 'arn' },
              { id: 'type', label: 'Type', kind: 'code' },
              { id: 'account', label: 'Account', kind: 'code' },
              { id: 'sessions', label: 'Sessions', kind: 'number' },
              { id: 'calls', label: 'Calls', kind: 'number' },
              { id: 'uses', label: 'Uses', kind: 'number' },
              { id: 'errors', label: 'Failed', kind: 'number' },
              { id: 'first_call', label: 'First', kind: 'time' },
              { id: 'last_call', label: 'Last', kind: 'time' },
            ],
            rows: u.principals.map((p) => ({
              principal: p.arn ?? p.name,
              type: p.type,
              account: p.accountId,
              sessions: p.sessions,
              calls: p.calls,
              uses: p.uses,
              errors: p.errors,
              first_call: p.firstCall,
              last_call: p.lastCall,
            })),
            empty: 'No callers in the period.',
            displayLimit: 200,
          },
          {
            kind: 'table',
            id: 'external_accounts',
            title: 'Accounts other than the key owner',
            columns: [
              { id: 'account', label: 'Account', kind: 'code' },
              { id: 'access', label: 'Caller is', kind: 'status' },
              { id: 'principals', label: 'Principals', kind: 'number' },
              { id: 'calls', label: 'Calls', kind: 'number' },
              { id: 'errors', label: 'Failed', kind: 'number' },
              { id: 'first_call', label: 'First', kind: 'time' },
              { id: 'last_call', label: 'Last', kind: 'time' },
            ],
            rows: u.externalAccounts.map((a) => ({
              account: a.accountId,
              access: a.vendor ? `vendor ${a.vendor}` : a.trusted ? 'trusted' : 'unknown',
              principals: a.principals,
              calls: a.calls,
              errors: a.errors,
              first_call: a.firstCall,
              last_call: a.lastCall,
            })),
            empty: 'No calls from other accounts in the period.',
          },
          {
            kind: 'table',
            id: 'services',
            title: 'Through AWS services',
            columns: [
              { id: 'service', label: 'Service', kind: 'code' },
              { id: 'calls', label: 'Calls', kind: 'number' },
              { id: 'uses', label: 'Uses', kind: 'number' },
              { id: 'examples', label: 'Example resources', kind: 'arn' },
            ],
            rows: u.services.map((s) => ({ service: s.service, calls: s.calls, uses: s.uses, examples: s.exampleResources.map((e) => e.resource).join(', ') })),
            empty: 'No service named in the period.',
          },
        ],
      },
      {
        id: 'lifecycle',
        title: 'History',
        blocks: [
          {
            kind: 'table',
            id: 'lifecycle',
            title: 'Lifecycle changes stored for the key (all time)',
            columns: [
              { id: 'time', label: 'Time', kind: 'time' },
              { id: 'change', label: 'Change', kind: 'status' },
              { id: 'event', label: 'Event', kind: 'code' },
              { id: 'by', label: 'By', kind: 'arn' },
              { id: 'deletion_date', label: 'Deletion date', kind: 'time' },
              { id: 'event_id', label: 'Event id', kind: 'code' },
            ],
            rows: u.lifecycle.entries.map((e) => ({
              time: e.time,
              change: e.kind.replace(/-/g, ' '),
              event: e.event,
              by: e.by ? principalName(e.by.startsWith('arn:') ? e.by : null, e.by) : null,
              deletion_date: e.deletionDate ?? null,
              event_id: e.eventId,
            })),
            empty: 'No lifecycle change stored for the key.',
          },
          ...(r.rotation ? [rotationTable([r.rotation])] : []),
          pendingDeletionTable(r.pendingDeletion ? [r.pendingDeletion] : []),
        ],
      },
      { id: 'administration', title: 'Administrative actions on the key', blocks: administrationBlocks(r.administration) },
      {
        id: 'timeline',
        title: 'Events timeline',
        blocks: [
          {
            kind: 'paragraph',
            text:
              r.timeline.shown < r.timeline.total
                ? `The latest ${formatNumber(r.timeline.shown)} of ${formatNumber(r.timeline.total)} events in the period (the JSON and CSV formats have the same ${formatNumber(r.timeline.shown)}; keytrail query gives all).`
                : `All ${plural(r.timeline.total, 'event')} on the key in the period, oldest first.`,
          },
          {
            kind: 'table',
            id: 'timeline',
            title: 'Events on the key',
            columns: [
              { id: 'time', label: 'Time', kind: 'time' },
              { id: 'event', label: 'Event', kind: 'code' },
              { id: 'outcome', label: 'Outcome', kind: 'status' },
              { id: 'caller', label: 'Caller', kind: 'arn' },
              { id: 'account', label: 'Account', kind: 'code' },
              { id: 'service', label: 'Service', kind: 'code' },
              { id: 'source_ip', label: 'Source IP', kind: 'code' },
              { id: 'encryption_context', label: 'Encryption context', kind: 'arn' },
              { id: 'event_id', label: 'Event id', kind: 'code', csvOnly: true },
            ],
            rows: r.timeline.events.map((e) => ({
              time: e.time,
              event: e.event,
              outcome: e.outcome === 'success' ? 'success' : `failed: ${e.errorCode ?? 'error'}`,
              caller: e.principalArn ? principalName(e.principalArn) : (e.invokedBy ?? (e.kind === 'lifecycle' ? 'AWS KMS' : null)),
              account: e.accountId,
              service: e.viaService ?? e.invokedBy,
              source_ip: e.sourceIp,
              encryption_context: e.encryptionContext,
              event_id: e.eventId,
            })),
            empty: 'No events on the key in the period.',
          },
        ],
      },
      findingsSection(r.period, r.findings, `Findings on this key that occurred in the period, from the findings table.`),
    ],
    footer: `Generated by keytrail at ${formatTime(r.generatedAt)}.`,
  };
}
