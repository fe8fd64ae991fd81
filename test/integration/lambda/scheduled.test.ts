import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Row } from '../../../src/store/database.js';
import { asEventBridge, corpusRecord } from '../../support/corpus.js';
import {
  copyAt,
  lambdaContext,
  onKey,
  sqsEvent,
  startLambdaHarness,
  uuidFrom,
  type LambdaHarness,
  type ScheduledHandler,
  type SqsHandler,
} from './harness.js';

/** functions/scheduled against local S3 and SNS: lake compaction, query detectors, the daily report. */

const DECRYPT = 9;
const ENCRYPT = 26;
const DISABLE_KEY = 22;
const KEY_1 = 'eeee0001-12ab-34cd-56ef-1234567890ab';
const KEY_2 = 'eeee0002-12ab-34cd-56ef-1234567890ab';
const KEY_3 = 'eeee0003-12ab-34cd-56ef-1234567890ab';

let h: LambdaHarness;
let ingest: SqsHandler;
let scheduled: ScheduledHandler;

beforeAll(async () => {
  h = await startLambdaHarness();
  ingest = await h.coldStart<SqsHandler>('ingest-events');
  scheduled = await h.coldStart<ScheduledHandler>('scheduled');
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

function body(record: Record<string, unknown>): string {
  return JSON.stringify(asEventBridge(record, uuidFrom(`eb ${String(record['eventID'])}`)));
}

async function ingestBatch(records: Record<string, unknown>[]): Promise<void> {
  const response = await ingest(sqsEvent(records.map(body)), lambdaContext());
  expect(response.batchItemFailures).toEqual([]);
}

/** Rows without the reader's `filename` column, one per event id (earliest ingested copy), by event id. */
function distinctRows(rows: Row[]): Row[] {
  const byId = new Map<string, Row>();
  for (const row of rows) {
    const { filename: _filename, ...rest } = row;
    const id = String(rest['event_id']);
    const kept = byId.get(id);
    if (!kept || String(rest['ingested_at']) < String(kept['ingested_at'])) byId.set(id, rest);
  }
  return [...byId.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, row]) => row);
}

