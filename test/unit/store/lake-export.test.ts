import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeytrailDb } from '../../../src/store/database.js';
import { exportLake, LAKE_FILE_NAME } from '../../../src/store/lake.js';
import { filesUnder, SEED_DAYS, seedEvents } from './lake-fixtures.js';

/** The partition of a row, as exportLake names it. */
const PARTITION_SQL = `'account_id=' || CASE WHEN regexp_full_match(coalesce(recipient_account_id, ''), '[0-9]{12}') THEN recipient_account_id ELSE 'unknown' END
  || '/event_date=' || strftime(event_date, '%Y-%m-%d')`;

describe('exportLake', () => {
  let dir: string;
  let db: KeytrailDb;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keytrail-lake-export-'));
    db = await KeytrailDb.open({ path: ':memory:' });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one zstd Parquet file per account and day, partition columns in the path only', async () => {
    await seedEvents(db, 600);
    const result = await exportLake(db, dir);

    const expected = await db.all(`SELECT ${PARTITION_SQL} AS partition, count(*)::INTEGER AS n FROM kms_events GROUP BY 1 ORDER BY 1`);
    // 3 accounts (NULL and a malformed id both go to `unknown`) × 3 days.
    expect(expected.map((r) => r['partition'])).toEqual(
      ['111111111111', '222222222222', 'unknown'].flatMap((a) => SEED_DAYS.map((d) => `account_id=${a}/event_date=${d}`)),
    );
    expect(result).toEqual({ partitions: 9, rows: 600, directory: join(dir, 'kms_events') });
    expect(filesUnder(join(dir, 'kms_events'))).toEqual(expected.map((r) => `${String(r['partition'])}/${LAKE_FILE_NAME}`));
    // Nothing left beside the table: the staging directory (and its DuckDB file) is gone.
    expect(readdirSync(dir)).toEqual(['kms_events']);

    for (const row of expected) {
      const file = join(dir, 'kms_events', String(row['partition']), LAKE_FILE_NAME).replace(/'/g, "''");
      const [counted] = await db.all(`SELECT count(*)::INTEGER AS n FROM read_parquet('${file}')`);
      expect(counted?.['n']).toBe(row['n']);
      const meta = await db.all(
        `SELECT DISTINCT compression, row_group_id FROM parquet_metadata('${file}')`,
      );
      expect(new Set(meta.map((m) => m['compression']))).toEqual(new Set(['ZSTD']));
      const columns = (await db.all(`SELECT name FROM parquet_schema('${file}')`)).map((c) => String(c['name']));
      expect(columns).toContain('recipient_account_id');
      expect(columns).not.toContain('event_date');
      expect(columns).not.toContain('account_id');
    }
  });

  it('sorts the rows of each file by key_id (NULLs last), then event_time', async () => {
    await seedEvents(db, 900);
    await exportLake(db, dir);
    const glob = join(dir, 'kms_events', '*', '*', '*.parquet').replace(/'/g, "''");
    const files = await db.all(
      `SELECT filename, list(event_id ORDER BY file_row_number) AS written,
              list(event_id ORDER BY key_id NULLS LAST, event_time, event_id) AS sorted,
              count(DISTINCT key_id)::INTEGER AS keys, count(*) FILTER (WHERE key_id IS NULL)::INTEGER AS no_key
       FROM read_parquet('${glob}', filename = true, file_row_number = true) GROUP BY filename`,
    );
    expect(files).toHaveLength(9);
    for (const file of files) {
      // Each file holds several keys and key-less rows, inserted in no particular order.
      expect(file['keys']).toBe(3);
      expect(file['no_key']).toBeGreaterThan(0);
      expect(file['written']).toEqual(file['sorted']);
    }
  });

  it('replaces the partitions it exports again, without duplicating rows', async () => {
    await seedEvents(db, 300, 'first');
    await exportLake(db, dir);
    // A second export after more events (in the same partitions) and a deleted partition's rows.
    await seedEvents(db, 150, 'second');
    await db.exec(`DELETE FROM kms_events WHERE recipient_account_id = '222222222222' AND event_date = DATE '${SEED_DAYS[0]}'`);
    const result = await exportLake(db, dir);
    expect(result.partitions).toBe(8);
    expect(result.rows).toBe(Number((await db.all('SELECT count(*)::INTEGER AS n FROM kms_events'))[0]?.['n']));

    const glob = join(dir, 'kms_events', '*', '*', '*.parquet').replace(/'/g, "''");
    const lake = `read_parquet('${glob}', hive_partitioning = true, hive_types = {'account_id': VARCHAR, 'event_date': DATE})`;
    const [stats] = await db.all(`SELECT count(*)::INTEGER AS n, count(DISTINCT event_id)::INTEGER AS ids FROM ${lake}
      WHERE NOT (account_id = '222222222222' AND event_date = DATE '${SEED_DAYS[0]}')`);
    const [table] = await db.all('SELECT count(*)::INTEGER AS n FROM kms_events');
    expect(stats).toEqual({ n: table?.['n'], ids: table?.['n'] });
    // The partition this export did not write keeps its earlier file (exports replace, never delete).
    const [kept] = await db.all(`SELECT count(*)::INTEGER AS n, bool_and(starts_with(event_id, 'first-')) AS only_first FROM ${lake}
      WHERE account_id = '222222222222' AND event_date = DATE '${SEED_DAYS[0]}'`);
    expect(kept?.['n']).toBeGreaterThan(0);
    expect(kept?.['only_first']).toBe(true);
    // One file per partition, nothing renamed beside the partitions, no staging left.
    expect(filesUnder(join(dir, 'kms_events')).every((f) => f.endsWith(`/${LAKE_FILE_NAME}`))).toBe(true);
    expect(filesUnder(join(dir, 'kms_events'))).toHaveLength(9);
    expect(readdirSync(dir)).toEqual(['kms_events']);
  });

  it('exports hundreds of partitions within a small memory limit', async () => {
    // DuckDB's PARTITION_BY keeps a buffer per partition and thread: 300 partitions ran out of
    // memory at 64MB (and ~1,800 at 2GB); the per-partition COPYs do not grow with their number.
    const small = await KeytrailDb.open({ path: ':memory:', memoryLimit: '64MB', threads: 2 });
    try {
      await small.exec(`INSERT INTO kms_events BY NAME SELECT
          'ev-' || i AS event_id, DATE '2024-01-01' + INTERVAL (i % 30) DAY + to_milliseconds((hash(i) % 86400000)::BIGINT) AS event_time,
          (DATE '2024-01-01' + INTERVAL (i % 30) DAY)::DATE AS event_date, 'api' AS event_kind, 'kms.amazonaws.com' AS event_source,
          'Decrypt' AS event_name, '1000000000' || lpad(((i // 30) % 10)::VARCHAR, 2, '0') AS recipient_account_id,
          'key-' || (hash(i, 'k') % 50) AS key_id, false AS is_cross_account, 'success' AS outcome,
          json_object('padding', repeat('x', 400)) AS raw, 's3://trail/x' AS source_uri, TIMESTAMP '2024-02-01' AS ingested_at
        FROM range(6000) t(i)`);
      const result = await exportLake(small, dir);
      expect(result).toMatchObject({ partitions: 300, rows: 6000 });
      expect(filesUnder(join(dir, 'kms_events'))).toHaveLength(300);
    } finally {
      small.close();
    }
  });

  it('exports an empty table as an empty lake', async () => {
    const result = await exportLake(db, dir);
    expect(result).toEqual({ partitions: 0, rows: 0, directory: join(dir, 'kms_events') });
    expect(existsSync(join(dir, 'kms_events'))).toBe(true);
    expect(filesUnder(dir)).toEqual([]);
  });

  it('exports from a database opened read-only', async () => {
    const path = join(dir, 'store.duckdb');
    const writer = await KeytrailDb.open({ path });
    await seedEvents(writer, 90);
    writer.close();
    const reader = await KeytrailDb.open({ path, readOnly: true });
    try {
      const lakeDir = join(dir, 'lake');
      expect(await exportLake(reader, lakeDir)).toMatchObject({ partitions: 9, rows: 90 });
      expect(filesUnder(join(lakeDir, 'kms_events'))).toHaveLength(9);
    } finally {
      reader.close();
    }
  });
});
