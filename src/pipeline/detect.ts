import type { Logger } from '@aws-lambda-powertools/logger';
import type { DuckDBValue } from '@duckdb/node-api';
import { keyEventsFilter, usageSummary } from '../analysis/usage-summary.js';
import type { KeytrailConfig } from '../config/schema.js';
import { DETECTORS } from '../detectors/index.js';
import { parseAwsDate } from '../detectors/lib/aws-dates.js';
import { createDetectionContext } from '../detectors/lib/context.js';
import { scheduledDeletion } from '../detectors/lib/scheduled-deletion.js';
import type { Detector, EventDetector, FindingDraft, HistoryFactName, HistoryFacts, QueryDetector } from '../detectors/types.js';
import { UsageError } from '../errors.js';
import { buildFinding, mergeRepeat } from '../findings/build.js';
import type { Finding } from '../findings/finding.js';
import { FindingStore } from '../findings/store.js';
import { matchSuppression } from '../findings/suppress.js';
import { logger as defaultLogger } from '../logger.js';
import { KMS_EVENT_SOURCE } from '../normalize/normalize.js';
import type { KmsEvent } from '../normalize/types.js';
import { rowToEvent } from '../store/columns.js';
import type { KeytrailDb } from '../store/database.js';

/**
 * Which events the event detectors evaluate: `eventIds`, else those matching `eventsIngestedSince`
 * and/or `eventsSince`, else every stored event (read in pages).
 */
export interface RunDetectionOptions {
  /** Evaluate events ingested at or after this time (a pipeline step after an ingest). */
  eventsIngestedSince?: string;
  /** Evaluate exactly these events (a Lambda batch). */
  eventIds?: readonly string[];
  /** Evaluate events that occurred at or after this time (`keytrail detect --since`). */
  eventsSince?: string;
  /** Window of the query detectors; default `detection.query_window_days` back from `now`. */
  window?: { from: string; to: string };
  now: Date;
  /** Which kinds of detector run (default both). The ingest Lambda runs event detectors only. */
  kinds?: readonly Detector['kind'][];
  /** Default: every detector in src/detectors/index.ts. */
  detectors?: readonly Detector[];
  logger?: Pick<Logger, 'error' | 'warn' | 'info' | 'debug'>;
}

export interface DetectionCounts {
  /** Events the event detectors looked at. */
  evaluated: number;
  /** Drafts produced (an event matched, or a query detector returned a row); repeats included. */
  matched: number;
  /** Findings stored new in this run. */
  created: number;
  /** Findings whose id was already stored (a repeat, a retry, a re-run): last_seen_at updated. */
  updated: number;
  /** Findings stored with `suppressed_by` (not in `findings`, never dropped). */
  suppressed: number;
  /** Drafts per detector id. */
  byDetector: Record<string, number>;
  /** Failures per detector id (match, describe, facts, SQL or an invalid finding); the rest still ran. */
  detectorErrors: Record<string, number>;
}

export interface SuppressedFinding {
  finding: Finding;
  suppressedBy: string;
}

export interface DetectionResult {
  /** Findings new or updated in this run, not suppressed, as stored (event ids merged). */
  findings: Finding[];
  /** Findings a configured suppression matched; stored with `suppressed_by`. */
  suppressed: SuppressedFinding[];
  counts: DetectionCounts;
}

/** Events per page when reading the selection back from the store (constant memory for any size). */
const PAGE_SIZE = 2_000;
const IDS_PER_QUERY = 500;

/**
 * Run the detectors: event detectors over the selected stored events (facts they `need` fetched from
 * the store per matching event), query detectors over the window. Drafts become findings (ids
 * deterministic, so repeats and re-runs collapse), suppressions are applied and recorded, and every
 * finding is upserted into the `findings` table. A detector that throws is logged and counted; it
 * never stops the others.
 */
