import { z } from 'zod';
import { UsageError } from '../errors.js';
import type { CompactionResult, LakePart } from '../store/s3-lake.js';
import { defaultWindow, runDetection, type DetectionCounts } from './detect.js';
import { allAccountsScope, type HistoryLoad } from './lambda-history.js';
import { DeliveryIncompleteError, type PublishOutcome } from './lambda-publish.js';
import { runDailyReport, type DailyReportResult } from './lambda-report.js';
import { leaseFor, type LambdaRuntime } from './lambda-runtime.js';

/** The scheduled function's input (the schedule's JSON payload). */
export const ScheduledInputSchema = z.discriminatedUnion(
  'task',
  [
    z.object({
      task: z.literal('detect'),
      /** Window length in days (default `detection.query_window_days`): a frequent run can look at the last day only. */
      days: z.number().int().positive().max(3_660).optional(),
    }),
    z.object({
      task: z.literal('compact'),
      /** Partitions of the last `days` days (default `detection.lookback_days`). */
      days: z.number().int().positive().max(3_660).optional(),
    }),
    z.object({
      task: z.literal('daily-report'),
      /** The UTC day reported (default: yesterday). */
      date: z.iso.date().optional(),
    }),
  ],
  { error: 'task must be one of "detect", "compact", "daily-report"' },
);
export type ScheduledInput = z.infer<typeof ScheduledInputSchema>;

export type ScheduledResult =
  | { task: 'detect'; history: HistoryLoad; detection: DetectionCounts; published: PublishOutcome['summary']; findings: number }
  | { task: 'compact'; partitions: number; compacted: CompactionResult[] }
  | ({ task: 'daily-report' } & DailyReportResult);

export interface ScheduledContext {
  getRemainingTimeInMillis(): number;
  awsRequestId: string;
}

const DAY_MS = 86_400_000;

/**
 * Run one scheduled task. Throws (so the schedule's retry and alarms see it) on bad input, and when
 * findings or the report summary could not all be delivered.
 */
export async function runScheduledTask(runtime: LambdaRuntime, input: unknown, context: ScheduledContext, now = new Date()): Promise<ScheduledResult> {
  const parsed = ScheduledInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`scheduled input: ${issue ? `${issue.path.join('.') || '(top level)'}: ${issue.message}` : parsed.error.message}`);
  }
  const task = parsed.data;
  const attempt = { leaseMs: leaseFor(context), owner: context.awsRequestId };
  await runtime.database.resetIfOversized();
  switch (task.task) {
    case 'detect':
      return runQueryDetectors(runtime, attempt, now, task.days);
    case 'compact':
      return compactLake(runtime, task.days ?? runtime.config.detection.lookback_days, now);
    case 'daily-report':
      return { task: 'daily-report', ...(await runDailyReport(runtime, task.date ?? dayBefore(now), attempt, now)) };
  }
}

/**
 * The query detectors (cross-account use, access-denied bursts, external access changes) over the
 * window (`days`, default `detection.query_window_days`), read from the lake. They also look before
 * the window (was the account seen on the key before? the key's previous policy? the grant being
 * revoked?), so every account's partitions from `detection.lookback_days` before the window start
 * to today are loaded (newest first, within the cache budget). Findings go out through the ledger.
 */
async function runQueryDetectors(runtime: LambdaRuntime, attempt: { leaseMs: number; owner: string }, now: Date, days: number | undefined): Promise<ScheduledResult> {
  const { config, history, database, publisher, logger } = runtime;
  const window = days === undefined ? defaultWindow(config, now) : { from: new Date(now.getTime() - days * DAY_MS).toISOString(), to: now.toISOString() };
  const historyFrom = new Date(Date.parse(window.from) - config.detection.lookback_days * DAY_MS).toISOString().slice(0, 10);
  const scope = await allAccountsScope(runtime.lake, historyFrom, window.to.slice(0, 10));
  const db = await database.get();
  const loaded = await history.ensure(db, database.generation, scope);
  const detection = await runDetection(db, config, { kinds: ['query'], window, now, logger });
  const outcome = await publisher.publish(detection.findings, attempt);
  logger.info('scheduled detection finished', { accounts: scope.size, window, lakeParts: loaded.listed, findings: detection.findings.length, undelivered: outcome.undelivered.size });
  if (outcome.undelivered.size > 0) {
    throw new DeliveryIncompleteError(`${outcome.undelivered.size} finding(s) not delivered (${outcome.contended} held by another attempt); the next run retries them`);
  }
  return { task: 'detect', history: loaded, detection: detection.counts, published: outcome.summary, findings: detection.findings.length };
}

/** Merge every partition of the last `days` days that has more than one part. */
async function compactLake(runtime: LambdaRuntime, days: number, now: Date): Promise<ScheduledResult> {
  const { lake, database, logger } = runtime;
  const to = now.toISOString().slice(0, 10);
  const from = new Date(now.getTime() - days * DAY_MS).toISOString().slice(0, 10);
  const db = await database.get();
  const compacted: CompactionResult[] = [];
  let partitions = 0;
  for (const account of await lake.listAccounts()) {
    const byDate = new Map<string, LakePart[]>();
    for (const part of await lake.listParts(account, from, to)) {
      const parts = byDate.get(part.eventDate) ?? [];
      parts.push(part);
      byDate.set(part.eventDate, parts);
    }
    partitions += byDate.size;
    for (const parts of byDate.values()) {
      if (parts.length < 2) continue;
      compacted.push(await lake.compactPartition(db, parts));
    }
  }
  logger.info('lake compaction finished', { partitions, compacted: compacted.length, partsRemoved: compacted.reduce((n, c) => n + c.deletedKeys.length, 0) });
  return { task: 'compact', partitions, compacted };
}

function dayBefore(now: Date): string {
  return new Date(now.getTime() - DAY_MS).toISOString().slice(0, 10);
}
