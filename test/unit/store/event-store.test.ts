import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { normalizeValue } from '../../../src/normalize/normalize.js';
import type { KmsEvent } from '../../../src/normalize/types.js';
import { rowToEvent } from '../../../src/store/columns.js';
import { KeytrailDb } from '../../../src/store/database.js';
import { EventStore } from '../../../src/store/event-store.js';
import { exportLake } from '../../../src/store/lake.js';
import { LATEST_SCHEMA_VERSION } from '../../../src/store/migrations.js';
import { asEventBridge, corpusLines, corpusRecord } from '../../support/corpus.js';

const NOW = '2026-11-27T00:00:00.000Z';

function corpusEvents(uri = 'trail.json'): KmsEvent[] {
  return corpusLines.flatMap((line, position) => {
    const result = normalizeValue(JSON.parse(line), { uri, position }, NOW);
    return result.kind === 'event' ? [result.event] : [];
  });
}

async function count(db: KeytrailDb, table: string): Promise<number> {
  const rows = await db.all(`SELECT count(*)::INTEGER AS n FROM ${table}`);
  return Number(rows[0]?.['n']);
}

describe('Store: kms_events', () => {
  let db: KeytrailDb;
  let store: EventStore;
  beforeEach(async () => {
    db = await KeytrailDb.open({ path: ':memory:' });
    store = new EventStore(db);
  });
  afterEach(() => db.close());

  it('stores each event_id once, and keeps events that reuse an id in rejected_records', async () => {
    // The guide prints different examples under one eventID: not redeliveries, conflicts.
    const events = corpusEvents();
    const distinct = new Set(events.map((e) => e.eventId)).size;
    expect(distinct).toBeLessThan(events.length);
    const first = await store.insertEvents(events);
    expect(first).toMatchObject({ inserted: distinct, duplicates: events.length - distinct });
    // Some of the guide's repeats are the same example printed twice; most are different events.
    expect(first.conflicts).toBeGreaterThan(0);
    expect(first.conflicts).toBeLessThan(first.duplicates);
    expect(await count(db, 'kms_events')).toBe(distinct);
    expect(await count(db, 'rejected_records')).toBe(first.conflicts);
    const kept = await db.all(
      "SELECT reason FROM rejected_records WHERE reason LIKE 'eventID abcde202-ba1a-467c-b4ba-f729d45ae521 is already stored%'",
    );
    // Line 9 (Decrypt) is kept; lines 10 (failed Decrypt), 22 (DisableKey) and others are not lost.
    expect(kept.map((r) => String(r['reason']))).toEqual(
      expect.arrayContaining([expect.stringContaining('this one is 2014-11-04T00:52:43Z DisableKey')]),
    );
  });

  it('adds no row, and no second rejection, when the same events are inserted again', async () => {
    await store.insertEvents(corpusEvents());
    const before = await count(db, 'kms_events');
    const rejectedBefore = await count(db, 'rejected_records');
    const again = await store.insertEvents(corpusEvents());
    expect(again.inserted).toBe(0);
    expect(again.duplicates).toBe(corpusEvents().length);
    expect(await count(db, 'kms_events')).toBe(before);
    expect(await count(db, 'rejected_records')).toBe(rejectedBefore);
  });

  it('does not call a true redelivery a conflict', async () => {
    const copies = [corpusEvents('a.json')[0], corpusEvents('b.json')[0]].filter((e) => e !== undefined);
    expect(await store.insertEvents(copies)).toEqual({ inserted: 1, duplicates: 1, conflicts: 0 });
    expect(await store.insertEvents(corpusEvents('c.json').slice(0, 1))).toEqual({ inserted: 0, duplicates: 1, conflicts: 0 });
  });

  it('keeps one row for a record delivered by EventBridge and in a trail file', async () => {
    const viaEventBridge = normalizeValue(asEventBridge(corpusRecord(65)), { uri: 'eventbridge:1', position: 0 }, NOW);
    const viaTrail = normalizeValue(corpusRecord(65), { uri: 's3://trail/file.json.gz', position: 3 }, NOW);
    if (viaEventBridge.kind !== 'event' || viaTrail.kind !== 'event') throw new Error('expected events');
    expect((await store.insertEvents([viaEventBridge.event])).inserted).toBe(1);
    expect(await store.insertEvents([viaTrail.event])).toEqual({ inserted: 0, duplicates: 1, conflicts: 0 });
    const rows = await db.all('SELECT source_uri FROM kms_events');
    expect(rows).toEqual([{ source_uri: 'eventbridge:1' }]);
  });

  it('round-trips every column through rowToEvent', async () => {
    const events = corpusEvents();
    await store.insertEvents(events);
    const rows = await db.all("SELECT * FROM kms_events WHERE event_id = 'ae551b19-8a09-4cfc-a249-205ddba330e3'");
    const original = events.find((e) => e.eventId === 'ae551b19-8a09-4cfc-a249-205ddba330e3');
    expect(rows).toHaveLength(1);
    const back = rowToEvent(rows[0] ?? {});
    // JSON columns come back as the same JSON (DuckDB may re-serialize); compare parsed.
    for (const field of ['raw', 'requestParameters', 'encryptionContext'] as const) {
      expect(JSON.parse(back[field] ?? 'null')).toEqual(JSON.parse(original?.[field] ?? 'null'));
    }
    expect({ ...back, raw: '', requestParameters: '', encryptionContext: '' }).toEqual({
      ...original,
      raw: '',
      requestParameters: '',
      encryptionContext: '',
    });
  });

  it('records a rejection once however often it is seen', async () => {
    const rejection = { sourceUri: 'bad.jsonl', position: 3, reason: 'invalid JSON at line 4', original: '{"eventID":' };
    await store.insertRejections([rejection, rejection]);
    await store.insertRejections([rejection]);
    expect(await db.all('SELECT source_uri, position, reason, original FROM rejected_records')).toEqual([
      { source_uri: 'bad.jsonl', position: 3, reason: 'invalid JSON at line 4', original: '{"eventID":' },
    ]);
  });
});

