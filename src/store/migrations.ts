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
      `CREATE TABLE kms_events (\n  ${eventColumnsSql},\n  PRIMARY KEY (event_id)\n)`,
      // id is a hash of source, position and text, so re-reading a bad file records it once.
      `CREATE TABLE rejected_records (
        id VARCHAR PRIMARY KEY,
        source_uri VARCHAR NOT NULL,
        position BIGINT,
        reason VARCHAR NOT NULL,
        original VARCHAR NOT NULL,
        rejected_at TIMESTAMP NOT NULL DEFAULT (now()::TIMESTAMP)
      )`,
    ],
  },
];

export const LATEST_SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));
