import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeytrailConfigSchema, type KeytrailConfig } from '../../../src/config/schema.js';
import { kmsKeyDeletionScheduled } from '../../../src/detectors/kms-key-deletion-scheduled.js';
import { kmsKeyDisabled } from '../../../src/detectors/kms-key-disabled.js';
import { kmsKeyRotated } from '../../../src/detectors/kms-key-rotated.js';
import { kmsPendingDeletionKeyUsed } from '../../../src/detectors/kms-pending-deletion-key-used.js';
import type { EventDetector, HistoryFacts, QueryDetector } from '../../../src/detectors/types.js';
import { FindingStore } from '../../../src/findings/store.js';
import type { KmsEvent } from '../../../src/normalize/types.js';
import { isSendable, runDetection } from '../../../src/pipeline/detect.js';
import { KeytrailDb } from '../../../src/store/database.js';
import { EventStore } from '../../../src/store/event-store.js';
import {
  corpusEvent,
  fixtureEvent,
  KEY_ARN,
  lifecycleKmsEvent,
} from '../detectors/helpers.js';

const NOW = new Date('2024-06-01T00:00:00Z');
const silent = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

let db: KeytrailDb;
beforeEach(async () => {
  db = await KeytrailDb.open({ path: ':memory:', threads: 1 });
});
afterEach(() => db.close());

function config(value: unknown = {}): KeytrailConfig {
  return KeytrailConfigSchema.parse(value);
}

async function seed(events: KmsEvent[], ingestedAt = '2024-05-31T00:00:00.000Z'): Promise<KmsEvent[]> {
  const stamped = events.map((e) => ({ ...e, ingestedAt }));
  await new EventStore(db).insertEvents(stamped);
  return stamped;
}

/** The guide's KMS CMK Deletion event, as EventBridge redelivers it: a new id a second later. */
function deletionDelivery(n: number): KmsEvent {
  return lifecycleKmsEvent(3, { id: `e9ce3425-7d22-412a-a699-e7a5fc3fbc9${n}`, time: `2022-08-10T16:37:5${n}Z` });
}

