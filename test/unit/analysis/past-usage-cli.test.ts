import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PastUsageReport } from '../../../src/analysis/past-usage.js';
import { pastUsageCommand } from '../../../src/cli/past-usage.js';
import { UsageError } from '../../../src/errors.js';
import { KeytrailDb } from '../../../src/store/database.js';
import { exportLake } from '../../../src/store/lake.js';
import { ALIAS, K1, SEED_CONFIG, seedPastUsage } from '../../fixtures/analysis/past-usage-seed.js';
import { runCli } from '../../support/cli.js';

let dir: string;
let dbPath: string;
let configPath: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keytrail-past-usage-'));
  dbPath = join(dir, 'keytrail.duckdb');
  configPath = join(dir, 'keytrail.config.json');
  writeFileSync(configPath, JSON.stringify(SEED_CONFIG));
  const db = await KeytrailDb.open({ path: dbPath, threads: 1 });
  try {
    await seedPastUsage(db);
  } finally {
    db.close();
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CLI: keytrail past-usage', () => {
  it('prints a Markdown report, verdict first, for a key named by alias', () => {
    const result = runCli(['past-usage', ALIAS, '--days', '10', '--db', dbPath, '--config', configPath]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      `# Past usage of ${K1}`,
      '',
      '## Verdict',
      '',
      '**in use: 16 operations by 3 principals in the last 10 days, 1 external account (vendor Acme) — stored events cover 9 of those days**',
    ]);
    expect(result.stdout).toContain('| Resolved from | alias/app-key, which named this key at 2024-03-07T09:00:00Z (a call through the alias) |');
  });

  it('answers from a Parquet lake (--lake) exactly as from the database', async () => {
    const lake = join(dir, 'lake');
    const db = await KeytrailDb.open({ path: dbPath, threads: 1, readOnly: true });
    try {
      await exportLake(db, lake);
    } finally {
      db.close();
    }
    const fromDb = runCli(['past-usage', ALIAS, '--days', '10', '--format', 'json', '--db', dbPath, '--config', configPath]);
    const fromLake = runCli(['past-usage', ALIAS, '--days', '10', '--format', 'json', '--lake', lake, '--config', configPath]);
    expect(fromLake.stderr).toBe('');
    expect(fromLake.status).toBe(0);
    const report = JSON.parse(fromLake.stdout) as PastUsageReport;
    expect(report.totals.calls).toBeGreaterThan(0);
    expect(report).toEqual(JSON.parse(fromDb.stdout));

    const missing = runCli(['past-usage', ALIAS, '--lake', join(dir, 'no-lake'), '--config', configPath]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no-lake: not a keytrail lake \(no kms_events\/ directory in it\)/);
  });

  it('exits 2 with one line for an unknown key', () => {
    const result = runCli(['past-usage', 'alias/nope', '--db', dbPath, '--config', configPath]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^keytrail: no stored event shows which key alias\/nope names: searched kms_events\.alias_name[^\n]*\n$/);
  });

  it('writes JSON and HTML to --out (in process)', async () => {
    const notices: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((text) => {
      notices.push(String(text));
      return true;
    });
    try {
      const jsonFile = join(dir, 'k1.json');
      await pastUsageCommand(K1, { days: '10', format: 'json', out: jsonFile, db: dbPath, config: configPath });
      const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as PastUsageReport;
      expect(report.totals).toMatchObject({ calls: 23, uses: 16, errors: 3 });
      expect(report.verdict.safeToDelete).toBe(false);

      const htmlFile = join(dir, 'k1.html');
      await pastUsageCommand(K1, { days: '10', until: '2024-03-10', format: 'html', out: htmlFile, db: dbPath, config: configPath });
      expect(readFileSync(htmlFile, 'utf8')).toContain('in use: 16 operations by 3 principals in the 10 days to 2024-03-10');
    } finally {
      spy.mockRestore();
    }
    expect(notices.join('')).toContain(`wrote the json report to ${join(dir, 'k1.json')}`);
  });

  it('rejects bad options before opening the database', async () => {
    const base = { format: 'md', db: dbPath, config: configPath };
    await expect(pastUsageCommand(K1, { ...base, days: '0' })).rejects.toThrow(new UsageError('--days: expected a whole number of days from 1 to 3660 (got "0")'));
    await expect(pastUsageCommand(K1, { ...base, days: '7.5' })).rejects.toThrow(UsageError);
    await expect(pastUsageCommand(K1, { ...base, until: '03/10/2024' })).rejects.toThrow(/--until: not a date/);
    await expect(pastUsageCommand(K1, { ...base, format: 'pdf' })).rejects.toThrow(/--format must be one of md, json, html/);
    await expect(pastUsageCommand(K1, { ...base, db: join(dir, 'missing.duckdb') })).rejects.toThrow(/missing\.duckdb: no such database/);
  });
});
