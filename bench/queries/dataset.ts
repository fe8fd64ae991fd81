/**
 * Synthetic stored-event datasets for the query benchmark, built directly in DuckDB with SQL: `range(n)`
 * and hash-derived pseudo-random columns (no JSON ingest: that path is far too slow for 10M rows).
 *
 * One DuckDB file per size, `bench/data/queries-<n>/store.duckdb`, created through `KeytrailDb.open` so
 * `kms_events` has the real schema, holding:
 *   - `kms_events`: the rows as `compactEvents` leaves them (ORDER BY key_id, event_time) — a compacted
 *     store (datasets built before compactEvents existed were inserted in that order directly, and got
 *     destination_key, service_resource and kms_event_days from migration 3 when first reopened);
 *   - `kms_events_unsorted`: the same rows in generation order — every column is a hash of the row
 *     number, so this order is random with respect to key and time (the naive baseline's table);
 * and the Parquet lake written by `exportLake` under `bench/data/queries-<n>/lake/`.
 * A `dataset.json` marker is written last; a directory with one is reused as is.
 * `BENCH_QUERIES_NO_LAKE=1` builds without the lake (the 10M lake was skipped that way for time; the
 * run then measures only the DuckDB table at that size).
 *
 * Distribution: 500 keys in 12 owner accounts, Zipf-like (key = floor(500·u³): the top key gets ~13% of
 * events); 2,000 principals, each key used mostly by a few dozen of them; 20 accounts (0–11 own keys,
 * 12–16 are other organization accounts, 17–19 external); 30% of calls via an AWS service with a
 * service encryption context; 2% errors; 5% cross-account calls logged twice (caller's and owner's
 * copy) with a shared_event_id; 90 days ending 2024-06-30; a sprinkle of administrative calls and
 * RotateKey service events. `raw` is a short JSON text (event id and name), not a full record.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeytrailDb } from '../../src/store/database.js';
import { compactEvents } from '../../src/store/compact.js';
import { recordEventDays } from '../../src/store/event-days.js';
import { exportLake } from '../../src/store/lake.js';

export const BENCH_DATA_DIR = fileURLToPath(new URL('../data/', import.meta.url));
export const DB_OPTIONS = { threads: 2, memoryLimit: '2GB' } as const;

export interface QueryDataset {
  rows: number;
  dir: string;
  dbPath: string;
  lakeDir: string;
  /** How long each step took when the dataset was built (ms), null for a reused dataset's own run. */
  build: { generateUnsortedMs: number; insertSortedMs: number; exportLakeMs: number; partitions: number; dbBytes: number; lakeBytes: number };
  reused: boolean;
}

const MACROS = [
  // 12-digit account ids: 0–11 own keys, 12–16 other organization accounts, 17–19 external.
  `CREATE OR REPLACE TEMP MACRO acct(j) AS '1000000000' || lpad(j::VARCHAR, 2, '0')`,
  `CREATE OR REPLACE TEMP MACRO uuidish(t) AS (SELECT substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' || substr(h, 13, 4) || '-' || substr(h, 17, 4) || '-' || substr(h, 21, 12) FROM (SELECT md5(t) AS h))`,
  `CREATE OR REPLACE TEMP MACRO kregion(k) AS ['us-east-1', 'eu-west-1', 'ap-southeast-2'][1 + k % 3]`,
  `CREATE OR REPLACE TEMP MACRO karn(k) AS 'arn:aws:kms:' || kregion(k) || ':' || acct(k % 12) || ':key/' || uuidish('key-' || k)`,
];

