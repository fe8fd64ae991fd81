import type { DetectionContext, DetectorMeta } from '../types.js';

/**
 * Time buckets and SQL fragments shared by the query detectors of the access family
 * (KMS.CrossAccountUse, KMS.AccessDeniedBurst, KMS.ExternalAccessChanged).
 *
 * Buckets are aligned to the Unix epoch (UTC midnight for whole days), never to the run's window,
 * so a re-run over a different window puts every event in the same bucket and gives the same
 * dedup key.
 */

/**
 * The dedup window of a detector in hours, with the precedence the findings module uses for
 * finding ids (`dedupWindowHours` in src/findings/build.ts): config override, else the detector's
 * own default, else `detection.dedup_window_hours`. Buckets built with it line up with finding ids.
 */
export function dedupWindowHours(ctx: DetectionContext, detector: Pick<DetectorMeta, 'id' | 'dedupWindowHours'>): number {
  const detection = ctx.config.detection;
  return detection.dedup_window_hours_by_detector[detector.id] ?? detector.dedupWindowHours ?? detection.dedup_window_hours;
}

/** Start of the epoch-aligned bucket of `seconds` that contains `iso`, as ISO-8601 UTC. */
export function bucketStart(iso: string, seconds: number): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms) || seconds <= 0) return iso;
  const size = seconds * 1000;
  return new Date(Math.floor(ms / size) * size).toISOString();
}

/** ISO-8601 UTC of a bucket number (as computed in SQL by `floor(epoch(t) / seconds)`). */
export function bucketIso(bucket: number, seconds: number): string {
  return new Date(bucket * seconds * 1000).toISOString();
}

/** A TIMESTAMP column formatted as ISO-8601 UTC with milliseconds, like `KmsEvent.eventTime`. */
export function isoSql(column: string): string {
  return `strftime(${column}, '%Y-%m-%dT%H:%M:%S.%gZ')`;
}

/**
 * A constant list of names (event names, never user input) as a SQL list literal; names are
 * checked to be plain identifiers so nothing can be spliced in through them.
 */
export function sqlNameList(names: Iterable<string>): string {
  const items = [...names].map((n) => {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(n)) throw new Error(`not a plain name: ${n}`);
    return `'${n}'`;
  });
  return `(${items.join(', ')})`;
}

/**
 * SQL for the role behind a caller, as `callerIdentity` computes it in TypeScript: the session
 * issuer, else the role of an assumed-role ARN, else the ARN, else the account.
 */
export const CALLER_SQL = `coalesce(
      session_issuer_arn,
      CASE WHEN regexp_matches(principal_arn, '^arn:aws[a-z-]*:sts::[0-9]{12}:assumed-role/[^/]+/.+$')
           THEN regexp_replace(principal_arn, '^arn:(aws[a-z-]*):sts::([0-9]{12}):assumed-role/([^/]+)/.+$', 'arn:\\1:iam::\\2:role/\\3') END,
      principal_arn,
      principal_account_id)`;

/** Cap on event ids carried by one finding (SNS messages stay far below 256 KB). */
export const MAX_EVENT_IDS = 50;
