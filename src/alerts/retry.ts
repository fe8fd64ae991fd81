import type { DeliveredFinding, SinkResult } from './sink.js';

/** Backoff for entries a service failed. The AWS SDK's own retries (3 attempts by default) run inside each attempt. */
export interface RetryOptions {
  /** Attempts per entry, the first included (default 5). */
  maxAttempts?: number;
  /** Delay before the first retry; doubled for each one after (default 200 ms). */
  baseDelayMs?: number;
  /** Ceiling for one delay (default 5 s). */
  maxDelayMs?: number;
}

/** 5 attempts, 200 ms doubling to at most 5 s: about 3 s of waiting before a finding is reported undelivered. */
export const DEFAULT_RETRY: Required<RetryOptions> = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5_000 };

/** An entry one attempt did not deliver; `retryable: false` for errors a retry cannot fix (bad input, no access). */
export interface AttemptFailure {
  findingId: string;
  error: Error;
  retryable: boolean;
}

export interface AttemptResult {
  delivered: DeliveredFinding[];
  failed: AttemptFailure[];
}

/**
 * Send `entries` with `attempt`, then resend those that failed with a retryable error after an
 * exponential, jittered delay, until all are delivered or `maxAttempts` is reached. An entry that an
 * attempt neither delivers nor fails counts as failed, and a thrown error fails the whole attempt:
 * every entry ends up in the result, none is dropped.
 */
export async function deliverWithRetry<E extends { findingId: string }>(
  entries: readonly E[],
  attempt: (pending: E[]) => Promise<AttemptResult>,
  options: RetryOptions = {},
  onRetry?: (info: { attempt: number; delayMs: number; failures: AttemptFailure[] }) => void,
): Promise<SinkResult> {
  const { maxAttempts, baseDelayMs, maxDelayMs } = { ...DEFAULT_RETRY, ...options };
  const delivered: DeliveredFinding[] = [];
  const failed: SinkResult['failed'] = [];
  let pending = [...new Map(entries.map((e) => [e.findingId, e])).values()];

  for (let attemptNo = 1; pending.length > 0; attemptNo++) {
    const outcome = await attemptSafely(pending, attempt);
    const retry: AttemptFailure[] = [];
    for (const failure of outcome.failed) {
      if (failure.retryable && attemptNo < maxAttempts) retry.push(failure);
      else failed.push({ findingId: failure.findingId, error: withAttempts(failure.error, attemptNo) });
    }
    delivered.push(...outcome.delivered);
    if (retry.length === 0) break;
    const delayMs = backoffDelay(attemptNo, baseDelayMs, maxDelayMs);
    onRetry?.({ attempt: attemptNo, delayMs, failures: retry });
    await sleep(delayMs);
    const again = new Set(retry.map((f) => f.findingId));
    pending = pending.filter((e) => again.has(e.findingId));
  }
  return { delivered, failed };
}

async function attemptSafely<E extends { findingId: string }>(
  pending: E[],
  attempt: (pending: E[]) => Promise<AttemptResult>,
): Promise<AttemptResult> {
  let outcome: AttemptResult;
  try {
    outcome = await attempt(pending);
  } catch (error) {
    const err = toError(error);
    const retryable = isRetryableError(error);
    return { delivered: [], failed: pending.map(({ findingId }) => ({ findingId, error: err, retryable })) };
  }
  // A response that leaves an entry out is a service bug or a protocol mismatch; resend that entry.
  const wanted = new Set(pending.map((e) => e.findingId));
  const seen = new Set<string>();
  const firstMention = (findingId: string): boolean => {
    if (!wanted.has(findingId) || seen.has(findingId)) return false;
    seen.add(findingId);
    return true;
  };
  const delivered = outcome.delivered.filter((d) => firstMention(d.findingId));
  const failed = outcome.failed.filter((f) => firstMention(f.findingId));
  for (const findingId of wanted) {
    if (!seen.has(findingId)) {
      failed.push({ findingId, error: new Error('the response did not mention this entry'), retryable: true });
    }
  }
  return { delivered, failed };
}

/** `base * 2^(n-1)`, capped, with the upper half jittered so retries from concurrent Lambdas spread out. */
export function backoffDelay(retryNo: number, baseDelayMs: number, maxDelayMs: number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (retryNo - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

const RETRYABLE_ERROR_NAMES = new Set([
  'InternalError',
  'InternalFailure',
  'InternalErrorException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'KMSThrottlingException',
  'TimeoutError',
  'RequestTimeout',
]);

/**
 * Whether a thrown SDK error may succeed on a later attempt: throttling, 5xx, and network errors
 * (which carry no `$metadata.httpStatusCode`). A 4xx such as NotFound or AuthorizationError will not.
 */
export function isRetryableError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: unknown; $retryable?: unknown; $fault?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (e.$retryable) return true;
  if (typeof e.name === 'string' && RETRYABLE_ERROR_NAMES.has(e.name)) return true;
  if (e.$fault === 'server') return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number') return status >= 500 || status === 429;
  return true;
}

function withAttempts(error: Error, attempts: number): Error {
  const prefix = error.name === 'Error' ? '' : `${error.name}: `;
  return new Error(`${prefix}${error.message} (after ${attempts} attempt${attempts === 1 ? '' : 's'})`, { cause: error });
}

/** The error for one entry a batch response rejected: named for the service's error code. */
export function entryError(code: string | undefined, message: string | undefined): Error {
  const error = new Error(message ?? 'no message from the service');
  error.name = code ?? 'UnknownError';
  return error;
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
