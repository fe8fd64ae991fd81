import type { Logger } from '@aws-lambda-powertools/logger';
import { type BatchProcessor, FullBatchFailureError } from '@aws-lambda-powertools/batch';
import { SqsRecordSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { API_CALL_DETAIL_TYPE, CloudTrailApiCallEventSchema } from '../events/eventbridge.js';
import { KMS_LIFECYCLE_DETAIL_TYPES, KmsLifecycleEventSchema } from '../events/kms-lifecycle-event.js';
import { KeytrailError } from '../errors.js';
import { normalizeValue } from '../normalize/normalize.js';
import type { KmsEvent, Rejection } from '../normalize/types.js';
import { readS3ObjectItems, s3Uri } from '../sources/s3-object.js';
import { TrailNotificationSchema } from '../sources/s3-notification.js';
import { classifySkip, parseTrailPath } from '../sources/trail-path.js';
import type { PipelineBatch } from './event-pipeline.js';

/** A record whose body keytrail cannot use: reported alone in `batchItemFailures` (then the DLQ). */
export class RecordRejectedError extends KeytrailError {}

/** Records per `batch.add` while a trail file streams: bounds memory for any file size. */
const STAGE_CHUNK = 1_000;
/** Rejections inside one trail file that are logged one by one; the rest are counted. */
const LOGGED_REJECTIONS = 5;

/**
 * An SQS message body: JSON, then `schema`; `output` shapes what the record handler gets. Issues
 * never quote the body (`JSON.parse` errors do), since bodies may hold tenant data.
 */
function jsonBody<T extends z.ZodType, O>(schema: T, output: (value: unknown, parsed: z.output<T>) => O) {
  return z.string().transform((text, ctx): O => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `not JSON (${text.length} characters)` });
      return z.NEVER;
    }
    const parsed = schema.safeParse(value);
    if (parsed.success) return output(value, parsed.data);
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
    return z.NEVER;
  });
}

/**
 * The EventBridge events keytrail consumes, told apart by `detail-type`: AWS API Call via
 * CloudTrail, AWS Service Event via CloudTrail, and the three KMS lifecycle events.
 */
const KmsEventBridgeEventSchema = z.discriminatedUnion('detail-type', [CloudTrailApiCallEventSchema, KmsLifecycleEventSchema], {
  error: (issue) =>
    issue.code === 'invalid_union'
      ? `not an EventBridge event keytrail consumes: detail-type must be one of ${[API_CALL_DETAIL_TYPE, 'AWS Service Event via CloudTrail', ...KMS_LIFECYCLE_DETAIL_TYPES].map((t) => JSON.stringify(t)).join(', ')}`
      : undefined,
});

/** SQS record of the ingest-events queue (Powertools' SqsRecordSchema, body parsed and checked). */
export const EventBridgeQueueRecordSchema = SqsRecordSchema.extend({
  // The event as it arrived, not zod's copy, so `raw` keeps the original fields in their order.
  body: jsonBody(KmsEventBridgeEventSchema, (value, parsed) => ({ id: parsed.id, event: value })),
});
export type EventBridgeQueueRecord = z.infer<typeof EventBridgeQueueRecordSchema>;

/** SQS record of the trail-files queue: an S3 / SNS / CloudTrail notification, or the S3 test event. */
export const TrailFileQueueRecordSchema = SqsRecordSchema.extend({ body: jsonBody(TrailNotificationSchema, (_, parsed) => parsed) });
export type TrailFileQueueRecord = z.infer<typeof TrailFileQueueRecordSchema>;

/** Record handler of ingest-events: normalize the event and stage it under the record's messageId. */
export function eventBridgeRecordHandler(batch: PipelineBatch): (record: EventBridgeQueueRecord) => Promise<void> {
  return async (record) => {
    const result = normalizeValue(record.body.event, { uri: `eventbridge:${record.body.id}`, position: 0 }, batch.ingestedAt);
    if (result.kind === 'rejected') throw new RecordRejectedError(result.rejection.reason);
    // An event keytrail does not store (another service's API call) is done with, not an error.
    await batch.add(record.messageId, result.kind === 'event' ? [result.event] : []);
  };
}

export interface TrailFileHandlerDeps {
  s3: S3Client;
  logger: Pick<Logger, 'debug' | 'info' | 'warn'>;
}

