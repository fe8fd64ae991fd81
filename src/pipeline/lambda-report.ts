import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PublishCommand } from '@aws-sdk/client-sns';
import { SEVERITIES, severityRank, type Severity } from '../findings/finding.js';
import type { KeytrailDb } from '../store/database.js';
import { runDetection } from './detect.js';
import { allAccountsScope, type HistoryLoad } from './lambda-history.js';
import { DeliveryIncompleteError, type PublishAttempt } from './lambda-publish.js';
import type { LambdaRuntime } from './lambda-runtime.js';

/** Key management calls a compliance owner wants listed one by one. */
const ADMINISTRATIVE_OPERATIONS = [
  'CreateKey',
  'ScheduleKeyDeletion',
  'CancelKeyDeletion',
  'DisableKey',
  'EnableKey',
  'PutKeyPolicy',
  'CreateGrant',
  'RevokeGrant',
  'RetireGrant',
  'EnableKeyRotation',
  'DisableKeyRotation',
  'RotateKeyOnDemand',
  'ImportKeyMaterial',
  'DeleteImportedKeyMaterial',
  'ReplicateKey',
  'UpdatePrimaryRegion',
  'CreateAlias',
  'UpdateAlias',
  'DeleteAlias',
] as const;
/** Rows of the administrative-call list kept in the report. */
const MAX_LISTED = 500;

/** The daily report: written as JSON and Markdown under `reports/daily/`, summarised on SNS. */
export interface DailyReport {
  reportVersion: '1';
  date: string;
  generatedAt: string;
  totals: { events: number; errors: number; keys: number; principals: number; crossAccountCalls: number; accounts: number };
  byAccount: { accountId: string; events: number; errors: number }[];
  byOperation: { operation: string; calls: number }[];
  administrativeCalls: {
    eventTime: string;
    operation: string;
    outcome: string;
    keyArn: string | null;
    principalArn: string | null;
    accountId: string | null;
  }[];
  lifecycleEvents: { eventTime: string; detailType: string; keyArn: string | null }[];
  /** Findings recomputed from the day's events (ids equal those alerted): count per detector and severity. */
  findings: { total: number; bySeverity: Record<string, number>; byDetector: Record<string, number>; suppressed: number };
  /** How much of the lake was read. */
  lake: { partsListed: number; partsLoaded: number };
}

export interface DailyReportResult {
  date: string;
  jsonKey: string;
  markdownKey: string;
  /** Whether the SNS summary went out in this run (false: no topic, or an earlier run sent it). */
  summarySent: boolean;
  report: DailyReport;
}

/**
 * The daily compliance report for one UTC day: load that day's partitions of every account from the
 * lake, summarise the events, recompute the day's findings, write `reports/daily/<date>.json` and
 * `.md` (PUTs that overwrite, so a rerun is harmless), and publish a short SNS summary once (the
 * findings ledger holds `report-daily-<date>` like a finding).
 */
export async function runDailyReport(runtime: LambdaRuntime, date: string, attempt: PublishAttempt, now: Date): Promise<DailyReportResult> {
  const { config, database, history, settings, s3, logger } = runtime;
  const db = await database.get();
  const loaded: HistoryLoad = await history.ensure(db, database.generation, await allAccountsScope(runtime.lake, date, date));

  const dayStart = `${date}T00:00:00.000Z`;
  const dayEnd = new Date(Date.parse(dayStart) + 86_400_000).toISOString();
  const idRows = await db.all('SELECT event_id FROM kms_events WHERE event_date = $date::DATE', { date });
  const detection = await runDetection(db, config, {
    eventIds: idRows.map((r) => String(r['event_id'])),
    window: { from: dayStart, to: dayEnd },
    now,
    logger,
  });
  const bySeverity: Record<string, number> = {};
  const byDetector: Record<string, number> = {};
  for (const finding of detection.findings) {
    bySeverity[finding.severity] = (bySeverity[finding.severity] ?? 0) + 1;
    byDetector[finding.detector_id] = (byDetector[finding.detector_id] ?? 0) + 1;
  }

  const report: DailyReport = {
    reportVersion: '1',
    date,
    generatedAt: now.toISOString(),
    ...(await summarise(db, date)),
    findings: { total: detection.findings.length, bySeverity, byDetector, suppressed: detection.suppressed.length },
    lake: { partsListed: loaded.listed, partsLoaded: loaded.loaded },
  };

  const base = `${settings.reportsPrefix}daily/${date}`;
  const jsonKey = `${base}.json`;
  const markdownKey = `${base}.md`;
  await Promise.all([
    s3.send(new PutObjectCommand({ Bucket: settings.lakeBucket, Key: jsonKey, Body: `${JSON.stringify(report, null, 2)}\n`, ContentType: 'application/json' })),
    s3.send(new PutObjectCommand({ Bucket: settings.lakeBucket, Key: markdownKey, Body: renderMarkdown(report), ContentType: 'text/markdown; charset=utf-8' })),
  ]);

  const summarySent = await publishSummary(runtime, report, `s3://${settings.lakeBucket}/${markdownKey}`, attempt);
  logger.info('daily report written', { date, jsonKey, events: report.totals.events, findings: report.findings.total, summarySent });
  return { date, jsonKey, markdownKey, summarySent, report };
}

