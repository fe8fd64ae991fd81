import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { StoreError } from '../errors.js';
import { logger } from '../logger.js';
import type { KeytrailDb } from './database.js';

export interface ExportResult {
  partitions: number;
  rows: number;
  directory: string;
}

export interface ExportOptions {
  /**
   * Partition files written at once, each on its own connection (default: DuckDB's `threads`,
   * at most 4). Every write is one small COPY, so this only overlaps their per-file overheads.
   */
  concurrency?: number;
}

/** The file each partition holds after an export (the name DuckDB's PARTITION_BY used to give it). */
export const LAKE_FILE_NAME = 'data_0.parquet';

/**
 * The partition's account: the recipient account when it is a 12-digit id, else `unknown` (the
 * rule of the S3 lake, src/store/s3-lake.ts). It becomes a directory name: input data never
 * reaches a path unchecked.
 */
const PARTITION_ACCOUNT = `CASE WHEN regexp_full_match(coalesce(recipient_account_id, ''), '[0-9]{12}') THEN recipient_account_id ELSE 'unknown' END`;
const ACCOUNT_ID = /^(\d{12}|unknown)$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const PARQUET_OPTIONS = 'FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880';

/**
 * Export `kms_events` to a Hive-partitioned Parquet lake:
 * `<lake>/kms_events/account_id=<recipient account>/event_date=<yyyy-mm-dd>/data_0.parquet`, zstd,
 * one file per partition, rows sorted by `key_id NULLS LAST, event_time, event_id` (row-group
 * statistics prune per-key reads; DuckDB keeps only a short string prefix in min/max statistics,
 * and every ARN starts `arn:aws:`, so `key_id` is the column that prunes); the partition columns
 * are in the path only.
 *
 * Memory stays within the database's memory_limit whatever the number of partitions, in two steps:
 *  1. one sort of every row by (partition, key_id, event_time) into a staging DuckDB file next to
 *     the lake — DuckDB's sort spills to its temp directory;
 *  2. one plain COPY per partition from that table: its zone maps on the partition number skip
 *     every other partition's rows, and the rows come out in the stored (sorted) order.
 * DuckDB's `COPY … (PARTITION_BY …)` is not used: it keeps a buffer per partition per thread (and
 * per open file) until a flush threshold of rows (≈ 1.3 MB of vectors each even when nearly empty),
 * so ~1,800 partitions ran out of memory even at 2 GB; and it does not keep the query's order
 * inside a partition (its per-partition append buffers are bypassed by large appends).
 *
 * Measured (2 shared cores, memory_limit 512MB): 1M rows in 37 s, peak RSS 0.70 GB; 10M rows in
 * 310–420 s, peak RSS 0.79 GB, with up to 11 GB of sort spill in DuckDB's temp directory and a 1 GB
 * staging file. (The PARTITION_BY export: out of memory at 2 GB; at 8 GB, 1M rows in 38 s, 4.5 GB RSS.)
 *
 * Everything is written under a temporary directory first; each partition then replaces its
 * previous version by rename, so a reader never sees a half-written partition. Partitions absent
 * from this export are left as they are.
 */
