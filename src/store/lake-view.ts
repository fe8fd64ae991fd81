import { join } from 'node:path';
import { listValue } from '@duckdb/node-api';
import { KMS_EVENT_COLUMNS } from './columns.js';
import { KeytrailDb, type OpenOptions } from './database.js';
import { escapeSqlString, lakePartitions } from './lake.js';

export type LakeOpenOptions = Pick<OpenOptions, 'threads' | 'memoryLimit' | 'tempDirectory'>;

/**
 * Open a Parquet lake written by `exportLake` (or laid out the same way) for reading: an in-memory
 * keytrail database whose `kms_events` is a view over
 * `<lake>/kms_events/account_id=…/event_date=…/*.parquet`, with exactly the columns of
 * `KMS_EVENT_COLUMNS` in their order, so every query written for the store runs on the lake. The
 * other tables are the migrations' empty ones, except `kms_event_days` (when the schema has it),
 * filled from the partition directories: the days with at least one Parquet file.
 *
 * - Opening reads every file's schema (and so fills the metadata cache: ~1.5 s for 1,800 files).
 *   Files written before a column was added lack it: when the files differ, the view reads with
 *   `union_by_name`, so such a file gives NULL there; when they all agree (the usual case) it does
 *   not, as `union_by_name` costs every query a pass over every file's schema. A column that no
 *   file has yet is selected as a typed NULL.
 * - DuckDB's Parquet metadata cache is on: the footers (schema, row-group statistics) of every file
 *   are parsed once per database, not once per query. Replaced files are re-read (the cache
 *   checks the modification time, and distrusts one less than 10 s old).
 * - What is fixed when the database is opened: the view's column list and `union_by_name` choice,
 *   and `kms_event_days`. Reopen after an export that adds columns or days. New files of existing
 *   columns are read by every query (the glob is listed again each time).
 * - A lake without any Parquet file gives an empty `kms_events` with the same columns (reopen once
 *   the lake has files).
 * - Every query still opens every file it cannot exclude by `event_date` (from the path; the
 *   `account_id` directory is not a column of the view);
 *   with one file per account and day that per-file cost dominates: 0.2–0.4 s per query over the
 *   1,800 files of the 1M and 10M benchmark lakes alike, against 4–20 ms on the DuckDB table.
 */
export async function openLakeDb(lakeDir: string, options: LakeOpenOptions = {}): Promise<KeytrailDb> {
  const db = await KeytrailDb.open({ ...options, path: ':memory:' });
  try {
    await db.exec('SET parquet_metadata_cache = true');
    const partitions = lakePartitions(lakeDir);
    await db.exec('DROP TABLE kms_events');
    await db.exec(`CREATE VIEW kms_events AS ${partitions.length === 0 ? emptySelect() : await lakeSelect(db, lakeDir)}`);
    const days = await db.all(`SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE table_name = 'kms_event_days'`);
    if (Number(days[0]?.['n']) > 0 && partitions.length > 0) {
      await db.exec('INSERT INTO kms_event_days SELECT DISTINCT unnest($days)::DATE ON CONFLICT DO NOTHING', {
        days: listValue([...new Set(partitions.map((p) => p.eventDate))]),
      });
    }
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * `read_parquet` over every partition file of the lake; `unionByName` when its files do not all
 * have the same columns (DuckDB then reads every file's schema at each query's bind: measured
 * +0.3–0.5 s per query over the 3,341 files of the 1M benchmark lake, so it is only used when needed).
 */
export function lakeSource(lakeDir: string, unionByName = true): string {
  const glob = escapeSqlString(lakeGlob(lakeDir));
  return `read_parquet('${glob}', hive_partitioning = true, hive_types = {'account_id': VARCHAR, 'event_date': DATE}${unionByName ? ', union_by_name = true' : ''})`;
}

function lakeGlob(lakeDir: string): string {
  return join(lakeDir, 'kms_events', '*', '*', '*.parquet');
}

/**
 * The view's SELECT: `kms_events` columns every file has by name; those some files lack through
 * `union_by_name` (NULL for those files); those no file has as typed NULLs. `event_date` is the
 * partition column, from the path.
 */
async function lakeSelect(db: KeytrailDb, lakeDir: string): Promise<string> {
  const glob = escapeSqlString(lakeGlob(lakeDir));
  const rows = await db.all(`WITH s AS (SELECT DISTINCT file_name, name FROM parquet_schema('${glob}'))
    SELECT name, count(*) = (SELECT count(DISTINCT file_name) FROM s) AS everywhere FROM s GROUP BY name`);
  const everywhere = new Set(rows.filter((r) => r['everywhere'] === true).map((r) => String(r['name'])));
  const somewhere = new Set(rows.map((r) => String(r['name'])));
  everywhere.add('event_date');
  somewhere.add('event_date');
  const unionByName = KMS_EVENT_COLUMNS.some((c) => somewhere.has(c.name) && !everywhere.has(c.name));
  const columns = KMS_EVENT_COLUMNS.map((c) => (somewhere.has(c.name) ? quoteIdentifier(c.name) : typedNull(c)));
  return `SELECT ${columns.join(', ')} FROM ${lakeSource(lakeDir, unionByName)}`;
}

function emptySelect(): string {
  return `SELECT ${KMS_EVENT_COLUMNS.map(typedNull).join(', ')} WHERE false`;
}

function typedNull(column: { name: string; sql: string }): string {
  return `CAST(NULL AS ${column.sql.replace(/\s+NOT NULL\b.*$/i, '')}) AS ${quoteIdentifier(column.name)}`;
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
