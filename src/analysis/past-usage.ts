import type { KeyDeclaration, KeytrailConfig } from '../config/schema.js';
import { declarationMatches } from '../detectors/lib/context.js';
import { CRYPTOGRAPHIC_OPERATIONS } from '../detectors/lib/kms-operations.js';
import { scheduledDeletion } from '../detectors/lib/scheduled-deletion.js';
import { accountOfArn } from '../normalize/arn.js';
import type { KeytrailDb, Row } from '../store/database.js';
import { evidenceFor, storedEventDays, storedEventRange, usageWindow, type UsageWindow } from './evidence.js';
import { keyRowFilter, resolveKeyRef, UnknownKeyError, type KeyRowFilter, type ResolvedKey } from './key-resolve.js';
import type {
  CiphertextProducers,
  ExternalAccountUsage,
  KeyLifecycle,
  LifecycleEntry,
  LifecycleKind,
  PastUsageKey,
  PastUsageReport,
  PrincipalUsage,
  ServiceUsage,
} from './past-usage-types.js';
import { pastUsageVerdict } from './past-usage-verdict.js';

export type * from './past-usage-types.js';
export type { DayRange, Evidence, UsageWindow } from './evidence.js';
export type { AliasResolution, KeyRefKind } from './key-resolve.js';
export { UnknownKeyError } from './key-resolve.js';

/** Window length when none is asked for. */
export const DEFAULT_PAST_USAGE_DAYS = 90;

export interface PastUsageOptions {
  /** Whole UTC days, counted back from `until` (default 90). */
  days?: number;
  /** Last day of the window (`yyyy-mm-dd`, or an ISO-8601 time taken as its UTC day); default: the day of the last stored event. */
  until?: string;
  /** Trusted accounts and the key's declared vendors. */
  config: KeytrailConfig;
}

/** Operations that use the key: cryptographic operations, and GetPublicKey (the public key can then be used outside KMS). */
const USE_OPERATIONS = [...CRYPTOGRAPHIC_OPERATIONS, 'GetPublicKey'];

/** Operations whose success may have left a ciphertext only this key decrypts (ReEncrypt: only into this key). */
const CIPHERTEXT_OPERATIONS = [
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
];

/** Event name → what it did to the key. Only successful ones are kept. */
const LIFECYCLE_EVENTS: Readonly<Record<string, LifecycleKind>> = {
  CreateKey: 'created',
  DisableKey: 'disabled',
  EnableKey: 'enabled',
  ScheduleKeyDeletion: 'deletion-scheduled',
  CancelKeyDeletion: 'deletion-cancelled',
  EnableKeyRotation: 'rotation-enabled',
  DisableKeyRotation: 'rotation-disabled',
  RotateKey: 'rotated', // AwsServiceEvent: automatic rotation
  RotateKeyOnDemand: 'rotated',
  'KMS CMK Rotation': 'rotated',
  ImportKeyMaterial: 'key-material-imported',
  DeleteImportedKeyMaterial: 'key-material-deleted',
  DeleteExpiredKeyMaterial: 'key-material-expired',
  'KMS Imported Key Material Expiration': 'key-material-expired',
  DeleteKey: 'deleted', // AwsServiceEvent at the end of the waiting period
  'KMS CMK Deletion': 'deleted',
};

const ISO = (expr: string) => `strftime(${expr}, '%Y-%m-%dT%H:%M:%S.%gZ')`;

/**
 * Past usage of one KMS key over a window of whole UTC days, from `kms_events` (bound parameters
 * only; four queries at most, however many events). `keyRef` is a key ARN, key id, `alias/name` or
 * alias ARN, resolved through what was logged (see `resolveKeyRef`). The window is `days` (default
 * 90) ending on `until`, else on the day of the last stored event.
 *
 * Never claims more than the evidence: the report says which days of the window have no stored
 * events at all, and the verdict allows deletion only when no use is seen on a fully covered window.
 *
 * @throws UnknownKeyError when no stored event names the key; UsageError for bad options.
 */