export async function exportLake(db: KeytrailDb, lakeDir: string, options: ExportOptions = {}): Promise<ExportResult> {
  const tableDir = join(lakeDir, 'kms_events');
  const staging = join(lakeDir, `.tmp-${randomUUID()}`);
  const stagingDb = `keytrail_export_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const started = performance.now();
  const threadCount = await threads(db);
  const restoreOrder = await ensureInsertionOrder(db);
  mkdirSync(staging, { recursive: true });
  let attached = false;
  try {
    // READ_WRITE: the staging file is writable even when the store was opened read-only.
    await db.exec(`ATTACH '${escapeSqlString(join(staging, 'export.duckdb'))}' AS ${stagingDb} (READ_WRITE)`);
    attached = true;
    // One thread: an order-preserving parallel insert buffers the sorted runs of every thread, and
    // ran out of memory at 10M rows under 512MB; single-threaded, the sort spills and the insert
    // streams (measured at 1M: no slower on 2 cores).
    await db.exec('SET threads = 1');
    try {
      // One transaction: the partition counts and the rows are the same snapshot of kms_events.
      await db.transaction(async () => {
        await db.exec(`CREATE TABLE ${stagingDb}.partitions AS
          SELECT row_number() OVER (ORDER BY account_id, event_date)::INTEGER AS pid, account_id, event_date, row_count
          FROM (SELECT ${PARTITION_ACCOUNT} AS account_id, event_date, count(*)::BIGINT AS row_count FROM kms_events GROUP BY ALL)`);
        await db.exec(`CREATE TABLE ${stagingDb}.rows AS
          SELECT p.pid, e.* EXCLUDE (event_date, lake_account)
          FROM (SELECT *, ${PARTITION_ACCOUNT} AS lake_account FROM kms_events) e
          JOIN ${stagingDb}.partitions p ON p.account_id = e.lake_account AND p.event_date = e.event_date
          ORDER BY p.pid, e.key_id NULLS LAST, e.event_time, e.event_id`);
      });
    } finally {
      await db.exec(`SET threads = ${threadCount}`);
    }
    const partitions = (
      await db.all(`SELECT pid, account_id, strftime(event_date, '%Y-%m-%d') AS event_date, row_count FROM ${stagingDb}.partitions ORDER BY pid`)
    ).map((row) => ({
      pid: Number(row['pid']),
      account: String(row['account_id']),
      date: String(row['event_date']),
      rows: Number(row['row_count']),
    }));
    const sortedMs = performance.now() - started;
    for (const p of partitions) {
      if (!ACCOUNT_ID.test(p.account) || !DATE.test(p.date)) throw new StoreError(`unexpected lake partition ${p.account}/${p.date}`);
    }

    const written = join(staging, 'kms_events');
    const workers = Math.max(1, Math.min(options.concurrency ?? threadCount, 4, partitions.length));
    const connections: DuckDBConnection[] = [db.connection];
    try {
      for (let i = 1; i < workers; i++) connections.push(await db.instance.connect());
      let next = 0;
      const settled = await Promise.allSettled(
        connections.map(async (connection) => {
          for (let i = next++; i < partitions.length; i = next++) {
            const p = partitions[i];
            if (!p) break;
            const dir = join(written, `account_id=${p.account}`, `event_date=${p.date}`);
            mkdirSync(dir, { recursive: true });
            try {
              await connection.run(
                `COPY (SELECT * EXCLUDE (pid) FROM ${stagingDb}.rows WHERE pid = ${p.pid}) TO '${escapeSqlString(join(dir, LAKE_FILE_NAME))}' (${PARQUET_OPTIONS})`,
              );
            } catch (error) {
              next = partitions.length; // the other connections stop after their current file
              throw error;
            }
          }
        }),
      );
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
    } finally {
      for (const connection of connections.slice(1)) connection.closeSync();
    }
    await db.exec(`DETACH ${stagingDb}`);
    attached = false;
    rmSync(join(staging, 'export.duckdb'), { force: true });
    rmSync(join(staging, 'export.duckdb.wal'), { force: true });

    mkdirSync(tableDir, { recursive: true });
    const replaced = join(staging, 'replaced');
    for (const p of partitions) {
      const accountDir = `account_id=${p.account}`;
      const dateDir = `event_date=${p.date}`;
      const target = join(tableDir, accountDir, dateDir);
      mkdirSync(join(tableDir, accountDir), { recursive: true });
      if (existsSync(target)) {
        // Moved out of the lake (not renamed beside it), so no reader's glob ever matches it.
        const previous = join(replaced, `${accountDir}-${dateDir}`);
        mkdirSync(replaced, { recursive: true });
        renameSync(target, previous);
      }
      renameSync(join(written, accountDir, dateDir), target);
    }
    const result = { partitions: partitions.length, rows: partitions.reduce((n, p) => n + p.rows, 0), directory: tableDir };
    logger.debug('lake exported', { ...result, sortedMs: Math.round(sortedMs), totalMs: Math.round(performance.now() - started), connections: workers });
    return result;
  } finally {
    if (attached) await db.exec(`DETACH ${stagingDb}`).catch(() => undefined);
    await restoreOrder();
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The staging table's insertion order is the sort: make sure DuckDB keeps it (its default). */
async function ensureInsertionOrder(db: KeytrailDb): Promise<() => Promise<void>> {
  const rows = await db.all(`SELECT current_setting('preserve_insertion_order')::BOOLEAN AS on`);
  if (rows[0]?.['on'] === true) return async () => undefined;
  await db.exec('SET preserve_insertion_order = true');
  return () => db.exec('SET preserve_insertion_order = false');
}

async function threads(db: KeytrailDb): Promise<number> {
  const rows = await db.all(`SELECT current_setting('threads')::INTEGER AS n`);
  return Number(rows[0]?.['n'] ?? 1);
}

/** The lake's partition directories that hold at least one Parquet file, as account and date. */
export function lakePartitions(lakeDir: string): { accountId: string; eventDate: string; files: string[] }[] {
  const tableDir = join(lakeDir, 'kms_events');
  if (!existsSync(tableDir)) return [];
  const result: { accountId: string; eventDate: string; files: string[] }[] = [];
  for (const account of readdirSync(tableDir, { withFileTypes: true })) {
    const accountMatch = /^account_id=(.+)$/.exec(account.name);
    if (!account.isDirectory() || !accountMatch?.[1]) continue;
    for (const date of readdirSync(join(tableDir, account.name), { withFileTypes: true })) {
      const dateMatch = /^event_date=(\d{4}-\d{2}-\d{2})$/.exec(date.name);
      if (!date.isDirectory() || !dateMatch?.[1]) continue;
      const files = readdirSync(join(tableDir, account.name, date.name)).filter((f) => f.endsWith('.parquet'));
      if (files.length > 0) result.push({ accountId: accountMatch[1], eventDate: dateMatch[1], files });
    }
  }
  return result;
}

/**
 * COPY … TO and ATTACH take their path as a literal (DuckDB does not bind it); the path is ours,
 * but quote it properly anyway.
 */
export function escapeSqlString(value: string): string {
  return value.replace(/'/g, "''");
}
