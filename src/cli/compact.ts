import type { Command } from 'commander';
import { compactEvents, storeLayout } from '../store/compact.js';
import { withDb } from './context.js';
import { printLine } from './output.js';
import { EXIT, type CommandResult } from './result.js';

/** `keytrail compact`: rewrite kms_events in key order now (ingest does it when a run appended a large share). */
export function registerCompactCommand(program: Command, run: (work: () => Promise<CommandResult>) => Promise<void>): Command {
  return program
    .command('compact')
    .description('rewrite kms_events ordered by key_id, event_time, so per-key questions read only that key’s row groups')
    .option('--db <file>', 'DuckDB database file', 'keytrail.duckdb')
    .action((options: { db?: string }) =>
      run(async () => {
        const summary = await withDb(options.db, async (db) => {
          const before = await storeLayout(db);
          printLine(`compacting ${before.rows} rows (${before.rows - before.sortedRows} appended since the last compaction)…`);
          const started = performance.now();
          const after = await compactEvents(db);
          return { rows: after.rows, seconds: (performance.now() - started) / 1000, compactedAt: after.compactedAt };
        });
        printLine(`compacted ${summary.rows} rows in key order in ${summary.seconds.toFixed(1)} s`);
        return { exitCode: EXIT.ok, summary };
      }),
    );
}
