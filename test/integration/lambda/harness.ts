import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { vi } from 'vitest';
import { SNS_JSON_MARKER } from '../../../src/alerts/format.js';
import { FindingSchema, type Finding } from '../../../src/findings/finding.js';
import { KeytrailDb, type Row } from '../../../src/store/database.js';
import { startS3Server, type S3Server } from '../../support/s3-server.js';
import { startSnsEmulator, type SnsEmulator, type SnsNotification } from '../../support/sns-emulator.js';

/**
 * Local AWS for the Lambda integration tests: an S3 server (fauxqs behind the conditional-write
 * proxy) with a lake bucket and a trail bucket, an SNS topic with an SQS queue subscribed to it, a
 * configuration file, and the functions' environment pointing at all of it. Handlers are imported
 * for real, each time as a fresh module graph (a new "container").
 */
export interface LambdaHarness {
  s3: S3Server;
  sns: SnsEmulator;
  lakeBucket: string;
  trailBucket: string;
  topicArn: string;
  queueUrl: string;
  root: string;
  configPath: string;
  /** A fresh container of a function: new module graph, its own empty cache directory. */
  coldStart<H>(fn: 'ingest-events' | 'ingest-trail-files' | 'scheduled', env?: Record<string, string>): Promise<H>;
  /** Every object key under the lake's `kms_events/`. */
  lakeKeys(): Promise<string[]>;
  /** Every row of every lake part, read back with DuckDB: partition columns from the path, `filename` the local copy. */
  lakeRows(): Promise<Row[]>;
  /** Read and delete what SNS delivered to the subscribed queue. */
  notifications(): Promise<SnsNotification[]>;
  /** The findings among the notifications (the JSON after the readable part). */
  findings(): Promise<Finding[]>;
  stop(): Promise<void>;
}

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
export type ScheduledHandler = (event: unknown, context: Context) => Promise<unknown>;

export const LAKE_BUCKET = 'keytrail-lake';
export const TRAIL_BUCKET = 'org-cloudtrail-logs';