export async function runDetection(db: KeytrailDb, config: KeytrailConfig, options: RunDetectionOptions): Promise<DetectionResult> {
  const log = options.logger ?? defaultLogger;
  const detectors = options.detectors ?? DETECTORS;
  const kinds = new Set(options.kinds ?? ['event', 'query']);
  const ctx = createDetectionContext(config, { aliasTargets: await loadAliasTargets(db, config) });
  const counts: DetectionCounts = { evaluated: 0, matched: 0, created: 0, updated: 0, suppressed: 0, byDetector: {}, detectorErrors: {} };
  const findingsById = new Map<string, Finding>();
  const failed = (detector: Detector, error: unknown, eventId?: string) => {
    counts.detectorErrors[detector.id] = (counts.detectorErrors[detector.id] ?? 0) + 1;
    log.error('detector failed', { detectorId: detector.id, eventId, error: error instanceof Error ? error.message : String(error) });
  };
  const add = (detector: Detector, finding: Finding) => {
    counts.matched += 1;
    counts.byDetector[detector.id] = (counts.byDetector[detector.id] ?? 0) + 1;
    // Events come in time order, so the finding kept is the earliest one's.
    const earlier = findingsById.get(finding.finding_id);
    findingsById.set(finding.finding_id, earlier ? mergeRepeat(earlier, finding) : finding);
  };

  const eventDetectors = kinds.has('event') ? detectors.filter((d): d is EventDetector => d.kind === 'event') : [];
  if (eventDetectors.length > 0) {
    const facts = new HistoryFactStore(db, config);
    for await (const event of selectEvents(db, options)) {
      counts.evaluated += 1;
      for (const detector of eventDetectors) {
        try {
          if (!detector.match(event, ctx)) continue;
          const draft = detector.describe(event, ctx, await facts.forEvent(event, detector.needs ?? []));
          add(detector, buildFinding(draft, detector, config));
        } catch (error) {
          failed(detector, error, event.eventId);
        }
      }
    }
  }

  if (kinds.has('query')) {
    const window = options.window ?? defaultWindow(config, options.now);
    for (const detector of detectors.filter((d): d is QueryDetector => d.kind === 'query')) {
      let drafts: FindingDraft[];
      try {
        drafts = detector.toDrafts(await db.all(detector.sql, detector.params(ctx, window)), ctx);
      } catch (error) {
        failed(detector, error);
        continue;
      }
      // One invalid draft costs that finding, not the detector's others.
      for (const draft of drafts) {
        try {
          add(detector, buildFinding(draft, detector, config));
        } catch (error) {
          failed(detector, error);
        }
      }
    }
  }

  const toStore = [...findingsById.values()].map((finding) => {
    const { match, expired } = matchSuppression(finding, config.suppressions, options.now);
    for (const e of expired) log.warn('suppression expired', { suppression: e.label, findingId: finding.finding_id, expires: e.suppression.expires });
    return { finding, suppressedBy: match?.label ?? null };
  });
  const outcomes = await new FindingStore(db).upsert(toStore, options.now);

  const findings: Finding[] = [];
  const suppressed: SuppressedFinding[] = [];
  for (const { stored, created } of outcomes) {
    if (created) counts.created += 1;
    else counts.updated += 1;
    if (stored.suppressedBy === null) findings.push(stored.finding);
    else suppressed.push({ finding: stored.finding, suppressedBy: stored.suppressedBy });
  }
  counts.suppressed = suppressed.length;
  log.info('detection finished', { ...counts });
  return { findings, suppressed, counts };
}

/**
 * Whether a finding goes out to alert sinks: its detector is stable and not evidence-only
 * (`alert: false`, such as KMS.KeyRotated). Pass as `shouldSend` to `publishFindings`.
 */
export function isSendable(finding: Finding, detectors: readonly Detector[] = DETECTORS): boolean {
  const detector = detectors.find((d) => d.id === finding.detector_id);
  if (!detector) return false;
  return detector.status !== 'experimental' && detector.alert !== false;
}

