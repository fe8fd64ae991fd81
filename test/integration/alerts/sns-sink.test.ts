import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlertDeliveryError } from '../../../src/alerts/alert-delivery-error.js';
import { formatSnsMessage, SNS_JSON_MARKER, SNS_MAX_MESSAGE_BYTES } from '../../../src/alerts/format.js';
import { publishFindings } from '../../../src/alerts/publish.js';
import { SnsSink } from '../../../src/alerts/sns-sink.js';
import { FindingSchema, type Finding } from '../../../src/findings/finding.js';
import { AlertLedger } from '../../../src/findings/ledger.js';
import { KeytrailDb } from '../../../src/store/database.js';
import { startSnsEmulator, type SnsEmulator, type SnsNotification } from '../../support/sns-emulator.js';
import {
  crossAccountDecryptFinding,
  keyDeletionFinding,
  keylessFinding,
  manyFindings,
  silentLogger,
  withUsage,
} from '../../unit/alerts/sample-findings.js';

/**
 * SnsSink against fauxqs over HTTP: the real SNS client publishes, an SQS queue subscribed to the
 * topic receives the SNS envelopes, and the test reads them back.
 */

let emulator: SnsEmulator;
let db: KeytrailDb;
let ledger: AlertLedger;
let topicArn: string;
let queueUrl: string;
let topicNo = 0;

beforeAll(async () => {
  emulator = await startSnsEmulator();
});
afterAll(async () => {
  await emulator.stop();
});
beforeEach(async () => {
  emulator.reset();
  ({ topicArn, queueUrl } = await emulator.createTopicWithQueue(`keytrail-alerts-${++topicNo}`));
  db = await KeytrailDb.open({ path: ':memory:' });
  ledger = new AlertLedger(db);
});
afterEach(() => db.close());

function sink(): SnsSink {
  return new SnsSink({ topicArn, client: emulator.snsClient(), retry: { baseDelayMs: 2, maxDelayMs: 10 }, logger: silentLogger });
}

function publish(findings: Finding[]) {
  return publishFindings(findings, { sinks: [sink()], ledger, minSeverity: 'info', logger: silentLogger });
}

function byFindingId(notifications: SnsNotification[]): Map<string, { notification: SnsNotification; finding: Finding }> {
  const result = new Map<string, { notification: SnsNotification; finding: Finding }>();
  for (const notification of notifications) {
    const json = notification.Message.slice(notification.Message.indexOf(SNS_JSON_MARKER) + SNS_JSON_MARKER.length);
    const finding = FindingSchema.parse(JSON.parse(json));
    expect(result.has(finding.finding_id), `finding ${finding.finding_id} delivered twice`).toBe(false);
    result.set(finding.finding_id, { notification, finding });
  }
  return result;
}

