/**
 * Query benchmark: per-key past usage, the cross-account queries and the compliance report over
 * 1M and 10M stored events, on the DuckDB store (kms_events ordered by key_id, event_time) and on the
 * Parquet lake (exportLake), each beside a naive baseline measured in the same run, interleaved run by
 * run: plain GROUP BYs over an unsorted copy of the same rows (`kms_events_unsorted`, filtered by key_arn).
 *
 *   npm run bench:queries -- [--sizes 1000000,10000000] [--runs 5] [--storages duckdb,parquet] [--skip compliance@parquet]
 *
 * --skip takes `<question>@<storage>` pairs (question: usage, cross, compliance). Results for other
 * dataset sizes already in the results file are kept, so sizes can be measured in separate runs.
 *
 * Datasets are generated in DuckDB (see dataset.ts) and cached under bench/data/queries-<n>/.
 * DuckDB: threads=2, memory_limit=2GB. Medians of --runs warm runs after one warm-up.
 * Results: bench/data/results-queries.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { storedEventDays, storedEventRange, usageWindow } from '../../src/analysis/evidence.js';
import { pastUsage } from '../../src/analysis/past-usage.js';
import { DEFAULT_CONFIG } from '../../src/config/schema.js';
import { buildComplianceReport } from '../../src/reports/index.js';
import { KeytrailDb } from '../../src/store/database.js';
import { openLakeDb } from '../../src/store/lake-view.js';
import { intOption, parseBenchArgs, stringOption } from '../lib/args.js';
import { machineInfo } from '../lib/machine.js';
import { median, thousands } from '../lib/stats.js';
import { BENCH_DATA_DIR, DB_OPTIONS, ensureQueryDataset, type QueryDataset } from './dataset.js';

const QUERIES_DIR = fileURLToPath(new URL('../../queries/', import.meta.url));
const RESULTS_PATH = join(BENCH_DATA_DIR, 'results-queries.json');
/** The issue's target: one key's full past usage over 10M events, warm, on this 2-core machine. */
const TARGET_MS = 100;
/** Accounts 0–16 are the organization's (see dataset.ts); 17–19 are external. */
const ORG_ACCOUNTS = Array.from({ length: 17 }, (_, j) => `1000000000${String(j).padStart(2, '0')}`).join(',');
const NOW = new Date('2024-07-01T00:00:00Z');

type Storage = 'duckdb' | 'parquet';

interface Measurement {
  dataset: number;
  question: string;
  storage: Storage;
  medianMs: number;
  baselineMs: number | null;
  ratio: number | null;
  samplesMs: number[];
  baselineSamplesMs: number[];
  detail?: unknown;
}

const args = parseBenchArgs(process.argv.slice(2), { sizes: 'string', runs: 'string', storages: 'string', skip: 'string' });
const skip = new Set((stringOption(args, 'skip') ?? '').split(',').filter(Boolean));
const skipped = (question: string, storage: Storage) => skip.has(`${question}@${storage}`);
const storages = (stringOption(args, 'storages') ?? 'duckdb,parquet').split(',') as Storage[];
const sizes = (stringOption(args, 'sizes') ?? '1000000,10000000').split(',').map((s) => Number(s.replace(/_/g, '')));
const runs = intOption(args, 'runs', 5);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** One warm-up of each, then `runs` interleaved runs (candidate, baseline). */
async function measure(candidate: () => Promise<unknown>, baseline: (() => Promise<unknown>) | null): Promise<{ c: number[]; b: number[] }> {
  await candidate();
  if (baseline) await baseline();
  const c: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < runs; r++) {
    c.push(await timed(candidate));
    if (baseline) b.push(await timed(baseline));
  }
  return { c, b };
}

function querySql(file: string): string {
  return readFileSync(join(QUERIES_DIR, file), 'utf8').trim().replace(/;\s*$/, '');
}

