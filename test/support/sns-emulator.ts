import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { z } from 'zod';

/**
 * A local SNS: fauxqs (an SNS/SQS emulator from npm, on 127.0.0.1) with an SQS queue subscribed to
 * each topic so tests can read back exactly what SNS delivered, envelope and all.
 *
 * SNS clients talk to it through a small proxy started here, which
 *  - enforces the SNS limits fauxqs 1.9 does not check: PublishBatch ≤ 10 entries and ≤ 256 KiB in
 *    total, message + attributes ≤ 256 KiB, subject < 100 characters without control characters;
 *  - records every Publish/PublishBatch (entry count, bytes);
 *  - fails requests or single batch entries on demand, the way SNS does (HTTP 500 InternalError, or a
 *    `Failed` entry with SenderFault false).
 */
export interface SnsEmulator {
  /** Endpoint for SNS clients (the proxy). */
  readonly endpoint: string;
  /** fauxqs itself, for SQS clients. */
  readonly emulatorEndpoint: string;
  readonly region: string;
  /** Every Publish and PublishBatch that reached the proxy, in order. */
  readonly publishRequests: RecordedPublish[];
  /** An SNS client pointed at the proxy with dummy credentials; `maxAttempts: 1` leaves retries to the code under test. */
  snsClient(config?: { maxAttempts?: number }): SNSClient;
  sqsClient(): SQSClient;
  /** Create a topic and an SQS queue subscribed to it (SNS envelope delivery, not raw). */
  createTopicWithQueue(name: string): Promise<{ topicArn: string; queueUrl: string }>;
  /** Read and delete everything in the queue, parsed as SNS notifications. */
  drain(queueUrl: string): Promise<SnsNotification[]>;
  /** Fail the next `times` Publish/PublishBatch requests whole with HTTP 500 InternalError. */
  failRequests(times: number): void;
  /**
   * Fail each matching message its first `times` deliveries: in a PublishBatch as a `Failed` entry,
   * in a Publish as HTTP 500. `times: Infinity` fails it for good.
   */
  failEntries(rule: { times: number; match?: (message: string) => boolean; code?: string; senderFault?: boolean }): void;
  /** Forget recorded requests and failure rules. */
  reset(): void;
  stop(): Promise<void>;
}

export interface RecordedPublish {
  action: 'Publish' | 'PublishBatch';
  entryCount: number;
  /** Sum of message + attribute bytes, as SNS counts them. */
  bytes: number;
  /** What the proxy did with it. */
  outcome: 'forwarded' | 'rejected' | 'failed';
  failedEntries: number;
}

const SnsNotificationSchema = z.object({
  Type: z.literal('Notification'),
  MessageId: z.string(),
  TopicArn: z.string(),
  Subject: z.string().nullable().optional(),
  Message: z.string(),
  Timestamp: z.string(),
  MessageAttributes: z.record(z.string(), z.object({ Type: z.string(), Value: z.string() })).optional(),
});

/** The SNS envelope an SQS subscriber receives. */
export type SnsNotification = z.infer<typeof SnsNotificationSchema>;

const SNS_MAX_BYTES = 262_144;
const SNS_XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

interface EntryRule {
  times: number;
  match: (message: string) => boolean;
  code: string;
  senderFault: boolean;
  failuresByMessage: Map<string, number>;
}

