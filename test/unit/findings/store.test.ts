import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/findings/finding.js';
import { FindingStore } from '../../../src/findings/store.js';
import { KeytrailDb } from '../../../src/store/database.js';

let db: KeytrailDb;
beforeEach(async () => {
  db = await KeytrailDb.open({ path: ':memory:', threads: 1 });
});
afterEach(() => db.close());

function finding(id: string, overrides: Partial<Finding> = {}): Finding {
  return {
    schema_version: '1.0',
    finding_id: id.padEnd(32, '0'),
    detector_id: 'KMS.KeyDisabled',
    severity: 'high',
    title: 'KMS key disabled',
    summary: 'Alice disabled a key',
    occurred_at: '2024-05-01T10:00:00.000Z',
    account_id: '111122223333',
    region: 'us-west-2',
    key_arn: null,
    principal_arn: null,
    principal_account_id: null,
    event_ids: ['e1'],
    context: {},
    runbook: ['step'],
    references: [],
    ...overrides,
  };
}

describe('FindingStore', () => {
  it('inserts a new finding and reads it back whole', async () => {
    const store = new FindingStore(db);
    const [outcome] = await store.upsert([{ finding: finding('a'), suppressedBy: null }], new Date('2024-05-01T10:05:00Z'));
    expect(outcome?.created).toBe(true);
    const stored = await store.get(finding('a').finding_id);
    expect(stored).toEqual({
      finding: finding('a'),
      suppressedBy: null,
      status: 'open',
      firstSeenAt: '2024-05-01T10:05:00.000Z',
      lastSeenAt: '2024-05-01T10:05:00.000Z',
    });
  });

  it('updates last_seen_at and merges event ids for an existing id, keeping one row', async () => {
    const store = new FindingStore(db);
    await store.upsert([{ finding: finding('a'), suppressedBy: null }], new Date('2024-05-01T10:05:00Z'));
    const [outcome] = await store.upsert(
      [{ finding: finding('a', { event_ids: ['e2', 'e1'], occurred_at: '2024-05-01T09:00:00.000Z', summary: 'changed' }), suppressedBy: null }],
      new Date('2024-05-02T00:00:00Z'),
    );
    expect(outcome?.created).toBe(false);
    const stored = await store.get(finding('a').finding_id);
    expect(stored?.finding.event_ids).toEqual(['e1', 'e2']);
    expect(stored?.finding.occurred_at).toBe('2024-05-01T09:00:00.000Z');
    expect(stored?.finding.summary).toBe('Alice disabled a key');
    expect(stored?.firstSeenAt).toBe('2024-05-01T10:05:00.000Z');
    expect(stored?.lastSeenAt).toBe('2024-05-02T00:00:00.000Z');
    expect(await store.count({ includeSuppressed: true })).toBe(1);
  });

  it('lists with filters: since, minimum severity, detector, suppressed left out unless asked', async () => {
    const store = new FindingStore(db);
    await store.upsert(
      [
        { finding: finding('a', { severity: 'info', detector_id: 'KMS.KeyRotated' }), suppressedBy: null },
        { finding: finding('b', { severity: 'critical', occurred_at: '2024-05-03T00:00:00.000Z' }), suppressedBy: null },
        { finding: finding('c', { severity: 'high', occurred_at: '2024-05-02T00:00:00.000Z' }), suppressedBy: 'suppressions[0]' },
      ],
      new Date('2024-05-04T00:00:00Z'),
    );
    const ids = async (filter: Parameters<FindingStore['list']>[0]) => (await store.list(filter)).map((s) => s.finding.finding_id[0]);
    expect(await ids({})).toEqual(['b', 'a']);
    expect(await ids({ includeSuppressed: true })).toEqual(['b', 'c', 'a']);
    expect(await ids({ minSeverity: 'high', includeSuppressed: true })).toEqual(['b', 'c']);
    expect(await ids({ since: '2024-05-02', includeSuppressed: true })).toEqual(['b', 'c']);
    expect(await ids({ detector: 'KMS.KeyRotated' })).toEqual(['a']);
    expect(await ids({ limit: 1 })).toEqual(['b']);
    expect(await store.count({ includeSuppressed: true })).toBe(3);
    expect((await store.list({ includeSuppressed: true })).find((s) => s.finding.finding_id.startsWith('c'))?.suppressedBy).toBe('suppressions[0]');
  });
});