export async function pastUsage(db: KeytrailDb, keyRef: string, options: PastUsageOptions): Promise<PastUsageReport> {
  const range = await storedEventRange(db);
  const window = usageWindow(options.days ?? DEFAULT_PAST_USAGE_DAYS, options.until, range.last);
  if (range.first === null) throw new UnknownKeyError(`no events are stored (kms_events is empty), so nothing names ${keyRef}: ingest CloudTrail first`);

  const stored = `; events are stored from ${range.first.slice(0, 10)} to ${(range.last ?? range.first).slice(0, 10)}`;
  const resolved = await resolveKeyRef(db, keyRef, window.to).catch((error: unknown) => {
    throw error instanceof UnknownKeyError ? new UnknownKeyError(`${error.message}${stored}`, { cause: error }) : error;
  });
  const filter = keyRowFilter(resolved);
  const { history, usage } = await keyUsage(db, filter, window, resolved.accountId);
  if (history.rows === 0) {
    throw new UnknownKeyError(
      `no stored event names ${describeRef(resolved)}: searched kms_events.key_id = ${resolved.keyId}` +
        `${resolved.keyArn ? ` (with key_arn ${resolved.keyArn} or none)` : ''} and ReEncrypt destinations${stored}`,
    );
  }
  const days = await storedEventDays(db, window);

  const declared = declarationFor(options.config, resolved, history.aliases.map((a) => a.name));
  const key: PastUsageKey = {
    ref: keyRef,
    resolvedFrom: resolved.kind,
    arn: resolved.keyArn,
    id: resolved.keyId,
    accountId: resolved.accountId ?? history.accountId,
    region: resolved.region ?? history.region,
    alias: resolved.alias,
    aliases: history.aliases,
    declared: declared && {
      description: declared.description ?? null,
      neverDelete: declared.never_delete,
      vendors: declared.vendors.map((v) => v.name),
    },
  };

  const report: Omit<PastUsageReport, 'verdict'> = {
    reportVersion: 1,
    key,
    window,
    evidence: evidenceFor(window, range, days),
    totals: usage.totals,
    operations: usage.operations,
    principals: usage.principals,
    externalAccounts: externalAccounts(usage.accounts, key.accountId, declared, options.config),
    services: usage.services,
    daily: usage.daily,
    errors: usage.errors,
    ciphertexts: { ...usage.ciphertexts, allStored: history.ciphertexts, lastProduced: history.lastCiphertext },
    lifecycle: lifecycleOf(history.lifecycle),
    allStored: { calls: history.calls, uses: history.uses, firstCall: history.firstCall, lastCall: history.lastCall, lastUse: history.lastUse },
    unattributedAliasCalls: usage.aliasOnlyCalls,
  };
  return { ...report, verdict: pastUsageVerdict(report) };
}

function describeRef(key: ResolvedKey): string {
  if (key.alias) return `${key.keyArn ?? key.keyId} (named by ${key.alias.name})`;
  return key.keyArn ?? `key id ${key.keyId}`;
}

// ---------------------------------------------------------------------------------------------
// The query. One statement reads the key's rows once — those under its id (row groups pruned on
// key_id) and the ReEncrypt calls into it (found by destination_key) — with only the columns
// the answer needs, into `k`; every grouping reads `k`. The owner's and the caller's copies of a
// cross-account call (same sharedEventID) count once: only rows with a sharedEventID can repeat.
// ---------------------------------------------------------------------------------------------

/**
 * `['a', 'b', …]`, a list literal of this module's constants (operation names: never user input), for
 * `list_contains`: DuckDB plans an IN list of more than a few values as a join, per list and per use.
 */
function literalList(values: readonly string[]): string {
  return `[${values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')}]`;
}

const USE = literalList(USE_OPERATIONS);
const CIPHERTEXT = literalList(CIPHERTEXT_OPERATIONS);
const LIFECYCLE = literalList(Object.keys(LIFECYCLE_EVENTS));

/**
 * CTEs `dest`, `repeated` and `k`: the key's rows (plus the `is_use` and `makes_ciphertext` flags),
 * one row per logged action — of the copies sharing a sharedEventID, the one with the smallest
 * event_id. `k` is materialized once (re-reading the key's row groups for every grouping costs
 * more); the ReEncrypt calls into the key (`dest`) are read once with only the columns they need.
 */
