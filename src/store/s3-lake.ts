import { mkdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { listValue } from '@duckdb/node-api';
import { StoreError } from '../errors.js';
import { logger as defaultLogger } from '../logger.js';
import type { KeytrailDb } from './database.js';
import { recordEventDays } from './event-days.js';
import type { CachedObject, LakeCache } from './lake-cache.js';

export interface S3LakeOptions {
  s3: S3Client;
  bucket: string;
  /** Prefix of the table, ending with `/`: `kms_events/`. */
  prefix: string;
  /** Local directory for Parquet files on their way to S3 (Lambda: under /tmp). */
  workDir: string;
  /** Where parts are read from: downloaded, bounded, least recently used evicted. */
  cache: LakeCache;
  logger?: Pick<Logger, 'debug' | 'info' | 'warn'>;
}

/** One Parquet part file of the lake, as listed in S3. */
export interface LakePart {
  key: string;
  /** `account_id=` of the path: the recipient account, or `unknown`. */
  accountId: string;
  /** `event_date=` of the path, `yyyy-mm-dd`. */
  eventDate: string;
  etag: string;
  size: number;
}

/** A part written by {@link S3Lake.writeEvents} or compaction. */
export interface WrittenPart {
  key: string;
  /** As S3 answered the PUT. */
  etag: string;
  accountId: string;
  eventDate: string;
  rows: number;
  bytes: number;
}

export interface CompactionResult {
  accountId: string;
  eventDate: string;
  /** The merged part (may reuse the name of an input part with the same event ids). */
  key: string;
  inputParts: number;
  /** Rows across the input parts, duplicates included. */
  inputRows: number;
  /** Distinct event ids: the rows of the merged part. */
  outputRows: number;
  deletedKeys: string[];
}

/**
 * The partition's account: the recipient account when it is a 12-digit id, else `unknown`. Input
 * data never reaches a path or S3 key unchecked.
 */
const PARTITION_ACCOUNT = `CASE WHEN regexp_full_match(coalesce(recipient_account_id, ''), '[0-9]{12}') THEN recipient_account_id ELSE 'unknown' END`;
/** The same partition, as `event_date` is written in paths. */
const PARTITION_DATE = `strftime(event_date, '%Y-%m-%d')`;
/** How DuckDB reads parts: partition values from the path, typed, so `012345678901` stays text. */
const READ_PARTS = `read_parquet($files, hive_partitioning = true, hive_types = {'account_id': VARCHAR, 'event_date': DATE}, union_by_name = true)`;
/**
 * One row per event_id however many parts hold it (a retried batch with other records, the same
 * event from EventBridge and a trail file): the first ingested copy.
 */
const DEDUPLICATED_PARTS = `(SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY ingested_at, source_uri) AS lake_copy FROM ${READ_PARTS})`;
const PARQUET_OPTIONS = 'FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880';
const ACCOUNT_ID = /^(\d{12}|unknown)$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** DeleteObjects takes at most 1,000 keys. */
const DELETE_BATCH = 1_000;

/**
 * The `kms_events` table as Hive-partitioned Parquet in S3:
 * `s3://<bucket>/<prefix>account_id=<recipient>/event_date=<yyyy-mm-dd>/part-<name>.parquet`, the
 * layout of the local lake (`src/store/lake.ts`): zstd, rows sorted by `key_id, event_time`,
 * partition columns in the path only.
 *
 * DuckDB never talks to S3: it writes and reads local files in `workDir` and the cache, and the
 * S3 client moves them, one PUT per part (atomic in S3). A part's name is derived from its
 * content's event ids, so writing the same events again overwrites the part instead of adding one;
 * parts that overlap (a redelivered record inside another batch) are de-duplicated by event_id
 * whenever they are read.
 */
export class S3Lake {
  private readonly log: Pick<Logger, 'debug' | 'info' | 'warn'>;

  constructor(private readonly options: S3LakeOptions) {
    this.log = options.logger ?? defaultLogger;
    mkdirSync(options.workDir, { recursive: true });
  }

  get bucket(): string {
    return this.options.bucket;
  }

  get prefix(): string {
    return this.options.prefix;
  }

  /** `<prefix>account_id=<account>/event_date=<date>/<file>`. */
  partKey(accountId: string, eventDate: string, file: string): string {
    return `${this.options.prefix}account_id=${accountId}/event_date=${eventDate}/${file}`;
  }

  /** The partition of a part key of this lake, or null for any other key. */
  parsePartKey(key: string): { accountId: string; eventDate: string; file: string } | null {
    if (!key.startsWith(this.options.prefix)) return null;
    const match = /^account_id=([^/]+)\/event_date=([^/]+)\/([^/]+\.parquet)$/.exec(key.slice(this.options.prefix.length));
    if (!match?.[1] || !match[2] || !match[3]) return null;
    if (!ACCOUNT_ID.test(match[1]) || !DATE.test(match[2])) return null;
    return { accountId: match[1], eventDate: match[2], file: match[3] };
  }

  /**
   * Write the stored rows of these events (table `kms_events`) as one part per partition and PUT
   * each. The part's name is the SHA-256 of its sorted event ids, so the same events written again
   * (a retried batch, a re-read trail file) give the same key and replace the part.
   */
  async writeEvents(db: KeytrailDb, eventIds: readonly string[]): Promise<WrittenPart[]> {
    const distinct = [...new Set(eventIds)];
    if (distinct.length === 0) return [];
    const ids = listValue(distinct);
    const selected = `FROM kms_events WHERE event_id IN (SELECT unnest($ids))`;
    const partitions = await db.all(
      `SELECT ${PARTITION_ACCOUNT} AS account_id, ${PARTITION_DATE} AS event_date, count(*)::INTEGER AS row_count,
              sha256(string_agg(event_id, chr(10) ORDER BY event_id)) AS digest
       ${selected} GROUP BY ALL ORDER BY ALL`,
      { ids },
    );
    const files: { part: WrittenPart; local: string }[] = [];
    try {
      for (const row of partitions) {
        const accountId = String(row['account_id']);
        const eventDate = String(row['event_date']);
        const file = `part-${String(row['digest']).slice(0, 32)}.parquet`;
        const local = join(this.options.workDir, `${accountId}-${eventDate}-${file}`);
        await db.exec(
          `COPY (SELECT * EXCLUDE (event_date) ${selected} AND ${PARTITION_ACCOUNT} = $account AND event_date = $date::DATE
                 ORDER BY key_id NULLS LAST, event_time, event_id)
           TO '${sqlString(local)}' (${PARQUET_OPTIONS})`,
          { ids, account: accountId, date: eventDate },
        );
        files.push({ part: { key: this.partKey(accountId, eventDate, file), etag: '', accountId, eventDate, rows: Number(row['row_count']), bytes: 0 }, local });
      }
      await Promise.all(
        files.map(async ({ part, local }) => {
          const body = await readFile(local);
          part.bytes = body.length;
          part.etag = await this.put(part.key, body);
        }),
      );
    } finally {
      for (const { local } of files) rmSync(local, { force: true });
    }
    this.log.debug('lake parts written', { parts: files.map((f) => f.part.key), rows: distinct.length });
    return files.map((f) => f.part);
  }

  /** Accounts with at least one partition (`account_id=` directories). */
  async listAccounts(): Promise<string[]> {
    const accounts: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.options.s3.send(
        new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: `${this.options.prefix}account_id=`, Delimiter: '/', ContinuationToken: token }),
      );
      for (const common of page.CommonPrefixes ?? []) {
        const match = /account_id=([^/]+)\/$/.exec(common.Prefix ?? '');
        if (match?.[1] && ACCOUNT_ID.test(match[1])) accounts.push(match[1]);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return accounts;
  }

  /**
   * The parts of one account's partitions from `fromDate` to `toDate` (inclusive, `yyyy-mm-dd`).
   * Keys list in date order, so the listing starts at `fromDate` and stops after `toDate`.
   */
  async listParts(accountId: string, fromDate: string, toDate: string): Promise<LakePart[]> {
    const accountPrefix = `${this.options.prefix}account_id=${accountId}/`;
    const parts: LakePart[] = [];
    let token: string | undefined;
    do {
      const page = await this.options.s3.send(
        new ListObjectsV2Command({
          Bucket: this.options.bucket,
          Prefix: accountPrefix,
          // Exclusive, and every key of that date is longer than this string: the date is included.
          StartAfter: token === undefined ? `${accountPrefix}event_date=${fromDate}` : undefined,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) {
        const parsed = object.Key ? this.parsePartKey(object.Key) : null;
        if (!object.Key || !parsed) continue;
        if (parsed.eventDate > toDate) return parts;
        if (parsed.eventDate < fromDate) continue;
        parts.push({ key: object.Key, accountId: parsed.accountId, eventDate: parsed.eventDate, etag: object.ETag ?? '', size: object.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return parts;
  }

  /**
   * Load parts into `kms_events` (through the cache), one row per event_id: rows already stored
   * stay as they are. Returns the rows added.
   */
  async loadParts(db: KeytrailDb, parts: readonly LakePart[]): Promise<number> {
    if (parts.length === 0) return 0;
    return this.options.cache.use(parts, async (files) => {
      const before = await countEvents(db);
      await db.exec(
        `INSERT INTO kms_events BY NAME
         SELECT * EXCLUDE (account_id, lake_copy) FROM ${DEDUPLICATED_PARTS} s
         WHERE lake_copy = 1 AND NOT EXISTS (SELECT 1 FROM kms_events k WHERE k.event_id = s.event_id)`,
        { files: pathList(files) },
      );
      // event_date is the partition column: read from the paths.
      await recordEventDays(db, `SELECT event_date FROM ${READ_PARTS}`, { files: pathList(files) });
      return (await countEvents(db)) - before;
    });
  }

  /**
   * Merge one partition's parts into one: rows de-duplicated by event_id and sorted by
   * `key_id, event_time`, written and PUT first; only then are the input parts deleted (the merged
   * part's own key excepted, when it reuses one). A crash in between leaves duplicates that reads
   * de-duplicate and the next compaction removes. Parts written while this runs are not inputs and
   * are left alone.
   */
  async compactPartition(db: KeytrailDb, parts: readonly LakePart[]): Promise<CompactionResult> {
    const [first] = parts;
    if (!first || parts.some((p) => p.accountId !== first.accountId || p.eventDate !== first.eventDate)) {
      throw new StoreError('compactPartition: parts must be non-empty and of one partition');
    }
    const { accountId, eventDate } = first;
    const result = await this.options.cache.use(parts, async (files) => {
      const params = { files: pathList(files) };
      const [stats] = await db.all(
        `SELECT count(*)::INTEGER AS input_rows, count(*) FILTER (WHERE lake_copy = 1)::INTEGER AS output_rows,
                sha256(string_agg(event_id, chr(10) ORDER BY event_id) FILTER (WHERE lake_copy = 1)) AS digest
         FROM ${DEDUPLICATED_PARTS}`,
        params,
      );
      const file = `part-${String(stats?.['digest']).slice(0, 32)}.parquet`;
      const key = this.partKey(accountId, eventDate, file);
      const local = join(this.options.workDir, `compact-${accountId}-${eventDate}-${file}`);
      try {
        await db.exec(
          `COPY (SELECT * EXCLUDE (account_id, event_date, lake_copy) FROM ${DEDUPLICATED_PARTS}
                 WHERE lake_copy = 1 ORDER BY key_id NULLS LAST, event_time, event_id)
           TO '${sqlString(local)}' (${PARQUET_OPTIONS})`,
          params,
        );
        await this.put(key, await readFile(local));
      } finally {
        rmSync(local, { force: true });
      }
      return { key, inputRows: Number(stats?.['input_rows'] ?? 0), outputRows: Number(stats?.['output_rows'] ?? 0) };
    });
    const deletedKeys = parts.map((p) => p.key).filter((k) => k !== result.key);
    await this.delete(deletedKeys);
    for (const key of deletedKeys) this.options.cache.forget(key);
    this.log.info('lake partition compacted', { accountId, eventDate, inputParts: parts.length, inputRows: result.inputRows, outputRows: result.outputRows });
    return { accountId, eventDate, key: result.key, inputParts: parts.length, inputRows: result.inputRows, outputRows: result.outputRows, deletedKeys };
  }

  /** One PUT (atomic in S3); returns the ETag. */
  private async put(key: string, body: Buffer): Promise<string> {
    const response = await this.options.s3.send(
      new PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: body, ContentType: 'application/vnd.apache.parquet' }),
    );
    return response.ETag ?? '';
  }

  private async delete(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const chunk = keys.slice(start, start + DELETE_BATCH);
      const response = await this.options.s3.send(
        new DeleteObjectsCommand({ Bucket: this.options.bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }),
      );
      const errors = response.Errors ?? [];
      if (errors.length > 0) {
        // The merged part is written: leftovers only cost space and read time until the next compaction.
        this.log.warn('lake parts not deleted', { keys: errors.map((e) => `${e.Key ?? '?'}: ${e.Code ?? ''} ${e.Message ?? ''}`) });
      }
    }
  }
}

async function countEvents(db: KeytrailDb): Promise<number> {
  const rows = await db.all('SELECT count(*)::BIGINT AS n FROM kms_events');
  return Number(rows[0]?.['n'] ?? 0);
}

function pathList(files: readonly CachedObject[]): ReturnType<typeof listValue> {
  return listValue(files.map((f) => f.path));
}

/** COPY … TO takes its target as a literal (DuckDB does not bind it); the path is ours, quoted anyway. */
function sqlString(value: string): string {
  return value.replace(/'/g, "''");
}
