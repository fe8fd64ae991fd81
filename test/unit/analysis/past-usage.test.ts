import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pastUsage, UnknownKeyError, type PastUsageReport } from '../../../src/analysis/past-usage.js';
import { renderPastUsageHtml } from '../../../src/analysis/past-usage-html.js';
import { renderPastUsageMarkdown } from '../../../src/analysis/past-usage-markdown.js';
import { pastUsageVerdict } from '../../../src/analysis/past-usage-verdict.js';
import { KeytrailConfigSchema } from '../../../src/config/schema.js';
import { KeytrailError, UsageError } from '../../../src/errors.js';
import { KeytrailDb } from '../../../src/store/database.js';
import {
  ACME_ROLE,
  ALIAS,
  ALIAS_ARN,
  ALICE,
  APP_ROLE,
  K1,
  K1_ID,
  K2,
  K3,
  K3_ID,
  OWNER,
  SEED_CONFIG,
  seedPastUsage,
  VENDOR_ACCOUNT,
} from '../../fixtures/analysis/past-usage-seed.js';

// Every expected number below is counted by hand from the table in past-usage-seed.ts.
const config = KeytrailConfigSchema.parse(SEED_CONFIG);

let db: KeytrailDb;
let k1: PastUsageReport;
beforeAll(async () => {
  db = await KeytrailDb.open({ path: ':memory:', threads: 1 });
  await seedPastUsage(db);
  // The window is the 10 days ending on the day of the last stored event (03-10): 03-01 to 03-10.
  k1 = await pastUsage(db, K1, { days: 10, config });
});
afterAll(() => db.close());