function keyRowsCtes(filter: KeyRowFilter): string {
  const flags = (makesCiphertext: string) => `list_contains(${USE}, event_name) AS is_use,
      outcome = 'success' AND ${makesCiphertext} AS makes_ciphertext`;
  const destinationRows = `SELECT ${DESTINATION_ROW}, event_id, shared_event_id, ${flags('true')}
      FROM kms_events WHERE ${filter.destination}`;
  // Only rows with a sharedEventID can repeat: only they meet the anti-join (split, not OR-ed, so
  // the other rows never probe it).
  const direct = (where: string) => `SELECT ${KEY_ROW}, CASE WHEN list_contains(${LIFECYCLE}, event_name) THEN event_id END AS event_id, ${flags(`(list_contains(${CIPHERTEXT}, event_name) OR coalesce(${filter.destinationIsKey}, false))`)}
      FROM kms_events WHERE ${filter.direct} AND ${where}`;
  return `dest AS MATERIALIZED (${destinationRows}),
    key_owner AS (SELECT any_value(key_account_id) AS account, any_value(key_region) AS region FROM kms_events WHERE ${filter.direct}),
    -- A row without a sharedEventID is its own partition: never a repeat.
    repeated AS MATERIALIZED (
      SELECT event_id FROM (
        SELECT event_id, shared_event_id FROM kms_events WHERE ${filter.direct} AND shared_event_id IS NOT NULL
        UNION ALL
        SELECT event_id, shared_event_id FROM dest
      ) QUALIFY row_number() OVER (PARTITION BY coalesce(shared_event_id, event_id) ORDER BY event_id) > 1
    ),
    k AS MATERIALIZED (
      ${direct('shared_event_id IS NULL')}
      UNION ALL
      ${direct('shared_event_id IS NOT NULL AND event_id NOT IN (SELECT event_id FROM repeated)')}
      UNION ALL
      SELECT * EXCLUDE (shared_event_id) FROM dest WHERE shared_event_id IS NULL OR event_id NOT IN (SELECT event_id FROM repeated)
    )`;
}

type Part = { facet: string; select: Partial<Record<string, string>>; from: string; topPerGroup?: number };

/**
 * Several groupings in one statement: each part selects its own columns by name, the rest are NULL,
 * so every part has the same columns in the same order. Part names are constants.
 */
function unionOf(columns: readonly string[], parts: readonly Part[]): string {
  return parts
    .map((part) => {
      const sql = `SELECT '${part.facet}' AS facet, ${columns.map((c) => `${part.select[c] ?? 'NULL'} AS ${c}`).join(', ')} ${part.from}`;
      // The `topPerGroup` rows with most calls for each value of `a`.
      return part.topPerGroup === undefined ? sql : `SELECT * FROM (${sql}) QUALIFY row_number() OVER (PARTITION BY a ORDER BY calls DESC, b) <= ${part.topPerGroup}`;
    })
    .join('\nUNION ALL\n');
}

/** The columns every part of the statement returns: group values, a count, a list, measures. */
const COLUMNS = [
  'a', 'b', 'c', 'account', 'd', 'e', 'request', 'response',
  'rows', 'calls', 'uses', 'errors', 'failed_uses', 'ciphertexts',
  'first', 'last', 'first_use', 'last_use', 'last_ciphertext', 'last_error', 'key_account', 'key_region',
];

/**
 * The columns of the key's rows (`k`): what the history and the window groupings read, no more
 * (a popular key has a million rows to carry). event_id is kept for lifecycle rows only.
 */
const KEY_ROW = `event_time, event_date, event_kind, event_name, outcome, error_code, alias_name,
  coalesce(session_issuer_arn, principal_arn) AS who_arn,
  CASE WHEN coalesce(session_issuer_arn, principal_arn) IS NULL THEN coalesce(principal_name, invoked_by) END AS who_name,
  CASE WHEN principal_type = 'AssumedRole' THEN principal_arn END AS session_arn,
  principal_type, principal_account_id, invoked_by, via_service, service_resource AS resource,
  CASE WHEN list_contains(${LIFECYCLE}, event_name) OR event_name IN ('CreateAlias', 'UpdateAlias') THEN request_parameters END AS request_parameters,
  CASE WHEN list_contains(${LIFECYCLE}, event_name) THEN response_elements END AS response_elements`;

/**
 * The same columns for a ReEncrypt into the key. Its key and alias columns are the source key's,
 * not this key's, and it is neither a lifecycle change nor an alias change: NULL.
 */
const DESTINATION_ROW = `event_time, event_date, event_kind, event_name, outcome, error_code,
  NULL::VARCHAR AS alias_name,
  coalesce(session_issuer_arn, principal_arn) AS who_arn,
  CASE WHEN coalesce(session_issuer_arn, principal_arn) IS NULL THEN coalesce(principal_name, invoked_by) END AS who_name,
  CASE WHEN principal_type = 'AssumedRole' THEN principal_arn END AS session_arn,
  principal_type, principal_account_id, invoked_by, via_service, service_resource AS resource,
  NULL::JSON AS request_parameters, NULL::JSON AS response_elements`;

