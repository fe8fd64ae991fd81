import type { DuckDBValue } from '@duckdb/node-api';
import { KeytrailError, UsageError } from '../errors.js';
import { isBareKeyId, parseKmsArn } from '../normalize/arn.js';
import type { KeytrailDb } from '../store/database.js';

/** No stored event names the key (or alias) asked about; the message says what was searched. */
export class UnknownKeyError extends KeytrailError {}

/** How a key reference was written. */
export type KeyRefKind = 'key-arn' | 'key-id' | 'alias';

/** What an alias pointed to, as logged. */
export interface AliasResolution {
  /** `alias/name`, as asked (an alias ARN is reduced to its name). */
  name: string;
  /** The alias ARN when one was given (it fixes the account and Region). */
  arn: string | null;
  /** Time of the stored event that showed the alias naming this key (closest to the end of the window). */
  observedAt: string;
  /** `CreateAlias`/`UpdateAlias` (aliasName → targetKeyId), or `call` (a call through the alias that named its key). */
  observedBy: 'CreateAlias' | 'UpdateAlias' | 'call';
  /** Other keys (ARN, else key id) the alias was seen naming, with the last time each was seen. */
  otherKeys: { key: string; lastSeen: string }[];
  /** Time of a DeleteAlias of the alias after `observedAt`, if one is stored. */
  deletedAt: string | null;
}

/** A key reference resolved through what was logged. */
export interface ResolvedKey {
  /** The reference as given. */
  ref: string;
  kind: KeyRefKind;
  /** Null when no stored event names the key by ARN (only by bare key id). */
  keyArn: string | null;
  keyId: string;
  /** The key owner (from the ARN); null when unknown. */
  accountId: string | null;
  region: string | null;
  /** Set when `ref` was an alias. */
  alias: AliasResolution | null;
}

/**
 * `WHERE` conditions that together select one key's rows, with their bound parameters (`$keyId`,
 * `$keyArn`). `direct` filters on `key_id` so DuckDB prunes row groups. ReEncrypt calls into the key
 * are logged under their source key: `destination` finds them by `destination_key_id`, which
 * compaction sorts into a region of their own (see src/store/compact.ts) so that filter prunes too,
 * and `destination_key` (the destination as logged, ARN or key id) tells multi-Region replicas, which
 * share a key id, apart.
 */
export interface KeyRowFilter {
  direct: string;
  /** Only rows not matched by `direct`. */
  destination: string;
  /** The row is a ReEncrypt into the key (whether or not it is also `direct`: re-encryption under the same key). */
  destinationIsKey: string;
  params: { keyId: string; keyArn: string | null };
}

/** SQL conditions for one resolved key's rows in `kms_events`. */
export function keyRowFilter(key: Pick<ResolvedKey, 'keyId' | 'keyArn'>): KeyRowFilter {
  // A row without an ARN but with the key id is the key (a bare id names a key in the caller's own
  // account); a row with another ARN under the same id is a multi-Region replica, another key.
  const direct = `key_id = $keyId AND (key_arn IS NULL OR key_arn = $keyArn::VARCHAR)`;
  const destinationIsKey = `destination_key_id = $keyId AND destination_key IN ($keyArn::VARCHAR, $keyId)`;
  return {
    direct,
    destination: `${destinationIsKey} AND NOT coalesce(${direct}, false)`,
    destinationIsKey,
    params: { keyId: key.keyId, keyArn: key.keyArn },
  };
}

/**
 * Resolve a key ARN, bare key id, alias name (`alias/x`) or alias ARN to one key, from stored events
 * only (bound parameters). An alias resolves to the key it named closest before `windowEnd` —
 * CreateAlias/UpdateAlias (`aliasName` → `targetKeyId`) and calls through the alias that logged their
 * key both count — else the first key it named after. Existence of a key given by ARN is checked by
 * the caller, which reads its rows anyway.
 *
 * @throws UnknownKeyError when nothing stored names the key or alias.
 * @throws UsageError when the reference is ambiguous (a key id or alias name used in several
 *   accounts or Regions) or not a KMS key reference.
 */
