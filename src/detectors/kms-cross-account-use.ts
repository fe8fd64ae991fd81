import { CRYPTOGRAPHIC_OPERATIONS } from './lib/kms-operations.js';
import { rowList, rowNumber, rowString } from './lib/policy-json.js';
import { findVendorForCaller, vendorDeclarationsOf, vendorsOfKey } from './lib/policy-principals.js';
import { bucketIso, bucketStart, CALLER_SQL, dedupWindowHours, isoSql, MAX_EVENT_IDS, sqlNameList } from './lib/policy-window.js';
import type { FindingDraft, QueryDetector } from './types.js';

const ID = 'KMS.CrossAccountUse';


/**
 * One row per (key, caller account, caller identity, dedup bucket). A cross-account call is logged
 * twice, in the caller's and in the owner's account, with one sharedEventID: calls are counted by
 * `coalesce(shared_event_id, event_id)`, so the two copies are one call, and both copies' event ids
 * are listed. Trusted accounts are dropped here already (the bulk of cross-account use in an
 * organization); vendors are per key and are judged in `toDrafts` with the configuration.
 */
const SQL = `
WITH calls AS (
  SELECT
    event_id, event_time, event_name, key_arn, key_id, key_account_id, key_region, alias_name,
    principal_arn, principal_account_id, principal_type, invoked_by, via_service, source_ip,
    recipient_account_id, outcome, error_code,
    coalesce(shared_event_id, event_id) AS call_id,
    ${CALLER_SQL} AS caller,
    floor(epoch(event_time) / $bucket_seconds)::BIGINT AS bucket
  FROM kms_events
  WHERE event_time >= $window_from::TIMESTAMP
    AND event_time < $window_to::TIMESTAMP
    AND event_source = 'kms.amazonaws.com'
    AND event_name IN ${sqlNameList(CRYPTOGRAPHIC_OPERATIONS)}
    AND is_cross_account
    AND NOT list_contains(string_split($trusted_accounts, ','), principal_account_id)
    -- Old-style CloudTrail records show CloudTrail's own role, in an AWS account, generating data
    -- keys for the key owner's trail (guide example: AWSCloudTrail in 086441151436). invokedBy cannot
    -- be set by a caller, and the trail named in the encryption context belongs to the owner (or a
    -- trusted account): AWS writing the owner's own logs, not another account using the key.
    AND NOT coalesce(
      invoked_by LIKE '%.amazonaws.com'
      AND list_contains(
        list_append(string_split($trusted_accounts, ','), key_account_id),
        split_part(json_extract_string(encryption_context, '$."aws:cloudtrail:arn"'), ':', 5)),
      false)
),
ranked AS (
  SELECT *, row_number() OVER (PARTITION BY call_id ORDER BY event_id) AS copy_rank FROM calls
),
groups AS (
  SELECT
    key_arn, principal_account_id, caller, bucket,
    any_value(key_id) AS key_id,
    any_value(key_account_id) AS key_account_id,
    any_value(key_region) AS key_region,
    any_value(alias_name) AS alias_name,
    min(event_time) AS first_ts,
    ${isoSql('min(event_time)')} AS first_time,
    ${isoSql('max(event_time)')} AS last_time,
    count(*) FILTER (WHERE copy_rank = 1)::INTEGER AS calls,
    count(*)::INTEGER AS records,
    count(*) FILTER (WHERE copy_rank = 1 AND outcome = 'error')::INTEGER AS failed_calls,
    count(*) FILTER (WHERE copy_rank = 1 AND error_code LIKE 'AccessDenied%')::INTEGER AS denied_calls,
    list(DISTINCT error_code) FILTER (WHERE error_code IS NOT NULL) AS error_codes,
    list(DISTINCT principal_arn) FILTER (WHERE principal_arn IS NOT NULL) AS principal_arns,
    list(DISTINCT principal_type) FILTER (WHERE principal_type IS NOT NULL) AS principal_types,
    list(DISTINCT invoked_by) FILTER (WHERE invoked_by IS NOT NULL) AS invoked_by,
    list(DISTINCT via_service) FILTER (WHERE via_service IS NOT NULL) AS via_services,
    list(DISTINCT source_ip) FILTER (WHERE source_ip IS NOT NULL) AS source_ips,
    list(DISTINCT recipient_account_id) FILTER (WHERE recipient_account_id IS NOT NULL) AS logged_in_accounts,
    list(event_id ORDER BY event_time, event_id) AS event_ids
  FROM ranked
  GROUP BY key_arn, principal_account_id, caller, bucket
),
operations AS (
  SELECT key_arn, principal_account_id, caller, bucket, event_name, count(*)::INTEGER AS calls
  FROM ranked WHERE copy_rank = 1
  GROUP BY key_arn, principal_account_id, caller, bucket, event_name
)
SELECT
  g.* EXCLUDE (first_ts, event_ids),
  g.event_ids[1:${MAX_EVENT_IDS}] AS event_ids,
  (SELECT list({'operation': o.event_name, 'calls': o.calls} ORDER BY o.calls DESC, o.event_name)
     FROM operations o
    WHERE o.key_arn = g.key_arn AND o.principal_account_id = g.principal_account_id
      AND o.caller IS NOT DISTINCT FROM g.caller AND o.bucket = g.bucket) AS operations,
  -- Seen before = a successful call by the account on the key before this group's first call
  -- (key_id first: DuckDB prunes on it; every ARN shares the prefix arn:aws:).
  NOT EXISTS (
    SELECT 1 FROM kms_events p
     WHERE p.key_id = g.key_id AND p.key_arn = g.key_arn
       AND p.principal_account_id = g.principal_account_id
       AND p.outcome = 'success'
       AND p.event_time < g.first_ts) AS first_seen
FROM groups g
ORDER BY g.first_time, g.key_arn, g.principal_account_id, g.caller`;

