import { createHash } from 'node:crypto';
import type { KeytrailConfig } from '../config/schema.js';
import type { DetectorMeta, FindingDraft } from '../detectors/types.js';
import { KeytrailError } from '../errors.js';
import { FINDING_SCHEMA_VERSION, FindingSchema, type Finding } from './finding.js';

/** A detector produced a draft that does not make a valid finding (a bug in the detector). */
export class FindingBuildError extends KeytrailError {}

const HOUR_MS = 3_600_000;

/**
 * The dedup window of a detector in hours: config `dedup_window_hours_by_detector`, else the
 * detector's own default, else config `dedup_window_hours`. Null for once-per-key detectors.
 */
export function dedupWindowHours(detector: DetectorMeta, config: KeytrailConfig): number | null {
  const configured = config.detection.dedup_window_hours_by_detector[detector.id];
  if (configured !== undefined) return configured;
  if (detector.oncePerDedupKey) return null;
  return detector.dedupWindowHours ?? config.detection.dedup_window_hours;
}

/**
 * Deterministic finding id: the first 32 hex digits of sha256(`detector | dedup key | window bucket`),
 * bucket = floor(occurredAt / window). The same draft from a retried batch gets the same id.
 */
export function findingId(detectorId: string, dedupKey: string, occurredAt: string, windowHours: number | null): string {
  const bucket = windowHours === null ? 'once' : String(Math.floor(Date.parse(occurredAt) / (windowHours * HOUR_MS)));
  return createHash('sha256').update(`${detectorId}|${dedupKey}|${bucket}`).digest('hex').slice(0, 32);
}

/**
 * Turn a detector's draft into a validated Finding: id, title, runbook and references from the
 * detector, severity from the draft (or the detector), overridden by config `severity_overrides`.
 * Throws FindingBuildError naming the detector when the result fails FindingSchema.
 */
export function buildFinding(draft: FindingDraft, detector: DetectorMeta, config: KeytrailConfig): Finding {
  const occurredAt = toIsoOrSelf(draft.occurredAt);
  const candidate = {
    schema_version: FINDING_SCHEMA_VERSION,
    finding_id: findingId(detector.id, draft.dedupKey, occurredAt, dedupWindowHours(detector, config)),
    detector_id: detector.id,
    severity: config.severity_overrides[detector.id] ?? draft.severity ?? detector.severity,
    title: detector.title,
    summary: draft.summary,
    occurred_at: occurredAt,
    account_id: draft.accountId,
    region: draft.region,
    key_arn: draft.keyArn,
    principal_arn: draft.principalArn,
    principal_account_id: draft.principalAccountId,
    event_ids: [...new Set(draft.eventIds)],
    context: draft.context,
    runbook: [...detector.runbook],
    references: [...detector.references],
  };
  const parsed = FindingSchema.safeParse(candidate);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new FindingBuildError(`detector ${detector.id} produced an invalid finding: ${issues}`, { cause: parsed.error });
  }
  return parsed.data;
}

/** `occurred_at` must be ISO-8601 UTC; an unparseable value is left for the schema to reject. */
function toIsoOrSelf(value: string): string {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

/**
 * The same finding seen again (a repeat, the other record of one fact, a re-run): `kept` as it was,
 * with the event ids of both and the earlier occurrence time.
 */
export function mergeRepeat(kept: Finding, repeat: Finding): Finding {
  return {
    ...kept,
    event_ids: [...new Set([...kept.event_ids, ...repeat.event_ids])],
    occurred_at: kept.occurred_at <= repeat.occurred_at ? kept.occurred_at : repeat.occurred_at,
  };
}
