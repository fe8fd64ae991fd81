import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlertDeliveryError } from '../../../src/alerts/alert-delivery-error.js';
import { EventBridgeSink } from '../../../src/alerts/eventbridge-sink.js';
import { EVENTBRIDGE_MAX_ENTRY_BYTES } from '../../../src/alerts/format.js';
import { publishFindings } from '../../../src/alerts/publish.js';
import { FindingSchema, type Finding } from '../../../src/findings/finding.js';
import { AlertLedger } from '../../../src/findings/ledger.js';
import { KeytrailDb } from '../../../src/store/database.js';
import { startEventBridgeServer, type EventBridgeServer } from '../../support/eventbridge-server.js';
import {
  crossAccountDecryptFinding,
  keyDeletionFinding,
  keylessFinding,
  manyFindings,
  silentLogger,
  withUsage,
} from '../../unit/alerts/sample-findings.js';

/** EventBridgeSink against a local PutEvents endpoint (AWS JSON 1.1) through the real SDK client. */

const BUS = 'security-findings';
let server: EventBridgeServer;
let db: KeytrailDb;
let ledger: AlertLedger;

beforeAll(async () => {
  server = await startEventBridgeServer();
});
afterAll(async () => {
  await server.stop();
});
beforeEach(async () => {
  server.reset();
  db = await KeytrailDb.open({ path: ':memory:' });
  ledger = new AlertLedger(db);
});
afterEach(() => db.close());

function publish(findings: Finding[]) {
  const sink = new EventBridgeSink({ busName: BUS, client: server.client(), retry: { baseDelayMs: 2, maxDelayMs: 10 }, logger: silentLogger });
  return publishFindings(findings, { sinks: [sink], ledger, minSeverity: 'info', logger: silentLogger });
}

/** Accepted events by finding id, failing the test if any finding arrived twice. */
function receivedFindings(): Map<string, Finding> {
  const result = new Map<string, Finding>();
  for (const event of server.events) {
    const finding = FindingSchema.parse(JSON.parse(event.detail));
    expect(result.has(finding.finding_id), `finding ${finding.finding_id} put twice`).toBe(false);
    result.set(finding.finding_id, finding);
  }
  return result;
}

describe('EventBridgeSink (local PutEvents endpoint over HTTP)', () => {
  it('puts each finding as a KMS Audit Finding event from keytrail, with the key as resource', async () => {
    const findings = [keyDeletionFinding(), crossAccountDecryptFinding(), keylessFinding()];

    const summary = await publish(findings);

    expect(summary).toMatchObject({ sent: 3, failed: 0 });
    expect(server.requests).toMatchObject([{ entryCount: 3, failedEntries: 0, outcome: 'accepted' }]);
    const deletion = server.events.find((e) => e.detail.includes(keyDeletionFinding().finding_id));
    expect(deletion).toMatchObject({
      busName: BUS,
      source: 'keytrail',
      detailType: 'KMS Audit Finding',
      resources: [keyDeletionFinding().key_arn],
      time: Date.parse('2021-03-23T18:58:30.000Z') / 1000,
    });
    expect(receivedFindings().get(keyDeletionFinding().finding_id)).toEqual(keyDeletionFinding());
    const keyless = server.events.find((e) => e.detail.includes(keylessFinding().finding_id));
    expect(keyless?.resources).toEqual([]);
    expect(await ledger.deliveries(keyDeletionFinding().finding_id)).toMatchObject([
      { sink: `eventbridge:${BUS}`, messageId: deletion?.eventId },
    ]);
  });

  it('puts nothing new when run again', async () => {
    const findings = manyFindings(3);
    await publish(findings);
    const again = await publish(findings);
    expect(again).toMatchObject({ sent: 0, skippedAlreadyPublished: 3 });
    expect(server.requests).toHaveLength(1);
    expect(server.events).toHaveLength(3);
  });

  it('loses nothing when entries come back with an ErrorCode twice', async () => {
    const findings = manyFindings(4);
    const flaky = new Set([findings[0]?.finding_id, findings[2]?.finding_id]);
    server.failEntries({ times: 2, code: 'InternalFailure', match: (e) => [...flaky].some((id) => e.Detail?.includes(String(id))) });

    const summary = await publish(findings);

    expect(summary).toMatchObject({ sent: 4, failed: 0 });
    expect(server.requests.map((r) => [r.entryCount, r.failedEntries])).toEqual([
      [4, 2],
      [2, 2],
      [2, 0],
    ]);
    expect([...receivedFindings().keys()].sort()).toEqual(findings.map((f) => f.finding_id).sort());
  });

  it('loses nothing when the whole request fails twice with HTTP 500', async () => {
    server.failRequests(2);
    const summary = await publish([keyDeletionFinding(), keylessFinding()]);
    expect(summary.sent).toBe(2);
    expect(server.requests.map((r) => r.outcome)).toEqual(['failed', 'failed', 'accepted']);
    expect(receivedFindings().size).toBe(2);
  });

  it('reports an entry that keeps failing after the last attempt, and keeps the others', async () => {
    const broken = crossAccountDecryptFinding().finding_id;
    server.failEntries({ times: Infinity, code: 'ThrottlingException', match: (e) => Boolean(e.Detail?.includes(broken)) });

    const error = await publish([keyDeletionFinding(), crossAccountDecryptFinding()]).then(
      () => null,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(AlertDeliveryError);
    expect((error as AlertDeliveryError).findingIds).toEqual([broken]);
    expect((error as AlertDeliveryError).message).toContain(`${broken} to eventbridge:${BUS}: ThrottlingException: injected failure (after 5 attempts)`);
    expect(server.requests).toHaveLength(5);
    expect([...receivedFindings().keys()]).toEqual([keyDeletionFinding().finding_id]);
    expect(await ledger.unpublished([keyDeletionFinding().finding_id, broken], `eventbridge:${BUS}`)).toEqual([broken]);
  });

  it('does not retry an entry EventBridge calls malformed', async () => {
    const broken = keylessFinding().finding_id;
    server.failEntries({ times: Infinity, code: 'MalformedDetail', match: (e) => Boolean(e.Detail?.includes(broken)) });
    const error = await publish([keyDeletionFinding(), keylessFinding()]).then(
      () => null,
      (e: unknown) => e,
    );
    expect((error as AlertDeliveryError).findingIds).toEqual([broken]);
    expect(server.requests).toHaveLength(1);
  });

  it('sends PutEvents of at most 10 entries and 256 KiB, large findings cut with a note', async () => {
    const findings = manyFindings(23, (i) => (i % 5 === 0 ? 600 : 2));
    const oversized = withUsage(6_000);

    const summary = await publish([...findings, oversized]);

    expect(summary).toMatchObject({ sent: 24, failed: 0 });
    // 24 entries fit 3 requests by count; the large ones force more by size.
    expect(server.requests.length).toBeGreaterThan(3);
    for (const request of server.requests) {
      expect(request.outcome).toBe('accepted');
      expect(request.entryCount).toBeLessThanOrEqual(10);
      expect(request.bytes).toBeLessThanOrEqual(EVENTBRIDGE_MAX_ENTRY_BYTES);
    }
    const received = receivedFindings();
    expect(received.size).toBe(24);
    expect(String(received.get(oversized.finding_id)?.context['_truncated'])).toMatch(
      /^context\.usageSummary\.principals cut to \d+ of 6000 items to fit EventBridge 256 KB limit$/,
    );
  });
});
