import type { DuckDBValue } from '@duckdb/node-api';
import type { KeytrailDb, Row } from '../store/database.js';

/** Between the packed values: no AWS identifier, name, number or JSON text (which escapes it) holds it. */
const SEPARATOR = '\u001f';

export interface PackedColumns {
  /** VARCHAR columns, read as text. */
  text: readonly string[];
  /** Integer or boolean columns, read as numbers (`true`/`false` as booleans). */
  numbers?: readonly string[];
  /** Columns read as they are (lists, timestamps): each costs what it costs in `KeytrailDb.all`. */
  others?: readonly string[];
  /** ORDER BY list over the query's columns (any of them, read or not). */
  orderBy: string;
}

/**
 * The rows of `query`, in `orderBy` order, with the columns `text` and `numbers` read as one packed
 * text per row. The Node bindings convert every value on its own, at a microsecond or two each: for
 * the thousands of rows of a report's administrative calls or cross-account callers that is most of
 * its time, and one joined text per row costs a fraction of it.
 *
 * Row objects have the columns asked for, NULL as null (and two more properties: the packed text and
 * its NULLs). Should a value hold the separator after all, the query is read again value by value.
 */
export async function packedRows(db: KeytrailDb, query: string, params: Record<string, DuckDBValue>, columns: PackedColumns): Promise<Row[]> {
  const packed = [...columns.text, ...(columns.numbers ?? [])];
  const others = columns.others ?? [];
  if (packed.length === 0 || packed.length > 30) throw new Error(`packedRows: ${packed.length} packed columns (1 to 30)`);
  // A line comment at the end of the query would swallow what follows on its line.
  const from = `FROM (${query}\n) q ORDER BY ${columns.orderBy}`;
  const rows = await db.all(
    `SELECT ${others.map((c) => `q.${c}, `).join('')}
            concat_ws(chr(31), ${packed.map((c) => `coalesce(CAST(q.${c} AS VARCHAR), '')`).join(', ')}) AS packed_text__,
            (${packed.map((c, i) => `(q.${c} IS NULL)::INTEGER * ${2 ** i}`).join(' + ')})::INTEGER AS packed_nulls__
     ${from}`,
    params,
  );
  const numbers = new Set(columns.numbers);
  for (const r of rows) {
    const values = String(r['packed_text__']).split(SEPARATOR);
    if (values.length !== packed.length) return db.all(`SELECT ${[...others, ...packed].map((c) => `q.${c}`).join(', ')} ${from}`, params);
    const nulls = Number(r['packed_nulls__']);
    for (let i = 0; i < packed.length; i++) {
      const name = packed[i] as string;
      const value = values[i] as string;
      r[name] = (nulls & (2 ** i)) !== 0 ? null : !numbers.has(name) ? value : value === 'true' ? true : value === 'false' ? false : Number(value);
    }
  }
  return rows;
}
