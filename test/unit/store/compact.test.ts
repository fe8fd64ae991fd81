import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pastUsage } from '../../../src/analysis/past-usage.js';
import { DEFAULT_CONFIG } from '../../../src/config/schema.js';
import { compactEvents, needsCompaction, storeLayout } from '../../../src/store/compact.js';
import { KeytrailDb } from '../../../src/store/database.js';
import { EventStore } from '../../../src/store/event-store.js';
import { runCli } from '../../support/cli.js';
import { interleavedDecrypts, KEY_B, KEY_A, KEY_C, keyArnOf, reEncryptOf } from '../../support/synthetic-events.js';

/** The compacted order's key per row: the key id, or for a ReEncrypt the destination's key id after every other row. */
async function keyOrder(db: KeytrailDb): Promise<{ key_id: string; event_time: string }[]> {
  return (await db.all(
    `SELECT CASE WHEN destination_key_id IS NULL THEN '0 ' || key_id ELSE '1 ' || destination_key_id END AS key_id,
       strftime(event_time, '%Y-%m-%dT%H:%M:%S') AS event_time FROM kms_events ORDER BY rowid`,
  )) as never;
}

function isKeyOrdered(rows: readonly { key_id: string; event_time: string }[]): boolean {
  return rows.every((r, i) => {
    const p = rows[i - 1];
    return p === undefined || p.key_id < r.key_id || (p.key_id === r.key_id && p.event_time <= r.event_time);
  });
}

describe('Store: compaction', () => {
  let db: KeytrailDb;
  let store: EventStore;
  beforeEach(async () => {
    db = await KeytrailDb.open({ path: ':memory:' });
    store = new EventStore(db);
  });
  afterEach(() => db.close());

  it('rewrites kms_events in key order, ReEncrypts last under their destination, with the same rows, days and answers', async () => {
    const events = interleavedDecrypts(300);
    // ReEncrypt calls into the second key, logged under the first: found through the index.
    events.push(reEncryptOf(KEY_A, KEY_B, 're-1', '2026-03-02T10:00:00Z'), reEncryptOf(KEY_C, KEY_B, 're-2', '2026-03-03T10:00:00Z', 'request-id'));
    for (let i = 0; i < events.length; i += 50) await store.insertEvents(events.slice(i, i + 50));
    expect(isKeyOrdered(await keyOrder(db))).toBe(false);
    const ids = async () => (await db.all('SELECT event_id FROM kms_events ORDER BY event_id')).map((r) => r['event_id']);
    const days = async () => (await db.all('SELECT event_date::VARCHAR AS d FROM kms_event_days ORDER BY 1')).map((r) => r['d']);
    const idsBefore = await ids();
    const daysBefore = await days();
    const before = await pastUsage(db, keyArnOf(KEY_B), { config: DEFAULT_CONFIG });
    expect(before.ciphertexts.allStored).toBeGreaterThanOrEqual(2);
    expect(await storeLayout(db)).toEqual({ rows: 302, sortedRows: 0, compactedAt: null });

    const layout = await compactEvents(db);

    expect(layout).toMatchObject({ rows: 302, sortedRows: 302 });
    expect(layout.compactedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(isKeyOrdered(await keyOrder(db))).toBe(true);
    expect(await ids()).toEqual(idsBefore);
    expect(await days()).toEqual(daysBefore);
    expect(await pastUsage(db, keyArnOf(KEY_B), { config: DEFAULT_CONFIG })).toEqual(before);
    expect((await db.all('SELECT destination_key_id FROM kms_events ORDER BY rowid DESC LIMIT 2')).map((r) => r['destination_key_id'])).toEqual([KEY_B, KEY_B]);
    // NOT NULL constraints survive the rewrite.
    await expect(db.exec(`INSERT INTO kms_events (event_id) VALUES ('x')`)).rejects.toThrow(/NOT NULL/);
  });

  it('counts rows appended after a compaction, and compacts only a large enough share', async () => {
    await store.insertEvents(interleavedDecrypts(120));
    await compactEvents(db);
    await store.insertEvents(interleavedDecrypts(30, Date.parse('2026-06-01T00:00:00Z'), 'late'));
    const layout = await storeLayout(db);
    expect(layout).toMatchObject({ rows: 150, sortedRows: 120 });
    expect(needsCompaction(layout, { minUnsortedRows: 10, minUnsortedShare: 0.1 })).toBe(true);
    expect(needsCompaction(layout, { minUnsortedRows: 31, minUnsortedShare: 0.1 })).toBe(false);
    expect(needsCompaction(layout, { minUnsortedRows: 10, minUnsortedShare: 0.25 })).toBe(false);
    expect(needsCompaction({ rows: 2_000_000, sortedRows: 1_900_000, compactedAt: null })).toBe(false);
    expect(needsCompaction({ rows: 2_000_000, sortedRows: 1_700_000, compactedAt: null })).toBe(true);
    expect(needsCompaction({ rows: 50_000, sortedRows: 0, compactedAt: null })).toBe(false);
  });
});

describe('CLI: keytrail compact', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'keytrail-compact-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('compacts a database file, which reopens in key order', async () => {
    const path = join(dir, 'store.duckdb');
    const db = await KeytrailDb.open({ path });
    await new EventStore(db).insertEvents(interleavedDecrypts(90));
    db.close();

    const result = runCli(['compact', '--db', path]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/compacting 90 rows \(90 appended since the last compaction\)/);
    expect(result.stdout).toMatch(/compacted 90 rows in key order/);

    const reopened = await KeytrailDb.open({ path });
    try {
      expect(isKeyOrdered(await keyOrder(reopened))).toBe(true);
      expect(await storeLayout(reopened)).toMatchObject({ rows: 90, sortedRows: 90 });
    } finally {
      reopened.close();
    }
  });
});