async function summarise(db: KeytrailDb, date: string): Promise<Pick<DailyReport, 'totals' | 'byAccount' | 'byOperation' | 'administrativeCalls' | 'lifecycleEvents'>> {
  const day = { date };
  const [totals] = await db.all(
    `SELECT count(*)::INTEGER AS events, count(*) FILTER (WHERE outcome = 'error')::INTEGER AS errors,
            count(DISTINCT coalesce(key_arn, key_id))::INTEGER AS keys, count(DISTINCT principal_arn)::INTEGER AS principals,
            count(*) FILTER (WHERE is_cross_account)::INTEGER AS cross_account, count(DISTINCT recipient_account_id)::INTEGER AS accounts
     FROM kms_events WHERE event_date = $date::DATE`,
    day,
  );
  const byAccount = await db.all(
    `SELECT coalesce(recipient_account_id, 'unknown') AS account_id, count(*)::INTEGER AS events, count(*) FILTER (WHERE outcome = 'error')::INTEGER AS errors
     FROM kms_events WHERE event_date = $date::DATE GROUP BY ALL ORDER BY events DESC, account_id`,
    day,
  );
  const byOperation = await db.all(
    `SELECT event_name, count(*)::INTEGER AS calls FROM kms_events WHERE event_date = $date::DATE AND event_kind <> 'lifecycle'
     GROUP BY ALL ORDER BY calls DESC, event_name`,
    day,
  );
  const operations = Object.fromEntries(ADMINISTRATIVE_OPERATIONS.map((op, i) => [`op${i}`, op]));
  const administrative = await db.all(
    `SELECT strftime(event_time, '%Y-%m-%dT%H:%M:%SZ') AS event_time, event_name, outcome, coalesce(key_arn, key_id) AS key_arn, principal_arn,
            principal_account_id
     FROM kms_events WHERE event_date = $date::DATE AND event_kind <> 'lifecycle'
       AND event_name IN (${ADMINISTRATIVE_OPERATIONS.map((_, i) => `$op${i}`).join(', ')})
     ORDER BY event_time, event_id LIMIT ${MAX_LISTED}`,
    { ...day, ...operations },
  );
  const lifecycle = await db.all(
    `SELECT strftime(event_time, '%Y-%m-%dT%H:%M:%SZ') AS event_time, event_name, coalesce(key_arn, key_id) AS key_arn
     FROM kms_events WHERE event_date = $date::DATE AND event_kind = 'lifecycle' ORDER BY event_time, event_id LIMIT ${MAX_LISTED}`,
    day,
  );
  const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
  return {
    totals: {
      events: Number(totals?.['events'] ?? 0),
      errors: Number(totals?.['errors'] ?? 0),
      keys: Number(totals?.['keys'] ?? 0),
      principals: Number(totals?.['principals'] ?? 0),
      crossAccountCalls: Number(totals?.['cross_account'] ?? 0),
      accounts: Number(totals?.['accounts'] ?? 0),
    },
    byAccount: byAccount.map((r) => ({ accountId: String(r['account_id']), events: Number(r['events']), errors: Number(r['errors']) })),
    byOperation: byOperation.map((r) => ({ operation: String(r['event_name']), calls: Number(r['calls']) })),
    administrativeCalls: administrative.map((r) => ({
      eventTime: String(r['event_time']),
      operation: String(r['event_name']),
      outcome: String(r['outcome']),
      keyArn: text(r['key_arn']),
      principalArn: text(r['principal_arn']),
      accountId: text(r['principal_account_id']),
    })),
    lifecycleEvents: lifecycle.map((r) => ({ eventTime: String(r['event_time']), detailType: String(r['event_name']), keyArn: text(r['key_arn']) })),
  };
}

