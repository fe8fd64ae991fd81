import type { Command } from 'commander';
import { EventBridgeSink } from '../alerts/eventbridge-sink.js';
import { publishFindings, type PublishSummary } from '../alerts/publish.js';
import type { AlertSink } from '../alerts/sink.js';
import { SnsSink } from '../alerts/sns-sink.js';
import { loadConfig } from '../config/loader.js';
import type { KeytrailConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import { severityRank, type Finding, type Severity } from '../findings/finding.js';
import { AlertLedger } from '../findings/ledger.js';
import { defaultWindow, isSendable, runDetection, type DetectionResult, type RunDetectionOptions } from '../pipeline/detect.js';
import { logger } from '../logger.js';
import type { KeytrailDb } from '../store/database.js';
import { withDb } from './context.js';
import { FINDING_COLUMNS, findingRow, parseSeverity, parseSince, sortFindings } from './findings.js';
import { formatTable, printJson, printJsonl, printLine, printNotice } from './output.js';
import { EXIT, parseFormat, type CommandResult } from './result.js';

export interface DetectOptions {
  db?: string;
  config?: string;
  since?: string;
  publish?: boolean;
  failOn?: string;
  format: string;
}

type Runner = (work: () => Promise<CommandResult>) => Promise<void>;

/**
 * Detection's logger on a terminal: problems to stderr as one line each, the run summary (which the
 * command prints itself) nowhere. The shared logger's level is fixed at import, before the CLI runs.
 */
export const CLI_DETECTION_LOGGER: NonNullable<RunDetectionOptions['logger']> = {
  error: (message: string, ...data: unknown[]) => printNotice(`keytrail: ${message} ${data.map((d) => JSON.stringify(d)).join(' ')}`.trimEnd()),
  warn: (message: string, ...data: unknown[]) => printNotice(`keytrail: ${message} ${data.map((d) => JSON.stringify(d)).join(' ')}`.trimEnd()),
  info: () => undefined,
  debug: () => undefined,
};

/** Publishing throws what it could not deliver (printed by the runner); its JSON logs stay off stdout. */
const QUIET_PUBLISH_LOGGER = logger.createChild({ logLevel: 'SILENT' });

/** `keytrail detect`: run the detectors again over stored events (query detectors over the window). */
export function registerDetectCommand(program: Command, run: Runner): Command {
  return program
    .command('detect')
    .description('run every detector over stored events since --since (default: detection.query_window_days ago) and store the findings')
    .option('--since <date>', 'events that occurred at or after this date or ISO-8601 time; also the query detectors\' window start')
    .option('--publish', 'send the findings to the configured SNS topic / EventBridge bus (each finding once)')
    .option('--fail-on <severity>', 'exit 1 when a finding of this severity or higher is found')
    .option('--config <file>', 'configuration file (default: KEYTRAIL_CONFIG, else ./keytrail.config.json|yaml|yml)')
    .option('--format <format>', 'table, json or jsonl', 'table')
    .option('--db <file>', 'DuckDB database file', 'keytrail.duckdb')
    .action((options: DetectOptions) => run(() => detectCommand(options)));
}

export interface DetectSummary {
  detection: DetectionResult;
  published: PublishSummary | null;
}

export async function detectCommand(options: DetectOptions, now = new Date()): Promise<CommandResult> {
  const format = parseFormat(options.format, ['table', 'json', 'jsonl'] as const, '--format');
  const failOn = options.failOn === undefined ? null : parseSeverity(options.failOn, '--fail-on');
  const config = await loadConfig(options.config === undefined ? {} : { path: options.config });
  const window = options.since === undefined ? defaultWindow(config, now) : { from: parseSince(options.since), to: now.toISOString() };
  const since = window.from;
  const sinks = options.publish ? sinksFrom(config) : [];

  const summary = await withDb(options.db, (db) =>
    detectAndPublish(db, config, { eventsSince: since, window, now }, sinks),
  );
  const findings = printDetection(summary, format, `events since ${since}`);
  return { exitCode: exitCodeFor(findings, failOn), summary };
}

/**
 * One detection run and, when sinks are given, publication of what it found (each finding once per
 * sink, through the ledger). Shared by `detect` and `ingest --detect`.
 */
export async function detectAndPublish(
  db: KeytrailDb,
  config: KeytrailConfig,
  selection: Omit<RunDetectionOptions, 'logger'>,
  sinks: readonly AlertSink[],
): Promise<DetectSummary> {
  const detection = await runDetection(db, config, { ...selection, logger: CLI_DETECTION_LOGGER });
  const published =
    sinks.length > 0
      ? await publishFindings(detection.findings, {
          sinks: [...sinks],
          ledger: new AlertLedger(db),
          minSeverity: config.alerts.min_severity,
          shouldSend: (f) => isSendable(f),
          logger: QUIET_PUBLISH_LOGGER,
        })
      : null;
  return { detection, published };
}

/** Print a detection run's findings and summary; returns the findings, most severe first. */
export function printDetection(summary: DetectSummary, format: 'table' | 'json' | 'jsonl', scope: string): Finding[] {
  const findings = sortFindings(summary.detection.findings);
  if (format === 'json') printJson(findings);
  else if (format === 'jsonl') printJsonl(findings);
  else printLine(formatTable(FINDING_COLUMNS, findings.map((finding) => findingRow({ finding, suppressedBy: null })), 90));
  const report = format === 'table' ? printLine : printNotice;
  for (const line of summaryLines(summary, scope)) report(line);
  return findings;
}

/** `--fail-on`: exit 1 when a finding at or above the threshold was found. */
export function exitCodeFor(findings: readonly Finding[], failOn: Severity | null): number {
  return failOn !== null && findings.some((f) => atLeast(f.severity, failOn)) ? EXIT.findings : EXIT.ok;
}

function atLeast(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) >= severityRank(threshold);
}

