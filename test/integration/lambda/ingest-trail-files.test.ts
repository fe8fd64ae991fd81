import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusRecord } from '../../support/corpus.js';
import {
  copyAt,
  lambdaContext,
  onKey,
  s3Notification,
  s3TestEvent,
  sqsEvent,
  startLambdaHarness,
  trailFile,
  viaSns,
  type LambdaHarness,
  type SqsHandler,
} from './harness.js';

/**
 * functions/ingest-trail-files against local S3 and SNS: notifications in every shape S3, SNS and
 * CloudTrail send, org-trail keys, digest files skipped, bad objects failing their record alone.
 */

const ORG = 'o-exampleorg1';
const DECRYPT = 9;
const ENCRYPT = 26;
const SCHEDULE_KEY_DELETION = 47;
const KEY_T = 'dddd0004-12ab-34cd-56ef-1234567890ab';

let h: LambdaHarness;
let handler: SqsHandler;

beforeAll(async () => {
  h = await startLambdaHarness();
  handler = await h.coldStart<SqsHandler>('ingest-trail-files');
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

function trailKey(account: string, day: string, name: string): string {
  const [y, m, d] = day.split('-');
  return `AWSLogs/${ORG}/${account}/CloudTrail/us-west-2/${y}/${m}/${d}/${account}_CloudTrail_us-west-2_${y}${m}${d}T0000Z_${name}.json.gz`;
}

function inAccount(record: Record<string, unknown>, account: string): Record<string, unknown> {
  return { ...record, recipientAccountId: account };
}

describe('Lambda: ingest-trail-files', () => {
  const usage = [
    copyAt(onKey(corpusRecord(DECRYPT), KEY_T), '2021-03-20T01:00:00Z', 't1'),
    copyAt(onKey(corpusRecord(ENCRYPT), KEY_T), '2021-03-20T02:00:00Z', 't2'),
  ];
  // The rest of a trail: not about KMS, read and ignored.
  const s3Call: Record<string, unknown> = { ...copyAt(corpusRecord(DECRYPT), '2021-03-20T03:00:00Z', 't3'), eventSource: 's3.amazonaws.com', eventName: 'GetObject', resources: null };
  const schedule = inAccount(copyAt(onKey(corpusRecord(SCHEDULE_KEY_DELETION), KEY_T), '2021-03-21T10:00:00Z', 't schedule'), '111122223333');
  const viaCloudTrailNotice = copyAt(onKey(corpusRecord(DECRYPT), KEY_T), '2021-03-21T11:00:00Z', 't4');
  const manyRecords = Array.from({ length: 400 }, (_, i) => copyAt(onKey(corpusRecord(DECRYPT), KEY_T), `2021-03-22T0${i % 10}:00:00Z`, `t bulk ${i}`));

  const keys = {
    usage: trailKey('111122223333', '2021-03-20', 'usage'),
    schedule: trailKey('111122223333', '2021-03-21', 'schedule'),
    notice: trailKey('111122223333', '2021-03-21', 'notice'),
    truncated: trailKey('111122223333', '2021-03-22', 'truncated'),
    missing: trailKey('111122223333', '2021-03-22', 'missing'),
    digest: `AWSLogs/${ORG}/111122223333/CloudTrail-Digest/us-west-2/2021/03/20/111122223333_CloudTrail-Digest_us-west-2_org-trail_us-east-1_20210320T010000Z.json.gz`,
  };

  let bodies: string[] = [];

  beforeAll(async () => {
    await h.s3.put(h.trailBucket, keys.usage, trailFile([...usage, s3Call]));
    await h.s3.put(h.trailBucket, keys.schedule, trailFile([schedule]));
    await h.s3.put(h.trailBucket, keys.notice, trailFile([viaCloudTrailNotice]));
    const whole = trailFile(manyRecords);
    await h.s3.put(h.trailBucket, keys.truncated, whole.subarray(0, Math.floor(whole.length * 0.7)));
    await h.s3.put(h.trailBucket, keys.digest, gzipSync(JSON.stringify({ awsAccountId: '111122223333', digestStartTime: '2021-03-20T00:00:00Z' })));
    bodies = [
      s3Notification(h.trailBucket, [keys.usage, keys.digest]),
      viaSns(s3Notification(h.trailBucket, [keys.schedule])),
      s3TestEvent(h.trailBucket),
      s3Notification(h.trailBucket, [keys.missing]),
      s3Notification(h.trailBucket, [keys.truncated]),
      '<not json>',
      // CloudTrail's own notification of a delivered file (trail SnsTopicName), through SNS.
      viaSns(JSON.stringify({ s3Bucket: h.trailBucket, s3ObjectKey: [keys.notice] })),
    ];
  });

  it('ingests each file, skips digests and the test event, and fails only the bad records', async () => {
    const event = sqsEvent(bodies);
    const response = await handler(event, lambdaContext());
    const ids = event.Records.map((r) => r.messageId);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([ids[3], ids[4], ids[5]].sort());

    const rows = await h.lakeRows();
    const stored = new Set(rows.map((r) => String(r['event_id'])));
    for (const record of [...usage, schedule, viaCloudTrailNotice]) expect(stored).toContain(String(record['eventID']));
    expect(stored).not.toContain(String(s3Call['eventID']));
    // The truncated file's readable records landed before its record failed.
    const bulk = rows.filter((r) => String(r['event_date']) === '2021-03-22');
    expect(bulk.length).toBeGreaterThan(0);
    expect(bulk.length).toBeLessThan(manyRecords.length);
    expect(new Set(rows.map((r) => String(r['source_uri'])))).toContain(`s3://${h.trailBucket}/${keys.usage}`);

    // Digest files are never downloaded.
    const gets = h.s3.requests.filter((r) => r.method === 'GET' && r.bucket === h.trailBucket).map((r) => r.key);
    expect(gets).not.toContain(keys.digest);
    expect(gets).toContain(keys.usage);

    const findings = await h.findings();
    expect(findings.map((f) => f.detector_id)).toEqual(['KMS.KeyDeletionScheduled']);
    expect(findings[0]?.context['usageSummary']).toMatchObject({ totalCalls: 2, cryptographicCalls: 2 });
    expect(findings[0]?.event_ids).toEqual([String(schedule['eventID'])]);
  }, 120_000);

  it('adds no parts, rows or alerts when the notifications are delivered again', async () => {
    const keysBefore = await h.lakeKeys();
    const rowsBefore = (await h.lakeRows()).length;
    const event = sqsEvent(bodies, 2);
    const response = await handler(event, lambdaContext());
    expect(response.batchItemFailures).toHaveLength(3);
    expect(await h.lakeKeys()).toEqual(keysBefore);
    expect((await h.lakeRows()).length).toBe(rowsBefore);
    expect(await h.notifications()).toEqual([]);
  }, 120_000);

  it('throws for a batch in which every record fails, so SQS retries it whole', async () => {
    await expect(handler(sqsEvent(['{"Type":"Notification"}', s3Notification(h.trailBucket, [keys.missing])]), lambdaContext())).rejects.toThrow(
      /All records failed processing/,
    );
  }, 60_000);

  it('streams a file of thousands of records into one part per partition', async () => {
    const records = Array.from({ length: 5_000 }, (_, i) =>
      copyAt(onKey(corpusRecord(i % 2 === 0 ? DECRYPT : ENCRYPT), KEY_T), new Date(Date.UTC(2021, 2, 25, 0, 0, i)).toISOString(), `t big ${i}`),
    );
    const key = trailKey('111122223333', '2021-03-25', 'big');
    await h.s3.put(h.trailBucket, key, trailFile(records));
    const response = await handler(sqsEvent([s3Notification(h.trailBucket, [key])]), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    const parts = (await h.lakeKeys()).filter((k) => k.includes('event_date=2021-03-25/'));
    expect(parts).toHaveLength(1);
    const rows = (await h.lakeRows()).filter((r) => String(r['event_date']) === '2021-03-25');
    expect(new Set(rows.map((r) => r['event_id'])).size).toBe(5_000);
    expect(rows.every((r) => r['source_uri'] === `s3://${h.trailBucket}/${key}`)).toBe(true);
  }, 180_000);
});
