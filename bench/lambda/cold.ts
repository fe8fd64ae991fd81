/**
 * One cold start, in a fresh process (spawned by bench/lambda/run.ts with the local endpoints in
 * its environment). Prints one JSON line of timings, all from process start (performance.now()).
 *
 *   BENCH_COLD=node      nothing: the floor (node + tsx start-up)
 *   BENCH_COLD=duckdb    import @duckdb/node-api (through src/store) and open a database file in /tmp
 *   BENCH_COLD=routine   import functions/ingest-events (cold start: config, clients), then a first batch of 10 routine calls
 *   BENCH_COLD=history   the same, with a first batch whose ScheduleKeyDeletion loads the key's history from the lake
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { asEventBridge } from '../../test/support/corpus.js';
import { benchContext, routineBatch, scheduleDeletionRecord, sqsBatch, uuid } from './events.js';

const started = performance.now();
const mode = process.env['BENCH_COLD'] ?? 'node';
const out: Record<string, number | string> = { mode, scriptStartMs: started };

if (mode === 'duckdb') {
  const dir = mkdtempSync(join(tmpdir(), 'keytrail-cold-'));
  const t0 = performance.now();
  const { KeytrailDb } = await import('../../src/store/database.js');
  const t1 = performance.now();
  const db = await KeytrailDb.open({ path: join(dir, 'keytrail.duckdb'), tempDirectory: join(dir, 'tmp') });
  const t2 = performance.now();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  Object.assign(out, { importMs: t1 - t0, openMs: t2 - t1 });
} else if (mode === 'routine' || mode === 'history') {
  const seed = process.env['BENCH_SEED'] ?? String(Date.now());
  const t0 = performance.now();
  const { handler } = (await import('../../functions/ingest-events.js')) as { handler: (e: SQSEvent, c: Context) => Promise<SQSBatchResponse> };
  const t1 = performance.now();
  const event =
    mode === 'routine'
      ? routineBatch(`cold ${seed}`, 10)
      : sqsBatch([JSON.stringify(asEventBridge(scheduleDeletionRecord(`cold ${seed}`, new Date('2021-03-23T18:00:00Z'), 0), uuid(`cold eb ${seed}`)))]);
  const response = await handler(event, benchContext());
  const t2 = performance.now();
  if (response.batchItemFailures.length > 0) throw new Error(`cold batch failed: ${JSON.stringify(response)}`);
  Object.assign(out, { importMs: t1 - t0, firstBatchMs: t2 - t1 });
}
out['totalMs'] = performance.now();
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
