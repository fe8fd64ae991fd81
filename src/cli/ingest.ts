import type { Command } from 'commander';
import { ingestFiles, type IngestFilesSummary } from '../pipeline/ingest-files.js';
import { EventStore } from '../store/event-store.js';
import { withDb } from './context.js';
import { printJson, printLine } from './output.js';
import { createIngestProgress } from './progress.js';
import { EXIT, parseFormat, type CommandResult } from './result.js';

export interface IngestOptions {
  db?: string;
  format: string;
  progress: boolean;
}

/** `keytrail ingest <paths…>`: read trail files / NDJSON / EventBridge exports into the database. */
export function registerIngestCommand(program: Command, run: (work: () => Promise<CommandResult>) => Promise<void>): Command {
  return program
    .command('ingest')
    .description('ingest CloudTrail delivery files (.json, .json.gz), NDJSON of records, and EventBridge events; directories are walked')
    .argument('<paths...>', 'files or directories')
    .option('--db <file>', 'DuckDB database file', 'keytrail.duckdb')
    .option('--format <format>', 'summary format: text or json', 'text')
    .option('--no-progress', 'no progress output')
    .action((paths: string[], options: IngestOptions) => run(() => ingestCommand(paths, options)));
}

export async function ingestCommand(paths: string[], options: IngestOptions): Promise<CommandResult> {
  const format = parseFormat(options.format, ['text', 'json'] as const, '--format');
  const summary = await withDb(options.db, async (db) => {
    const progress = createIngestProgress(options.progress && format === 'text');
    try {
      return await ingestFiles(paths, { store: new EventStore(db), onProgress: progress.update });
    } finally {
      progress.stop();
    }
  });
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  if (format === 'json') printJson({ ...summary, peakRssBytes });
  else printIngestSummary(summary);
  return { exitCode: summary.rejected > 0 ? EXIT.badInput : EXIT.ok, summary };
}

export function printIngestSummary(s: IngestFilesSummary): void {
  const skipped = s.skippedFiles.digest + s.skippedFiles.insight;
  printLine(`files:      ${s.files} read, ${skipped} skipped (${s.skippedFiles.digest} digest, ${s.skippedFiles.insight} insight)`);
  printLine(`records:    ${s.records} read`);
  printLine(`new rows:   ${s.inserted}`);
  printLine(`duplicates: ${s.duplicates} (already stored, or delivered twice)`);
  printLine(`ignored:    ${s.ignored} (not KMS or trail-configuration events)`);
  printLine(`rejected:   ${s.rejected}${s.rejected > 0 ? ' (kept in table rejected_records)' : ''}`);
  for (const r of s.firstRejections) {
    printLine(`  - ${r.sourceUri}${r.position === null ? '' : ` #${r.position}`}: ${r.reason}`);
  }
  if (s.rejected > s.firstRejections.length) {
    printLine(`  … and ${s.rejected - s.firstRejections.length} more: keytrail query "SELECT * FROM rejected_records"`);
  }
  const seconds = s.elapsedMs / 1000;
  printLine(`time:       ${seconds.toFixed(1)} s (${Math.round(s.records / Math.max(seconds, 0.001))} records/s)`);
}