const CALL = "event_kind <> 'lifecycle'";

/** Parts over all the key's rows: totals, lifecycle changes, aliases. */
const HISTORY_PARTS: Part[] = [
  {
    facet: 'history',
    select: {
      rows: 'count(*)::INTEGER',
      calls: `count(*) FILTER (WHERE ${CALL})::INTEGER`,
      uses: 'count(*) FILTER (WHERE is_use)::INTEGER',
      ciphertexts: 'count(*) FILTER (WHERE makes_ciphertext)::INTEGER',
      first: ISO(`min(event_time) FILTER (WHERE ${CALL})`),
      last: ISO(`max(event_time) FILTER (WHERE ${CALL})`),
      last_use: ISO('max(event_time) FILTER (WHERE is_use)'),
      last_ciphertext: ISO('max(event_time) FILTER (WHERE makes_ciphertext)'),
      // The same on every row of the key: read once into `key_owner`, not carried through k.
      key_account: 'any_value(key_owner.account)',
      key_region: 'any_value(key_owner.region)',
    },
    from: 'FROM k, key_owner',
  },
  {
    // One row per lifecycle change: a = event name, b = event id, c = who.
    facet: 'lifecycle',
    select: {
      a: 'event_name',
      b: 'event_id',
      c: 'coalesce(who_arn, invoked_by)',
      request: 'request_parameters::VARCHAR',
      response: 'response_elements::VARCHAR',
      first: ISO('event_time'),
    },
    from: `FROM k WHERE list_contains(${LIFECYCLE}, event_name) AND outcome = 'success'`,
  },
  {
    facet: 'alias',
    select: { a: 'alias_name', last: ISO('max(event_time)') },
    from: 'FROM key_aliases GROUP BY alias_name',
  },
];

const IN_WINDOW = `${CALL} AND event_time >= $from::TIMESTAMP AND event_time < $to::TIMESTAMP`;

const MEASURES = {
  calls: 'count(*)::INTEGER',
  uses: 'count(*) FILTER (WHERE is_use)::INTEGER',
  errors: "count(*) FILTER (WHERE outcome = 'error')::INTEGER",
  failed_uses: "count(*) FILTER (WHERE is_use AND outcome = 'error')::INTEGER",
  first: ISO('min(event_time)'),
  last: ISO('max(event_time)'),
  first_use: ISO('min(event_time) FILTER (WHERE is_use)'),
  last_use: ISO('max(event_time) FILTER (WHERE is_use)'),
};

/** Parts over the key's rows in the window. */
const WINDOW_PARTS: Part[] = [
  {
    // One grouping for the totals, operations, errors by code and ciphertext producers, added up in
    // `shapeWindowUsage` (each of its own costs a hash aggregate): a = event name, b = error code,
    // c = whether the calls may have left a ciphertext.
    facet: 'cell',
    select: { ...MEASURES, a: 'event_name', b: 'error_code', c: 'makes_ciphertext::VARCHAR', last_error: ISO("max(event_time) FILTER (WHERE outcome = 'error')") },
    from: 'FROM w GROUP BY event_name, error_code, makes_ciphertext',
  },
  {
    // A role name is unique only within its account: the account is part of the principal.
    facet: 'principal',
    select: { ...MEASURES, a: 'who_arn', b: 'who_name', c: 'principal_type', account: 'principal_account_id', d: 'count(DISTINCT session_arn)::INTEGER' },
    from: 'FROM w GROUP BY who_arn, who_name, principal_type, principal_account_id',
  },
  {
    facet: 'account',
    select: { ...MEASURES, a: 'principal_account_id', d: 'count(DISTINCT coalesce(who_arn, who_name))::INTEGER' },
    from: 'FROM w WHERE principal_account_id IS NOT NULL GROUP BY principal_account_id',
  },
  {
    facet: 'service',
    select: { ...MEASURES, a: 'via_service', e: 'list(DISTINCT invoked_by) FILTER (WHERE invoked_by IS NOT NULL)' },
    from: 'FROM w WHERE via_service IS NOT NULL GROUP BY via_service',
  },
  {
    facet: 'resource',
    select: { ...MEASURES, a: 'via_service', b: 'resource' },
    from: 'FROM w WHERE resource IS NOT NULL GROUP BY via_service, resource',
    topPerGroup: 3,
  },
  { facet: 'day', select: { ...MEASURES, a: "strftime(event_date, '%Y-%m-%d')" }, from: 'FROM w GROUP BY event_date' },
  {
    // Calls through one of the key's aliases that logged no key at all (older records without
    // resources[]); key_id IS NULL skips every row group without such rows.
    facet: 'alias-only',
    select: { calls: 'count(*)::INTEGER' },
    from: `FROM kms_events WHERE key_id IS NULL AND ${IN_WINDOW} AND alias_name IN (SELECT alias_name FROM key_aliases)
      AND (key_account_id IS NULL OR key_account_id = $owner::VARCHAR)`,
  },
];