describe('pastUsage: a key in use, against the hand count', () => {
  it('resolves the key and what the configuration says about it', () => {
    expect(k1.key).toEqual({
      ref: K1,
      resolvedFrom: 'key-arn',
      arn: K1,
      id: K1_ID,
      accountId: OWNER,
      region: 'us-west-2',
      alias: null,
      // u01 (UpdateAlias to K1) and k15 (Encrypt through it); a01 set it to K2 and is not K1's row.
      aliases: [{ name: ALIAS, lastSeen: '2024-03-07T09:00:00.000Z' }],
      declared: { description: 'app data', neverDelete: false, vendors: ['Acme'] },
    });
  });

  it('takes the window back from the last stored event and finds the evidence gap of 03-05', () => {
    expect(k1.window).toEqual({
      days: 10,
      firstDay: '2024-03-01',
      lastDay: '2024-03-10',
      from: '2024-03-01T00:00:00.000Z',
      to: '2024-03-11T00:00:00.000Z',
      untilGiven: false,
    });
    expect(k1.evidence).toEqual({
      firstEvent: '2024-03-01T08:00:00.000Z', // a01, another key's event
      lastEvent: '2024-03-10T09:00:00.000Z', // k22
      daysWithEvents: 9, // 03-04 counts: b01 is K2's, but it is evidence
      gaps: [{ from: '2024-03-05', to: '2024-03-05', days: 1, position: 'within-evidence' }],
      gapDays: 1,
      coversWindow: false,
    });
  });

  it('counts calls, uses and errors; the ReEncrypt into the key counts, the owner’s copy of k06 does not', () => {
    // Calls: k01–k22 (k14 logged under K2) + u01 = 23; not r01 (lifecycle), not x01 (no key logged).
    // Uses: Encrypt k02 k15, GenerateDataKey k03 k12 k13, GenerateDataKeyWithoutPlaintext k07,
    // Decrypt k04 k05 k06 k08 k10 k11 k16 k17 k20, ReEncrypt k14 = 16. Failed: k08 k13 k17.
    expect(k1.totals).toEqual({
      calls: 23,
      uses: 16,
      failedUses: 3,
      errors: 3,
      firstCall: '2024-03-01T09:00:00.000Z', // k01
      lastCall: '2024-03-10T09:00:00.000Z', // k22
      firstUse: '2024-03-01T10:00:00.000Z', // k02
      lastUse: '2024-03-09T09:00:00.000Z', // k20
    });
    expect(k1.operations).toEqual([
      { operation: 'Decrypt', calls: 9, uses: 9, errors: 2 },
      { operation: 'GenerateDataKey', calls: 3, uses: 3, errors: 1 },
      { operation: 'Encrypt', calls: 2, uses: 2, errors: 0 },
      { operation: 'CancelKeyDeletion', calls: 1, uses: 0, errors: 0 },
      { operation: 'CreateKey', calls: 1, uses: 0, errors: 0 },
      { operation: 'DescribeKey', calls: 1, uses: 0, errors: 0 },
      { operation: 'DisableKey', calls: 1, uses: 0, errors: 0 },
      { operation: 'EnableKey', calls: 1, uses: 0, errors: 0 },
      { operation: 'GenerateDataKeyWithoutPlaintext', calls: 1, uses: 1, errors: 0 },
      { operation: 'ReEncrypt', calls: 1, uses: 1, errors: 0 },
      { operation: 'ScheduleKeyDeletion', calls: 1, uses: 0, errors: 0 },
      { operation: 'UpdateAlias', calls: 1, uses: 0, errors: 0 },
    ]);
    expect(k1.errors).toEqual([
      { errorCode: 'AccessDeniedException', calls: 2, lastSeen: '2024-03-06T11:00:00.000Z' }, // k08 k13
      { errorCode: 'InvalidCiphertextException', calls: 1, lastSeen: '2024-03-08T08:00:00.000Z' }, // k17
    ]);
  });

  it('lists principals with account, type, counts and first/last call; an assumed role is one principal', () => {
    expect(k1.principals).toEqual([
      {
        // k03 k04 k05 k07 k10 k11 k14 k16 k17 k20; sessions s1 and s2
        arn: APP_ROLE,
        name: 'role/AppRole',
        type: 'AssumedRole',
        accountId: OWNER,
        sessions: 2,
        calls: 10,
        uses: 10,
        errors: 1,
        firstCall: '2024-03-01T11:00:00.000Z',
        lastCall: '2024-03-09T09:00:00.000Z',
        lastUse: '2024-03-09T09:00:00.000Z',
      },
      {
        // k01 k02 k09 u01 k15 k18 k19 k21 k22
        arn: ALICE,
        name: 'user/Alice',
        type: 'IAMUser',
        accountId: OWNER,
        sessions: 0,
        calls: 9,
        uses: 2,
        errors: 0,
        firstCall: '2024-03-01T09:00:00.000Z',
        lastCall: '2024-03-10T09:00:00.000Z',
        lastUse: '2024-03-07T09:00:00.000Z',
      },
      {
        // k06 (two logged copies, one call) k08 k12 k13
        arn: ACME_ROLE,
        name: 'role/AcmeReader',
        type: 'AssumedRole',
        accountId: VENDOR_ACCOUNT,
        sessions: 1,
        calls: 4,
        uses: 4,
        errors: 2,
        firstCall: '2024-03-02T10:00:00.000Z',
        lastCall: '2024-03-06T11:00:00.000Z',
        lastUse: '2024-03-06T11:00:00.000Z',
      },
    ]);
  });

  it('names the external account’s vendor declared for this key', () => {
    expect(k1.externalAccounts).toEqual([
      {
        accountId: VENDOR_ACCOUNT,
        vendor: 'Acme',
        vendorOfOtherKey: null,
        trusted: false,
        principals: 1,
        calls: 4,
        uses: 4,
        errors: 2,
        firstCall: '2024-03-02T10:00:00.000Z',
        lastCall: '2024-03-06T11:00:00.000Z',
      },
    ]);
  });

  it('lists AWS services with up to 3 example resources from the encryption context, most calls first', () => {
    expect(k1.services).toEqual([
      {
        // k03 k04 k05 k16 k17 k20; bucket-c/o4 (1 call) is the fourth resource and is left out
        service: 's3',
        calls: 6,
        uses: 6,
        invokedBy: ['s3.amazonaws.com'],
        exampleResources: [
          { resource: 'arn:aws:s3:::bucket-a/o1', calls: 3 },
          { resource: 'arn:aws:s3:::bucket-a/o2', calls: 1 },
          { resource: 'arn:aws:s3:::bucket-b/o3', calls: 1 },
        ],
      },
      {
        service: 'ebs', // k07 k10 k11
        calls: 3,
        uses: 3,
        invokedBy: [],
        exampleResources: [
          { resource: 'vol-1', calls: 2 },
          { resource: 'vol-2', calls: 1 },
        ],
      },
    ]);
  });

  it('counts calls per day (none on 03-04 for this key, nothing at all on 03-05)', () => {
    expect(k1.daily).toEqual([
      { day: '2024-03-01', calls: 3, uses: 2, errors: 0 },
      { day: '2024-03-02', calls: 3, uses: 3, errors: 0 },
      { day: '2024-03-03', calls: 3, uses: 2, errors: 1 },
      { day: '2024-03-06', calls: 5, uses: 4, errors: 1 },
      { day: '2024-03-07', calls: 3, uses: 3, errors: 0 },
      { day: '2024-03-08', calls: 2, uses: 1, errors: 1 },
      { day: '2024-03-09', calls: 2, uses: 1, errors: 0 },
      { day: '2024-03-10', calls: 2, uses: 0, errors: 0 },
    ]);
  });

  it('counts successful calls that could have left ciphertexts, with ReEncrypt only as destination', () => {
    // Encrypt k02 k15, GenerateDataKey k03 k12 (k13 failed), GenerateDataKeyWithoutPlaintext k07, ReEncrypt k14.
    expect(k1.ciphertexts).toEqual({
      inWindow: 6,
      byOperation: [
        { operation: 'Encrypt', calls: 2 },
        { operation: 'GenerateDataKey', calls: 2 },
        { operation: 'GenerateDataKeyWithoutPlaintext', calls: 1 },
        { operation: 'ReEncrypt', calls: 1 },
      ],
      allStored: 6,
      lastProduced: '2024-03-07T09:00:00.000Z',
    });
    expect(k1.allStored).toEqual({
      calls: 23,
      uses: 16,
      firstCall: '2024-03-01T09:00:00.000Z',
      lastCall: '2024-03-10T09:00:00.000Z',
      lastUse: '2024-03-09T09:00:00.000Z',
    });
  });

  it('reads the lifecycle from events: created, rotated, disabled, enabled, scheduled with its date, cancelled', () => {
    expect(k1.lifecycle).toEqual({
      entries: [
        { time: '2024-03-01T09:00:00.000Z', kind: 'created', event: 'CreateKey', eventId: 'k01', by: ALICE },
        { time: '2024-03-08T12:00:00.000Z', kind: 'rotated', event: 'KMS CMK Rotation', eventId: 'r01', by: null },
        { time: '2024-03-08T13:00:00.000Z', kind: 'disabled', event: 'DisableKey', eventId: 'k18', by: ALICE },
        { time: '2024-03-09T08:00:00.000Z', kind: 'enabled', event: 'EnableKey', eventId: 'k19', by: ALICE },
        {
          time: '2024-03-10T08:00:00.000Z',
          kind: 'deletion-scheduled',
          event: 'ScheduleKeyDeletion',
          eventId: 'k21',
          by: ALICE,
          deletionDate: '2024-03-17T08:00:00.000Z',
          pendingWindowInDays: 7,
        },
        { time: '2024-03-10T09:00:00.000Z', kind: 'deletion-cancelled', event: 'CancelKeyDeletion', eventId: 'k22', by: ALICE },
      ],
      // KMS leaves a key whose deletion was cancelled disabled.
      lastKnownState: 'disabled',
      pendingDeletion: null,
      deletedAt: null,
    });
  });

  it('counts the call through the alias that logged no key apart (x01): it may be this key’s', () => {
    expect(k1.unattributedAliasCalls).toBe(1);
  });

  it('gives a plain verdict: in use, never safe to delete', () => {
    expect(k1.verdict).toMatchObject({
      status: 'in-use',
      headline: 'in use: 16 operations by 3 principals in the last 10 days, 1 external account (vendor Acme) — stored events cover 9 of those days',
      safeToDelete: false,
      note: 'the key is in use: deleting it breaks these callers and leaves their ciphertexts unrecoverable',
    });
    expect(k1.verdict.reasons).toEqual(
      expect.arrayContaining([
        '16 uses of the key in the last 10 days (3 failed): first 2024-03-01T10:00:00Z, last 2024-03-09T09:00:00Z by role/AppRole (111122223333)',
        'external account 444455556666 (vendor Acme): 4 calls (4 uses, 2 failed), last 2024-03-06T11:00:00Z',
        'through AWS services: s3 (6 calls), ebs (3 calls)',
        '1 call in the window named an alias of this key but logged no key: they may have used it',
        'evidence: 9 of the 10 days of the window have stored events; no stored events at all on 2024-03-05',
      ]),
    );
  });

  it('names no vendor for an account declared as a vendor of another key only, and says whose it is', async () => {
    const other = KeytrailConfigSchema.parse({ keys: [{ key_arn: K2, vendors: [{ name: 'Acme', accounts: [VENDOR_ACCOUNT] }] }] });
    const report = await pastUsage(db, K1, { days: 10, config: other });
    expect(report.externalAccounts.map((a) => [a.accountId, a.vendor, a.vendorOfOtherKey, a.trusted])).toEqual([[VENDOR_ACCOUNT, null, 'Acme', false]]);
    expect(report.verdict.headline).toContain('1 external account (undeclared 444455556666 — vendor Acme on another key)');
    expect(report.key.declared).toBeNull();

    const trusting = KeytrailConfigSchema.parse({ trusted_accounts: [VENDOR_ACCOUNT] });
    const trusted = await pastUsage(db, K1, { days: 10, config: trusting });
    expect(trusted.externalAccounts.map((a) => [a.accountId, a.vendor, a.vendorOfOtherKey, a.trusted])).toEqual([[VENDOR_ACCOUNT, null, null, true]]);
    expect(trusted.verdict.headline).toContain('1 external account (trusted 444455556666)');
  });
});

