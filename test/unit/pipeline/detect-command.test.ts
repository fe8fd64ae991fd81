import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { detectCommand } from '../../../src/cli/detect.js';
import { findingsCommand } from '../../../src/cli/findings.js';
import { UsageError } from '../../../src/errors.js';
import { KeytrailDb } from '../../../src/store/database.js';
import { EventStore } from '../../../src/store/event-store.js';
import { corpusEvent, lifecycleKmsEvent } from '../detectors/helpers.js';

let dir: string;
let dbPath: string;
let configPath: string;
let stdout: string[];
const NOW = new Date('2021-04-01T00:00:00Z');

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'keytrail-detect-'));
  dbPath = join(dir, 'k.duckdb');
  configPath = join(dir, 'keytrail.config.json');
  writeFileSync(configPath, JSON.stringify({ suppressions: [{ detector: 'KMS.KeyRotated' }] }));
  const db = await KeytrailDb.open({ path: dbPath, threads: 1 });
  await new EventStore(db).insertEvents([
    corpusEvent(9, { eventTime: '2021-03-20T00:00:00Z' }), // a Decrypt before the deletion is scheduled
    corpusEvent(47), // ScheduleKeyDeletion 2021-03-23: used in the lookback → critical
    corpusEvent(23, { eventTime: '2021-03-24T00:00:00Z' }), // DisableKeyRotation → medium
    lifecycleKmsEvent(1, { time: '2021-03-25T00:00:00Z' }), // rotation → info, suppressed by the config
  ]);
  db.close();
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

function jsonl(): Record<string, unknown>[] {
  return stdout.join('').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('keytrail detect', () => {
  it('stores and prints the findings since the window start, most severe first; exit 1 at --fail-on', async () => {
    const result = await detectCommand({ db: dbPath, config: configPath, format: 'jsonl', failOn: 'critical' }, NOW);
    expect(jsonl().map((f) => [f['detector_id'], f['severity']])).toEqual([
      ['KMS.KeyDeletionScheduled', 'critical'],
      ['KMS.RotationDisabled', 'medium'],
    ]);
    expect(result.exitCode).toBe(1);
  });

  it('exits 0 when nothing reaches --fail-on, and a re-run finds the same findings again', async () => {
    await detectCommand({ db: dbPath, config: configPath, format: 'jsonl' }, NOW);
    const first = jsonl().map((f) => f['finding_id']);
    stdout = [];
    const again = await detectCommand({ db: dbPath, config: configPath, format: 'jsonl', since: '2021-03-24' }, NOW);
    expect(again.exitCode).toBe(0);
    expect(jsonl().map((f) => f['finding_id'])).toEqual([first[1]]);
  });

  it('rejects a bad --fail-on and --publish without an alert destination', async () => {
    await expect(detectCommand({ db: dbPath, config: configPath, format: 'table', failOn: 'severe' }, NOW)).rejects.toThrow(UsageError);
    await expect(detectCommand({ db: dbPath, config: configPath, format: 'table', publish: true }, NOW)).rejects.toThrow(/--publish: no alert destination/);
  });
});

describe('keytrail findings', () => {
  it('lists stored findings with filters, leaving suppressed ones out unless asked', async () => {
    await detectCommand({ db: dbPath, config: configPath, format: 'jsonl' }, NOW);
    stdout = [];
    const listed = await findingsCommand({ db: dbPath, format: 'jsonl', severity: 'medium' });
    expect(listed.summary).toMatchObject({ hiddenSuppressed: 0 });
    expect(jsonl().map((f) => f['detector_id'])).toEqual(['KMS.RotationDisabled', 'KMS.KeyDeletionScheduled']);

    stdout = [];
    const all = await findingsCommand({ db: dbPath, format: 'jsonl' });
    expect(all.summary).toMatchObject({ hiddenSuppressed: 1 });
    stdout = [];
    await findingsCommand({ db: dbPath, format: 'jsonl', includeSuppressed: true, detector: 'KMS.KeyRotated' });
    expect(jsonl().map((f) => f['suppressed_by'])).toEqual(['suppressions[0]']);
  });

  it('prints a table', async () => {
    await detectCommand({ db: dbPath, config: configPath, format: 'jsonl' }, NOW);
    stdout = [];
    await findingsCommand({ db: dbPath, format: 'table', since: '2021-03-23' });
    const text = stdout.join('');
    expect(text).toMatch(/^occurred\s+severity\s+detector\s+key\s+caller\s+account\s+summary/);
    expect(text).toContain('1234abcd-12ab-34cd-56ef-1234567890ab');
    expect(text).toContain('(2 findings)');
  });

  it('rejects an unknown detector, severity or date', async () => {
    await expect(findingsCommand({ db: dbPath, format: 'table', detector: 'KMS.Nope' })).rejects.toThrow(UsageError);
    await expect(findingsCommand({ db: dbPath, format: 'table', severity: 'urgent' })).rejects.toThrow(UsageError);
    await expect(findingsCommand({ db: dbPath, format: 'table', since: 'last week' })).rejects.toThrow(UsageError);
  });
});
