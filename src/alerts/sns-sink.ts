import type { Logger } from '@aws-lambda-powertools/logger';
import { PublishBatchCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Finding } from '../findings/finding.js';
import { logger as defaultLogger } from '../logger.js';
import { regionOfArn } from './arn-region.js';
import { chunkBatches } from './batches.js';
import { formatSnsMessage, SNS_MAX_MESSAGE_BYTES, snsMessageBytes, type SnsMessage } from './format.js';
import { deliverWithRetry, entryError, type AttemptResult, type RetryOptions } from './retry.js';
import type { AlertSink, SinkResult } from './sink.js';

/** PublishBatch takes at most 10 entries. */
export const SNS_BATCH_MAX_ENTRIES = 10;

export interface SnsSinkOptions {
  topicArn: string;
  /** A client to use; otherwise one is made from `region` (default: the topic ARN's) and `endpoint`. */
  client?: SNSClient;
  region?: string;
  /** For local SNS-compatible servers. */
  endpoint?: string;
  /** Ledger name; default `sns:<topicArn>`, so a new topic receives findings the old one had. */
  name?: string;
  retry?: RetryOptions;
  logger?: Logger;
}

/**
 * Publishes findings to an SNS topic: `Publish` for one, `PublishBatch` (≤ 10 entries, ≤ 256 KiB in
 * total) for more. Entries that fail for a reason on AWS's side are retried with exponential backoff;
 * what still fails, or fails for a reason on ours, is returned in `failed`.
 */
export class SnsSink implements AlertSink {
  readonly name: string;
  readonly topicArn: string;
  private readonly client: SNSClient;
  private readonly retry: RetryOptions;
  private readonly logger: Logger;

  constructor(options: SnsSinkOptions) {
    this.topicArn = options.topicArn;
    this.name = options.name ?? `sns:${options.topicArn}`;
    this.client =
      options.client ??
      new SNSClient({
        region: options.region ?? regionOfArn(options.topicArn),
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      });
    this.retry = options.retry ?? {};
    this.logger = options.logger ?? defaultLogger;
  }

  async send(findings: readonly Finding[]): Promise<SinkResult> {
    const entries = new Map<string, SnsEntry>();
    for (const finding of findings) {
      if (entries.has(finding.finding_id)) continue;
      const message = formatSnsMessage(finding);
      entries.set(finding.finding_id, { findingId: finding.finding_id, message, bytes: snsMessageBytes(message) });
    }
    const result: SinkResult = { delivered: [], failed: [] };
    for (const batch of chunkBatches([...entries.values()], SNS_BATCH_MAX_ENTRIES, SNS_MAX_MESSAGE_BYTES, (e) => e.bytes)) {
      const outcome = await deliverWithRetry(batch, (pending) => this.attempt(pending), this.retry, (info) =>
        this.logger.warn('sns entries failed, retrying', {
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

  private async attempt(pending: SnsEntry[]): Promise<AttemptResult> {
    const [only] = pending;
    if (pending.length === 1 && only) {
      const response = await this.client.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Subject: only.message.subject,
          Message: only.message.message,
          MessageAttributes: only.message.attributes,
        }),
      );
      return { delivered: [{ findingId: only.findingId, messageId: response.MessageId ?? null }], failed: [] };
    }
    const response = await this.client.send(
      new PublishBatchCommand({
        TopicArn: this.topicArn,
        // finding_id (32 hex) is a valid batch entry id and maps the answer back without a lookup table.
        PublishBatchRequestEntries: pending.map(({ findingId, message }) => ({
          Id: findingId,
          Subject: message.subject,
          Message: message.message,
          MessageAttributes: message.attributes,
        })),
      }),
    );
    return {
      delivered: (response.Successful ?? []).flatMap((s) => (s.Id ? [{ findingId: s.Id, messageId: s.MessageId ?? null }] : [])),
      failed: (response.Failed ?? []).flatMap((f) =>
        // SenderFault means the request itself is wrong (too long, bad attribute): resending cannot help.
        f.Id ? [{ findingId: f.Id, error: entryError(f.Code, f.Message), retryable: !f.SenderFault }] : [],
      ),
    };
  }
}

interface SnsEntry {
  findingId: string;
  message: SnsMessage;
  bytes: number;
}