/** The lake as keytrail reads it (`openLakeDb`: a view over the Parquet files, metadata cache on). */
function openLake(lakeDir: string): Promise<KeytrailDb> {
  return openLakeDb(lakeDir, DB_OPTIONS);
}

const ADMIN_OPS = `('CreateGrant', 'PutKeyPolicy', 'EnableKeyRotation', 'CreateAlias', 'DisableKey', 'ScheduleKeyDeletion', 'TagResource')`;

async function benchDataset(dataset: QueryDataset, results: Measurement[]): Promise<Record<string, unknown>> {
  const store = await KeytrailDb.open({ path: dataset.dbPath, ...DB_OPTIONS });
  const hasLake = dataset.build.partitions > 0;
  const lake = await openLake(dataset.lakeDir).catch(() => null);
  const n = dataset.rows;
  try {
    const keys = await store.all(`SELECT key_arn, count(*)::INTEGER AS n FROM kms_events GROUP BY key_arn ORDER BY n DESC, key_arn`);
    const top = keys[0] as { key_arn: string; n: number };
    const mid = keys[Math.floor(keys.length / 2)] as { key_arn: string; n: number };
    // The key more popular than 90% of the others (rank 50 of 500).
    const p90 = keys[Math.floor(keys.length / 10)] as { key_arn: string; n: number };
    const range = await storedEventRange(store);
    const window = usageWindow(90, undefined, range.last);
    const since = window.from.replace('T', ' ').slice(0, 19);
    const until = window.to.replace('T', ' ').slice(0, 19);
    const dbs = ([
      ['duckdb', store],
      ['parquet', lake],
    ] as [Storage, KeytrailDb | null][]).filter((e): e is [Storage, KeytrailDb] => e[1] !== null && storages.includes(e[0]) && (e[0] === 'duckdb' || hasLake));
    const add = (question: string, storage: Storage, m: { c: number[]; b: number[] }, detail?: unknown) => {
      const medianMs = median(m.c);
      const baselineMs = m.b.length > 0 ? median(m.b) : null;
      const row: Measurement = {
        dataset: n,
        question,
        storage,
        medianMs,
        baselineMs,
        ratio: baselineMs === null ? null : baselineMs / medianMs,
        samplesMs: m.c,
        baselineSamplesMs: m.b,
        detail,
      };
      results.push(row);
      console.log(
        `  ${question.padEnd(44)} ${storage.padEnd(8)} ${medianMs.toFixed(1).padStart(9)} ms` +
          (baselineMs === null ? '' : `   baseline ${baselineMs.toFixed(1).padStart(8)} ms   ×${(baselineMs / medianMs).toFixed(1)}`),
      );
    };

    // --- one key's full past usage ----------------------------------------------------------
    const naiveUsage = (keyArn: string) => () =>
      store.all(
        `SELECT event_name, principal_arn, principal_account_id, via_service, event_date, error_code,
                count(*) AS calls, count(*) FILTER (WHERE outcome = 'error') AS errors, min(event_time) AS first, max(event_time) AS last
         FROM kms_events_unsorted
         WHERE key_arn = $arn AND event_time >= $from::TIMESTAMP AND event_time < $to::TIMESTAMP
         GROUP BY GROUPING SETS ((), (event_name), (principal_arn, principal_account_id), (principal_account_id), (via_service), (event_date), (error_code))`,
        { arn: keyArn, from: window.from, to: window.to },
      );
    for (const [label, key] of [
      ['past usage, most popular key', top],
      ['past usage, 90th-percentile key', p90],
      ['past usage, mid-popularity key', mid],
    ] as const) {
      const question = `${label} (${thousands(key.n)} ev)`;
      for (const [storage, db] of dbs) {
        if (skipped('usage', storage)) continue;
        const report = await pastUsage(db, key.key_arn, { config: DEFAULT_CONFIG });
        const m = await measure(() => pastUsage(db, key.key_arn, { config: DEFAULT_CONFIG }), naiveUsage(key.key_arn));
        add(question, storage, m, { keyArn: key.key_arn, storedRows: key.n, calls: report.totals.calls, principals: report.principals.length, verdict: report.verdict });
      }
    }
    // Parts of pastUsage that do not depend on the key: the stored range and the stored days (each a scan of event_time / event_date).
    for (const [storage, db] of dbs) {
      if (skipped('usage', storage)) continue;
      add('  pastUsage part: storedEventRange', storage, await measure(() => storedEventRange(db), null));
      add('  pastUsage part: storedEventDays', storage, await measure(() => storedEventDays(db, window), null));
    }

    // --- cross-account -----------------------------------------------------------------------
    const external = querySql('compliance/external-account-key-use.sql');
    const pairs = querySql('audit/cross-account-call-pairs.sql');
    const naiveExternal = () =>
      store.all(
        `SELECT key_arn, principal_account_id, count(*) AS calls, count(*) FILTER (WHERE outcome = 'error') AS errors, min(event_time) AS first, max(event_time) AS last
         FROM kms_events_unsorted
         WHERE principal_account_id <> key_account_id AND event_time >= $since::TIMESTAMP AND event_time < $until::TIMESTAMP
           AND NOT list_contains(string_split($org, ','), principal_account_id)
         GROUP BY key_arn, principal_account_id`,
        { since, until, org: ORG_ACCOUNTS },
      );
    const naivePairs = () =>
      store.all(
        `SELECT coalesce(shared_event_id, event_id) AS call_id, min(event_time) AS event_time, min(event_name) AS event_name, count(*) AS copies
         FROM kms_events_unsorted
         WHERE principal_account_id <> key_account_id AND event_time >= $since::TIMESTAMP AND event_time < $until::TIMESTAMP
         GROUP BY coalesce(shared_event_id, event_id)`,
        { since, until },
      );
    for (const [storage, db] of dbs) {
      if (skipped('cross', storage)) continue;
      const rows = (await db.all(external, { since, until, org_accounts: ORG_ACCOUNTS })).length;
      add('external-account-key-use.sql', storage, await measure(() => db.all(external, { since, until, org_accounts: ORG_ACCOUNTS }), naiveExternal), { rows });
    }
    for (const [storage, db] of dbs) {
      if (skipped('cross', storage)) continue;
      const rows = (await db.all(pairs, { since, until })).length;
      add('cross-account-call-pairs.sql', storage, await measure(() => db.all(pairs, { since, until }), naivePairs), { rows });
    }

    // --- compliance report -------------------------------------------------------------------
    const naiveCompliance = async () => {
      const p = { since, until };
      const inPeriod = `event_time >= $since::TIMESTAMP AND event_time < $until::TIMESTAMP`;
      await store.all(
        `SELECT count(*), count(DISTINCT key_arn), count(DISTINCT principal_arn), count(*) FILTER (WHERE outcome = 'error'), min(event_time), max(event_time)
         FROM kms_events_unsorted WHERE ${inPeriod}`,
        p,
      );
      await store.all(
        `SELECT key_arn, count(*), count(*) FILTER (WHERE outcome = 'error'), max(event_time), count(*) FILTER (WHERE event_name IN ${ADMIN_OPS})
         FROM kms_events_unsorted WHERE ${inPeriod} GROUP BY key_arn`,
        p,
      );
      await store.all(
        `SELECT event_time, event_name, outcome, key_arn, principal_arn, event_id FROM kms_events_unsorted WHERE event_name IN ${ADMIN_OPS} AND ${inPeriod}`,
        p,
      );
      await store.all(
        `SELECT key_arn, principal_account_id, count(*) FROM kms_events_unsorted WHERE principal_account_id <> key_account_id AND ${inPeriod} GROUP BY ALL`,
        p,
      );
      await store.all(`SELECT event_date, key_arn, count(*) FROM kms_events_unsorted WHERE ${inPeriod} GROUP BY ALL`, p);
    };
    for (const [storage, db] of dbs) {
      if (skipped('compliance', storage)) continue;
      const report = await buildComplianceReport(db, { config: DEFAULT_CONFIG, now: NOW });
      add('compliance report build', storage, await measure(() => buildComplianceReport(db, { config: DEFAULT_CONFIG, now: NOW }), naiveCompliance), {
        keys: report.keys.length,
        crossAccount: report.crossAccount.length,
        events: report.totals.events,
      });
    }
    return { topKey: top, p90Key: p90, midKey: mid, window: { from: window.from, to: window.to } };
  } finally {
    store.close();
    lake?.close();
  }
}

