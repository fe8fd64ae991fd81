import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { KeytrailDb } from '../../../src/store/database.js';

/** Recipient accounts of the seeded rows: two valid ones, a missing one and a malformed one (both `unknown`). */
export const SEED_ACCOUNTS = ['111111111111', '222222222222', null, 'not-an-account'] as const;
export const SEED_DAYS = ['2024-03-01', '2024-03-02', '2024-03-03'] as const;
/** Key ids whose text order differs from their position; NULL for events about no key. */
const SEED_KEYS = ['f0000000-key', '10000000-key', '80000000-key', null] as const;

const sqlList = (values: readonly (string | null)[]): string =>
  `[${values.map((v) => (v === null ? 'NULL' : `'${v}'`)).join(', ')}]`;

/**
 * Insert `n` events into `kms_events`, ids `<prefix>-<i>`, over SEED_ACCOUNTS × SEED_DAYS and
 * SEED_KEYS, every row at a pseudo-random time of its day, inserted in an order unrelated to key
 * and time (so an export that does not sort is caught). Only the columns named here are set: any
 * column added later to the table is NULL.
 */
export async function seedEvents(db: KeytrailDb, n: number, prefix = 'ev'): Promise<void> {
  await db.exec(`INSERT INTO kms_events BY NAME
    SELECT
      '${prefix}-' || i AS event_id,
      (${sqlList(SEED_DAYS)})[1 + i % ${SEED_DAYS.length}]::DATE + to_milliseconds((hash(i, '${prefix}', 't') % 86400000)::BIGINT) AS event_time,
      (${sqlList(SEED_DAYS)})[1 + i % ${SEED_DAYS.length}]::DATE AS event_date,
      'api' AS event_kind,
      'kms.amazonaws.com' AS event_source,
      ['Decrypt', 'Encrypt', 'GenerateDataKey'][1 + (hash(i, 'op') % 3)::INTEGER] AS event_name,
      'us-east-1' AS aws_region,
      (${sqlList(SEED_ACCOUNTS)})[1 + (i // ${SEED_DAYS.length}) % ${SEED_ACCOUNTS.length}] AS recipient_account_id,
      k AS key_id,
      CASE WHEN k IS NOT NULL THEN 'arn:aws:kms:us-east-1:111111111111:key/' || k END AS key_arn,
      CASE WHEN i % 5 = 0 THEN 'alias/seeded-' || (i % 3) END AS alias_name,
      CASE WHEN k IS NOT NULL THEN ['arn:aws:kms:us-east-1:111111111111:key/' || k] ELSE [] END AS related_key_arns,
      'arn:aws:iam::111111111111:role/r' || (i % 7) AS principal_arn,
      i % 11 = 0 AS is_cross_account,
      CASE WHEN i % 13 = 0 THEN 'failure' ELSE 'success' END AS outcome,
      CASE WHEN i % 2 = 0 THEN json_object('aws:s3:arn', 'arn:aws:s3:::b/' || i) END AS encryption_context,
      json_object('keyId', k) AS request_parameters,
      json_object('eventID', '${prefix}-' || i) AS raw,
      's3://trail/file-' || (i % 4) || '.json.gz' AS source_uri,
      TIMESTAMP '2024-03-04 00:00:00' AS ingested_at
    FROM (SELECT i, (${sqlList(SEED_KEYS)})[1 + (hash(i, 'key') % ${SEED_KEYS.length})::INTEGER] AS k FROM range(${n}) t(i))
    ORDER BY hash(i, 'insert order')`);
}

/** Every file under `dir`, relative to it, sorted. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(d, entry.name));
      else out.push(relative(dir, join(d, entry.name)));
    }
  };
  walk(dir);
  return out.sort();
}