/** Start fauxqs and the proxy on random free ports of 127.0.0.1. */
export async function startSnsEmulator(): Promise<SnsEmulator> {
  const fauxqs: FauxqsServer = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false, defaultRegion: REGION });
  const emulatorEndpoint = `http://127.0.0.1:${fauxqs.port}`;
  const publishRequests: RecordedPublish[] = [];
  let failingRequests = 0;
  let entryRules: EntryRule[] = [];

  const shouldFailEntry = (message: string): EntryRule | null => {
    for (const rule of entryRules) {
      if (!rule.match(message)) continue;
      const seen = rule.failuresByMessage.get(message) ?? 0;
      if (seen < rule.times) {
        rule.failuresByMessage.set(message, seen + 1);
        return rule;
      }
    }
    return null;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    const params = isForm ? new URLSearchParams(body.toString('utf8')) : null;
    const action = params?.get('Action');
    if (!params || (action !== 'Publish' && action !== 'PublishBatch')) {
      await forward(req, res, body, emulatorEndpoint);
      return;
    }

    const entries = action === 'Publish' ? [singleEntry(params)] : batchEntries(params);
    const record: RecordedPublish = {
      action,
      entryCount: entries.length,
      bytes: entries.reduce((sum, e) => sum + e.bytes, 0),
      outcome: 'forwarded',
      failedEntries: 0,
    };
    publishRequests.push(record);

    const limitError = checkLimits(action, entries, record.bytes);
    if (limitError) {
      record.outcome = 'rejected';
      sendXml(res, 400, errorXml('Sender', limitError.code, limitError.message));
      return;
    }
    if (failingRequests > 0) {
      failingRequests -= 1;
      record.outcome = 'failed';
      sendXml(res, 500, errorXml('Receiver', 'InternalError', 'injected failure of the whole request'));
      return;
    }

    if (action === 'Publish') {
      const [entry] = entries;
      const rule = entry ? shouldFailEntry(entry.message) : null;
      if (rule) {
        record.outcome = 'failed';
        record.failedEntries = 1;
        sendXml(res, rule.senderFault ? 400 : 500, errorXml(rule.senderFault ? 'Sender' : 'Receiver', rule.code, 'injected failure'));
        return;
      }
      await forward(req, res, body, emulatorEndpoint);
      return;
    }

    const failedMembers: string[] = [];
    for (const entry of entries) {
      const rule = shouldFailEntry(entry.message);
      if (!rule) continue;
      failedMembers.push(
        `<member><Id>${entry.id}</Id><Code>${rule.code}</Code><Message>injected failure</Message><SenderFault>${rule.senderFault}</SenderFault></member>`,
      );
      for (const key of [...params.keys()]) if (key.startsWith(`${entry.prefix}.`)) params.delete(key);
    }
    record.failedEntries = failedMembers.length;
    if (failedMembers.length === entries.length) {
      sendXml(res, 200, batchResponseXml('', failedMembers.join('')));
      return;
    }
    const upstream = await fetch(`${emulatorEndpoint}${req.url ?? '/'}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', authorization: String(req.headers.authorization ?? '') },
      body: params.toString(),
    });
    const text = await upstream.text();
    sendXml(res, upstream.status, failedMembers.length > 0 ? text.replace('<Failed>', `<Failed>${failedMembers.join('')}`) : text);
  };

  const proxy: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      sendXml(res, 500, errorXml('Receiver', 'InternalError', `proxy error: ${String(error)}`));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  if (address === null || typeof address === 'string') throw new Error('the SNS proxy has no TCP address');
  const endpoint = `http://127.0.0.1:${address.port}`;

  const sqsClient = (): SQSClient => new SQSClient({ region: REGION, endpoint: emulatorEndpoint, credentials: CREDENTIALS });

  return {
    endpoint,
    emulatorEndpoint,
    region: REGION,
    publishRequests,
    snsClient: (config) => new SNSClient({ region: REGION, endpoint, credentials: CREDENTIALS, maxAttempts: config?.maxAttempts ?? 1 }),
    sqsClient,
    async createTopicWithQueue(name) {
      const sns = new SNSClient({ region: REGION, endpoint: emulatorEndpoint, credentials: CREDENTIALS });
      const sqs = sqsClient();
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-subscriber` }));
      if (!TopicArn || !QueueUrl) throw new Error('the emulator did not return a topic ARN or queue URL');
      const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
      const queueArn = attributes.Attributes?.['QueueArn'];
      if (!queueArn) throw new Error('the emulator did not return the queue ARN');
      await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: queueArn }));
      sns.destroy();
      sqs.destroy();
      return { topicArn: TopicArn, queueUrl: QueueUrl };
    },
    async drain(queueUrl) {
      const sqs = sqsClient();
      const notifications: SnsNotification[] = [];
      for (;;) {
        const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
        if (!Messages || Messages.length === 0) break;
        for (const message of Messages) {
          notifications.push(SnsNotificationSchema.parse(JSON.parse(message.Body ?? '')));
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
        }
      }
      sqs.destroy();
      return notifications;
    },
    failRequests(times) {
      failingRequests = times;
    },
    failEntries(rule) {
      entryRules.push({
        times: rule.times,
        match: rule.match ?? (() => true),
        code: rule.code ?? 'InternalError',
        senderFault: rule.senderFault ?? false,
        failuresByMessage: new Map(),
      });
    },
    reset() {
      publishRequests.length = 0;
      failingRequests = 0;
      entryRules = [];
    },
    async stop() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await fauxqs.stop();
    },
  };
}

interface PublishEntry {
  id: string;
  /** Form-field prefix of the entry, to drop it from the forwarded request. */
  prefix: string;
  message: string;
  subject: string | null;
  bytes: number;
}

function singleEntry(params: URLSearchParams): PublishEntry {
  const message = params.get('Message') ?? '';
  return { id: 'single', prefix: '', message, subject: params.get('Subject'), bytes: messageBytes(params, '', message) };
}

function batchEntries(params: URLSearchParams): PublishEntry[] {
  const indices = new Set<string>();
  for (const key of params.keys()) {
    const match = /^PublishBatchRequestEntries\.member\.(\d+)\./.exec(key);
    if (match?.[1]) indices.add(match[1]);
  }
  return [...indices].map((index) => {
    const prefix = `PublishBatchRequestEntries.member.${index}`;
    const message = params.get(`${prefix}.Message`) ?? '';
    return {
      id: params.get(`${prefix}.Id`) ?? index,
      prefix,
      message,
      subject: params.get(`${prefix}.Subject`),
      bytes: messageBytes(params, `${prefix}.`, message),
    };
  });
}

/** Message bytes plus each attribute's name, data type and value: what SNS counts against 256 KiB. */
function messageBytes(params: URLSearchParams, prefix: string, message: string): number {
  let bytes = Buffer.byteLength(message, 'utf8');
  for (const [key, value] of params) {
    if (!key.startsWith(`${prefix}MessageAttributes.entry.`)) continue;
    if (/\.(Name|Value\.DataType|Value\.StringValue)$/.test(key)) bytes += Buffer.byteLength(value, 'utf8');
  }
  return bytes;
}

function checkLimits(action: string, entries: PublishEntry[], totalBytes: number): { code: string; message: string } | null {
  if (action === 'PublishBatch' && entries.length > 10) {
    return { code: 'TooManyEntriesInBatchRequest', message: `The batch request contains ${entries.length} entries; at most 10 are allowed.` };
  }
  if (action === 'PublishBatch' && totalBytes > SNS_MAX_BYTES) {
    return { code: 'BatchRequestTooLong', message: `The batch request is ${totalBytes} bytes; at most ${SNS_MAX_BYTES} are allowed.` };
  }
  for (const entry of entries) {
    if (entry.bytes > SNS_MAX_BYTES) return { code: 'InvalidParameter', message: 'Invalid parameter: Message too long' };
    if (entry.subject !== null && (entry.subject.length >= 100 || hasControlCharacter(entry.subject))) {
      return { code: 'InvalidParameter', message: 'Invalid parameter: Subject' };
    }
  }
  return null;
}

function hasControlCharacter(text: string): boolean {
  return [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
}

async function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, target: string): Promise<void> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || ['host', 'connection', 'content-length', 'transfer-encoding'].includes(name)) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const upstream = await fetch(`${target}${req.url ?? '/'}`, { method: req.method ?? 'POST', headers, body: body.length > 0 ? body : null });
  res.statusCode = upstream.status;
  const contentType = upstream.headers.get('content-type');
  if (contentType) res.setHeader('content-type', contentType);
  res.end(Buffer.from(await upstream.arrayBuffer()));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendXml(res: ServerResponse, status: number, xml: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/xml');
  res.end(xml);
}

function errorXml(type: 'Sender' | 'Receiver', code: string, message: string): string {
  return `<ErrorResponse xmlns="${SNS_XMLNS}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

function batchResponseXml(successful: string, failed: string): string {
  return `<PublishBatchResponse xmlns="${SNS_XMLNS}"><PublishBatchResult><Successful>${successful}</Successful><Failed>${failed}</Failed></PublishBatchResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishBatchResponse>`;
}
