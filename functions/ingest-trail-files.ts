import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from '../src/logger.js';
import { createEventPipeline } from '../src/pipeline/event-pipeline.js';
import { leaseFor, loadRuntime } from '../src/pipeline/lambda-runtime.js';
import { settleBatch, TrailFileQueueRecordSchema, trailFileRecordHandler } from '../src/pipeline/lambda-sqs.js';

/** SQS batch of S3 notifications for CloudTrail log files → stream each file from S3 → pipeline. */
const runtime = await loadRuntime();
const pipeline = createEventPipeline(runtime);
const processor = new BatchProcessor(EventType.SQS, { parser, schema: TrailFileQueueRecordSchema, logger });

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  const batch = pipeline.startBatch({ leaseMs: leaseFor(context), owner: context.awsRequestId });
  const response = await processPartialResponse(event, trailFileRecordHandler(batch, { s3: runtime.s3, logger }), processor, {
    context,
    processInParallel: false,
    throwOnFullBatchFailure: false,
  });
  return settleBatch(event, processor, response, batch, logger);
};
