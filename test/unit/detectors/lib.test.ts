import { describe, expect, it } from 'vitest';
import { parseAwsDate } from '../../../src/detectors/lib/aws-dates.js';
import { describeUsage } from '../../../src/detectors/lib/key-impact.js';
import { usageFixture } from './helpers.js';

describe('parseAwsDate', () => {
  it.each([
    ['Apr 12, 2021 18:58:30 PM', '2021-04-12T18:58:30.000Z'],
    ['Nov 2, 2021, 11:25:25 PM', '2021-11-02T23:25:25.000Z'],
    ['Jan 1, 2021 8:00:00 PM', '2021-01-01T20:00:00.000Z'],
    ['Nov 18, 2020, 12:29:18 AM', '2020-11-18T00:29:18.000Z'],
    ['2021-04-12T18:58:30Z', '2021-04-12T18:58:30.000Z'],
    ['2021-04-12T20:58:30+02:00', '2021-04-12T18:58:30.000Z'],
    ['2021-04-12', '2021-04-12T00:00:00.000Z'],
    [1598304792.0, '2020-08-24T21:33:12.000Z'],
  ])('reads %s as UTC', (input, expected) => {
    expect(parseAwsDate(input)).toBe(expected);
  });

  it('gives null for what it cannot read', () => {
    expect(parseAwsDate('soon')).toBeNull();
    expect(parseAwsDate(null)).toBeNull();
    expect(parseAwsDate('Foo 1, 2021 1:00:00 PM')).toBeNull();
  });
});

describe('describeUsage', () => {
  it('says when the stored evidence starts inside the window', () => {
    expect(describeUsage(usageFixture({ evidenceFrom: '2021-03-01T00:00:00.000Z' }))).toBe(
      'No calls on the key in the 90 days before (events stored only since 2021-03-01).',
    );
  });

  it('names external accounts with their vendor', () => {
    const text = describeUsage(
      usageFixture({
        totalCalls: 5,
        cryptographicCalls: 4,
        principals: [
          { arn: 'a', accountId: '111122223333', calls: 3 },
          { arn: 'b', accountId: '444455556666', calls: 2 },
        ],
        accounts: [
          { accountId: '111122223333', calls: 3, external: false, vendor: null },
          { accountId: '444455556666', calls: 2, external: true, vendor: 'Acme' },
        ],
        lastCryptographicUse: '2021-03-20T00:00:00.000Z',
      }),
    );
    expect(text).toBe(
      'In the 90 days before: 5 calls (4 cryptographic) by 2 principals from 2 accounts, 1 external (Acme 444455556666); last cryptographic use 2021-03-20T00:00:00.000Z.',
    );
  });

  it('says when there is no evidence at all', () => {
    expect(describeUsage(usageFixture({ evidenceFrom: null, evidenceTo: null }))).toBe('Past usage unknown: no events are stored.');
    expect(describeUsage(null)).toBe('Past usage unknown: the event names no key.');
  });
});
