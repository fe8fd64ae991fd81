import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../../src/config/schema.js';
import { normalizeValue } from '../../../src/normalize/normalize.js';
import type { KmsEvent } from '../../../src/normalize/types.js';
import { HistoryPlanner, LakeHistory, type HistoryScope } from '../../../src/pipeline/lambda-history.js';
import { EventBridgeQueueRecordSchema, TrailFileQueueRecordSchema } from '../../../src/pipeline/lambda-sqs.js';
import { decodeS3Key } from '../../../src/sources/s3-notification.js';
import type { LakePart } from '../../../src/store/s3-lake.js';
import { asEventBridge, corpusRecord, lifecycleEvent } from '../../support/corpus.js';
import { s3Notification, s3TestEvent, sqsEvent, viaSns } from './harness.js';

/** The queue record schemas and the history planner and loader, without servers. */

function record(body: string): Record<string, unknown> {
  const [first] = sqsEvent([body]).Records;
  return { ...first };
}

function reasons(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }): string[] {
  return result.success ? [] : (result.error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
}

function event(line: number, overrides: Record<string, unknown> = {}): KmsEvent {
  const result = normalizeValue({ ...corpusRecord(line), ...overrides }, { uri: 'test', position: 0 }, '2024-01-01T00:00:00.000Z');
  if (result.kind !== 'event') throw new Error(`corpus line ${line} did not normalize`);
  return result.event;
}

describe('EventBridgeQueueRecordSchema', () => {
  it('keeps the event as it arrived, fields in their order', () => {
    const body = JSON.stringify(asEventBridge(corpusRecord(9)));
    const parsed = EventBridgeQueueRecordSchema.parse(record(body));
    expect(JSON.stringify(parsed.body.event)).toBe(body);
    expect(parsed.body.id).toBe('2f1c7a3e-0000-4000-8000-000000000001');
  });

  it('accepts the three KMS lifecycle events and a service event', () => {
    for (const line of [1, 2, 3]) expect(EventBridgeQueueRecordSchema.safeParse(record(JSON.stringify(lifecycleEvent(line)))).success).toBe(true);
    const serviceEvent = asEventBridge({ ...corpusRecord(18), eventType: 'AwsServiceEvent' });
    expect(serviceEvent['detail-type']).toBe('AWS Service Event via CloudTrail');
    expect(EventBridgeQueueRecordSchema.safeParse(record(JSON.stringify(serviceEvent))).success).toBe(true);
  });

  it('names what is wrong without quoting the body', () => {
    expect(reasons(EventBridgeQueueRecordSchema.safeParse(record('{"secret": "tenant-42"')))).toEqual(['body: not JSON (22 characters)']);
    const noTime = asEventBridge(corpusRecord(9));
    noTime['detail'] = { ...corpusRecord(9), eventTime: 'yesterday' };
    expect(reasons(EventBridgeQueueRecordSchema.safeParse(record(JSON.stringify(noTime))))).toEqual(['body.detail.eventTime: eventTime is not an ISO-8601 timestamp']);
    const other = { ...asEventBridge(corpusRecord(9)), 'detail-type': 'Object Created', source: 'aws.s3' };
    expect(reasons(EventBridgeQueueRecordSchema.safeParse(record(JSON.stringify(other))))[0]).toMatch(
      /^body\.detail-type: not an EventBridge event keytrail consumes: detail-type must be one of "AWS API Call via CloudTrail"/,
    );
  });
});

describe('TrailFileQueueRecordSchema', () => {
  const key = 'AWSLogs/o-exampleorg1/111122223333/CloudTrail/us-east-1/2024/05/01/file name.json.gz';

  it('reads S3, SNS-wrapped S3 and CloudTrail notifications, and the test event', () => {
    const direct = TrailFileQueueRecordSchema.parse(record(s3Notification('trail', [key])));
    expect(direct.body).toEqual({ kind: 'objects', via: 's3', objects: [{ bucket: 'trail', key, size: 1024 }], ignoredEvents: [] });
    expect(TrailFileQueueRecordSchema.parse(record(viaSns(s3Notification('trail', [key])))).body).toMatchObject({ via: 'sns+s3', objects: [{ key }] });
    const cloudtrail = JSON.stringify({ s3Bucket: 'trail', s3ObjectKey: [key] });
    expect(TrailFileQueueRecordSchema.parse(record(cloudtrail)).body).toMatchObject({ via: 'cloudtrail', objects: [{ key }] });
    expect(TrailFileQueueRecordSchema.parse(record(viaSns(cloudtrail))).body).toMatchObject({ via: 'sns+cloudtrail' });
    expect(TrailFileQueueRecordSchema.parse(record(s3TestEvent('trail'))).body).toEqual({ kind: 'test-event' });
  });

  it('ignores removals and names the field of a broken notification', () => {
    const removed = JSON.parse(s3Notification('trail', [key])) as { Records: { eventName: string }[] };
    for (const r of removed.Records) r.eventName = 'ObjectRemoved:Delete';
    expect(TrailFileQueueRecordSchema.parse(record(JSON.stringify(removed))).body).toEqual({ kind: 'objects', via: 's3', objects: [], ignoredEvents: ['ObjectRemoved:Delete'] });

    const broken = JSON.parse(s3Notification('trail', [key])) as { Records: { s3: { bucket: Record<string, unknown> } }[] };
    delete broken.Records[0]?.s3.bucket['name'];
    expect(reasons(TrailFileQueueRecordSchema.safeParse(record(viaSns(JSON.stringify(broken)))))).toEqual([
      'body.Message.Records.0.s3.bucket.name: Invalid input: expected string, received undefined',
    ]);
    expect(reasons(TrailFileQueueRecordSchema.safeParse(record('{"hello":"world"}')))[0]).toMatch(/^body: not an S3 event notification/);
  });

  it('decodes keys the way S3 encodes them', () => {
    expect(decodeS3Key('AWSLogs/a+b%3Dc%2B.json.gz')).toBe('AWSLogs/a b=c+.json.gz');
    expect(decodeS3Key('100%.json')).toBe('100%.json');
  });
});

describe('HistoryPlanner', () => {
  const planner = new HistoryPlanner({ ...DEFAULT_CONFIG, detection: { ...DEFAULT_CONFIG.detection, lookback_days: 30 } });

  it('asks for history only for events whose detectors need it', () => {
    expect(planner.needsHistory(event(47))).toBe(true); // ScheduleKeyDeletion: past usage
    expect(planner.needsHistory(event(22))).toBe(true); // DisableKey: past usage
    expect(planner.needsHistory(event(9))).toBe(false); // Decrypt
    expect(planner.needsHistory(event(47, { errorCode: 'AccessDeniedException' }))).toBe(false); // failed: scheduled nothing
  });

  it('covers the lookback window of the key owner and the logging account', () => {
    const scope: HistoryScope = new Map();
    planner.addTo(scope, event(47, { recipientAccountId: '444455556666' }));
    planner.addTo(scope, event(47, { eventTime: '2021-02-01T00:00:00Z' }));
    expect(scope).toEqual(
      new Map([
        ['111122223333', { from: '2021-01-02', to: '2021-03-23' }],
        ['444455556666', { from: '2021-02-21', to: '2021-03-23' }],
      ]),
    );
  });
});

describe('LakeHistory', () => {
  const part = (eventDate: string, size: number, n: number): LakePart => ({
    key: `kms_events/account_id=111122223333/event_date=${eventDate}/part-${n}.parquet`,
    accountId: '111122223333',
    eventDate,
    etag: `"etag-${n}"`,
    size,
  });
  const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined };

  it('loads newest partitions first within the budget, in chunks, and each part once per database', async () => {
    const parts = [part('2021-03-01', 300, 1), part('2021-03-03', 300, 2), part('2021-03-02', 300, 3), part('2021-03-04', 300, 4)];
    const loads: string[][] = [];
    const lake = {
      listParts: async () => parts,
      loadParts: async (_db: unknown, chunk: readonly LakePart[]) => {
        loads.push(chunk.map((p) => p.eventDate));
        return chunk.length * 10;
      },
    };
    const history = new LakeHistory(lake, { maxBytes: 1_000, logger: silent });
    const scope: HistoryScope = new Map([['111122223333', { from: '2021-03-01', to: '2021-03-04' }]]);
    const db = {} as never;

    const first = await history.ensure(db, 0, scope);
    expect(first).toEqual({ listed: 4, loaded: 3, rows: 30, bytes: 900, skipped: 1, truncatedBefore: '2021-03-02' });
    // Chunks of at most a quarter of the budget (one part each here), newest first.
    expect(loads).toEqual([['2021-03-04'], ['2021-03-03'], ['2021-03-02']]);

    loads.length = 0;
    const again = await history.ensure(db, 0, scope);
    expect(again.loaded).toBe(1);
    expect(loads).toEqual([['2021-03-01']]);

    // A recreated database has forgotten everything.
    loads.length = 0;
    expect((await history.ensure(db, 1, scope)).loaded).toBe(3);
  });
});