const machine = machineInfo();
console.log(`query bench: sizes ${sizes.map(thousands).join(', ')}; ${runs} warm runs; nproc ${machine.nproc}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const results: Measurement[] = [];
const datasets: Record<string, unknown>[] = [];
for (const size of sizes) {
  console.log(`dataset ${thousands(size)} events`);
  const t = performance.now();
  const dataset = await ensureQueryDataset(size, (line) => console.log(line));
  console.log(`  ${dataset.reused ? 'reused' : 'built'} ${dataset.dir} (${((performance.now() - t) / 1000).toFixed(1)} s): ${JSON.stringify(dataset.build)}`);
  const info = await benchDataset(dataset, results);
  datasets.push({ rows: size, build: dataset.build, reused: dataset.reused, ...info });
}
machine.loadAverage.end = loadavg()[0] ?? 0;

// Keep earlier results for sizes not measured in this run.
interface RunRecord { command: string; machine: typeof machine; datasets: Record<string, unknown>[]; results: Measurement[] }
let earlier: RunRecord[] = [];
try {
  const previous = JSON.parse(readFileSync(RESULTS_PATH, 'utf8')) as { runs?: RunRecord[] };
  earlier = (previous.runs ?? [])
    .map((r) => ({ ...r, results: r.results.filter((m) => !sizes.includes(m.dataset)), datasets: r.datasets.filter((d) => !sizes.includes(Number(d['rows']))) }))
    .filter((r) => r.results.length > 0);
} catch {
  // first run
}
const command = `npm run bench:queries -- --sizes ${sizes.join(',')} --runs ${runs} --storages ${storages.join(',')}${skip.size ? ` --skip ${[...skip].join(',')}` : ''}`;
const allRuns: RunRecord[] = [...earlier, { command, machine, datasets, results }];

const table = [
  '| dataset | question | storage | median ms | baseline ms | ratio (baseline / median) |',
  '| ---: | --- | --- | ---: | ---: | ---: |',
  ...allRuns.flatMap((run) => run.results).map(
    (r: Measurement) =>
      `| ${thousands(r.dataset)} | ${r.question.trim()} | ${r.storage === 'duckdb' ? 'DuckDB table' : 'Parquet lake'} | ${r.medianMs.toFixed(1)} | ${r.baselineMs === null ? '—' : r.baselineMs.toFixed(1)} | ${r.ratio === null ? '—' : `${r.ratio.toFixed(1)}×`} |`,
  ),
];
console.log(`\n${table.join('\n')}\n`);
const target = results.filter((r) => r.dataset === 10_000_000 && r.question.startsWith('past usage'));
if (target.length > 0) {
  console.log(`target (past usage over 10M < ${TARGET_MS} ms warm): ${target.map((r) => `${r.question.trim()} ${r.storage} ${r.medianMs.toFixed(1)} ms ${r.medianMs < TARGET_MS ? 'met' : 'NOT met'}`).join('; ')}`);
}
console.log(`load average at start ${machine.loadAverage.start.toFixed(2)}, at end ${machine.loadAverage.end.toFixed(2)}`);
writeFileSync(
  RESULTS_PATH,
  `${JSON.stringify({ targetMs: TARGET_MS, runs: allRuns, markdownTable: table.join('\n') }, null, 2)}\n`,
);
console.log(`results: ${RESULTS_PATH}`);
