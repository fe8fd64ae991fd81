import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertDeliveryError } from '../../../src/alerts/alert-delivery-error.js';
import { publishFindings, type PublishOptions } from '../../../src/alerts/publish.js';
import type { AlertSink, SinkResult } from '../../../src/alerts/sink.js';
import type { Finding } from '../../../src/findings/finding.js';
import { AlertLedger } from '../../../src/findings/ledger.js';
import { KeytrailDb } from '../../../src/store/database.js';
import { crossAccountDecryptFinding, keyDeletionFinding, keylessFinding, manyFindings, silentLogger } from './sample-findings.js';

/**
 * A sink that records what it delivered. `failuresBefore(id)` says how many sends of a finding fail
 * before one succeeds (Infinity: never succeeds).
 */
class FakeSink implements AlertSink {
  readonly calls: string[][] = [];
  readonly deliveries: string[] = [];
  private readonly failedSoFar = new Map<string, number>();

  constructor(
    readonly name: string,
    private readonly failuresBefore: (findingId: string) => number = () => 0,
  ) {}

  async send(findings: readonly Finding[]): Promise<SinkResult> {
    this.calls.push(findings.map((f) => f.finding_id));
    const result: SinkResult = { delivered: [], failed: [] };
    for (const { finding_id: id } of findings) {
      const failed = this.failedSoFar.get(id) ?? 0;
      if (failed < this.failuresBefore(id)) {
        this.failedSoFar.set(id, failed + 1);
        result.failed.push({ findingId: id, error: new Error('InternalError: injected') });
      } else {
        this.deliveries.push(id);
        result.delivered.push({ findingId: id, messageId: `msg-${id.slice(0, 8)}-${this.deliveries.length}` });
      }
    }
    return result;
  }
}

let db: KeytrailDb;
let ledger: AlertLedger;

beforeEach(async () => {
  db = await KeytrailDb.open({ path: ':memory:' });
  ledger = new AlertLedger(db);
});
afterEach(() => db.close());

function options(sinks: AlertSink[], extra: Partial<PublishOptions> = {}): PublishOptions {
  return { sinks, ledger, minSeverity: 'low', logger: silentLogger, ...extra };
}

async function ledgerRows(): Promise<{ finding_id: string; sink: string; message_id: string | null }[]> {
  const rows = await db.all('SELECT finding_id, sink, message_id FROM alert_ledger ORDER BY sink, finding_id');
  return rows.map((r) => ({ finding_id: String(r['finding_id']), sink: String(r['sink']), message_id: r['message_id'] === null ? null : String(r['message_id']) }));
}

async function rejection(promise: Promise<unknown>): Promise<AlertDeliveryError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AlertDeliveryError);
  return error as AlertDeliveryError;
}