interface KeyHistory {
  rows: number;
  calls: number;
  uses: number;
  ciphertexts: number;
  firstCall: string | null;
  lastCall: string | null;
  lastUse: string | null;
  lastCiphertext: string | null;
  accountId: string | null;
  region: string | null;
  aliases: { name: string; lastSeen: string }[];
  lifecycle: Row[];
}

interface WindowUsage {
  totals: PastUsageReport['totals'];
  operations: PastUsageReport['operations'];
  principals: PrincipalUsage[];
  accounts: Omit<ExternalAccountUsage, 'vendor' | 'vendorOfOtherKey' | 'trusted'>[];
  services: ServiceUsage[];
  daily: PastUsageReport['daily'];
  errors: PastUsageReport['errors'];
  ciphertexts: Pick<CiphertextProducers, 'inWindow' | 'byOperation'>;
  aliasOnlyCalls: number;
}

/** The key's history and its usage in the window, in one statement. */
async function keyUsage(db: KeytrailDb, filter: KeyRowFilter, window: UsageWindow, owner: string | null): Promise<{ history: KeyHistory; usage: WindowUsage }> {
  const statement = `WITH ${keyRowsCtes(filter)},
    -- Aliases seen naming the key: calls through them, and CreateAlias/UpdateAlias whose target
    -- (targetKeyId) is this key (their resources[] may list another key).
    key_aliases AS (
      SELECT alias_name, event_time FROM k
      WHERE alias_name IS NOT NULL AND event_name <> 'DeleteAlias'
        AND (event_name NOT IN ('CreateAlias', 'UpdateAlias')
             OR json_extract_string(request_parameters, '$.targetKeyId') IN ($keyId, $keyArn::VARCHAR))
    ),
    w AS NOT MATERIALIZED (SELECT * FROM k WHERE ${IN_WINDOW})
    ${unionOf(COLUMNS, [...HISTORY_PARTS, ...WINDOW_PARTS])}`;
  const rows = await db.all(statement, {
    ...filter.params,
    owner,
    from: window.from,
    to: window.to,
  });
  return { history: shapeHistory(rows), usage: shapeWindowUsage(rows) };
}

function shapeHistory(rows: Row[]): KeyHistory {
  const total = rows.find((r) => r['facet'] === 'history');
  return {
    rows: num(total?.['rows']),
    calls: num(total?.['calls']),
    uses: num(total?.['uses']),
    ciphertexts: num(total?.['ciphertexts']),
    firstCall: str(total?.['first']),
    lastCall: str(total?.['last']),
    lastUse: str(total?.['last_use']),
    lastCiphertext: str(total?.['last_ciphertext']),
    accountId: str(total?.['key_account']),
    region: str(total?.['key_region']),
    aliases: rows
      .filter((r) => r['facet'] === 'alias')
      .map((r) => ({ name: String(r['a']), lastSeen: String(r['last']) }))
      .sort((x, y) => y.lastSeen.localeCompare(x.lastSeen) || x.name.localeCompare(y.name)),
    lifecycle: rows.filter((r) => r['facet'] === 'lifecycle'),
  };
}

