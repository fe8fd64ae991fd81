import type { Logger } from '@aws-lambda-powertools/logger';
import type { KeytrailConfig } from '../config/schema.js';
import { DETECTORS } from '../detectors/index.js';
import { createDetectionContext } from '../detectors/lib/context.js';
import type { DetectionContext, Detector, EventDetector } from '../detectors/types.js';
import { logger as defaultLogger } from '../logger.js';
import type { KmsEvent } from '../normalize/types.js';
import type { KeytrailDb } from '../store/database.js';
import type { LakePart, S3Lake } from '../store/s3-lake.js';

/** Lake partitions to load, per account: event dates `from`..`to` inclusive (`yyyy-mm-dd`). */
export type HistoryScope = Map<string, { from: string; to: string }>;

export interface HistoryLoad {
  /** Parts listed in scope. */
  listed: number;
  /** Parts loaded into the database now (the rest were loaded earlier in this container). */
  loaded: number;
  rows: number;
  bytes: number;
  /** Parts left out because the scope's parts exceed the budget (oldest first). */
  skipped: number;
  /** Oldest partition date that was loaded, when some were skipped. */
  truncatedBefore: string | null;
}

const ACCOUNT_ID = /^\d{12}$/;
const DAY_MS = 86_400_000;

/**
 * Which events need history from the lake, and which partitions hold it. Only an event that a
 * detector with `needs` (a past-usage summary, the deletion date) matches pulls history — a
 * ScheduleKeyDeletion or DisableKey, a key deletion, use of a key pending deletion — so ordinary
 * batches (Decrypt, GenerateDataKey …) load nothing.
 *
 * The history of such an event is the lookback window (`detection.lookback_days`, default 90) of
 * event dates up to the event's, for two accounts: the key owner's (where every use of the key is
 * logged, cross-account callers included) and the account that logged the event.
 */
export class HistoryPlanner {
  private readonly ctx: DetectionContext;
  private readonly detectors: readonly EventDetector[];

  constructor(
    private readonly config: KeytrailConfig,
    detectors: readonly Detector[] = DETECTORS,
  ) {
    // Declared aliases resolve against stored events; matching ignores them here, which can only
    // miss history for a detector that matches on an alias declaration (none does today).
    this.ctx = createDetectionContext(config);
    this.detectors = detectors.filter((d): d is EventDetector => d.kind === 'event' && (d.needs?.length ?? 0) > 0);
  }

  /** Whether any detector that needs history matches the event. A throwing detector counts as yes. */
  needsHistory(event: KmsEvent): boolean {
    return this.detectors.some((detector) => {
      try {
        return detector.match(event, this.ctx);
      } catch {
        return true;
      }
    });
  }

  /** Widen `scope` to cover the event's history. */
  addTo(scope: HistoryScope, event: KmsEvent): void {
    const to = event.eventDate;
    const from = new Date(Date.parse(`${to}T00:00:00Z`) - this.config.detection.lookback_days * DAY_MS).toISOString().slice(0, 10);
    for (const account of new Set([event.keyAccountId, event.recipientAccountId])) {
      if (account === null || !ACCOUNT_ID.test(account)) continue;
      const current = scope.get(account);
      scope.set(account, current ? { from: current.from < from ? current.from : from, to: current.to > to ? current.to : to } : { from, to });
    }
  }
}

/**
 * The container's knowledge of lake history: which parts are loaded into its DuckDB (key and ETag),
 * so a warm container lists the scope again (other containers keep writing) but downloads and loads
 * only parts it has not seen. Loads newest partitions first, within `maxBytes` of Parquet per call
 * (the /tmp cache budget), and in chunks a quarter of that so the cache can hold a chunk while
 * DuckDB reads it.
 */
export class LakeHistory {
  private readonly loaded = new Map<string, string>();
  private generation = -1;
  private readonly log: Pick<Logger, 'debug' | 'info' | 'warn'>;

  constructor(
    private readonly lake: Pick<S3Lake, 'listParts' | 'loadParts'>,
    private readonly options: { maxBytes: number; logger?: Pick<Logger, 'debug' | 'info' | 'warn'> },
  ) {
    this.log = options.logger ?? defaultLogger;
  }

  /**
   * Load the scope's parts not yet loaded. `dbGeneration` changes when the container's database is
   * recreated, which forgets what was loaded.
   */
  async ensure(db: KeytrailDb, dbGeneration: number, scope: HistoryScope): Promise<HistoryLoad> {
    this.sync(dbGeneration);
    const result: HistoryLoad = { listed: 0, loaded: 0, rows: 0, bytes: 0, skipped: 0, truncatedBefore: null };
    if (scope.size === 0) return result;
    const listings = await Promise.all([...scope].map(([account, { from, to }]) => this.lake.listParts(account, from, to)));
    const parts = listings.flat();
    result.listed = parts.length;
    const wanted = parts
      .filter((p) => this.loaded.get(p.key) !== p.etag)
      .sort((a, b) => (a.eventDate === b.eventDate ? a.key.localeCompare(b.key) : b.eventDate.localeCompare(a.eventDate)));

    const chosen: LakePart[] = [];
    let budget = this.options.maxBytes;
    for (const part of wanted) {
      if (part.size > budget) {
        result.skipped = wanted.length - chosen.length;
        result.truncatedBefore = chosen.at(-1)?.eventDate ?? part.eventDate;
        break;
      }
      budget -= part.size;
      chosen.push(part);
    }

    const chunkBytes = Math.max(1, Math.floor(this.options.maxBytes / 4));
    for (let start = 0; start < chosen.length; ) {
      const chunk: LakePart[] = [];
      let bytes = 0;
      while (start < chosen.length) {
        const part = chosen[start];
        if (!part || (chunk.length > 0 && bytes + part.size > chunkBytes)) break;
        chunk.push(part);
        bytes += part.size;
        start += 1;
      }
      result.rows += await this.lake.loadParts(db, chunk);
      for (const part of chunk) this.loaded.set(part.key, part.etag);
      result.loaded += chunk.length;
      result.bytes += bytes;
    }
    if (result.skipped > 0) {
      this.log.warn('history truncated to the cache budget', { skippedParts: result.skipped, loadedFrom: result.truncatedBefore, maxBytes: this.options.maxBytes });
    }
    this.log.debug('history loaded', { ...result });
    return result;
  }

  /** Parts this container wrote itself: their rows are in its database already. */
  markLoaded(dbGeneration: number, parts: readonly { key: string; etag: string }[]): void {
    this.sync(dbGeneration);
    for (const part of parts) this.loaded.set(part.key, part.etag);
  }

  private sync(dbGeneration: number): void {
    if (dbGeneration === this.generation) return;
    this.loaded.clear();
    this.generation = dbGeneration;
  }
}

/** Every account of the lake, over the same dates (scheduled detection and the daily report). */
export async function allAccountsScope(lake: Pick<S3Lake, 'listAccounts'>, from: string, to: string): Promise<HistoryScope> {
  const scope: HistoryScope = new Map();
  for (const account of await lake.listAccounts()) scope.set(account, { from, to });
  return scope;
}
