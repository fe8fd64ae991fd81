import type { Context } from 'aws-lambda';
import { logger } from '../src/logger.js';
import { loadRuntime } from '../src/pipeline/lambda-runtime.js';
import { runScheduledTask, type ScheduledResult } from '../src/pipeline/lambda-scheduled.js';

/** `{ task: 'detect' | 'compact' | 'daily-report' }` from a schedule → query detectors, lake compaction, daily report. */
const runtime = await loadRuntime();

export const handler = async (event: unknown, context: Context): Promise<ScheduledResult> => {
  logger.addContext(context);
  return runScheduledTask(runtime, event, context);
};
