import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DuckDBValue } from '@duckdb/node-api';
import { KeytrailError } from '../errors.js';
import type { KeytrailDb, Row } from '../store/database.js';
import { packedRows, type PackedColumns } from './packed-rows.js';

/** queries/ at the package root: the same SQL `keytrail query` and Athena run. */
const QUERIES_DIR = fileURLToPath(new URL('../../queries/', import.meta.url));

/** A query file in queries/ that a report reads is missing or no longer returns what the report needs. */
export class ReportQueryError extends KeytrailError {}

/** The files reports run, and the columns each report reads from them. */
export const REPORT_QUERIES = {
  rotation: {
    file: 'compliance/key-rotation-evidence.sql',
    columns: ['key_arn', 'key_id', 'rotations', 'on_demand_requests', 'last_rotated_at', 'rotation_enabled', 'last_state_change_at', 'last_state_change_by'],
  },
  administration: {
    file: 'compliance/key-administration-activity.sql',
    columns: ['event_time', 'event_name', 'outcome', 'error_code', 'key_arn', 'key_id', 'alias_name', 'principal_arn', 'principal_account_id', 'principal_type', 'session_issuer_arn', 'invoked_by', 'source_ip', 'event_id'],
  },
  trailLogging: {
    file: 'compliance/trail-kms-logging-changes.sql',
    columns: ['event_time', 'event_name', 'trail_name', 'kms_logging', 'restored_at', 'outcome', 'principal_arn', 'recipient_account_id', 'aws_region', 'event_id'],
  },
} as const;

type QueryName = keyof typeof REPORT_QUERIES;

const cache = new Map<string, string>();

function querySql(name: QueryName): string {
  const { file } = REPORT_QUERIES[name];
  let text = cache.get(file);
  if (text === undefined) {
    try {
      text = readFileSync(`${QUERIES_DIR}${file}`, 'utf8').trim().replace(/;\s*$/, '');
    } catch (error) {
      throw new ReportQueryError(`queries/${file}: cannot read it (${(error as Error).message}); reports need it`, { cause: error });
    }
    cache.set(file, text);
  }
  return text;
}

/** How to read a report query's rows. */
export interface ReportQueryRead {
  /**
   * Read these columns packed (`packedRows`, only them): for results of thousands of rows. The rows
   * then come in `orderBy` order (an ORDER BY list over the file's columns), not the file's.
   */
  packed?: PackedColumns;
}

/**
 * Run a query file from queries/ with bound parameters. Checks that the result still has the
 * columns the report reads, so a changed query fails with its name rather than with empty cells.
 */
export async function runReportQuery(
  db: KeytrailDb,
  name: QueryName,
  params: Record<string, DuckDBValue>,
  read: ReportQueryRead = {},
): Promise<Row[]> {
  const { file, columns } = REPORT_QUERIES[name];
  // A line comment at the end of the file would swallow what a wrapper appends on the same line.
  const query = `${querySql(name)}\n`;
  const check = (got: readonly string[]) => {
    const missing = columns.filter((c) => !got.includes(c));
    if (missing.length > 0) throw new ReportQueryError(`queries/${file} no longer returns ${missing.join(', ')}, which reports read`);
  };
  if (read.packed) {
    // LIMIT 0: the columns without running the query (the optimizer removes the rest of the plan).
    check((await db.table(`SELECT * FROM (${query}) LIMIT 0`, params)).columns);
    return packedRows(db, query, params, read.packed);
  }
  const { columns: got, rows } = await db.table(query, params);
  check(got);
  return rows;
}
