import { rowList, rowNumber, rowString } from './lib/policy-json.js';
import { CALLER_SQL, isoSql, MAX_EVENT_IDS } from './lib/policy-window.js';
import type { FindingDraft, QueryDetector } from './types.js';

const ID = 'KMS.AccessDeniedBurst';

/**
 * Denied KMS calls per (key, caller identity), in a sliding window of `window_minutes`. The key is
 * its ARN, else the key id or alias the caller named (a denied call may not resolve the key); the
 * caller is the role for role sessions, so one application's many sessions count together. A copy of
 * a cross-account call logged in two accounts counts once.
 *
 * Denials of one key by one caller are grouped into episodes: a gap longer than the window starts a
 * new one. An episode fires when some window inside it holds at least `threshold` denials; its first
 * denial names it, so a re-run over another window (or a later batch) gives the same dedup key and
 * a burst that straddles a clock boundary is still seen.
 */
const SQL = `
WITH denied AS (
  SELECT
    event_id, event_time, event_name, error_code, key_arn, key_id, key_account_id, key_region, alias_name,
    principal_arn, principal_account_id, source_ip, aws_region, recipient_account_id,
    coalesce(key_arn, key_id, alias_name) AS key_ref,
    ${CALLER_SQL} AS caller,
    row_number() OVER (PARTITION BY coalesce(shared_event_id, event_id) ORDER BY event_id) AS copy_rank
  FROM kms_events
  WHERE event_time >= $window_from::TIMESTAMP
    AND event_time < $window_to::TIMESTAMP
    AND event_source = 'kms.amazonaws.com'
    AND error_code LIKE 'AccessDenied%'
),
gaps AS (
  SELECT *,
    CASE WHEN lag(event_time) OVER w IS NULL
              OR epoch(event_time) - epoch(lag(event_time) OVER w) > $window_seconds THEN 1 ELSE 0 END AS starts_episode
  FROM denied
  WHERE copy_rank = 1
  WINDOW w AS (PARTITION BY key_ref, caller ORDER BY event_time, event_id)
),
episodes AS (
  SELECT *,
    sum(starts_episode) OVER (PARTITION BY key_ref, caller ORDER BY event_time, event_id ROWS UNBOUNDED PRECEDING) AS episode
  FROM gaps
),
counted AS (
  SELECT *,
    -- Denials in the window that starts at this one (a self-join keeps the window a bound parameter).
    (SELECT count(*) FROM episodes o
      WHERE o.key_ref IS NOT DISTINCT FROM e.key_ref AND o.caller IS NOT DISTINCT FROM e.caller
        AND o.event_time >= e.event_time
        AND epoch(o.event_time) - epoch(e.event_time) < $window_seconds) AS in_window
  FROM episodes e
)
SELECT
  key_ref, caller, episode,
  any_value(key_arn) AS key_arn,
  any_value(key_id) AS key_id,
  any_value(key_account_id) AS key_account_id,
  any_value(key_region) AS key_region,
  any_value(alias_name) AS alias_name,
  any_value(aws_region) AS aws_region,
  any_value(recipient_account_id) AS recipient_account_id,
  any_value(principal_account_id) AS principal_account_id,
  count(*)::INTEGER AS denied,
  max(in_window)::INTEGER AS peak,
  ${isoSql('min(event_time)')} AS first_time,
  ${isoSql('max(event_time)')} AS last_time,
  list(DISTINCT event_name ORDER BY event_name) AS operations,
  list(DISTINCT error_code ORDER BY error_code) AS error_codes,
  list(DISTINCT principal_arn) FILTER (WHERE principal_arn IS NOT NULL) AS principal_arns,
  list(DISTINCT source_ip) FILTER (WHERE source_ip IS NOT NULL) AS source_ips,
  list(event_id ORDER BY event_time, event_id)[1:${MAX_EVENT_IDS}] AS event_ids
FROM counted
GROUP BY key_ref, caller, episode
HAVING max(in_window) >= $threshold
ORDER BY first_time, key_ref, caller`;

