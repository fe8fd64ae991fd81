import type { DuckDBValue } from '@duckdb/node-api';
import { UsageError } from '../errors.js';
import type { KeytrailDb } from '../store/database.js';
import { mergeRepeat } from './build.js';
import { FindingSchema, SEVERITIES, severityRank, type Finding, type Severity } from './finding.js';

/** A finding as stored, with what the table keeps beside it. */
export interface StoredFinding {
  finding: Finding;
  /** The suppression that matched (`suppressions[2] (reason: …)`), or null. */
  suppressedBy: string | null;
  status: string;
  firstSeenAt: string;
  lastSeenAt: string;
}

/** A finding to upsert, with the suppression that matched it (or null). */
export interface FindingToStore {
  finding: Finding;
  suppressedBy: string | null;
}

/** What an upsert did with one finding. */
export interface UpsertOutcome {
  /** As stored after the upsert (for an existing id: event ids merged). */
  stored: StoredFinding;
  created: boolean;
}

/** Filters for listing findings; all optional, combined with AND. */
export interface FindingFilter {
  /** Findings that occurred at or after this date/time. */
  since?: string;
  /** This severity or higher. */
  minSeverity?: Severity;
  detector?: string;
  /** Suppressed findings are left out unless this is true. */
  includeSuppressed?: boolean;
  limit?: number;
}

const ISO = (column: string) => `strftime(${column}, '%Y-%m-%dT%H:%M:%S.%gZ')`;
const SEVERITY_RANK_SQL = `CASE severity ${SEVERITIES.map((s, i) => `WHEN '${s}' THEN ${i}`).join(' ')} END`;

/**
 * The `findings` table: one row per finding_id. Storing a finding whose id exists updates
 * `last_seen_at`, merges `event_ids` and keeps everything else as first stored (a retried batch or a
 * re-run of detection never makes a second row or a second alert); `suppressed_by` follows the
 * current configuration.
 */
export class FindingStore {
  constructor(private readonly db: KeytrailDb) {}

  async upsert(items: readonly FindingToStore[], now: Date): Promise<UpsertOutcome[]> {
    const seenAt = now.toISOString();
    return this.db.transaction(async () => {
      const outcomes: UpsertOutcome[] = [];
      for (const item of items) outcomes.push(await this.upsertOne(item, seenAt));
      return outcomes;
    });
  }

  private async upsertOne({ finding, suppressedBy }: FindingToStore, seenAt: string): Promise<UpsertOutcome> {
    const existing = await this.get(finding.finding_id);
    if (!existing) {
      await this.db.exec(
        `INSERT INTO findings (finding_id, detector_id, severity, occurred_at, account_id, region, key_arn, principal_arn,
           principal_account_id, title, summary, status, suppressed_by, first_seen_at, last_seen_at, finding)
         VALUES ($id, $detector, $severity, $occurred::TIMESTAMP, $account, $region, $key, $principal, $principalAccount,
           $title, $summary, 'open', $suppressedBy, $seen::TIMESTAMP, $seen::TIMESTAMP, $finding::JSON)`,
        {
          id: finding.finding_id,
          detector: finding.detector_id,
          severity: finding.severity,
          occurred: finding.occurred_at,
          account: finding.account_id,
          region: finding.region,
          key: finding.key_arn,
          principal: finding.principal_arn,
          principalAccount: finding.principal_account_id,
          title: finding.title,
          summary: finding.summary,
          suppressedBy,
          seen: seenAt,
          finding: JSON.stringify(finding),
        },
      );
      return { stored: { finding, suppressedBy, status: 'open', firstSeenAt: seenAt, lastSeenAt: seenAt }, created: true };
    }
    const merged = mergeRepeat(existing.finding, finding);
    await this.db.exec(
      `UPDATE findings SET last_seen_at = $seen::TIMESTAMP, occurred_at = $occurred::TIMESTAMP, suppressed_by = $suppressedBy,
         finding = $finding::JSON
       WHERE finding_id = $id`,
      { id: finding.finding_id, seen: seenAt, occurred: merged.occurred_at, suppressedBy, finding: JSON.stringify(merged) },
    );
    return { stored: { ...existing, finding: merged, suppressedBy, lastSeenAt: seenAt }, created: false };
  }

  async get(findingId: string): Promise<StoredFinding | null> {
    const rows = await this.db.all(`${SELECT} WHERE finding_id = $id`, { id: findingId });
    return rows[0] ? toStored(rows[0]) : null;
  }

  /** Findings matching the filter, most recent first. */
  async list(filter: FindingFilter = {}): Promise<StoredFinding[]> {
    const { where, params } = whereClause(filter);
    const limit = filter.limit === undefined ? '' : ' LIMIT $limit';
    if (filter.limit !== undefined) params['limit'] = filter.limit;
    const rows = await this.db.all(`${SELECT}${where} ORDER BY occurred_at DESC, finding_id${limit}`, params);
    return rows.map(toStored);
  }

  /** How many findings match the filter (to say how many suppressed ones a listing left out). */
  async count(filter: FindingFilter = {}): Promise<number> {
    const { where, params } = whereClause(filter);
    const rows = await this.db.all(`SELECT count(*)::INTEGER AS n FROM findings${where}`, params);
    return Number(rows[0]?.['n'] ?? 0);
  }
}

const SELECT = `SELECT finding, suppressed_by, status, ${ISO('first_seen_at')} AS first_seen_at, ${ISO('last_seen_at')} AS last_seen_at
  FROM findings`;

function whereClause(filter: FindingFilter): { where: string; params: Record<string, DuckDBValue> } {
  const conditions: string[] = [];
  const params: Record<string, DuckDBValue> = {};
  if (filter.since !== undefined) {
    const ms = Date.parse(filter.since);
    if (Number.isNaN(ms)) throw new UsageError(`--since: not a date or timestamp: "${filter.since}"`);
    conditions.push('occurred_at >= $since::TIMESTAMP');
    params['since'] = new Date(ms).toISOString();
  }
  if (filter.minSeverity !== undefined) {
    conditions.push(`${SEVERITY_RANK_SQL} >= $minRank`);
    params['minRank'] = severityRank(filter.minSeverity);
  }
  if (filter.detector !== undefined) {
    conditions.push('detector_id = $detector');
    params['detector'] = filter.detector;
  }
  if (!filter.includeSuppressed) conditions.push('suppressed_by IS NULL');
  return { where: conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`, params };
}

function toStored(row: Record<string, unknown>): StoredFinding {
  const raw = row['finding'];
  // The JSON column comes back as text or as a parsed value depending on the reader.
  const finding = FindingSchema.parse(typeof raw === 'string' ? JSON.parse(raw) : raw);
  return {
    finding,
    suppressedBy: row['suppressed_by'] === null || row['suppressed_by'] === undefined ? null : String(row['suppressed_by']),
    status: String(row['status']),
    firstSeenAt: String(row['first_seen_at']),
    lastSeenAt: String(row['last_seen_at']),
  };
}