interface OperationCount {
  operation: string;
  calls: number;
}

function operationsOf(value: unknown): OperationCount[] {
  if (!Array.isArray(value)) return [];
  return value
    .map((v) => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {}))
    .map((v) => ({ operation: String(v['operation'] ?? ''), calls: rowNumber(v['calls']) }))
    .filter((o) => o.operation !== '');
}

/**
 * A cryptographic call on a key by an account other than its owner, that neither the organization
 * (trusted accounts) nor a vendor declared for that very key explains.
 *
 * A query detector: it pairs the two logged copies of each call and counts calls per caller, so one
 * finding says how often, with which operations, from when to when. Dedup: key + caller account +
 * caller identity (the role for role sessions) + the detector's dedup window (epoch-aligned), so
 * steady use by one stranger is one finding per window, not one per call.
 */
export const kmsCrossAccountUse = {
  kind: 'query',
  id: ID,
  title: 'KMS key used by another AWS account',
  severity: 'medium',
  status: 'stable',
  description:
    'A cryptographic call (Decrypt, Encrypt, GenerateDataKey*, Sign, …) on a key by a principal of another account that is ' +
    'neither a trusted account nor a vendor declared for that key; denied attempts count. High the first time the account is seen on the key.',
  runbook: [
    'Identify the calling account and principal in the finding; check whether the account belongs to your organization, a partner or a vendor.',
    'If it is expected, declare it: trusted_accounts for your organization, or keys[].vendors for a vendor of this key only.',
    'If it is not expected, find which key policy statement or grant lets it in (GetKeyPolicy, ListGrants) and remove it; denied attempts mean someone outside is probing the key.',
    'Review what the account could decrypt: the operations, counts and encryption contexts of its calls (`keytrail past-usage <key>`).',
  ],
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/logging-using-cloudtrail.html',
    'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html',
  ],
  sql: SQL,
  params: (ctx, window) => {
    const seconds = dedupWindowHours(ctx, { id: ID }) * 3600;
    return {
      // From the start of the first bucket, so its count is whole whatever window the run was given.
      window_from: bucketStart(window.from, seconds),
      window_to: window.to,
      bucket_seconds: seconds,
      trusted_accounts: ctx.config.trusted_accounts.join(','),
    };
  },
  toDrafts: (rows, ctx) => {
    const seconds = dedupWindowHours(ctx, { id: ID }) * 3600;
    const drafts: FindingDraft[] = [];
    for (const row of rows) {
      const keyArn = rowString(row['key_arn']);
      const account = rowString(row['principal_account_id']);
      const caller = rowString(row['caller']);
      if (!keyArn || !account) continue;
      if (ctx.isTrustedAccount(account, rowString(row['key_account_id']))) continue;
      const key = { keyArn, keyId: rowString(row['key_id']), aliasName: rowString(row['alias_name']) };
      const principalArns = rowList(row['principal_arns']);
      const callerRef = { accountId: account, principalArn: principalArns[0] ?? caller, sessionIssuerArn: caller };
      // A vendor is expected on the key it is declared for, and only there.
      if (findVendorForCaller(vendorsOfKey(ctx, key), callerRef)) continue;

      const calls = rowNumber(row['calls']);
      const denied = rowNumber(row['denied_calls']);
      const failed = rowNumber(row['failed_calls']);
      const errorCodes = rowList(row['error_codes']);
      const firstSeen = row['first_seen'] === true;
      const operations = operationsOf(row['operations']);
      const vendorElsewhere = vendorDeclarationsOf(ctx.config.keys, callerRef);
      const bucket = rowNumber(row['bucket']);
      const owner = rowString(row['key_account_id']);
      const eventIds = rowList(row['event_ids']);
      const records = rowNumber(row['records']);

      const opsText = operations.map((o) => `${o.operation} ×${o.calls}`).join(', ');
      const parts = [
        `${caller ?? 'A principal'} in account ${account} made ${calls} cross-account call${calls === 1 ? '' : 's'} (${opsText}) on key ${keyArn}${owner ? ` owned by ${owner}` : ''}`,
      ];
      if (firstSeen) parts.push('the first time this account is seen on the key');
      if (denied === calls) parts.push(`${calls === 1 ? 'the call was' : `all ${calls} were`} denied (${errorCodes.join(', ')}): an attempt by an account the key does not expect`);
      else if (denied > 0) parts.push(`${denied} denied (${errorCodes.join(', ')})`);
      else if (failed > 0) parts.push(`${failed} failed (${errorCodes.join(', ')})`);
      if (vendorElsewhere.length > 0) {
        parts.push(`the account is declared as vendor ${vendorElsewhere.map((v) => `"${v.vendor}" of ${v.key}`).join(', ')}, not of this key`);
      }

      drafts.push({
        dedupKey: `${keyArn}|${account}|${caller ?? ''}|${bucketIso(bucket, seconds)}`,
        severity: firstSeen ? 'high' : 'medium',
        summary: `${parts.join('; ')}.`,
        occurredAt: rowString(row['first_time']) ?? bucketIso(bucket, seconds),
        accountId: owner,
        region: rowString(row['key_region']),
        keyArn,
        principalArn: caller?.startsWith('arn:') ? caller : (principalArns[0] ?? null),
        principalAccountId: account,
        eventIds,
        context: {
          keyArn,
          keyOwnerAccountId: owner,
          callerAccountId: account,
          caller,
          principalArns: principalArns.slice(0, 10),
          principalTypes: rowList(row['principal_types']),
          operations,
          calls,
          records,
          failedCalls: failed,
          deniedCalls: denied,
          errorCodes,
          firstTime: rowString(row['first_time']),
          lastTime: rowString(row['last_time']),
          firstTimeAccountSeenOnKey: firstSeen,
          vendor: vendorElsewhere.length > 0 ? { declaredForOtherKeys: vendorElsewhere } : null,
          invokedBy: rowList(row['invoked_by']),
          viaServices: rowList(row['via_services']),
          sourceIps: rowList(row['source_ips']).slice(0, 10),
          loggedInAccounts: rowList(row['logged_in_accounts']),
          window: { start: bucketIso(bucket, seconds), end: bucketIso(bucket + 1, seconds) },
          eventIdsTruncated: records > eventIds.length ? records - eventIds.length : 0,
        },
      });
    }
    return drafts;
  },
} as const satisfies QueryDetector;
