import { resolve } from 'node:path';
import type { Command } from 'commander';
import { exportLake } from '../store/lake.js';
import { withDb } from './context.js';
import { printLine } from './output.js';
import { EXIT, type CommandResult } from './result.js';

export function registerExportCommand(program: Command, run: (work: () => Promise<CommandResult>) => Promise<void>): Command {
  return program
    .command('export')
    .description('write kms_events as Hive-partitioned Parquet (account_id=/event_date=, zstd)')
    .requiredOption('--lake <dir>', 'lake directory (kms_events/ is created inside it)')
    .option('--db <file>', 'DuckDB database file', 'keytrail.duckdb')
    .action((options: { lake: string; db?: string }) =>
      run(async () => {
        const result = await withDb(options.db, (db) => exportLake(db, resolve(options.lake)));
        printLine(`exported ${result.rows} rows in ${result.partitions} partitions to ${result.directory}`);
        return { exitCode: EXIT.ok, summary: result };
      }),
    );
}
