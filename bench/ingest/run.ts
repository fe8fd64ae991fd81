/**
 * Ingest benchmark: keytrail's `ingest` against DuckDB's own `read_json` (the ceiling) on the same
 * gzipped CloudTrail files, interleaved run by run so both legs share the machine's noise.
 *
 *   npm run bench:ingest -- [--records 1000000] [--files 1000] [--runs 3] [--legs ceiling,keytrail,ceiling-raw]
 *
 * Every leg is a fresh child process writing a fresh database file, measured from the outside
 * (wall time; peak RSS and CPU time through GNU time). Results: bench/data/results-ingest.json.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { intOption, parseBenchArgs, stringOption } from '../lib/args.js';
import { machineInfo } from '../lib/machine.js';
import { measureChild, type ChildMeasurement } from '../lib/measure-child.js';
import { median, mib, seconds, thousands } from '../lib/stats.js';
import { ceilingSql, type CeilingResult, type CeilingVariant } from './ceiling.js';
import { BENCH_DATA_DIR, ensureDataset, type Dataset } from './generate.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const KEYTRAIL_MAIN = join(REPO, 'src/cli/main.ts');
const RESULTS_PATH = join(BENCH_DATA_DIR, 'results-ingest.json');
/** The targets from the issue. */
const TARGET = { ratio: 0.5, peakRssBytes: 1e9 } as const;

type LegName = 'ceiling' | 'ceiling-raw' | 'ceiling-pk' | 'keytrail';
const LEG_NAMES: readonly LegName[] = ['ceiling', 'keytrail', 'ceiling-raw', 'ceiling-pk'];
const DEFAULT_LEGS: readonly LegName[] = ['ceiling', 'keytrail', 'ceiling-raw'];
const VARIANT_OF: Record<Exclude<LegName, 'keytrail'>, CeilingVariant> = { ceiling: 'typed', 'ceiling-raw': 'typed-raw', 'ceiling-pk': 'typed-pk' };

interface LegResult {
  leg: LegName;
  run: number;
  ok: boolean;
  error?: string;
  /** Child process start to exit, seen from here: what a user waits for. */
  wallMs: number;
  /** The leg's own timing of its work (keytrail: summary.elapsedMs; ceiling: query + checkpoint). */
  innerMs: number | null;
  /** All records in the trail files per wall second (both legs parse every one). */
  recordsPerSecond: number;
  /** Rows stored. */
  rows: number | null;
  peakRssBytes: number | null;
  rssSource: ChildMeasurement['rssSource'];
  /** Peak RSS the child reported itself (keytrail's summary), when it does. */
  selfReportedPeakRssBytes: number | null;
  cpuMs: number | null;
  detail: unknown;
}

interface KeytrailSummary {
  records: number;
  inserted: number;
  duplicates: number;
  rejected: number;
  ignored?: number;
  skippedFiles: unknown;
  elapsedMs: number;
  peakRssBytes: number;
}