describe('SnsSink (fauxqs over HTTP)', () => {
  it('delivers a batch a subscriber can read: subject, body, attributes and the finding JSON', async () => {
    const findings = [keyDeletionFinding(), crossAccountDecryptFinding(), keylessFinding()];

    const summary = await publish(findings);

    expect(summary).toMatchObject({ sent: 3, failed: 0 });
    expect(emulator.publishRequests).toMatchObject([{ action: 'PublishBatch', entryCount: 3, outcome: 'forwarded' }]);
    const received = byFindingId(await emulator.drain(queueUrl));
    expect([...received.keys()].sort()).toEqual(findings.map((f) => f.finding_id).sort());

    const deletion = received.get(keyDeletionFinding().finding_id);
    expect(deletion?.finding).toEqual(keyDeletionFinding());
    expect(deletion?.notification.TopicArn).toBe(topicArn);
    expect(deletion?.notification.Subject).toBe('[CRITICAL] KMS.KeyDeletionScheduled: alias/payments-prod in 111122223333');
    const body = deletion?.notification.Message ?? '';
    expect(body).toContain('Key:             alias/payments-prod (arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab)');
    expect(body).toContain('Caller:          arn:aws:iam::111122223333:user/Alice');
    expect(body).toContain('1. Read the usage summary in the finding');
    expect(body).toContain('Operation:       ScheduleKeyDeletion');
    expect(deletion?.notification.MessageAttributes).toEqual({
      severity: { Type: 'String', Value: 'critical' },
      detector_id: { Type: 'String', Value: 'KMS.KeyDeletionScheduled' },
      account_id: { Type: 'String', Value: '111122223333' },
    });
    expect(received.get(keylessFinding().finding_id)?.notification.MessageAttributes).toEqual({
      severity: { Type: 'String', Value: 'low' },
      detector_id: { Type: 'String', Value: 'KMS.AccessDeniedBurst' },
    });

    // The ledger holds the MessageId SNS returned, which is the one in the envelope.
    const recorded = await ledger.deliveries(keyDeletionFinding().finding_id);
    expect(recorded).toMatchObject([{ sink: `sns:${topicArn}`, messageId: deletion?.notification.MessageId }]);
  });

  it('uses Publish for a single finding', async () => {
    await publish([keyDeletionFinding()]);
    expect(emulator.publishRequests).toMatchObject([{ action: 'Publish', entryCount: 1, outcome: 'forwarded' }]);
    expect(await emulator.drain(queueUrl)).toHaveLength(1);
  });

  it('publishes nothing new when run again', async () => {
    const findings = [keyDeletionFinding(), crossAccountDecryptFinding()];
    await publish(findings);
    expect(await emulator.drain(queueUrl)).toHaveLength(2);
    const requests = emulator.publishRequests.length;

    const again = await publish(findings);

    expect(again).toMatchObject({ sent: 0, skippedAlreadyPublished: 2 });
    expect(emulator.publishRequests).toHaveLength(requests);
    expect(await emulator.drain(queueUrl)).toEqual([]);
  });

  it('loses nothing when batch entries fail twice then succeed', async () => {
    const findings = manyFindings(4);
    emulator.failEntries({ times: 2 });

    const summary = await publish(findings);

    expect(summary).toMatchObject({ sent: 4, failed: 0 });
    expect(emulator.publishRequests.map((r) => [r.action, r.entryCount, r.failedEntries])).toEqual([
      ['PublishBatch', 4, 4],
      ['PublishBatch', 4, 4],
      ['PublishBatch', 4, 0],
    ]);
    const received = byFindingId(await emulator.drain(queueUrl));
    expect([...received.keys()].sort()).toEqual(findings.map((f) => f.finding_id).sort());
  });

  it('retries only the entries that failed within a batch', async () => {
    const findings = manyFindings(3);
    const flaky = findings[1]?.finding_id ?? '';
    emulator.failEntries({ times: 2, match: (message) => message.includes(flaky) });

    await publish(findings);

    // Once one entry is left, the sink sends it with Publish.
    expect(emulator.publishRequests.map((r) => [r.action, r.entryCount, r.failedEntries])).toEqual([
      ['PublishBatch', 3, 1],
      ['Publish', 1, 1],
      ['Publish', 1, 0],
    ]);
    expect(byFindingId(await emulator.drain(queueUrl)).size).toBe(3);
  });

  it('loses nothing when the whole request fails twice with HTTP 500', async () => {
    emulator.failRequests(2);
    const summary = await publish([keyDeletionFinding()]);
    expect(summary.sent).toBe(1);
    expect(emulator.publishRequests.map((r) => r.outcome)).toEqual(['failed', 'failed', 'forwarded']);
    expect(await emulator.drain(queueUrl)).toHaveLength(1);
  });

  it('throws AlertDeliveryError for an entry that keeps failing, keeps the rest, and a later run sends only it', async () => {
    const findings = [keyDeletionFinding(), crossAccountDecryptFinding(), keylessFinding()];
    const broken = crossAccountDecryptFinding().finding_id;
    emulator.failEntries({ times: Infinity, match: (message) => message.includes(broken) });

    const error = await publish(findings).then(
      () => null,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(AlertDeliveryError);
    const delivery = error as AlertDeliveryError;
    expect(delivery.findingIds).toEqual([broken]);
    expect(delivery.message).toContain(`${broken} to sns:${topicArn}: `);
    // The SDK names SNS's InternalError code InternalErrorException when a whole Publish fails.
    expect(delivery.message).toMatch(/InternalError(Exception)?: injected failure \(after 5 attempts\)$/);
    expect(emulator.publishRequests).toHaveLength(5);
    expect([...byFindingId(await emulator.drain(queueUrl)).keys()].sort()).toEqual(
      [keyDeletionFinding().finding_id, keylessFinding().finding_id].sort(),
    );

    emulator.reset();
    const retry = await publish(findings);
    expect(retry).toMatchObject({ sent: 1, skippedAlreadyPublished: 2 });
    expect([...byFindingId(await emulator.drain(queueUrl)).keys()]).toEqual([broken]);
  });

  it('does not retry an entry SNS rejects as the sender’s fault', async () => {
    const broken = keylessFinding().finding_id;
    emulator.failEntries({ times: Infinity, code: 'InvalidParameter', senderFault: true, match: (m) => m.includes(broken) });

    const error = await publish([keyDeletionFinding(), keylessFinding()]).then(
      () => null,
      (e: unknown) => e,
    );

    expect((error as AlertDeliveryError).findingIds).toEqual([broken]);
    expect(emulator.publishRequests).toHaveLength(1);
  });

  it('splits many and large findings into batches SNS accepts: at most 10 entries and 256 KiB', async () => {
    const findings = manyFindings(25, (i) => (i % 4 === 0 ? 400 : 2));
    const oversized = withUsage(6_000);

    const summary = await publish([...findings, oversized]);

    expect(summary).toMatchObject({ sent: 26, failed: 0 });
    // 26 entries fit 3 batches by count; the large ones force more by size.
    expect(emulator.publishRequests.length).toBeGreaterThan(3);
    for (const request of emulator.publishRequests) {
      expect(request.outcome).toBe('forwarded');
      expect(request.entryCount).toBeLessThanOrEqual(10);
      expect(request.bytes).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
    }
    const received = byFindingId(await emulator.drain(queueUrl));
    expect(received.size).toBe(26);
    const cut = received.get(oversized.finding_id);
    expect(String(cut?.finding.context['_truncated'])).toMatch(/^context\.usageSummary\.principals cut to \d+ of 6000 items to fit SNS 256 KB limit$/);
    expect(cut?.notification.Subject).toBe(formatSnsMessage(oversized).subject);
  });
});
