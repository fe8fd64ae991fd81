import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usageSummary } from '../../../src/analysis/usage-summary.js';
import { KeytrailConfigSchema } from '../../../src/config/schema.js';
import { KeytrailDb } from '../../../src/store/database.js';
import { EventStore } from '../../../src/store/event-store.js';
import { corpusEvent, KEY_ARN, KEY_ID, lifecycleKmsEvent } from '../detectors/helpers.js';

const OTHER_KEY = 'arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321';
const config = KeytrailConfigSchema.parse({
  trusted_accounts: ['222233334444'],
  keys: [{ key_arn: KEY_ARN, vendors: [{ name: 'Acme', accounts: ['444455556666'] }] }],
});
const options = { before: '2024-04-01T00:00:00Z', days: 30, config };

/** Decrypt (corpus line 9) on the corpus key by Alice, varied. */
function decrypt(id: string, time: string, patch: (r: Record<string, unknown>) => void = () => {}) {
  return corpusEvent(9, (r) => {
    r['eventID'] = id;
    r['eventTime'] = time;
    patch(r);
  });
}

let db: KeytrailDb;
beforeAll(async () => {
  db = await KeytrailDb.open({ path: ':memory:', threads: 1 });
  await new EventStore(db).insertEvents([
    // In the window (2024-03-02 up to, not including, 2024-04-01):
    decrypt('u1', '2024-03-10T00:00:00Z', (r) => {
      r['requestParameters'] = { keyId: KEY_ARN, encryptionContext: { 'aws:s3:arn': 'arn:aws:s3:::bucket/object' } };
    }),
    decrypt('u2', '2024-03-15T00:00:00Z', (r) => {
      r['userIdentity'] = { type: 'AssumedRole', arn: 'arn:aws:sts::444455556666:assumed-role/AcmeReader/s1', accountId: '444455556666' };
    }),
    decrypt('u3', '2024-03-20T00:00:00Z', (r) => {
      r['eventName'] = 'GenerateDataKey';
      r['userIdentity'] = { type: 'IAMUser', arn: 'arn:aws:iam::222233334444:user/Bob', accountId: '222233334444' };
      r['errorCode'] = 'AccessDeniedException';
      r['errorMessage'] = 'not authorized';
    }),
    decrypt('u4', '2024-03-25T00:00:00Z', (r) => {
      r['eventName'] = 'DescribeKey';
      r['requestParameters'] = { keyId: KEY_ARN };
    }),
    // ReEncrypt from another key into this one: this key is the destination, in resources[1].
    decrypt('u5', '2024-03-26T00:00:00Z', (r) => {
      r['eventName'] = 'ReEncrypt';
      r['requestParameters'] = { sourceKeyId: OTHER_KEY, destinationKeyId: KEY_ARN };
      r['resources'] = [
        { accountId: '111122223333', type: 'AWS::KMS::Key', ARN: OTHER_KEY },
        { accountId: '111122223333', type: 'AWS::KMS::Key', ARN: KEY_ARN },
      ];
    }),
    // An older record without resources, naming the key by bare id.
    decrypt('u10', '2024-03-11T00:00:00Z', (r) => {
      r['resources'] = null;
      r['requestParameters'] = { keyId: KEY_ID };
    }),
    // Not counted: before the window, at its (exclusive) end, another key, a lifecycle event.
    decrypt('x6', '2024-02-01T00:00:00Z'),
    decrypt('x7', '2024-04-01T00:00:00Z'),
    decrypt('x9', '2024-03-12T00:00:00Z', (r) => {
      r['requestParameters'] = { keyId: OTHER_KEY };
      r['resources'] = [{ accountId: '111122223333', type: 'AWS::KMS::Key', ARN: OTHER_KEY }];
    }),
    lifecycleKmsEvent(1, { id: 'x8', time: '2024-03-28T00:00:00Z' }),
  ]);
});
afterAll(() => db.close());

describe('usageSummary', () => {
  it('counts the key’s calls in the window, against a hand count of the seeded events', async () => {
    const summary = await usageSummary(db, KEY_ARN, options);
    expect(summary).toMatchObject({
      keyArn: KEY_ARN,
      windowDays: 30,
      from: '2024-03-02T00:00:00.000Z',
      to: '2024-04-01T00:00:00.000Z',
      totalCalls: 6, // u1 u2 u3 u4 u5 u10
      cryptographicCalls: 5, // all but DescribeKey
      errors: 1, // u3
      byOperation: { Decrypt: 3, GenerateDataKey: 1, DescribeKey: 1, ReEncrypt: 1 },
      services: ['s3'],
      firstUse: '2024-03-10T00:00:00.000Z',
      lastUse: '2024-03-26T00:00:00.000Z',
      lastCryptographicUse: '2024-03-26T00:00:00.000Z',
      evidenceFrom: '2024-02-01T00:00:00.000Z',
      evidenceTo: '2024-04-01T00:00:00.000Z',
    });
    expect(summary.principals).toEqual([
      { arn: 'arn:aws:iam::111122223333:user/Alice', accountId: '111122223333', calls: 4 },
      { arn: 'arn:aws:iam::222233334444:user/Bob', accountId: '222233334444', calls: 1 },
      { arn: 'arn:aws:sts::444455556666:assumed-role/AcmeReader/s1', accountId: '444455556666', calls: 1 },
    ]);
    expect(summary.accounts).toEqual([
      { accountId: '111122223333', calls: 4, external: false, vendor: null }, // the key owner
      { accountId: '222233334444', calls: 1, external: false, vendor: null }, // trusted
      { accountId: '444455556666', calls: 1, external: true, vendor: 'Acme' },
    ]);
    expect(summary.basis).toContain('successful or failed');
  });

  it('counts by bare key id: every row with that key id (a ReEncrypt into it names another key first)', async () => {
    const summary = await usageSummary(db, KEY_ID, options);
    expect(summary.totalCalls).toBe(5);
    expect(summary.byOperation['ReEncrypt']).toBeUndefined();
  });

  it('says nothing was used in a window without calls, while still reporting the evidence range', async () => {
    const summary = await usageSummary(db, KEY_ARN, { ...options, before: '2024-01-01T00:00:00Z' });
    expect(summary).toMatchObject({ totalCalls: 0, cryptographicCalls: 0, byOperation: {}, firstUse: null, evidenceFrom: '2024-02-01T00:00:00.000Z' });
  });

  it('rejects a bad date', async () => {
    await expect(usageSummary(db, KEY_ARN, { ...options, before: 'yesterday' })).rejects.toThrow(/before: not an ISO-8601 date/);
  });
});