function shapeWindowUsage(rows: Row[]): WindowUsage {
  const of = (name: string) => rows.filter((r) => r['facet'] === name);
  const byCalls = <T extends { calls: number }>(key: (t: T) => string) => (x: T, y: T) => y.calls - x.calls || key(x).localeCompare(key(y));
  const resources = of('resource');
  const cells = of('cell').map((r) => ({
    operation: String(r['a']),
    errorCode: str(r['b']),
    makesCiphertext: r['c'] === 'true',
    calls: num(r['calls']),
    uses: num(r['uses']),
    errors: num(r['errors']),
    failedUses: num(r['failed_uses']),
    first: str(r['first']),
    last: str(r['last']),
    firstUse: str(r['first_use']),
    lastUse: str(r['last_use']),
    lastError: str(r['last_error']),
  }));
  const sum = (pick: (c: (typeof cells)[number]) => number, of = cells) => of.reduce((n, c) => n + pick(c), 0);
  const sumBy = (key: (c: (typeof cells)[number]) => string | null, of = cells) => {
    const groups = new Map<string | null, (typeof cells)[number][]>();
    for (const c of of) {
      const group = groups.get(key(c));
      if (group) group.push(c);
      else groups.set(key(c), [c]);
    }
    return [...groups];
  };
  const ciphertextCells = cells.filter((c) => c.makesCiphertext);
  return {
    totals: {
      calls: sum((c) => c.calls),
      uses: sum((c) => c.uses),
      failedUses: sum((c) => c.failedUses),
      errors: sum((c) => c.errors),
      firstCall: earliest(cells.map((c) => c.first)),
      lastCall: latestOf(cells.map((c) => c.last)),
      firstUse: earliest(cells.map((c) => c.firstUse)),
      lastUse: latestOf(cells.map((c) => c.lastUse)),
    },
    operations: sumBy((c) => c.operation)
      .map(([operation, group]) => ({ operation: String(operation), calls: sum((c) => c.calls, group), uses: sum((c) => c.uses, group), errors: sum((c) => c.errors, group) }))
      .sort(byCalls((o) => o.operation)),
    principals: of('principal')
      .map((r): PrincipalUsage => {
        const arn = str(r['a']);
        return {
          arn,
          name: principalName(arn, str(r['b'])),
          type: str(r['c']),
          accountId: str(r['account']),
          sessions: num(r['d']),
          calls: num(r['calls']),
          uses: num(r['uses']),
          errors: num(r['errors']),
          firstCall: String(r['first']),
          lastCall: String(r['last']),
          lastUse: str(r['last_use']),
        };
      })
      .sort(byCalls((p) => `${p.name} ${p.accountId ?? ''}`)),
    accounts: of('account')
      .map((r) => ({
        accountId: String(r['a']),
        principals: num(r['d']),
        calls: num(r['calls']),
        uses: num(r['uses']),
        errors: num(r['errors']),
        firstCall: String(r['first']),
        lastCall: String(r['last']),
      }))
      .sort(byCalls((a) => a.accountId)),
    services: of('service')
      .map((r): ServiceUsage => {
        const service = String(r['a']);
        return {
          service,
          calls: num(r['calls']),
          uses: num(r['uses']),
          invokedBy: Array.isArray(r['e']) ? r['e'].map(String).sort() : [],
          exampleResources: resources
            .filter((x) => x['a'] === service)
            .map((x) => ({ resource: String(x['b']), calls: num(x['calls']) }))
            .sort(byCalls((x) => x.resource)),
        };
      })
      .sort(byCalls((s) => s.service)),
    daily: of('day')
      .map((r) => ({ day: String(r['a']), calls: num(r['calls']), uses: num(r['uses']), errors: num(r['errors']) }))
      .sort((x, y) => x.day.localeCompare(y.day)),
    errors: sumBy((c) => c.errorCode, cells.filter((c) => c.errors > 0))
      .map(([errorCode, group]) => ({ errorCode, calls: sum((c) => c.errors, group), lastSeen: String(latestOf(group.map((c) => c.lastError))) }))
      .sort(byCalls((e) => e.errorCode ?? '')),
    ciphertexts: {
      inWindow: sum((c) => c.calls, ciphertextCells),
      byOperation: sumBy((c) => c.operation, ciphertextCells)
        .map(([operation, group]) => ({ operation: String(operation), calls: sum((c) => c.calls, group) }))
        .sort(byCalls((o) => o.operation)),
    },
    aliasOnlyCalls: num(of('alias-only')[0]?.['calls']),
  };
}

/** `user/Alice`, `role/AppRole` (ARN resource part); the service or `(unknown)` without an ARN. */
function principalName(arn: string | null, name: string | null): string {
  if (arn === null) return name ?? '(unknown)';
  return arn.split(':').slice(5).join(':') || arn;
}