/** The query detectors' default window: `detection.query_window_days` back from `now`. */
export function defaultWindow(config: KeytrailConfig, now: Date): { from: string; to: string } {
  return { from: new Date(now.getTime() - config.detection.query_window_days * 86_400_000).toISOString(), to: now.toISOString() };
}

/** The selected events, read back from the store in pages, in event-time order. */
async function* selectEvents(db: KeytrailDb, options: RunDetectionOptions): AsyncGenerator<KmsEvent> {
  if (options.eventIds !== undefined) {
    const ids = [...new Set(options.eventIds)];
    for (let start = 0; start < ids.length; start += IDS_PER_QUERY) {
      const chunk = ids.slice(start, start + IDS_PER_QUERY);
      const placeholders = chunk.map((_, i) => `$${i + 1}`).join(', ');
      const rows = await db.all(`SELECT * FROM kms_events WHERE event_id IN (${placeholders}) ORDER BY event_time, event_id`, chunk);
      for (const row of rows) yield rowToEvent(row);
    }
    return;
  }
  const conditions: string[] = [];
  const params: Record<string, DuckDBValue> = {};
  if (options.eventsIngestedSince !== undefined) {
    conditions.push('ingested_at >= $ingestedSince::TIMESTAMP');
    params['ingestedSince'] = isoOrThrow(options.eventsIngestedSince, 'eventsIngestedSince');
  }
  if (options.eventsSince !== undefined) {
    conditions.push('event_time >= $since::TIMESTAMP');
    params['since'] = isoOrThrow(options.eventsSince, 'since');
  }
  let after: { time: string; id: string } | null = null;
  for (;;) {
    const page = [...conditions];
    const pageParams: Record<string, DuckDBValue> = { ...params };
    if (after) {
      page.push('(event_time > $afterTime::TIMESTAMP OR (event_time = $afterTime::TIMESTAMP AND event_id > $afterId))');
      pageParams['afterTime'] = after.time;
      pageParams['afterId'] = after.id;
    }
    const where = page.length === 0 ? '' : ` WHERE ${page.join(' AND ')}`;
    const rows = await db.all(`SELECT * FROM kms_events${where} ORDER BY event_time, event_id LIMIT ${PAGE_SIZE}`, pageParams);
    for (const row of rows) {
      const event = rowToEvent(row);
      after = { time: event.eventTime, id: event.eventId };
      yield event;
    }
    if (rows.length < PAGE_SIZE) return;
  }
}

/**
 * History facts detectors ask for, fetched from the store (bound parameters only) for one event at a
 * time and only for the facts its matching detector needs.
 */
class HistoryFactStore {
  /** Facts of the event being evaluated, shared by the detectors that match it. */
  private current: { eventId: string; facts: HistoryFacts } | null = null;

  constructor(
    private readonly db: KeytrailDb,
    private readonly config: KeytrailConfig,
  ) {}

  async forEvent(event: KmsEvent, needs: readonly HistoryFactName[]): Promise<HistoryFacts> {
    if (this.current?.eventId !== event.eventId) this.current = { eventId: event.eventId, facts: {} };
    const facts = this.current.facts;
    for (const need of needs) {
      if (need in facts) continue;
      switch (need) {
        case 'usageSummary':
          facts.usageSummary = await this.usageSummary(event);
          break;
        case 'previousKeyPolicy':
          facts.previousKeyPolicy = await this.previousKeyPolicy(event);
          break;
        case 'deletionDate':
          facts.deletionDate = await this.deletionDate(event);
          break;
        case 'accountSeenBefore':
          facts.accountSeenBefore = await this.accountSeenBefore(event);
          break;
      }
    }
    return facts;
  }

  private async usageSummary(event: KmsEvent): Promise<HistoryFacts['usageSummary']> {
    const key = event.keyArn ?? event.keyId;
    if (key === null) return null;
    return usageSummary(this.db, key, { before: event.eventTime, days: this.config.detection.lookback_days, config: this.config });
  }