export async function resolveKeyRef(db: KeytrailDb, ref: string, windowEnd: string): Promise<ResolvedKey> {
  const text = ref.trim();
  if (text.startsWith('alias/')) return resolveAlias(db, text, null, windowEnd);
  const arn = parseKmsArn(text);
  if (arn?.resourceType === 'alias') return resolveAlias(db, `alias/${arn.resourceId}`, arn, windowEnd);
  if (arn?.resourceType === 'key') {
    return { ref, kind: 'key-arn', keyArn: arn.arn, keyId: arn.resourceId, accountId: arn.accountId, region: arn.region, alias: null };
  }
  if (text.startsWith('arn:')) throw new UsageError(`${ref}: not a KMS key ARN or alias ARN`);
  if (text === '') throw new UsageError('give a key: key ARN, key id, alias/name or alias ARN');
  return resolveKeyId(db, text);
}

async function resolveKeyId(db: KeytrailDb, keyId: string): Promise<ResolvedKey> {
  const rows = await db.all(
    `SELECT key_arn, count(*)::INTEGER AS n FROM kms_events WHERE key_id = $keyId GROUP BY key_arn ORDER BY key_arn NULLS LAST`,
    { keyId },
  );
  if (rows.length === 0) {
    const hint = isBareKeyId(keyId) ? '' : ' (it does not look like a key id either: a key ARN, alias/name or alias ARN?)';
    throw new UnknownKeyError(`no stored event names key id ${keyId}: searched kms_events.key_id${hint}`);
  }
  const arns = rows.map((r) => r['key_arn']).filter((a): a is string => typeof a === 'string');
  // One key id in several ARNs: multi-Region replicas (same id, other Regions).
  if (arns.length > 1) throw new UsageError(`key id ${keyId} names ${arns.length} keys (${arns.join(', ')}): give the key ARN`);
  const parsed = parseKmsArn(arns[0]);
  return { ref: keyId, kind: 'key-id', keyArn: parsed?.arn ?? null, keyId, accountId: parsed?.accountId ?? null, region: parsed?.region ?? null, alias: null };
}

interface AliasObservation {
  how: 'CreateAlias' | 'UpdateAlias' | 'call' | 'DeleteAlias';
  keyArn: string | null;
  keyId: string | null;
  accountId: string | null;
  region: string | null;
  lastBeforeEnd: string | null;
  firstAfterEnd: string | null;
}

const ISO = (expr: string) => `strftime(${expr}, '%Y-%m-%dT%H:%M:%S.%gZ')`;

