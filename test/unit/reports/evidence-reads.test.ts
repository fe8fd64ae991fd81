import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { callerUsage, crossAccountRows, crossAccountSummary, periodTotals, summarizeCrossAccount } from '../../../src/reports/evidence.js';
import { buildComplianceReport, type ComplianceReport } from '../../../src/reports/index.js';
import { loadKeyLabels } from '../../../src/reports/labels.js';
import { packedRows } from '../../../src/reports/packed-rows.js';
import { resolvePeriod } from '../../../src/reports/period.js';
import { KeytrailDb } from '../../../src/store/database.js';
import { CONFIG, K1, K1_ID, K2, K3, K3_ID, MARCH, NOW, OWNER, openSeededDb } from './seed.js';

// How the report reads its evidence quickly; each must give what the plain reading gives.

describe('packedRows', () => {
  let db: KeytrailDb;
  beforeAll(async () => {
    db = await KeytrailDb.open({ path: ':memory:', threads: 1 });
    await db.exec(`CREATE TABLE t AS SELECT * FROM (VALUES
      (2, 'b', NULL, 7, true, TIMESTAMP '2024-03-01 01:41:59.12', ['x', 'y']),
      (1, 'a', 'arn:aws:iam::111122223333:role/R', NULL, false, TIMESTAMP '2024-03-02 00:00:00', []),
      (3, '', 'c', 0, NULL, NULL, NULL)
    ) v (n, name, arn, hits, flag, seen_at, items)`);
  });
  afterAll(() => db.close());

  const columns = { text: ['name', 'arn'], numbers: ['n', 'hits', 'flag'], others: ['seen_at', 'items'], orderBy: 'n' };
  const pick = (rows: Record<string, unknown>[]) => rows.map((r) => Object.fromEntries(['n', 'name', 'arn', 'hits', 'flag', 'seen_at', 'items'].map((c) => [c, r[c]])));

  it('reads text, numbers, booleans, NULLs and other columns as KeytrailDb.all does, in orderBy order', async () => {
    const plain = await db.all('SELECT * FROM t ORDER BY n');
    const packed = await packedRows(db, 'SELECT * FROM t', {}, columns);
    expect(pick(packed)).toEqual(pick(plain));
    // An empty text stays text; only NULL is null.
    expect(packed.map((r) => [r['name'], r['arn'] === null])).toEqual([['a', false], ['b', true], ['', false]]);
    expect(packed.map((r) => r['flag'])).toEqual([false, true, null]);
  });

  it('reads the rows again value by value when a value holds the separator', async () => {
    await db.exec(`INSERT INTO t VALUES (4, 'one' || chr(31) || 'two', NULL, 1, true, NULL, NULL)`);
    const packed = await packedRows(db, 'SELECT * FROM t', {}, columns);
    expect(packed.map((r) => r['name'])).toEqual(['a', 'b', '', 'one\u001ftwo']);
    expect(pick(packed)).toEqual(pick(await db.all('SELECT * FROM t ORDER BY n')));
  });
});

describe('Evidence: the shortcuts give what the full reading gives', () => {
  let db: KeytrailDb;
  beforeAll(async () => {
    db = await openSeededDb();
  });
  afterAll(() => db.close());

  it('summarizes cross-account use in SQL as summarizeCrossAccount does from every operation row', async () => {
    const period = await resolvePeriod(db, MARCH, NOW);
    const labels = await loadKeyLabels(db, CONFIG);
    const summary = await crossAccountSummary(db, period, labels, CONFIG, NOW);
    expect(summary).toEqual(summarizeCrossAccount(await crossAccountRows(db, period, labels, CONFIG, NOW)));
    // Declared vendor, trusted account, suppressed and unknown callers are all there.
    expect(new Set(summary.map((s) => `${s.access}|${s.suppressedBy === null}`)).size).toBe(4);
  });

  it('counts the callers of the totals as periodTotals does on its own', async () => {
    const period = await resolvePeriod(db, MARCH, NOW);
    const callers = await callerUsage(db, period);
    expect(await periodTotals(db, period, callers.callers)).toEqual(await periodTotals(db, period));
    expect(callers.callers).toBeGreaterThan(callers.byPrincipal.length);
  });
});

describe('Evidence: rows that name their key by bare id', () => {
  let db: KeytrailDb;
  let before: ComplianceReport;
  const sections = (r: ComplianceReport) => ({ keys: r.keys, transitions: r.transitions, totals: r.totals, usage: r.usage, crossAccount: r.crossAccount, pendingDeletion: r.pendingDeletion });

  beforeEach(async () => {
    db = await openSeededDb();
    before = await buildComplianceReport(db, { config: CONFIG, ...MARCH, now: NOW });
  });
  afterEach(() => db.close());

  it('counts them under the one ARN the store knows for the key id', async () => {
    // The owner's copies of K1's decrypts (their caller's copies keep the ARN), and K2's scheduling.
    await db.exec(`UPDATE kms_events SET key_arn = NULL WHERE (key_arn = $k1 AND event_name = 'Decrypt' AND recipient_account_id = $owner)
      OR (key_arn = $k2 AND event_name = 'ScheduleKeyDeletion')`, { k1: K1, k2: K2, owner: OWNER });
    const [bare] = await db.all('SELECT count(*)::INTEGER AS n FROM kms_events WHERE key_arn IS NULL AND key_id IS NOT NULL');
    expect(Number(bare?.['n'])).toBeGreaterThan(1);
    const after = await buildComplianceReport(db, { config: CONFIG, ...MARCH, now: NOW });
    expect(sections(after)).toEqual(sections(before));
    expect(after.keys.find((k) => k.keyId === K1_ID)).toMatchObject({ keyArn: K1, calls: 12 });
  });

  it('orders the days of a key id logged under several ARNs by ARN, the bare id last', async () => {
    const replica = K3.replace(':us-west-2:', ':eu-west-1:');
    const copy = (eventId: string, arn: string) =>
      `INSERT INTO kms_events SELECT * REPLACE ('${eventId}' AS event_id, ${arn} AS key_arn, NULL AS shared_event_id)
       FROM kms_events WHERE key_arn = $k3 AND event_name = 'ScheduleKeyDeletion' AND event_date = DATE '2024-03-10'`;
    await db.exec(copy('replica-copy', `'${replica}'`), { k3: K3 });
    await db.exec(copy('bare-copy', 'NULL::VARCHAR'), { k3: K3 });
    const after = await buildComplianceReport(db, { config: CONFIG, ...MARCH, now: NOW });
    const day = after.usage.dailyByKey.filter((d) => d.keyId === K3_ID && d.day === '2024-03-10');
    expect(day.map((d) => d.keyArn)).toEqual([replica, K3, null]);
    // Days, then key ids, in order.
    const order = after.usage.dailyByKey.map((d) => `${d.day}|${d.keyId}`);
    expect(order).toEqual([...order].sort());
  });
});
