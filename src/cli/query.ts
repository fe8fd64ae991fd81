import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { withDb } from './context.js';
import { formatTable, printCsv, printJson, printJsonl, printLine, printRows, type RowFormat } from './output.js';
import { listQueryFiles, loadQueryCatalog, queryParameterNames, type QueryInfo } from './query-catalog.js';
import { EXIT, parseFormat, type CommandResult } from './result.js';

export { listQueryFiles, QUERIES_DIR } from './query-catalog.js';

export interface QueryOptions {
  db?: string;
  param: string[];
  format: string;
  list?: boolean;
}

export function registerQueryCommand(program: Command, run: (work: () => Promise<CommandResult>) => Promise<void>): Command {
  return program
    .command('query')
    .description('run a query from queries/ by name, a .sql file, or SQL text, with bound parameters')
    .argument('[query]', 'name in queries/ (e.g. key-usage-by-principal), path to a .sql file, or "SQL"')
    .option('--list', 'list the queries in queries/ with their purpose and parameters')
    .option('--db <file>', 'DuckDB database file', 'keytrail.duckdb')
    .option('--param <name=value>', 'bind $name to value (repeatable)', collect, [])
    .option('--format <format>', 'table, csv, json or jsonl', 'table')
    .action((query: string | undefined, options: QueryOptions) => run(() => queryCommand(query, options)));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export async function queryCommand(query: string | undefined, options: QueryOptions): Promise<CommandResult> {
  const format = parseFormat<RowFormat>(options.format, ['table', 'csv', 'json', 'jsonl'], '--format');
  if (options.list) {
    if (query !== undefined) throw new UsageError(`--list takes no query (got "${query}")`);
    return listCommand(format);
  }
  if (query === undefined) throw new UsageError('give a query: a name in queries/ (see --list), a .sql file, or "SQL"');
  const text = resolveQuery(query);
  const params = parseParams(options.param);
  const used = new Set(queryParameterNames(text));
  for (const name of Object.keys(params)) {
    if (!used.has(name)) throw new UsageError(`--param ${name}: the query has no $${name} parameter`);
  }
  for (const name of used) {
    if (!(name in params)) throw new UsageError(`the query needs --param ${name}=…`);
  }
  const result = await withDb(options.db, (db) => db.table(text, params));
  printRows(format, result.columns, result.rows);
  return { exitCode: EXIT.ok, summary: result };
}

/** `keytrail query --list`: each query's name, purpose and parameters, from its header comment. */
function listCommand(format: RowFormat): CommandResult {
  const catalog = loadQueryCatalog();
  const described = catalog.map(describeQuery);
  if (format === 'json') printJson(described);
  else if (format === 'jsonl') printJsonl(described);
  else {
    const columns = ['name', 'purpose', 'params'];
    const rows = catalog.map((q) => ({ name: q.name, purpose: q.purpose, params: q.params.map((p) => p.name).join(', ') }));
    if (format === 'csv') printCsv(columns, rows);
    // Purposes are whole sentences: the table is not clipped at the usual cell width.
    else printLine(formatTable(columns, rows, 1000));
  }
  return { exitCode: EXIT.ok, summary: described };
}

function describeQuery(q: QueryInfo) {
  return { name: q.name, file: q.file, purpose: q.purpose, params: q.params, columns: q.columns, athena: q.athena };
}

/** A name in queries/ (searched recursively), a .sql file path, or SQL text. */
export function resolveQuery(query: string): string {
  if (query.endsWith('.sql') && existsSync(query)) return readFileSync(query, 'utf8');
  const named = findNamedQuery(query);
  if (named) return readFileSync(named, 'utf8');
  if (/\s/.test(query)) return query;
  throw new UsageError(`no query named "${query}" in queries/ (see keytrail query --list), no such .sql file, and it is not SQL`);
}

function findNamedQuery(name: string): string | null {
  const wanted = name.replace(/\.sql$/, '');
  return listQueryFiles().find((path) => basename(path, '.sql') === wanted || path.endsWith(`/${wanted}.sql`)) ?? null;
}

function parseParams(pairs: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param expects name=value (got "${pair}")`);
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return params;
}
