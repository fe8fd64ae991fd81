import { SEVERITIES } from '../findings/finding.js';
import { formatNumber, formatTime, plural, type Block, type ChartSpec, type DocSection, type DocTable } from './document.js';
import { accessLabel, principalName } from './labels.js';
import { OTHER_COLOR, OUTCOME_COLORS, SEVERITY_COLORS, seriesColor } from './palette.js';
import { periodDays, type ReportPeriod } from './period.js';
import type { AdministrationEvidence, CrossAccountSummaryRow, FindingEntry, FindingsEvidence, KeyRef, LoggingChange, PendingDeletionEntry, RotationEntry } from './types.js';

/** The most keys a daily chart stacks before the rest become "other keys". */
const MAX_KEY_SERIES = 8;
/** The most callers a principal chart lists. */
const MAX_PRINCIPALS = 15;

export const keyLabel = (k: KeyRef): string => k.alias ?? k.keyId;

export function periodText(period: ReportPeriod): string {
  return `${period.firstDay} to ${period.lastDay} (${plural(period.days, 'day')}, UTC)`;
}

/** Period and evidence: what the store holds, the days without any stored event, logging changes. */
export function periodSection(period: ReportPeriod, loggingChanges: readonly LoggingChange[], extra: Block[] = []): DocSection {
  const ev = period.evidence;
  const gapTable: DocTable = {
    kind: 'table',
    id: 'evidence_gaps',
    title: 'Days in the period without any stored event',
    columns: [
      { id: 'from', label: 'From', kind: 'day' },
      { id: 'to', label: 'To', kind: 'day' },
      { id: 'days', label: 'Days', kind: 'number' },
      { id: 'position', label: 'Where', kind: 'text' },
    ],
    rows: ev.gaps.map((g) => ({
      from: g.from,
      to: g.to,
      days: g.days,
      position: g.position === 'before-evidence' ? 'before the first stored event' : g.position === 'after-evidence' ? 'after the last stored event' : 'between stored events',
    })),
    empty: 'None: every day of the period has stored events.',
  };
  const changes: DocTable = {
    kind: 'table',
    id: 'logging_changes',
    title: 'CloudTrail changes that stopped or narrowed KMS logging',
    columns: [
      { id: 'time', label: 'Time', kind: 'time' },
      { id: 'operation', label: 'Operation', kind: 'code' },
      { id: 'trail', label: 'Trail', kind: 'code' },
      { id: 'effect', label: 'Effect', kind: 'text' },
      { id: 'restored_at', label: 'Restored', kind: 'time' },
      { id: 'principal_arn', label: 'By', kind: 'arn' },
      { id: 'account_id', label: 'Account', kind: 'code' },
      { id: 'region', label: 'Region', kind: 'code' },
      { id: 'event_id', label: 'Event id', kind: 'code' },
    ],
    rows: loggingChanges.map((c) => ({
      time: c.time,
      operation: c.operation,
      trail: c.trail,
      effect: c.effect,
      restored_at: c.restoredAt ?? 'not seen',
      principal_arn: c.principalArn,
      account_id: c.accountId,
      region: c.region,
      event_id: c.eventId,
    })),
    empty: 'None stored in the period.',
  };
  const covered = ev.gapDays === 0;
  return {
    id: 'period',
    title: 'Period and evidence gaps',
    blocks: [
      {
        kind: 'facts',
        items: [
          { label: 'Period', value: periodText(period) },
          { label: 'First stored event', value: ev.firstEvent ? formatTime(ev.firstEvent) : 'none' },
          { label: 'Last stored event', value: ev.lastEvent ? formatTime(ev.lastEvent) : 'none' },
          { label: 'Days with stored events', value: `${formatNumber(ev.daysWithEvents)} of ${formatNumber(period.days)}`, tone: covered ? 'ok' : 'attention' },
          { label: 'KMS logging stopped or narrowed', value: loggingChanges.length === 0 ? 'not seen' : plural(loggingChanges.length, 'time'), tone: loggingChanges.length === 0 ? 'ok' : 'attention' },
        ],
      },
      {
        kind: 'paragraph',
        text:
          'Everything in this report comes from the CloudTrail records and KMS EventBridge events keytrail stored. A day without any ' +
          'stored event (for any key) is a gap in the evidence, not proof that nothing happened: check that every trail file of those days was ingested.',
      },
      ...extra,
      gapTable,
      changes,
    ],
  };
}

