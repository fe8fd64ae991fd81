import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KMS_EVENT_COLUMNS } from '../../../src/store/columns.js';
import { KeytrailDb, type Row } from '../../../src/store/database.js';
import { exportLake, LAKE_FILE_NAME } from '../../../src/store/lake.js';
import { openLakeDb } from '../../../src/store/lake-view.js';
import { SEED_DAYS, seedEvents } from './lake-fixtures.js';

async function columnsOf(db: KeytrailDb): Promise<{ name: string; type: string }[]> {
  return (await db.all('DESCRIBE kms_events')).map((r) => ({ name: String(r['column_name']), type: String(r['column_type']) }));
}

async function rowsOf(db: KeytrailDb): Promise<Row[]> {
  return db.all('SELECT * FROM kms_events ORDER BY event_id');
}

describe('openLakeDb', () => {
  let dir: string;
  let store: KeytrailDb;
  const opened: KeytrailDb[] = [];
  const open = async (lakeDir: string): Promise<KeytrailDb> => {
    const db = await openLakeDb(lakeDir);
    opened.push(db);
    return db;
  };
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keytrail-lake-view-'));
    store = await KeytrailDb.open({ path: ':memory:' });
  });
  afterEach(() => {
    for (const db of opened.splice(0)) db.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads an exported lake back as kms_events: the same columns, types and rows as the store', async () => {
    await seedEvents(store, 240);
    await exportLake(store, dir);
    const lake = await open(dir);

    const columns = await columnsOf(lake);
    expect(columns.map((c) => c.name)).toEqual(KMS_EVENT_COLUMNS.map((c) => c.name));
    expect(columns).toEqual(await columnsOf(store));
    const rows = await rowsOf(lake);
    expect(rows).toHaveLength(240);
    expect(rows).toEqual(await rowsOf(store));
    // Per-key reads work through the view (the question the lake is sorted for).
    const perKey = `SELECT key_id, count(*)::INTEGER AS n FROM kms_events WHERE key_id IS NOT NULL GROUP BY 1 ORDER BY 1`;
    expect(await lake.all(perKey)).toEqual(await store.all(perKey));
    expect(await lake.all(`SELECT current_setting('parquet_metadata_cache') AS on`)).toEqual([{ on: true }]);
  });

  it('records the lake days in kms_event_days', async () => {
    await seedEvents(store, 60);
    await exportLake(store, dir);
    const lake = await open(dir);
    const days = await lake.all(`SELECT strftime(event_date, '%Y-%m-%d') AS d FROM kms_event_days ORDER BY 1`);
    expect(days.map((r) => r['d'])).toEqual([...SEED_DAYS]);
  });

  it('gives NULL for a column an older file lacks, and keeps the column order', async () => {
    await seedEvents(store, 120);
    await exportLake(store, dir);
    // Rewrite one partition as an export from before `alias_name` existed would have.
    const partition = join(dir, 'kms_events', 'account_id=111111111111', `event_date=${SEED_DAYS[1]}`);
    rmSync(partition, { recursive: true });
    mkdirSync(partition, { recursive: true });
    const older = `recipient_account_id = '111111111111' AND event_date = DATE '${SEED_DAYS[1]}'`;
    await store.exec(`COPY (SELECT * EXCLUDE (event_date, alias_name) FROM kms_events WHERE ${older})
      TO '${join(partition, LAKE_FILE_NAME)}' (FORMAT parquet, COMPRESSION zstd)`);
    const [olderRows] = await store.all(`SELECT count(*)::INTEGER AS n, count(alias_name)::INTEGER AS aliased FROM kms_events WHERE ${older}`);
    expect(olderRows?.['aliased']).toBeGreaterThan(0);

    const lake = await open(dir);
    expect(await columnsOf(lake)).toEqual(await columnsOf(store));
    const [fromOlder] = await lake.all(`SELECT count(*)::INTEGER AS n, count(alias_name)::INTEGER AS aliased FROM kms_events WHERE ${older}`);
    expect(fromOlder).toEqual({ n: olderRows?.['n'], aliased: 0 });
    // Every other row keeps its value.
    const others = `SELECT event_id, alias_name FROM kms_events WHERE NOT (${older}) ORDER BY event_id`;
    expect(await lake.all(others)).toEqual(await store.all(others));
    expect(await lake.all('SELECT count(*)::INTEGER AS n FROM kms_events')).toEqual([{ n: 120 }]);
  });

  it('gives a typed NULL for a column no file has yet', async () => {
    await seedEvents(store, 30);
    const last = KMS_EVENT_COLUMNS[KMS_EVENT_COLUMNS.length - 1];
    if (!last) throw new Error('no columns');
    const partition = join(dir, 'kms_events', 'account_id=111111111111', `event_date=${SEED_DAYS[0]}`);
    mkdirSync(partition, { recursive: true });
    await store.exec(`COPY (SELECT * EXCLUDE (event_date, ${last.name}) FROM kms_events WHERE recipient_account_id = '111111111111' AND event_date = DATE '${SEED_DAYS[0]}')
      TO '${join(partition, LAKE_FILE_NAME)}' (FORMAT parquet)`);

    const lake = await open(dir);
    expect(await columnsOf(lake)).toEqual(await columnsOf(store));
    const [read] = await lake.all(`SELECT count(*)::INTEGER AS n, count(${last.name})::INTEGER AS present FROM kms_events`);
    expect(read?.['n']).toBeGreaterThan(0);
    expect(read?.['present']).toBe(0);
  });

  it('opens a lake without any Parquet file as an empty kms_events', async () => {
    const empty = await open(dir);
    expect(await columnsOf(empty)).toEqual(await columnsOf(store));
    expect(await rowsOf(empty)).toEqual([]);
    mkdirSync(join(dir, 'kms_events', 'account_id=111111111111', 'event_date=2024-03-01'), { recursive: true });
    const noFiles = await open(dir);
    expect(await noFiles.all('SELECT count(*)::INTEGER AS n, min(event_time) AS t FROM kms_events')).toEqual([{ n: 0, t: null }]);
    expect(await noFiles.all('SELECT count(*)::INTEGER AS n FROM kms_event_days')).toEqual([{ n: 0 }]);
  });

  it('sees partitions exported after it was opened', async () => {
    await seedEvents(store, 60, 'first');
    await exportLake(store, dir);
    const lake = await open(dir);
    await store.exec('DELETE FROM kms_events');
    await seedEvents(store, 30, 'second');
    await store.exec(`UPDATE kms_events SET event_date = DATE '2024-03-09', event_time = event_time + INTERVAL 8 DAY`);
    await exportLake(store, dir);
    expect(await lake.all(`SELECT count(*)::INTEGER AS n FROM kms_events WHERE starts_with(event_id, 'second-')`)).toEqual([{ n: 30 }]);
    expect(await lake.all('SELECT count(*)::INTEGER AS n FROM kms_events')).toEqual([{ n: 90 }]);
  });
});
