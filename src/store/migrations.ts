import { KMS_EVENT_COLUMNS } from './columns.js';

/**
 * Ordered schema migrations. A database records the versions it has applied in `schema_version`;
 * opening it applies the rest in one transaction each. Never edit a released migration: add one.
 */
export interface Migration {
  version: number;
  description: string;
  statements: string[];
}

/** `kms_events` as its first migration created it: later columns are added by their own migration. */
const firstEventColumnsSql = KMS_EVENT_COLUMNS.filter((c) => !('since' in c))
  .map((c) => `${c.name} ${c.sql}`)
  .join(',\n  ');

/** A KMS key ARN (the same pattern as src/normalize/arn.ts). */
const KEY_ARN = '^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$';
const BARE_KEY_ID = '(?i)mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const DESTINATION_REQUESTED = "json_extract_string(request_parameters, '$.destinationKeyId')";

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'kms_events and rejected_records',
    statements: [
      `CREATE TABLE kms_events (\n  ${firstEventColumnsSql}\n)`,
      // id is a hash of source, position and text, so re-reading a bad file records it once.
      `CREATE TABLE rejected_records (
        id VARCHAR PRIMARY KEY,
        source_uri VARCHAR NOT NULL,
        position INTEGER,
        reason VARCHAR NOT NULL,
        original VARCHAR NOT NULL,
        rejected_at TIMESTAMP NOT NULL DEFAULT (now()::TIMESTAMP)
      )`,
    ],
  },
  {
    version: 2,
    description: 'findings and the alert ledger',
    statements: [
      // One row per finding_id; a re-run of detection updates last_seen_at, never adds a row.
      `CREATE TABLE findings (
        finding_id VARCHAR PRIMARY KEY,
        detector_id VARCHAR NOT NULL,
        severity VARCHAR NOT NULL,
        occurred_at TIMESTAMP NOT NULL,
        account_id VARCHAR,
        region VARCHAR,
        key_arn VARCHAR,
        principal_arn VARCHAR,
        principal_account_id VARCHAR,
        title VARCHAR NOT NULL,
        summary VARCHAR NOT NULL,
        status VARCHAR NOT NULL DEFAULT 'open',
        suppressed_by VARCHAR,
        first_seen_at TIMESTAMP NOT NULL,
        last_seen_at TIMESTAMP NOT NULL,
        finding JSON NOT NULL
      )`,
      // What was delivered where: a finding_id is published to a sink at most once.
      `CREATE TABLE alert_ledger (
        finding_id VARCHAR NOT NULL,
        sink VARCHAR NOT NULL,
        message_id VARCHAR,
        published_at TIMESTAMP NOT NULL,
        PRIMARY KEY (finding_id, sink)
      )`,
    ],
  },
  {
    version: 3,
    description: 'destination_key(_id) and service_resource on kms_events; kms_event_days; store_layout',
    statements: [
      'ALTER TABLE kms_events ADD COLUMN destination_key VARCHAR',
      'ALTER TABLE kms_events ADD COLUMN destination_key_id VARCHAR',
      'ALTER TABLE kms_events ADD COLUMN service_resource VARCHAR',
      // The same derivations as src/normalize (destinationKeyOf, serviceContextEntry), for rows
      // stored before this migration.
      `UPDATE kms_events SET destination_key = CASE
         WHEN len(related_key_arns) >= 2 THEN related_key_arns[2]
         WHEN regexp_full_match(${DESTINATION_REQUESTED}, '${KEY_ARN}')
           OR regexp_full_match(${DESTINATION_REQUESTED}, '${BARE_KEY_ID}') THEN ${DESTINATION_REQUESTED}
       END
       WHERE event_name = 'ReEncrypt'`,
      `UPDATE kms_events SET destination_key_id = coalesce(nullif(regexp_extract(destination_key, ':key/(.+)$', 1), ''), destination_key)
       WHERE destination_key IS NOT NULL`,
      `UPDATE kms_events SET service_resource = encryption_context ->> list_filter(
         json_keys(encryption_context), k -> regexp_matches(k, '^aws:[a-z0-9-]+:') OR k IN ('SecretARN', 'PARAMETER_ARN'))[1]
       WHERE via_service IS NOT NULL AND encryption_context IS NOT NULL`,
      // The days with at least one stored event: the evidence a "no use" claim rests on, kept by
      // every writer of kms_events so that question never scans the table (src/store/event-days.ts).
      'CREATE TABLE kms_event_days (event_date DATE PRIMARY KEY)',
      'INSERT INTO kms_event_days SELECT DISTINCT event_date FROM kms_events',
      // How kms_events is laid out: the rows it had when last rewritten in key order (compactEvents).
      `CREATE TABLE store_layout (
        table_name VARCHAR PRIMARY KEY,
        sorted_rows BIGINT NOT NULL,
        compacted_at TIMESTAMP NOT NULL
      )`,
    ],
  },
];

export const LATEST_SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));
