import { describe, expect, it } from 'vitest';
import { chunkBatches } from '../../../src/alerts/batches.js';
import { backoffDelay, deliverWithRetry, entryError, isRetryableError, type AttemptResult } from '../../../src/alerts/retry.js';

const fast = { baseDelayMs: 1, maxDelayMs: 4 };
const entries = (...ids: string[]) => ids.map((findingId) => ({ findingId }));

describe('deliverWithRetry', () => {
  it('resends only the entries that failed, until they go through', async () => {
    const seen: string[][] = [];
    const failuresLeft = new Map([['b', 2]]);
    const result = await deliverWithRetry(entries('a', 'b', 'c'), async (pending): Promise<AttemptResult> => {
      seen.push(pending.map((p) => p.findingId));
      const outcome: AttemptResult = { delivered: [], failed: [] };
      for (const { findingId } of pending) {
        const left = failuresLeft.get(findingId) ?? 0;
        if (left > 0) {
          failuresLeft.set(findingId, left - 1);
          outcome.failed.push({ findingId, error: entryError('InternalError', 'try later'), retryable: true });
        } else outcome.delivered.push({ findingId, messageId: `m-${findingId}` });
      }
      return outcome;
    }, fast);
    expect(seen).toEqual([['a', 'b', 'c'], ['b'], ['b']]);
    expect(result.failed).toEqual([]);
    expect(result.delivered.map((d) => d.findingId).sort()).toEqual(['a', 'b', 'c']);
  });

  it('gives up after maxAttempts and says how many were made', async () => {
    let calls = 0;
    const result = await deliverWithRetry(entries('a'), async () => {
      calls += 1;
      return { delivered: [], failed: [{ findingId: 'a', error: entryError('InternalError', 'down'), retryable: true }] };
    }, { ...fast, maxAttempts: 3 });
    expect(calls).toBe(3);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]?.error.message).toBe('InternalError: down (after 3 attempts)');
  });

  it('does not resend an entry whose error a retry cannot fix', async () => {
    let calls = 0;
    const result = await deliverWithRetry(entries('a'), async () => {
      calls += 1;
      return { delivered: [], failed: [{ findingId: 'a', error: entryError('InvalidParameter', 'Message too long'), retryable: false }] };
    }, fast);
    expect(calls).toBe(1);
    expect(result.failed[0]?.error.message).toBe('InvalidParameter: Message too long (after 1 attempt)');
  });

  it('resends an entry the response forgot, and all entries of an attempt that threw a network error', async () => {
    let calls = 0;
    const result = await deliverWithRetry(entries('a', 'b'), async (pending): Promise<AttemptResult> => {
      calls += 1;
      if (calls === 1) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
      if (calls === 2) return { delivered: [{ findingId: 'a', messageId: 'm-a' }], failed: [] };
      return { delivered: pending.map((p) => ({ findingId: p.findingId, messageId: `m-${p.findingId}` })), failed: [] };
    }, fast);
    expect(calls).toBe(3);
    expect(result.delivered.map((d) => d.findingId)).toEqual(['a', 'b']);
  });

  it('does not resend after a client error such as NotFound', async () => {
    let calls = 0;
    const notFound = Object.assign(new Error('Topic does not exist'), { name: 'NotFoundException', $fault: 'client', $metadata: { httpStatusCode: 404 } });
    const result = await deliverWithRetry(entries('a'), async () => {
      calls += 1;
      throw notFound;
    }, fast);
    expect(calls).toBe(1);
    expect(result.failed[0]?.error.message).toBe('NotFoundException: Topic does not exist (after 1 attempt)');
  });
});

describe('isRetryableError', () => {
  it('retries throttling, server faults and network errors, not other client errors', () => {
    expect(isRetryableError(Object.assign(new Error('x'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }))).toBe(true);
    expect(isRetryableError(Object.assign(new Error('x'), { name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 } }))).toBe(true);
    expect(isRetryableError(new Error('socket hang up'))).toBe(true);
    expect(isRetryableError(Object.assign(new Error('x'), { name: 'AuthorizationErrorException', $fault: 'client', $metadata: { httpStatusCode: 403 } }))).toBe(false);
  });
});

describe('backoffDelay', () => {
  it('doubles from the base delay, with jitter in the upper half, up to the ceiling', () => {
    for (let i = 0; i < 50; i++) {
      expect(backoffDelay(1, 200, 5_000)).toBeGreaterThanOrEqual(100);
      expect(backoffDelay(1, 200, 5_000)).toBeLessThanOrEqual(200);
      expect(backoffDelay(3, 200, 5_000)).toBeGreaterThanOrEqual(400);
      expect(backoffDelay(3, 200, 5_000)).toBeLessThanOrEqual(800);
      expect(backoffDelay(10, 200, 5_000)).toBeLessThanOrEqual(5_000);
    }
  });
});

describe('chunkBatches', () => {
  it('keeps batches within the entry count and the byte total, in order', () => {
    const sizes = [100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 200, 250, 50];
    const batches = chunkBatches(sizes.map((bytes, i) => ({ i, bytes })), 10, 300, (x) => x.bytes);
    for (const batch of batches) {
      expect(batch.length).toBeLessThanOrEqual(10);
      expect(batch.reduce((n, x) => n + x.bytes, 0)).toBeLessThanOrEqual(300);
    }
    expect(batches.flat().map((x) => x.i)).toEqual(sizes.map((_, i) => i));
  });

  it('splits by count alone when the items are small', () => {
    expect(chunkBatches(Array.from({ length: 25 }, (_, i) => i), 10, 1_000_000, () => 1).map((b) => b.length)).toEqual([10, 10, 5]);
  });
});
