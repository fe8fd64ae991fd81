import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { asEventBridge, corpusRecord, lifecycleEvent } from '../../support/corpus.js';
import {
  copyAt,
  lambdaContext,
  onKey,
  sqsEvent,
  startLambdaHarness,
  uuidFrom,
  type LambdaHarness,
  type SqsHandler,
} from './harness.js';

/**
 * functions/ingest-events against local S3 and SNS: partial batch failures, the lake, alerts once
 * across redeliveries, and a cold container that knows history only through the lake.
 */

const KEY_A = 'aaaa0001-12ab-34cd-56ef-1234567890ab';
const KEY_B = 'bbbb0002-12ab-34cd-56ef-1234567890ab';
const KEY_C = 'cccc0003-12ab-34cd-56ef-1234567890ab';
const DECRYPT = 9;
const ENCRYPT = 26;
const DISABLE_KEY = 22;
const SCHEDULE_KEY_DELETION = 47;
const CMK_DELETION = 3;

let h: LambdaHarness;
let handler: SqsHandler;

beforeAll(async () => {
  h = await startLambdaHarness();
  handler = await h.coldStart<SqsHandler>('ingest-events');
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

function eventBody(record: Record<string, unknown>, id = uuidFrom(`eb ${String(record['eventID'])}`)): string {
  return JSON.stringify(asEventBridge(record, id));
}

/** A CloudTrail StopLogging call, as EventBridge delivers it (source aws.cloudtrail). */
function stopLoggingBody(): string {
  const record = structuredClone(corpusRecord(DISABLE_KEY));
  Object.assign(record, {
    eventSource: 'cloudtrail.amazonaws.com',
    eventName: 'StopLogging',
    eventID: uuidFrom('stop logging'),
    eventTime: '2021-03-23T19:00:00Z',
    requestParameters: { name: 'arn:aws:cloudtrail:us-west-2:111122223333:trail/org-trail' },
    responseElements: null,
    resources: null,
  });
  return JSON.stringify({ ...asEventBridge(record, uuidFrom('eb stop logging')), source: 'aws.cloudtrail' });
}

describe('Lambda: ingest-events', () => {
  const decrypt = copyAt(onKey(corpusRecord(DECRYPT), KEY_A), '2021-03-20T10:00:00Z', 'a decrypt');
  const scheduleDeletion = onKey(corpusRecord(SCHEDULE_KEY_DELETION), KEY_A);
  const deletion = onKey(lifecycleEvent(CMK_DELETION), KEY_A);
  const notJson = 'this is not json { "eventID": "leak-me"';
  const missingEventId = (() => {
    const record = copyAt(onKey(corpusRecord(DECRYPT), KEY_A), '2021-03-20T11:00:00Z', 'no id');
    delete record['eventID'];
    return eventBody(record, uuidFrom('eb no id'));
  })();
  const unknownDetailType = JSON.stringify({ ...asEventBridge(decrypt, uuidFrom('eb ec2')), 'detail-type': 'EC2 Instance State-change Notification' });
  const bodies = [eventBody(decrypt), eventBody(scheduleDeletion), JSON.stringify(deletion), stopLoggingBody(), notJson, missingEventId, unknownDetailType];
  const badIds = sqsEvent(bodies).Records.slice(4).map((r) => r.messageId);

  it('reports exactly the bad records, stores the rest in the lake and alerts once', async () => {
    const logged: string[] = [];
    const capture = (chunk: string | Uint8Array): boolean => {
      logged.push(String(chunk));
      return true;
    };
    // Powertools writes warnings and errors to stderr, the rest to stdout.
    const spies = [vi.spyOn(process.stdout, 'write').mockImplementation(capture), vi.spyOn(process.stderr, 'write').mockImplementation(capture)];
    let response;
    try {
      // A container that logs warnings, to see what a rejected record leaves in the logs.
      const logging = await h.coldStart<SqsHandler>('ingest-events', { POWERTOOLS_LOG_LEVEL: 'WARN' });
      response = await logging(sqsEvent(bodies), lambdaContext());
    } finally {
      for (const spy of spies) spy.mockRestore();
      process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
    }

    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([...badIds].sort());

    const rows = await h.lakeRows();
    expect(rows.map((r) => r['event_id']).sort()).toEqual(
      [String(decrypt['eventID']), String(scheduleDeletion['eventID']), String(deletion['id']), uuidFrom('stop logging')].sort(),
    );
    const partitions = new Set(rows.map((r) => `${String(r['account_id'])}/${String(r['event_date'])}`));
    expect(partitions).toEqual(new Set(['111122223333/2021-03-20', '111122223333/2021-03-23', '111122223333/2022-08-10']));
    // One PUT per part, named from the part's event ids.
    const keys = await h.lakeKeys();
    expect(keys).toHaveLength(partitions.size);
    for (const key of keys) expect(key).toMatch(/^kms_events\/account_id=111122223333\/event_date=\d{4}-\d{2}-\d{2}\/part-[0-9a-f]{32}\.parquet$/);

    const findings = await h.findings();
    expect(findings.map((f) => f.detector_id).sort()).toEqual(['CloudTrail.KmsEventsExcluded', 'KMS.KeyDeleted', 'KMS.KeyDeletionScheduled']);
    const scheduled = findings.find((f) => f.detector_id === 'KMS.KeyDeletionScheduled');
    // The Decrypt three days earlier, in the same batch, is in the past-usage summary.
    expect(scheduled?.context['usageSummary']).toMatchObject({ totalCalls: 1, cryptographicCalls: 1 });

    const failures = logged.filter((line) => line.includes('"record failed"'));
    expect(failures).toHaveLength(3);
    expect(failures.join('\n')).toContain('not JSON');
    expect(failures.join('\n')).toContain('eventID');
    expect(logged.join('\n')).not.toContain('leak-me');
  }, 120_000);

  it('adds no rows and no alerts when the same batch is delivered again, to a warm or a cold container', async () => {
    const keysBefore = await h.lakeKeys();
    const rowsBefore = await h.lakeRows();
    const putsBefore = h.s3.requests.filter((r) => r.method === 'PUT' && r.key?.startsWith('kms_events/')).length;

    const warm = await handler(sqsEvent(bodies), lambdaContext());
    const cold = await (await h.coldStart<SqsHandler>('ingest-events'))(sqsEvent(bodies, 2), lambdaContext());

    for (const response of [warm, cold]) expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([...badIds].sort());
    expect(await h.lakeKeys()).toEqual(keysBefore);
    expect((await h.lakeRows()).length).toBe(rowsBefore.length);
    // Each redelivery rewrote the same parts (same names), nothing else.
    const puts = h.s3.requests.filter((r) => r.method === 'PUT' && r.key?.startsWith('kms_events/'));
    expect(puts.length - putsBefore).toBe(2 * keysBefore.length);
    expect(await h.notifications()).toEqual([]);
  }, 120_000);

  it('counts an event once when a retried record lands in another part', async () => {
    // SQS retries only the failed records of a batch: this one arrives alone, so its part has
    // another name than the part it first landed in.
    const response = await handler(sqsEvent([bodies[1] ?? '']), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);
    const rows = await h.lakeRows();
    const ids = rows.map((r) => String(r['event_id']));
    expect(ids.filter((id) => id === String(scheduleDeletion['eventID']))).toHaveLength(2);
    expect(await h.notifications()).toEqual([]);

    // What a reader sees: one row per event_id (the scheduled function reads the lake the same way).
    const daily = await (await h.coldStart<(e: unknown, c: unknown) => Promise<{ report: { totals: { events: number } } }>>('scheduled'))(
      { task: 'daily-report', date: '2021-03-23' },
      lambdaContext(),
    );
    expect(daily.report.totals.events).toBe(2);
    await h.notifications();
  }, 120_000);

  it('fails only the record whose finding SNS did not take, and sends it once on the retry', async () => {
    const disable = copyAt(onKey(corpusRecord(DISABLE_KEY), KEY_B), '2021-04-01T09:00:00Z', 'b disable');
    const use = copyAt(onKey(corpusRecord(ENCRYPT), KEY_B), '2021-04-01T08:00:00Z', 'b encrypt');
    const batch = [eventBody(use), eventBody(disable)];
    const disableMessageId = sqsEvent(batch).Records[1]?.messageId;

    h.sns.failEntries({ times: Infinity, match: (message) => message.includes('KMS.KeyDisabled') });
    const first = await handler(sqsEvent(batch), lambdaContext());
    h.sns.reset();
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: disableMessageId }]);
    expect(await h.findings()).toEqual([]);

    // The claim was released, so the retry sends at once.
    const retry = await handler(sqsEvent([batch[1] ?? ''], 2), lambdaContext());
    expect(retry.batchItemFailures).toEqual([]);
    const findings = await h.findings();
    expect(findings.map((f) => f.detector_id)).toEqual(['KMS.KeyDisabled']);
    expect(findings[0]?.context['usageSummary']).toMatchObject({ totalCalls: 1 });

    const again = await handler(sqsEvent([batch[1] ?? ''], 3), lambdaContext());
    expect(again.batchItemFailures).toEqual([]);
    expect(await h.notifications()).toEqual([]);
  }, 120_000);

  it('gives a fresh container the past-usage summary from the lake alone', async () => {
    // Usage of key C over five weeks, in separate batches (one part each), plus another account's
    // use of its own key that the summary must not read.
    const days = ['2021-02-10', '2021-02-24', '2021-03-03', '2021-03-15', '2021-03-21'];
    for (const [i, day] of days.entries()) {
      const record = copyAt(onKey(corpusRecord(i % 2 === 0 ? DECRYPT : ENCRYPT), KEY_C), `${day}T12:00:00Z`, `c use ${i}`);
      expect((await handler(sqsEvent([eventBody(record)]), lambdaContext())).batchItemFailures).toEqual([]);
    }
    const other = copyAt(corpusRecord(DECRYPT), '2021-03-10T12:00:00Z', 'other account');
    other['recipientAccountId'] = '444455556666';
    expect((await handler(sqsEvent([eventBody(other)]), lambdaContext())).batchItemFailures).toEqual([]);
    await h.notifications();

    const cold = await h.coldStart<SqsHandler>('ingest-events');
    h.s3.reset();
    const schedule = copyAt(onKey(corpusRecord(SCHEDULE_KEY_DELETION), KEY_C), '2021-03-23T18:58:30Z', 'c schedule');
    const response = await cold(sqsEvent([eventBody(schedule)]), lambdaContext());
    expect(response.batchItemFailures).toEqual([]);

    const [finding, ...rest] = await h.findings();
    expect(rest).toEqual([]);
    expect(finding?.detector_id).toBe('KMS.KeyDeletionScheduled');
    expect(finding?.severity).toBe('critical');
    expect(finding?.context['usageSummary']).toMatchObject({
      totalCalls: 5,
      cryptographicCalls: 5,
      firstUse: '2021-02-10T12:00:00.000Z',
      lastCryptographicUse: '2021-03-21T12:00:00.000Z',
      principals: [{ arn: 'arn:aws:iam::111122223333:user/Alice', accountId: '111122223333', calls: 5 }],
    });
    // History came from the owner account's partitions in the lookback window, downloaded from S3.
    const downloads = h.s3.requests.filter((r) => r.method === 'GET' && r.key?.startsWith('kms_events/')).map((r) => r.key ?? '');
    expect(downloads.length).toBeGreaterThanOrEqual(days.length);
    for (const key of downloads) expect(key).toContain('account_id=111122223333/');
  }, 180_000);
});
