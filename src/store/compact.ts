import { KMS_EVENT_COLUMNS } from './columns.js';
import type { KeytrailDb } from './database.js';

/** How `kms_events` is laid out: rows in key order since the last compaction, and rows appended after. */
export interface StoreLayout {
  rows: number;
  sortedRows: number;
  compactedAt: string | null;
}

export interface CompactionPolicy {
  /** Compact when at least this many rows were appended since the last compaction… */
  minUnsortedRows: number;
  /** …and they are at least this share of the table. */
  minUnsortedShare: number;
}

/**
 * Appended rows are in arrival (time) order, so every row group holds every key and a per-key
 * question reads the whole tail. Compacting once the tail is a tenth of the table bounds that, and
 * rewrites each row at most ~10 times over a store's life.
 */
export const DEFAULT_COMPACTION_POLICY: CompactionPolicy = { minUnsortedRows: 100_000, minUnsortedShare: 0.1 };

/**
 * The order a compacted kms_events is in: every call under its key (key_id, then time), except the
 * ReEncrypt calls, which go last, under the key they re-encrypted into. Row-group min/max
 * statistics then prune both per-key reads: `key_id = x` skips all but the key's row groups (and the
 * few ReEncrypt ones), `destination_key_id = x` skips every row group whose destination_key_id is
 * all NULL (DuckDB keeps only a short prefix of string statistics: both are key ids, not ARNs).
 */
export const COMPACTED_ORDER = 'destination_key_id IS NOT NULL, coalesce(destination_key_id, key_id) NULLS LAST, event_time';

export async function storeLayout(db: KeytrailDb): Promise<StoreLayout> {
  const [row] = await db.all(`SELECT
      (SELECT count(*) FROM kms_events)::BIGINT AS rows,
      (SELECT sorted_rows FROM store_layout WHERE table_name = 'kms_events')::BIGINT AS sorted_rows,
      (SELECT strftime(compacted_at, '%Y-%m-%dT%H:%M:%S.%gZ') FROM store_layout WHERE table_name = 'kms_events') AS compacted_at`);
  return {
    rows: Number(row?.['rows'] ?? 0),
    sortedRows: Number(row?.['sorted_rows'] ?? 0),
    compactedAt: typeof row?.['compacted_at'] === 'string' ? row['compacted_at'] : null,
  };
}

/** Whether the rows appended since the last compaction call for one under `policy`. */
export function needsCompaction(layout: StoreLayout, policy: CompactionPolicy = DEFAULT_COMPACTION_POLICY): boolean {
  const unsorted = layout.rows - layout.sortedRows;
  return unsorted >= policy.minUnsortedRows && unsorted >= policy.minUnsortedShare * layout.rows;
}

/**
 * Rewrite `kms_events` in `COMPACTED_ORDER`, so DuckDB's row-group statistics (min/max per 122,880
 * rows) let a per-key question read only that key's row groups. One transaction:
 * a crash leaves the old table. DuckDB sorts out of core within its memory limit; the file grows by
 * about one copy of the table while it runs (the old blocks are reused by later writes).
 */
export async function compactEvents(db: KeytrailDb): Promise<StoreLayout> {
  const columns = KMS_EVENT_COLUMNS.map((c) => `${c.name} ${c.sql}`).join(', ');
  const names = KMS_EVENT_COLUMNS.map((c) => c.name).join(', ');
  await db.exec('BEGIN TRANSACTION');
  try {
    await db.exec('DROP TABLE IF EXISTS kms_events_compacted');
    await db.exec(`CREATE TABLE kms_events_compacted (${columns})`);
    await db.exec(`INSERT INTO kms_events_compacted (${names}) SELECT ${names} FROM kms_events ORDER BY ${COMPACTED_ORDER}`);
    await db.exec('DROP TABLE kms_events');
    await db.exec('ALTER TABLE kms_events_compacted RENAME TO kms_events');
    await db.exec(`INSERT OR REPLACE INTO store_layout
      SELECT 'kms_events', count(*), now()::TIMESTAMP FROM kms_events`);
    await db.exec('COMMIT');
  } catch (error) {
    await db.exec('ROLLBACK');
    throw error;
  }
  await db.exec('CHECKPOINT');
  return storeLayout(db);
}
