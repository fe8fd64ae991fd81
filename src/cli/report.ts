import { writeFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/loader.js';
import { UsageError } from '../errors.js';
import { buildReport, renderReport, REPORT_FORMATS, REPORT_NAMES, type Report, type ReportFormat } from '../reports/index.js';
import { DEFAULT_DB, openReadDb } from './context.js';
import { printLine, printNotice } from './output.js';
import { EXIT, parseFormat, type CommandResult } from './result.js';

export interface ReportCommandOptions {
  format?: string;
  out?: string;
  since?: string;
  until?: string;
  table?: string;
  db?: string;
  lake?: string;
  config?: string;
}

type Runner = (work: () => Promise<CommandResult>) => Promise<void>;

/** `keytrail report <name>`: compliance, one key, or cross-account use, as Markdown, HTML, CSV or JSON. */
export function registerReportCommand(program: Command, run: Runner): Command {
  return program
    .command('report')
    .description('compliance evidence, one key\'s history, or cross-account use, as Markdown, HTML (with charts), CSV or JSON')
    .argument('<name>', REPORT_NAMES.join(', '))
    .argument('[key]', 'for the key report: key ARN, key id, alias/name or alias ARN')
    .option('--format <format>', `${REPORT_FORMATS.join(', ')} (default: from the --out extension, else md)`)
    .option('--out <file>', 'write the report to this file instead of printing it')
    .option('--since <date>', 'first day of the period, yyyy-mm-dd UTC (default: the day of the first stored event)')
    .option('--until <date>', 'last day of the period, included, yyyy-mm-dd UTC (default: the day of the last stored event)')
    .option('--table <id>', 'csv: write only this table (default: every table, each as a "# <id>" section)')
    .option('--config <file>', 'configuration file (default: KEYTRAIL_CONFIG, else ./keytrail.config.json|yaml|yml)')
    .option('--db <file>', 'DuckDB database file', DEFAULT_DB)
    .option('--lake <dir>', 'read a Parquet lake instead of --db (it has no findings: those are in the database)')
    .action((name: string, key: string | undefined, options: ReportCommandOptions) => run(() => reportCommand(name, key, options)));
}

const EXTENSIONS: Readonly<Record<string, ReportFormat>> = { '.md': 'md', '.markdown': 'md', '.html': 'html', '.htm': 'html', '.csv': 'csv', '.json': 'json' };

export async function reportCommand(name: string, key: string | undefined, options: ReportCommandOptions): Promise<CommandResult> {
  const reportName = parseFormat(name, REPORT_NAMES, 'report name');
  if (reportName === 'key' && key === undefined) throw new UsageError('keytrail report key <key>: name the key (key ARN, key id, alias/name or alias ARN)');
  if (reportName !== 'key' && key !== undefined) throw new UsageError(`keytrail report ${reportName} takes no key (got "${key}")`);
  const format = options.format !== undefined ? parseFormat(options.format, REPORT_FORMATS, '--format') : (EXTENSIONS[extname(options.out ?? '').toLowerCase()] ?? 'md');
  if (options.table !== undefined && format !== 'csv') throw new UsageError('--table applies to --format csv only');
  const config = await loadConfig(options.config === undefined ? {} : { path: options.config });
  const db = await openReadDb(options);
  let report: Report;
  try {
    report = await buildReport(db, reportName, {
      config,
      ...(options.since !== undefined && { since: options.since }),
      ...(options.until !== undefined && { until: options.until }),
      ...(key !== undefined && { keyRef: key }),
    });
  } finally {
    db.close();
  }
  const text = await renderReport(report, format, options.table === undefined ? {} : { table: options.table });
  if (options.out !== undefined) {
    await writeFile(options.out, text.endsWith('\n') ? text : `${text}\n`, 'utf8');
    printNotice(`keytrail: ${reportName} report (${format}) written to ${resolve(options.out)}`);
  } else {
    printLine(text.replace(/\n$/, ''));
  }
  return { exitCode: EXIT.ok, summary: report };
}
