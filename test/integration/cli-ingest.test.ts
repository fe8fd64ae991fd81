import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeytrailDb } from '../../src/store/database.js';
import { runCli } from '../support/cli.js';
import { asEventBridge, corpusLines, corpusRecord, lifecycleLines } from '../support/corpus.js';

/** The corpus as CloudTrail would deliver it: one gzipped `{"Records":[…]}` file. */
function deliveryFile(records: readonly unknown[]): Buffer {
  return gzipSync(JSON.stringify({ Records: records }));
}

async function query(dbPath: string, text: string): Promise<Record<string, unknown>[]> {
  const db = await KeytrailDb.open({ path: dbPath });
  try {
    return await db.all(text);
  } finally {
    db.close();
  }
}

const records = corpusLines.map((l) => JSON.parse(l) as Record<string, unknown>);
// 73 KMS records and one EC2 record (ignored); the guide prints several different examples under
// one eventID, which keytrail keeps as conflicts in rejected_records.
const KMS_RECORDS = records.filter((r) => r['eventSource'] === 'kms.amazonaws.com');
const KMS_ROWS = new Set(KMS_RECORDS.map((r) => r['eventID'])).size;
const REUSED_IDS = KMS_RECORDS.length - KMS_ROWS;

describe('CLI: keytrail ingest', () => {
  let dir: string;
  let trail: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'keytrail-cli-'));
    trail = join(dir, 'AWSLogs', 'o-aa111bb222', '111122223333', 'CloudTrail', 'us-west-2', '2022', '09', '01');
    mkdirSync(trail, { recursive: true });
    writeFileSync(join(trail, '111122223333_CloudTrail_us-west-2_20220901T2000Z_good.json.gz'), deliveryFile(records));
    const digestDir = join(dir, 'AWSLogs', 'o-aa111bb222', '111122223333', 'CloudTrail-Digest', 'us-west-2', '2022', '09', '01');
    mkdirSync(digestDir, { recursive: true });
    writeFileSync(join(digestDir, '111122223333_CloudTrail-Digest_us-west-2_x_20220901T2000Z.json.gz'), gzipSync('{"digestStartTime":"2022-09-01T19:00:00Z"}'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ingests a trail directory, skips digests, and adds nothing the second time', async () => {
    const db = join(dir, 'a.duckdb');
    const first = runCli(['ingest', join(dir, 'AWSLogs'), '--db', db, '--format', 'json']);
    expect(first.stderr).toBe('');
    // Exit 2: the conflicting eventIDs are bad input, kept and reported.
    expect(first.status).toBe(2);
    const summary = JSON.parse(first.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ files: 1, skippedFiles: { digest: 1, insight: 0 }, records: records.length, inserted: KMS_ROWS, ignored: 1, rejected: 0 });
    const conflicts = Number(summary['conflicts']);
    expect(conflicts).toBeGreaterThan(0);
    expect(Number(summary['duplicates']) + conflicts).toBe(REUSED_IDS);
    expect(await query(db, 'SELECT count(*)::INTEGER AS n FROM rejected_records')).toEqual([{ n: conflicts }]);
    const sourceUris = await query(db, 'SELECT DISTINCT source_uri FROM kms_events');
    expect(sourceUris).toHaveLength(1);
    expect(String(sourceUris[0]?.['source_uri'])).toContain('AWSLogs/o-aa111bb222/111122223333/CloudTrail/us-west-2/2022/09/01/');

    const second = runCli(['ingest', join(dir, 'AWSLogs'), '--db', db, '--format', 'json']);
    expect(JSON.parse(second.stdout)).toMatchObject({ inserted: 0, duplicates: KMS_RECORDS.length - conflicts, conflicts });
    expect(await query(db, 'SELECT count(*)::INTEGER AS n FROM rejected_records')).toEqual([{ n: conflicts }]);
    expect(await query(db, 'SELECT count(*)::INTEGER AS n FROM kms_events')).toEqual([{ n: KMS_ROWS }]);
  });

  it('stores one row for a record delivered by EventBridge and in a trail file', async () => {
    const db = join(dir, 'b.duckdb');
    const events = join(dir, 'eventbridge.ndjson');
    const record = corpusRecord(65);
    writeFileSync(events, [JSON.stringify(asEventBridge(record)), ...lifecycleLines].join('\n'));
    const viaEvents = runCli(['ingest', events, '--db', db, '--format', 'json']);
    expect(JSON.parse(viaEvents.stdout)).toMatchObject({ inserted: 1 + lifecycleLines.length, rejected: 0 });
    const single = join(dir, 'single.json');
    writeFileSync(single, JSON.stringify({ Records: [record] }));
    const viaTrail = runCli(['ingest', single, '--db', db, '--format', 'json']);
    expect(JSON.parse(viaTrail.stdout)).toMatchObject({ inserted: 0, duplicates: 1 });
    expect(await query(db, `SELECT count(*)::INTEGER AS n FROM kms_events WHERE event_id = '${String(record['eventID'])}'`)).toEqual([{ n: 1 }]);
  });

  it('keeps the good records beside a truncated gzip, invalid JSON and a record without eventTime', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    const good = records.slice(0, 20);
    writeFileSync(join(bad, 'good.json.gz'), deliveryFile(good));
    const truncated = deliveryFile(records.slice(20, 60));
    writeFileSync(join(bad, 'truncated.json.gz'), truncated.subarray(0, Math.floor(truncated.length / 2)));
    writeFileSync(join(bad, 'garbage.json'), '{"Records": [ this is not json');
    const noTime = corpusRecord(26);
    delete noTime['eventTime'];
    writeFileSync(join(bad, 'records.ndjson'), [corpusLines[60], JSON.stringify(noTime), corpusLines[61]].join('\n'));

    const db = join(dir, 'c.duckdb');
    const result = runCli(['ingest', bad, '--db', db]);
    expect(result.status).toBe(2);
    expect(result.stdout).toMatch(/rejected: +[1-9]/);
    expect(result.stdout).toContain('records.ndjson #1: invalid record: eventTime: missing');
    expect(result.stdout).toMatch(/truncated\.json\.gz #\d+: .*(truncat|unexpected end)/i);
    expect(result.stdout).toMatch(/garbage\.json/);

    const rejected = await query(db, 'SELECT source_uri, position, reason FROM rejected_records ORDER BY source_uri');
    const files = rejected.map((r) => String(r['source_uri']).split('/').pop());
    expect(files).toEqual(expect.arrayContaining(['garbage.json', 'records.ndjson', 'truncated.json.gz']));
    // Every good record landed: the 20 of good.json.gz, the 2 good NDJSON lines, and whatever the
    // truncated file held before the cut.
    const ids = await query(db, 'SELECT event_id FROM kms_events');
    const stored = new Set(ids.map((r) => r['event_id']));
    for (const r of [...good, JSON.parse(corpusLines[60] ?? '{}'), JSON.parse(corpusLines[61] ?? '{}')]) {
      if (r['eventSource'] === 'kms.amazonaws.com') expect(stored.has(r['eventID'])).toBe(true);
    }
  });

  it('runs the detectors over what the run stored with --detect, and --fail-on sets the exit code', () => {
    const db = join(dir, 'detect.duckdb');
    // Records with their own eventIDs (no conflicts), so the exit code is the findings'.
    const seen = new Set<unknown>();
    const unique = KMS_RECORDS.filter((r) => !seen.has(r['eventID']) && seen.add(r['eventID']));
    const file = join(dir, 'unique.json');
    writeFileSync(file, JSON.stringify({ Records: unique }));
    const first = runCli(['ingest', file, '--db', db, '--detect', '--fail-on', 'high', '--format', 'json']);
    expect(first.status).toBe(1);
    const found = (JSON.parse(first.stdout) as { findings: { detector_id: string; severity: string }[] }).findings;
    expect(found.map((f) => f.detector_id)).toEqual(expect.arrayContaining(['KMS.KeyDeletionScheduled', 'KMS.KeyDeleted']));
    expect(found.every((f) => f.detector_id !== 'KMS.KeyRotated' || f.severity === 'info')).toBe(true);

    // A second run stores nothing new, so nothing is evaluated and nothing fails the build.
    const second = runCli(['ingest', file, '--db', db, '--detect', '--fail-on', 'high']);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('events stored by this run: 0 evaluated');
  });

  it('refuses --fail-on without --detect', () => {
    const result = runCli(['ingest', dir, '--fail-on', 'high', '--db', join(dir, 'x.duckdb')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--publish and --fail-on go with --detect');
  });

  it('exits 2 with a one-line message for a path that does not exist', () => {
    const result = runCli(['ingest', join(dir, 'nope'), '--db', join(dir, 'd.duckdb')]);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('nope');
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('exits 2 on bad usage without a stack trace', () => {
    const result = runCli(['ingest', dir, '--format', 'xml', '--db', join(dir, 'e.duckdb')]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--format must be one of text, json');
    const noArgs = runCli(['ingest']);
    expect(noArgs.status).toBe(2);
  });
});

describe('CLI: keytrail query and export', () => {
  let dir: string;
  let db: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'keytrail-cli-q-'));
    db = join(dir, 'q.duckdb');
    writeFileSync(join(dir, 'trail.json'), JSON.stringify({ Records: records }));
    expect(runCli(['ingest', join(dir, 'trail.json'), '--db', db]).status).toBe(2); // the guide's reused eventIDs
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('binds --param values and prints CSV', () => {
    const result = runCli([
      'query',
      'SELECT event_name, count(*)::INTEGER AS n FROM kms_events WHERE via_service = $service GROUP BY 1 ORDER BY 1',
      '--param',
      'service=ebs',
      '--format',
      'csv',
      '--db',
      db,
    ]);
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual(['event_name,n', 'Decrypt,1', 'GenerateDataKeyWithoutPlaintext,1']);
  });

  it('treats a quote in a parameter as data, not SQL', () => {
    const result = runCli(['query', 'SELECT count(*)::INTEGER AS n FROM kms_events WHERE principal_name = $p', '--param', "p=x' OR '1'='1", '--format', 'json', '--db', db]);
    expect(JSON.parse(result.stdout)).toEqual([{ n: 0 }]);
  });

  it('refuses a parameter the query does not use, and a missing one', () => {
    const unused = runCli(['query', 'SELECT 1 AS x', '--param', 'a=1', '--db', db]);
    expect(unused.status).toBe(2);
    expect(unused.stderr).toContain('--param a');
    const missing = runCli(['query', 'SELECT $a AS x', '--db', db]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--param a=');
  });

  it('exports a Parquet lake', async () => {
    const result = runCli(['export', '--lake', join(dir, 'lake'), '--db', db]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/exported \d+ rows in \d+ partitions/);
    const back = await query(db, `SELECT count(*)::INTEGER AS n FROM read_parquet('${join(dir, 'lake')}/kms_events/*/*/*.parquet')`);
    expect(back).toEqual([{ n: KMS_ROWS }]);
  });
});