describe('Store: database file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keytrail-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('migrates a new file once and reopens it with its rows', async () => {
    const path = join(dir, 'nested', 'k.duckdb');
    const first = await KeytrailDb.open({ path });
    const some = corpusEvents().slice(0, 10);
    await new EventStore(first).insertEvents(some);
    first.close();
    const second = await KeytrailDb.open({ path });
    expect(await second.all('SELECT version FROM schema_version ORDER BY version')).toEqual(
      Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })),
    );
    expect(await count(second, 'kms_events')).toBe(new Set(some.map((e) => e.eventId)).size);
    second.close();
  });

  it('exports Hive partitions by account and date, readable back with every row', async () => {
    const db = await KeytrailDb.open({ path: join(dir, 'k.duckdb') });
    await new EventStore(db).insertEvents(corpusEvents());
    const lake = join(dir, 'lake');
    const result = await exportLake(db, lake);
    const stored = await count(db, 'kms_events');
    expect(result.rows).toBe(stored);
    const accounts = readdirSync(join(lake, 'kms_events')).sort();
    expect(accounts).toContain('account_id=111122223333');
    const back = await db.all(
      `SELECT count(*)::INTEGER AS n, count(DISTINCT event_date)::INTEGER AS days
       FROM read_parquet('${join(lake, 'kms_events')}/**/*.parquet', hive_partitioning = true)`,
    );
    expect(back[0]?.['n']).toBe(stored);
    expect(back[0]?.['days']).toBe(result.partitions > 0 ? Number((await db.all('SELECT count(DISTINCT event_date)::INTEGER AS d FROM kms_events'))[0]?.['d']) : 0);

    // A second export replaces partitions instead of adding files beside them.
    await exportLake(db, lake);
    const again = await db.all(
      `SELECT count(*)::INTEGER AS n FROM read_parquet('${join(lake, 'kms_events')}/**/*.parquet', hive_partitioning = true)`,
    );
    expect(again[0]?.['n']).toBe(stored);
    expect(readdirSync(lake).filter((name) => name.startsWith('.tmp-'))).toEqual([]);
    db.close();
  });
});
