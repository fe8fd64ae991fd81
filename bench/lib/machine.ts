import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { createRequire } from 'node:module';

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  duckdbNodeApi: string;
  platform: string;
  /** 1-minute load average when the bench started and ended: how shared the machine was. */
  loadAverage: { start: number; end?: number };
}

/** What the figures were measured on, for docs/PERFORMANCE.md. */
export function machineInfo(): MachineInfo {
  const require = createRequire(import.meta.url);
  let duckdbNodeApi = 'unknown';
  try {
    const pkgPath = require.resolve('@duckdb/node-api/package.json');
    duckdbNodeApi = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version;
  } catch {
    // Older packages do not export package.json; the version is then read from DuckDB itself.
  }
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    duckdbNodeApi,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: { start: loadavg()[0] ?? 0 },
  };
}
