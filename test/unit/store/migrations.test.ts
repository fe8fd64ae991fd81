import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storedEventDays, usageWindow } from '../../../src/analysis/evidence.js';
import { normalizeValue } from '../../../src/normalize/normalize.js';
import type { KmsEvent } from '../../../src/normalize/types.js';
import { KeytrailDb } from '../../../src/store/database.js';
import { EventStore } from '../../../src/store/event-store.js';
import { LATEST_SCHEMA_VERSION } from '../../../src/store/migrations.js';
import { corpusLines } from '../../support/corpus.js';
import { decryptOf, KEY_A, KEY_B, KEY_C, reEncryptOf } from '../../support/synthetic-events.js';

/** Every corpus event, plus ReEncrypts naming their destination each way CloudTrail has. */
function sampleEvents(): KmsEvent[] {
  const corpus = corpusLines.flatMap((line, position) => {
    const result = normalizeValue(JSON.parse(line), { uri: 'corpus.jsonl', position }, '2026-11-27T00:00:00.000Z');
    return result.kind === 'event' ? [result.event] : [];
  });
  return [
    ...corpus,
    reEncryptOf(KEY_A, KEY_B, 're-resources', '2026-03-02T10:00:00Z', 'resources'),
    reEncryptOf(KEY_A, KEY_C, 're-arn', '2026-03-02T11:00:00Z', 'request-arn'),
    reEncryptOf(KEY_A, 'mrk-1234abcd12ab34cd56ef1234567890ab', 're-id', '2026-03-02T12:00:00Z', 'request-id'),
    reEncryptOf(KEY_A, KEY_B, 're-alias', '2026-03-02T13:00:00Z', 'request-alias'),
  ];
}

describe('Store: migration 3 on a database written before it', () => {
  let db: KeytrailDb;
  beforeEach(async () => {
    db = await KeytrailDb.open({ path: ':memory:' });
  });
  afterEach(() => db.close());

  it('derives destination_key, service_resource and the stored days exactly as the normalizer does', async () => {
    const events = sampleEvents();
    await new EventStore(db).insertEvents(events);
    // Take the database back to version 2: what an existing keytrail.duckdb looks like.
    for (const statement of [
      'ALTER TABLE kms_events DROP COLUMN destination_key',
      'ALTER TABLE kms_events DROP COLUMN destination_key_id',
      'ALTER TABLE kms_events DROP COLUMN service_resource',
      'DROP TABLE kms_event_days',
      'DROP TABLE store_layout',
      'DELETE FROM schema_version WHERE version >= 3',
    ]) {
      await db.exec(statement);
    }

    expect(await db.migrate()).toBe(LATEST_SCHEMA_VERSION);

    const rows = await db.all('SELECT event_id, destination_key, destination_key_id, service_resource FROM kms_events');
    const stored = new Map(rows.map((r) => [String(r['event_id']), r]));
    // The corpus reuses eventIDs for different examples: the first copy is the stored one.
    const firstCopies = new Map<string, KmsEvent>();
    for (const e of events) if (!firstCopies.has(e.eventId)) firstCopies.set(e.eventId, e);
    expect(stored.size).toBe(firstCopies.size);
    for (const [id, event] of firstCopies) {
      const row = stored.get(id);
      expect({ id, destination: row?.['destination_key'], destinationId: row?.['destination_key_id'], resource: row?.['service_resource'] }).toEqual({
        id,
        destination: event.destinationKey,
        destinationId: event.destinationKeyId,
        resource: event.serviceResource,
      });
    }
    // The sample exercises every branch.
    expect([...firstCopies.values()].filter((e) => e.destinationKey !== null)).toHaveLength(3);
    expect([...firstCopies.values()].filter((e) => e.serviceResource !== null).length).toBeGreaterThanOrEqual(8);

    const days = await db.all(`SELECT strftime(event_date, '%Y-%m-%d') AS d FROM kms_event_days ORDER BY 1`);
    expect(days.map((r) => r['d'])).toEqual([...new Set([...firstCopies.values()].map((e) => e.eventDate))].sort());
  });
});

describe('Store: the days with stored events', () => {
  let db: KeytrailDb;
  let store: EventStore;
  beforeEach(async () => {
    db = await KeytrailDb.open({ path: ':memory:' });
    store = new EventStore(db);
  });
  afterEach(() => db.close());

  const window = usageWindow(10, '2026-03-10', null);

  it('records the day of every stored event, through the fast and the de-duplicating insert', async () => {
    await store.insertEvents([decryptOf(KEY_A, 'a', '2026-03-02T10:00:00Z'), decryptOf(KEY_A, 'b', '2026-03-05T23:59:59Z')]);
    expect(await storedEventDays(db, window)).toEqual(['2026-03-02', '2026-03-05']);
    // A batch with a redelivery takes the de-duplicating path; its new event adds its day.
    await store.insertEvents([decryptOf(KEY_A, 'a', '2026-03-02T10:00:00Z'), decryptOf(KEY_B, 'c', '2026-03-07T00:00:00Z')]);
    expect(await storedEventDays(db, window)).toEqual(['2026-03-02', '2026-03-05', '2026-03-07']);
  });

  it('adds no day for an event it did not store (an eventID conflict)', async () => {
    await store.insertEvents([decryptOf(KEY_A, 'a', '2026-03-02T10:00:00Z')]);
    const result = await store.insertEvents([decryptOf(KEY_A, 'a', '2026-03-09T10:00:00Z')]);
    expect(result.conflicts).toBe(1);
    expect(await storedEventDays(db, window)).toEqual(['2026-03-02']);
  });

  it('reads kms_events when nothing keeps the days (kms_events as a view over a lake)', async () => {
    await store.insertEvents([decryptOf(KEY_A, 'a', '2026-03-02T10:00:00Z'), decryptOf(KEY_A, 'b', '2026-03-04T10:00:00Z')]);
    await db.exec('DELETE FROM kms_event_days');
    expect(await storedEventDays(db, window)).toEqual(['2026-03-02', '2026-03-04']);
  });

  it('answers from kms_event_days alone when it is kept', async () => {
    await store.insertEvents([decryptOf(KEY_A, 'a', '2026-03-02T10:00:00Z')]);
    // A day recorded there counts even if kms_events lacks it: the table is the source of the answer.
    await db.exec(`INSERT INTO kms_event_days VALUES ('2026-03-03')`);
    expect(await storedEventDays(db, window)).toEqual(['2026-03-02', '2026-03-03']);
    expect(await storedEventDays(db, usageWindow(3, '2026-03-20', null))).toEqual([]);
  });
});
