import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { buildDemo, CATALOGUE, generateDemo } from '../../scripts/generate-demo.js';
import { DEMO_DIR, demoCommand, type DemoRun } from '../../src/cli/demo.js';
import { DETECTORS } from '../../src/detectors/index.js';
import type { Finding } from '../../src/findings/finding.js';
import { KeytrailDb } from '../../src/store/database.js';

const ExpectationSchema = z.strictObject({
  detector_id: z.string(),
  key: z.string().nullable(),
  key_arn: z.string().nullable(),
  date: z.iso.date().optional(),
  principal_account_id: z.string().regex(/^\d{12}$/).optional(),
  exactly: z.number().int().positive().optional(),
  must_not_fire: z.literal(true).optional(),
  note: z.string().min(1),
});
type Expectation = z.infer<typeof ExpectationSchema>;

const ManifestSchema = z.looseObject({
  outsiders: z.looseObject({ auditor: z.string() }),
  incidents: z.array(ExpectationSchema.refine((e) => e.must_not_fire === undefined, 'an incident must fire')),
  look_alikes: z.array(ExpectationSchema.refine((e) => e.must_not_fire === true, 'a look-alike says must_not_fire: true')),
});

const manifest = ManifestSchema.parse(JSON.parse(readFileSync(join(DEMO_DIR, 'expected-findings.json'), 'utf8')));

/** A finding is the one an entry describes when detector and key agree, and day and caller account where given. */
function matching(findings: readonly Finding[], e: Expectation): Finding[] {
  return findings.filter(
    (f) =>
      f.detector_id === e.detector_id &&
      f.key_arn === e.key_arn &&
      (e.date === undefined || f.occurred_at.slice(0, 10) === e.date) &&
      (e.principal_account_id === undefined || f.principal_account_id === e.principal_account_id),
  );
}

function describeFindings(findings: readonly Finding[]): string[] {
  return findings.map((f) => `${f.detector_id} ${f.key_arn ?? '(no key)'} ${f.occurred_at} ${f.principal_account_id ?? ''}: ${f.summary}`);
}

