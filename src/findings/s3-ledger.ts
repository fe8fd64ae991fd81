import type { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { logger as defaultLogger } from '../logger.js';
import { mapLimit } from '../store/lake-cache.js';
import type { AlertLedger } from './ledger.js';

/**
 * One ledger object, `<prefix><finding_id>/<encodeURIComponent(sink)>`, as JSON. Its state moves
 * `pending` → `published`, or `pending` → `released` → `pending` (another attempt) …; a `pending`
 * entry whose lease has passed may be claimed again.
 */
export const LedgerEntrySchema = z.discriminatedUnion('state', [
  z.object({
    state: z.literal('pending'),
    findingId: z.string(),
    sink: z.string(),
    owner: z.string(),
    claimedAt: z.iso.datetime(),
    /** Until then the owner may be sending; nobody else claims it. */
    leaseUntil: z.iso.datetime(),
  }),
  z.object({
    state: z.literal('published'),
    findingId: z.string(),
    sink: z.string(),
    owner: z.string(),
    publishedAt: z.iso.datetime(),
    messageId: z.string().nullable(),
  }),
  z.object({
    state: z.literal('released'),
    findingId: z.string(),
    sink: z.string(),
    owner: z.string(),
    releasedAt: z.iso.datetime(),
  }),
]);

export type LedgerEntry = z.infer<typeof LedgerEntrySchema>;

export interface S3LedgerOptions {
  s3: S3Client;
  bucket: string;
  /** Ends with `/`: `ledger/`. */
  prefix: string;
  logger?: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  now?: () => Date;
  /** S3 requests in flight at once (default 16). */
  concurrency?: number;
}

/** A (finding, sink) this attempt did not claim because another attempt holds it or just took it. */
export interface Contention {
  findingId: string;
  sink: string;
  reason: 'lease held by another attempt' | 'another attempt claimed it first';
  /** When the other attempt's lease ends (it may be sending until then). */
  leaseUntil: string | null;
}

/**
 * The findings ledger in S3, shared by every container and retry: a finding is sent to a sink only
 * by the attempt that holds its claim, and a claim is an S3 conditional write.
 *
 * Protocol, per (finding_id, sink), object `ledger/<finding_id>/<sink>`:
 *  1. Claim: `PutObject` of a `pending` entry with `IfNoneMatch: '*'`. Success (keep the ETag) →
 *     this attempt may send. `412` → read the entry: `published` → skip; `pending` with a lease in
 *     the future → contended (do not send; fail the record so SQS retries it later); an expired
 *     `pending` or a `released` entry → re-claim with `PutObject` `IfMatch: <its ETag>`; losing that
 *     race (`412`/`409`) → contended.
 *  2. Send.
 *  3. Commit: `PutObject` of `published` with `IfMatch: <claim ETag>`.
 *  4. A claim whose send failed is released (`released`, `IfMatch: <claim ETag>`) so the retry can
 *     take it at once instead of waiting for the lease.
 *
 * Failure modes: a crash between claim and send leaves a `pending` entry that nobody sends until
 * its lease passes (the record is retried; the retry re-claims after the lease). A crash between
 * send and commit sends the finding again after the lease (at least once, never lost). A sender
 * slower than its lease can lose its claim to a retry and both send; the lease is the invocation's
 * remaining time plus a margin, and Lambda stops an invocation at its timeout, so that takes clock
 * skew beyond the margin. An unreadable entry is treated as released (send rather than lose).
 */
export class S3Ledger {
  private readonly log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
  readonly now: () => Date;
  /**
   * Keys this container has seen `published` (a final state): a warm container re-evaluating a
   * window skips them without asking S3 again.
   */
  private readonly published = new Set<string>();

  constructor(readonly options: S3LedgerOptions) {
    this.log = options.logger ?? defaultLogger;
    this.now = options.now ?? (() => new Date());
  }

  /** Object key of one (finding, sink). */
  key(findingId: string, sink: string): string {
    return `${this.options.prefix}${findingId}/${encodeURIComponent(sink)}`;
  }

  /** One publishing attempt: its claims, with a lease of `leaseMs` from each claim. */
  session(options: { leaseMs: number; owner: string }): S3LedgerSession {
    return new S3LedgerSession(this, options.leaseMs, options.owner, this.log);
  }

  /** The entry and its ETag, or null when there is none; `entry` is null when it does not parse. */
  async read(findingId: string, sink: string): Promise<{ entry: LedgerEntry | null; etag: string } | null> {
    return this.readKey(this.key(findingId, sink));
  }

  /** @internal */
  async readKey(key: string): Promise<{ entry: LedgerEntry | null; etag: string } | null> {
    let text: string;
    let etag: string;
    try {
      const response = await this.options.s3.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
      text = (await response.Body?.transformToString('utf8')) ?? '';
      etag = response.ETag ?? '';
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = null;
    }
    const parsed = LedgerEntrySchema.safeParse(value);
    return { entry: parsed.success ? parsed.data : null, etag };
  }

  /** @internal Conditional write; returns the new ETag. */
  async write(key: string, entry: LedgerEntry, condition: { ifNoneMatch: '*' } | { ifMatch: string }): Promise<string> {
    const response = await this.options.s3.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: key,
        Body: JSON.stringify(entry),
        ContentType: 'application/json',
        ...('ifNoneMatch' in condition ? { IfNoneMatch: condition.ifNoneMatch } : { IfMatch: condition.ifMatch }),
      }),
    );
    return response.ETag ?? '';
  }

  /** @internal */
  isKnownPublished(key: string): boolean {
    return this.published.has(key);
  }

  /** @internal */
  rememberPublished(key: string): void {
    this.published.add(key);
  }

  /** @internal */
  get concurrency(): number {
    return this.options.concurrency ?? 16;
  }
}

