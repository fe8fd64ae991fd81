import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Ledger } from '../../../src/findings/s3-ledger.js';
import { startS3Server, type S3Server } from '../../support/s3-server.js';

/** The findings ledger's claim protocol against a local S3 with conditional writes. */

const silent = new Logger({ serviceName: 'keytrail-test', logLevel: 'SILENT' });
const SINK = 'sns:arn:aws:sns:us-east-1:123456789012:keytrail-alerts';
const BUCKET = 'ledger-bucket';

let s3: S3Server;
let clock = Date.parse('2024-05-01T00:00:00Z');

function ledger(): S3Ledger {
  return new S3Ledger({ s3: s3.client({ maxAttempts: 1 }), bucket: BUCKET, prefix: 'ledger/', logger: silent, now: () => new Date(clock) });
}

function id(n: number): string {
  return n.toString(16).padStart(32, '0');
}

beforeAll(async () => {
  s3 = await startS3Server();
  await s3.createBucket(BUCKET);
});
afterAll(async () => {
  await s3?.stop();
});

describe('S3Ledger', () => {
  it('lets exactly one of many concurrent attempts claim a finding', async () => {
    const sessions = Array.from({ length: 8 }, (_, i) => ledger().session({ leaseMs: 60_000, owner: `attempt-${i}` }));
    const claimed = await Promise.all(sessions.map((s) => s.unpublished([id(1)], SINK)));
    expect(claimed.filter((ids) => ids.length === 1)).toHaveLength(1);
    expect(sessions.reduce((n, s) => n + s.contended.length, 0)).toBe(7);
    expect(sessions.flatMap((s) => s.contended.map((c) => c.reason))).toEqual(Array(7).fill('lease held by another attempt'));
    // The object is keyed by finding and sink.
    expect(await s3.list(BUCKET, `ledger/${id(1)}/`)).toEqual([`ledger/${id(1)}/${encodeURIComponent(SINK)}`]);
  });

  it('skips a published finding and commits with the claim ETag', async () => {
    const first = ledger().session({ leaseMs: 60_000, owner: 'a' });
    expect(await first.unpublished([id(2), id(3)], SINK)).toEqual([id(2), id(3)]);
    await first.markAllPublished(SINK, [{ findingId: id(2), messageId: 'm-2' }]);
    expect(await first.releaseUnsent()).toBe(1);

    expect((await ledger().read(id(2), SINK))?.entry).toMatchObject({ state: 'published', messageId: 'm-2', owner: 'a' });
    expect((await ledger().read(id(3), SINK))?.entry).toMatchObject({ state: 'released' });

    // A released claim is taken at once; a published one never again.
    const second = ledger().session({ leaseMs: 60_000, owner: 'b' });
    expect(await second.unpublished([id(2), id(3)], SINK)).toEqual([id(3)]);
    expect(second.contended).toEqual([]);
  });

  it('re-claims a pending entry once its lease has passed (a crash between claim and send)', async () => {
    const crashed = ledger().session({ leaseMs: 30_000, owner: 'crashed' });
    expect(await crashed.unpublished([id(4)], SINK)).toEqual([id(4)]);
    // Never sent, never released: the process died.

    const early = ledger().session({ leaseMs: 30_000, owner: 'early retry' });
    expect(await early.unpublished([id(4)], SINK)).toEqual([]);
    expect(early.contended[0]).toMatchObject({ reason: 'lease held by another attempt', leaseUntil: '2024-05-01T00:00:30.000Z' });

    clock += 31_000;
    const late = ledger().session({ leaseMs: 30_000, owner: 'late retry' });
    expect(await late.unpublished([id(4)], SINK)).toEqual([id(4)]);
    await late.markAllPublished(SINK, [{ findingId: id(4), messageId: 'm-4' }]);
    expect((await ledger().read(id(4), SINK))?.entry).toMatchObject({ state: 'published', owner: 'late retry' });

    // The crashed attempt's commit (had it survived) finds its claim taken over and says so.
    await crashed.markAllPublished(SINK, [{ findingId: id(4), messageId: 'm-4-again' }]);
    expect(crashed.lostCommits).toEqual([{ findingId: id(4), sink: SINK }]);
    expect((await ledger().read(id(4), SINK))?.entry).toMatchObject({ state: 'published', messageId: 'm-4' });
  });

  it('treats an unreadable entry as released, and each sink separately', async () => {
    await s3.put(BUCKET, ledger().key(id(5), SINK), 'garbage');
    const session = ledger().session({ leaseMs: 30_000, owner: 'x' });
    expect(await session.unpublished([id(5)], SINK)).toEqual([id(5)]);
    expect(await session.unpublished([id(5)], 'eventbridge:default')).toEqual([id(5)]);
  });

  it('throws, rather than reporting contention, when the bucket does not exist', async () => {
    const wrong = new S3Ledger({ s3: s3.client({ maxAttempts: 1 }), bucket: 'no-such-bucket', prefix: 'ledger/', logger: silent });
    await expect(wrong.session({ leaseMs: 1_000, owner: 'x' }).unpublished([id(6)], SINK)).rejects.toThrow();
  });
});