/** Calls per day, stacked by key (the busiest keys; the rest as "other keys"). */
export function dailyByKeyChart(
  id: string,
  title: string,
  period: ReportPeriod,
  daily: readonly { day: string; keyId: string; keyArn: string | null; label: string; calls: number }[],
): ChartSpec {
  const days = periodDays(period);
  const totals = new Map<string, { label: string; calls: number }>();
  for (const d of daily) {
    const k = `${d.keyId}|${d.keyArn ?? ''}`;
    const t = totals.get(k) ?? { label: d.label, calls: 0 };
    t.calls += d.calls;
    totals.set(k, t);
  }
  const ranked = [...totals.entries()].sort((a, b) => b[1].calls - a[1].calls || a[1].label.localeCompare(b[1].label));
  const shown = ranked.slice(0, ranked.length > MAX_KEY_SERIES + 1 ? MAX_KEY_SERIES : ranked.length);
  const shownKeys = new Set(shown.map(([k]) => k));
  const index = new Map(days.map((d, i) => [d, i]));
  const series = shown.map(([k, t], i) => {
    const values = days.map(() => 0);
    for (const d of daily) {
      const i = index.get(d.day);
      if (i !== undefined && `${d.keyId}|${d.keyArn ?? ''}` === k) values[i] = (values[i] ?? 0) + d.calls;
    }
    return { name: t.label, values, color: seriesColor(i) };
  });
  if (shown.length < ranked.length) {
    const values = days.map(() => 0);
    for (const d of daily) {
      const i = index.get(d.day);
      if (i !== undefined && !shownKeys.has(`${d.keyId}|${d.keyArn ?? ''}`)) values[i] = (values[i] ?? 0) + d.calls;
    }
    series.push({ name: `${ranked.length - shown.length} other keys`, values, color: OTHER_COLOR });
  }
  const total = daily.reduce((n, d) => n + d.calls, 0);
  const busiest = days.map((d, i) => [d, series.reduce((n, s) => n + (s.values[i] ?? 0), 0)] as const).sort((a, b) => b[1] - a[1])[0];
  const silent = days.filter((_, i) => series.every((s) => (s.values[i] ?? 0) === 0)).length;
  return {
    id,
    title,
    summary:
      total === 0
        ? 'No calls on any key in the period.'
        : `${plural(total, 'call')} on ${plural(ranked.length, 'key')} over ${plural(days.length, 'day')}; ` +
          `busiest: ${ranked.slice(0, 3).map(([, t]) => `${t.label} (${formatNumber(t.calls)})`).join(', ')}. ` +
          `Busiest day ${busiest?.[0] ?? ''} with ${formatNumber(busiest?.[1] ?? 0)} calls; ${plural(silent, 'day')} without calls.`,
    orientation: 'vertical',
    categories: days,
    series,
    stacked: true,
    valueName: 'calls',
    data: {
      kind: 'table',
      id: `${id}_data`,
      title: `${title}: data`,
      columns: [{ id: 'day', label: 'Day', kind: 'day' }, ...series.map((s, i) => ({ id: `s${i}`, label: s.name, kind: 'number' as const }))],
      rows: days.map((day, d) => ({ day, ...Object.fromEntries(series.map((s, i) => [`s${i}`, s.values[d] ?? 0])) })),
      empty: 'No calls.',
      csv: false,
    },
  };
}

/** Callers by calls, successful and failed stacked (horizontal bars). */
export function principalChart(
  id: string,
  title: string,
  principals: readonly { principal: string; accountId: string | null; calls: number; errors: number }[],
): ChartSpec {
  const top = principals.slice(0, MAX_PRINCIPALS);
  const labels = top.map((p) => `${principalName(p.principal.startsWith('arn:') ? p.principal : null, p.principal)}${p.accountId ? ` (${p.accountId})` : ''}`);
  const rest = principals.length - top.length;
  return {
    id,
    title,
    summary:
      principals.length === 0
        ? 'No callers in the period.'
        : `${plural(principals.length, 'caller')}; most calls: ${labels.slice(0, 3).map((l, i) => `${l} ${formatNumber(top[i]?.calls ?? 0)}`).join(', ')}.` +
          (rest > 0 ? ` The chart shows the ${top.length} busiest.` : ''),
    orientation: 'horizontal',
    categories: labels,
    series: [
      { name: 'successful', values: top.map((p) => p.calls - p.errors), color: OUTCOME_COLORS.success },
      { name: 'failed', values: top.map((p) => p.errors), color: OUTCOME_COLORS.error },
    ],
    stacked: true,
    valueName: 'calls',
    data: {
      kind: 'table',
      id: `${id}_data`,
      title: `${title}: data`,
      columns: [
        { id: 'caller', label: 'Caller', kind: 'arn' },
        { id: 'calls', label: 'Calls', kind: 'number' },
        { id: 'failed', label: 'Failed', kind: 'number' },
      ],
      rows: top.map((p, i) => ({ caller: labels[i] ?? p.principal, calls: p.calls, failed: p.errors })),
      empty: 'No callers.',
      csv: false,
    },
  };
}

