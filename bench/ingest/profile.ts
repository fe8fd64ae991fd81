/**
 * Where keytrail's ingest time goes, on a subset (default 100,000 records in 100 files):
 *
 * 1. Stages, cumulative, in this process with keytrail's own modules: gunzip alone; keytrail's
 *    reader (gunzip + record splitting + JSON.parse); + zod; + the normalizer; the full pipeline
 *    into a fresh database, with EventStore's appender and INSERT … SELECT timed separately.
 *    Each stage's increment over the previous one is that step's cost.
 * 2. A V8 CPU profile of the real CLI (`node --cpu-prof … src/cli/main.ts ingest …`), summarized
 *    by category and function. Work on other threads (zlib's pool, DuckDB's threads) shows there
 *    as the main thread's idle time; the stages above account for it.
 *
 *   npx tsx bench/ingest/profile.ts [--records 100000] [--files 100] [--repeat 3] [--skip-cli] [--skip-stages]
 *     [--only-full]   (only the full-pipeline stage: per-batch store timings on a big data set)
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { intOption, parseBenchArgs } from '../lib/args.js';
import { mainThreadProfile, summarizeProfile, type CategoryRule } from '../lib/cpuprofile.js';
import { median, mib, thousands } from '../lib/stats.js';
import { BENCH_DATA_DIR, ensureDataset } from './generate.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const OUT = join(BENCH_DATA_DIR, 'profile-ingest.json');

interface StageResult {
  name: string;
  ms: number;
  cpuMs: number;
  recordsPerSecond: number;
  /** ms over the previous stage: what this step adds. */
  incrementMs: number | null;
  heapUsedBytes: number;
  rssBytes: number;
  extra?: Record<string, number>;
}

/** keytrail modules, loaded at run time so a renamed export fails with its name, not a type error. */
interface KeytrailModules {
  readBatches: (path: string) => AsyncGenerator<{ kind: string; value?: unknown; origin?: unknown; text?: string }[]>;
  normalizeValue: (value: unknown, origin: unknown, ingestedAt: string, text?: string) => { kind: string };
  safeParse: (value: unknown) => { success: boolean };
  runFullIngest: (root: string, db: string) => Promise<{ counts: unknown; timers: Record<string, number> }>;
}

