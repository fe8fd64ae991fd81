import type { KmsEvent, Rejection } from '../normalize/types.js';
import { normalizeValue } from '../normalize/normalize.js';
import type { SourceItem } from '../sources/types.js';
import type { EventStore } from '../store/event-store.js';

/** Counts for one ingest run: what was read and what became of it. */
export interface IngestCounts {
  /** Values read (records, events, lines), good or bad. */
  records: number;
  inserted: number;
  duplicates: number;
  /** Records whose eventID was already taken by another event: kept in rejected_records. */
  conflicts: number;
  /** Well-formed records that are not about KMS (the rest of a trail). */
  ignored: number;
  rejected: number;
}

export interface IngestProgress extends IngestCounts {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

/** How many events are buffered before one bulk insert (the appender is flushed per batch). */
export const DEFAULT_BATCH_SIZE = 20_000;

/** The first rejections of a run, kept for the closing summary. */
const FIRST_REJECTIONS = 5;

/**
 * Normalize and store a stream of source items: batches events into idempotent bulk inserts and
 * keeps every rejection. Bad items never stop the stream.
 */
export class IngestSink {
  readonly counts: IngestCounts = { records: 0, inserted: 0, duplicates: 0, conflicts: 0, ignored: 0, rejected: 0 };
  readonly firstRejections: Rejection[] = [];
  private events: KmsEvent[] = [];
  private rejections: Rejection[] = [];

  constructor(
    private readonly store: EventStore,
    private readonly ingestedAt: string,
    private readonly batchSize = DEFAULT_BATCH_SIZE,
  ) {}

  async add(item: SourceItem): Promise<void> {
    this.take(item);
    if (this.events.length >= this.batchSize) await this.flush();
  }

  /** Many items at once: one await per batch instead of one per record (the hot path). */
  async addAll(items: readonly SourceItem[]): Promise<void> {
    for (const item of items) this.take(item);
    if (this.events.length >= this.batchSize) await this.flush();
  }

  private take(item: SourceItem): void {
    this.counts.records += 1;
    if (item.kind === 'rejected') {
      this.reject(item.rejection);
      return;
    }
    const result = normalizeValue(item.value, item.origin, this.ingestedAt, item.text);
    if (result.kind === 'event') this.events.push(result.event);
    else if (result.kind === 'rejected') this.reject(result.rejection);
    else this.counts.ignored += 1;
  }

  /** Reject a whole input (e.g. a file that could not be opened) without counting a record. */
  rejectInput(rejection: Rejection): void {
    this.reject(rejection);
  }

  private reject(rejection: Rejection): void {
    this.counts.rejected += 1;
    this.rejections.push(rejection);
    if (this.firstRejections.length < FIRST_REJECTIONS) this.firstRejections.push(rejection);
  }

  async flush(): Promise<void> {
    const events = this.events;
    const rejections = this.rejections;
    this.events = [];
    this.rejections = [];
    if (events.length > 0) {
      const result = await this.store.insertEvents(events);
      this.counts.inserted += result.inserted;
      this.counts.duplicates += result.duplicates - result.conflicts;
      this.counts.conflicts += result.conflicts;
    }
    if (rejections.length > 0) await this.store.insertRejections(rejections);
  }
}
