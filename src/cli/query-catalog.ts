import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeytrailError } from '../errors.js';

/** queries/ at the package root, wherever keytrail is run from. */
export const QUERIES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../queries');

/** A query file's header is missing, malformed, or disagrees with its SQL. */
export class QueryHeaderError extends KeytrailError {}

export interface QueryParam {
  name: string;
  /** What to pass, from the header (`key (key ARN, key id or alias/name)` → `key ARN, key id or alias/name`). */
  description: string;
}

/**
 * The header comment every file in queries/ starts with:
 *
 * ```sql
 * -- purpose: Who used a key, how often, and when first/last.
 * -- params: key (key ARN, key id or alias/name), since (UTC timestamp, inclusive)
 * -- columns: principal_arn, calls, first_seen
 * -- athena: json_extract_string → json_extract_scalar
 * ```
 *
 * One `-- field: value` per line; a line `--` followed by two or more spaces continues the field
 * above it. `purpose`, `params` (`none` when there are none) and `columns` are required, `athena`
 * (notes for running the query on Amazon Athena) may repeat. The header ends at the first line that
 * is not a `--` comment.
 */
export interface QueryHeader {
  purpose: string;
  params: QueryParam[];
  columns: string[];
  athena: string[];
}

export interface QueryInfo extends QueryHeader {
  /** File name without `.sql`: what `keytrail query <name>` takes. */
  name: string;
  /** Path relative to queries/, with forward slashes (`audit/key-usage-by-principal.sql`). */
  file: string;
  path: string;
  sql: string;
}

const FIELDS = ['purpose', 'params', 'columns', 'athena'] as const;
type Field = (typeof FIELDS)[number];
const FIELD_LINE = /^--\s?([A-Za-z_]+):\s*(.*)$/;
const CONTINUATION_LINE = /^-- {2,}(\S.*)$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parse and check the header of one query file; `file` names it in error messages. */
export function parseQueryHeader(text: string, file: string): QueryHeader {
  const values: Partial<Record<Field, string[]>> = {};
  let current: { field: Field; index: number } | null = null;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trimEnd();
    if (!line.startsWith('--')) break;
    const where = `${file}:${i + 1}`;
    const continued = CONTINUATION_LINE.exec(line);
    if (continued && current) {
      const list = values[current.field] ?? [];
      list[current.index] = `${list[current.index] ?? ''} ${continued[1] ?? ''}`.trim();
      continue;
    }
    const m = FIELD_LINE.exec(line);
    if (!m) throw new QueryHeaderError(`${where}: expected "-- field: value" (fields: ${FIELDS.join(', ')}), got "${line}"`);
    const name = (m[1] ?? '').toLowerCase();
    if (!(FIELDS as readonly string[]).includes(name)) {
      throw new QueryHeaderError(`${where}: unknown header field "${m[1]}" (fields: ${FIELDS.join(', ')})`);
    }
    const field = name as Field;
    const list = values[field] ?? [];
    if (list.length > 0 && field !== 'athena') throw new QueryHeaderError(`${where}: "${field}" is given twice`);
    list.push((m[2] ?? '').trim());
    values[field] = list;
    current = { field, index: list.length - 1 };
  }

  const required = (field: Exclude<Field, 'athena'>): string => {
    const value = values[field]?.[0];
    if (!value) throw new QueryHeaderError(`${file}: the header has no "-- ${field}:" line (every query starts with purpose, params and columns)`);
    return value;
  };
  const purpose = required('purpose');
  const params = parseParams(required('params'), file);
  const columns = required('columns').split(',').map((c) => c.trim());
  for (const column of columns) {
    if (!IDENTIFIER.test(column)) throw new QueryHeaderError(`${file}: columns: "${column}" is not a column name`);
  }
  return { purpose, params, columns, athena: values.athena ?? [] };
}

/** `key (key ARN, key id or alias), since (ISO timestamp)`: commas inside parentheses do not split. */
function parseParams(value: string, file: string): QueryParam[] {
  if (value.toLowerCase() === 'none') return [];
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      items.push(value.slice(start, i));
      start = i + 1;
    }
  }
  items.push(value.slice(start));
  const params = items.map((item) => {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$/.exec(item);
    if (!m?.[1]) throw new QueryHeaderError(`${file}: params: expected "name (description)", got "${item.trim()}"`);
    return { name: m[1], description: (m[2] ?? '').trim() };
  });
  const seen = new Set<string>();
  for (const p of params) {
    if (seen.has(p.name)) throw new QueryHeaderError(`${file}: params: "${p.name}" is listed twice`);
    seen.add(p.name);
  }
  return params;
}

/**
 * The `$name` parameters a SQL text binds, in order of first use. Comments, string literals and
 * quoted identifiers are skipped, so a `$` in a header or a JSON path (`'$.keyId'`) is not one.
 */
export function queryParameterNames(text: string): string[] {
  const names: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end + 1;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
    } else if (c === "'" || c === '"') {
      // SQL escapes a quote by doubling it, which this loop reads as two adjacent literals.
      const end = text.indexOf(c, i + 1);
      i = end === -1 ? text.length : end + 1;
    } else if (c === '$') {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
      if (m && !names.includes(m[0])) names.push(m[0]);
      i += 1 + (m?.[0].length ?? 0);
    } else {
      i++;
    }
  }
  return names;
}

/** Every `.sql` file under `dir`, recursively, sorted. */
export function listQueryFiles(dir = QUERIES_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return listQueryFiles(path);
      return entry.endsWith('.sql') ? [path] : [];
    });
}

/** Read one query file: its header, checked against the parameters its SQL binds. */
export function readQuery(path: string, root = QUERIES_DIR): QueryInfo {
  const file = relative(root, path).split(sep).join('/');
  const sql = readFileSync(path, 'utf8');
  const header = parseQueryHeader(sql, file);
  const declared = header.params.map((p) => p.name);
  const used = queryParameterNames(sql);
  const undeclared = used.filter((n) => !declared.includes(n));
  const unused = declared.filter((n) => !used.includes(n));
  if (undeclared.length > 0) throw new QueryHeaderError(`${file}: the SQL binds ${undeclared.map((n) => `$${n}`).join(', ')}, missing from "-- params:"`);
  if (unused.length > 0) throw new QueryHeaderError(`${file}: "-- params:" lists ${unused.join(', ')}, which the SQL never binds`);
  return { name: basename(path, '.sql'), file, path, sql, ...header };
}

/** Every query in `dir`, sorted by name; names must be unique across folders. */
export function loadQueryCatalog(dir = QUERIES_DIR): QueryInfo[] {
  const queries = listQueryFiles(dir).map((path) => readQuery(path, dir));
  const byName = new Map<string, QueryInfo>();
  for (const q of queries) {
    const other = byName.get(q.name);
    if (other) throw new QueryHeaderError(`${q.file} and ${other.file} have the same name; \`keytrail query ${q.name}\` would be ambiguous`);
    byName.set(q.name, q);
  }
  return queries.sort((a, b) => a.name.localeCompare(b.name));
}