function isLegName(value: string): value is LegName {
  return (LEG_NAMES as readonly string[]).includes(value);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseBenchArgs(argv, {
    records: 'string',
    files: 'string',
    runs: 'string',
    out: 'string',
    seed: 'string',
    threads: 'string',
    legs: 'string',
    'keep-dbs': 'boolean',
  });
  const records = intOption(args, 'records', 1_000_000);
  const files = intOption(args, 'files', 1_000);
  const runs = intOption(args, 'runs', 3);
  const threads = intOption(args, 'threads', 2);
  const legs = (stringOption(args, 'legs') ?? DEFAULT_LEGS.join(',')).split(',').map((l) => l.trim());
  for (const leg of legs) if (!isLegName(leg)) throw new Error(`--legs: unknown leg "${leg}" (known: ${LEG_NAMES.join(', ')})`);
  const legList = legs.filter(isLegName);
  const machine = machineInfo();

  console.log(`ingest bench: ${thousands(records)} records in ${thousands(files)} files, ${runs} runs, legs ${legList.join(', ')}`);
  const dataset = await ensureDataset({ records, files, out: stringOption(args, 'out'), seed: intOption(args, 'seed', 1), log: (l) => console.log(l) });
  const trailRoot = join(dataset.dir, 'AWSLogs');
  const glob = join(dataset.dir, dataset.manifest.trailGlob);
  const counts = dataset.manifest.counts;
  const maxObject = Math.max(16 * 2 ** 20, 2 ** Math.ceil(Math.log2(counts.maxFileBytes * 1.25)));
  console.log(
    `data: ${thousands(counts.records)} records (${thousands(counts.kmsRecords)} KMS, ${thousands(counts.otherRecords)} other), ` +
      `${counts.trailFiles} trail + ${counts.digestFiles} digest files, ${mib(counts.compressedBytes)} gzipped / ${mib(counts.uncompressedBytes)} JSON`,
  );
  const warmMs = warmPageCache(trailRoot);
  console.log(`page cache warmed (${seconds(warmMs)}); machine: ${machine.nproc} cores, load ${machine.loadAverage.start.toFixed(2)}`);

  const keytrailMissing = legList.includes('keytrail') ? await keytrailCliProblem() : null;
  if (keytrailMissing) console.log(`keytrail leg will fail: ${keytrailMissing}`);

  const results: LegResult[] = [];
  for (let run = 1; run <= runs; run++) {
    // Rotate the order so no leg always runs first (on a warmer or quieter machine).
    const order = legList.map((_, i) => legList[(i + run - 1) % legList.length]).filter((l): l is LegName => l !== undefined);
    for (const leg of order) {
      const db = join(BENCH_DATA_DIR, `bench-${leg}.duckdb`);
      removeDb(db);
      let result: LegResult;
      if (leg === 'keytrail') {
        result = keytrailMissing ? failed(leg, run, keytrailMissing) : await keytrailLeg(run, trailRoot, db, dataset);
      } else {
        result = await ceilingLeg(leg, run, glob, db, threads, maxObject, dataset);
      }
      if (args['keep-dbs'] !== true) removeDb(db);
      results.push(result);
      console.log(formatLeg(result));
    }
  }

  machine.loadAverage.end = loadavg()[0] ?? 0;
  const summary = summarize(results, legList, dataset);
  const output = {
    bench: 'ingest',
    command: `npm run bench:ingest -- ${argv.join(' ')}`.trim(),
    when: new Date().toISOString(),
    machine,
    dataset: { dir: relative(REPO, dataset.dir), reused: dataset.reused, params: dataset.manifest.params, counts },
    setup: {
      threadsCeiling: threads,
      keytrailCommand: `node --import tsx src/cli/main.ts ingest ${relative(REPO, trailRoot)} --db <fresh file> --format json`,
      ceilingSql: ceilingSql('typed', maxObject),
      fairness:
        'Both legs read and parse every record of every trail file and store only the KMS ones (keytrail by its normalizer, ' +
        "the ceiling by WHERE eventSource = 'kms.amazonaws.com'); digest files are skipped by both (keytrail by path, the ceiling by its glob). " +
        'Both are fresh child processes (node --import tsx) writing a fresh file-backed database, timed from spawn to exit.',
      rssMeasurement: results[0]?.rssSource ?? 'none',
    },
    target: TARGET,
    summary,
    runs: results,
  };
  writeFileSync(RESULTS_PATH, `${JSON.stringify(output, null, 2)}\n`);
  printSummary(summary);
  console.log(`results: ${relative(process.cwd(), RESULTS_PATH)}`);
  if (results.some((r) => !r.ok) || summary.checks.some((c) => !c.ok)) process.exitCode = 1;
}

/** Why the keytrail leg cannot run, or null when `keytrail ingest --help` works. */
async function keytrailCliProblem(): Promise<string | null> {
  if (!existsSync(KEYTRAIL_MAIN)) return `${relative(REPO, KEYTRAIL_MAIN)} does not exist (the keytrail ingest CLI is not written yet)`;
  const help = await measureChild(process.execPath, ['--import', 'tsx', KEYTRAIL_MAIN, 'ingest', '--help'], { cwd: REPO });
  if (help.exitCode !== 0 || !help.stdout.includes('--format')) {
    return `\`keytrail ingest --help\` failed (exit ${help.exitCode}): ${(help.stderr || help.stdout).trim().split('\n').slice(0, 3).join(' / ')}`;
  }
  return null;
}

