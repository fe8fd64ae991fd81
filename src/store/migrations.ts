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

const eventColumnsSql = KMS_EVENT_COLUMNS.map((c) => `${c.name} ${c.sql}`).join(',\n  ');

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'kms_events and rejected_records',
    statements: [
      `CREATE TABLE kms_events (\n  ${eventColumnsSql}\n)`,
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
];

export const LATEST_SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));
