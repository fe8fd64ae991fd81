import { createHash } from 'node:crypto';
import { LIST, listValue, VARCHAR, type DuckDBAppender } from '@duckdb/node-api';
import type { KmsEvent, Rejection } from '../normalize/types.js';
import { KMS_EVENT_COLUMNS } from './columns.js';
import type { KeytrailDb } from './database.js';

export interface InsertResult {
  /** Rows new to the table. */
  inserted: number;
  /** Events whose event_id was already stored, or repeated within the batch. */
  duplicates: number;
}

const STAGING = 'kms_events_staging';
const VARCHAR_LIST = LIST(VARCHAR);
const COLUMN_NAMES = KMS_EVENT_COLUMNS.map((c) => c.name).join(', ');

/**
 * Bulk, idempotent writes of normalized events. Events go through the appender into a staging
 * table, then one `INSERT … SELECT` keeps the first copy of each event_id that is not stored yet: the
 * same file ingested twice, or one record delivered both by EventBridge and in a trail file, is one row.
 */
export class EventStore {
  private stagingReady = false;

  constructor(private readonly db: KeytrailDb) {}

  async insertEvents(events: readonly KmsEvent[]): Promise<InsertResult> {
    if (events.length === 0) return { inserted: 0, duplicates: 0 };
    await this.ensureStaging();
    const appender = await this.db.connection.createAppender(STAGING);
    try {
      for (const event of events) appendEvent(appender, event);
    } finally {
      appender.closeSync();
    }
    return this.mergeStaging(events.length);
  }

  /** Move staged rows into kms_events, first copy of each event_id wins, and empty the stage. */
  private async mergeStaging(staged: number): Promise<InsertResult> {
    const before = await this.count();
    await this.db.exec(`INSERT INTO kms_events (${COLUMN_NAMES})
      SELECT ${COLUMN_NAMES} FROM (
        SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY rowid) AS copy FROM ${STAGING}
      ) s
      WHERE copy = 1 AND NOT EXISTS (SELECT 1 FROM kms_events k WHERE k.event_id = s.event_id)`);
    await this.db.exec(`DELETE FROM ${STAGING}`);
    const inserted = (await this.count()) - before;
    return { inserted, duplicates: staged - inserted };
  }

  async count(): Promise<number> {
    const rows = await this.db.all('SELECT count(*)::BIGINT AS n FROM kms_events');
    return Number(rows[0]?.['n'] ?? 0);
  }

  /** Keep rejected input with its reason; the same rejection recorded twice is one row. */
  async insertRejections(rejections: readonly Rejection[]): Promise<number> {
    if (rejections.length === 0) return 0;
    await this.ensureStaging();
    const appender = await this.db.connection.createAppender('rejected_records_staging');
    try {
      for (const r of rejections) {
        appender.appendVarchar(rejectionId(r));
        appender.appendVarchar(r.sourceUri);
        if (r.position === null) appender.appendNull();
        else appender.appendInteger(r.position);
        appender.appendVarchar(r.reason);
        appender.appendVarchar(r.original);
        appender.endRow();
      }
    } finally {
      appender.closeSync();
    }
    await this.db.exec(`INSERT INTO rejected_records (id, source_uri, position, reason, original)
      SELECT DISTINCT ON (id) id, source_uri, position, reason, original FROM rejected_records_staging
      ON CONFLICT DO NOTHING`);
    await this.db.exec('DELETE FROM rejected_records_staging');
    return rejections.length;
  }

  private async ensureStaging(): Promise<void> {
    if (this.stagingReady) return;
    // Staging takes text for timestamps and dates (the appender casts), so the appender is fed
    // the normalizer's strings without building DuckDB values per row.
    const columns = KMS_EVENT_COLUMNS.map((c) => `${c.name} ${c.sql.replace(' NOT NULL', '')}`).join(', ');
    await this.db.exec(`CREATE TEMP TABLE IF NOT EXISTS ${STAGING} (${columns})`);
    await this.db.exec(`CREATE TEMP TABLE IF NOT EXISTS rejected_records_staging (
      id VARCHAR, source_uri VARCHAR, position INTEGER, reason VARCHAR, original VARCHAR)`);
    this.stagingReady = true;
  }
}

function rejectionId(r: Rejection): string {
  return createHash('sha256').update(`${r.sourceUri}\u0000${r.position ?? ''}\u0000${r.original}`).digest('hex').slice(0, 32);
}

function appendEvent(appender: DuckDBAppender, event: KmsEvent): void {
  for (const column of KMS_EVENT_COLUMNS) {
    const value = event[column.field];
    if (value === null || value === undefined) appender.appendNull();
    else if (typeof value === 'boolean') appender.appendBoolean(value);
    else if (Array.isArray(value)) appender.appendList(listValue(value), VARCHAR_LIST);
    else appender.appendVarchar(value);
  }
  appender.endRow();
}