async function keytrailLeg(run: number, trailRoot: string, db: string, dataset: Dataset): Promise<LegResult> {
  // src/ is being worked on while the bench runs: record which ingest code each run measured.
  const srcSha256 = treeHash(join(REPO, 'src'), INGEST_CODE);
  const m = await measureChild(process.execPath, ['--import', 'tsx', KEYTRAIL_MAIN, 'ingest', trailRoot, '--db', db, '--format', 'json'], { cwd: REPO });
  const summary = parseJsonOutput<KeytrailSummary>(m.stdout);
  // Exit 2 means "some input rejected"; the data set has none, so anything but 0 is a failure here.
  if (m.exitCode !== 0 || !summary) {
    const why = summary ? `exit ${m.exitCode}, summary ${JSON.stringify(summary).slice(0, 400)}` : `exit ${m.exitCode}: ${lastLines(m.stderr || m.stdout)}`;
    return { ...failed('keytrail', run, why), wallMs: m.wallMs, peakRssBytes: m.peakRssBytes, detail: summary ?? null };
  }
  const stored = await countRows(db);
  return {
    leg: 'keytrail',
    run,
    ok: true,
    wallMs: m.wallMs,
    innerMs: summary.elapsedMs,
    recordsPerSecond: dataset.manifest.counts.records / (m.wallMs / 1000),
    rows: stored.kmsEvents,
    peakRssBytes: m.peakRssBytes,
    rssSource: m.rssSource,
    selfReportedPeakRssBytes: summary.peakRssBytes ?? null,
    cpuMs: m.userMs !== null && m.systemMs !== null ? m.userMs + m.systemMs : null,
    detail: { summary, stored, dbBytes: fileSize(db) + fileSize(`${db}.wal`), srcSha256 },
  };
}

/** The parts of src/ on the ingest path (the CLI also loads reports, detectors, … which ingest does not run). */
const INGEST_CODE = ['cli', 'events', 'normalize', 'pipeline', 'sources', 'store', 'errors.ts'];

/** sha256 over the paths and contents of the named entries under a directory, in path order. */
function treeHash(root: string, entries: readonly string[]): string {
  const hash = createHash('sha256');
  const visit = (path: string): void => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) visit(join(path, name));
    } else hash.update(`${relative(root, path)}\0`).update(readFileSync(path)).update('\0');
  };
  for (const entry of entries) visit(join(root, entry));
  return hash.digest('hex').slice(0, 16);
}

async function ceilingLeg(leg: Exclude<LegName, 'keytrail'>, run: number, glob: string, db: string, threads: number, maxObject: number, dataset: Dataset): Promise<LegResult> {
  const variant = VARIANT_OF[leg];
  const m = await measureChild(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'bench/ingest/ceiling.ts'), '--glob', glob, '--db', db, '--threads', String(threads), '--variant', variant, '--max-object-size', String(maxObject)],
    { cwd: REPO },
  );
  const result = parseJsonOutput<CeilingResult>(m.stdout);
  if (m.exitCode !== 0 || !result) return { ...failed(leg, run, `exit ${m.exitCode}: ${lastLines(m.stderr || m.stdout)}`), wallMs: m.wallMs };
  return {
    leg,
    run,
    ok: true,
    wallMs: m.wallMs,
    innerMs: result.queryMs + result.closeMs,
    recordsPerSecond: dataset.manifest.counts.records / (m.wallMs / 1000),
    rows: result.rows,
    peakRssBytes: m.peakRssBytes,
    rssSource: m.rssSource,
    selfReportedPeakRssBytes: null,
    cpuMs: m.userMs !== null && m.systemMs !== null ? m.userMs + m.systemMs : null,
    detail: { ...result, dbBytes: fileSize(db) + fileSize(`${db}.wal`) },
  };
}

function failed(leg: LegName, run: number, error: string): LegResult {
  return {
    leg,
    run,
    ok: false,
    error,
    wallMs: Number.NaN,
    innerMs: null,
    recordsPerSecond: Number.NaN,
    rows: null,
    peakRssBytes: null,
    rssSource: 'none',
    selfReportedPeakRssBytes: null,
    cpuMs: null,
    detail: null,
  };
}