function summaryLines({ detection, published }: DetectSummary, scope: string): string[] {
  const c = detection.counts;
  const lines = [
    `${scope}: ${c.evaluated} evaluated`,
    `findings: ${c.created + c.updated} (${c.created} new, ${c.updated} seen before), of which ${c.suppressed} suppressed (stored, not shown)`,
  ];
  const errors = Object.entries(c.detectorErrors);
  if (errors.length > 0) lines.push(`detector errors: ${errors.map(([id, n]) => `${id} ×${n}`).join(', ')} (the other detectors ran)`);
  if (published) {
    lines.push(
      `published: ${published.sent} sent, ${published.skippedAlreadyPublished} already sent, ${published.belowSeverity} below alerts.min_severity, ${published.filteredOut} not for sending (evidence or experimental)`,
    );
  }
  return lines;
}

/** The alert sinks the configuration names; `--publish` without any is a usage error. */
export function sinksFrom(config: KeytrailConfig): AlertSink[] {
  const { alerts } = config;
  const sinks: AlertSink[] = [];
  if (alerts.sns_topic_arn) {
    sinks.push(
      new SnsSink({
        topicArn: alerts.sns_topic_arn,
        logger: QUIET_PUBLISH_LOGGER,
        ...(alerts.region ? { region: alerts.region } : {}),
        ...(alerts.sns_endpoint ? { endpoint: alerts.sns_endpoint } : {}),
      }),
    );
  }
  if (alerts.event_bus) {
    sinks.push(
      new EventBridgeSink({
        busName: alerts.event_bus,
        logger: QUIET_PUBLISH_LOGGER,
        ...(alerts.region ? { region: alerts.region } : {}),
        ...(alerts.eventbridge_endpoint ? { endpoint: alerts.eventbridge_endpoint } : {}),
      }),
    );
  }
  if (sinks.length === 0) {
    throw new UsageError('--publish: no alert destination: set alerts.sns_topic_arn or alerts.event_bus in the configuration (or KEYTRAIL_SNS_TOPIC_ARN / KEYTRAIL_EVENT_BUS)');
  }
  return sinks;
}