// ---------------------------------------------------------------------------------------------
// Configuration and lifecycle: pure.
// ---------------------------------------------------------------------------------------------

/** The key's `keys[]` entry: by ARN or id, or by an alias seen naming the key. */
function declarationFor(config: KeytrailConfig, key: ResolvedKey, aliases: readonly string[]): KeyDeclaration | null {
  return (
    config.keys.find(
      (d) =>
        declarationMatches(d, { keyArn: key.keyArn, keyId: key.keyId, aliasName: null }) ||
        aliases.some((aliasName) => declarationMatches(d, { keyArn: null, keyId: null, aliasName })),
    ) ?? null
  );
}

/** Accounts other than the owner, with the vendor declared for this key and trust from config. */
function externalAccounts(
  accounts: WindowUsage['accounts'],
  owner: string | null,
  declared: KeyDeclaration | null,
  config: KeytrailConfig,
): ExternalAccountUsage[] {
  if (owner === null) return [];
  const trusted = new Set(config.trusted_accounts);
  return accounts
    .filter((a) => a.accountId !== owner)
    .map((a) => {
      const vendor = vendorIn(declared ? [declared] : [], a.accountId);
      return {
        accountId: a.accountId,
        vendor,
        vendorOfOtherKey: vendor === null ? vendorIn(config.keys, a.accountId) : null,
        trusted: trusted.has(a.accountId),
        principals: a.principals,
        calls: a.calls,
        uses: a.uses,
        errors: a.errors,
        firstCall: a.firstCall,
        lastCall: a.lastCall,
      };
    });
}

/** The vendor an account belongs to among these declarations: by its accounts, or its principals' accounts. */
function vendorIn(declarations: readonly KeyDeclaration[], accountId: string): string | null {
  for (const d of declarations) {
    const vendor = d.vendors.find((v) => v.accounts.includes(accountId) || v.principals.some((p) => accountOfArn(p) === accountId));
    if (vendor) return vendor.name;
  }
  return null;
}

function lifecycleOf(rows: readonly Row[]): KeyLifecycle {
  const entries = rows
    .flatMap((r): LifecycleEntry[] => {
      const event = String(r['a']);
      const kind = LIFECYCLE_EVENTS[event];
      if (kind === undefined) return [];
      const entry: LifecycleEntry = { time: String(r['first']), kind, event, eventId: String(r['b']), by: str(r['c']) };
      if (kind === 'deletion-scheduled') {
        const scheduled = scheduledDeletion({ requestParameters: str(r['request']), responseElements: str(r['response']) });
        entry.deletionDate = scheduled.deletionDate;
        entry.pendingWindowInDays = scheduled.pendingWindowInDays;
      }
      return [entry];
    })
    .sort((x, y) => x.time.localeCompare(y.time) || x.eventId.localeCompare(y.eventId));

  let state: KeyLifecycle['lastKnownState'] = null;
  let pendingDeletion: KeyLifecycle['pendingDeletion'] = null;
  let deletedAt: string | null = null;
  for (const e of entries) {
    switch (e.kind) {
      case 'created':
      case 'enabled':
        state = 'enabled';
        break;
      case 'disabled':
        state = 'disabled';
        break;
      case 'deletion-scheduled':
        state = 'pending-deletion';
        pendingDeletion = { scheduledAt: e.time, deletionDate: e.deletionDate ?? null };
        break;
      case 'deletion-cancelled':
        // KMS leaves a key whose deletion was cancelled disabled.
        state = 'disabled';
        pendingDeletion = null;
        break;
      case 'key-material-deleted':
      case 'key-material-expired':
        state = 'pending-import';
        break;
      case 'key-material-imported':
        if (state === 'pending-import') state = 'enabled';
        break;
      case 'deleted':
        state = 'deleted';
        pendingDeletion = null;
        // KMS CMK Deletion may be delivered more than once: the first is the deletion.
        deletedAt ??= e.time;
        break;
      default:
        break;
    }
  }
  return { entries, lastKnownState: state, pendingDeletion, deletedAt };
}

/** ISO-8601 UTC times compare as text. */
function earliest(times: readonly (string | null)[]): string | null {
  return times.reduce<string | null>((a, t) => (t !== null && (a === null || t < a) ? t : a), null);
}

function latestOf(times: readonly (string | null)[]): string | null {
  return times.reduce<string | null>((a, t) => (t !== null && (a === null || t > a) ? t : a), null);
}

function num(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
