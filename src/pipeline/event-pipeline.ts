import type { Logger } from '@aws-lambda-powertools/logger';
import type { KeytrailConfig } from '../config/schema.js';
import type { Detector } from '../detectors/types.js';
import type { Finding } from '../findings/finding.js';
import type { KmsEvent } from '../normalize/types.js';
import type { KeytrailDb } from '../store/database.js';
import { EventStore } from '../store/event-store.js';
import type { S3Lake, WrittenPart } from '../store/s3-lake.js';
import { runDetection, type DetectionCounts } from './detect.js';
import { HistoryPlanner, type HistoryLoad, type HistoryScope, type LakeHistory } from './lambda-history.js';
import type { FindingPublisher, PublishAttempt, PublishOutcome } from './lambda-publish.js';
import type { ContainerDatabase } from './lambda-runtime.js';

/** What the pipeline needs from the container (a `LambdaRuntime` fits). */
export interface EventPipelineDeps {
  config: KeytrailConfig;
  database: ContainerDatabase;
  lake: S3Lake;
  history: LakeHistory;
  publisher: FindingPublisher;
  logger: Logger;
  /** Default: every detector. */
  detectors?: readonly Detector[];
  now?: () => Date;
}

/** Events stored per insert: bounds memory for batches of large trail files. */
const INSERT_CHUNK = 5_000;

/**
 * The Lambda ingest pipeline, as named steps over one batch:
 *
 *  1. **stage** — normalized events of each source (an SQS record) are stored in the container's
 *     DuckDB as they arrive (idempotent on event_id), and the events whose detectors need history
 *     widen the batch's history scope;
 *  2. **history** — the lake partitions in that scope not yet in this container are downloaded
 *     (bounded /tmp cache) and loaded, so a fresh container knows the past;
 *  3. **lake** — the batch's events are written as one Parquet part per partition, one PUT each,
 *     named from their event ids (a retry overwrites, never duplicates);
 *  4. **detect** — the event detectors over exactly the batch's events;
 *  5. **publish** — findings through the S3 ledger, each once per sink across retries and containers.
 *
 * Steps 2–3 failing fails the whole batch (the caller throws, SQS retries every record). Step 5
 * failing fails only the sources whose events are behind an undelivered finding.
 */
export interface EventPipeline {
  startBatch(attempt: PublishAttempt): PipelineBatch;
}

export interface PipelineBatch {
  /** `ingested_at` of the batch's rows. */
  readonly ingestedAt: string;
  /** Stage one source's events (an SQS record may carry none: a skipped or non-KMS input). */
  add(sourceId: string, events: readonly KmsEvent[]): Promise<void>;
  /** Run history → lake → detect → publish over everything staged. */
  finish(): Promise<BatchResult>;
}

export interface BatchResult {
  /** Sources (SQS message ids) to report as failed: an undelivered finding has their events. */
  failedSourceIds: string[];
  counts: BatchCounts;
  findings: Finding[];
}

export interface BatchCounts {
  sources: number;
  events: number;
  inserted: number;
  duplicates: number;
  conflicts: number;
  history: HistoryLoad | null;
  lakeParts: number;
  detection: DetectionCounts | null;
  published: PublishOutcome['summary'];
  undelivered: number;
  /** Milliseconds per step: staging (normalized events into DuckDB), history, lake, detect, publish. */
  timings: { storeMs: number; historyMs: number; lakeMs: number; detectMs: number; publishMs: number };
}

export function createEventPipeline(deps: EventPipelineDeps): EventPipeline {
  const planner = new HistoryPlanner(deps.config, deps.detectors);
  return { startBatch: (attempt) => new Batch(deps, planner, attempt) };
}

class Batch implements PipelineBatch {
  /** event id → sources that carried it (one record can be redelivered inside another batch). */
  private readonly sourcesByEvent = new Map<string, string[]>();
  private readonly sources = new Set<string>();
  private readonly scope: HistoryScope = new Map();
  private pending: KmsEvent[] = [];
  private db: KeytrailDb | null = null;
  private store: EventStore | null = null;
  private readonly counts: BatchCounts = {
    sources: 0,
    events: 0,
    inserted: 0,
    duplicates: 0,
    conflicts: 0,
    history: null,
    lakeParts: 0,
    detection: null,
    published: null,
    undelivered: 0,
    timings: { storeMs: 0, historyMs: 0, lakeMs: 0, detectMs: 0, publishMs: 0 },
  };
  private started = false;
  readonly ingestedAt: string;