describe('pastUsage: resolving the key through what was logged', () => {
  it('gives the same report for the bare key id', async () => {
    const byId = await pastUsage(db, K1_ID, { days: 10, config });
    expect(byId.key).toMatchObject({ resolvedFrom: 'key-id', arn: K1, id: K1_ID });
    expect({ ...byId, key: null, verdict: byId.verdict.headline }).toEqual({ ...k1, key: null, verdict: k1.verdict.headline });
  });

  it('resolves alias/name and the alias ARN to the key the alias named last (a call through it on 03-07)', async () => {
    for (const ref of [ALIAS, ALIAS_ARN]) {
      const report = await pastUsage(db, ref, { days: 10, config });
      expect(report.key).toMatchObject({ ref, resolvedFrom: 'alias', arn: K1, id: K1_ID });
      expect(report.key.alias).toEqual({
        name: ALIAS,
        arn: ref === ALIAS_ARN ? ALIAS_ARN : null,
        observedAt: '2024-03-07T09:00:00.000Z', // k15
        observedBy: 'call',
        otherKeys: [{ key: K2, lastSeen: '2024-03-01T08:00:00.000Z' }], // a01
        deletedAt: null,
      });
      expect(report.totals).toEqual(k1.totals);
    }
  });

  it('follows UpdateAlias: the alias named K2 until u01 retargeted it to K1 on 03-06', async () => {
    const before = await pastUsage(db, ALIAS, { days: 10, until: '2024-03-04', config });
    expect(before.key).toMatchObject({ arn: K2, alias: { observedBy: 'CreateAlias', observedAt: '2024-03-01T08:00:00.000Z' } });
    // K2 from 02-24 to 03-04: a01 (CreateAlias) and b01 (Decrypt); k14 (ReEncrypt from K2) is on 03-07.
    expect(before.totals).toMatchObject({ calls: 2, uses: 1 });

    const after = await pastUsage(db, ALIAS, { days: 10, until: '2024-03-06', config });
    expect(after.key).toMatchObject({ arn: K1, alias: { observedBy: 'UpdateAlias', observedAt: '2024-03-06T07:00:00.000Z' } });
  });

  it('rejects an unknown key with a KeytrailError that names what was searched', async () => {
    const unknownArn = 'arn:aws:kms:us-west-2:111122223333:key/00000000-0000-4000-8000-000000000000';
    const attempts = [
      [unknownArn, /no stored event names arn:aws:kms:.*searched kms_events\.key_id = 00000000-0000-4000-8000-000000000000.*events are stored from 2024-03-01 to 2024-03-10/],
      ['00000000-0000-4000-8000-000000000000', /no stored event names key id 00000000-0000-4000-8000-000000000000: searched kms_events\.key_id/],
      ['alias/nope', /no stored event shows which key alias\/nope names: searched kms_events\.alias_name for CreateAlias\/UpdateAlias/],
      ['arn:aws:kms:eu-west-1:111122223333:alias/app-key', /in account 111122223333, eu-west-1/],
    ] as const;
    for (const [ref, message] of attempts) {
      const error = await pastUsage(db, ref, { config }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnknownKeyError);
      expect(error).toBeInstanceOf(KeytrailError);
      expect((error as Error).message).toMatch(message);
    }
    await expect(pastUsage(db, 'arn:aws:s3:::bucket', { config })).rejects.toThrow(UsageError);
    await expect(pastUsage(db, K1, { until: 'last tuesday', config })).rejects.toThrow(/until: not a date/);
    await expect(pastUsage(db, K1, { days: 0, config })).rejects.toThrow(/days: expected a positive whole number/);
  });
});