/** The generator: one row per i in range(n); a cross-account pair (rows 2g, 2g+1) shares its seed. */
function generateSql(n: number): string {
  return `
  WITH seeded AS (
    SELECT i, (i % 2 = 1) AS owner_copy,
           (hash(i // 2, 'cross') % 1000) < 50 AS cross_pair,
           CASE WHEN (hash(i // 2, 'cross') % 1000) < 50 THEN (i // 2) * 2 ELSE i END AS s
    FROM range(${n}) t(i)
  ), r AS (
    SELECT i, s, owner_copy, cross_pair,
      least(499, floor(500 * pow((hash(s, 'k') % 1000000) / 1e6, 3)))::INTEGER AS k,
      (hash(s, 'p') % 1000000) / 1e6 AS up,
      (hash(s, 'e') % 100000) / 1e5 AS ue,
      hash(s, 'v') % 1000 AS uv,
      hash(s, 'o') % 1000 AS uo,
      (hash(s, 'x') >> 1)::BIGINT AS hx,
      TIMESTAMP '2024-04-02 00:00:00' + to_milliseconds((hash(s, 't') % 7776000000)::BIGINT) AS event_time
    FROM seeded
  ), e AS (
    SELECT *,
      CASE
        WHEN ue < 0.45 THEN 'Decrypt' WHEN ue < 0.70 THEN 'GenerateDataKey' WHEN ue < 0.80 THEN 'Encrypt'
        WHEN ue < 0.82 THEN 'ReEncrypt' WHEN ue < 0.90 THEN 'DescribeKey' WHEN ue < 0.91 THEN 'GetPublicKey'
        WHEN ue < 0.95 THEN 'GenerateDataKeyWithoutPlaintext' WHEN ue < 0.985 THEN 'ListGrants'
        WHEN ue < 0.99 THEN 'GetKeyRotationStatus' WHEN ue < 0.993 THEN 'CreateGrant' WHEN ue < 0.995 THEN 'PutKeyPolicy'
        WHEN ue < 0.996 THEN 'EnableKeyRotation' WHEN ue < 0.997 THEN 'CreateAlias' WHEN ue < 0.998 THEN 'RotateKey'
        WHEN ue < 0.999 THEN 'DisableKey' WHEN k >= 490 THEN 'ScheduleKeyDeletion' ELSE 'TagResource'
      END AS event_name,
      (k * 37 + floor(60 * up * up)::INTEGER) % 2000 AS p,
      CASE WHEN cross_pair THEN 12 + hx % 8 ELSE k % 12 END AS pj
    FROM r
  ), f AS (
    SELECT *,
      event_name IN ('Decrypt', 'GenerateDataKey', 'Encrypt', 'ReEncrypt', 'GenerateDataKeyWithoutPlaintext') AS crypto,
      event_name = 'RotateKey' AS service_event,
      ['s3', 'ebs', 'secretsmanager', 'rds', 'dynamodb'][1 + (hx // 7) % 5] AS svc,
      uo < 20 AS failed
    FROM e
  ), g AS (
    SELECT *, crypto AND uv < 300 AND NOT service_event AS via, uuidish('key-' || k) AS kid, karn(k) AS key_arn
    FROM f
  )
  SELECT
    uuidish('event-' || i) AS event_id,
    event_time,
    event_time::DATE AS event_date,
    CASE WHEN service_event THEN 'service_event' ELSE 'api_call' END AS event_kind,
    'kms.amazonaws.com' AS event_source,
    event_name,
    kregion(k) AS aws_region,
    acct(CASE WHEN cross_pair AND NOT owner_copy THEN pj ELSE k % 12 END) AS recipient_account_id,
    key_arn,
    kid AS key_id,
    acct(k % 12) AS key_account_id,
    kregion(k) AS key_region,
    CASE WHEN event_name = 'CreateAlias' OR (crypto AND hx % 20 = 0) THEN 'alias/key-' || k END AS alias_name,
    CASE WHEN event_name = 'ReEncrypt' THEN [key_arn, karn((k + 1) % 500)] ELSE [key_arn] END AS related_key_arns,
    CASE WHEN service_event THEN 'AWSService' WHEN p % 10 = 0 THEN 'IAMUser' ELSE 'AssumedRole' END AS principal_type,
    CASE WHEN service_event THEN NULL WHEN p % 10 = 0 THEN 'arn:aws:iam::' || acct(pj) || ':user/user-' || p
         ELSE 'arn:aws:sts::' || acct(pj) || ':assumed-role/role-' || (p % 300) || '/session-' || p END AS principal_arn,
    CASE WHEN service_event THEN NULL ELSE acct(pj) END AS principal_account_id,
    CASE WHEN service_event THEN NULL WHEN p % 10 = 0 THEN 'user-' || p ELSE 'role-' || (p % 300) END AS principal_name,
    CASE WHEN service_event OR p % 10 = 0 THEN NULL ELSE 'arn:aws:iam::' || acct(pj) || ':role/role-' || (p % 300) END AS session_issuer_arn,
    CASE WHEN service_event THEN NULL WHEN p % 10 = 0 THEN 'AKIA' ELSE 'ASIA' END || upper(substr(md5('ak-' || p), 1, 16)) AS access_key_id,
    CASE WHEN service_event THEN 'kms.amazonaws.com' WHEN via THEN svc || '.amazonaws.com' END AS invoked_by,
    CASE WHEN via THEN svc END AS via_service,
    CASE WHEN service_event THEN 'kms.amazonaws.com' WHEN via THEN svc || '.amazonaws.com'
         ELSE '10.' || (p % 250) || '.' || (hx % 250) || '.' || (hx // 250 % 250) END AS source_ip,
    CASE WHEN service_event THEN 'kms.amazonaws.com' WHEN via THEN svc || '.amazonaws.com'
         ELSE 'aws-sdk-java/2.20.' || (p % 50) || ' Linux/5.10 OpenJDK_64-Bit_Server_VM/17' END AS user_agent,
    CASE WHEN NOT via AND NOT service_event AND hx % 10 = 3 THEN 'vpce-0' || substr(md5('vpce-' || (k % 12)), 1, 16) END AS vpc_endpoint_id,
    cross_pair AS is_cross_account,
    CASE WHEN failed THEN 'error' ELSE 'success' END AS outcome,
    CASE WHEN failed THEN ['AccessDenied', 'InvalidCiphertextException', 'ThrottlingException'][1 + hx % 3] END AS error_code,
    CASE WHEN failed THEN ['User is not authorized to perform kms:' || event_name, NULL, 'Rate exceeded'][1 + hx % 3] END AS error_message,
    event_name NOT IN ('CreateGrant', 'PutKeyPolicy', 'EnableKeyRotation', 'CreateAlias', 'RotateKey', 'DisableKey', 'ScheduleKeyDeletion', 'TagResource') AS read_only,
    true AS management_event,
    'Management' AS event_category,
    (CASE
      WHEN NOT crypto THEN NULL
      WHEN via AND svc = 's3' THEN '{"aws:s3:arn":"arn:aws:s3:::bucket-' || k || '/obj-' || (hx % 1000) || '"}'
      WHEN via AND svc = 'ebs' THEN '{"aws:ebs:id":"vol-0' || substr(md5('vol' || (hx % 500)), 1, 16) || '"}'
      WHEN via AND svc = 'secretsmanager' THEN '{"SecretARN":"arn:aws:secretsmanager:' || kregion(k) || ':' || acct(k % 12) || ':secret:app-' || k || '","SecretVersionId":"' || uuidish('sv' || (hx % 7)) || '"}'
      WHEN via AND svc = 'rds' THEN '{"aws:rds:db-id":"db-' || k || '"}'
      WHEN via THEN '{"aws:dynamodb:tableName":"table-' || k || '","aws:dynamodb:subscriberId":"' || acct(k % 12) || '"}'
      WHEN hx % 5 = 0 THEN '{"app":"service-' || (p % 40) || '"}'
    END)::JSON AS encryption_context,
    CASE WHEN cross_pair THEN uuidish('shared-' || s) END AS shared_event_id,
    uuidish('request-' || s) AS request_id,
    (CASE
      WHEN service_event THEN NULL
      WHEN event_name = 'ReEncrypt' THEN '{"sourceKeyId":"' || key_arn || '","destinationKeyId":"' || karn((k + 1) % 500) || '"}'
      WHEN event_name = 'CreateAlias' THEN '{"aliasName":"alias/key-' || k || '","targetKeyId":"' || kid || '"}'
      WHEN event_name = 'ScheduleKeyDeletion' THEN '{"keyId":"' || kid || '","pendingWindowInDays":30}'
      ELSE '{"keyId":"' || coalesce(CASE WHEN hx % 20 = 0 THEN 'alias/key-' || k END, key_arn) || '","encryptionAlgorithm":"SYMMETRIC_DEFAULT"}'
    END)::JSON AS request_parameters,
    (CASE WHEN event_name = 'ScheduleKeyDeletion' AND NOT failed THEN
      '{"keyId":"' || key_arn || '","deletionDate":"' || strftime(event_time + INTERVAL 30 DAY, '%b %-d, %Y, %-I:%M:%S %p') || '","keyState":"PendingDeletion","pendingWindowInDays":30}'
    END)::JSON AS response_elements,
    (CASE WHEN crypto THEN '{"keyMaterialId":"' || substr(md5(kid), 1, 32) || '"}' END)::JSON AS additional_event_data,
    ('{"eventVersion":"1.08","eventID":"' || uuidish('event-' || i) || '","eventName":"' || event_name || '","synthetic":true}')::JSON AS raw,
    's3://trail-bucket/AWSLogs/' || acct(CASE WHEN cross_pair AND NOT owner_copy THEN pj ELSE k % 12 END) || '/CloudTrail/' || kregion(k) || '/' || strftime(event_time, '%Y/%m/%d') || '/file-' || (hx % 300) || '.json.gz' AS source_uri,
    event_time + INTERVAL 7 MINUTE AS ingested_at,
    CASE WHEN event_name = 'ReEncrypt' THEN karn((k + 1) % 500) END AS destination_key,
    CASE WHEN event_name = 'ReEncrypt' THEN uuidish('key-' || ((k + 1) % 500)) END AS destination_key_id,
    CASE
      WHEN NOT (crypto AND via) THEN NULL
      WHEN svc = 's3' THEN 'arn:aws:s3:::bucket-' || k || '/obj-' || (hx % 1000)
      WHEN svc = 'ebs' THEN 'vol-0' || substr(md5('vol' || (hx % 500)), 1, 16)
      WHEN svc = 'secretsmanager' THEN 'arn:aws:secretsmanager:' || kregion(k) || ':' || acct(k % 12) || ':secret:app-' || k
      WHEN svc = 'rds' THEN 'db-' || k
      ELSE 'table-' || k
    END AS service_resource
  FROM g`;
}