/** Every file under `dir`, relative to it, sorted. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)).split('\\').join('/'))
    .sort();
}

describe('keytrail demo', () => {
  let dir: string;
  let dbPath: string;
  let run: DemoRun;
  let exitCode: number;
  let stdout: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keytrail-demo-test-'));
    dbPath = join(dir, 'demo.duckdb');
    const writes: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    });
    try {
      const result = await demoCommand({ db: dbPath, format: 'table', progress: false });
      run = result.summary;
      exitCode = result.exitCode;
    } finally {
      spy.mockRestore();
    }
    stdout = writes.join('');
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ingests every demo file: the digest skipped, nothing rejected, repeats stored once', () => {
    expect(exitCode).toBe(0);
    expect(run.ingest).toMatchObject({ rejected: 0, skippedFiles: { digest: 1, insight: 0 } });
    // The redelivered lifecycle event and the two EventBridge copies of trail records.
    expect(run.ingest.duplicates).toBe(3);
    expect(run.ingest.inserted).toBeGreaterThan(2000);
    expect(run.detection.counts.detectorErrors).toEqual({});
  });

  it('prints the ingest summary, the findings table sorted by severity, and how to explore', () => {
    expect(stdout).toContain('rejected:   0');
    expect(stdout).toMatch(/severity\s+detector\s+key\s+caller\s+account\s+summary/);
    expect(stdout).toContain(`keytrail findings --db ${dbPath}`);
    const severities = stdout
      .split('\n')
      .map((line) => /^(critical|high|medium|low|info)\s+\S+\.\S+/.exec(line)?.[1])
      .filter((s): s is string => s !== undefined);
    expect(severities).toHaveLength(run.detection.findings.length);
    const rank = ['info', 'low', 'medium', 'high', 'critical'];
    expect(severities.map((s) => rank.indexOf(s))).toEqual(severities.map((s) => rank.indexOf(s)).sort((a, b) => b - a));
  });

  it('stores the findings it prints (and the suppressed ones) in the database it names', async () => {
    const db = await KeytrailDb.open({ path: dbPath, readOnly: true });
    try {
      const rows = await db.all('SELECT count(*)::INTEGER AS n, count(suppressed_by)::INTEGER AS suppressed FROM findings');
      expect(rows).toEqual([{ n: run.detection.findings.length + run.detection.suppressed.length, suppressed: run.detection.suppressed.length }]);
    } finally {
      db.close();
    }
  });

  it('plants an incident for every detector in the catalogue and every registered detector', () => {
    const planted = new Set(manifest.incidents.map((e) => e.detector_id));
    expect(CATALOGUE.filter((id) => !planted.has(id))).toEqual([]);
    expect(DETECTORS.map((d) => d.id).filter((id) => !planted.has(id))).toEqual([]);
  });

  describe('incidents (must fire)', () => {
    it.each(manifest.incidents.map((e) => [`${e.detector_id} on ${e.key ?? 'no key'}${e.date ? ` (${e.date})` : ''}`, e] as const))('%s', (_, e) => {
      expect(DETECTORS.map((d) => d.id), `${e.detector_id} is not registered in src/detectors/index.ts`).toContain(e.detector_id);
      const found = matching(run.detection.findings, e);
      const sameDetector = describeFindings(run.detection.findings.filter((f) => f.detector_id === e.detector_id));
      if (e.exactly !== undefined) expect(found, `${e.note}\nfindings of this detector:\n${sameDetector.join('\n')}`).toHaveLength(e.exactly);
      else expect(found.length, `${e.note}\nfindings of this detector:\n${sameDetector.join('\n')}`).toBeGreaterThan(0);
    });
  });

  describe('look-alikes (must not fire)', () => {
    it.each(manifest.look_alikes.map((e) => [`${e.detector_id} on ${e.key ?? 'no key'}${e.date ? ` (${e.date})` : ''}${e.principal_account_id ? ` by ${e.principal_account_id}` : ''}`, e] as const))(
      '%s',
      (_, e) => {
        // An unregistered detector fires on nothing: that would pass here without testing anything.
        expect(DETECTORS.map((d) => d.id), `${e.detector_id} is not registered in src/detectors/index.ts`).toContain(e.detector_id);
        expect(describeFindings(matching(run.detection.findings, e)), e.note).toEqual([]);
      },
    );
  });

  it('keeps the auditor\'s suppressed use as a suppressed finding with the config\'s reason, not as nothing', () => {
    const auditor = run.detection.suppressed.filter((s) => s.finding.detector_id === 'KMS.CrossAccountUse' && s.finding.principal_account_id === manifest.outsiders.auditor);
    expect(auditor.length).toBeGreaterThan(0);
    for (const s of auditor) expect(s.suppressedBy).toContain('Bramwell & Oakes');
  });
});

describe('demo generator', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'keytrail-demo-gen-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes identical bytes every time', async () => {
    await generateDemo(join(dir, 'a'));
    await generateDemo(join(dir, 'b'));
    const files = listFiles(join(dir, 'a'));
    expect(listFiles(join(dir, 'b'))).toEqual(files);
    const differing = files.filter((f) => !readFileSync(join(dir, 'a', f)).equals(readFileSync(join(dir, 'b', f))));
    expect(differing).toEqual([]);
  });

  it('matches the committed demo/ (run `npm run demo:generate` after changing the generator)', () => {
    // Compared decompressed: the deflate stream of a .gz may differ between zlib builds.
    const expected = buildDemo().files;
    const committed = listFiles(DEMO_DIR);
    expect(committed).toEqual(expected.map((f) => f.path).sort());
    const stale = expected.filter((f) => {
      const bytes = readFileSync(join(DEMO_DIR, f.path));
      return (f.gzip ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8')) !== f.text;
    });
    expect(stale.map((f) => f.path)).toEqual([]);
  });

  it('keeps demo/ small', () => {
    const bytes = listFiles(DEMO_DIR).reduce((sum, f) => sum + readFileSync(join(DEMO_DIR, f)).length, 0);
    expect(bytes).toBeLessThan(1024 * 1024);
  });
});