describe('Lambda: scheduled', () => {
  it('compacts each partition into one part sorted by key_id, event_time, with the same rows', async () => {
    const use = (key: string, time: string, seed: string, n = DECRYPT) => copyAt(onKey(corpusRecord(n), key), time, seed);
    // Partition 2021-05-01: three batches, keys interleaved in time; one event delivered twice.
    const retried = use(KEY_2, '2021-05-01T10:00:00Z', 'c4');
    await ingestBatch([use(KEY_3, '2021-05-01T09:00:00Z', 'c1'), use(KEY_1, '2021-05-01T12:00:00Z', 'c2', ENCRYPT)]);
    await ingestBatch([use(KEY_2, '2021-05-01T08:00:00Z', 'c3'), retried]);
    await ingestBatch([use(KEY_1, '2021-05-01T07:00:00Z', 'c5'), retried]);
    // Partition 2021-05-02: two parts; 2021-05-03: one part, left alone.
    await ingestBatch([use(KEY_3, '2021-05-02T01:00:00Z', 'c6')]);
    await ingestBatch([use(KEY_1, '2021-05-02T02:00:00Z', 'c7')]);
    await ingestBatch([use(KEY_1, '2021-05-03T02:00:00Z', 'c8')]);
    await h.notifications();

    const before = await h.lakeRows();
    const keysBefore = await h.lakeKeys();
    expect(keysBefore.filter((k) => k.includes('event_date=2021-05-01/'))).toHaveLength(3);
    expect(keysBefore.filter((k) => k.includes('event_date=2021-05-02/'))).toHaveLength(2);
    const single = keysBefore.filter((k) => k.includes('event_date=2021-05-03/'));
    expect(single).toHaveLength(1);

    h.s3.reset();
    const result = (await scheduled({ task: 'compact', days: 3_660 }, lambdaContext())) as { compacted: { inputRows: number; outputRows: number }[] };
    expect(result.compacted).toHaveLength(2);
    expect(result.compacted.map((c) => [c.inputRows, c.outputRows]).sort()).toEqual([
      [2, 2],
      [6, 5],
    ]);

    const keysAfter = await h.lakeKeys();
    for (const date of ['2021-05-01', '2021-05-02', '2021-05-03']) expect(keysAfter.filter((k) => k.includes(`event_date=${date}/`))).toHaveLength(1);
    expect(keysAfter.filter((k) => k.includes('event_date=2021-05-03/'))).toEqual(single);
    // The single-part partition was not rewritten; the merged ones were written before any delete.
    const writes = h.s3.requests.filter((r) => r.key?.startsWith('kms_events/') && (r.method === 'PUT' || r.method === 'POST' || r.method === 'DELETE'));
    expect(writes.some((r) => r.key === single[0])).toBe(false);
    const firstPut = h.s3.requests.findIndex((r) => r.method === 'PUT' && r.key?.startsWith('kms_events/'));
    const firstDelete = h.s3.requests.findIndex((r) => r.method === 'POST' && r.query.includes('delete'));
    expect(firstPut).toBeGreaterThanOrEqual(0);
    expect(firstDelete).toBeGreaterThan(firstPut);

    const after = await h.lakeRows();
    expect(after).toHaveLength(new Set(before.map((r) => r['event_id'])).size);
    expect(distinctRows(after)).toEqual(distinctRows(before));

    // In file order, each merged part is sorted by key_id, then event_time.
    for (const key of keysAfter.filter((k) => !k.includes('event_date=2021-05-03/'))) {
      const file = after.filter((r) => String(r['filename']).endsWith(key));
      const order = file.map((r) => `${String(r['key_id'])} ${String(r['event_time'])}`);
      expect(order).toEqual([...order].sort());
    }

    // Nothing left to merge: a second run writes nothing.
    h.s3.reset();
    const again = (await scheduled({ task: 'compact', days: 3_660 }, lambdaContext())) as { compacted: unknown[] };
    expect(again.compacted).toEqual([]);
    expect(h.s3.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  }, 180_000);

  it('runs the query detectors over the recent window from the lake and alerts once', async () => {
    const now = Date.now();
    const denied = Array.from({ length: 12 }, (_, i) => {
      const record = copyAt(onKey(corpusRecord(DECRYPT), KEY_2), new Date(now - 2 * 3_600_000 + i * 30_000).toISOString().replace('.000Z', 'Z'), `deny ${i}`);
      return { ...record, errorCode: 'AccessDeniedException', errorMessage: 'User: arn:aws:iam::111122223333:user/Alice is not authorized to perform: kms:Decrypt' };
    });
    await ingestBatch(denied.slice(0, 6));
    await ingestBatch(denied.slice(6));
    await h.notifications();

    // A fresh container: the window's events come from the lake only.
    const fresh = await h.coldStart<ScheduledHandler>('scheduled');
    const first = (await fresh({ task: 'detect' }, lambdaContext())) as { findings: number; history: { loaded: number } };
    expect(first.history.loaded).toBeGreaterThanOrEqual(2);
    const findings = await h.findings();
    expect(findings.map((f) => f.detector_id)).toEqual(['KMS.AccessDeniedBurst']);
    expect(findings[0]?.event_ids).toHaveLength(12);

    await fresh({ task: 'detect' }, lambdaContext());
    await scheduled({ task: 'detect' }, lambdaContext());
    expect(await h.notifications()).toEqual([]);
  }, 180_000);

  it('writes the daily report to S3 and sends its SNS summary once', async () => {
    const disable = copyAt(onKey(corpusRecord(DISABLE_KEY), KEY_3), '2021-06-01T09:00:00Z', 'r disable');
    await ingestBatch([copyAt(onKey(corpusRecord(ENCRYPT), KEY_3), '2021-06-01T08:00:00Z', 'r use'), disable]);
    await h.notifications();

    const result = (await scheduled({ task: 'daily-report', date: '2021-06-01' }, lambdaContext())) as {
      jsonKey: string;
      markdownKey: string;
      summarySent: boolean;
    };
    expect(result).toMatchObject({ jsonKey: 'reports/daily/2021-06-01.json', markdownKey: 'reports/daily/2021-06-01.md', summarySent: true });
    const report = JSON.parse((await h.s3.get(h.lakeBucket, result.jsonKey)).toString('utf8')) as Record<string, unknown>;
    expect(report).toMatchObject({
      date: '2021-06-01',
      totals: { events: 2, errors: 0, keys: 1 },
      findings: { total: 1, byDetector: { 'KMS.KeyDisabled': 1 } },
      administrativeCalls: [{ operation: 'DisableKey', eventTime: '2021-06-01T09:00:00Z' }],
    });
    expect((await h.s3.get(h.lakeBucket, result.markdownKey)).toString('utf8')).toContain('# keytrail daily report — 2021-06-01');

    const [summary, ...rest] = await h.notifications();
    expect(rest).toEqual([]);
    expect(summary?.Subject).toBe('keytrail daily report 2021-06-01: 1 finding(s)');
    expect(summary?.MessageAttributes?.['report']?.Value).toBe('daily');

    const again = (await scheduled({ task: 'daily-report', date: '2021-06-01' }, lambdaContext())) as { summarySent: boolean };
    expect(again.summarySent).toBe(false);
    expect(await h.notifications()).toEqual([]);
  }, 180_000);

  it('rejects an unknown task, naming the field', async () => {
    await expect(scheduled({ task: 'vacuum' }, lambdaContext())).rejects.toThrow(/task: task must be one of "detect", "compact", "daily-report"/);
    await expect(scheduled({ task: 'daily-report', date: '01/06/2021' }, lambdaContext())).rejects.toThrow(/date/);
  });
});
