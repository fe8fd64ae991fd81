import { describe, expect, it } from 'vitest';
import { ACCOUNTS, buildDemo, CATALOGUE, KEYS, ORG_ID, Prng, VENDOR, type DemoFile } from '../../../scripts/generate-demo.js';
import { validateConfig } from '../../../src/config/loader.js';
import { normalizeValue } from '../../../src/normalize/normalize.js';
import { classifySkip, parseTrailPath } from '../../../src/sources/trail-path.js';
import { corpusLines } from '../../support/corpus.js';

type Json = Record<string, unknown>;

const demo = buildDemo();
const byPath = new Map(demo.files.map((f) => [f.path, f]));
const trailFiles = demo.files.filter((f) => f.path.startsWith('trail/') && classifySkip(f.path) === null);
const records: { file: DemoFile; record: Json }[] = trailFiles.flatMap((file) =>
  (JSON.parse(file.text) as { Records: Json[] }).Records.map((record) => ({ file, record })),
);
const ORG_ACCOUNTS = new Set<string>(Object.values(ACCOUNTS));
const kmsRecords = records.filter(({ record }) => record['eventSource'] === 'kms.amazonaws.com');

function fileJson(path: string): Json {
  const f = byPath.get(path);
  if (!f) throw new Error(`the demo has no ${path}`);
  return JSON.parse(f.text) as Json;
}

/** operation → the guide example's top-level field names (corpus index: line → eventName). */
const corpusFields = new Map<string, Set<string>>();
for (const line of corpusLines) {
  const r = JSON.parse(line) as Json;
  if (r['eventSource'] !== 'kms.amazonaws.com') continue;
  const fields = corpusFields.get(String(r['eventName'])) ?? new Set<string>();
  for (const k of Object.keys(r)) fields.add(k);
  corpusFields.set(String(r['eventName']), fields);
}
/** Fields some examples of an operation carry and others do not (errors, service events, later CloudTrail versions). */
const OCCASIONAL = new Set(['errorCode', 'errorMessage', 'additionalEventData', 'requestID', 'sharedEventID', 'vpcEndpointId', 'serviceEventDetails', 'tlsDetails', 'managementEvent', 'eventCategory', 'sessionCredentialFromConsole']);