describe('publishFindings', () => {
  it('sends each finding to each sink and records the message id in the ledger', async () => {
    const findings = [keyDeletionFinding(), crossAccountDecryptFinding()];
    const sns = new FakeSink('sns:topic');
    const bus = new FakeSink('eventbridge:bus');

    const summary = await publishFindings(findings, options([sns, bus]));

    expect(summary).toEqual({ sent: 4, skippedAlreadyPublished: 0, belowSeverity: 0, filteredOut: 0, invalid: 0, failed: 0 });
    expect(sns.deliveries).toEqual(findings.map((f) => f.finding_id));
    expect(bus.deliveries).toEqual(findings.map((f) => f.finding_id));
    const rows = await ledgerRows();
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.message_id?.startsWith('msg-'))).toBe(true);
  });

  it('sends nothing on a re-run: the ledger already has every finding', async () => {
    const findings = manyFindings(12);
    const sink = new FakeSink('sns:topic');
    await publishFindings(findings, options([sink]));

    const again = await publishFindings(findings, options([sink]));

    expect(again).toMatchObject({ sent: 0, skippedAlreadyPublished: 12, failed: 0 });
    expect(sink.calls).toHaveLength(1);
    expect(sink.deliveries).toHaveLength(12);
  });

  it('sends a finding that appears twice in one batch once', async () => {
    const sink = new FakeSink('sns:topic');
    const summary = await publishFindings([keyDeletionFinding(), keyDeletionFinding()], options([sink]));
    expect(summary.sent).toBe(1);
    expect(sink.deliveries).toEqual([keyDeletionFinding().finding_id]);
  });

  it('keeps findings below the minimum severity and those the predicate refuses', async () => {
    const sink = new FakeSink('sns:topic');
    const experimental = crossAccountDecryptFinding({ severity: 'critical' });
    const summary = await publishFindings(
      [keyDeletionFinding(), experimental, keylessFinding()],
      options([sink], { minSeverity: 'medium', shouldSend: (f) => f.detector_id !== experimental.detector_id }),
    );
    expect(summary).toMatchObject({ sent: 1, belowSeverity: 1, filteredOut: 1 });
    expect(sink.deliveries).toEqual([keyDeletionFinding().finding_id]);
  });

  it('loses nothing when a sink fails twice then succeeds: each retry sends only what is missing', async () => {
    const findings = manyFindings(5);
    const flaky = new Set([findings[1]?.finding_id, findings[3]?.finding_id]);
    const sink = new FakeSink('sns:topic', (id) => (flaky.has(id) ? 2 : 0));

    const first = await rejection(publishFindings(findings, options([sink])));
    expect(new Set(first.findingIds)).toEqual(flaky);
    expect(first.summary).toMatchObject({ sent: 3, failed: 2 });
    expect(await ledgerRows()).toHaveLength(3);

    const second = await rejection(publishFindings(findings, options([sink])));
    expect(new Set(second.findingIds)).toEqual(flaky);
    expect(second.summary).toMatchObject({ sent: 0, skippedAlreadyPublished: 3, failed: 2 });

    const third = await publishFindings(findings, options([sink]));
    expect(third).toMatchObject({ sent: 2, skippedAlreadyPublished: 3, failed: 0 });

    expect([...sink.deliveries].sort()).toEqual(findings.map((f) => f.finding_id).sort());
    expect(sink.calls.map((c) => c.length)).toEqual([5, 2, 2]);
    expect(await ledgerRows()).toHaveLength(5);
  });

  it('throws AlertDeliveryError naming a permanently failing finding, after recording the others', async () => {
    const findings = [keyDeletionFinding(), crossAccountDecryptFinding(), keylessFinding()];
    const broken = crossAccountDecryptFinding().finding_id;
    const sink = new FakeSink('sns:topic', (id) => (id === broken ? Infinity : 0));

    const error = await rejection(publishFindings(findings, options([sink])));

    expect(error.findingIds).toEqual([broken]);
    expect(error.undelivered).toEqual([{ findingId: broken, sink: 'sns:topic', reason: 'InternalError: injected' }]);
    expect(error.message).toContain(`${broken} to sns:topic: InternalError: injected`);
    expect((await ledgerRows()).map((r) => r.finding_id).sort()).toEqual([findings[0]?.finding_id, findings[2]?.finding_id].sort());
  });

  it('delivers to the healthy sink when the other fails, and retries only the failed sink', async () => {
    const finding = keyDeletionFinding();
    let brokenUntil = 1;
    const sns = new FakeSink('sns:topic', () => brokenUntil);
    const bus = new FakeSink('eventbridge:bus');

    const error = await rejection(publishFindings([finding], options([sns, bus])));
    expect(error.undelivered.map((u) => u.sink)).toEqual(['sns:topic']);
    expect(bus.deliveries).toEqual([finding.finding_id]);

    brokenUntil = 0;
    const summary = await publishFindings([finding], options([sns, bus]));
    expect(summary).toMatchObject({ sent: 1, skippedAlreadyPublished: 1 });
    expect(bus.calls).toHaveLength(1);
    expect(sns.deliveries).toEqual([finding.finding_id]);
  });

  it('reports every finding of a sink that throws instead of answering', async () => {
    const findings = [keyDeletionFinding(), crossAccountDecryptFinding()];
    const sink: AlertSink = { name: 'sns:topic', send: () => Promise.reject(new Error('socket hang up')) };
    const error = await rejection(publishFindings(findings, options([sink])));
    expect(error.undelivered.map((u) => [u.findingId, u.reason])).toEqual(findings.map((f) => [f.finding_id, 'socket hang up']));
    expect(await ledgerRows()).toHaveLength(0);
  });

  it('reports a finding the sink neither delivered nor failed', async () => {
    const [kept, forgotten] = [keyDeletionFinding(), crossAccountDecryptFinding()];
    const sink: AlertSink = {
      name: 'sns:topic',
      send: async () => ({ delivered: [{ findingId: kept.finding_id, messageId: 'm-1' }], failed: [] }),
    };
    const error = await rejection(publishFindings([kept, forgotten], options([sink])));
    expect(error.undelivered).toEqual([
      { findingId: forgotten.finding_id, sink: 'sns:topic', reason: 'the sink reported neither delivery nor failure' },
    ]);
    expect((await ledgerRows()).map((r) => r.finding_id)).toEqual([kept.finding_id]);
  });

  it('refuses a finding that fails FindingSchema, names the field, and still sends the valid ones', async () => {
    const invalid = { ...keyDeletionFinding(), finding_id: 'not-a-hex-id', severity: 'urgent' };
    const sink = new FakeSink('sns:topic');
    const error = await rejection(publishFindings([invalid, crossAccountDecryptFinding()], options([sink])));
    expect(error.undelivered).toHaveLength(1);
    expect(error.undelivered[0]).toMatchObject({ findingId: 'not-a-hex-id', sink: null });
    expect(error.undelivered[0]?.reason).toMatch(/^finding failed FindingSchema at finding_id: /);
    expect(error.summary).toMatchObject({ invalid: 1, sent: 1, failed: 0 });
    expect(sink.deliveries).toEqual([crossAccountDecryptFinding().finding_id]);
  });
});
