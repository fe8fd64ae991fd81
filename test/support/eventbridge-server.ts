import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { z } from 'zod';

/**
 * A local EventBridge endpoint that implements PutEvents over the AWS JSON 1.1 protocol
 * (`X-Amz-Target: AWSEvents.PutEvents`), records the events it accepts, and fails entries or whole
 * requests on demand. No npm package emulates EventBridge PutEvents on its own, so this is ours.
 *
 * It checks what EventBridge checks: 1 to 10 entries, Source/DetailType/Detail present, Detail a
 * JSON object, and the total entry size (EventBridge's formula) within `maxRequestBytes`.
 */
export interface EventBridgeServer {
  readonly endpoint: string;
  readonly region: string;
  /** Events accepted, in order. */
  readonly events: RecordedEvent[];
  /** Every PutEvents request, in order. */
  readonly requests: RecordedRequest[];
  /** An EventBridge client pointed here with dummy credentials; `maxAttempts: 1` leaves retries to the code under test. */
  client(config?: { maxAttempts?: number }): EventBridgeClient;
  /** Answer each matching entry with `ErrorCode` its first `times` deliveries (`Infinity`: always). */
  failEntries(rule: { times: number; match?: (entry: PutEventsEntry) => boolean; code?: string }): void;
  /** Fail the next `times` requests whole with HTTP 500 InternalException. */
  failRequests(times: number): void;
  reset(): void;
  stop(): Promise<void>;
}

export interface RecordedEvent {
  eventId: string;
  busName: string | null;
  source: string;
  detailType: string;
  /** `detail` as sent (a JSON string). */
  detail: string;
  resources: string[];
  /** Epoch seconds, as the SDK sends Time. */
  time: number | null;
}

export interface RecordedRequest {
  entryCount: number;
  /** Entry sizes added up with EventBridge's formula. */
  bytes: number;
  failedEntries: number;
  outcome: 'accepted' | 'rejected' | 'failed';
}

const PutEventsEntrySchema = z.object({
  Time: z.number().optional(),
  Source: z.string().optional(),
  Resources: z.array(z.string()).optional(),
  DetailType: z.string().optional(),
  Detail: z.string().optional(),
  EventBusName: z.string().optional(),
  TraceHeader: z.string().optional(),
});
const PutEventsRequestSchema = z.object({ Entries: z.array(PutEventsEntrySchema) });

/** One entry of a PutEvents request body, as the SDK serializes it. */
export type PutEventsEntry = z.infer<typeof PutEventsEntrySchema>;

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

interface EntryRule {
  times: number;
  match: (entry: PutEventsEntry) => boolean;
  code: string;
  failuresByDetail: Map<string, number>;
}

/** Start the server on a random free port of 127.0.0.1. */
export async function startEventBridgeServer(options: { maxRequestBytes?: number } = {}): Promise<EventBridgeServer> {
  const maxRequestBytes = options.maxRequestBytes ?? 262_144;
  const events: RecordedEvent[] = [];
  const requests: RecordedRequest[] = [];
  let failingRequests = 0;
  let entryRules: EntryRule[] = [];

  const injectedFailure = (entry: PutEventsEntry): string | null => {
    const key = entry.Detail ?? '';
    for (const rule of entryRules) {
      if (!rule.match(entry)) continue;
      const seen = rule.failuresByDetail.get(key) ?? 0;
      if (seen < rule.times) {
        rule.failuresByDetail.set(key, seen + 1);
        return rule.code;
      }
    }
    return null;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    if (req.headers['x-amz-target'] !== 'AWSEvents.PutEvents') {
      sendError(res, 400, 'UnknownOperationException', `operation ${String(req.headers['x-amz-target'])} is not implemented here`);
      return;
    }
    let parsed: z.infer<typeof PutEventsRequestSchema>;
    try {
      parsed = PutEventsRequestSchema.parse(JSON.parse(body));
    } catch (error) {
      sendError(res, 400, 'SerializationException', String(error));
      return;
    }
    const entries = parsed.Entries;
    const record: RecordedRequest = { entryCount: entries.length, bytes: entries.reduce((n, e) => n + entryBytes(e), 0), failedEntries: 0, outcome: 'accepted' };
    requests.push(record);

    if (entries.length < 1 || entries.length > 10) {
      record.outcome = 'rejected';
      sendError(res, 400, 'ValidationException', `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10`);
      return;
    }
    if (record.bytes > maxRequestBytes) {
      record.outcome = 'rejected';
      sendError(res, 400, 'ValidationException', 'Total size of the entries in the request is over the limit.');
      return;
    }
    if (failingRequests > 0) {
      failingRequests -= 1;
      record.outcome = 'failed';
      sendError(res, 500, 'InternalException', 'injected failure of the whole request');
      return;
    }

    const results = entries.map((entry) => {
      const invalid = validateEntry(entry);
      if (invalid) return { ErrorCode: invalid.code, ErrorMessage: invalid.message };
      const code = injectedFailure(entry);
      if (code) return { ErrorCode: code, ErrorMessage: 'injected failure' };
      const eventId = randomUUID();
      events.push({
        eventId,
        busName: entry.EventBusName ?? null,
        source: entry.Source ?? '',
        detailType: entry.DetailType ?? '',
        detail: entry.Detail ?? '',
        resources: entry.Resources ?? [],
        time: entry.Time ?? null,
      });
      return { EventId: eventId };
    });
    record.failedEntries = results.filter((r) => 'ErrorCode' in r).length;
    res.statusCode = 200;
    res.setHeader('content-type', 'application/x-amz-json-1.1');
    res.setHeader('x-amzn-requestid', randomUUID());
    res.end(JSON.stringify({ FailedEntryCount: record.failedEntries, Entries: results }));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => sendError(res, 500, 'InternalException', `server error: ${String(error)}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the EventBridge server has no TCP address');
  const endpoint = `http://127.0.0.1:${address.port}`;

  return {
    endpoint,
    region: REGION,
    events,
    requests,
    client: (config) => new EventBridgeClient({ region: REGION, endpoint, credentials: CREDENTIALS, maxAttempts: config?.maxAttempts ?? 1 }),
    failEntries(rule) {
      entryRules.push({ times: rule.times, match: rule.match ?? (() => true), code: rule.code ?? 'InternalFailure', failuresByDetail: new Map() });
    },
    failRequests(times) {
      failingRequests = times;
    },
    reset() {
      events.length = 0;
      requests.length = 0;
      failingRequests = 0;
      entryRules = [];
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** "Calculating PutEvents event entry size" (EventBridge user guide). */
function entryBytes(entry: PutEventsEntry): number {
  let bytes = entry.Time !== undefined ? 14 : 0;
  for (const part of [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])]) {
    if (part) bytes += Buffer.byteLength(part, 'utf8');
  }
  return bytes;
}

function validateEntry(entry: PutEventsEntry): { code: string; message: string } | null {
  if (!entry.Source) return { code: 'InvalidArgument', message: 'Parameter Source is not valid.' };
  if (!entry.DetailType) return { code: 'InvalidArgument', message: 'Parameter DetailType is not valid.' };
  if (!entry.Detail) return { code: 'InvalidArgument', message: 'Parameter Detail is not valid.' };
  try {
    const detail: unknown = JSON.parse(entry.Detail);
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) throw new Error('not an object');
  } catch {
    return { code: 'MalformedDetail', message: 'Detail is malformed.' };
  }
  return null;
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/x-amz-json-1.1');
  res.setHeader('x-amzn-errortype', type);
  res.setHeader('x-amzn-requestid', randomUUID());
  res.end(JSON.stringify({ __type: type, message }));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