/** Open findings per day, stacked by severity. */
export function findingsChart(id: string, period: ReportPeriod, findings: FindingsEvidence): ChartSpec {
  const days = periodDays(period);
  const index = new Map(days.map((d, i) => [d, i]));
  const severities = [...SEVERITIES].reverse().filter((s) => findings.daily.some((d) => d.severity === s));
  const series = severities.map((s) => {
    const values = days.map(() => 0);
    for (const d of findings.daily) {
      const i = index.get(d.day);
      if (i !== undefined && d.severity === s) values[i] = d.findings;
    }
    return { name: s, values, color: SEVERITY_COLORS[s] };
  });
  const counts = severities.map((s) => `${findings.openBySeverity[s]} ${s}`).join(', ');
  return {
    id,
    title: 'Open findings over time, by severity',
    summary: findings.open.length === 0 ? 'No open findings occurred in the period.' : `${plural(findings.open.length, 'open finding')} (${counts}) on ${plural(new Set(findings.daily.map((d) => d.day)).size, 'day')}.`,
    orientation: 'vertical',
    categories: days,
    series,
    stacked: true,
    valueName: 'findings',
    data: {
      kind: 'table',
      id: `${id}_data`,
      title: 'Open findings per day: data',
      columns: [{ id: 'day', label: 'Day', kind: 'day' }, ...severities.map((s) => ({ id: s, label: s, kind: 'number' as const }))],
      rows: days
        .map((day, d) => ({ day, ...Object.fromEntries(series.map((s) => [s.name, s.values[d] ?? 0])) }))
        .filter((r) => severities.some((s) => Number(r[s as keyof typeof r] ?? 0) > 0)),
      empty: 'No open findings.',
      csv: false,
    },
  };
}

function findingRows(findings: readonly FindingEntry[], suppressed: boolean): DocTable['rows'] {
  return findings.map((f) => ({
    occurred_at: f.occurredAt,
    severity: f.severity,
    detector: f.detectorId,
    key: f.keyLabel,
    caller: f.principalArn ? principalName(f.principalArn) : null,
    account: f.accountId,
    summary: f.summary,
    ...(suppressed ? { suppressed_by: f.suppressedBy } : {}),
    key_arn: f.keyArn,
    principal_arn: f.principalArn,
    finding_id: f.findingId,
  }));
}

const FINDING_COLUMNS = [
  { id: 'occurred_at', label: 'Occurred', kind: 'time' },
  { id: 'severity', label: 'Severity', kind: 'severity' },
  { id: 'detector', label: 'Detector', kind: 'code' },
  { id: 'key', label: 'Key', kind: 'code' },
  { id: 'caller', label: 'Caller', kind: 'arn' },
  { id: 'account', label: 'Account', kind: 'code' },
  { id: 'summary', label: 'Summary', kind: 'text' },
] as const satisfies DocTable['columns'];
const FINDING_ID_COLUMNS = [
  { id: 'key_arn', label: 'Key ARN', kind: 'arn', csvOnly: true },
  { id: 'principal_arn', label: 'Principal ARN', kind: 'arn', csvOnly: true },
  { id: 'finding_id', label: 'Finding id', kind: 'code', csvOnly: true },
] as const satisfies DocTable['columns'];

/** Findings: a count per severity, the chart, the open ones, and the suppressed ones apart. */
export function findingsSection(period: ReportPeriod, findings: FindingsEvidence, intro: string): DocSection {
  return {
    id: 'findings',
    title: 'Findings',
    blocks: [
      { kind: 'paragraph', text: intro },
      {
        kind: 'facts',
        items: [...SEVERITIES].reverse().map((s) => ({
          label: s,
          value: formatNumber(findings.openBySeverity[s]),
          tone: findings.openBySeverity[s] === 0 ? 'neutral' : s === 'critical' || s === 'high' ? 'critical' : s === 'medium' ? 'attention' : 'neutral',
        })),
      },
      { kind: 'chart', chart: findingsChart('findings_daily', period, findings) },
      {
        kind: 'table',
        id: 'findings_open',
        title: 'Open findings, most severe first',
        columns: [...FINDING_COLUMNS, ...FINDING_ID_COLUMNS],
        rows: findingRows(findings.open, false),
        empty: 'No open findings occurred in the period.',
        displayLimit: 200,
      },
      {
        kind: 'table',
        id: 'findings_suppressed',
        title: 'Suppressed findings (kept, with the suppression that matched)',
        columns: [...FINDING_COLUMNS, { id: 'suppressed_by', label: 'Suppressed by', kind: 'text' }, ...FINDING_ID_COLUMNS],
        rows: findingRows(findings.suppressed, true),
        empty: 'No suppressed findings occurred in the period.',
        displayLimit: 200,
      },
    ],
  };
}

