import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { detectCommand, type DetectSummary } from '../../src/cli/detect.js';
import { FindingSchema, severityRank } from '../../src/findings/finding.js';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { KeytrailDb } from '../../src/store/database.js';
import { EventStore } from '../../src/store/event-store.js';
import { corpusLines } from '../support/corpus.js';
import { startEventBridgeServer, type EventBridgeServer } from '../support/eventbridge-server.js';
import { startSnsEmulator, type SnsEmulator } from '../support/sns-emulator.js';

/**
 * `keytrail detect --publish` end to end: findings from real corpus records go out through the real
 * SNS and EventBridge clients the configuration names, to local servers, once.
 */

let sns: SnsEmulator;
let bus: EventBridgeServer;
let dir: string;

beforeAll(async () => {
  [sns, bus] = await Promise.all([startSnsEmulator(), startEventBridgeServer()]);
  dir = mkdtempSync(join(tmpdir(), 'keytrail-publish-'));
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'dummy');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'dummy');
  // The command prints its findings as JSON; the test reads them from the returned summary.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  await Promise.all([sns.stop(), bus.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('CLI: keytrail detect --publish', () => {
  it('sends each sendable finding at or above alerts.min_severity to both sinks, once', async () => {
    const { topicArn, queueUrl } = await sns.createTopicWithQueue('keytrail-cli');
    const config = join(dir, 'keytrail.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        alerts: { sns_topic_arn: topicArn, event_bus: 'default', min_severity: 'high', region: sns.region, sns_endpoint: sns.endpoint, eventbridge_endpoint: bus.endpoint },
      }),
    );
    // Corpus records with their own eventIDs, so every one is stored.
    const seen = new Set<string>();
    const unique = corpusLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => !seen.has(String(r['eventID'])) && seen.add(String(r['eventID'])));
    const trail = join(dir, 'trail.json');
    writeFileSync(trail, JSON.stringify({ Records: unique }));
    const dbPath = join(dir, 'keytrail.duckdb');
    const db = await KeytrailDb.open({ path: dbPath });
    await ingestFiles([trail], { store: new EventStore(db) });
    db.close();

    const options = { db: dbPath, config, publish: true, format: 'json', since: '2014-01-01' };
    const first = (await detectCommand(options, new Date('2026-11-27T00:00:00Z'))).summary as DetectSummary;
    const sendable = first.detection.findings.filter((f) => severityRank(f.severity) >= severityRank('high'));
    expect(sendable.length).toBeGreaterThan(0);
    expect(first.published).toMatchObject({ sent: sendable.length * 2, failed: 0 });

    const messages = await sns.drain(queueUrl);
    expect(messages.map((m) => FindingSchema.parse(JSON.parse(m.Message.slice(m.Message.indexOf('{')))).finding_id).sort()).toEqual(
      sendable.map((f) => f.finding_id).sort(),
    );
    for (const m of messages) {
      expect(m.Subject?.length ?? 0).toBeGreaterThan(0);
      expect(m.Subject?.length ?? 0).toBeLessThan(100);
      expect(m.MessageAttributes?.['severity']?.Value).toMatch(/^(high|critical)$/);
      expect(m.MessageAttributes?.['detector_id']?.Value).toMatch(/^KMS\.|^CloudTrail\./);
    }
    expect(bus.events.map((e) => (JSON.parse(e.detail) as { finding_id: string }).finding_id).sort()).toEqual(sendable.map((f) => f.finding_id).sort());
    expect(bus.events.every((e) => e.source === 'keytrail' && e.detailType === 'KMS Audit Finding')).toBe(true);

    // A re-run finds the same findings and sends nothing.
    const again = (await detectCommand(options, new Date('2026-11-27T00:00:00Z'))).summary as DetectSummary;
    expect(again.published).toMatchObject({ sent: 0, skippedAlreadyPublished: sendable.length * 2 });
    expect(await sns.drain(queueUrl)).toEqual([]);
    expect(bus.events).toHaveLength(sendable.length);
  });
});
