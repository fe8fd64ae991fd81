import type { TrailPathInfo } from './types.js';

/** AWS Organizations ids: `o-` and 10 to 32 lowercase letters or digits. */
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const ACCOUNT_ID = /^\d{12}$/;
/** Lenient on purpose: new partitions and regions (`us-gov-west-1`, `eu-isoe-west-1`) keep appearing. */
const REGION = /^[a-z]{2}(?:-[a-z0-9]+)+$/;
const YEAR = /^\d{4}$/;
const TWO_DIGITS = /^\d{2}$/;

/**
 * Parse the CloudTrail delivery layout out of a local path or an S3 key (or `s3://` URI):
 * `…/AWSLogs/[o-xxxxxxxxxx/]<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<file>`. The layout may
 * sit under any prefix. Returns null when the path does not follow it, including the
 * `CloudTrail-Digest/` and `CloudTrail-Insight/` trees (see {@link classifySkip}).
 */
export function parseTrailPath(pathOrS3Key: string): TrailPathInfo | null {
  const segments = pathOrS3Key.split(/[/\\]/);
  for (let i = segments.indexOf('AWSLogs'); i >= 0; i = segments.indexOf('AWSLogs', i + 1)) {
    const info = parseFrom(segments, i + 1);
    if (info) return info;
  }
  return null;
}

function parseFrom(segments: readonly string[], from: number): TrailPathInfo | null {
  let at = from;
  let organizationId: string | null = null;
  if (ORGANIZATION_ID.test(segments[at] ?? '')) {
    organizationId = segments[at] ?? null;
    at++;
  }
  const [accountId, service, region, year, month, day, file] = segments.slice(at);
  // The file must be the last segment: a deeper path is not CloudTrail's layout.
  if (segments.length !== at + 7 || !file) return null;
  if (accountId === undefined || !ACCOUNT_ID.test(accountId)) return null;
  if (service !== 'CloudTrail') return null;
  if (region === undefined || !REGION.test(region)) return null;
  if (year === undefined || month === undefined || day === undefined) return null;
  if (!YEAR.test(year) || !TWO_DIGITS.test(month) || !TWO_DIGITS.test(day)) return null;
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  const date = new Date(Date.UTC(y, m - 1, d));
  // Rejects 2024/02/30 and 2024/13/01, which Date would silently roll over.
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  return { organizationId, accountId, region, date: `${year}-${month}-${day}` };
}

/**
 * Whether a path is a CloudTrail digest or Insights file, which keytrail skips (and counts): digest
 * files hold hashes for log file integrity validation, Insights files hold anomaly summaries; neither
 * holds API calls. Recognised by a `CloudTrail-Digest` / `CloudTrail-Insight` path segment or by the
 * file name CloudTrail gives them (`<account>_CloudTrail-Digest_<region>_…json.gz`).
 */
export function classifySkip(path: string): 'digest' | 'insight' | null {
  const segments = path.split(/[/\\]/);
  const name = segments[segments.length - 1] ?? '';
  if (segments.includes('CloudTrail-Digest') || name.includes('CloudTrail-Digest')) return 'digest';
  if (segments.includes('CloudTrail-Insight') || name.includes('CloudTrail-Insight')) return 'insight';
  return null;
}