async function resolveAlias(
  db: KeytrailDb,
  name: string,
  aliasArn: ReturnType<typeof parseKmsArn>,
  windowEnd: string,
): Promise<ResolvedKey> {
  // One row per (how, key): the last time at or before the window end, the first time after it.
  const rows = await db.all(
    `SELECT how, target, key_arn, key_id, key_account_id, key_region,
            ${ISO('max(event_time) FILTER (WHERE event_time < $end::TIMESTAMP)')} AS last_before_end,
            ${ISO('min(event_time) FILTER (WHERE event_time >= $end::TIMESTAMP)')} AS first_after_end
     FROM (
       SELECT CASE WHEN event_name IN ('CreateAlias', 'UpdateAlias', 'DeleteAlias') THEN event_name ELSE 'call' END AS how,
              CASE WHEN event_name IN ('CreateAlias', 'UpdateAlias') THEN json_extract_string(request_parameters, '$.targetKeyId') END AS target,
              key_arn, key_id, key_account_id, key_region, event_time, outcome
       FROM kms_events
       WHERE alias_name = $alias AND event_kind = 'api_call'
     )
     -- A failed CreateAlias/UpdateAlias changed nothing; a call (even a failed one) that logged its key shows the target.
     WHERE (how = 'call' AND key_id IS NOT NULL) OR (how <> 'call' AND outcome = 'success')
     GROUP BY ALL`,
    { alias: name, end: windowEnd },
  );
  const observations = rows
    .map(toObservation)
    // An alias ARN fixes the account and Region: an alias only ever names a key in its own.
    .filter((o) => aliasArn === null || ((o.accountId ?? aliasArn.accountId) === aliasArn.accountId && (o.region ?? aliasArn.region) === aliasArn.region));
  const keyed = observations.filter((o): o is AliasObservation & { how: AliasResolution['observedBy'] } => o.how !== 'DeleteAlias' && o.keyId !== null);
  const searched = `searched kms_events.alias_name for CreateAlias/UpdateAlias (aliasName → targetKeyId) and calls through the alias that logged their key${aliasArn ? ` in account ${aliasArn.accountId}, ${aliasArn.region}` : ''}`;
  if (keyed.length === 0) throw new UnknownKeyError(`no stored event shows which key ${aliasArn?.arn ?? name} names: ${searched}`);

  const places = new Set(keyed.filter((o) => o.accountId !== null).map((o) => `${o.accountId} ${o.region ?? '?'}`));
  if (places.size > 1) {
    throw new UsageError(`${name} names keys in several accounts or Regions (${[...places].join(', ')}): give the alias ARN`);
  }

  const before = keyed.filter((o) => o.lastBeforeEnd !== null).sort((a, b) => compare(b.lastBeforeEnd, a.lastBeforeEnd) || rank(a) - rank(b));
  const after = keyed.filter((o) => o.firstAfterEnd !== null).sort((a, b) => compare(a.firstAfterEnd, b.firstAfterEnd) || rank(a) - rank(b));
  const chosen = before[0] ?? after[0];
  if (!chosen) throw new UnknownKeyError(`no stored event shows which key ${name} names: ${searched}`);
  const observedAt = (chosen.lastBeforeEnd ?? chosen.firstAfterEnd) as string;
  const keyId = chosen.keyId as string;
  const keyArn = chosen.keyArn ?? keyed.find((o) => o.keyId === keyId && o.keyArn !== null)?.keyArn ?? null;
  const parsed = parseKmsArn(keyArn);

  const others = new Map<string, string>();
  for (const o of keyed) {
    if (o.keyId === keyId) continue;
    const label = o.keyArn ?? (o.keyId as string);
    const seen = latest(o.lastBeforeEnd, o.firstAfterEnd);
    if (seen !== null && compare(seen, others.get(label) ?? null) > 0) others.set(label, seen);
  }
  const deletions = observations
    .filter((o) => o.how === 'DeleteAlias')
    .map((o) => latest(o.lastBeforeEnd, o.firstAfterEnd))
    .filter((t): t is string => t !== null && t > observedAt)
    .sort();

  return {
    ref: aliasArn?.arn ?? name,
    kind: 'alias',
    keyArn,
    keyId,
    accountId: parsed?.accountId ?? chosen.accountId ?? aliasArn?.accountId ?? null,
    region: parsed?.region ?? chosen.region ?? aliasArn?.region ?? null,
    alias: {
      name,
      arn: aliasArn?.arn ?? null,
      observedAt,
      observedBy: chosen.how,
      otherKeys: [...others].map(([key, lastSeen]) => ({ key, lastSeen })).sort((a, b) => compare(b.lastSeen, a.lastSeen)),
      deletedAt: deletions[0] ?? null,
    },
  };
}

function toObservation(row: Record<string, DuckDBValue | unknown>): AliasObservation {
  const how = String(row['how']) as AliasObservation['how'];
  let keyArn = str(row['key_arn']);
  let keyId = str(row['key_id']);
  if (how === 'CreateAlias' || how === 'UpdateAlias') {
    // targetKeyId is what the alias now names; resources[] may also list another key.
    const target = str(row['target']);
    const targetArn = parseKmsArn(target);
    if (targetArn?.resourceType === 'key') {
      keyArn = targetArn.arn;
      keyId = targetArn.resourceId;
    } else if (target !== null && target !== keyId) {
      keyArn = null;
      keyId = target;
    }
  }
  const parsed = parseKmsArn(keyArn);
  return {
    how,
    keyArn,
    keyId,
    accountId: parsed?.accountId ?? str(row['key_account_id']),
    region: parsed?.region ?? str(row['key_region']),
    lastBeforeEnd: str(row['last_before_end']),
    firstAfterEnd: str(row['first_after_end']),
  };
}

/** At equal times a CreateAlias/UpdateAlias outranks a call: it is what set the target. */
function rank(o: AliasObservation): number {
  return o.how === 'call' ? 1 : 0;
}

function compare(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

function latest(a: string | null, b: string | null): string | null {
  return compare(a, b) >= 0 ? a : b;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
