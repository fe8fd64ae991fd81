/**
 * Where keytrail's ingest memory goes: runs keytrail's own pipeline (ingestFiles + EventStore) in
 * this process on a fresh database, samples RSS, V8 heap and external memory every 250 ms, and
 * reports the peaks. With `--memory-limit 512MB` the database gets that DuckDB memory_limit after
 * keytrail opens it, which shows how much of the peak is DuckDB's buffer pool.
 *
 *   npx tsx bench/ingest/memory.ts [--records 100000] [--files 100] [--memory-limit 512MB] [--threads 2]
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intOption, parseBenchArgs, stringOption } from '../lib/args.js';
import { mib, thousands } from '../lib/stats.js';
import { BENCH_DATA_DIR, ensureDataset } from './generate.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

function vmHwmBytes(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m?.[1] ? Number(m[1]) * 1024 : Number.NaN;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), { records: 'string', files: 'string', 'memory-limit': 'string', threads: 'string' });
  const dataset = await ensureDataset({ records: intOption(args, 'records', 100_000), files: intOption(args, 'files', 100), log: (l) => console.log(l) });
  const memoryLimit = stringOption(args, 'memory-limit');
  const threads = intOption(args, 'threads', 2);
  const database = (await import(join(REPO, 'src/store/database.ts'))) as {
    KeytrailDb: {
      open: (o: { path: string; threads?: number }) => Promise<{ close: () => void; exec: (sql: string) => Promise<void>; all: (sql: string) => Promise<Record<string, unknown>[]> }>;
    };
  };
  const { EventStore } = (await import(join(REPO, 'src/store/event-store.ts'))) as { EventStore: new (db: unknown) => object };
  const { ingestFiles } = (await import(join(REPO, 'src/pipeline/ingest-files.ts'))) as {
    ingestFiles: (paths: string[], o: { store: object }) => Promise<{ inserted: number; records: number }>;
  };

  const db = join(BENCH_DATA_DIR, 'memory-probe.duckdb');
  rmSync(db, { force: true });
  rmSync(`${db}.wal`, { force: true });
  const peaks = { rss: 0, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    peaks.rss = Math.max(peaks.rss, m.rss);
    peaks.heapUsed = Math.max(peaks.heapUsed, m.heapUsed);
    peaks.heapTotal = Math.max(peaks.heapTotal, m.heapTotal);
    peaks.external = Math.max(peaks.external, m.external);
    peaks.arrayBuffers = Math.max(peaks.arrayBuffers, m.arrayBuffers);
  };
  // DuckDB spills beyond memory_limit into <db>.tmp/.
  let spillPeak = 0;
  const spillDir = `${db}.tmp`;
  const sampleSpill = (): void => {
    if (!existsSync(spillDir)) return;
    let bytes = 0;
    for (const f of readdirSync(spillDir)) bytes += statSync(join(spillDir, f)).size;
    spillPeak = Math.max(spillPeak, bytes);
  };
  const timer = setInterval(() => {
    sample();
    sampleSpill();
  }, 250);
  const baseline = vmHwmBytes();
  const started = performance.now();
  const opened = await database.KeytrailDb.open({ path: db, threads });
  if (memoryLimit) await opened.exec(`SET memory_limit = '${memoryLimit.replace(/[^0-9A-Za-z.]/g, '')}'`);
  const summary = await ingestFiles([join(dataset.dir, 'AWSLogs')], { store: new EventStore(opened) });
  sample();
  const beforeClose = vmHwmBytes();
  // DuckDB's own account of what it holds, by tag (buffer pool blocks, temp tables, ART index, …).
  const tags = await opened.all(
    "SELECT tag, memory_usage_bytes::BIGINT AS bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0 ORDER BY memory_usage_bytes DESC",
  );
  const duckdbTotal = tags.reduce((sum, t) => sum + Number(t['bytes']), 0);
  opened.close();
  clearInterval(timer);
  const elapsed = performance.now() - started;
  rmSync(db, { force: true });
  rmSync(`${db}.wal`, { force: true });
  rmSync(spillDir, { recursive: true, force: true });
  console.log(
    `memory_limit ${memoryLimit ?? "keytrail's default"}: ${thousands(summary.inserted)} rows in ${(elapsed / 1000).toFixed(1)} s; ` +
      `peak RSS ${mib(vmHwmBytes())} (before close ${mib(beforeClose)}, at start ${mib(baseline)}); ` +
      `sampled peaks: V8 heap used ${mib(peaks.heapUsed)} of ${mib(peaks.heapTotal)}, external ${mib(peaks.external)} (array buffers ${mib(peaks.arrayBuffers)}); ` +
      `spilled to ${spillDir}: peak ${mib(spillPeak)}; ` +
      `DuckDB before close: ${mib(duckdbTotal)} (${tags.map((t) => `${String(t['tag'])} ${mib(Number(t['bytes']))}`).join(', ')})`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
