import type { DuckDBValue } from '@duckdb/node-api';
import type { KeytrailDb } from './database.js';

/**
 * `kms_event_days` holds every UTC day with at least one stored event. Every writer of `kms_events`
 * records the days of the rows it adds through `recordEventDays`, so "which days of this window
 * have evidence" is answered without reading the table. `source` is a query with an
 * `event_date` column (DATE, or `yyyy-mm-dd` text).
 */
export async function recordEventDays(db: KeytrailDb, source: string, params?: Record<string, DuckDBValue>): Promise<void> {
  await db.exec(
    `INSERT INTO kms_event_days SELECT DISTINCT event_date::DATE FROM (${source}) ON CONFLICT DO NOTHING`,
    params,
  );
}