async function loadKeytrail(): Promise<KeytrailModules> {
  const readFile = (await import(join(REPO, 'src/sources/read-file.ts'))) as Record<string, unknown>;
  const normalize = (await import(join(REPO, 'src/normalize/normalize.ts'))) as Record<string, unknown>;
  const schemas = (await import(join(REPO, 'src/events/cloudtrail-record.ts'))) as Record<string, unknown>;
  const database = (await import(join(REPO, 'src/store/database.ts'))) as Record<string, unknown>;
  const eventStore = (await import(join(REPO, 'src/store/event-store.ts'))) as Record<string, unknown>;
  const ingestFilesModule = (await import(join(REPO, 'src/pipeline/ingest-files.ts'))) as Record<string, unknown>;
  const need = <T>(module: Record<string, unknown>, name: string, file: string): T => {
    if (module[name] === undefined) throw new Error(`${file} no longer exports ${name}; update bench/ingest/profile.ts`);
    return module[name] as T;
  };

  type Batches = (path: string) => AsyncGenerator<{ kind: string; value?: unknown; origin?: unknown; text?: string }[]>;
  let readBatches: Batches;
  if (typeof readFile['readFileBatches'] === 'function') readBatches = readFile['readFileBatches'] as Batches;
  else {
    const items = need<(path: string) => AsyncGenerator<{ kind: string; value?: unknown; origin?: unknown; text?: string }>>(readFile, 'readFileItems', 'src/sources/read-file.ts');
    readBatches = async function* (path) {
      for await (const item of items(path)) yield [item];
    };
  }
  const schema = need<{ safeParse: (v: unknown) => { success: boolean } }>(schemas, 'CloudTrailRecordSchema', 'src/events/cloudtrail-record.ts');
  const KeytrailDb = need<{ open: (o: { path: string }) => Promise<{ close: () => void }> }>(database, 'KeytrailDb', 'src/store/database.ts');
  const EventStore = need<new (db: unknown) => object>(eventStore, 'EventStore', 'src/store/event-store.ts');
  const ingestFiles = need<(paths: string[], o: { store: object }) => Promise<unknown>>(ingestFilesModule, 'ingestFiles', 'src/pipeline/ingest-files.ts');

  return {
    readBatches,
    normalizeValue: need(normalize, 'normalizeValue', 'src/normalize/normalize.ts'),
    safeParse: (v) => schema.safeParse(v),
    async runFullIngest(root, dbPath) {
      // Time EventStore's steps by wrapping its methods (private ones included: they exist at run time).
      const timers: Record<string, number> = {};
      const calls: Record<string, number[]> = {};
      const proto = EventStore.prototype as Record<string, unknown>;
      const originals = new Map<string, unknown>();
      const dbOriginals = new Map<string, unknown>();
      for (const name of ['insertEvents', 'mergeStaging', 'insertRejections']) {
        const original = proto[name];
        if (typeof original !== 'function') continue;
        originals.set(name, original);
        timers[name] = 0;
        proto[name] = async function (this: unknown, ...args: unknown[]) {
          const t = performance.now();
          try {
            return await (original as (...a: unknown[]) => Promise<unknown>).apply(this, args);
          } finally {
            const ms = performance.now() - t;
            timers[name] = (timers[name] ?? 0) + ms;
            (calls[name] ??= []).push(ms);
          }
        };
      }
      // And every statement the store runs, keyed by its first words.
      const dbProto = (KeytrailDb as unknown as { prototype: Record<string, unknown> }).prototype;
      for (const name of ['exec', 'all']) {
        const original = dbProto[name];
        if (typeof original !== 'function') continue;
        dbOriginals.set(name, original);
        dbProto[name] = async function (this: unknown, ...args: unknown[]) {
          const t = performance.now();
          try {
            return await (original as (...a: unknown[]) => Promise<unknown>).apply(this, args);
          } finally {
            const key = `sql: ${String(args[0]).replace(/\s+/g, ' ').trim().slice(0, 48)}`;
            timers[key] = (timers[key] ?? 0) + performance.now() - t;
          }
        };
      }
      try {
        const t = performance.now();
        const db = await KeytrailDb.open({ path: dbPath });
        timers['open'] = performance.now() - t;
        const counts = await ingestFiles([root], { store: new EventStore(db) });
        const c = performance.now();
        db.close();
        timers['close (checkpoint)'] = performance.now() - c;
        // Per-batch cost early and late in the run: growth means a step scans what is already stored.
        for (const [name, list] of Object.entries(calls)) {
          if (list.length < 2) continue;
          const k = Math.max(1, Math.floor(list.length / 4));
          timers[`${name} first ${k} (avg ms)`] = list.slice(0, k).reduce((a, b) => a + b, 0) / k;
          timers[`${name} last ${k} (avg ms)`] = list.slice(-k).reduce((a, b) => a + b, 0) / k;
          timers[`${name} calls`] = list.length;
        }
        return { counts, timers };
      } finally {
        for (const [name, original] of originals) proto[name] = original;
        const dbProtoRestore = (KeytrailDb as unknown as { prototype: Record<string, unknown> }).prototype;
        for (const [name, original] of dbOriginals) dbProtoRestore[name] = original;
      }
    },
  };
}

function trailFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'CloudTrail-Digest') walk(p);
      } else if (e.name.endsWith('.json.gz')) out.push(p);
    }
  };
  walk(root);
  return out.sort();
}

async function measure(name: string, records: number, repeat: number, work: () => Promise<Record<string, number> | void>): Promise<StageResult> {
  const times: number[] = [];
  const cpus: number[] = [];
  let extra: Record<string, number> | undefined;
  let heap = 0;
  let rss = 0;
  for (let i = 0; i < repeat; i++) {
    global.gc?.();
    const c = process.cpuUsage();
    const t = performance.now();
    const result = await work();
    times.push(performance.now() - t);
    const u = process.cpuUsage(c);
    cpus.push((u.user + u.system) / 1000);
    const m = process.memoryUsage();
    heap = Math.max(heap, m.heapUsed);
    rss = Math.max(rss, m.rss);
    if (result && (!extra || i === Math.floor(repeat / 2))) extra = result;
  }
  const ms = median(times);
  const stage: StageResult = { name, ms, cpuMs: median(cpus), recordsPerSecond: records / (ms / 1000), incrementMs: null, heapUsedBytes: heap, rssBytes: rss };
  if (extra) stage.extra = extra;
  console.log(`  ${name.padEnd(58)} ${thousands(ms).padStart(7)} ms  ${thousands(stage.recordsPerSecond).padStart(9)} records/s  cpu ${thousands(stage.cpuMs)} ms`);
  return stage;
}

