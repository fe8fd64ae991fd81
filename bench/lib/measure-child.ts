import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ChildMeasurement {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Spawn to exit, measured by this process. */
  wallMs: number;
  /** Peak resident set size of the child, or null when it could not be measured. */
  peakRssBytes: number | null;
  /** CPU time of the child (all its threads), from GNU time; null without it. */
  userMs: number | null;
  systemMs: number | null;
  /** How peak RSS was measured. */
  rssSource: 'gnu-time' | 'proc-vmhwm' | 'none';
}

const GNU_TIME = '/usr/bin/time';

/**
 * Run a command and measure it from the outside: wall time, and peak RSS and CPU time through GNU
 * `time` when installed (its `%M` is the child's maximum RSS from wait4), else peak RSS by polling
 * `/proc/<pid>/status` VmHWM (the kernel's high-water mark, so a late poll still sees the peak).
 */
export async function measureChild(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ChildMeasurement> {
  const useTime = existsSync(GNU_TIME);
  const timeFile = join(tmpdir(), `bench-time-${process.pid}-${Date.now()}.txt`);
  const [file, argv] = useTime ? [GNU_TIME, ['-f', '%M %U %S', '-o', timeFile, command, ...args]] : [command, [...args]];
  const started = performance.now();
  const child = spawn(file, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => stdout.push(b));
  child.stderr.on('data', (b: Buffer) => stderr.push(b));

  let polledHwm: number | null = null;
  const poll = useTime
    ? null
    : setInterval(() => {
        const hwm = readVmHwm(child.pid);
        if (hwm !== null) polledHwm = Math.max(polledHwm ?? 0, hwm);
      }, 25);

  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve({ code: c, signal: s }));
  });
  const wallMs = performance.now() - started;
  if (poll) clearInterval(poll);

  let peakRssBytes: number | null = polledHwm;
  let userMs: number | null = null;
  let systemMs: number | null = null;
  if (useTime && existsSync(timeFile)) {
    // GNU time writes "Command exited with non-zero status N" first when the command fails.
    const line = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1) ?? '';
    const [rssKb, user, sys] = line.split(' ').map(Number);
    if (rssKb !== undefined && Number.isFinite(rssKb)) peakRssBytes = rssKb * 1024;
    if (user !== undefined && Number.isFinite(user)) userMs = user * 1000;
    if (sys !== undefined && Number.isFinite(sys)) systemMs = sys * 1000;
    rmSync(timeFile, { force: true });
  }
  return {
    exitCode: code,
    signal,
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8'),
    wallMs,
    peakRssBytes,
    userMs,
    systemMs,
    rssSource: useTime ? 'gnu-time' : peakRssBytes !== null ? 'proc-vmhwm' : 'none',
  };
}

function readVmHwm(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}