describe('Demo generator: buildDemo', () => {
  it('is deterministic: two builds are the same files with the same text', () => {
    expect(buildDemo()).toEqual(demo);
  });

  it('draws the same numbers from the same seed, and different ones from another', () => {
    const a = new Prng('seed');
    const b = new Prng('seed');
    const c = new Prng('other');
    const draw = (p: Prng) => [p.u32(), p.u32(), p.uuid()];
    const first = draw(a);
    expect(draw(b)).toEqual(first);
    expect(draw(c)).not.toEqual(first);
    expect(new Prng(1).uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('writes a few thousand records in CloudTrail delivery files, one digest and the EventBridge NDJSON', () => {
    expect(demo.summary.records).toBeGreaterThan(2000);
    expect(demo.summary.records).toBeLessThan(10_000);
    expect(trailFiles.length).toBe(demo.summary.trailFiles);
    expect(demo.files.filter((f) => classifySkip(f.path) === 'digest')).toHaveLength(1);
    for (const f of trailFiles) expect(f.gzip).toBe(true);
    expect(byPath.get('eventbridge/kms-lifecycle.ndjson')?.gzip).toBe(false);
  });

  it('names every delivery file as CloudTrail does, under the account and Region of its records', () => {
    for (const f of trailFiles) {
      const info = parseTrailPath(f.path);
      expect(info, f.path).not.toBeNull();
      if (!info) continue;
      expect(f.path).toMatch(/\/\d{12}_CloudTrail_[a-z0-9-]+_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$/);
      expect(info.date.slice(0, 7)).toBe('2026-10');
      // Organization accounts deliver under the organization id; the outside sandbox's trail does not.
      expect(info.organizationId).toBe(ORG_ACCOUNTS.has(info.accountId) ? ORG_ID : null);
      for (const r of (JSON.parse(f.text) as { Records: Json[] }).Records) {
        expect(r['recipientAccountId'], f.path).toBe(info.accountId);
        expect(r['awsRegion'], f.path).toBe(info.region);
        // Delivered after the event, on the day of the path or the one before (files cross midnight).
        const day = String(r['eventTime']).slice(0, 10);
        expect(day <= info.date, f.path).toBe(true);
      }
    }
  });

  it('writes records keytrail stores (KMS, trail configuration) or ignores (other services), never rejects', () => {
    const kinds = records.map(({ record, file }, i) => normalizeValue(record, { uri: file.path, position: i }, '2026-11-01T00:00:00.000Z').kind);
    expect(kinds.filter((k) => k === 'rejected')).toEqual([]);
    expect(kinds.filter((k) => k === 'event').length).toBe(demo.summary.kmsRecords);
    for (const path of ['eventbridge/kms-lifecycle.ndjson', 'eventbridge/kms-api-calls.ndjson']) {
      const lines = (byPath.get(path)?.text ?? '').split('\n').filter(Boolean);
      expect(lines.length, path).toBeGreaterThan(0);
      for (const line of lines) expect(normalizeValue(JSON.parse(line), { uri: path, position: 0 }, '2026-11-01T00:00:00.000Z').kind).toBe('event');
    }
  });

  it('gives every KMS record at least the fields of the guide\'s example of its operation', () => {
    const missing = new Map<string, string[]>();
    for (const { record } of kmsRecords) {
      const expected = corpusFields.get(String(record['eventName']));
      if (!expected) continue;
      // A call on a key that no longer exists names no resource.
      const lacking = [...expected].filter((k) => !OCCASIONAL.has(k) && !(k in record) && !(k === 'resources' && record['errorCode'] === 'NotFoundException'));
      if (lacking.length > 0) missing.set(String(record['eventName']), lacking);
    }
    expect(Object.fromEntries(missing)).toEqual({});
    // Operations the guide has no example of would go unchecked: keep them few and known.
    const unchecked = [...new Set(kmsRecords.map(({ record }) => String(record['eventName'])).filter((op) => !corpusFields.has(op)))].sort();
    expect(unchecked).toEqual(['EnableKeyRotation']);
  });

  it('logs each cross-account call of an account with a trail here twice: same sharedEventID and requestID, two eventIDs', () => {
    const byShared = new Map<string, Json[]>();
    for (const { record } of kmsRecords) {
      const shared = record['sharedEventID'];
      if (typeof shared === 'string') byShared.set(shared, [...(byShared.get(shared) ?? []), record]);
    }
    const pairs = [...byShared.values()].filter((copies) => copies.length === 2);
    expect(pairs.length).toBeGreaterThan(25); // nightly DR copies, and the stranger's export
    for (const [a, b] of pairs) {
      expect(a?.['eventID']).not.toBe(b?.['eventID']);
      expect(a?.['requestID']).toBe(b?.['requestID']);
      expect(new Set([a?.['recipientAccountId'], b?.['recipientAccountId']]).size).toBe(2);
    }
    expect([...byShared.values()].every((copies) => copies.length <= 2)).toBe(true);
  });

  it('delivers no KMS record while KMS was excluded from the organization trail', () => {
    const excluded = records.find(({ record }) => JSON.stringify(record['requestParameters'] ?? {}).includes('"excludeManagementEventSources":["kms.amazonaws.com"]'));
    const restored = records.find(
      ({ record }) => record['eventName'] === 'PutEventSelectors' && String(record['eventTime']) > String(excluded?.record['eventTime']) && String(record['eventTime']).startsWith('2026-10-09'),
    );
    expect(excluded && restored).toBeTruthy();
    const from = String(excluded?.record['eventTime']);
    const to = String(restored?.record['eventTime']);
    expect(kmsRecords.filter(({ record }) => String(record['eventTime']) >= from && String(record['eventTime']) < to)).toEqual([]);
  });

  it('writes a configuration keytrail accepts: the organization trusted, the vendor on the BYOK key, one never_delete key', () => {
    const config = validateConfig(fileJson('keytrail.config.json'), 'demo/keytrail.config.json');
    expect([...config.trusted_accounts].sort()).toEqual(Object.values(ACCOUNTS).sort());
    const byok = config.keys.find((k) => k.key_arn === KEYS.byok.arn);
    expect(byok?.vendors).toEqual([{ name: VENDOR.name, accounts: [VENDOR.account], principals: [`arn:aws:iam::${VENDOR.account}:role/${VENDOR.role}`] }]);
    expect(config.keys.filter((k) => k.never_delete).map((k) => k.alias)).toEqual([KEYS.trail.alias]);
    expect(config.suppressions.every((s) => (s.reason ?? '').length > 0)).toBe(true);
  });

  it('lists incidents for the whole catalogue and look-alikes on the demo\'s own keys and month', () => {
    const manifest = fileJson('expected-findings.json') as { incidents: Json[]; look_alikes: Json[] };
    expect(new Set(manifest.incidents.map((e) => e['detector_id']))).toEqual(new Set(CATALOGUE));
    const arns = new Set(Object.values(KEYS).map((k) => k.arn));
    for (const e of [...manifest.incidents, ...manifest.look_alikes]) {
      expect(e['key_arn'] === null || arns.has(String(e['key_arn'])), JSON.stringify(e)).toBe(true);
      if (e['date'] !== undefined) expect(String(e['date'])).toMatch(/^2026-10-\d{2}$/);
    }
    expect(manifest.look_alikes.every((e) => e['must_not_fire'] === true)).toBe(true);
  });

  it('uses made-up accounts, not the documentation placeholders', () => {
    const all = demo.files.map((f) => f.text).join('\n');
    expect(all).not.toContain('111122223333');
    expect(all).not.toContain('123456789012');
  });
});
