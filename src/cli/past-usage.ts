import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_PAST_USAGE_DAYS, pastUsage, type PastUsageReport } from '../analysis/past-usage.js';
import { renderPastUsageHtml } from '../analysis/past-usage-html.js';
import { renderPastUsageMarkdown } from '../analysis/past-usage-markdown.js';
import { parseDay } from '../analysis/evidence.js';
import { loadConfig } from '../config/loader.js';
import { InputError, UsageError } from '../errors.js';
import { DEFAULT_DB, openReadDb } from './context.js';
import { printLine, printNotice } from './output.js';
import { EXIT, parseFormat, type CommandResult } from './result.js';

export interface PastUsageCommandOptions {
  days?: string;
  until?: string;
  format: string;
  out?: string;
  db?: string;
  lake?: string;
  config?: string;
}

type Runner = (work: () => Promise<CommandResult>) => Promise<void>;

const FORMATS = ['md', 'json', 'html'] as const;

/** `keytrail past-usage <key>`: who used a key, how and from where, before disabling or deleting it. */
export function registerPastUsageCommand(program: Command, run: Runner): Command {
  return program
    .command('past-usage')
    .description('who used a KMS key, how, from which accounts and services, and whether the stored evidence covers the window')
    .argument('<key>', 'key ARN, key id, alias/name or alias ARN (resolved through stored events)')
    .option('--days <n>', `window length in whole UTC days (default ${DEFAULT_PAST_USAGE_DAYS})`)
    .option('--until <date>', 'last day of the window, yyyy-mm-dd UTC (default: the day of the last stored event)')
    .option('--format <format>', 'md, json or html', 'md')
    .option('--out <file>', 'write the report to this file instead of printing it')
    .option('--config <file>', 'configuration file (default: KEYTRAIL_CONFIG, else ./keytrail.config.json|yaml|yml)')
    .option('--db <file>', 'DuckDB database file', DEFAULT_DB)
    .option('--lake <dir>', 'read a Parquet lake (keytrail export, or the S3 lake synced locally) instead of --db')
    .action((key: string, options: PastUsageCommandOptions) => run(() => pastUsageCommand(key, options)));
}

export async function pastUsageCommand(key: string, options: PastUsageCommandOptions): Promise<CommandResult> {
  const format = parseFormat(options.format, FORMATS, '--format');
  const days = options.days === undefined ? DEFAULT_PAST_USAGE_DAYS : parseDays(options.days);
  if (options.until !== undefined) parseUntil(options.until);
  const config = await loadConfig(options.config === undefined ? {} : { path: options.config });
  const db = await openReadDb(options);
  let report: PastUsageReport;
  try {
    report = await pastUsage(db, key, { days, ...(options.until !== undefined && { until: options.until }), config });
  } finally {
    db.close();
  }

  const text = format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : format === 'html' ? renderPastUsageHtml(report) : renderPastUsageMarkdown(report);
  if (options.out !== undefined) {
    await writeFile(options.out, text, 'utf8').catch((error: unknown) => {
      throw new InputError(`--out ${options.out}: cannot write: ${(error as Error).message}`, { cause: error });
    });
    printNotice(`${report.verdict.headline}\nwrote the ${format} report to ${resolve(options.out)}`);
  } else {
    printLine(text.trimEnd());
  }
  return { exitCode: EXIT.ok, summary: report };
}

function parseDays(value: string): number {
  const n = Number(value);
  // Ten years is more than any trail keeps; the bound also keeps the day-by-day evidence check small.
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < 1 || n > 3660) {
    throw new UsageError(`--days: expected a whole number of days from 1 to 3660 (got "${value}")`);
  }
  return n;
}

function parseUntil(value: string): void {
  try {
    parseDay(value);
  } catch {
    throw new UsageError(`--until: not a date (yyyy-mm-dd) or ISO-8601 time: "${value}"`);
  }
}
