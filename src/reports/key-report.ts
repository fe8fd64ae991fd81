import { keyRowFilter } from '../analysis/key-resolve.js';
import { pastUsage } from '../analysis/past-usage.js';
import type { KeytrailDb } from '../store/database.js';
import type { ReportOptions } from './compliance.js';
import { administration, findingsEvidence, loggingChanges, pendingDeletions, rotationEvidence } from './evidence.js';
import { loadKeyLabels } from './labels.js';
import { resolvePeriod } from './period.js';
import type { KeyReport, KeyTimeline } from './types.js';

export interface KeyReportOptions extends ReportOptions {
  /** Most recent events listed in the timeline (default 500); the report says how many there were. */
  timelineLimit?: number;
}

const DEFAULT_TIMELINE_LIMIT = 500;

/**
 * One key's history over the period: past usage and lifecycle (`pastUsage`), rotation, a pending
 * deletion, administrative calls, the events timeline and the findings on it.
 *
 * @throws UnknownKeyError when no stored event names the key.
 */
export async function buildKeyReport(db: KeytrailDb, keyRef: string, options: KeyReportOptions): Promise<KeyReport> {
  const now = options.now ?? new Date();
  const period = await resolvePeriod(db, options, now);
  const usage = await pastUsage(db, keyRef, { days: period.days, until: period.lastDay, config: options.config });
  const labels = await loadKeyLabels(db, options.config);
  const key = { keyArn: usage.key.arn, keyId: usage.key.id, alias: usage.key.alias?.name ?? labels.alias(usage.key.arn, usage.key.id) };
  const [rotation] = await rotationEvidence(db, period, [
    {
      ...key,
      importedMaterial: usage.lifecycle.entries.some((e) => e.kind === 'key-material-imported'),
      deleted: usage.lifecycle.lastKnownState === 'deleted',
    },
  ]);
  const [pending] = await pendingDeletions(db, period, labels, key);
  return {
    reportVersion: 1,
    kind: 'key',
    generatedAt: now.toISOString(),
    period,
    loggingChanges: await loggingChanges(db, period),
    usage,
    rotation: rotation ?? null,
    pendingDeletion: pending ?? null,
    administration: await administration(db, period, labels, key.keyArn ?? key.keyId),
    timeline: await keyTimeline(db, key, period, options.timelineLimit ?? DEFAULT_TIMELINE_LIMIT),
    findings: await findingsEvidence(db, period, labels, ({ finding }) =>
      key.keyArn !== null ? finding.key_arn === key.keyArn : finding.key_arn === null && finding.context['keyId'] === key.keyId,
    ),
  };
}

/** The key's events in the period (ReEncrypt into it included; a call logged in two accounts once), the latest `limit`. */
async function keyTimeline(db: KeytrailDb, key: { keyArn: string | null; keyId: string }, period: { from: string; to: string }, limit: number): Promise<KeyTimeline> {
  const filter = keyRowFilter(key);
  const rows = await db.all(
    // Two scans, not an OR: each condition prunes row groups on its own column (see compactEvents).
    `WITH events AS (
       SELECT * FROM (
         SELECT * FROM kms_events WHERE ${filter.direct} AND event_time >= $from::TIMESTAMP AND event_time < $to::TIMESTAMP
         UNION ALL
         SELECT * FROM kms_events WHERE ${filter.destination} AND event_time >= $from::TIMESTAMP AND event_time < $to::TIMESTAMP
       )
       QUALIFY row_number() OVER (PARTITION BY coalesce(shared_event_id, event_id) ORDER BY event_id) = 1
     )
     SELECT strftime(event_time, '%Y-%m-%dT%H:%M:%S.%gZ') AS time, event_name, event_kind, outcome, error_code, principal_arn,
            principal_account_id, invoked_by, via_service, source_ip, CAST(encryption_context AS VARCHAR) AS encryption_context,
            event_id, count(*) OVER ()::INTEGER AS total
     FROM events ORDER BY event_time DESC, event_id DESC LIMIT $limit`,
    { ...filter.params, from: period.from, to: period.to, limit },
  );
  const events = rows.reverse().map((r) => ({
    time: String(r['time']),
    event: String(r['event_name']),
    kind: String(r['event_kind']),
    outcome: String(r['outcome']),
    errorCode: r['error_code'] == null ? null : String(r['error_code']),
    principalArn: r['principal_arn'] == null ? null : String(r['principal_arn']),
    accountId: r['principal_account_id'] == null ? null : String(r['principal_account_id']),
    invokedBy: r['invoked_by'] == null ? null : String(r['invoked_by']),
    viaService: r['via_service'] == null ? null : String(r['via_service']),
    sourceIp: r['source_ip'] == null ? null : String(r['source_ip']),
    encryptionContext: r['encryption_context'] == null ? null : String(r['encryption_context']),
    eventId: String(r['event_id']),
  }));
  return { events, total: Number(rows[0]?.['total'] ?? 0), shown: events.length };
}