  /** requestParameters.policy of the last successful PutKeyPolicy/CreateKey of the key strictly before the event. */
  private async previousKeyPolicy(event: KmsEvent): Promise<string | null> {
    const key = eventKeyFilter(event);
    if (key === null) return null;
    const rows = await this.db.all(
      `SELECT json_extract_string(request_parameters, '$.policy') AS policy FROM kms_events
       WHERE event_source = $source AND event_name IN ('PutKeyPolicy', 'CreateKey') AND outcome = 'success' AND (${key.sql})
         AND event_time < $time::TIMESTAMP AND event_id <> $eventId
       ORDER BY event_time DESC, event_id DESC LIMIT 1`,
      { ...key.params, source: KMS_EVENT_SOURCE, time: event.eventTime, eventId: event.eventId },
    );
    const policy = rows[0]?.['policy'];
    return typeof policy === 'string' ? policy : null;
  }

  /** Deletion date of the last successful ScheduleKeyDeletion of the key at or before the event. */
  private async deletionDate(event: KmsEvent): Promise<string | null> {
    const key = eventKeyFilter(event);
    if (key === null) return null;
    const rows = await this.db.all(
      `SELECT request_parameters, response_elements FROM kms_events
       WHERE event_source = $source AND event_name = 'ScheduleKeyDeletion' AND outcome = 'success' AND (${key.sql})
         AND event_time <= $time::TIMESTAMP
       ORDER BY event_time DESC, event_id DESC LIMIT 1`,
      { ...key.params, source: KMS_EVENT_SOURCE, time: event.eventTime },
    );
    const row = rows[0];
    if (!row) return null;
    return scheduledDeletion({
      requestParameters: jsonText(row['request_parameters']),
      responseElements: jsonText(row['response_elements']),
    }).deletionDate;
  }

  /** Whether any event on the key by the caller's account is stored from before this event. */
  private async accountSeenBefore(event: KmsEvent): Promise<boolean> {
    const key = eventKeyFilter(event);
    if (key === null || event.principalAccountId === null) return false;
    const rows = await this.db.all(
      `SELECT 1 AS seen FROM kms_events
       WHERE (${key.sql}) AND principal_account_id = $account AND event_time < $time::TIMESTAMP AND event_id <> $eventId LIMIT 1`,
      { ...key.params, account: event.principalAccountId, time: event.eventTime, eventId: event.eventId },
    );
    return rows.length > 0;
  }
}

function eventKeyFilter(event: KmsEvent): ReturnType<typeof keyEventsFilter> | null {
  const key = event.keyArn ?? event.keyId;
  return key === null ? null : keyEventsFilter(key);
}

/** Declared aliases → the key each last pointed to (successful CreateAlias/UpdateAlias). */
async function loadAliasTargets(db: KeytrailDb, config: KeytrailConfig): Promise<Map<string, string>> {
  const aliases = [...new Set(config.keys.flatMap((k) => [k.alias, k.key_arn, k.key_id]).filter((a): a is string => a?.startsWith('alias/') ?? false))];
  const targets = new Map<string, string>();
  if (aliases.length === 0) return targets;
  const placeholders = aliases.map((_, i) => `$${i + 1}`).join(', ');
  const rows = await db.all(
    `SELECT alias_name, coalesce(key_arn, key_id) AS target FROM kms_events
     WHERE event_name IN ('CreateAlias', 'UpdateAlias') AND outcome = 'success' AND alias_name IN (${placeholders})
       AND coalesce(key_arn, key_id) IS NOT NULL
     ORDER BY event_time, event_id`,
    aliases,
  );
  for (const row of rows) targets.set(String(row['alias_name']), String(row['target']));
  return targets;
}

/** JSON columns come back as text; keep them as text for the helpers that parse them. */
function jsonText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function isoOrThrow(value: string, name: string): string {
  const iso = parseAwsDate(value);
  if (iso === null) throw new UsageError(`${name}: not an ISO-8601 date or timestamp: "${value}"`);
  return iso;
}