export function rotationTable(rotation: readonly RotationEntry[]): DocTable {
  return {
    kind: 'table',
    id: 'rotation',
    title: 'Rotation evidence per key',
    columns: [
      { id: 'key', label: 'Key', kind: 'code', secondary: 'key_arn' },
      { id: 'rotations', label: 'Rotations in period', kind: 'number' },
      { id: 'on_demand', label: 'On-demand requests', kind: 'number' },
      { id: 'last_rotated_at', label: 'Last rotation', kind: 'time' },
      { id: 'rotation_enabled', label: 'Automatic rotation', kind: 'text' },
      { id: 'last_change', label: 'Last enabled/disabled', kind: 'text' },
      { id: 'status', label: 'Reading', kind: 'status' },
      { id: 'key_arn', label: 'Key ARN', kind: 'arn', csvOnly: true },
    ],
    rows: rotation.map((r) => ({
      key: keyLabel(r),
      rotations: r.rotations,
      on_demand: r.onDemandRequests,
      last_rotated_at: r.lastRotatedAt,
      rotation_enabled: r.rotationEnabled === null ? 'no change stored' : r.rotationEnabled ? 'enabled' : 'disabled',
      last_change: r.lastStateChangeAt ? `${formatTime(r.lastStateChangeAt)} by ${principalName(r.lastStateChangeBy)}` : null,
      status: r.status,
      key_arn: r.keyArn ?? r.keyId,
    })),
    empty: 'No keys seen in the period.',
  };
}

export function pendingDeletionTable(pending: readonly PendingDeletionEntry[]): DocTable {
  return {
    kind: 'table',
    id: 'pending_deletion',
    title: 'Keys pending deletion at the end of the period',
    columns: [
      { id: 'key', label: 'Key', kind: 'code', secondary: 'key_arn' },
      { id: 'deletion_date', label: 'Deletion date', kind: 'time' },
      { id: 'status', label: 'Status', kind: 'status' },
      { id: 'scheduled_at', label: 'Scheduled', kind: 'time' },
      { id: 'scheduled_by', label: 'Scheduled by', kind: 'arn' },
      { id: 'window_days', label: 'Window (days)', kind: 'number' },
      { id: 'calls_after', label: 'Calls since', kind: 'number' },
      { id: 'failed_pending_deletion', label: 'Failed: pending deletion', kind: 'number' },
      { id: 'last_call_after', label: 'Last call since', kind: 'time' },
      { id: 'key_arn', label: 'Key ARN', kind: 'arn', csvOnly: true },
    ],
    rows: pending.map((p) => ({
      key: keyLabel(p),
      deletion_date: p.deletionDate,
      status: p.deletionDateSource === 'computed' ? `${p.status} (date computed from the window)` : p.status,
      scheduled_at: p.scheduledAt,
      scheduled_by: p.scheduledBy,
      window_days: p.pendingWindowDays,
      calls_after: p.callsAfterScheduling,
      failed_pending_deletion: p.failedPendingDeletion,
      last_call_after: p.lastCallAfterScheduling,
      key_arn: p.keyArn ?? p.keyId,
    })),
    empty: 'No key was pending deletion at the end of the period.',
  };
}

const ADMIN_CALL_COLUMNS: DocTable['columns'] = [
  { id: 'time', label: 'Time', kind: 'time' },
  { id: 'operation', label: 'Operation', kind: 'code' },
  { id: 'outcome', label: 'Outcome', kind: 'status' },
  { id: 'key', label: 'Key', kind: 'code' },
  { id: 'principal', label: 'By', kind: 'arn' },
  { id: 'account', label: 'Account', kind: 'code' },
  { id: 'via', label: 'Through service', kind: 'code' },
  { id: 'source_ip', label: 'Source IP', kind: 'code' },
  { id: 'principal_arn', label: 'Principal ARN', kind: 'arn', csvOnly: true },
  { id: 'key_arn', label: 'Key ARN', kind: 'arn', csvOnly: true },
  { id: 'event_id', label: 'Event id', kind: 'code', csvOnly: true },
];