/**
 * Record handler of ingest-trail-files: stream each announced CloudTrail log file from S3, normalize
 * its records and stage them. Digest and Insights files and keys outside the CloudTrail layout are
 * skipped; `s3:TestEvent` is acknowledged. An object that cannot be read, or holds records that are
 * rejected, fails the record (after its good records are staged: storing is idempotent), so SQS
 * retries it and finally moves it to the DLQ, which keeps the object's key.
 */
export function trailFileRecordHandler(batch: PipelineBatch, deps: TrailFileHandlerDeps): (record: TrailFileQueueRecord) => Promise<void> {
  return async (record) => {
    const { messageId } = record;
    const notification = record.body;
    await batch.add(messageId, []);
    if (notification.kind === 'test-event') {
      deps.logger.info('s3:TestEvent acknowledged', { messageId });
      return;
    }
    if (notification.ignoredEvents.length > 0) deps.logger.info('non-create S3 events ignored', { messageId, events: notification.ignoredEvents });
    const problems: string[] = [];
    for (const object of notification.objects) {
      const uri = s3Uri(object);
      const skip = classifySkip(object.key);
      if (skip !== null) {
        deps.logger.debug('trail file skipped', { messageId, uri, reason: skip });
        continue;
      }
      const trail = parseTrailPath(object.key);
      if (trail === null) {
        deps.logger.info('object skipped: not a CloudTrail log file key', { messageId, uri });
        continue;
      }
      const rejections: Rejection[] = [];
      let records = 0;
      let chunk: KmsEvent[] = [];
      try {
        for await (const item of readS3ObjectItems(deps.s3, object)) {
          records += 1;
          if (item.kind === 'rejected') {
            rejections.push(item.rejection);
            continue;
          }
          const result = normalizeValue(item.value, item.origin, batch.ingestedAt);
          if (result.kind === 'event') chunk.push(result.event);
          else if (result.kind === 'rejected') rejections.push(result.rejection);
          if (chunk.length >= STAGE_CHUNK) {
            await batch.add(messageId, chunk);
            chunk = [];
          }
        }
      } catch (error) {
        problems.push(error instanceof Error ? error.message : String(error));
      } finally {
        await batch.add(messageId, chunk);
      }
      deps.logger.debug('trail file read', { messageId, uri, records, rejected: rejections.length, ...trail });
      if (rejections.length > 0) {
        for (const r of rejections.slice(0, LOGGED_REJECTIONS)) {
          // Never the original text: it can carry tenant data. The object is still in S3.
          deps.logger.warn('trail record rejected', { messageId, uri: r.sourceUri, position: r.position, reason: r.reason });
        }
        const first = rejections[0]?.reason ?? '';
        problems.push(`${uri}: ${rejections.length} record(s) rejected, first: ${first}`);
      }
    }
    if (problems.length > 0) throw new RecordRejectedError(problems.join('; '));
  };
}

/**
 * After `processPartialResponse` (run with `throwOnFullBatchFailure: false`): log each failed record
 * with its reason (never its body), run the batch's pipeline, and answer with every failed record —
 * the ones that failed their schema or processing, and the ones whose findings were not delivered.
 * Like Powertools, throws `FullBatchFailureError` when every record failed, so SQS retries the batch
 * even if the function were not configured with `ReportBatchItemFailures`.
 */
export async function settleBatch(
  event: SQSEvent,
  processor: BatchProcessor,
  response: { batchItemFailures: { itemIdentifier: string }[] },
  batch: PipelineBatch,
  logger: Pick<Logger, 'warn'>,
): Promise<SQSBatchResponse> {
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const errors = [...processor.errors];
  processor.failureMessages.forEach((record, index) => {
    const messageId = 'messageId' in record ? record.messageId : null;
    const attributes = 'attributes' in record ? record.attributes : null;
    logger.warn('record failed', {
      messageId,
      receiveCount: attributes && 'ApproximateReceiveCount' in attributes ? attributes.ApproximateReceiveCount : null,
      reason: errors[index]?.message ?? 'unknown',
    });
  });
  const result = await batch.finish();
  for (const id of result.failedSourceIds) failed.add(id);
  if (event.Records.length > 0 && failed.size >= event.Records.length) {
    throw new FullBatchFailureError(errors.length > 0 ? errors : [new Error('every record of the batch failed')]);
  }
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
}