const CATEGORY_RULES: CategoryRule[] = [
  { name: 'idle (main thread waits: DuckDB threads, zlib pool)', test: (_u, f) => f === '(idle)' },
  { name: 'garbage collection', test: (_u, f) => f === '(garbage collector)' },
  { name: 'record splitting (record-splitter.ts)', test: (u) => u.includes('/src/sources/record-splitter') },
  { name: 'JSON.parse + item decoding (decode-items.ts)', test: (u) => u.includes('/src/sources/decode-items') },
  { name: 'zod', test: (u) => u.includes('/node_modules/zod/') },
  { name: 'normalizer (src/normalize, incl. JSON.stringify of JSON columns and raw)', test: (u) => u.includes('/src/normalize/') },
  { name: 'appender calls (@duckdb/node-api JS + binding)', test: (u) => u.includes('/@duckdb/') },
  { name: 'event store (src/store)', test: (u) => u.includes('/src/store/') },
  { name: 'pipeline (src/pipeline)', test: (u) => u.includes('/src/pipeline/') },
  { name: 'file reading, streams, gunzip plumbing', test: (u) => u.includes('/src/sources/') || /^node:(zlib|stream|internal\/streams|string_decoder|internal\/fs|fs|buffer|internal\/buffer)/.test(u) },
  { name: 'module loading / tsx (start-up)', test: (u) => u.includes('/tsx/') || u.includes('esbuild') || u.startsWith('node:internal/modules') || u.includes('cjs-module-lexer') },
  { name: 'program / native (unattributed)', test: (u, f) => f === '(program)' || u === '' },
];

