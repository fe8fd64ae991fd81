import type { DuckDBValue } from '@duckdb/node-api';
import type { KeytrailConfig } from '../config/schema.js';
import { parseAwsDate } from '../detectors/lib/aws-dates.js';
import { CRYPTOGRAPHIC_OPERATIONS } from '../detectors/lib/kms-operations.js';
import { vendorOfAccount } from '../detectors/lib/vendors.js';
import { declarationMatches } from '../detectors/lib/context.js';
import type { UsageSummary } from '../detectors/types.js';
import { UsageError } from '../errors.js';
import { parseKmsArn } from '../normalize/arn.js';
import type { KeytrailDb } from '../store/database.js';

export interface UsageSummaryOptions {
  /** End of the window, exclusive: the management call being judged is not counted. ISO-8601. */
  before: string;
  /** Window length in days, counted back from `before`. */
  days: number;
  /** Trusted accounts and declared vendors, to mark accounts external and name vendors. */
  config: KeytrailConfig;
}

const ISO = (column: string) => `strftime(${column}, '%Y-%m-%dT%H:%M:%S.%gZ')`;
const CRYPTO_PARAMS = [...CRYPTOGRAPHIC_OPERATIONS].map((_, i) => `$op${i}`).join(', ');
const CRYPTO_VALUES = Object.fromEntries([...CRYPTOGRAPHIC_OPERATIONS].map((op, i) => [`op${i}`, op]));

/**
 * Who used a key, how, and from where, in the `days` before `before`, from `kms_events` (bound
 * parameters only). Counts every API call and service event on the key, successful or not, with the
 * cryptographic ones (use of key material) also counted apart; lifecycle events are not calls.
 * A ReEncrypt counts for both of its keys. `keyArnOrId` is a key ARN, a bare key id or `alias/name`
 * (an alias matches only calls that named the key by that alias).
 */
export async function usageSummary(db: KeytrailDb, keyArnOrId: string, options: UsageSummaryOptions): Promise<UsageSummary> {
  const to = isoOrThrow(options.before, 'before');
  const from = new Date(Date.parse(to) - options.days * 86_400_000).toISOString();
  const key = keyEventsFilter(keyArnOrId);
  const where = `event_kind <> 'lifecycle' AND event_time >= $from::TIMESTAMP AND event_time < $to::TIMESTAMP AND (${key.sql})`;
  const params: Record<string, DuckDBValue> = { ...key.params, from, to };

  const [totals] = await db.all(
    `SELECT count(*)::INTEGER AS total,
            count(*) FILTER (WHERE event_name IN (${CRYPTO_PARAMS}))::INTEGER AS crypto,
            count(*) FILTER (WHERE outcome = 'error')::INTEGER AS errors,
            ${ISO('min(event_time)')} AS first_use,
            ${ISO('max(event_time)')} AS last_use,
            ${ISO(`max(event_time) FILTER (WHERE event_name IN (${CRYPTO_PARAMS}))`)} AS last_crypto,
            any_value(key_account_id) AS key_account_id
     FROM kms_events WHERE ${where}`,
    { ...params, ...CRYPTO_VALUES },
  );
  const byOperation = await db.all(
    `SELECT event_name, count(*)::INTEGER AS calls FROM kms_events WHERE ${where} GROUP BY event_name ORDER BY calls DESC, event_name`,
    params,
  );
  const principals = await db.all(
    `SELECT principal_arn, principal_account_id, count(*)::INTEGER AS calls FROM kms_events WHERE ${where}
     GROUP BY principal_arn, principal_account_id ORDER BY calls DESC, principal_arn NULLS LAST, principal_account_id`,
    params,
  );
  const accounts = await db.all(
    `SELECT principal_account_id, count(*)::INTEGER AS calls FROM kms_events WHERE ${where} AND principal_account_id IS NOT NULL
     GROUP BY principal_account_id ORDER BY calls DESC, principal_account_id`,
    params,
  );
  const services = await db.all(
    `SELECT DISTINCT via_service FROM kms_events WHERE ${where} AND via_service IS NOT NULL ORDER BY via_service`,
    params,
  );
  const [evidence] = await db.all(`SELECT ${ISO('min(event_time)')} AS first, ${ISO('max(event_time)')} AS last FROM kms_events`);

  const keyOwner = key.accountId ?? stringOrNull(totals?.['key_account_id']);
  const declared = options.config.keys.find((d) => declarationMatches(d, key.ref)) ?? null;
  const trusted = new Set(options.config.trusted_accounts);

  return {
    keyArn: keyArnOrId,
    windowDays: options.days,
    from,
    to,
    totalCalls: Number(totals?.['total'] ?? 0),
    cryptographicCalls: Number(totals?.['crypto'] ?? 0),
    byOperation: Object.fromEntries(byOperation.map((r) => [String(r['event_name']), Number(r['calls'])])),
    principals: principals.map((r) => ({
      arn: stringOrNull(r['principal_arn']),
      accountId: stringOrNull(r['principal_account_id']),
      calls: Number(r['calls']),
    })),
    accounts: accounts.map((r) => {
      const accountId = String(r['principal_account_id']);
      return {
        accountId,
        calls: Number(r['calls']),
        external: accountId !== keyOwner && !trusted.has(accountId),
        vendor: vendorOfAccount(options.config, accountId, declared),
      };
    }),
    services: services.map((r) => String(r['via_service'])),
    firstUse: stringOrNull(totals?.['first_use']),
    lastUse: stringOrNull(totals?.['last_use']),
    lastCryptographicUse: stringOrNull(totals?.['last_crypto']),
    errors: Number(totals?.['errors'] ?? 0),
    evidenceFrom: stringOrNull(evidence?.['first']),
    evidenceTo: stringOrNull(evidence?.['last']),
    basis:
      `Every API call and service event on the key from ${from} up to (not including) ${to}, successful or failed; ` +
      'cryptographic operations are also counted apart. Only what CloudTrail recorded and keytrail stored.',
  };
}

