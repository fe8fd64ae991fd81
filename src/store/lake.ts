import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { KeytrailDb } from './database.js';

export interface ExportResult {
  partitions: number;
  rows: number;
  directory: string;
}

/**
 * Export `kms_events` to a Hive-partitioned Parquet lake:
 * `<lake>/kms_events/account_id=<recipient account>/event_date=<yyyy-mm-dd>/*.parquet`, zstd, rows
 * sorted by `key_id, event_time` so row-group statistics prune per-key reads (DuckDB keeps only a
 * short string prefix in min/max statistics, and every ARN starts `arn:aws:`, so `key_id` is the
 * column that prunes). Written to a temporary directory first; each partition then replaces its
 * previous version by rename, so a reader never sees a half-written partition.
 */
export async function exportLake(db: KeytrailDb, lakeDir: string): Promise<ExportResult> {
  const tableDir = join(lakeDir, 'kms_events');
  const staging = join(lakeDir, `.tmp-${randomUUID()}`);
  mkdirSync(staging, { recursive: true });
  try {
    await db.exec(`COPY (
        SELECT * EXCLUDE (event_date), coalesce(recipient_account_id, 'unknown') AS account_id, event_date
        FROM kms_events ORDER BY key_id NULLS LAST, event_time
      ) TO '${escapeSqlString(staging)}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (account_id, event_date), ROW_GROUP_SIZE 122880)`);
    mkdirSync(tableDir, { recursive: true });
    let partitions = 0;
    for (const account of readdirSync(staging)) {
      for (const date of readdirSync(join(staging, account))) {
        const target = join(tableDir, account, date);
        const previous = `${target}.old-${randomUUID()}`;
        mkdirSync(join(tableDir, account), { recursive: true });
        if (existsSync(target)) renameSync(target, previous);
        renameSync(join(staging, account, date), target);
        rmSync(previous, { recursive: true, force: true });
        partitions += 1;
      }
    }
    const rows = await db.all('SELECT count(*)::BIGINT AS n FROM kms_events');
    return { partitions, rows: Number(rows[0]?.['n'] ?? 0), directory: tableDir };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * COPY … TO takes its target as a literal (DuckDB does not bind it); the path is ours, but quote
 * it properly anyway.
 */
function escapeSqlString(value: string): string {
  return value.replace(/'/g, "''");
}