const INCLUSIVE = ['normalizeValue', 'normalizeRecord', 'safeParse', 'fromRecord', 'insertEvents', 'appendEvent', 'mergeStaging', 'push', 'emitSplit', 'ingestFiles'];

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), { records: 'string', files: 'string', repeat: 'string', 'skip-cli': 'boolean', 'skip-stages': 'boolean', 'only-full': 'boolean' });
  const onlyFull = args['only-full'] === true;
  const records = intOption(args, 'records', 100_000);
  const files = intOption(args, 'files', 100);
  const repeat = intOption(args, 'repeat', 3);
  const dataset = await ensureDataset({ records, files, log: (l) => console.log(l) });
  const root = join(dataset.dir, 'AWSLogs');
  const paths = trailFiles(root);
  const total = dataset.manifest.counts.records;
  const output: Record<string, unknown> = { dataset: { dir: relative(REPO, dataset.dir), counts: dataset.manifest.counts } };

  if (args['skip-stages'] !== true) {
    const kt = await loadKeytrail();
    const ingestedAt = new Date().toISOString();
    const stages: StageResult[] = [];
    console.log(`stages (median of ${repeat}, ${thousands(total)} records, this process):`);
    if (!onlyFull) {
      stages.push(
        await measure('gunzip only (stream, 64 KiB chunks)', total, repeat, async () => {
          for (const p of paths) await pipeline(createReadStream(p, { highWaterMark: 64 * 1024 }), createGunzip({ chunkSize: 64 * 1024 }), new Writable({ write: (_c, _e, cb) => cb() }));
        }),
      );
      stages.push(
        await measure("keytrail reader: gunzip + split + JSON.parse", total, repeat, async () => {
          let n = 0;
          for (const p of paths) for await (const batch of kt.readBatches(p)) n += batch.length;
          return { items: n };
        }),
      );
      stages.push(
        await measure('reader + JSON.stringify(record) (raw column)', total, repeat, async () => {
          let n = 0;
          for (const p of paths) for await (const batch of kt.readBatches(p)) for (const item of batch) n += JSON.stringify(item.value)?.length ?? 0;
          return { rawChars: n };
        }),
      );
      stages.push(
        await measure('reader + zod (CloudTrailRecordSchema.safeParse)', total, repeat, async () => {
          let ok = 0;
          for (const p of paths) for await (const batch of kt.readBatches(p)) for (const item of batch) if (kt.safeParse(item.value).success) ok++;
          return { valid: ok };
        }),
      );
      stages.push(
        await measure('reader + normalizeValue (zod + normalizer; raw = text as read)', total, repeat, async () => {
          let events = 0;
          for (const p of paths) for await (const batch of kt.readBatches(p)) for (const item of batch) if (kt.normalizeValue(item.value, item.origin, ingestedAt, item.text).kind === 'event') events++;
          return { events };
        }),
      );
    }
    const dbPath = join(BENCH_DATA_DIR, 'profile-stage.duckdb');
    stages.push(
      await measure('full: ingestFiles → fresh file DB (+ open, close)', total, repeat, async () => {
        rmSync(dbPath, { force: true });
        rmSync(`${dbPath}.wal`, { force: true });
        const { timers } = await kt.runFullIngest(root, dbPath);
        rmSync(dbPath, { force: true });
        rmSync(`${dbPath}.wal`, { force: true });
        return timers;
      }),
    );
    // Increments: the reader builds on gunzip; stringify, zod and normalize each on the reader.
    if (onlyFull) for (const [k, v] of Object.entries(stages[0]?.extra ?? {})) console.log(`  ${k.padEnd(62)} ${thousands(v).padStart(7)}`);
    const [gunzip, reader, stringify, zod, normalize, full] = stages;
    if (gunzip && reader && stringify && zod && normalize && full) {
      gunzip.incrementMs = gunzip.ms;
      reader.incrementMs = reader.ms - gunzip.ms;
      stringify.incrementMs = stringify.ms - reader.ms;
      zod.incrementMs = zod.ms - reader.ms;
      normalize.incrementMs = normalize.ms - reader.ms;
      full.incrementMs = full.ms - normalize.ms;
      const t = full.extra ?? {};
      const appender = (t['insertEvents'] ?? 0) - (t['mergeStaging'] ?? 0);
      console.log('\nbreakdown of the full pipeline (ms, share of full):');
      const line = (label: string, ms: number) => console.log(`  ${label.padEnd(62)} ${thousands(ms).padStart(7)} ms  ${((100 * ms) / full.ms).toFixed(0).padStart(3)}%`);
      line('gunzip (zlib, on the libuv pool but waited for)', gunzip.ms);
      line('record splitting + JSON.parse (reader minus gunzip)', reader.ms - gunzip.ms);
      line('zod safeParse (part of normalizeValue)', zod.ms - reader.ms);
      line('rest of normalizeValue (normalizer, JSON.stringify of JSON columns)', normalize.ms - zod.ms);
      line('appender: appendEvent rows + appender close/flush', appender);
      line('INSERT … SELECT from staging (mergeStaging)', t['mergeStaging'] ?? Number.NaN);
      line('open + migrate', t['open'] ?? Number.NaN);
      line('close (checkpoint)', t['close (checkpoint)'] ?? Number.NaN);
      for (const [k, v] of Object.entries(t)) if (k.includes('(avg ms)') || k.endsWith(' calls') || k.startsWith('sql: ')) console.log(`  ${k.padEnd(62)} ${thousands(v).padStart(7)}`);
      console.log(`  (for scale: JSON.stringify of every record would add ${thousands(stringify.ms - reader.ms)} ms; raw now reuses the text read)`);
      line('unaccounted (pipeline, awaits, overlap noise)', full.ms - normalize.ms - (t['insertEvents'] ?? 0) - (t['open'] ?? 0) - (t['close (checkpoint)'] ?? 0));
    }
    output['stages'] = stages;
  }

  if (args['skip-cli'] !== true) {
    const profDir = join(BENCH_DATA_DIR, 'cpuprofile-ingest');
    rmSync(profDir, { recursive: true, force: true });
    mkdirSync(profDir, { recursive: true });
    const db = join(BENCH_DATA_DIR, 'profile-cli.duckdb');
    rmSync(db, { force: true });
    rmSync(`${db}.wal`, { force: true });
    const t = performance.now();
    const child = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', profDir, '--import', 'tsx', 'src/cli/main.ts', 'ingest', root, '--db', db, '--format', 'json'], {
      cwd: REPO,
      encoding: 'utf8',
      maxBuffer: 64 * 2 ** 20,
    });
    const wallMs = performance.now() - t;
    rmSync(db, { force: true });
    rmSync(`${db}.wal`, { force: true });
    if (child.status !== 0) console.log(`CLI exited ${child.status}: ${(child.stderr || '').trim().split('\n').slice(-3).join(' / ')}`);
    const summary = summarizeProfile(mainThreadProfile(profDir), CATEGORY_RULES, INCLUSIVE);
    console.log(`\nCPU profile of the CLI (${(wallMs / 1000).toFixed(1)} s wall, ${thousands(summary.totalMs)} ms sampled on the main thread): ${relative(REPO, summary.file)}`);
    console.log('  self time by category:');
    for (const c of summary.categories) console.log(`    ${c.name.padEnd(74)} ${thousands(c.ms).padStart(7)} ms ${(100 * c.share).toFixed(1).padStart(5)}%`);
    console.log('  inclusive time of key functions:');
    for (const c of summary.inclusive) console.log(`    ${c.name.padEnd(74)} ${thousands(c.ms).padStart(7)} ms ${(100 * c.share).toFixed(1).padStart(5)}%`);
    console.log('  top functions by self time:');
    for (const f of summary.functions.slice(0, 20)) console.log(`    ${f.name.slice(0, 74).padEnd(74)} ${thousands(f.ms).padStart(7)} ms ${(100 * f.share).toFixed(1).padStart(5)}%`);
    let cliSummary: unknown = null;
    try {
      cliSummary = JSON.parse(child.stdout);
    } catch {
      cliSummary = child.stdout.slice(-500);
    }
    output['cli'] = { wallMs, summary: cliSummary, profile: summary };
    const peak = (cliSummary as { peakRssBytes?: number } | null)?.peakRssBytes;
    if (typeof peak === 'number') console.log(`  CLI peak RSS (self-reported, with --cpu-prof): ${mib(peak)}`);
  }
  writeFileSync(OUT, `${JSON.stringify(output, null, 2)}\n`);
  console.log(`\nwritten: ${relative(process.cwd(), OUT)}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