/**
 * exportLake, timed. With the store's default memory limit (512MB) the 10M export ran out of memory
 * once kms_events had the migration-3 columns and the compacted order (it passed before them):
 * `BENCH_QUERIES_EXPORT_MEMORY` (default 2GB) sets the limit for this step.
 */
async function exportLakeOf(dbPath: string, lakeDir: string, tempDirectory: string): Promise<{ exportLakeMs: number; partitions: number; lakeBytes: number }> {
  const memoryLimit = process.env['BENCH_QUERIES_EXPORT_MEMORY'] ?? '2GB';
  const exporter = await KeytrailDb.open({ path: dbPath, threads: 2, tempDirectory, memoryLimit });
  try {
    const t = performance.now();
    const result = await exportLake(exporter, lakeDir);
    return { exportLakeMs: performance.now() - t, partitions: result.partitions, lakeBytes: duSync(lakeDir) };
  } finally {
    exporter.close();
    rmSync(tempDirectory, { recursive: true, force: true });
  }
}

function duSync(path: string): number {
  let total = 0;
  const walk = (p: string): void => {
    const st = statSyncSafe(p);
    if (st === null) return;
    if (st.isDirectory()) for (const name of readdirSyncSafe(p)) walk(join(p, name));
    else total += st.size;
  };
  walk(path);
  return total;
}

