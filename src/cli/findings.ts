import type { Command } from 'commander';
import { detectorById } from '../detectors/index.js';
import { UsageError } from '../errors.js';
import { SEVERITIES, severityRank, type Finding, type Severity } from '../findings/finding.js';
import { FindingStore, type FindingFilter, type StoredFinding } from '../findings/store.js';
import { withDb } from './context.js';
import { formatTable, printJson, printJsonl, printLine, printNotice } from './output.js';
import { EXIT, parseFormat, type CommandResult } from './result.js';

export interface FindingsOptions {
  db?: string;
  since?: string;
  severity?: string;
  detector?: string;
  format: string;
  includeSuppressed?: boolean;
  limit?: string;
}

type Runner = (work: () => Promise<CommandResult>) => Promise<void>;

/** `keytrail findings`: list stored findings, most recent first. */
export function registerFindingsCommand(program: Command, run: Runner): Command {
  return program
    .command('findings')
    .description('list stored findings, most recent first (suppressed ones only with --include-suppressed)')
    .option('--since <date>', 'findings that occurred at or after this date or ISO-8601 time')
    .option('--severity <severity>', `this severity or higher: ${SEVERITIES.join(', ')}`)
    .option('--detector <id>', 'one detector, e.g. KMS.KeyDeletionScheduled')
    .option('--include-suppressed', 'also list findings a configured suppression matched')
    .option('--limit <n>', 'at most this many')
    .option('--format <format>', 'table, json or jsonl', 'table')
    .option('--db <file>', 'DuckDB database file', 'keytrail.duckdb')
    .action((options: FindingsOptions) => run(() => findingsCommand(options)));
}

export async function findingsCommand(options: FindingsOptions): Promise<CommandResult> {
  const format = parseFormat(options.format, ['table', 'json', 'jsonl'] as const, '--format');
  const filter: FindingFilter = {
    ...(options.since !== undefined ? { since: parseSince(options.since) } : {}),
    ...(options.severity !== undefined ? { minSeverity: parseSeverity(options.severity, '--severity') } : {}),
    ...(options.detector !== undefined ? { detector: parseDetectorId(options.detector) } : {}),
    ...(options.limit !== undefined ? { limit: parseLimit(options.limit) } : {}),
    includeSuppressed: options.includeSuppressed ?? false,
  };
  const { listed, hidden } = await withDb(options.db, async (db) => {
    const store = new FindingStore(db);
    const listed = await store.list(filter);
    const hidden = filter.includeSuppressed ? 0 : (await store.count({ ...filter, includeSuppressed: true })) - (await store.count(filter));
    return { listed, hidden };
  });

  const output = listed.map(findingOutput);
  if (format === 'json') printJson(output);
  else if (format === 'jsonl') printJsonl(output);
  else {
    printLine(formatTable(FINDING_COLUMNS, listed.map(findingRow), 90));
    printLine(`(${listed.length} finding${listed.length === 1 ? '' : 's'})`);
  }
  if (hidden > 0) printNotice(`${hidden} suppressed finding${hidden === 1 ? '' : 's'} not shown (--include-suppressed shows them)`);
  return { exitCode: EXIT.ok, summary: { findings: listed, hiddenSuppressed: hidden } };
}

export const FINDING_COLUMNS = ['occurred', 'severity', 'detector', 'key', 'caller', 'account', 'summary'] as const;

/** One table row: the key by id (ARNs are long), the caller short, the suppression if any. */
export function findingRow({ finding: f, suppressedBy }: Pick<StoredFinding, 'finding' | 'suppressedBy'>): Record<string, string> {
  const keyId = typeof f.context['keyId'] === 'string' ? f.context['keyId'] : null;
  return {
    occurred: f.occurred_at.replace(/\.\d{3}Z$/, 'Z'),
    severity: f.severity,
    detector: f.detector_id,
    key: f.key_arn?.replace(/^.*:key\//, '') ?? keyId ?? '',
    caller: callerOf(f),
    account: f.principal_account_id ?? f.account_id ?? '',
    summary: suppressedBy ? `[suppressed: ${suppressedBy}] ${f.summary}` : f.summary,
  };
}

/** JSON output is the finding itself; a suppressed one (listed on request) says which suppression matched. */
function findingOutput({ finding, suppressedBy }: StoredFinding): Finding | (Finding & { suppressed_by: string }) {
  return suppressedBy === null ? finding : { ...finding, suppressed_by: suppressedBy };
}

export function parseSeverity(value: string, flag: string): Severity {
  return parseFormat(value, SEVERITIES, flag);
}

function parseDetectorId(value: string): string {
  if (detectorById(value)) return value;
  throw new UsageError(`--detector: no detector "${value}" (see docs/DETECTORS.md for the ids)`);
}

/** A date or ISO-8601 time; a bare date is midnight UTC. */
export function parseSince(value: string): string {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(ms)) throw new UsageError(`--since: not a date or ISO-8601 time: "${value}"`);
  return new Date(ms).toISOString();
}

function parseLimit(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--limit: expected a positive whole number (got "${value}")`);
  return n;
}

/** Most severe first, then in time order. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      a.occurred_at.localeCompare(b.occurred_at) ||
      a.detector_id.localeCompare(b.detector_id) ||
      a.finding_id.localeCompare(b.finding_id),
  );
}

export function callerOf(f: Pick<Finding, 'principal_arn' | 'context'>): string {
  const arn = f.principal_arn;
  if (arn) {
    const m = /^arn:[^:]+:(?:sts|iam)::\d{12}:(?:assumed-role\/)?(.+)$/.exec(arn);
    const name = m?.[1] ?? arn;
    const sso = /^AWSReservedSSO_(.+)_[0-9a-f]{16}\/([^@]+)(?:@.*)?$/.exec(name);
    return sso ? `sso:${sso[1] ?? ''}/${sso[2] ?? ''}` : name;
  }
  const invokedBy = f.context['invokedBy'];
  return typeof invokedBy === 'string' ? invokedBy : '';
}
