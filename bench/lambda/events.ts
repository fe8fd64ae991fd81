import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Context, SQSEvent } from 'aws-lambda';
import { asEventBridge, corpusRecord } from '../../test/support/corpus.js';

/** Events for the Lambda benchmark: real-shaped corpus records with fresh ids, times and keys. */

const CRYPTO_LINES = [9, 26, 27] as const; // Decrypt, Encrypt, GenerateDataKey
const SCHEDULE_KEY_DELETION = 47;
const CORPUS_KEY = '1234abcd-12ab-34cd-56ef-1234567890ab';

export function uuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Key `n` of the benchmark (a key id in the corpus's ARNs). */
export function benchKey(n: number): string {
  return `${n.toString(16).padStart(8, '0')}-bbbb-4ccc-8ddd-000000000000`;
}

/** A cryptographic call on one of `keys` keys at `time`. */
export function cryptoRecord(seed: string, time: Date, i: number, keys = 20): Record<string, unknown> {
  const line = CRYPTO_LINES[i % CRYPTO_LINES.length] ?? 9;
  const record = JSON.parse(JSON.stringify(corpusRecord(line)).split(CORPUS_KEY).join(benchKey(i % keys))) as Record<string, unknown>;
  record['eventID'] = uuid(`${seed} event ${i}`);
  record['requestID'] = uuid(`${seed} request ${i}`);
  record['eventTime'] = time.toISOString().replace('.000Z', 'Z');
  return record;
}

/** ScheduleKeyDeletion of bench key `key` at `time`: needs the key's past usage. */
export function scheduleDeletionRecord(seed: string, time: Date, key: number): Record<string, unknown> {
  const record = JSON.parse(JSON.stringify(corpusRecord(SCHEDULE_KEY_DELETION)).split(CORPUS_KEY).join(benchKey(key))) as Record<string, unknown>;
  record['eventID'] = uuid(`${seed} schedule`);
  record['requestID'] = uuid(`${seed} schedule request`);
  record['eventTime'] = time.toISOString().replace('.000Z', 'Z');
  return record;
}

/** `n` routine calls in one day's partition, as an SQS batch of EventBridge events. */
export function routineBatch(seed: string, n: number, day = '2021-03-20'): SQSEvent {
  const start = Date.parse(`${day}T00:00:00Z`);
  const records = Array.from({ length: n }, (_, i) => cryptoRecord(seed, new Date(start + (i + 1) * 1_000), i));
  return sqsBatch(records.map((r) => JSON.stringify(asEventBridge(r, uuid(`${seed} eb ${String(r['eventID'])}`)))));
}

export function sqsBatch(bodies: readonly string[]): SQSEvent {
  return {
    Records: bodies.map((body) => {
      const messageId = uuid(`message ${body}`);
      return {
        messageId,
        receiptHandle: `receipt-${messageId}`,
        body,
        attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1700000000000', SenderId: 'AIDAEXAMPLE', ApproximateFirstReceiveTimestamp: '1700000000001' },
        messageAttributes: {},
        md5OfBody: createHash('md5').update(body).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:keytrail-bench',
        awsRegion: 'us-east-1',
      };
    }),
  };
}

/** A gzipped CloudTrail delivery file of `n` records over one day. */
export function trailFileBody(seed: string, n: number, day: string): Buffer {
  const start = Date.parse(`${day}T00:00:00Z`);
  const records = Array.from({ length: n }, (_, i) => cryptoRecord(seed, new Date(start + i * 10_000), i, 50));
  return gzipSync(JSON.stringify({ Records: records }));
}

export function trailKey(day: string, name: string): string {
  const [y, m, d] = day.split('-');
  return `AWSLogs/o-exampleorg1/111122223333/CloudTrail/us-west-2/${y}/${m}/${d}/111122223333_CloudTrail_us-west-2_${y}${m}${d}T0000Z_${name}.json.gz`;
}

export function s3NotificationBody(bucket: string, key: string): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: '2024-05-01T00:00:00.000Z',
        eventName: 'ObjectCreated:Put',
        s3: { s3SchemaVersion: '1.0', configurationId: 'bench', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { key, size: 1 } },
      },
    ],
  });
}

export function benchContext(): Context {
  const awsRequestId = uuid(`request ${performance.now()}`);
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'keytrail-bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:keytrail-bench',
    memoryLimitInMB: '1024',
    awsRequestId,
    logGroupName: '/aws/lambda/keytrail-bench',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