export interface KeyFilter {
  sql: string;
  params: Record<string, string>;
  /** The key owner, when the reference is an ARN. */
  accountId: string | null;
  /** For matching config declarations. */
  ref: { keyArn: string | null; keyId: string | null; aliasName: string | null };
}

/**
 * SQL condition (bound `$keyId`/`$keyArn`/`$alias`) selecting the rows of `kms_events` about one key,
 * named by key ARN, bare key id, alias name or alias ARN.
 */
export function keyEventsFilter(keyArnOrId: string): KeyFilter {
  if (keyArnOrId.startsWith('alias/')) {
    return { sql: 'alias_name = $alias', params: { alias: keyArnOrId }, accountId: null, ref: { keyArn: null, keyId: null, aliasName: keyArnOrId } };
  }
  const arn = parseKmsArn(keyArnOrId);
  if (arn?.resourceType === 'key') {
    return {
      // key_id first: it prunes row groups (ARNs share a long prefix). A row without an ARN but with
      // the same key id is the same key (a bare key id names a key in the caller's account and Region).
      sql: '(key_id = $keyId AND (key_arn IS NULL OR key_arn = $keyArn)) OR list_contains(related_key_arns, $keyArn)',
      params: { keyId: arn.resourceId, keyArn: arn.arn },
      accountId: arn.accountId,
      ref: { keyArn: arn.arn, keyId: arn.resourceId, aliasName: null },
    };
  }
  if (arn?.resourceType === 'alias') return keyEventsFilter(`alias/${arn.resourceId}`);
  return { sql: 'key_id = $keyId', params: { keyId: keyArnOrId }, accountId: null, ref: { keyArn: null, keyId: keyArnOrId, aliasName: null } };
}

function isoOrThrow(value: string, name: string): string {
  const iso = parseAwsDate(value);
  if (iso === null) throw new UsageError(`${name}: not an ISO-8601 date or timestamp: "${value}"`);
  return iso;
}

function stringOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}
