import type { Logger } from '@aws-lambda-powertools/logger';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { Finding } from '../findings/finding.js';
import { logger as defaultLogger } from '../logger.js';
import { regionOfArn } from './arn-region.js';
import { chunkBatches } from './batches.js';
import { EVENTBRIDGE_MAX_ENTRY_BYTES, eventBridgeEntryBytes, formatEventBridgeEntry } from './format.js';
import { deliverWithRetry, entryError, type AttemptResult, type RetryOptions } from './retry.js';
import type { AlertSink, SinkResult } from './sink.js';

/** PutEvents takes at most 10 entries. */
export const EVENTBRIDGE_BATCH_MAX_ENTRIES = 10;

/**
 * Per-entry error codes that a resend cannot fix (EventBridge PutEvents reference); any other code,
 * such as InternalFailure or ThrottlingException, is retried.
 */
const PERMANENT_ENTRY_ERRORS = new Set([
  'AccessDeniedException',
  'InvalidArgument',
  'MalformedDetail',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
  'ValidationException',
]);

export interface EventBridgeSinkOptions {
  /** Bus name or ARN. */
  busName: string;
  /** A client to use; otherwise one is made from `region` (default: the bus ARN's, if an ARN) and `endpoint`. */
  client?: EventBridgeClient;
  region?: string;
  /** For local EventBridge-compatible servers. */
  endpoint?: string;
  /** Ledger name; default `eventbridge:<busName>`. */
  name?: string;
  retry?: RetryOptions;
  logger?: Logger;
}

/**
 * Puts findings on an EventBridge bus (`source: keytrail`, `detail-type: KMS Audit Finding`) in
 * PutEvents calls of at most 10 entries and 256 KiB. Entries answered with an `ErrorCode` are retried
 * with exponential backoff unless the code says the entry itself is wrong; the rest is returned in `failed`.
 */
export class EventBridgeSink implements AlertSink {
  readonly name: string;
  readonly busName: string;
  private readonly client: EventBridgeClient;
  private readonly retry: RetryOptions;
  private readonly logger: Logger;

  constructor(options: EventBridgeSinkOptions) {
    this.busName = options.busName;
    this.name = options.name ?? `eventbridge:${options.busName}`;
    const region = options.region ?? (options.busName.startsWith('arn:') ? regionOfArn(options.busName) : undefined);
    this.client =
      options.client ??
      new EventBridgeClient({ ...(region ? { region } : {}), ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
    this.retry = options.retry ?? {};
    this.logger = options.logger ?? defaultLogger;
  }

  async send(findings: readonly Finding[]): Promise<SinkResult> {
    const entries = new Map<string, EventBridgeEntry>();
    for (const finding of findings) {
      if (entries.has(finding.finding_id)) continue;
      const entry = formatEventBridgeEntry(finding, this.busName);
      entries.set(finding.finding_id, { findingId: finding.finding_id, entry, bytes: eventBridgeEntryBytes(entry) });
    }
    const result: SinkResult = { delivered: [], failed: [] };
    // Requests are also kept under 256 KiB in total: the limit PutEvents had before entries could reach 1 MB.
    const batches = chunkBatches([...entries.values()], EVENTBRIDGE_BATCH_MAX_ENTRIES, EVENTBRIDGE_MAX_ENTRY_BYTES, (e) => e.bytes);
    for (const batch of batches) {
      const outcome = await deliverWithRetry(batch, (pending) => this.attempt(pending), this.retry, (info) =>
        this.logger.warn('eventbridge entries failed, retrying', {
          sink: this.name,
          attempt: info.attempt,
          delayMs: info.delayMs,
          findingIds: info.failures.map((f) => f.findingId),
          errors: [...new Set(info.failures.map((f) => `${f.error.name}: ${f.error.message}`))],
        }),
      );
      result.delivered.push(...outcome.delivered);
      result.failed.push(...outcome.failed);
    }
    return result;
  }

  private async attempt(pending: EventBridgeEntry[]): Promise<AttemptResult> {
    const response = await this.client.send(new PutEventsCommand({ Entries: pending.map((p) => p.entry) }));
    const outcome: AttemptResult = { delivered: [], failed: [] };
    // Result entries are in request order, one per request entry (PutEvents reference).
    (response.Entries ?? []).forEach((result, index) => {
      const findingId = pending[index]?.findingId;
      if (findingId === undefined) return;
      if (result.ErrorCode) {
        outcome.failed.push({
          findingId,
          error: entryError(result.ErrorCode, result.ErrorMessage),
          retryable: !PERMANENT_ENTRY_ERRORS.has(result.ErrorCode),
        });
      } else {
        outcome.delivered.push({ findingId, messageId: result.EventId ?? null });
      }
    });
    return outcome;
  }
}

interface EventBridgeEntry {
  findingId: string;
  entry: PutEventsRequestEntry;
  bytes: number;
}