function adminCallRows(actions: AdministrationEvidence['actions']): DocTable['rows'] {
  return actions.map((a) => ({
    time: a.time,
    operation: a.operation,
    outcome: a.outcome === 'success' ? 'success' : `failed: ${a.errorCode ?? 'error'}`,
    key: a.alias ?? (a.keyId || null),
    principal: a.principalArn ? principalName(a.principalArn) : a.invokedBy,
    account: a.accountId,
    via: a.invokedBy,
    source_ip: a.sourceIp,
    principal_arn: a.principalArn,
    key_arn: a.keyArn,
    event_id: a.eventId,
  }));
}

/**
 * Administrators (grouped: people for IAM Identity Center sessions, roles for automation) and every
 * administrative call; calls an AWS service made for a principal (EC2 and Auto Scaling creating grants
 * for EBS volumes) are listed apart, they are routine and many.
 */
export function administrationBlocks(admin: AdministrationEvidence): Block[] {
  const direct = admin.actions.filter((a) => a.invokedBy === null);
  const viaService = admin.actions.filter((a) => a.invokedBy !== null);
  return [
    {
      kind: 'table',
      id: 'administrators',
      title: 'Who administered keys',
      columns: [
        { id: 'principal', label: 'Principal', kind: 'arn' },
        { id: 'account', label: 'Account', kind: 'code' },
        { id: 'via', label: 'Through service', kind: 'code' },
        { id: 'actions', label: 'Calls', kind: 'number' },
        { id: 'failed', label: 'Failed', kind: 'number' },
        { id: 'keys', label: 'Keys', kind: 'number' },
        { id: 'operations', label: 'Operations', kind: 'text' },
        { id: 'first', label: 'First', kind: 'time' },
        { id: 'last', label: 'Last', kind: 'time' },
        { id: 'principal_arn', label: 'Principal ARN', kind: 'arn', csvOnly: true },
      ],
      rows: admin.byPrincipal.map((p) => ({
        principal: principalName(p.principal.startsWith('arn:') ? p.principal : null, p.principal),
        account: p.accountId,
        via: p.invokedBy,
        actions: p.actions,
        failed: p.failed,
        keys: p.keys,
        operations: p.operations.join(', '),
        first: p.first,
        last: p.last,
        principal_arn: p.principal.startsWith('arn:') ? p.principal : null,
      })),
      empty: 'No administrative calls in the period.',
    },
    {
      kind: 'table',
      id: 'administrative_actions',
      title: 'Administrative calls made directly, oldest first',
      columns: ADMIN_CALL_COLUMNS.filter((c) => c.id !== 'via'),
      rows: adminCallRows(direct),
      empty: 'No administrative calls made directly in the period.',
      displayLimit: 300,
    },
    {
      kind: 'table',
      id: 'administrative_actions_via_services',
      title: 'Administrative calls made through AWS services, oldest first',
      columns: ADMIN_CALL_COLUMNS,
      rows: adminCallRows(viaService),
      empty: 'No administrative calls made through AWS services in the period.',
      displayLimit: 25,
    },
  ];
}

export function crossAccountSummaryTable(rows: readonly CrossAccountSummaryRow[]): DocTable {
  return {
    kind: 'table',
    id: 'cross_account_by_account',
    title: 'Cross-account use by key and caller account',
    columns: [
      { id: 'key', label: 'Key', kind: 'code', secondary: 'key_arn' },
      { id: 'key_account', label: 'Key owner', kind: 'code' },
      { id: 'caller_account', label: 'Caller account', kind: 'code' },
      { id: 'access', label: 'Caller is', kind: 'status', secondary: 'suppressed_by' },
      { id: 'suppressed_by', label: 'Known by suppression', kind: 'text', csvOnly: true },
      { id: 'principals', label: 'Principals', kind: 'number' },
      { id: 'calls', label: 'Calls', kind: 'number' },
      { id: 'errors', label: 'Failed', kind: 'number' },
      { id: 'operations', label: 'Operations', kind: 'text' },
      { id: 'first_seen', label: 'First', kind: 'day' },
      { id: 'last_seen', label: 'Last', kind: 'day' },
      { id: 'key_arn', label: 'Key ARN', kind: 'arn', csvOnly: true },
    ],
    rows: rows.map((r) => ({
      key: keyLabel(r),
      key_account: r.keyAccountId,
      caller_account: r.callerAccountId,
      access: accessLabel(r),
      suppressed_by: r.suppressedBy,
      principals: r.principals,
      calls: r.calls,
      errors: r.errors,
      operations: r.operations.join(', '),
      first_seen: r.firstSeen,
      last_seen: r.lastSeen,
      key_arn: r.keyArn ?? r.keyId,
    })),
    empty: 'No cross-account use in the period.',
  };
}
