import type { Suppression } from '../config/schema.js';
import type { Finding } from './finding.js';

/** A suppression that applied to a finding: which one, and the label stored in `findings.suppressed_by`. */
export interface SuppressionMatch {
  index: number;
  suppression: Suppression;
  /** `suppressions[2] (reason: …)` — what `findings.suppressed_by` records. */
  label: string;
}

export interface SuppressionResult {
  /** The first unexpired suppression that matches, or null. */
  match: SuppressionMatch | null;
  /** Suppressions that would match but have expired: keytrail says so instead of quietly alerting. */
  expired: SuppressionMatch[];
}

/**
 * Which configured suppression (if any) applies to a finding. Every field a suppression sets must
 * match (they combine with AND):
 * - `detector`: the detector id;
 * - `key`: the key ARN, or the key id / alias the event named (finding context `keyId`, `aliasName`);
 * - `principal`: the principal ARN, or its role (finding context `sessionIssuerArn`);
 * - `account`: the caller's account or the key owner's account;
 * - `service`: the AWS service the call came through (context `viaService`; `invokedBy` too).
 * `expires` (a date means through that day, UTC) ends a suppression; expired ones are reported.
 */
export function matchSuppression(finding: Finding, suppressions: readonly Suppression[], now: Date): SuppressionResult {
  const expired: SuppressionMatch[] = [];
  for (const [index, suppression] of suppressions.entries()) {
    if (!matches(finding, suppression)) continue;
    const match = { index, suppression, label: labelOf(index, suppression) };
    if (suppression.expires !== undefined && now.getTime() >= expiryTime(suppression.expires)) {
      expired.push(match);
      continue;
    }
    return { match, expired };
  }
  return { match: null, expired };
}

function matches(finding: Finding, s: Suppression): boolean {
  const context = finding.context;
  if (s.detector !== undefined && s.detector !== finding.detector_id) return false;
  if (s.key !== undefined && !oneOf(s.key, [finding.key_arn, context['keyId'], context['aliasName']])) return false;
  if (s.principal !== undefined && !oneOf(s.principal, [finding.principal_arn, context['sessionIssuerArn']])) return false;
  if (s.account !== undefined && !oneOf(s.account, [finding.principal_account_id, finding.account_id])) return false;
  if (s.service !== undefined && !oneOf(s.service, [context['viaService'], context['invokedBy']])) return false;
  return true;
}

function oneOf(wanted: string, values: readonly unknown[]): boolean {
  return values.some((v) => typeof v === 'string' && v === wanted);
}

/** A bare date suppresses through the end of that day (UTC); a timestamp up to that instant. */
function expiryTime(expires: string): number {
  if (/^\d{4}-\d{2}-\d{2}$/.test(expires)) return Date.parse(`${expires}T00:00:00Z`) + 86_400_000;
  return Date.parse(expires);
}

function labelOf(index: number, s: Suppression): string {
  return `suppressions[${index}]${s.reason ? ` (reason: ${s.reason})` : ''}`;
}