describe('pastUsage: never claims more than the evidence', () => {
  it('a key without events in a fully covered window: no use seen, safe to delete with a warning', async () => {
    // K3 was created on 03-02 and never used; 03-06 to 03-10 all have stored events.
    const report = await pastUsage(db, K3, { days: 5, config });
    expect(report.window).toMatchObject({ firstDay: '2024-03-06', lastDay: '2024-03-10' });
    expect(report.evidence).toMatchObject({ daysWithEvents: 5, gaps: [], coversWindow: true, firstEvent: '2024-03-01T08:00:00.000Z' });
    expect(report.totals).toMatchObject({ calls: 0, uses: 0, errors: 0, firstUse: null, lastUse: null });
    expect([report.operations, report.principals, report.services, report.daily]).toEqual([[], [], [], []]);
    expect(report.allStored).toMatchObject({ calls: 1, uses: 0, lastUse: null });
    expect(report.lifecycle.entries.map((e) => [e.kind, e.eventId])).toEqual([['created', 'c01']]);
    expect(report.verdict).toMatchObject({
      status: 'no-use-seen',
      headline: 'no use seen in 5 days of evidence; evidence starts on 2024-03-01',
      safeToDelete: true,
      note: 'no use seen; deletion still irreversible — consider disabling first',
    });
  });

  it('a window larger than the evidence: says how many days of evidence there are, and where it starts', async () => {
    const report = await pastUsage(db, K3_ID, { days: 90, config });
    expect(report.window).toMatchObject({ firstDay: '2023-12-12', lastDay: '2024-03-10' });
    expect(report.evidence).toMatchObject({
      daysWithEvents: 9,
      gapDays: 81,
      gaps: [
        { from: '2023-12-12', to: '2024-02-29', days: 80, position: 'before-evidence' },
        { from: '2024-03-05', to: '2024-03-05', days: 1, position: 'within-evidence' },
      ],
    });
    expect(report.verdict).toMatchObject({
      status: 'no-use-seen',
      headline: 'no use seen in the 9 days of evidence available (window asked: 90 days; evidence starts on 2024-03-01; 1 day in between without any stored events)',
      safeToDelete: false,
    });
    expect(report.verdict.note).toMatch(/does not cover every day of the window/);
  });

  it('a gap inside the window is enough to refuse deletion', async () => {
    const report = await pastUsage(db, K3, { days: 5, until: '2024-03-08', config });
    expect(report.verdict).toMatchObject({
      headline: 'no use seen in the 4 days of evidence available (window asked: 5 days; 1 day without any stored events)',
      safeToDelete: false,
    });
  });

  it('a window after all stored events: no evidence, not "no use"', async () => {
    const report = await pastUsage(db, K3, { days: 10, until: '2024-04-30T12:00:00Z', config });
    expect(report.window).toMatchObject({ firstDay: '2024-04-21', lastDay: '2024-04-30', untilGiven: true });
    expect(report.evidence).toMatchObject({ daysWithEvents: 0, gaps: [{ from: '2024-04-21', to: '2024-04-30', days: 10, position: 'after-evidence' }] });
    expect(report.verdict).toMatchObject({
      status: 'no-evidence',
      headline: 'no evidence: nothing is stored for 2024-04-21 to 2024-04-30 (stored events run from 2024-03-01 to 2024-03-10)',
      safeToDelete: false,
    });
  });

  it('a key in use over a window larger than the evidence says how much of the window the evidence covers', async () => {
    const report = await pastUsage(db, K1, { days: 90, config });
    expect(report.totals).toEqual(k1.totals);
    expect(report.verdict.headline).toBe(
      'in use: 16 operations by 3 principals in the last 90 days, 1 external account (vendor Acme) — stored events cover 9 of those days',
    );
  });

  it('never_delete in the configuration keeps deletion unsafe even without use', async () => {
    const guarded = KeytrailConfigSchema.parse({ keys: [{ key_id: K3_ID, never_delete: true }] });
    const report = await pastUsage(db, K3, { days: 5, config: guarded });
    expect(report.verdict).toMatchObject({ status: 'no-use-seen', safeToDelete: false, note: 'the configuration declares this key never_delete' });
  });
});

