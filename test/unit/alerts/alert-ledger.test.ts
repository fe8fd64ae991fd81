import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertLedger } from '../../../src/findings/ledger.js';
import { KeytrailDb } from '../../../src/store/database.js';
import { findingIdFor } from './sample-findings.js';

let db: KeytrailDb;
let ledger: AlertLedger;

beforeEach(async () => {
  db = await KeytrailDb.open({ path: ':memory:' });
  ledger = new AlertLedger(db);
});
afterEach(() => db.close());

describe('AlertLedger', () => {
  it('lists as unpublished what has not been marked for that sink, in input order without duplicates', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((s) => findingIdFor(s));
    await ledger.markPublished(String(b), 'sns:topic', 'm-1');
    expect(await ledger.unpublished([String(a), String(b), String(c), String(a)], 'sns:topic')).toEqual([a, c]);
    // Another sink has its own record.
    expect(await ledger.unpublished([String(a), String(b), String(c)], 'eventbridge:bus')).toEqual([a, b, c]);
  });

  it('keeps the first record when the same delivery is marked twice', async () => {
    const id = findingIdFor('x');
    await ledger.markPublished(id, 'sns:topic', 'first');
    await ledger.markPublished(id, 'sns:topic', 'second');
    const deliveries = await ledger.deliveries(id);
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ sink: 'sns:topic', messageId: 'first' });
    expect(deliveries[0]?.publishedAt).toMatch(/^\d{4}-\d{2}-\d{2}/);
  });

  it('records many deliveries at once, the first of duplicates winning', async () => {
    const [a, b] = [findingIdFor('a'), findingIdFor('b')];
    await ledger.markPublished(a, 'sns:topic', 'earlier');
    await ledger.markAllPublished('sns:topic', [
      { findingId: a, messageId: 'later' },
      { findingId: b, messageId: 'b-1' },
      { findingId: b, messageId: 'b-2' },
    ]);
    expect(await ledger.deliveries(a)).toMatchObject([{ messageId: 'earlier' }]);
    expect(await ledger.deliveries(b)).toMatchObject([{ messageId: 'b-1' }]);
  });

  it('accepts a delivery without a message id', async () => {
    const id = findingIdFor('y');
    await ledger.markPublished(id, 'eventbridge:bus', null);
    expect(await ledger.deliveries(id)).toMatchObject([{ sink: 'eventbridge:bus', messageId: null }]);
  });

  it('answers for more ids than one query binds', async () => {
    const ids = Array.from({ length: 700 }, (_, i) => findingIdFor(String(i)));
    await ledger.markAllPublished(
      'sns:topic',
      ids.filter((_, i) => i % 3 === 0).map((findingId) => ({ findingId, messageId: `m-${findingId}` })),
    );
    const pending = await ledger.unpublished(ids, 'sns:topic');
    expect(pending).toEqual(ids.filter((_, i) => i % 3 !== 0));
  });

  it('treats ids as data, not SQL', async () => {
    const hostile = "x' OR '1'='1";
    await ledger.markPublished(findingIdFor('z'), 'sns:topic', null);
    expect(await ledger.unpublished([hostile], 'sns:topic')).toEqual([hostile]);
  });
});
