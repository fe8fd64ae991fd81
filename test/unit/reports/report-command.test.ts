import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../../src/cli/main.js';
import type { CommandResult } from '../../../src/cli/result.js';
import { FindingStore } from '../../../src/findings/store.js';
import type { ComplianceReport, KeyReport } from '../../../src/reports/index.js';
import { KeytrailDb } from '../../../src/store/database.js';
import { EventStore } from '../../../src/store/event-store.js';
import { CONFIG, FINDINGS, K1, STRANGER, seedEvents } from './seed.js';

/** Run `keytrail …` in-process through the real program; stdout captured, errors thrown. */
async function keytrail(args: string[]): Promise<{ result: CommandResult; stdout: string }> {
  let result: CommandResult | undefined;
  const writes: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    writes.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  const notices = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await buildProgram(async (work) => {
      result = await work();
    }).parseAsync(args, { from: 'user' });
  } finally {
    spy.mockRestore();
    notices.mockRestore();
  }
  if (!result) throw new Error('the command did not run');
  return { result, stdout: writes.join('') };
}

describe('CLI: keytrail report', () => {
  let dir: string;
  let dbPath: string;
  let configPath: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keytrail-report-'));
    dbPath = join(dir, 'seed.duckdb');
    configPath = join(dir, 'keytrail.config.json');
    writeFileSync(configPath, JSON.stringify(CONFIG));
    const db = await KeytrailDb.open({ path: dbPath, threads: 1 });
    try {
      await new EventStore(db).insertEvents(seedEvents());
      await new FindingStore(db).upsert(FINDINGS, new Date('2024-04-01T00:00:00Z'));
    } finally {
      db.close();
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const common = () => ['--db', dbPath, '--config', configPath, '--since', '2024-03-01', '--until', '2024-03-31'];

  it('writes the compliance report to --out, taking the format from the extension', async () => {
    const out = join(dir, 'compliance.html');
    const { result, stdout } = await keytrail(['report', 'compliance', ...common(), '--out', out]);
    expect(result.exitCode).toBe(0);
    expect(stdout).toBe('');
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html.match(/<svg[^>]*class="chart-svg"/g)?.length).toBe(3);
    expect((result.summary as ComplianceReport).crossAccount.map((c) => c.callerAccountId)).toContain(STRANGER);
  });

  it('prints Markdown by default and JSON on request', async () => {
    const md = await keytrail(['report', 'cross-account', ...common()]);
    expect(md.stdout).toMatch(/^# KMS cross-account key use\n/);
    const json = await keytrail(['report', 'key', 'alias/project-key', ...common(), '--format', 'json']);
    const report = JSON.parse(json.stdout) as KeyReport;
    expect(report.kind).toBe('key');
    expect(report.usage.key.arn).toBe(K1);
  });

  it('writes one CSV table with --table', async () => {
    const { stdout } = await keytrail(['report', 'compliance', ...common(), '--format', 'csv', '--table', 'pending_deletion']);
    const [header, ...rows] = stdout.trimEnd().split('\n');
    expect(header?.split(',').slice(0, 3)).toEqual(['key', 'deletion_date', 'status']);
    expect(rows).toHaveLength(1);
  });

  it('rejects bad usage with a message that says what to fix', async () => {
    await expect(keytrail(['report', 'key', ...common()])).rejects.toThrow(/name the key/);
    await expect(keytrail(['report', 'compliance', K1, ...common()])).rejects.toThrow(/takes no key/);
    await expect(keytrail(['report', 'inventory', ...common()])).rejects.toThrow(/report name must be one of compliance, key, cross-account/);
    await expect(keytrail(['report', 'compliance', ...common(), '--format', 'md', '--table', 'keys'])).rejects.toThrow(/--table applies to --format csv only/);
    await expect(keytrail(['report', 'compliance', '--db', join(dir, 'missing.duckdb')])).rejects.toThrow(/no such database/);
  });
});