describe('pastUsageVerdict', () => {
  it('says when the key is already deleted or pending deletion', () => {
    const deleted = pastUsageVerdict({ ...k1, lifecycle: { ...k1.lifecycle, lastKnownState: 'deleted', deletedAt: '2024-03-12T00:00:00.000Z' } });
    expect(deleted.headline).toMatch(/; the key was deleted on 2024-03-12$/);
    expect(deleted).toMatchObject({ safeToDelete: false, note: 'the key is already deleted' });

    const pending = pastUsageVerdict({
      ...k1,
      lifecycle: { ...k1.lifecycle, lastKnownState: 'pending-deletion', pendingDeletion: { scheduledAt: '2024-03-10T08:00:00.000Z', deletionDate: '2024-03-17T08:00:00.000Z' } },
    });
    expect(pending.headline).toMatch(/; the key is pending deletion until 2024-03-17$/);
    expect(pending.reasons).toContain(
      'the key is pending deletion (scheduled 2024-03-10T08:00:00Z, deletion date 2024-03-17T08:00:00Z): CancelKeyDeletion still recovers it',
    );
  });

  it('does not call a covered window without use safe while a call through the key’s alias logged no key', () => {
    const quiet = {
      ...k1,
      totals: { ...k1.totals, calls: 0, uses: 0, failedUses: 0, errors: 0, firstUse: null, lastUse: null, firstCall: null, lastCall: null },
      operations: [],
      principals: [],
      externalAccounts: [],
      services: [],
      evidence: { ...k1.evidence, daysWithEvents: 10, gaps: [], gapDays: 0, coversWindow: true },
    };
    expect(pastUsageVerdict({ ...quiet, unattributedAliasCalls: 0 })).toMatchObject({ status: 'no-use-seen', safeToDelete: true });
    expect(pastUsageVerdict(quiet)).toMatchObject({
      status: 'no-use-seen',
      safeToDelete: false,
      note: 'calls through an alias of the key may have used it',
    });
  });
});