  constructor(
    private readonly deps: EventPipelineDeps,
    private readonly planner: HistoryPlanner,
    private readonly attempt: PublishAttempt,
  ) {
    this.ingestedAt = (deps.now?.() ?? new Date()).toISOString();
  }

  async add(sourceId: string, events: readonly KmsEvent[]): Promise<void> {
    await this.open();
    this.sources.add(sourceId);
    for (const event of events) {
      const carriers = this.sourcesByEvent.get(event.eventId);
      if (carriers) {
        if (!carriers.includes(sourceId)) carriers.push(sourceId);
      } else {
        this.sourcesByEvent.set(event.eventId, [sourceId]);
      }
      if (this.planner.needsHistory(event)) this.planner.addTo(this.scope, event);
      this.pending.push(event);
    }
    this.counts.events += events.length;
    if (this.pending.length >= INSERT_CHUNK) await this.flush();
  }

  async finish(): Promise<BatchResult> {
    await this.open();
    await this.flush();
    const db = await this.openDb();
    const { database, history, lake, logger } = this.deps;
    const timings = this.counts.timings;
    this.counts.sources = this.sources.size;
    const eventIds = [...this.sourcesByEvent.keys()];

    let t = performance.now();
    if (this.scope.size > 0) this.counts.history = await history.ensure(db, database.generation, this.scope);
    timings.historyMs = elapsed(t);
    t = performance.now();
    const parts: WrittenPart[] = await lake.writeEvents(db, eventIds);
    history.markLoaded(database.generation, parts);
    this.counts.lakeParts = parts.length;
    timings.lakeMs = elapsed(t);

    t = performance.now();
    let findings: Finding[] = [];
    if (eventIds.length > 0) {
      const detection = await runDetection(db, this.deps.config, {
        eventIds,
        kinds: ['event'],
        now: this.deps.now?.() ?? new Date(),
        logger,
        ...(this.deps.detectors ? { detectors: this.deps.detectors } : {}),
      });
      this.counts.detection = detection.counts;
      findings = detection.findings;
    }
    timings.detectMs = elapsed(t);
    t = performance.now();
    const outcome = await this.deps.publisher.publish(findings, this.attempt);
    timings.publishMs = elapsed(t);
    this.counts.published = outcome.summary;
    this.counts.undelivered = outcome.undelivered.size;

    const failed = new Set<string>();
    for (const finding of findings) {
      if (!outcome.undelivered.has(finding.finding_id)) continue;
      for (const eventId of finding.event_ids) for (const source of this.sourcesByEvent.get(eventId) ?? []) failed.add(source);
    }
    logger.info('batch processed', { ...this.counts, failedSources: failed.size });
    return { failedSourceIds: [...failed], counts: this.counts, findings };
  }

  /** First call of a batch: recreate an oversized database before anything is stored in it. */
  private async open(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (await this.deps.database.resetIfOversized()) this.deps.logger.info('container database recreated (over the cache budget)');
  }

  private async openDb(): Promise<KeytrailDb> {
    this.db ??= await this.deps.database.get();
    return this.db;
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    const db = await this.openDb();
    this.store ??= new EventStore(db);
    const t = performance.now();
    const result = await this.store.insertEvents(events);
    this.counts.timings.storeMs += elapsed(t);
    this.counts.inserted += result.inserted;
    this.counts.duplicates += result.duplicates - result.conflicts;
    this.counts.conflicts += result.conflicts;
    if (result.conflicts > 0) {
      // The first copy is kept; the later one is in the container's rejected_records only, so say so.
      this.deps.logger.warn('eventID reused by another event; first copy kept', { conflicts: result.conflicts });
    }
  }
}

function elapsed(since: number): number {
  return Math.round((performance.now() - since) * 10) / 10;
}
