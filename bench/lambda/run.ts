/**
 * Lambda benchmark: the real handlers against local S3 (fauxqs behind the conditional-write proxy)
 * and SNS (fauxqs), on 127.0.0.1.
 *
 *   npx tsx bench/lambda/run.ts [--runs 5] [--skip-cold]
 *
 * - warm `ingest-events` batches of 1, 10 and 100 routine calls (store, lake PUT, detect, nothing to
 *   publish), and of 100 calls with one ScheduleKeyDeletion (history from the lake, an SNS alert
 *   through the S3 ledger); baseline: the same events through the local pipeline (store + detect on
 *   a DuckDB file, no S3, no SNS) in this process;
 * - warm `ingest-trail-files` for a 5,000-record file; baseline: `ingestFiles` of the same file
 *   from local disk into a DuckDB file;
 * - cold starts in fresh processes, twice: from the TypeScript sources through tsx (the floor: node +
 *   tsx alone; DuckDB import + open; the handler's import and its first batch, routine or needing 30
 *   days of lake history), and from an esbuild bundle built like infra/bundle-plugin.mjs builds the
 *   shipped one (ESM, @duckdb/node-api external), run by plain node (the floor: node alone).
 *
 * Medians of `--runs` (at least 5). Results: bench/data/results-lambda.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadConfig } from '../../src/config/loader.js';
import { logger } from '../../src/logger.js';
import { normalizeValue } from '../../src/normalize/normalize.js';
import type { KmsEvent } from '../../src/normalize/types.js';
import { runDetection } from '../../src/pipeline/detect.js';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { KeytrailDb } from '../../src/store/database.js';
import { EventStore } from '../../src/store/event-store.js';
import { asEventBridge } from '../../test/support/corpus.js';
import { startS3Server } from '../../test/support/s3-server.js';
import { startSnsEmulator } from '../../test/support/sns-emulator.js';
import { intOption, parseBenchArgs } from '../lib/args.js';
import { machineInfo } from '../lib/machine.js';
import { measureChild } from '../lib/measure-child.js';
import { max, median, min } from '../lib/stats.js';
import {
  benchContext,
  cryptoRecord,
  routineBatch,
  s3NotificationBody,
  scheduleDeletionRecord,
  sqsBatch,
  trailFileBody,
  trailKey,
  uuid,
} from './events.js';

type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS = join(REPO, 'bench/data/results-lambda.json');
const LAKE_BUCKET = 'keytrail-bench-lake';
const TRAIL_BUCKET = 'keytrail-bench-trail';
const HISTORY_DAYS = 30;
const HISTORY_EVENTS_PER_DAY = 100;

/** The cold-start driver for the bundle: plain ESM, no tsx. */
const BUNDLED_COLD = `import { readFileSync } from 'node:fs';
const t0 = performance.now();
const { handler } = await import('./ingest-events.mjs');
const t1 = performance.now();
const event = JSON.parse(readFileSync(process.env.BENCH_EVENT, 'utf8'));
const context = { functionName: 'keytrail-bench', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:keytrail-bench', memoryLimitInMB: '1024', awsRequestId: 'cold-' + Date.now(), logGroupName: 'bench', logStreamName: 'bench', getRemainingTimeInMillis: () => 60000 };
const response = await handler(event, context);
const t2 = performance.now();
if (response.batchItemFailures.length > 0) { console.error(JSON.stringify(response)); process.exit(1); }
process.stdout.write(JSON.stringify({ scriptStartMs: t0, importMs: t1 - t0, firstBatchMs: t2 - t1, totalMs: performance.now() }) + '\\n');
process.exit(0);
`;

// The handlers' modules share this logger, created before the environment below is set.
logger.setLogLevel('ERROR');
const args = parseBenchArgs(process.argv.slice(2), { runs: 'string', 'skip-cold': 'boolean' });
const runs = Math.max(5, intOption(args, 'runs', 5));
const machine = machineInfo();
const root = mkdtempSync(join(tmpdir(), 'keytrail-bench-lambda-'));
const silentLogger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };
const rows: { case: string; medianMs: number; minMs: number; maxMs: number; baseline?: string; baselineMs?: number; note?: string }[] = [];

