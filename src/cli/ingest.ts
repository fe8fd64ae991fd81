import type { Command } from 'commander';
import { loadConfig } from '../config/loader.js';
import { UsageError } from '../errors.js';
import { defaultWindow } from '../pipeline/detect.js';
import { ingestFiles, type IngestFilesSummary } from '../pipeline/ingest-files.js';
import { compactEvents, needsCompaction, storeLayout } from '../store/compact.js';
import { EventStore } from '../store/event-store.js';
import { withDb } from './context.js';
import { detectAndPublish, exitCodeFor, printDetection, sinksFrom } from './detect.js';
import { parseSeverity } from './findings.js';
import { printJson, printLine } from './output.js';
import { createIngestProgress } from './progress.js';
import { EXIT, parseFormat, type CommandResult } from './result.js';

export interface IngestOptions {
  db?: string;
  format: string;
  progress: boolean;
  detect?: boolean;
  publish?: boolean;
  failOn?: string;
  config?: string;
  compact: boolean;
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
    .option('--detect', 'run the detectors over the events this run stored, and the query detectors over their window')
    .option('--publish', 'with --detect: send findings to the configured SNS topic / EventBridge bus (each once)')
    .option('--fail-on <severity>', 'with --detect: exit 1 when a finding of this severity or higher is found')
    .option('--config <file>', 'configuration file (default: KEYTRAIL_CONFIG, else ./keytrail.config.json|yaml|yml)')
    .option('--no-compact', 'do not rewrite kms_events in key order when this run appended a large share of it')
    .action((paths: string[], options: IngestOptions) => run(() => ingestCommand(paths, options)));
}

export async function ingestCommand(paths: string[], options: IngestOptions, now = new Date()): Promise<CommandResult> {
  const format = parseFormat(options.format, ['text', 'json'] as const, '--format');
  if ((options.publish || options.failOn !== undefined) && !options.detect) {
    throw new UsageError('--publish and --fail-on go with --detect');
  }
  const failOn = options.failOn === undefined ? null : parseSeverity(options.failOn, '--fail-on');
  // Read and check the configuration before a long ingest, not after it.
  const config = options.detect ? await loadConfig(options.config === undefined ? {} : { path: options.config }) : null;
  const sinks = config && options.publish ? sinksFrom(config) : [];

  const { summary, detection } = await withDb(options.db, async (db) => {
    const progress = createIngestProgress(options.progress && format === 'text');
    let summary: IngestFilesSummary;
    try {
      summary = await ingestFiles(paths, { store: new EventStore(db), onProgress: progress.update, now: () => now });
    } finally {
      progress.stop();
    }
    const detection = config
      ? await detectAndPublish(db, config, { eventsIngestedSince: now.toISOString(), window: defaultWindow(config, now), now }, sinks)
      : null;
    // After detection: alerts do not wait for the rewrite.
    let compaction: { rows: number; seconds: number } | null = null;
    if (options.compact !== false && needsCompaction(await storeLayout(db))) {
      if (format === 'text') printLine('compacting kms_events in key order (per-key questions then read only that key’s row groups)…');
      const started = performance.now();
      const layout = await compactEvents(db);
      compaction = { rows: layout.rows, seconds: (performance.now() - started) / 1000 };
    }
    return { summary: { ...summary, compaction }, detection };
  });

  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  if (format === 'json') printJson({ ...summary, peakRssBytes, ...(detection ? { findings: detection.detection.findings } : {}) });
  else {
    printIngestSummary(summary);
    if (summary.compaction) printLine(`compacted:  ${summary.compaction.rows} rows in key order (${summary.compaction.seconds.toFixed(1)} s)`);
  }
  let exitCode: number = summary.rejected + summary.conflicts > 0 ? EXIT.badInput : EXIT.ok;
  if (detection) {
    if (format === 'text') {
      printLine();
      const findings = printDetection(detection, 'table', 'events stored by this run');
      if (exitCode === EXIT.ok) exitCode = exitCodeFor(findings, failOn);
    } else if (exitCode === EXIT.ok) {
      exitCode = exitCodeFor(detection.detection.findings, failOn);
    }
  }
  return { exitCode, summary };
}

export function printIngestSummary(s: IngestFilesSummary): void {
  const skipped = s.skippedFiles.digest + s.skippedFiles.insight;
  printLine(`files:      ${s.files} read, ${skipped} skipped (${s.skippedFiles.digest} digest, ${s.skippedFiles.insight} insight)`);
  printLine(`records:    ${s.records} read`);
  printLine(`new rows:   ${s.inserted}`);
  printLine(`duplicates: ${s.duplicates} (already stored, or delivered twice)`);
  if (s.conflicts > 0) {
    printLine(`conflicts:  ${s.conflicts} (eventID already used by another event: first copy kept, the others in rejected_records)`);
  }
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
