import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from '../src/logger.js';
import { createEventPipeline } from '../src/pipeline/event-pipeline.js';
import { leaseFor, loadRuntime } from '../src/pipeline/lambda-runtime.js';
import { EventBridgeQueueRecordSchema, eventBridgeRecordHandler, settleBatch } from '../src/pipeline/lambda-sqs.js';

/** SQS batch of EventBridge events (KMS API calls, KMS lifecycle events, trail changes) → pipeline. */
const pipeline = createEventPipeline(await loadRuntime());
const processor = new BatchProcessor(EventType.SQS, { parser, schema: EventBridgeQueueRecordSchema, logger });

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  const batch = pipeline.startBatch({ leaseMs: leaseFor(context), owner: context.awsRequestId });
  const response = await processPartialResponse(event, eventBridgeRecordHandler(batch), processor, {
    context,
    processInParallel: false,
    throwOnFullBatchFailure: false,
  });
  return settleBatch(event, processor, response, batch, logger);
};
