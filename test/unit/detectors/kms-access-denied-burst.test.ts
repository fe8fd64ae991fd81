import { describe, expect, it } from 'vitest';
import { kmsAccessDeniedBurst as detector } from '../../../src/detectors/kms-access-denied-burst.js';
import type { KmsEvent } from '../../../src/normalize/types.js';
import { contextFor, fixtureEvent, KEY_ARN, type JsonRecord, type Patch } from './helpers.js';
import { repeated, runQueryDetector } from './lib/policy-query-harness.js';

const BATCH_ROLE = 'arn:aws:iam::111122223333:role/InvoiceBatchRole';

/** The denied Decrypt fixture (2024-03-07T02:03:00Z), varied. */
const denied = (patch?: Patch) => fixtureEvent('burst-decrypt-access-denied', patch);

/** Another role of the owner account. */
function asRole(role: string): Patch {
  return (r: JsonRecord) => {
    const identity = r['userIdentity'] as JsonRecord;
    identity['arn'] = `arn:aws:sts::111122223333:assumed-role/${role}/i-0f9e8d7c6b5a43210`;
    (identity['sessionContext'] as { sessionIssuer: JsonRecord }).sessionIssuer['arn'] = `arn:aws:iam::111122223333:role/${role}`;
  };
}

async function drafts(events: KmsEvent[], config: unknown = {}) {
  return (await runQueryDetector(detector, events, contextFor(config))).drafts;
}

describe('Detector: KMS.AccessDeniedBurst', () => {
  it('fires on 10 AccessDeniedException errors on one key by one role within 15 minutes', async () => {
    const events = repeated(denied(), 10, 30, 'burst');
    const [draft, ...rest] = await drafts(events);
    expect(rest).toEqual([]);
    expect(draft?.dedupKey).toBe(`${KEY_ARN}|${BATCH_ROLE}|2024-03-07T02:03:00.000Z`);
    expect(draft?.summary).toBe(`${BATCH_ROLE} (account 111122223333) was denied 10 times on key ${KEY_ARN} within 15 minutes (Decrypt; AccessDeniedException).`);
    expect(draft?.severity).toBeUndefined();
    expect(draft?.eventIds).toEqual(events.map((e) => e.eventId));
    expect(draft).toMatchObject({ accountId: '111122223333', keyArn: KEY_ARN, principalArn: BATCH_ROLE, occurredAt: '2024-03-07T02:03:00.000Z' });
    expect(draft?.context).toMatchObject({
      count: 10,
      peakInWindow: 10,
      threshold: 10,
      firstTime: '2024-03-07T02:03:00.000Z',
      lastTime: '2024-03-07T02:07:30.000Z',
      operations: ['Decrypt'],
      errorCodes: ['AccessDeniedException'],
      crossAccount: false,
      eventIdsTruncated: 0,
    });
  });

  it('ignores 9 denials (below the threshold)', async () => {
    expect(await drafts(repeated(denied(), 9, 30, 'nine'))).toEqual([]);
  });

  it('ignores denials spread out over more than the window', async () => {
    expect(await drafts(repeated(denied(), 12, 300, 'slow'))).toEqual([]);
  });

  it('follows the configured threshold and window', async () => {
    const config = { detection: { access_denied_burst: { threshold: 3, window_minutes: 5 } } };
    const [draft] = await drafts(repeated(denied(), 3, 20, 'three'), config);
    expect(draft?.context).toMatchObject({ count: 3, peakInWindow: 3, windowMinutes: 5 });
    expect(draft?.summary).toContain('within 5 minutes');
    // 3 denials 20 s apart fit in 5 minutes; spread 3 minutes apart they do not.
    expect(await drafts(repeated(denied(), 3, 180, 'spread'), config)).toEqual([]);
  });

  it('makes one finding for one continuous episode, however long', async () => {
    const result = await drafts(repeated(denied(), 24, 60, 'long'));
    expect(result).toHaveLength(1);
    expect(result[0]?.context).toMatchObject({ count: 24, peakInWindow: 15 });
    expect(result[0]?.summary).toContain('(24 in all between');
  });

  it('sees a burst that straddles a quarter-hour boundary', async () => {
    // 6 denials before 02:15 and 6 after: no fixed 15-minute window holds 10, a sliding one does.
    const events = repeated(denied(), 12, 30, 'straddle').map((e, i) => ({
      ...e,
      eventTime: new Date(Date.parse('2024-03-07T02:12:00.000Z') + i * 30_000).toISOString(),
    }));
    const [draft, ...rest] = await drafts(events);
    expect(rest).toEqual([]);
    expect(draft?.context).toMatchObject({ count: 12, peakInWindow: 12 });
  });

  it('starts a new episode after a gap longer than the window', async () => {
    const first = repeated(denied(), 10, 30, 'first');
    const second = repeated(denied(), 10, 30, 'second').map((e) => ({
      ...e,
      eventTime: new Date(Date.parse(e.eventTime) + 60 * 60_000).toISOString(),
    }));
    const result = await drafts([...first, ...second]);
    expect(result.map((d) => d.context['count'])).toEqual([10, 10]);
    expect(new Set(result.map((d) => d.dedupKey)).size).toBe(2);
  });

  it('does not add up two roles, and counts the sessions of one role together', async () => {
    const mixed = [...repeated(denied(), 5, 30, 'batch'), ...repeated(denied(asRole('ReportingRole')), 5, 30, 'reporting')];
    expect(await drafts(mixed)).toEqual([]);
    const sessions = repeated(denied(), 10, 30, 'session').map((e, i) => ({ ...e, principalArn: `arn:aws:sts::111122223333:assumed-role/InvoiceBatchRole/i-${i}` }));
    const [draft] = await drafts(sessions);
    expect((draft?.context['principalArns'] as string[]).length).toBe(10);
  });

  it('ignores errors other than AccessDenied* and successful calls', async () => {
    const invalidState = repeated(denied({ errorCode: 'KMSInvalidStateException', errorMessage: `${KEY_ARN} is pending deletion.` }), 10, 30, 'state');
    const successes = repeated(denied({ errorCode: undefined, errorMessage: undefined }), 10, 30, 'ok');
    expect(successes[0]?.outcome).toBe('success');
    expect(await drafts([...invalidState, ...successes])).toEqual([]);
  });

  it('caps the event ids it carries', async () => {
    const [draft] = await drafts(repeated(denied(), 60, 5, 'many'));
    expect(draft?.eventIds).toHaveLength(50);
    expect(draft?.context).toMatchObject({ count: 60, eventIdsTruncated: 10 });
  });

  it('says when the denied caller is in another account', async () => {
    const [draft] = await drafts(repeated(fixtureEvent('xacct-decrypt-stranger-denied'), 10, 10, 'stranger'));
    expect(draft?.summary).toContain('was denied 10 times');
    expect(draft?.summary).toMatch(/, from another account\.$/);
    expect(draft?.principalAccountId).toBe('999988887777');
  });

  it('works without resources: the key ARN from the request, else the alias the caller named', async () => {
    const [byArn] = await drafts(repeated(denied({ resources: null }), 10, 30, 'arn'));
    expect(byArn?.keyArn).toBe(KEY_ARN);
    const byAlias = denied((r) => {
      r['resources'] = null;
      (r['requestParameters'] as JsonRecord)['keyId'] = 'alias/invoices';
    });
    const [draft] = await drafts(repeated(byAlias, 10, 30, 'alias'));
    expect(draft?.keyArn).toBeNull();
    expect(draft?.summary).toContain('on key alias/invoices');
  });
});
