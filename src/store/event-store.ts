import { createHash } from 'node:crypto';
import type { DuckDBAppender } from '@duckdb/node-api';
import type { KmsEvent, Rejection } from '../normalize/types.js';
import { KMS_EVENT_COLUMNS } from './columns.js';
import type { KeytrailDb } from './database.js';
import { recordEventDays } from './event-days.js';

export interface InsertResult {
  /** Rows new to the table. */
  inserted: number;
  /** Events whose event_id was already stored, or repeated within the batch. */
  duplicates: number;
  /**
   * Of the duplicates, those whose content differs from the stored copy (another time, operation,
   * request or caller under the same eventID). The first copy is kept; these are recorded in
   * rejected_records so nothing disappears silently.
   */
  conflicts: number;
}

/**
 * What makes two copies of one event the same event. Not `raw`: EventBridge and the trail file may
 * serialize one record with its fields in another order.
 */
const IDENTITY = `concat_ws(' ', strftime(event_time, '%Y-%m-%dT%H:%M:%SZ'), event_name, request_id, principal_arn, error_code)`;

const STAGING = 'kms_events_staging';
const COLUMN_NAMES = KMS_EVENT_COLUMNS.map((c) => c.name).join(', ');
/**
 * The staged columns as kms_events takes them. Lists are staged as JSON text: building a DuckDB list
 * value per row through the appender costs more than DuckDB parsing the text in the INSERT.
 */
const STAGED_SELECT = KMS_EVENT_COLUMNS.map((c) =>
  c.sql.startsWith('VARCHAR[]') ? `from_json(${c.name}, '["VARCHAR"]') AS ${c.name}` : c.name,
).join(', ');

/**
 * Bulk, idempotent writes of normalized events. Events go through the appender into a staging
 * table, then one `INSERT … SELECT` keeps the first copy of each event_id that is not stored yet: the
 * same file ingested twice, or one record delivered both by EventBridge and in a trail file, is one row.
 */
export class EventStore {
  private stagingReady = false;

  constructor(private readonly db: KeytrailDb) {}

  async insertEvents(events: readonly KmsEvent[]): Promise<InsertResult> {
    if (events.length === 0) return { inserted: 0, duplicates: 0, conflicts: 0 };
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
    // The common case is a batch of new, distinct events: one cheap check on ids lets it skip the
    // de-duplicating INSERT (a window over the batch and an anti-join against the table).
    const [check] = await this.db.all(`SELECT
        (count(*) - count(DISTINCT event_id))::BIGINT AS repeated,
        (SELECT count(*) FROM ${STAGING} s WHERE s.event_id IN (SELECT event_id FROM kms_events))::BIGINT AS stored
      FROM ${STAGING}`);
    const clean = Number(check?.['repeated'] ?? 0) === 0 && Number(check?.['stored'] ?? 0) === 0;
    let result: InsertResult;
    if (clean) {
      await this.db.exec(`INSERT INTO kms_events (${COLUMN_NAMES}) SELECT ${STAGED_SELECT} FROM ${STAGING}`);
      await recordEventDays(this.db, `SELECT event_date FROM ${STAGING}`);
      result = { inserted: staged, duplicates: 0, conflicts: 0 };
    } else {
      const before = await this.count();
      const conflicts = await this.keepConflicts();
      const newRows = `SELECT * FROM (
          SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY rowid) AS copy FROM ${STAGING}
        ) s
        WHERE copy = 1 AND NOT EXISTS (SELECT 1 FROM kms_events k WHERE k.event_id = s.event_id)`;
      await recordEventDays(this.db, newRows);
      await this.db.exec(`INSERT INTO kms_events (${COLUMN_NAMES}) SELECT ${STAGED_SELECT} FROM (${newRows})`);
      const inserted = (await this.count()) - before;
      result = { inserted, duplicates: staged - inserted, conflicts };
    }
    // DROP, not DELETE: DuckDB 1.5 keeps a temporary table's storage after DELETE or TRUNCATE, so
    // every batch's rows stayed held (and spilled past the memory limit); bench/ingest/memory.ts.
    await this.db.exec(`DROP TABLE ${STAGING}`);
    this.stagingReady = false;
    return result;
  }

  /**
   * A staged event whose event_id is already taken (stored, or earlier in the batch) by an event
   * with other content is not a redelivery: keep it in rejected_records with the reason.
   */
  private async keepConflicts(): Promise<number> {
    const rows = await this.db.all(`
      WITH staged AS (
        SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY rowid) AS copy FROM ${STAGING}
      ),
      first_copy AS (
        SELECT s.event_id, ${IDENTITY} AS identity FROM staged s WHERE copy = 1
          AND NOT EXISTS (SELECT 1 FROM kms_events k WHERE k.event_id = s.event_id)
        UNION ALL
        SELECT k.event_id, ${IDENTITY} AS identity FROM kms_events k
          WHERE k.event_id IN (SELECT event_id FROM ${STAGING})
      )
      SELECT s.event_id, s.source_uri, s.raw::VARCHAR AS raw, ${IDENTITY} AS identity, f.identity AS kept
      FROM staged s JOIN first_copy f ON f.event_id = s.event_id
      WHERE ${IDENTITY} IS DISTINCT FROM f.identity`);
    const rejections: Rejection[] = rows.map((r) => ({
      sourceUri: String(r['source_uri']),
      position: null,
      reason: `eventID ${String(r['event_id'])} is already stored for another event (${String(r['kept'])}); kept that one, this one is ${String(r['identity'])}`,
      original: String(r['raw']),
    }));
    await this.insertRejections(rejections);
    return rejections.length;
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
    const columns = KMS_EVENT_COLUMNS.map((c) => `${c.name} ${c.sql.replace(' NOT NULL', '').replace('VARCHAR[]', 'VARCHAR')}`).join(', ');
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
    else if (Array.isArray(value)) appender.appendVarchar(JSON.stringify(value));
    else appender.appendVarchar(value);
  }
  appender.endRow();
}