/**
 * Many access-denied errors on one key by one caller in a short window: someone probing a key, or
 * an application broken by a policy change. One finding per episode of denials (see the SQL).
 */
export const kmsAccessDeniedBurst = {
  kind: 'query',
  id: ID,
  title: 'Burst of access-denied KMS calls',
  severity: 'medium',
  status: 'stable',
  description:
    'At least detection.access_denied_burst.threshold (default 10) AccessDenied* errors on one key by one caller within ' +
    'detection.access_denied_burst.window_minutes (default 15).',
  runbook: [
    'Identify the caller and the operations in the finding: an application of yours, or an unknown principal or account?',
    'For your own application, look for a recent key policy, grant or IAM change that removed its access (KMS.ExternalAccessChanged findings, CloudTrail).',
    'For an unknown caller, treat it as probing: check where the requests came from (source IPs) and whether any call on the key succeeded for it.',
  ],
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/policy-evaluation.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/logging-using-cloudtrail.html',
  ],
  sql: SQL,
  params: (ctx, window) => {
    const burst = ctx.config.detection.access_denied_burst;
    const seconds = burst.window_minutes * 60;
    return {
      // Start a window early so an episode in progress at window.from is seen whole.
      window_from: new Date(Date.parse(window.from) - seconds * 1000).toISOString(),
      window_to: window.to,
      window_seconds: seconds,
      threshold: burst.threshold,
    };
  },
  toDrafts: (rows, ctx) => {
    const burst = ctx.config.detection.access_denied_burst;
    const drafts: FindingDraft[] = [];
    for (const row of rows) {
      const keyRef = rowString(row['key_ref']);
      const caller = rowString(row['caller']);
      const denied = rowNumber(row['denied']);
      const peak = rowNumber(row['peak']);
      const operations = rowList(row['operations']);
      const errorCodes = rowList(row['error_codes']);
      const eventIds = rowList(row['event_ids']);
      const principalArns = rowList(row['principal_arns']);
      const callerAccount = rowString(row['principal_account_id']);
      const keyAccount = rowString(row['key_account_id']);
      const crossAccount = callerAccount !== null && keyAccount !== null && callerAccount !== keyAccount;
      const firstTime = rowString(row['first_time']) ?? '';
      const lastTime = rowString(row['last_time']);
      drafts.push({
        dedupKey: `${keyRef ?? '(no key)'}|${caller ?? '(no caller)'}|${firstTime}`,
        summary:
          `${caller ?? 'An unidentified caller'}${callerAccount ? ` (account ${callerAccount})` : ''} was denied ${peak} times on ` +
          `${keyRef ? `key ${keyRef}` : 'calls that named no key'} within ${burst.window_minutes} minutes` +
          `${denied > peak ? ` (${denied} in all between ${firstTime} and ${lastTime})` : ''} ` +
          `(${operations.join(', ')}; ${errorCodes.join(', ')})${crossAccount ? ', from another account' : ''}.`,
        occurredAt: firstTime,
        accountId: keyAccount ?? rowString(row['recipient_account_id']),
        region: rowString(row['key_region']) ?? rowString(row['aws_region']),
        keyArn: rowString(row['key_arn']),
        principalArn: caller?.startsWith('arn:') ? caller : (principalArns[0] ?? null),
        principalAccountId: callerAccount,
        eventIds,
        context: {
          key: keyRef,
          keyArn: rowString(row['key_arn']),
          keyId: rowString(row['key_id']),
          aliasName: rowString(row['alias_name']),
          caller,
          callerAccountId: callerAccount,
          crossAccount,
          principalArns: principalArns.slice(0, 10),
          count: denied,
          peakInWindow: peak,
          threshold: burst.threshold,
          windowMinutes: burst.window_minutes,
          firstTime,
          lastTime,
          operations,
          errorCodes,
          sourceIps: rowList(row['source_ips']).slice(0, 10),
          eventIdsTruncated: denied > eventIds.length ? denied - eventIds.length : 0,
        },
      });
    }
    return drafts;
  },
} as const satisfies QueryDetector;