describe('past-usage renderers', () => {
  it('Markdown puts the verdict first, then the evidence, then the tables', () => {
    const md = renderPastUsageMarkdown(k1);
    const headings = md.split('\n').filter((l) => l.startsWith('#'));
    expect(headings).toEqual([
      `# Past usage of ${K1}`,
      '## Verdict',
      '## Evidence',
      '## Key',
      '## Calls by operation',
      '## Principals',
      '## External accounts',
      '## AWS services',
      '## Errors',
      '## Ciphertexts possibly outstanding',
      '## Lifecycle',
      '## Daily calls',
    ]);
    expect(md).toContain(`**${k1.verdict.headline}**`);
    expect(md).toContain('| Days with no stored events at all | 2024-03-05 |');
    expect(md).toContain(`| ${APP_ROLE} (2 sessions) | AssumedRole | ${OWNER} | 10 | 10 | 1 | 2024-03-01T11:00:00Z | 2024-03-09T09:00:00Z |`);
    expect(md).toContain('| s3 | 6 | 6 | s3.amazonaws.com | arn:aws:s3:::bucket-a/o1 (3), arn:aws:s3:::bucket-a/o2 (1), arn:aws:s3:::bucket-b/o3 (1) |');
  });

  it('HTML is one self-contained page with every value escaped', () => {
    const hostile = { ...k1, key: { ...k1.key, ref: '<script>alert(1)</script>' } };
    const html = renderPastUsageHtml(hostile);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|\b(src|href)=/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<p class="headline in-use">in use: 16 operations by 3 principals');
  });
});