const [s3, sns] = await Promise.all([startS3Server(), startSnsEmulator()]);
try {
  await s3.createBucket(LAKE_BUCKET);
  await s3.createBucket(TRAIL_BUCKET);
  const { topicArn, queueUrl } = await sns.createTopicWithQueue('keytrail-bench');
  const configPath = join(root, 'keytrail.config.json');
  writeFileSync(configPath, JSON.stringify({ alerts: { min_severity: 'low' } }));
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    KEYTRAIL_LAKE_BUCKET: LAKE_BUCKET,
    KEYTRAIL_SNS_TOPIC_ARN: topicArn,
    KEYTRAIL_CONFIG: configPath,
    KEYTRAIL_S3_ENDPOINT: s3.endpoint,
    KEYTRAIL_SNS_ENDPOINT: sns.endpoint,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
  };
  Object.assign(process.env, env, { KEYTRAIL_CACHE_DIR: join(root, 'cache-events') });
  const events = (await import('../../functions/ingest-events.js')) as { handler: SqsHandler };
  Object.assign(process.env, { KEYTRAIL_CACHE_DIR: join(root, 'cache-trail') });
  const trail = (await import('../../functions/ingest-trail-files.js')) as { handler: SqsHandler };
  const invoke = async (handler: SqsHandler, event: SQSEvent): Promise<number> => {
    const t0 = performance.now();
    const response = await handler(event, benchContext());
    const ms = performance.now() - t0;
    if (response.batchItemFailures.length > 0) throw new Error(`batch failed: ${JSON.stringify(response.batchItemFailures)}`);
    return ms;
  };

  // History: HISTORY_DAYS daily parts of routine use of the bench keys, before 2021-03-23.
  process.stdout.write(`priming the lake with ${HISTORY_DAYS} days of history…\n`);
  for (let d = HISTORY_DAYS; d >= 1; d -= 1) {
    const day = new Date(Date.parse('2021-03-23T00:00:00Z') - d * 86_400_000).toISOString().slice(0, 10);
    await invoke(events.handler, routineBatch(`history ${day}`, HISTORY_EVENTS_PER_DAY, day));
  }
  await sns.drain(queueUrl);

  // Warm ingest-events.
  for (let i = 0; i < 3; i += 1) await invoke(events.handler, routineBatch(`warmup ${i}`, 10));
  const config = await loadConfig({ path: configPath });
  const baseDir = join(root, 'baseline');
  mkdirSync(baseDir, { recursive: true });
  const baseDb = await KeytrailDb.open({ path: join(baseDir, 'baseline.duckdb'), tempDirectory: join(baseDir, 'tmp') });
  const baseStore = new EventStore(baseDb);
  const baseline = async (event: SQSEvent): Promise<number> => {
    const t0 = performance.now();
    const normalized: KmsEvent[] = [];
    for (const record of event.Records) {
      const result = normalizeValue(JSON.parse(record.body) as unknown, { uri: 'bench', position: 0 }, new Date().toISOString());
      if (result.kind === 'event') normalized.push(result.event);
    }
    await baseStore.insertEvents(normalized);
    await runDetection(baseDb, config, { eventIds: normalized.map((e) => e.eventId), kinds: ['event'], now: new Date(), logger: silentLogger });
    return performance.now() - t0;
  };
  for (let i = 0; i < 3; i += 1) await baseline(routineBatch(`base warmup ${i}`, 10));

  for (const size of [1, 10, 100]) {
    const lambda: number[] = [];
    const local: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      lambda.push(await invoke(events.handler, routineBatch(`warm ${size} ${run}`, size)));
      local.push(await baseline(routineBatch(`base ${size} ${run}`, size)));
    }
    rows.push({ case: `ingest-events, warm, ${size} routine call(s)`, ...stats(lambda), baseline: 'local pipeline (store + detect, no S3/SNS)', baselineMs: median(local) });
  }

  {
    const lambda: number[] = [];
    const local: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      const batch = (seed: string) => {
        const records = Array.from({ length: 99 }, (_, i) => cryptoRecord(seed, new Date(Date.parse('2021-03-23T10:00:00Z') + i * 1_000), i));
        records.push(scheduleDeletionRecord(seed, new Date('2021-03-23T18:00:00Z'), run + 1));
        return sqsBatch(records.map((r) => JSON.stringify(asEventBridge(r, uuid(`${seed} eb ${String(r['eventID'])}`)))));
      };
      lambda.push(await invoke(events.handler, batch(`alert ${run}`)));
      local.push(await baseline(batch(`base alert ${run}`)));
    }
    const alerts = await sns.drain(queueUrl);
    if (alerts.length !== runs) throw new Error(`expected ${runs} alerts, got ${alerts.length}`);
    rows.push({
      case: 'ingest-events, warm, 100 calls incl. 1 ScheduleKeyDeletion (history + SNS alert)',
      ...stats(lambda),
      baseline: 'local pipeline (store + detect, no S3/SNS)',
      baselineMs: median(local),
    });
  }
  baseDb.close();

  // Warm ingest-trail-files: a 5,000-record file per run.
  {
    await s3.put(TRAIL_BUCKET, trailKey('2021-04-01', 'warmup'), trailFileBody('trail warmup', 100, '2021-04-01'));
    await invoke(trail.handler, sqsBatch([s3NotificationBody(TRAIL_BUCKET, trailKey('2021-04-01', 'warmup'))]));
    const lambda: number[] = [];
    const local: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      const day = `2021-04-${String(run + 2).padStart(2, '0')}`;
      const key = trailKey(day, `big${run}`);
      const body = trailFileBody(`trail ${run}`, 5_000, day);
      await s3.put(TRAIL_BUCKET, key, body);
      lambda.push(await invoke(trail.handler, sqsBatch([s3NotificationBody(TRAIL_BUCKET, key)])));

      const localFile = join(root, `local-${run}.json.gz`);
      writeFileSync(localFile, trailFileBody(`local trail ${run}`, 5_000, day));
      const db = await KeytrailDb.open({ path: join(baseDir, `files-${run}.duckdb`), tempDirectory: join(baseDir, 'tmp') });
      const t0 = performance.now();
      const summary = await ingestFiles([localFile], { store: new EventStore(db) });
      local.push(performance.now() - t0);
      db.close();
      if (summary.inserted !== 5_000) throw new Error(`baseline stored ${summary.inserted} of 5000`);
    }
    rows.push({ case: 'ingest-trail-files, warm, one 5,000-record file', ...stats(lambda), baseline: 'keytrail ingest of the same file from disk', baselineMs: median(local) });
  }

  // Cold starts.
  if (args['skip-cold'] !== true) {
    const cold = async (mode: string): Promise<{ wall: number[]; inner: Record<string, number>[] }> => {
      const wall: number[] = [];
      const inner: Record<string, number>[] = [];
      for (let run = 0; run < runs; run += 1) {
        const child = await measureChild(process.execPath, ['--import', 'tsx', join(REPO, 'bench/lambda/cold.ts')], {
          cwd: REPO,
          env: { ...process.env, ...env, BENCH_COLD: mode, BENCH_SEED: `${mode} ${run} ${Date.now()}`, KEYTRAIL_CACHE_DIR: join(root, `cold-${mode}-${run}`) },
        });
        if (child.exitCode !== 0) throw new Error(`cold ${mode} failed: ${child.stderr.slice(-2000)}`);
        const line = child.stdout.trim().split('\n').at(-1) ?? '{}';
        inner.push(JSON.parse(line) as Record<string, number>);
        wall.push(child.wallMs);
      }
      return { wall, inner };
    };
    const floor = await cold('node');
    const duck = await cold('duckdb');
    const routine = await cold('routine');
    const history = await cold('history');
    const pick = (r: { inner: Record<string, number>[] }, field: string) => median(r.inner.map((x) => x[field] ?? Number.NaN));
    rows.push({ case: 'cold (tsx): node + tsx, empty script (floor)', ...stats(floor.wall), note: `script starts at ${pick(floor, 'scriptStartMs').toFixed(0)} ms` });
    rows.push({
      case: 'cold (tsx): import @duckdb/node-api + open a DuckDB file',
      ...stats(duck.wall),
      baseline: 'floor',
      baselineMs: median(floor.wall),
      note: `import ${pick(duck, 'importMs').toFixed(0)} ms, open ${pick(duck, 'openMs').toFixed(0)} ms`,
    });
    rows.push({
      case: 'cold (tsx): ingest-events import + first batch of 10 routine calls',
      ...stats(routine.wall),
      baseline: 'floor',
      baselineMs: median(floor.wall),
      note: `handler import ${pick(routine, 'importMs').toFixed(0)} ms, first batch ${pick(routine, 'firstBatchMs').toFixed(0)} ms`,
    });
    rows.push({
      case: `cold (tsx): ingest-events import + first batch needing ${HISTORY_DAYS} days of lake history`,
      ...stats(history.wall),
      baseline: 'floor',
      baselineMs: median(floor.wall),
      note: `handler import ${pick(history, 'importMs').toFixed(0)} ms, first batch ${pick(history, 'firstBatchMs').toFixed(0)} ms`,
    });

    // The same from a bundle, as Lambda runs it: no transpiling at start-up.
    const bundleDir = join(REPO, 'bench/data/lambda-bundle');
    rmSync(bundleDir, { recursive: true, force: true });
    await build({
      absWorkingDir: REPO,
      entryPoints: [join(REPO, 'functions/ingest-events.ts')],
      outdir: bundleDir,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outExtension: { '.js': '.mjs' },
      mainFields: ['module', 'main'],
      external: ['@duckdb/node-api', '@duckdb/node-api/*'],
      banner: { js: "import { createRequire as __keytrailCreateRequire } from 'node:module'; const require = __keytrailCreateRequire(import.meta.url);" },
      logLevel: 'warning',
    });
    writeFileSync(join(bundleDir, 'floor.mjs'), 'process.stdout.write(JSON.stringify({ scriptStartMs: performance.now(), totalMs: performance.now() }) + "\\n");\n');
    writeFileSync(join(bundleDir, 'cold.mjs'), BUNDLED_COLD);
    const bundled = async (script: string, batch: (run: number) => SQSEvent | null): Promise<{ wall: number[]; inner: Record<string, number>[] }> => {
      const wall: number[] = [];
      const inner: Record<string, number>[] = [];
      for (let run = 0; run < runs; run += 1) {
        const event = batch(run);
        const eventFile = join(root, `bundled-event-${run}.json`);
        if (event) writeFileSync(eventFile, JSON.stringify(event));
        const child = await measureChild(process.execPath, [join(bundleDir, script)], {
          cwd: REPO,
          env: { ...process.env, ...env, BENCH_EVENT: eventFile, KEYTRAIL_CACHE_DIR: join(root, `bundled-${script}-${run}-${Date.now()}`) },
        });
        if (child.exitCode !== 0) throw new Error(`bundled cold ${script} failed: ${child.stderr.slice(-2000)}`);
        inner.push(JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>);
        wall.push(child.wallMs);
      }
      return { wall, inner };
    };
    const nodeFloor = await bundled('floor.mjs', () => null);
    const bundledRoutine = await bundled('cold.mjs', (run) => routineBatch(`bundled ${run} ${Date.now()}`, 10));
    const bundledHistory = await bundled('cold.mjs', (run) =>
      sqsBatch([JSON.stringify(asEventBridge(scheduleDeletionRecord(`bundled history ${run} ${Date.now()}`, new Date('2021-03-23T18:00:00Z'), 0), uuid(`bundled eb ${run} ${Date.now()}`)))]),
    );
    rows.push({ case: 'cold (bundle): node alone, empty script (floor)', ...stats(nodeFloor.wall) });
    rows.push({
      case: 'cold (bundle): ingest-events import + first batch of 10 routine calls',
      ...stats(bundledRoutine.wall),
      baseline: 'node floor',
      baselineMs: median(nodeFloor.wall),
      note: `handler import ${pick(bundledRoutine, 'importMs').toFixed(0)} ms (DuckDB binding loaded, database not yet opened), first batch ${pick(bundledRoutine, 'firstBatchMs').toFixed(0)} ms (opens DuckDB)`,
    });
    rows.push({
      case: `cold (bundle): ingest-events import + first batch needing ${HISTORY_DAYS} days of lake history`,
      ...stats(bundledHistory.wall),
      baseline: 'node floor',
      baselineMs: median(nodeFloor.wall),
      note: `handler import ${pick(bundledHistory, 'importMs').toFixed(0)} ms, first batch ${pick(bundledHistory, 'firstBatchMs').toFixed(0)} ms`,
    });
  }

  machine.loadAverage.end = loadavg()[0] ?? 0;
  printTable();
  mkdirSync(join(REPO, 'bench/data'), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify({ machine, runs, rows }, null, 2)}\n`);
  process.stdout.write(`\nresults: ${RESULTS}\n`);
} finally {
  await Promise.all([s3.stop(), sns.stop()]);
  rmSync(root, { recursive: true, force: true });
}
process.exit(0);

function stats(values: number[]): { medianMs: number; minMs: number; maxMs: number } {
  return { medianMs: median(values), minMs: min(values), maxMs: max(values) };
}

function printTable(): void {
  const header = ['case', 'median ms', 'min', 'max', 'baseline', 'ratio', 'note'];
  const body = rows.map((r) => [
    r.case,
    r.medianMs.toFixed(1),
    r.minMs.toFixed(1),
    r.maxMs.toFixed(1),
    r.baselineMs === undefined ? '' : `${r.baseline ?? ''}: ${r.baselineMs.toFixed(1)} ms`,
    r.baselineMs === undefined ? '' : `${(r.medianMs / r.baselineMs).toFixed(2)}×`,
    r.note ?? '',
  ]);
  process.stdout.write(
    `\nLambda benchmark — ${runs} runs each, ${machine.nproc} cores (${machine.cpuModel}), node ${machine.node}, load ${machine.loadAverage.start.toFixed(1)} → ${(machine.loadAverage.end ?? 0).toFixed(1)}\n\n`,
  );
  process.stdout.write(`| ${header.join(' | ')} |\n| ${header.map(() => '---').join(' | ')} |\n`);
  for (const line of body) process.stdout.write(`| ${line.join(' | ')} |\n`);
}
