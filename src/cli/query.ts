import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { withDb } from './context.js';
import { printRows, type RowFormat } from './output.js';
import { EXIT, parseFormat, type CommandResult } from './result.js';

/** queries/ at the package root, wherever keytrail is run from. */
export const QUERIES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../queries');

export interface QueryOptions {
  db?: string;
  param: string[];
  format: string;
}

export function registerQueryCommand(program: Command, run: (work: () => Promise<CommandResult>) => Promise<void>): Command {
  return program
    .command('query')
    .description('run a query from queries/ by name, a .sql file, or SQL text, with bound parameters')
    .argument('<query>', 'name in queries/ (e.g. key-usage-by-principal), path to a .sql file, or "SQL"')
    .option('--db <file>', 'DuckDB database file', 'keytrail.duckdb')
    .option('--param <name=value>', 'bind $name to value (repeatable)', collect, [])
    .option('--format <format>', 'table, csv, json or jsonl', 'table')
    .action((query: string, options: QueryOptions) => run(() => queryCommand(query, options)));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export async function queryCommand(query: string, options: QueryOptions): Promise<CommandResult> {
  const format = parseFormat<RowFormat>(options.format, ['table', 'csv', 'json', 'jsonl'], '--format');
  const text = resolveQuery(query);
  const params = parseParams(options.param);
  const used = new Set([...text.matchAll(/\$([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]));
  for (const name of Object.keys(params)) {
    if (!used.has(name)) throw new UsageError(`--param ${name}: the query has no $${name} parameter`);
  }
  for (const name of used) {
    if (name && !(name in params)) throw new UsageError(`the query needs --param ${name}=…`);
  }
  const result = await withDb(options.db, (db) => db.table(text, params));
  printRows(format, result.columns, result.rows);
  return { exitCode: EXIT.ok, summary: result };
}

/** A name in queries/ (searched recursively), a .sql file path, or SQL text. */
export function resolveQuery(query: string): string {
  if (query.endsWith('.sql') && existsSync(query)) return readFileSync(query, 'utf8');
  const named = findNamedQuery(query);
  if (named) return readFileSync(named, 'utf8');
  if (/\s/.test(query)) return query;
  throw new UsageError(`no query named "${query}" in queries/, no such .sql file, and it is not SQL`);
}

export function listQueryFiles(dir = QUERIES_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return listQueryFiles(path);
    return entry.endsWith('.sql') ? [path] : [];
  });
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