export async function startLambdaHarness(config: Record<string, unknown> = {}): Promise<LambdaHarness> {
  const [s3, sns] = await Promise.all([startS3Server(), startSnsEmulator()]);
  await s3.createBucket(LAKE_BUCKET);
  await s3.createBucket(TRAIL_BUCKET);
  const { topicArn, queueUrl } = await sns.createTopicWithQueue(`keytrail-alerts-${randomUUID().slice(0, 8)}`);
  const root = mkdtempSync(join(tmpdir(), 'keytrail-lambda-'));
  const configPath = join(root, 'keytrail.config.json');
  writeFileSync(configPath, JSON.stringify({ alerts: { min_severity: 'low' }, ...config }, null, 2));
  const client = s3.client();

  const baseEnv: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    KEYTRAIL_LAKE_BUCKET: LAKE_BUCKET,
    KEYTRAIL_SNS_TOPIC_ARN: topicArn,
    KEYTRAIL_CONFIG: configPath,
    KEYTRAIL_S3_ENDPOINT: s3.endpoint,
    KEYTRAIL_SNS_ENDPOINT: sns.endpoint,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };

  return {
    s3,
    sns,
    lakeBucket: LAKE_BUCKET,
    trailBucket: TRAIL_BUCKET,
    topicArn,
    queueUrl,
    root,
    configPath,
    async coldStart<H>(fn: 'ingest-events' | 'ingest-trail-files' | 'scheduled', env: Record<string, string> = {}): Promise<H> {
      const cacheDir = join(root, `cache-${fn}-${randomUUID().slice(0, 8)}`);
      Object.assign(process.env, baseEnv, { KEYTRAIL_CACHE_DIR: cacheDir }, env);
      vi.resetModules();
      const module = (await import(`../../../functions/${fn}.ts`)) as { handler: H };
      return module.handler;
    },
    async lakeKeys() {
      return s3.list(LAKE_BUCKET, 'kms_events/');
    },
    async lakeRows() {
      const keys = await s3.list(LAKE_BUCKET, 'kms_events/');
      if (keys.length === 0) return [];
      const dir = mkdtempSync(join(root, 'readback-'));
      const files: string[] = [];
      for (const key of keys) {
        const path = join(dir, ...key.split('/'));
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, await s3.get(LAKE_BUCKET, key));
        files.push(path);
      }
      const db = await KeytrailDb.open({ path: ':memory:' });
      try {
        const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
        return await db.all(
          `SELECT * FROM read_parquet([${list}], hive_partitioning = true, filename = true,
             hive_types = {'account_id': VARCHAR, 'event_date': DATE}, union_by_name = true)`,
        );
      } finally {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    notifications() {
      return sns.drain(queueUrl);
    },
    async findings() {
      const notifications = await sns.drain(queueUrl);
      return notifications.flatMap((n) => {
        const at = n.Message.indexOf(SNS_JSON_MARKER);
        return at < 0 ? [] : [FindingSchema.parse(JSON.parse(n.Message.slice(at + SNS_JSON_MARKER.length)))];
      });
    },
    async stop() {
      client.destroy();
      await Promise.all([s3.stop(), sns.stop()]);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A Lambda context with a generous deadline. */
export function lambdaContext(remainingMs = 60_000): Context {
  const awsRequestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'keytrail-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:keytrail-test',
    memoryLimitInMB: '1024',
    awsRequestId,
    logGroupName: '/aws/lambda/keytrail-test',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** An SQS event as Lambda delivers it; `messageId`s are stable per body unless given. */
export function sqsEvent(bodies: readonly (string | { body: string; messageId: string })[], receiveCount = 1): SQSEvent {
  return {
    Records: bodies.map((entry): SQSRecord => {
      const body = typeof entry === 'string' ? entry : entry.body;
      const messageId = typeof entry === 'string' ? uuidFrom(body) : entry.messageId;
      return {
        messageId,
        receiptHandle: `receipt-${messageId}`,
        body,
        attributes: {
          ApproximateReceiveCount: String(receiveCount),
          SentTimestamp: '1700000000000',
          SenderId: 'AIDAEXAMPLE',
          ApproximateFirstReceiveTimestamp: '1700000000001',
        },
        messageAttributes: {},
        md5OfBody: createHash('md5').update(body).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:keytrail-queue',
        awsRegion: 'us-east-1',
      };
    }),
  };
}

/** A deterministic UUID-shaped id from text (eventIDs, message ids). */
export function uuidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The corpus key id used throughout the guide's examples. */
export const CORPUS_KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';

/** The record with its key replaced everywhere (ARNs, keyId parameters) by `keyId`. */
export function onKey(record: Record<string, unknown>, keyId: string): Record<string, unknown> {
  return JSON.parse(JSON.stringify(record).split(CORPUS_KEY_ID).join(keyId)) as Record<string, unknown>;
}

/** A copy with a new eventID and eventTime (and requestID, so it is a different call). */
export function copyAt(record: Record<string, unknown>, eventTime: string, seed: string): Record<string, unknown> {
  const copy = structuredClone(record);
  copy['eventTime'] = eventTime;
  copy['eventID'] = uuidFrom(`event ${seed}`);
  copy['requestID'] = uuidFrom(`request ${seed}`);
  return copy;
}

/** A gzipped CloudTrail delivery file. */
export function trailFile(records: readonly Record<string, unknown>[]): Buffer {
  return gzipSync(JSON.stringify({ Records: records }));
}

/** An S3 `ObjectCreated:Put` event notification body, keys URL-encoded as S3 sends them. */
export function s3Notification(bucket: string, keys: readonly string[]): string {
  return JSON.stringify({
    Records: keys.map((key) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: '2024-05-01T00:00:00.000Z',
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'AWS:AROAEXAMPLE:regionalDeliverySession' },
      requestParameters: { sourceIPAddress: '203.0.113.10' },
      responseElements: { 'x-amz-request-id': 'EXAMPLE', 'x-amz-id-2': 'EXAMPLE' },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'keytrail-trail-files',
        bucket: { name: bucket, ownerIdentity: { principalId: 'EXAMPLE' }, arn: `arn:aws:s3:::${bucket}` },
        object: { key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'), size: 1024, eTag: 'etag', sequencer: '0055AED6DCD90281E5' },
      },
    })),
  });
}

/** The same notification delivered through an SNS topic to SQS (raw delivery off). */
export function viaSns(message: string): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: 'arn:aws:sns:us-east-1:123456789012:trail-bucket-events',
    Subject: 'Amazon S3 Notification',
    Message: message,
    Timestamp: '2024-05-01T00:00:01.000Z',
    SignatureVersion: '1',
    Signature: 'EXAMPLE',
    SigningCertURL: 'https://sns.us-east-1.amazonaws.com/cert.pem',
    UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
  });
}

/** What S3 sends once when the notification is configured. */
export function s3TestEvent(bucket: string): string {
  return JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2024-05-01T00:00:00.000Z', Bucket: bucket, RequestId: 'EXAMPLE', HostId: 'EXAMPLE' });
}
