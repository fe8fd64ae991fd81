import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertDeliveryError } from '../../../src/alerts/alert-delivery-error.js';
import { EventBridgeSink } from '../../../src/alerts/eventbridge-sink.js';
import { publishFindings, type PublishOptions } from '../../../src/alerts/publish.js';
import { SnsSink } from '../../../src/alerts/sns-sink.js';
import { AlertLedger } from '../../../src/findings/ledger.js';
import { KeytrailDb } from '../../../src/store/database.js';
import { startEventBridgeServer, type EventBridgeServer } from '../../support/eventbridge-server.js';
import { startSnsEmulator, type SnsEmulator } from '../../support/sns-emulator.js';
import { crossAccountDecryptFinding, keyDeletionFinding, keylessFinding, silentLogger } from '../../unit/alerts/sample-findings.js';

/**
 * Both sinks at once, with the ledger in a database file that is closed and reopened between runs,
 * as consecutive Lambda invocations or CLI runs would: an outage of one sink delays only its alerts,
 * and no run sends a finding twice.
 */

let sns: SnsEmulator;
let bus: EventBridgeServer;
let dir: string;

beforeAll(async () => {
  [sns, bus] = await Promise.all([startSnsEmulator(), startEventBridgeServer()]);
  dir = mkdtempSync(join(tmpdir(), 'keytrail-alerts-'));
});
afterAll(async () => {
  await Promise.all([sns.stop(), bus.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('publishFindings to SNS and EventBridge', () => {
  it('delivers everything exactly once across an SNS outage and a restart', async () => {
    const { topicArn, queueUrl } = await sns.createTopicWithQueue('keytrail-both');
    const retry = { baseDelayMs: 1, maxDelayMs: 4, maxAttempts: 3 };
    const sinks = [
      new SnsSink({ topicArn, client: sns.snsClient(), retry, logger: silentLogger }),
      new EventBridgeSink({ busName: 'default', client: bus.client(), retry, logger: silentLogger }),
    ];
    const findings = [keyDeletionFinding(), crossAccountDecryptFinding(), keylessFinding()];
    const run = async (): Promise<Awaited<ReturnType<typeof publishFindings>>> => {
      const db = await KeytrailDb.open({ path: join(dir, 'keytrail.duckdb') });
      try {
        const options: PublishOptions = { sinks, ledger: new AlertLedger(db), minSeverity: 'low', logger: silentLogger };
        return await publishFindings(findings, options);
      } finally {
        db.close();
      }
    };

    // SNS is down for longer than the sink's 3 attempts.
    sns.failRequests(3);
    const first = await run().then(
      () => null,
      (e: unknown) => e,
    );
    expect(first).toBeInstanceOf(AlertDeliveryError);
    const outage = first as AlertDeliveryError;
    expect(new Set(outage.undelivered.map((u) => u.sink))).toEqual(new Set([`sns:${topicArn}`]));
    expect(outage.findingIds.sort()).toEqual(findings.map((f) => f.finding_id).sort());
    expect(outage.summary).toMatchObject({ sent: 3, failed: 3 });
    expect(bus.events).toHaveLength(3);

    // The next run reaches SNS; EventBridge, already done, gets nothing.
    const second = await run();
    expect(second).toMatchObject({ sent: 3, skippedAlreadyPublished: 3, failed: 0 });
    expect(bus.requests).toHaveLength(1);
    expect(await sns.drain(queueUrl)).toHaveLength(3);

    const third = await run();
    expect(third).toMatchObject({ sent: 0, skippedAlreadyPublished: 6 });
    expect(await sns.drain(queueUrl)).toHaveLength(0);
    expect(bus.events).toHaveLength(3);
  });
});