/** The report as Markdown, for people. */
export function renderMarkdown(report: DailyReport): string {
  const lines = [
    `# keytrail daily report — ${report.date}`,
    '',
    `Generated ${report.generatedAt} from ${report.lake.partsListed} lake part(s).`,
    '',
    '## Totals',
    '',
    '| events | errors | keys | principals | cross-account calls | accounts |',
    '| --- | --- | --- | --- | --- | --- |',
    `| ${report.totals.events} | ${report.totals.errors} | ${report.totals.keys} | ${report.totals.principals} | ${report.totals.crossAccountCalls} | ${report.totals.accounts} |`,
    '',
    '## Findings',
    '',
    `${report.findings.total} finding(s)${report.findings.suppressed > 0 ? `, ${report.findings.suppressed} suppressed` : ''}.`,
    '',
  ];
  if (report.findings.total > 0) {
    lines.push('| severity | findings |', '| --- | --- |');
    for (const severity of [...SEVERITIES].reverse()) {
      const n = report.findings.bySeverity[severity];
      if (n) lines.push(`| ${severity} | ${n} |`);
    }
    lines.push('', '| detector | findings |', '| --- | --- |');
    for (const [detector, n] of Object.entries(report.findings.byDetector).sort()) lines.push(`| ${detector} | ${n} |`);
    lines.push('');
  }
  lines.push('## Administrative calls', '');
  if (report.administrativeCalls.length === 0) lines.push('None.', '');
  else {
    lines.push('| time | operation | outcome | key | principal |', '| --- | --- | --- | --- | --- |');
    for (const c of report.administrativeCalls) lines.push(`| ${c.eventTime} | ${c.operation} | ${c.outcome} | ${cell(c.keyArn)} | ${cell(c.principalArn)} |`);
    lines.push('');
  }
  if (report.lifecycleEvents.length > 0) {
    lines.push('## KMS lifecycle events', '', '| time | event | key |', '| --- | --- | --- |');
    for (const e of report.lifecycleEvents) lines.push(`| ${e.eventTime} | ${e.detailType} | ${cell(e.keyArn)} |`);
    lines.push('');
  }
  lines.push('## Calls by account', '', '| account | events | errors |', '| --- | --- | --- |');
  for (const a of report.byAccount) lines.push(`| ${a.accountId} | ${a.events} | ${a.errors} |`);
  lines.push('', '## Calls by operation', '', '| operation | calls |', '| --- | --- |');
  for (const o of report.byOperation) lines.push(`| ${o.operation} | ${o.calls} |`);
  return `${lines.join('\n')}\n`;
}

/** Publish the one-paragraph SNS summary once per day (ledger id `report-daily-<date>`). */
async function publishSummary(runtime: LambdaRuntime, report: DailyReport, location: string, attempt: PublishAttempt): Promise<boolean> {
  const topicArn = runtime.config.alerts.sns_topic_arn;
  if (!runtime.sns || !topicArn) return false;
  const sink = `sns:${topicArn}`;
  const id = `report-daily-${report.date}`;
  const session = runtime.ledger.session(attempt);
  try {
    const [claimed] = await session.unpublished([id], sink);
    if (claimed === undefined) {
      if (session.contended.length > 0) throw new DeliveryIncompleteError(`daily report summary ${report.date}: held by another attempt; the next run sends it`);
      return false;
    }
    const highest = Object.keys(report.findings.bySeverity)
      .filter((s): s is Severity => (SEVERITIES as readonly string[]).includes(s))
      .sort((a, b) => severityRank(b) - severityRank(a))[0];
    const counts = [...SEVERITIES]
      .reverse()
      .flatMap((s) => (report.findings.bySeverity[s] ? [`${report.findings.bySeverity[s]} ${s}`] : []))
      .join(', ');
    const subject = `keytrail daily report ${report.date}: ${report.findings.total} finding(s)`;
    const message = [
      `keytrail daily report for ${report.date} (UTC).`,
      '',
      `${report.totals.events} KMS events in ${report.totals.accounts} account(s), ${report.totals.errors} failed; ${report.totals.crossAccountCalls} cross-account call(s).`,
      `${report.findings.total} finding(s)${counts ? ` (${counts})` : ''}; ${report.administrativeCalls.length} administrative call(s); ${report.lifecycleEvents.length} lifecycle event(s).`,
      '',
      `Full report: ${location} (and .json beside it).`,
    ].join('\n');
    const response = await runtime.sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: subject.slice(0, 99),
        Message: message,
        MessageAttributes: {
          severity: { DataType: 'String', StringValue: highest ?? 'info' },
          report: { DataType: 'String', StringValue: 'daily' },
        },
      }),
    );
    await session.markAllPublished(sink, [{ findingId: id, messageId: response.MessageId ?? null }]);
    return true;
  } finally {
    await session.releaseUnsent();
  }
}

function cell(value: string | null): string {
  return value === null ? '' : value.replace(/\|/g, '\\|');
}