describe('runDetection', () => {
  it('makes one KMS.KeyDeleted finding from a CMK Deletion delivered three times plus the DeleteKey service event', async () => {
    const events = await seed([
      deletionDelivery(0),
      deletionDelivery(1),
      deletionDelivery(2),
      corpusEvent(19, { eventTime: '2022-08-10T16:37:49Z' }),
    ]);
    const result = await runDetection(db, config(), { eventIds: events.map((e) => e.eventId), now: NOW, kinds: ['event'], logger: silent });
    expect(result.counts.byDetector).toEqual({ 'KMS.KeyDeleted': 4 });
    expect(result.findings).toHaveLength(1);
    const [finding] = result.findings;
    expect(finding?.key_arn).toBe(KEY_ARN);
    expect(new Set(finding?.event_ids)).toEqual(new Set(events.map((e) => e.eventId)));
    expect(finding?.occurred_at).toBe('2022-08-10T16:37:49.000Z');
    expect(result.counts).toMatchObject({ evaluated: 4, matched: 4, created: 1, updated: 0, suppressed: 0 });
  });

  it('creates no new finding ids when detection runs again, or when a repeat arrives later', async () => {
    const first = await seed([deletionDelivery(0)]);
    const run1 = await runDetection(db, config(), { eventIds: first.map((e) => e.eventId), now: NOW, logger: silent });
    const again = await runDetection(db, config(), { eventIds: first.map((e) => e.eventId), now: NOW, logger: silent });
    expect(again.counts).toMatchObject({ created: 0, updated: 1 });
    expect(again.findings.map((f) => f.finding_id)).toEqual(run1.findings.map((f) => f.finding_id));

    const late = await seed([corpusEvent(19, { eventTime: '2022-08-11T09:00:00Z' })]);
    const run3 = await runDetection(db, config(), { eventIds: late.map((e) => e.eventId), now: NOW, logger: silent });
    expect(run3.counts).toMatchObject({ created: 0, updated: 1 });
    expect(run3.findings[0]?.event_ids).toEqual([first[0]?.eventId, late[0]?.eventId]);
    expect(await new FindingStore(db).count({ includeSuppressed: true })).toBe(1);
  });

  it('stores and counts suppressed findings without returning them as findings', async () => {
    const events = await seed([lifecycleKmsEvent(1), corpusEvent(22)]);
    const result = await runDetection(db, config({ suppressions: [{ detector: 'KMS.KeyRotated', reason: 'evidence only' }] }), {
      eventIds: events.map((e) => e.eventId),
      now: NOW,
      logger: silent,
    });
    expect(result.counts.suppressed).toBe(1);
    expect(result.suppressed.map((s) => [s.finding.detector_id, s.suppressedBy])).toEqual([['KMS.KeyRotated', 'suppressions[0] (reason: evidence only)']]);
    expect(result.findings.map((f) => f.detector_id)).toEqual(['KMS.KeyDisabled']);
    const stored = await new FindingStore(db).list({ includeSuppressed: true });
    expect(stored.map((s) => s.suppressedBy).sort()).toEqual([null, 'suppressions[0] (reason: evidence only)']);
  });

  it('counts a detector that throws, logs its id, and still runs the others', async () => {
    const errors: unknown[] = [];
    const throwing: EventDetector = { ...kmsKeyRotated, id: 'Test.Throws', match: () => { throw new Error('boom'); } };
    const events = await seed([corpusEvent(22), corpusEvent(23)]);
    const result = await runDetection(db, config(), {
      eventIds: events.map((e) => e.eventId),
      now: NOW,
      detectors: [throwing, kmsKeyDisabled],
      logger: { ...silent, error: (...args: unknown[]) => errors.push(args) },
    });
    expect(result.counts.detectorErrors).toEqual({ 'Test.Throws': 2 });
    expect(result.findings.map((f) => f.detector_id)).toEqual(['KMS.KeyDisabled']);
    expect(errors).toContainEqual(['detector failed', expect.objectContaining({ detectorId: 'Test.Throws', error: 'boom' })]);
  });

  it('counts an invalid draft as that detector failing', async () => {
    const invalid: EventDetector = { ...kmsKeyDisabled, id: 'Test.Invalid', describe: (e, ctx, f) => ({ ...kmsKeyDisabled.describe(e, ctx, f), eventIds: [] }) };
    const events = await seed([corpusEvent(22)]);
    const result = await runDetection(db, config(), { eventIds: events.map((e) => e.eventId), now: NOW, detectors: [invalid], logger: silent });
    expect(result.counts.detectorErrors).toEqual({ 'Test.Invalid': 1 });
    expect(result.findings).toEqual([]);
  });

  it('gives KMS.PendingDeletionKeyUsed the deletion date of the stored ScheduleKeyDeletion', async () => {
    const events = await seed([corpusEvent(47), fixtureEvent('decrypt-pending-deletion')]);
    const result = await runDetection(db, config(), { eventIds: [events[1]?.eventId ?? ''], now: NOW, detectors: [kmsPendingDeletionKeyUsed], logger: silent });
    expect(result.findings[0]?.context['deletionDate']).toBe('2021-04-12T18:58:30.000Z');
    expect(result.findings[0]?.summary).toContain('scheduled to be deleted on 2021-04-12T18:58:30.000Z');
  });

  it('gives KMS.KeyDeletionScheduled the usage before the call and raises it to critical when the key was used', async () => {
    const used = corpusEvent(9, { eventTime: '2021-03-01T00:00:00Z' });
    const events = await seed([used, corpusEvent(47)]);
    const result = await runDetection(db, config(), { eventIds: [events[1]?.eventId ?? ''], now: NOW, detectors: [kmsKeyDeletionScheduled], logger: silent });
    const [finding] = result.findings;
    expect(finding?.severity).toBe('critical');
    expect(finding?.context['usageSummary']).toMatchObject({ totalCalls: 1, cryptographicCalls: 1, byOperation: { Decrypt: 1 } });
  });

  it('fetches previousKeyPolicy and accountSeenBefore for detectors that need them', async () => {
    const seen: Record<string, HistoryFacts> = {};
    const probe: EventDetector = {
      ...kmsKeyDisabled,
      id: 'Test.Probe',
      needs: ['previousKeyPolicy', 'accountSeenBefore'],
      match: (e) => e.eventName === 'PutKeyPolicy' || e.eventName === 'Decrypt',
      describe: (e, ctx, facts) => {
        seen[e.eventId] = facts;
        return kmsKeyDisabled.describe(e, ctx, {});
      },
    };
    const create = corpusEvent(7, (r) => {
      r['eventTime'] = '2024-01-01T00:00:00Z';
      r['requestParameters'] = { ...(r['requestParameters'] as object), policy: '{"Version":"2012-10-17","Statement":[]}' };
    });
    const put = corpusEvent(40, { eventTime: '2024-02-01T00:00:00Z' });
    const firstUse = corpusEvent(9, { eventTime: '2024-03-01T00:00:00Z', eventID: 'use-1' });
    const secondUse = corpusEvent(9, { eventTime: '2024-03-02T00:00:00Z', eventID: 'use-2' });
    const vendorUse = corpusEvent(9, (r) => {
      r['eventTime'] = '2024-03-03T00:00:00Z';
      r['eventID'] = 'use-vendor';
      r['userIdentity'] = { type: 'AssumedRole', arn: 'arn:aws:sts::444455556666:assumed-role/AcmeReader/s1', accountId: '444455556666' };
    });
    await seed([create, put, firstUse, secondUse, vendorUse]);
    await runDetection(db, config(), { eventIds: [put.eventId, 'use-1', 'use-2', 'use-vendor'], now: NOW, detectors: [probe], logger: silent });
    expect(seen['use-vendor']?.accountSeenBefore).toBe(false);
    expect(create.keyArn).toBe(put.keyArn);
    expect(seen[put.eventId]?.previousKeyPolicy).toBe('{"Version":"2012-10-17","Statement":[]}');
    expect(seen['use-2']?.previousKeyPolicy).toBe(JSON.parse(put.requestParameters ?? '{}').policy);
    expect(seen['use-1']?.accountSeenBefore).toBe(true); // the PutKeyPolicy by the same account
    expect(seen[put.eventId]?.accountSeenBefore).toBe(true);
  });

  it('runs query detectors over the default window with bound parameters', async () => {
    const calls: unknown[] = [];
    const query: QueryDetector = {
      ...kmsKeyDisabled,
      kind: 'query',
      id: 'Test.Query',
      sql: `SELECT key_arn, count(*)::INTEGER AS n, min(event_id) AS event_id, strftime(min(event_time), '%Y-%m-%dT%H:%M:%SZ') AS at
            FROM kms_events WHERE event_time >= $from::TIMESTAMP AND event_time < $to::TIMESTAMP GROUP BY key_arn`,
      params: (_ctx, window) => {
        calls.push(window);
        return { from: window.from, to: window.to };
      },
      toDrafts: (rows) =>
        rows.map((r) => ({
          dedupKey: String(r['key_arn']),
          summary: `${String(r['n'])} calls`,
          occurredAt: String(r['at']),
          accountId: null,
          region: null,
          keyArn: String(r['key_arn']),
          principalArn: null,
          principalAccountId: null,
          eventIds: [String(r['event_id'])],
          context: {},
        })),
    };
    await seed([corpusEvent(9, { eventTime: '2024-05-20T00:00:00Z' }), corpusEvent(26, { eventTime: '2024-01-01T00:00:00Z' })]);
    const result = await runDetection(db, config(), { now: NOW, detectors: [query], kinds: ['query'], logger: silent });
    expect(calls).toEqual([{ from: '2024-05-02T00:00:00.000Z', to: '2024-06-01T00:00:00.000Z' }]);
    expect(result.findings.map((f) => f.summary)).toEqual(['1 calls']);
  });

  it('selects events by ingestion time or event time when no ids are given', async () => {
    await seed([corpusEvent(22)], '2024-05-01T00:00:00.000Z');
    await seed([corpusEvent(23)], '2024-05-31T00:00:00.000Z');
    const byIngest = await runDetection(db, config(), { eventsIngestedSince: '2024-05-30', now: NOW, kinds: ['event'], logger: silent });
    expect(byIngest.counts.evaluated).toBe(1);
    expect(byIngest.findings.map((f) => f.detector_id)).toEqual(['KMS.RotationDisabled']);
    const byTime = await runDetection(db, config(), { eventsSince: '2020-01-01', now: NOW, kinds: ['event'], logger: silent });
    expect(byTime.counts.evaluated).toBe(1); // DisableKey (line 22) is from 2014
    const all = await runDetection(db, config(), { now: NOW, kinds: ['event'], logger: silent });
    expect(all.counts.evaluated).toBe(2);
  });

  it('marks evidence-only detectors as not sendable', async () => {
    const events = await seed([lifecycleKmsEvent(1), corpusEvent(22)]);
    const result = await runDetection(db, config(), { eventIds: events.map((e) => e.eventId), now: NOW, logger: silent });
    expect(result.findings.filter((f) => isSendable(f)).map((f) => f.detector_id)).toEqual(['KMS.KeyDisabled']);
  });
});