interface Claim {
  key: string;
  findingId: string;
  sink: string;
  etag: string;
}

/**
 * One attempt's view of the ledger, shaped for `publishFindings`: `unpublished` claims, and
 * `markAllPublished` commits. Call {@link releaseUnsent} when publishing is over, sent or not.
 */
export class S3LedgerSession implements Pick<AlertLedger, 'unpublished' | 'markAllPublished'> {
  /** What this attempt left to others; the caller must retry these later. */
  readonly contended: Contention[] = [];
  /** Commits that found the claim taken over (the finding may have been sent twice). */
  readonly lostCommits: { findingId: string; sink: string }[] = [];
  private readonly claims = new Map<string, Claim>();

  constructor(
    private readonly ledger: S3Ledger,
    private readonly leaseMs: number,
    private readonly owner: string,
    private readonly log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>,
  ) {}

  /** Claim each finding for `sink`; returns the ids this attempt now holds (those it must send). */
  async unpublished(findingIds: readonly string[], sink: string): Promise<string[]> {
    const distinct = [...new Set(findingIds)];
    const outcomes = await mapLimit(distinct, this.ledger.concurrency, (id) => this.claim(id, sink));
    return distinct.filter((_, i) => outcomes[i] === 'claimed');
  }

  /** Commit deliveries: each claim becomes `published`. Never throws: the finding went out. */
  async markAllPublished(sink: string, deliveries: readonly { findingId: string; messageId: string | null }[]): Promise<void> {
    await mapLimit(deliveries, this.ledger.concurrency, async ({ findingId, messageId }) => {
      const key = this.ledger.key(findingId, sink);
      const claim = this.claims.get(key);
      if (!claim) return;
      this.claims.delete(key);
      const entry: LedgerEntry = { state: 'published', findingId, sink, owner: this.owner, publishedAt: this.ledger.now().toISOString(), messageId };
      try {
        await this.ledger.write(key, entry, { ifMatch: claim.etag });
        this.ledger.rememberPublished(key);
      } catch (error) {
        if (isConditionFailure(error)) {
          this.lostCommits.push({ findingId, sink });
          this.log.warn('ledger claim was taken over before the commit; the finding may have been sent twice', { findingId, sink });
          return;
        }
        // Left pending: after the lease a later attempt may send it again (at least once).
        this.log.error('ledger commit failed', { findingId, sink, error: messageOf(error) });
      }
    });
  }

  /** Release every claim not committed, so the next attempt can send at once. Never throws. */
  async releaseUnsent(): Promise<number> {
    const claims = [...this.claims.values()];
    this.claims.clear();
    await mapLimit(claims, this.ledger.concurrency, async (claim) => {
      const entry: LedgerEntry = { state: 'released', findingId: claim.findingId, sink: claim.sink, owner: this.owner, releasedAt: this.ledger.now().toISOString() };
      try {
        await this.ledger.write(claim.key, entry, { ifMatch: claim.etag });
      } catch (error) {
        // The lease still expires; the retry then takes it.
        this.log.warn('ledger claim not released', { findingId: claim.findingId, sink: claim.sink, error: messageOf(error) });
      }
    });
    return claims.length;
  }

  private async claim(findingId: string, sink: string): Promise<'claimed' | 'published' | 'contended'> {
    const key = this.ledger.key(findingId, sink);
    if (this.ledger.isKnownPublished(key)) return 'published';
    const now = this.ledger.now();
    const pending: LedgerEntry = {
      state: 'pending',
      findingId,
      sink,
      owner: this.owner,
      claimedAt: now.toISOString(),
      leaseUntil: new Date(now.getTime() + this.leaseMs).toISOString(),
    };
    try {
      const etag = await this.ledger.write(key, pending, { ifNoneMatch: '*' });
      this.claims.set(key, { key, findingId, sink, etag });
      return 'claimed';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }

    const current = await this.ledger.readKey(key);
    if (current === null) return this.contend(findingId, sink, 'another attempt claimed it first', null);
    const entry = current.entry;
    if (entry?.state === 'published') {
      this.ledger.rememberPublished(key);
      return 'published';
    }
    if (entry?.state === 'pending' && Date.parse(entry.leaseUntil) > now.getTime()) {
      return this.contend(findingId, sink, 'lease held by another attempt', entry.leaseUntil);
    }
    if (entry === null) this.log.warn('ledger entry unreadable; claiming it again', { findingId, sink });
    try {
      const etag = await this.ledger.write(key, pending, { ifMatch: current.etag });
      this.claims.set(key, { key, findingId, sink, etag });
      return 'claimed';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return this.contend(findingId, sink, 'another attempt claimed it first', null);
    }
  }

  private contend(findingId: string, sink: string, reason: Contention['reason'], leaseUntil: string | null): 'contended' {
    this.contended.push({ findingId, sink, reason, leaseUntil });
    this.log.info('finding held by another attempt', { findingId, sink, reason, leaseUntil });
    return 'contended';
  }
}

/**
 * 412 PreconditionFailed, 409 ConditionalRequestConflict, or 404 NoSuchKey (`IfMatch` on an entry
 * that has vanished). Not NoSuchBucket: a missing bucket is a configuration error, not contention.
 */
function isConditionFailure(error: unknown): boolean {
  const status = statusOf(error);
  if (status === 404) return error instanceof Error && error.name === 'NoSuchKey';
  return status === 412 || status === 409;
}

function statusOf(error: unknown): number | null {
  if (error instanceof S3ServiceException) return error.$metadata.httpStatusCode ?? null;
  if (typeof error === 'object' && error !== null && '$metadata' in error) {
    const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
    return metadata?.httpStatusCode ?? null;
  }
  return null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