/** Rows keytrail stored, read back from its database (not from its own summary). */
async function countRows(db: string): Promise<{ kmsEvents: number; distinctEventIds: number; rejectedRecords: number }> {
  const instance = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT (SELECT count(*) FROM kms_events)::INTEGER, (SELECT count(DISTINCT event_id) FROM kms_events)::INTEGER,
        (SELECT count(*) FROM rejected_records)::INTEGER`,
    );
    const [a, b, c] = reader.getRows()[0] ?? [];
    return { kmsEvents: Number(a), distinctEventIds: Number(b), rejectedRecords: Number(c) };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The JSON object a leg printed: the whole output, or failing that its last line. */
function parseJsonOutput<T>(stdout: string): T | null {
  const text = stdout.trim();
  for (const candidate of [text, text.split('\n').at(-1) ?? '', text.slice(text.lastIndexOf('\n{') + 1)]) {
    try {
      const value: unknown = JSON.parse(candidate);
      if (value !== null && typeof value === 'object') return value as T;
    } catch {
      // Not JSON; try the next candidate.
    }
  }
  return null;
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

interface LegSummary {
  leg: LegName;
  okRuns: number;
  medianWallMs: number;
  medianInnerMs: number;
  medianRecordsPerSecond: number;
  medianInnerRecordsPerSecond: number;
  medianPeakRssBytes: number;
  maxPeakRssBytes: number;
  medianCpuMs: number;
  /** CPU seconds per wall second: how many of the cores the leg kept busy. */
  medianCoresUsed: number;
}

function summarize(results: LegResult[], legs: readonly LegName[], dataset: Dataset) {
  const c = dataset.manifest.counts;
  const perLeg: LegSummary[] = legs.map((leg) => {
    const ok = results.filter((r) => r.leg === leg && r.ok);
    const inner = ok.map((r) => r.innerMs).filter((v): v is number => v !== null);
    const rss = ok.map((r) => r.peakRssBytes).filter((v): v is number => v !== null);
    const cpu = ok.map((r) => r.cpuMs).filter((v): v is number => v !== null);
    return {
      leg,
      okRuns: ok.length,
      medianWallMs: median(ok.map((r) => r.wallMs)),
      medianInnerMs: median(inner),
      medianRecordsPerSecond: median(ok.map((r) => r.recordsPerSecond)),
      medianInnerRecordsPerSecond: median(inner.map((ms) => c.records / (ms / 1000))),
      medianPeakRssBytes: median(rss),
      maxPeakRssBytes: rss.length ? Math.max(...rss) : Number.NaN,
      medianCpuMs: median(cpu),
      medianCoresUsed: median(ok.filter((r) => r.cpuMs !== null).map((r) => (r.cpuMs ?? 0) / r.wallMs)),
    };
  });
  // Ratio per run (the two legs of one run share its noise), then the median of those.
  const runRatios: number[] = [];
  const runInnerRatios: number[] = [];
  // CPU-seconds per record, ceiling over keytrail: far less sensitive to a shared machine than wall time.
  const runCpuRatios: number[] = [];
  for (const run of new Set(results.map((r) => r.run))) {
    const k = results.find((r) => r.run === run && r.leg === 'keytrail' && r.ok);
    const ce = results.find((r) => r.run === run && r.leg === 'ceiling' && r.ok);
    if (k && ce) {
      runRatios.push(ce.wallMs / k.wallMs);
      if (k.innerMs !== null && ce.innerMs !== null) runInnerRatios.push(ce.innerMs / k.innerMs);
      if (k.cpuMs !== null && ce.cpuMs !== null) runCpuRatios.push(ce.cpuMs / k.cpuMs);
    }
  }
  const keytrail = perLeg.find((l) => l.leg === 'keytrail');
  const ratio = median(runRatios);
  const checks: Check[] = [];
  for (const r of results.filter((x) => x.ok)) {
    if (r.leg !== 'keytrail') {
      checks.push({ name: `run ${r.run} ${r.leg}: rows = KMS records`, ok: r.rows === c.kmsRecords, detail: `${r.rows} vs ${c.kmsRecords}` });
      continue;
    }
    const d = r.detail as { summary: KeytrailSummary; stored: { kmsEvents: number; distinctEventIds: number; rejectedRecords: number } };
    checks.push({ name: `run ${r.run} keytrail: kms_events rows = KMS records`, ok: d.stored.kmsEvents === c.kmsRecords, detail: `${d.stored.kmsEvents} vs ${c.kmsRecords}` });
    checks.push({ name: `run ${r.run} keytrail: event_id unique`, ok: d.stored.distinctEventIds === d.stored.kmsEvents, detail: `${d.stored.distinctEventIds} distinct` });
    checks.push({ name: `run ${r.run} keytrail: summary inserted = KMS records`, ok: d.summary.inserted === c.kmsRecords, detail: `${d.summary.inserted}` });
    checks.push({ name: `run ${r.run} keytrail: records read = all records`, ok: d.summary.records === c.records, detail: `${d.summary.records} vs ${c.records}` });
    checks.push({ name: `run ${r.run} keytrail: nothing rejected`, ok: d.summary.rejected === 0 && d.stored.rejectedRecords === 0, detail: `${d.summary.rejected}` });
    checks.push({ name: `run ${r.run} keytrail: no duplicates`, ok: d.summary.duplicates === 0, detail: `${d.summary.duplicates}` });
    if (d.summary.ignored !== undefined) {
      checks.push({ name: `run ${r.run} keytrail: ignored = non-KMS records`, ok: d.summary.ignored === c.otherRecords, detail: `${d.summary.ignored} vs ${c.otherRecords}` });
    }
    checks.push({
      name: `run ${r.run} keytrail: digest files skipped`,
      ok: JSON.stringify(d.summary.skippedFiles).includes(`"digest":${c.digestFiles}`) || d.summary.skippedFiles === c.digestFiles,
      detail: JSON.stringify(d.summary.skippedFiles),
    });
  }
  const hashes = new Set(results.filter((r) => r.leg === 'keytrail' && r.ok).map((r) => (r.detail as { srcSha256: string }).srcSha256));
  if (hashes.size > 0) checks.push({ name: 'keytrail: ingest code in src/ unchanged across runs', ok: hashes.size === 1, detail: [...hashes].join(', ') });
  return {
    legs: perLeg,
    ratioKeytrailToCeiling: { medianOfRunRatios: ratio, ofMedians: keytrail ? keytrail.medianRecordsPerSecond / (perLeg.find((l) => l.leg === 'ceiling')?.medianRecordsPerSecond ?? Number.NaN) : Number.NaN, inner: median(runInnerRatios), cpu: median(runCpuRatios), perRun: runRatios },
    met: {
      ratio: Number.isFinite(ratio) ? ratio >= TARGET.ratio : null,
      peakRss: keytrail && Number.isFinite(keytrail.maxPeakRssBytes) ? keytrail.maxPeakRssBytes < TARGET.peakRssBytes : null,
    },
    checks,
  };
}

function formatLeg(r: LegResult): string {
  if (!r.ok) return `  run ${r.run} ${r.leg.padEnd(11)} FAILED: ${r.error}`;
  const rss = r.peakRssBytes !== null ? `, peak RSS ${mib(r.peakRssBytes)}` : '';
  const cpu = r.cpuMs !== null ? `, ${(r.cpuMs / r.wallMs).toFixed(2)} cores` : '';
  return `  run ${r.run} ${r.leg.padEnd(11)} ${seconds(r.wallMs)} wall (${r.innerMs !== null ? seconds(r.innerMs) : '?'} inner), ${thousands(r.recordsPerSecond)} records/s, ${thousands(r.rows ?? 0)} rows${rss}${cpu}`;
}

function printSummary(summary: ReturnType<typeof summarize>): void {
  console.log('\nmedians:');
  console.log('  leg           records/s (wall)  records/s (inner)  wall       peak RSS    cores used  CPU s');
  for (const l of summary.legs) {
    if (l.okRuns === 0) {
      console.log(`  ${l.leg.padEnd(13)} no successful run`);
      continue;
    }
    console.log(
      `  ${l.leg.padEnd(13)} ${thousands(l.medianRecordsPerSecond).padStart(16)}  ${thousands(l.medianInnerRecordsPerSecond).padStart(17)}  ${seconds(l.medianWallMs).padEnd(9)}  ${mib(l.medianPeakRssBytes).padEnd(10)}  ${l.medianCoresUsed.toFixed(2).padEnd(10)}  ${(l.medianCpuMs / 1000).toFixed(1)}`,
    );
  }
  const r = summary.ratioKeytrailToCeiling;
  if (Number.isFinite(r.medianOfRunRatios)) {
    console.log(
      `keytrail / ceiling: ${r.medianOfRunRatios.toFixed(2)} (median of per-run wall ratios; inner ${r.inner.toFixed(2)}; CPU time ${r.cpu.toFixed(2)}), ` +
        `target ≥ ${TARGET.ratio}: ${summary.met.ratio ? 'met' : 'NOT met'}`,
    );
  }
  const k = summary.legs.find((l) => l.leg === 'keytrail');
  if (k && Number.isFinite(k.maxPeakRssBytes)) console.log(`keytrail peak RSS: ${mib(k.maxPeakRssBytes)} (max over runs), target < 1 GB: ${summary.met.peakRss ? 'met' : 'NOT met'}`);
  const bad = summary.checks.filter((c) => !c.ok);
  console.log(bad.length === 0 ? `checks: all ${summary.checks.length} passed` : `checks FAILED:\n${bad.map((c) => `  ${c.name}: ${c.detail}`).join('\n')}`);
}

/** Read every trail file once so no leg pays for the disk and the first leg is not penalized. */
function warmPageCache(root: string): number {
  const started = performance.now();
  const buffer = Buffer.allocUnsafe(1 << 20);
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const fd = openSync(path, 'r');
        try {
          while (readSync(fd, buffer, 0, buffer.length, null) > 0);
        } finally {
          closeSync(fd);
        }
      }
    }
  };
  walk(root);
  return performance.now() - started;
}

function removeDb(path: string): void {
  rmSync(path, { force: true });
  rmSync(`${path}.wal`, { force: true });
}

function fileSize(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-4).join(' / ').slice(0, 600);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
