import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InputError } from '../errors.js';
import { logger as defaultLogger } from '../logger.js';

export interface LakeCacheOptions {
  s3: S3Client;
  bucket: string;
  /** Directory the cache owns a subdirectory of (`<dir>/lake-objects/`); Lambda: under /tmp. */
  dir: string;
  /** Bytes of objects kept on disk; least recently used objects are deleted beyond it. */
  maxBytes: number;
  logger?: Pick<Logger, 'debug' | 'warn'>;
}

/** An object on local disk, as downloaded. */
export interface CachedObject {
  key: string;
  path: string;
  etag: string;
  size: number;
}

/** Parallel GetObject calls while filling the cache. */
const DOWNLOADS_IN_FLIGHT = 8;

interface Entry extends CachedObject {
  /** Callers holding the file (inside `use`): never evicted while > 0. */
  pins: number;
}

/**
 * A bounded local copy of lake objects (Parquet parts), for DuckDB, which reads local files only.
 * Objects are downloaded with the S3 client as streams (never held whole in memory), written under a
 * temporary name and renamed, and evicted least-recently-used first once the total size passes
 * `maxBytes`. An object is identified by key and ETag: a part rewritten in S3 is downloaded again.
 *
 * One instance per container; not safe for concurrent `use` calls on the same key from two
 * invocations (Lambda runs one invocation per container at a time).
 */
export class LakeCache {
  /** Insertion order = recency: touching an entry moves it to the end. */
  private readonly entries = new Map<string, Entry>();
  private total = 0;
  readonly root: string;

  constructor(private readonly options: LakeCacheOptions) {
    this.root = join(options.dir, 'lake-objects');
    // Files left by an earlier process have no recorded ETag: start empty rather than trust them.
    rmSync(this.root, { recursive: true, force: true });
    mkdirSync(this.root, { recursive: true });
  }

  /** Bytes currently on disk. */
  get bytes(): number {
    return this.total;
  }

  get maxBytes(): number {
    return this.options.maxBytes;
  }

  /** Whether the object is on disk at this ETag. */
  has(key: string, etag: string): boolean {
    return this.entries.get(key)?.etag === etag;
  }

  /**
   * Make the objects local (downloading those missing or stale), run `work` with their paths, and
   * keep them from eviction until it settles. Paths keep the key's layout under the cache root, so
   * Hive partition directories (`account_id=…/event_date=…`) survive for DuckDB.
   */
  async use<T>(objects: readonly { key: string; etag?: string | null }[], work: (files: CachedObject[]) => Promise<T>): Promise<T> {
    const pinned: Entry[] = [];
    try {
      const distinct = [...new Map(objects.map((o) => [o.key, o])).values()];
      // Downloads overlap (S3 latency, not bandwidth, dominates small parts); eviction waits for the end.
      const entries = await mapLimit(distinct, DOWNLOADS_IN_FLIGHT, (object) => this.fetch(object.key, object.etag ?? null));
      for (const entry of entries) {
        entry.pins += 1;
        pinned.push(entry);
      }
      return await work(pinned.map(({ key, path, etag, size }) => ({ key, path, etag, size })));
    } finally {
      for (const entry of pinned) entry.pins -= 1;
      this.evict();
    }
  }

  /** Drop an object (e.g. deleted from S3 by compaction). */
  forget(key: string): void {
    const entry = this.entries.get(key);
    if (!entry || entry.pins > 0) return;
    this.remove(entry);
  }

  /** The local path an object would have (exists only while cached). */
  pathOf(key: string): string {
    if (key.startsWith('/') || key.split('/').some((segment) => segment === '..' || segment === '.' || segment === '')) {
      throw new InputError(`refusing to cache s3://${this.options.bucket}/${key}: not a plain object key`);
    }
    return join(this.root, ...key.split('/'));
  }

  private async fetch(key: string, etag: string | null): Promise<Entry> {
    const existing = this.entries.get(key);
    if (existing && (etag === null || existing.etag === etag)) {
      this.entries.delete(key);
      this.entries.set(key, existing);
      return existing;
    }
    if (existing) {
      // Stale: its file is replaced below (by rename, so a reader holding it keeps the old inode).
      this.entries.delete(key);
      this.total -= existing.size;
    }

    const path = this.pathOf(key);
    mkdirSync(dirname(path), { recursive: true });
    const partial = `${path}.${randomUUID()}.download`;
    let response;
    try {
      response = await this.options.s3.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
    } catch (error) {
      throw new InputError(`cannot download s3://${this.options.bucket}/${key}: ${messageOf(error)}`, { cause: error });
    }
    const body = response.Body;
    if (!(body instanceof Readable)) throw new InputError(`s3://${this.options.bucket}/${key}: GetObject returned no stream`);
    try {
      await pipeline(body, createWriteStream(partial));
      renameSync(partial, path);
    } catch (error) {
      rmSync(partial, { force: true });
      throw new InputError(`cannot download s3://${this.options.bucket}/${key}: ${messageOf(error)}`, { cause: error });
    }
    const size = statSync(path).size;
    const entry: Entry = { key, path, etag: response.ETag ?? etag ?? '', size, pins: 0 };
    this.entries.set(key, entry);
    this.total += size;
    this.options.logger?.debug('lake object cached', { key, bytes: size, cacheBytes: this.total });
    return entry;
  }

  /** Least recently used first, skipping pinned ones; may stay over budget while everything is pinned. */
  private evict(): void {
    if (this.total <= this.options.maxBytes) return;
    for (const entry of [...this.entries.values()]) {
      if (this.total <= this.options.maxBytes) break;
      if (entry.pins === 0) this.remove(entry);
    }
    if (this.total > this.options.maxBytes) {
      (this.options.logger ?? defaultLogger).warn('lake cache over budget while files are in use', { cacheBytes: this.total, maxBytes: this.options.maxBytes });
    }
  }

  private remove(entry: Entry): void {
    this.entries.delete(entry.key);
    this.total -= entry.size;
    rmSync(entry.path, { force: true });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** `fn` over `items`, at most `limit` at a time; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  const queue = items.map((item, index) => ({ item, index }));
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) results[next.index] = await fn(next.item, next.index);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