function statSyncSafe(p: string): Stats | null {
  try {
    return statSync(p);
  } catch {
    return null;
  }
}
function readdirSyncSafe(p: string): string[] {
  try {
    return readdirSync(p);
  } catch {
    return [];
  }
}

/** Build (or reuse) the dataset of `rows` events. */
export async function ensureQueryDataset(rows: number, log: (line: string) => void): Promise<QueryDataset> {
  const dir = join(BENCH_DATA_DIR, `queries-${rows}`);
  const dbPath = join(dir, 'store.duckdb');
  const lakeDir = join(dir, 'lake');
  const marker = join(dir, 'dataset.json');
  if (existsSync(marker)) {
    const saved = JSON.parse(readFileSync(marker, 'utf8')) as QueryDataset;
    if (process.env['BENCH_QUERIES_EXPORT_LAKE']) {
      // Re-export the lake of a reused dataset (its schema changed, or it was built without one).
      log(`  exporting the Parquet lake again (BENCH_QUERIES_EXPORT_LAKE)…`);
      const exported = await exportLakeOf(dbPath, lakeDir, join(dir, 'tmp'));
      saved.build = { ...saved.build, ...exported };
      writeFileSync(marker, `${JSON.stringify({ ...saved, reused: false }, null, 2)}\n`);
    }
    return { ...saved, dir, dbPath, lakeDir, reused: true };
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const db = await KeytrailDb.open({ path: dbPath, ...DB_OPTIONS, tempDirectory: join(dir, 'tmp') });
  try {
    for (const m of MACROS) await db.exec(m);
    let t = performance.now();
    log(`  generating ${rows.toLocaleString('en-US')} events (unsorted copy)…`);
    await db.exec(`CREATE TABLE kms_events_unsorted AS SELECT * FROM kms_events LIMIT 0`);
    await db.exec(`INSERT INTO kms_events_unsorted ${generateSql(rows)}`);
    const generateUnsortedMs = performance.now() - t;
    t = performance.now();
    log(`  inserting into kms_events, then compactEvents (ORDER BY key_id, event_time)…`);
    await db.exec(`INSERT INTO kms_events SELECT * FROM kms_events_unsorted`);
    await recordEventDays(db, 'SELECT event_date FROM kms_events');
    await compactEvents(db);
    const insertSortedMs = performance.now() - t;
    db.close();
    log(`  exporting the Parquet lake…`);
    const lake = process.env['BENCH_QUERIES_NO_LAKE'] ? { exportLakeMs: 0, partitions: 0, lakeBytes: 0 } : await exportLakeOf(dbPath, lakeDir, join(dir, 'tmp'));
    const dataset: QueryDataset = {
      rows,
      dir,
      dbPath,
      lakeDir,
      build: { generateUnsortedMs, insertSortedMs, ...lake, dbBytes: duSync(dbPath) },
      reused: false,
    };
    rmSync(join(dir, 'tmp'), { recursive: true, force: true });
    writeFileSync(marker, `${JSON.stringify(dataset, null, 2)}\n`);
    return dataset;
  } catch (error) {
    try {
      db.close();
    } catch {
      // already closed
    }
    throw error;
  }
}
