import type { KeytrailConfig } from '../config/schema.js';
import { parseAwsDate } from '../detectors/lib/aws-dates.js';
import { jsonObject, stringAt } from '../detectors/lib/json-text.js';
import { scheduledDeletion } from '../detectors/lib/scheduled-deletion.js';
import { FINDING_SCHEMA_VERSION, SEVERITIES, severityRank, type Finding, type Severity } from '../findings/finding.js';
import { FindingStore, type StoredFinding } from '../findings/store.js';
import { matchSuppression } from '../findings/suppress.js';
import type { KeytrailDb, Row } from '../store/database.js';
import { CALLER_SQL, classifyCaller, type KeyLabels } from './labels.js';
import { sqlBounds, type ReportPeriod } from './period.js';
import { packedRows } from './packed-rows.js';
import { runReportQuery } from './repo-queries.js';
import type {
  AdministrationEvidence,
  AdministrativeAction,
  AdministratorSummary,
  CrossAccountRow,
  CrossAccountSummaryRow,
  FindingEntry,
  FindingsEvidence,
  KeyInventoryEntry,
  KeyRef,
  KeyState,
  KeyTransition,
  LoggingChange,
  PendingDeletionEntry,
  RotationEntry,
  TransitionKind,
  UsageEvidence,
} from './types.js';

/**
 * The evidence queries behind the reports. Bound parameters only. Times come back ISO-8601 UTC.
 * Rows are attributed to keys by key id, with the ARN of the id when the store knows exactly one
 * (older records name a key by bare id; multi-Region replicas share an id under several ARNs).
 */

const ISO = (expr: string) => `strftime(${expr}, '%Y-%m-%dT%H:%M:%S.%gZ')`;

/**
 * The CTE `keyed`: the rows that name a key (key_id set), with `k_arn` their key's ARN: the row's own,
 * else (a row naming its key by bare id) the key id's ARN when the store knows exactly one.
 *
 * Asks first whether any row names its key by bare id only (row-group statistics answer that without
 * reading most of the table). Usually none does, and `k_arn` is `key_arn` with no join; else only those
 * rows are joined to the ARNs of their key ids. Never materialized: that would copy every column.
 */
async function keyedCte(db: KeytrailDb): Promise<string> {
  const [bare] = await db.all(
    'SELECT count(*)::INTEGER AS n FROM (SELECT 1 FROM kms_events WHERE key_arn IS NULL AND key_id IS NOT NULL LIMIT 1)',
  );
  if (num(bare?.['n']) === 0) return 'keyed AS NOT MATERIALIZED (SELECT *, key_arn AS k_arn FROM kms_events WHERE key_id IS NOT NULL)';
  return `arns AS (
    SELECT key_id, min(key_arn) AS key_arn FROM kms_events
    WHERE key_arn IS NOT NULL AND key_id IN (SELECT key_id FROM kms_events WHERE key_arn IS NULL AND key_id IS NOT NULL)
    GROUP BY key_id HAVING count(DISTINCT key_arn) = 1
  ),
  keyed AS NOT MATERIALIZED (
    SELECT *, key_arn AS k_arn FROM kms_events WHERE key_id IS NOT NULL AND key_arn IS NOT NULL
    UNION ALL
    SELECT e.*, a.key_arn AS k_arn FROM kms_events e LEFT JOIN arns a ON a.key_id = e.key_id
    WHERE e.key_id IS NOT NULL AND e.key_arn IS NULL
  )`;
}

const IN_PERIOD = `event_time >= $from::TIMESTAMP AND event_time < $to::TIMESTAMP`;
/** One call logged in two accounts (cross-account: same sharedEventID) counts once. */
const CALL_ID = 'coalesce(shared_event_id, event_id)';

/**
 * `count(DISTINCT coalesce(shared_event_id, event_id)) FILTER (WHERE where)`: the calls among the rows,
 * as an INTEGER. Computed as the rows without a sharedEventID plus the distinct sharedEventIDs, which is
 * the same number (event_id is unique in kms_events: EventStore keeps the first copy of each; and a
 * sharedEventID is never another record's eventID, both being random UUIDs) without putting every row's
 * id through a hash set: only the few rows of cross-account calls go there.
 */
function callCount(where = 'true'): string {
  return `(count(*) FILTER (WHERE shared_event_id IS NULL AND (${where}))
    + count(DISTINCT shared_event_id) FILTER (WHERE shared_event_id IS NOT NULL AND (${where})))::INTEGER`;
}

/** Event name → state change. Only successful events count. */
const TRANSITIONS: Readonly<Record<string, TransitionKind>> = {
  CreateKey: 'created',
  EnableKey: 'enabled',
  DisableKey: 'disabled',
  ScheduleKeyDeletion: 'deletion-scheduled',
  CancelKeyDeletion: 'deletion-cancelled',
  DeleteKey: 'deleted', // AwsServiceEvent at the end of the waiting period
  'KMS CMK Deletion': 'deleted', // EventBridge; may repeat (best effort, at least once)
  ImportKeyMaterial: 'key-material-imported',
  DeleteImportedKeyMaterial: 'key-material-deleted',
  DeleteExpiredKeyMaterial: 'key-material-expired', // AwsServiceEvent
  'KMS Imported Key Material Expiration': 'key-material-expired',
  EnableKeyRotation: 'rotation-enabled',
  DisableKeyRotation: 'rotation-disabled',
  ReplicateKey: 'replicated',
  UpdatePrimaryRegion: 'primary-region-updated',
};

/** The state a change leaves the key in (KMS key states); rotation settings and replicas change none. */
const STATE_AFTER: Partial<Record<TransitionKind, KeyState>> = {
  created: 'enabled',
  enabled: 'enabled',
  disabled: 'disabled',
  'deletion-scheduled': 'pending-deletion',
  // CancelKeyDeletion leaves the key Disabled (AWS KMS Developer Guide, "Scheduling and canceling key deletion").
  'deletion-cancelled': 'disabled',
  deleted: 'deleted',
  'key-material-imported': 'enabled',
  'key-material-deleted': 'pending-import',
  'key-material-expired': 'pending-import',
};

/** Changes AWS reports more than once (service event and EventBridge, retries): consecutive copies are one change. */
const REPEATED_FACTS: ReadonlySet<TransitionKind> = new Set(['deleted', 'key-material-expired']);

const TRANSITION_NAMES = Object.keys(TRANSITIONS);
const TRANSITION_PARAMS = Object.fromEntries(TRANSITION_NAMES.map((n, i) => [`t${i}`, n]));
const TRANSITION_LIST = TRANSITION_NAMES.map((_, i) => `$t${i}`).join(', ');

/** The changes whose detail (transitionDetail) or whose key's origin is read from the logged request or response. */
const DETAILED_KINDS: ReadonlySet<TransitionKind> = new Set(['created', 'deletion-scheduled', 'key-material-imported', 'replicated', 'primary-region-updated']);
const DETAILED_TRANSITION_NAMES = TRANSITION_NAMES.filter((n) => DETAILED_KINDS.has(TRANSITIONS[n] as TransitionKind));
const DETAILED_TRANSITION_PARAMS = Object.fromEntries(DETAILED_TRANSITION_NAMES.map((n, i) => [`d${i}`, n]));

function periodParams(period: ReportPeriod): { from: string; to: string } {
  return { from: period.from, to: period.to };
}

function str(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function num(value: unknown): number {
  return Number(value ?? 0);
}

/** DuckDB's JSON form of a TIMESTAMP (`2024-03-01 01:41:59[.123]`) as ISO-8601 UTC. */
export function isoTime(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value);
  const d = new Date(/[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
  return Number.isNaN(d.getTime()) ? text : d.toISOString();
}

function keyRef(labels: KeyLabels, keyArn: string | null, keyId: string): KeyRef {
  return { keyArn, keyId, alias: labels.alias(keyArn, keyId) };
}

// --- logging changes ------------------------------------------------------------------------

const NARROWING = new Set(['stopped', 'trail deleted', 'excludes kms', 'excludes management events']);

/** Trail changes in the period that stopped or narrowed KMS logging (queries/compliance/trail-kms-logging-changes.sql). */
export async function loggingChanges(db: KeytrailDb, period: ReportPeriod): Promise<LoggingChange[]> {
  const rows = await runReportQuery(db, 'trailLogging', sqlBounds(period));
  return rows
    .filter((r) => r['outcome'] === 'success' && NARROWING.has(String(r['kms_logging'])))
    .map((r) => ({
      time: isoTime(r['event_time']) ?? '',
      operation: String(r['event_name']),
      trail: str(r['trail_name']),
      effect: String(r['kms_logging']),
      restoredAt: isoTime(r['restored_at']),
      principalArn: str(r['principal_arn']),
      accountId: str(r['recipient_account_id']),
      region: str(r['aws_region']),
      eventId: String(r['event_id']),
    }));
}

// --- totals ---------------------------------------------------------------------------------

/**
 * Events, calls, keys and callers in the period, and rejected records (all time). `principals`: the
 * callers when already counted (`callerUsage`), else counted here.
 */
export async function periodTotals(
  db: KeytrailDb,
  period: ReportPeriod,
  principals?: number,
): Promise<{ events: number; calls: number; keys: number; principals: number; rejectedRecords: number }> {
  const [row] = await db.all(
    `SELECT count(*)::INTEGER AS events,
            ${callCount("event_kind <> 'lifecycle'")} AS calls,
            count(DISTINCT key_id)::INTEGER AS keys,
            ${principals === undefined ? `count(DISTINCT ${CALLER_SQL}) FILTER (WHERE event_kind <> 'lifecycle')::INTEGER` : 'NULL'} AS principals,
            (SELECT count(*)::INTEGER FROM rejected_records) AS rejected
     FROM kms_events WHERE ${IN_PERIOD}`,
    periodParams(period),
  );
  return {
    events: num(row?.['events']),
    calls: num(row?.['calls']),
    keys: num(row?.['keys']),
    principals: principals ?? num(row?.['principals']),
    rejectedRecords: num(row?.['rejected']),
  };
}

// --- inventory and transitions --------------------------------------------------------------

interface KeyHistory {
  transitions: KeyTransition[];
  state: Map<string, KeyState>;
  imported: Set<string>;
}

const keyKey = (keyArn: string | null, keyId: string) => `${keyId}|${keyArn ?? ''}`;

/** Every successful state change stored before the end of the period, per key (for the state at the end). */
async function keyHistory(db: KeytrailDb, period: ReportPeriod, labels: KeyLabels): Promise<KeyHistory> {
  const rows = await packedRows(
    db,
    `WITH ${await keyedCte(db)}
     SELECT key_id, k_arn, event_time, ${ISO('event_time')} AS time, event_name, event_id, principal_arn, principal_account_id, invoked_by
     FROM keyed
     WHERE outcome = 'success' AND event_name IN (${TRANSITION_LIST}) AND event_time < $to::TIMESTAMP
     QUALIFY row_number() OVER (PARTITION BY ${CALL_ID} ORDER BY event_id) = 1`,
    { to: period.to, ...TRANSITION_PARAMS },
    { text: ['key_id', 'k_arn', 'time', 'event_name', 'event_id', 'principal_arn', 'principal_account_id', 'invoked_by'], orderBy: 'event_time, event_id' },
  );
  // The logged request and response, of the changes whose detail is read from them only: reading
  // them with the query above would read those columns of every row of the table.
  const logged = new Map<string, Row>();
  for (const r of await db.all(
    DETAILED_TRANSITION_NAMES.map(
      (_, i) => `SELECT event_id, request_parameters, response_elements FROM kms_events
         WHERE event_name = $d${i} AND outcome = 'success' AND event_time < $to::TIMESTAMP`,
    ).join('\n UNION ALL '),
    { to: period.to, ...DETAILED_TRANSITION_PARAMS },
  )) {
    logged.set(String(r['event_id']), r);
  }
  const transitions: KeyTransition[] = [];
  const state = new Map<string, KeyState>();
  const imported = new Set<string>();
  const last = new Map<string, KeyTransition>();
  for (const r of rows) {
    const keyArn = str(r['k_arn']);
    const keyId = String(r['key_id']);
    const event = String(r['event_name']);
    const kind = TRANSITIONS[event];
    if (kind === undefined) continue;
    const k = keyKey(keyArn, keyId);
    const texts = logged.get(String(r['event_id']));
    const request = jsonObject(str(texts?.['request_parameters']));
    const response = jsonObject(str(texts?.['response_elements']));
    const previous = last.get(k);
    // One deletion (expiry) arrives as a service event plus one or more EventBridge events: one change.
    if (previous && previous.kind === kind && REPEATED_FACTS.has(kind)) {
      previous.repeats += 1;
      continue;
    }
    const transition: KeyTransition = {
      keyArn,
      keyId,
      alias: labels.alias(keyArn, keyId),
      time: String(r['time']),
      kind,
      event,
      by: str(r['principal_arn']) ?? str(r['invoked_by']),
      byAccountId: str(r['principal_account_id']),
      repeats: 0,
      detail: transitionDetail(kind, texts ?? {}, request, response),
      eventId: String(r['event_id']),
    };
    transitions.push(transition);
    last.set(k, transition);
    const after = kind === 'created' && isExternalOrigin(request, response) ? 'pending-import' : STATE_AFTER[kind];
    if (after) state.set(k, after);
    if (kind === 'key-material-imported' || (kind === 'created' && isExternalOrigin(request, response))) imported.add(k);
  }
  return { transitions, state, imported };
}

function isExternalOrigin(request: ReturnType<typeof jsonObject>, response: ReturnType<typeof jsonObject>): boolean {
  return stringAt(response, 'keyMetadata', 'origin') === 'EXTERNAL' || stringAt(request, 'origin') === 'EXTERNAL';
}

/** `2026-10-12 15:20:07Z` for an ISO time in a sentence; anything else as it is. */
function readableTime(value: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(value) ? `${value.slice(0, 10)} ${value.slice(11, 19)}Z` : value;
}

/** What the records say about a change: only the DETAILED_KINDS have any. */
function transitionDetail(kind: TransitionKind, row: Row, request: ReturnType<typeof jsonObject>, response: ReturnType<typeof jsonObject>): string | null {
  switch (kind) {
    case 'deletion-scheduled': {
      const d = scheduledDeletion({ requestParameters: str(row['request_parameters']), responseElements: str(row['response_elements']) });
      const parts = [d.deletionDate ? `deletion date ${readableTime(d.deletionDate)}` : null, d.pendingWindowInDays !== null ? `${d.pendingWindowInDays}-day window` : null];
      return parts.filter(Boolean).join(', ') || null;
    }
    case 'key-material-imported': {
      if (stringAt(request, 'expirationModel') === 'KEY_MATERIAL_DOES_NOT_EXPIRE') return 'material does not expire';
      const validTo = stringAt(request, 'validTo');
      return validTo ? `material expires ${readableTime(parseAwsDate(validTo) ?? validTo)}` : null;
    }
    case 'created': {
      const origin = stringAt(response, 'keyMetadata', 'origin') ?? stringAt(request, 'origin');
      const spec = stringAt(response, 'keyMetadata', 'keySpec') ?? stringAt(request, 'keySpec');
      const parts = [origin ? `origin ${origin}` : null, spec, stringAt(response, 'keyMetadata', 'multiRegion') === 'true' ? 'multi-Region' : null];
      return parts.filter(Boolean).join(', ') || null;
    }
    case 'replicated':
      return stringAt(request, 'replicaRegion') ? `replica in ${stringAt(request, 'replicaRegion') ?? ''}` : null;
    case 'primary-region-updated':
      return stringAt(request, 'primaryRegion') ? `primary Region ${stringAt(request, 'primaryRegion') ?? ''}` : null;
    default:
      return null;
  }
}

/** Keys with events in the period, their state at its end, and their state changes in it. */
export async function keyInventory(
  db: KeytrailDb,
  period: ReportPeriod,
  labels: KeyLabels,
): Promise<{ keys: KeyInventoryEntry[]; transitions: KeyTransition[] }> {
  const history = await keyHistory(db, period, labels);
  const rows = await db.all(
    `WITH ${await keyedCte(db)}
     SELECT key_id, k_arn, max(key_account_id) AS account_id, max(key_region) AS region,
            ${ISO('min(event_time)')} AS first_seen, ${ISO('max(event_time)')} AS last_seen,
            ${callCount("event_kind <> 'lifecycle'")} AS calls,
            ${callCount("event_kind <> 'lifecycle' AND outcome = 'error'")} AS errors
     FROM keyed WHERE ${IN_PERIOD}
     GROUP BY key_id, k_arn`,
    periodParams(period),
  );
  const inPeriod = history.transitions.filter((t) => t.time >= period.from && t.time < period.to);
  const changesPerKey = new Map<string, number>();
  for (const t of inPeriod) changesPerKey.set(keyKey(t.keyArn, t.keyId), (changesPerKey.get(keyKey(t.keyArn, t.keyId)) ?? 0) + 1);
  const keys = rows.map((r): KeyInventoryEntry => {
    const keyArn = str(r['k_arn']);
    const keyId = String(r['key_id']);
    const k = keyKey(keyArn, keyId);
    const declared = labels.declared(keyArn, keyId);
    return {
      ...keyRef(labels, keyArn, keyId),
      accountId: str(r['account_id']),
      region: str(r['region']),
      declared: declared !== null,
      description: declared?.description ?? null,
      neverDelete: declared?.never_delete ?? false,
      vendors: declared?.vendors.map((v) => v.name) ?? [],
      firstSeen: String(r['first_seen']),
      lastSeen: String(r['last_seen']),
      calls: num(r['calls']),
      errors: num(r['errors']),
      stateAtEnd: history.state.get(k) ?? null,
      importedMaterial: history.imported.has(k),
      transitionsInPeriod: changesPerKey.get(k) ?? 0,
    };
  });
  // Keys with an alias first, by alias; then the rest by key id (code-point order: stable across locales).
  const order = (k: KeyInventoryEntry) => `${k.alias === null ? '1' : '0'}${k.alias ?? k.keyId}\u0000${k.keyArn ?? ''}`;
  keys.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return { keys, transitions: inPeriod };
}

// --- rotation -------------------------------------------------------------------------------

/**
 * Rotation evidence per key seen in the period (queries/compliance/key-rotation-evidence.sql, which
 * names keys by ARN; a key only ever logged by bare id has no row there and shows no evidence).
 * Automatic rotation happens once per rotation period (365 days by default), so a short period
 * often holds none: `status` also reads the last rotation and the rotation setting.
 */
export async function rotationEvidence(
  db: KeytrailDb,
  period: ReportPeriod,
  keys: readonly (KeyRef & { importedMaterial: boolean; deleted: boolean })[],
): Promise<RotationEntry[]> {
  const rows = await runReportQuery(db, 'rotation', sqlBounds(period));
  const byArn = new Map(rows.map((r) => [String(r['key_arn']), r]));
  const yearBefore = new Date(Date.parse(period.to) - 365 * 86_400_000).toISOString();
  return keys.map((k): RotationEntry => {
    const r = k.keyArn === null ? undefined : byArn.get(k.keyArn);
    const rotations = num(r?.['rotations']);
    const onDemand = num(r?.['on_demand_requests']);
    const enabled = r?.['rotation_enabled'];
    const rotationEnabled = typeof enabled === 'boolean' ? enabled : null;
    const lastRotatedAt = isoTime(r?.['last_rotated_at']);
    const noEvidenceInPeriod = rotations === 0 && onDemand === 0;
    return {
      keyArn: k.keyArn,
      keyId: k.keyId,
      alias: k.alias,
      rotations,
      onDemandRequests: onDemand,
      lastRotatedAt,
      rotationEnabled,
      lastStateChangeAt: isoTime(r?.['last_state_change_at']),
      lastStateChangeBy: str(r?.['last_state_change_by']),
      importedMaterial: k.importedMaterial,
      noEvidenceInPeriod,
      status: !noEvidenceInPeriod
        ? 'rotated in period'
        : k.deleted
          ? 'key deleted'
          : k.importedMaterial
            ? 'imported material'
            : rotationEnabled === false
              ? 'rotation disabled'
              : lastRotatedAt !== null && lastRotatedAt >= yearBefore
                ? 'rotated within a year'
                : rotationEnabled === true
                  ? 'rotation enabled'
                  : 'no evidence',
    };
  });
}

// --- pending deletion -----------------------------------------------------------------------

/**
 * Keys pending deletion at the end of the period: the latest successful ScheduleKeyDeletion before it
 * has no later successful CancelKeyDeletion and no deletion (DeleteKey service event, "KMS CMK
 * Deletion"). The deletion date is the one KMS logged in responseElements.
 */
export async function pendingDeletions(db: KeytrailDb, period: ReportPeriod, labels: KeyLabels, keyFilter?: { keyId: string; keyArn: string | null }): Promise<PendingDeletionEntry[]> {
  const only = keyFilter ? `AND key_id = $keyId AND (k_arn IS NULL OR k_arn = $keyArn::VARCHAR)` : '';
  const rows = await db.all(
    `WITH ${await keyedCte(db)},
     scheduled AS (
       SELECT key_id, k_arn, event_time, event_id, principal_arn, request_parameters, response_elements FROM keyed
       WHERE event_name = 'ScheduleKeyDeletion' AND outcome = 'success' AND event_time < $to::TIMESTAMP ${only}
       QUALIFY row_number() OVER (PARTITION BY key_id, k_arn ORDER BY event_time DESC, event_id DESC) = 1
     ),
     -- Everything stored on those key ids after the scheduling, read once: the calls on the key, and
     -- a cancellation or deletion (which may name the key by bare id) that ends it.
     after AS (
       SELECT s.key_id, s.k_arn,
         count(DISTINCT coalesce(u.shared_event_id, u.event_id))
           FILTER (WHERE u.k_arn IS NOT DISTINCT FROM s.k_arn AND u.event_kind = 'api_call')::INTEGER AS calls_after,
         count(DISTINCT coalesce(u.shared_event_id, u.event_id))
           FILTER (WHERE u.k_arn IS NOT DISTINCT FROM s.k_arn AND u.error_code = 'KMSInvalidStateException'
                     AND u.error_message LIKE '%is pending deletion.')::INTEGER AS failed_pending,
         max(u.event_time) FILTER (WHERE u.k_arn IS NOT DISTINCT FROM s.k_arn AND u.event_kind = 'api_call') AS last_call_after,
         bool_or(u.event_name IN ('CancelKeyDeletion', 'DeleteKey', 'KMS CMK Deletion') AND u.outcome = 'success'
                 AND (u.k_arn IS NULL OR s.k_arn IS NULL OR u.k_arn = s.k_arn)) AS ended
       FROM scheduled s JOIN keyed u ON u.key_id = s.key_id AND u.event_time > s.event_time AND u.event_time < $to::TIMESTAMP
       GROUP BY s.key_id, s.k_arn
     )
     SELECT s.key_id, s.k_arn, ${ISO('s.event_time')} AS scheduled_at, s.principal_arn, s.request_parameters, s.response_elements,
       coalesce(a.calls_after, 0) AS calls_after, coalesce(a.failed_pending, 0) AS failed_pending,
       ${ISO('a.last_call_after')} AS last_call_after
     FROM scheduled s LEFT JOIN after a ON a.key_id = s.key_id AND a.k_arn IS NOT DISTINCT FROM s.k_arn
     WHERE NOT coalesce(a.ended, false)
     ORDER BY s.event_time, s.key_id`,
    { to: period.to, ...(keyFilter ? { keyId: keyFilter.keyId, keyArn: keyFilter.keyArn } : {}) },
  );
  return rows.map((r): PendingDeletionEntry => {
    const keyArn = str(r['k_arn']);
    const keyId = String(r['key_id']);
    const scheduledAt = String(r['scheduled_at']);
    const logged = scheduledDeletion({ requestParameters: str(r['request_parameters']), responseElements: str(r['response_elements']) });
    const loggedIso = logged.deletionDate !== null && !Number.isNaN(Date.parse(logged.deletionDate)) ? logged.deletionDate : null;
    const computed = logged.pendingWindowInDays !== null ? new Date(Date.parse(scheduledAt) + logged.pendingWindowInDays * 86_400_000).toISOString() : null;
    const deletionDate = loggedIso ?? computed;
    return {
      ...keyRef(labels, keyArn, keyId),
      scheduledAt,
      scheduledBy: str(r['principal_arn']),
      pendingWindowDays: logged.pendingWindowInDays,
      deletionDate,
      deletionDateSource: loggedIso ? 'logged' : computed ? 'computed' : 'unknown',
      status: deletionDate !== null && deletionDate <= period.to ? 'deletion due' : 'pending deletion',
      callsAfterScheduling: num(r['calls_after']),
      failedPendingDeletion: num(r['failed_pending']),
      lastCallAfterScheduling: str(r['last_call_after']),
    };
  });
}

// --- administration -------------------------------------------------------------------------

/**
 * Who changed key policies, grants, state, deletion, rotation, aliases, key material, descriptions
 * and tags, failed attempts included (queries/compliance/key-administration-activity.sql).
 */
export async function administration(db: KeytrailDb, period: ReportPeriod, labels: KeyLabels, key = ''): Promise<AdministrationEvidence> {
  const rows = await runReportQuery(db, 'administration', { key, ...sqlBounds(period) }, {
    packed: {
      // event_time as DuckDB writes a TIMESTAMP as text, which isoTime reads as it reads the JSON form.
      text: ['event_time', 'event_name', 'outcome', 'error_code', 'key_arn', 'key_id', 'alias_name', 'principal_arn', 'principal_account_id', 'principal_type', 'session_issuer_arn', 'invoked_by', 'source_ip', 'event_id'],
      orderBy: 'event_time, event_id',
    },
  });
  const actions = rows.map((r): AdministrativeAction => {
    const keyArn = str(r['key_arn']);
    const keyId = str(r['key_id']);
    return {
      keyArn,
      keyId: keyId ?? '',
      alias: keyId === null ? str(r['alias_name']) : (labels.alias(keyArn, keyId) ?? str(r['alias_name'])),
      time: isoTime(r['event_time']) ?? '',
      operation: String(r['event_name']),
      outcome: String(r['outcome']),
      errorCode: str(r['error_code']),
      principalArn: str(r['principal_arn']),
      accountId: str(r['principal_account_id']),
      invokedBy: str(r['invoked_by']),
      sourceIp: str(r['source_ip']),
      eventId: String(r['event_id']),
    };
  });
  const groups = new Map<string, { summary: AdministratorSummary; keys: Set<string>; operations: Set<string> }>();
  rows.forEach((r, i) => {
    const action = actions[i];
    if (!action) return;
    const principal = administrator(action.principalArn, str(r['session_issuer_arn']), r['principal_type'] === 'AssumedRole') ?? action.invokedBy ?? '(unknown)';
    const id = `${principal}|${action.invokedBy ?? ''}`;
    let g = groups.get(id);
    if (!g) {
      g = {
        summary: { principal, accountId: action.accountId, actions: 0, failed: 0, keys: 0, operations: [], invokedBy: action.invokedBy, first: action.time, last: action.time },
        keys: new Set(),
        operations: new Set(),
      };
      groups.set(id, g);
    }
    g.summary.actions += 1;
    if (action.outcome !== 'success') g.summary.failed += 1;
    if (action.keyId) g.keys.add(action.keyId);
    g.operations.add(action.operation);
    g.summary.last = action.time;
  });
  const byPrincipal = [...groups.values()]
    .map((g) => ({ ...g.summary, keys: g.keys.size, operations: [...g.operations].sort() }))
    .sort((a, b) => b.actions - a.actions || a.principal.localeCompare(b.principal));
  return { actions, byPrincipal };
}

/**
 * Who an administrative call is attributed to: the person for IAM Identity Center sessions (the
 * session name is the user), else the role for role sessions (automation runs under many sessions).
 */
function administrator(principalArn: string | null, sessionIssuerArn: string | null, assumedRole: boolean): string | null {
  if (!assumedRole || sessionIssuerArn === null) return principalArn;
  return /AWSReservedSSO_/.test(sessionIssuerArn) ? principalArn : sessionIssuerArn;
}

// --- cross-account --------------------------------------------------------------------------

/** Cross-account calls in the period: the caller's account is known and is not the key owner's. */
const CROSS_ACCOUNT = `is_cross_account AND event_kind <> 'lifecycle' AND ${IN_PERIOD}`;

/**
 * Cross-account calls per key, caller account, principal (the role for role sessions) and operation.
 * Nearly every such row has a sharedEventID, so rather than count distinct ids (`callCount`) the
 * rows are first grouped with their sharedEventID (the copies of one call: one group) and the groups
 * counted: the same numbers, at a fraction of the cost.
 */
const CROSS_ACCOUNT_PER_OPERATION = `SELECT key_id, k_arn, max(key_account_id) AS key_account_id, principal_account_id, principal,
            max(session_issuer_arn) AS session_issuer_arn, event_name,
            (coalesce(sum(copies) FILTER (WHERE shared_event_id IS NULL), 0) + count(shared_event_id))::INTEGER AS calls,
            (coalesce(sum(failed) FILTER (WHERE shared_event_id IS NULL), 0) + count(shared_event_id) FILTER (WHERE failed > 0))::INTEGER AS errors,
            min(first_seen) AS first_seen, max(last_seen) AS last_seen
     FROM (
       SELECT key_id, k_arn, principal_account_id, ${CALLER_SQL} AS principal, event_name, shared_event_id,
              max(key_account_id) AS key_account_id, max(session_issuer_arn) AS session_issuer_arn,
              count(*) AS copies, count(*) FILTER (WHERE outcome = 'error') AS failed,
              min(event_time) AS first_seen, max(event_time) AS last_seen
       FROM keyed
       WHERE ${CROSS_ACCOUNT}
       GROUP BY key_id, k_arn, principal_account_id, ${CALLER_SQL}, event_name, shared_event_id
     )
     GROUP BY key_id, k_arn, principal_account_id, principal, event_name`;

/** The text columns of the cross-account rows. */
const CROSS_ACCOUNT_TEXT = ['key_id', 'k_arn', 'key_account_id', 'principal_account_id', 'principal', 'session_issuer_arn', 'event_name', 'first_seen', 'last_seen'];

/** A caller of a key from another account, with what the configuration says about it. */
type ClassifiedCaller = KeyRef & Pick<CrossAccountRow, 'keyAccountId' | 'callerAccountId' | 'access' | 'vendor' | 'vendorDeclaredForKey' | 'suppressedBy' | 'principal'>;

// Objects are built field by field here: spreading (`{ ...a, x, ...b }`) costs microseconds per
// object in V8, which over tens of thousands of rows is a noticeable part of a report.
function classifyCrossAccount(r: Row, labels: KeyLabels, config: KeytrailConfig, now: Date): ClassifiedCaller {
  const keyArn = str(r['k_arn']);
  const keyId = String(r['key_id']);
  const principal = String(r['principal']);
  const callerAccountId = String(r['principal_account_id']);
  const sessionIssuerArn = str(r['session_issuer_arn']);
  const keyAccountId = str(r['key_account_id']);
  const { access, vendor, vendorDeclaredForKey } = classifyCaller(config, labels.declared(keyArn, keyId), {
    principalArn: principal.startsWith('arn:') ? principal : null,
    sessionIssuerArn,
    accountId: callerAccountId,
  });
  return {
    keyArn,
    keyId,
    alias: labels.alias(keyArn, keyId),
    keyAccountId,
    callerAccountId,
    access,
    vendor,
    vendorDeclaredForKey,
    suppressedBy: access === 'vendor' && vendorDeclaredForKey ? null : crossAccountSuppression(config, now, { keyArn, keyId, principal, sessionIssuerArn, callerAccountId, keyAccountId }),
    principal,
  };
}

/**
 * Cross-account calls in the period (caller account ≠ key owner, both known), one row per key,
 * caller account, principal (the role for role sessions) and operation; denied calls included.
 */
export async function crossAccountRows(db: KeytrailDb, period: ReportPeriod, labels: KeyLabels, config: KeytrailConfig, now: Date): Promise<CrossAccountRow[]> {
  const rows = await packedRows(
    db,
    `WITH ${await keyedCte(db)}
     SELECT key_id, k_arn, key_account_id, principal_account_id, principal, session_issuer_arn, event_name, calls, errors,
            ${ISO('first_seen')} AS first_seen, ${ISO('last_seen')} AS last_seen
     FROM (${CROSS_ACCOUNT_PER_OPERATION})`,
    periodParams(period),
    { text: CROSS_ACCOUNT_TEXT, numbers: ['calls', 'errors'], orderBy: 'k_arn, key_id, principal_account_id, principal, event_name' },
  );
  return rows.map((r): CrossAccountRow => {
    const c = classifyCrossAccount(r, labels, config, now);
    return {
      keyArn: c.keyArn,
      keyId: c.keyId,
      alias: c.alias,
      keyAccountId: c.keyAccountId,
      callerAccountId: c.callerAccountId,
      access: c.access,
      vendor: c.vendor,
      vendorDeclaredForKey: c.vendorDeclaredForKey,
      suppressedBy: c.suppressedBy,
      principal: c.principal,
      operation: String(r['event_name']),
      calls: num(r['calls']),
      errors: num(r['errors']),
      firstSeen: String(r['first_seen']),
      lastSeen: String(r['last_seen']),
    };
  });
}

/**
 * `summarizeCrossAccount(await crossAccountRows(…))`, without reading every operation's row: the rows
 * that the summary reads alike (same key, caller account, principal, session issuer and key owner, so
 * classified alike) come from SQL as one, with their operations, in the order of their first row.
 */
export async function crossAccountSummary(db: KeytrailDb, period: ReportPeriod, labels: KeyLabels, config: KeytrailConfig, now: Date): Promise<CrossAccountSummaryRow[]> {
  const rows = await packedRows(
    db,
    `WITH ${await keyedCte(db)}
     SELECT key_id, k_arn, key_account_id, principal_account_id, principal, session_issuer_arn,
            list(event_name ORDER BY event_name) AS operations, min(event_name) AS first_operation,
            sum(calls)::INTEGER AS calls, sum(errors)::INTEGER AS errors,
            ${ISO('min(first_seen)')} AS first_seen, ${ISO('max(last_seen)')} AS last_seen
     FROM (${CROSS_ACCOUNT_PER_OPERATION})
     GROUP BY key_id, k_arn, key_account_id, principal_account_id, principal, session_issuer_arn`,
    periodParams(period),
    {
      text: CROSS_ACCOUNT_TEXT.filter((c) => c !== 'event_name'),
      numbers: ['calls', 'errors'],
      others: ['operations'],
      orderBy: 'k_arn, key_id, principal_account_id, principal, first_operation',
    },
  );
  return foldCrossAccount(
    rows.map((r): CallerOperations => ({
      caller: classifyCrossAccount(r, labels, config, now),
      operations: Array.isArray(r['operations']) ? r['operations'].map(String) : [],
      calls: num(r['calls']),
      errors: num(r['errors']),
      firstSeen: String(r['first_seen']),
      lastSeen: String(r['last_seen']),
    })),
  );
}

/**
 * The configured suppression that would silence KMS.CrossAccountUse for this caller on this key (the
 * configuration's word that the access is known), matched as the detector's findings are.
 */
function crossAccountSuppression(
  config: KeytrailConfig,
  now: Date,
  c: { keyArn: string | null; keyId: string; principal: string; sessionIssuerArn: string | null; callerAccountId: string; keyAccountId: string | null },
): string | null {
  // No suppressions configured: nothing to match (and no probe to build for every caller).
  if (config.suppressions.length === 0) return null;
  const probe: Finding = {
    schema_version: FINDING_SCHEMA_VERSION,
    finding_id: '0'.repeat(32),
    detector_id: 'KMS.CrossAccountUse',
    severity: 'medium',
    title: 'probe',
    summary: 'probe',
    occurred_at: now.toISOString(),
    account_id: c.keyAccountId,
    region: null,
    key_arn: c.keyArn,
    principal_arn: c.principal.startsWith('arn:') ? c.principal : null,
    principal_account_id: c.callerAccountId,
    event_ids: ['probe'],
    context: { keyId: c.keyId, sessionIssuerArn: c.sessionIssuerArn },
    runbook: [],
    references: [],
  };
  return matchSuppression(probe, config.suppressions, now).match?.label ?? null;
}

/** The rows per key and caller account. Call counts add up: each call has one operation and one principal. */
export function summarizeCrossAccount(rows: readonly CrossAccountRow[]): CrossAccountSummaryRow[] {
  return foldCrossAccount(rows.map((r) => ({ caller: r, operations: [r.operation], calls: r.calls, errors: r.errors, firstSeen: r.firstSeen, lastSeen: r.lastSeen })));
}

/** A caller's calls on a key: of one operation (`crossAccountRows`) or several. */
interface CallerOperations {
  caller: ClassifiedCaller;
  operations: readonly string[];
  calls: number;
  errors: number;
  firstSeen: string;
  lastSeen: string;
}

/** Rows in key, caller account, principal, operation order, folded per key and caller account. */
function foldCrossAccount(rows: readonly CallerOperations[]): CrossAccountSummaryRow[] {
  const groups = new Map<string, { summary: CrossAccountSummaryRow; principals: Set<string>; operations: Set<string> }>();
  for (const r of rows) {
    const c = r.caller;
    const id = `${c.keyId}|${c.keyArn ?? ''}|${c.callerAccountId}`;
    let g = groups.get(id);
    if (!g) {
      g = {
        summary: {
          keyArn: c.keyArn,
          keyId: c.keyId,
          alias: c.alias,
          keyAccountId: c.keyAccountId,
          callerAccountId: c.callerAccountId,
          access: c.access,
          vendor: c.vendor,
          vendorDeclaredForKey: c.vendorDeclaredForKey,
          suppressedBy: c.suppressedBy,
          principals: 0,
          operations: [],
          calls: 0,
          errors: 0,
          firstSeen: r.firstSeen,
          lastSeen: r.lastSeen,
        },
        principals: new Set(),
        operations: new Set(),
      };
      groups.set(id, g);
    }
    const s = g.summary;
    // A vendor recognised by role on one row and not on another: the vendor reading wins.
    if (s.access !== 'vendor' && c.access === 'vendor') {
      s.access = c.access;
      s.vendor = c.vendor;
      s.vendorDeclaredForKey = c.vendorDeclaredForKey;
    }
    // Known only if every principal of the account is: one unsuppressed caller keeps the pair open.
    if (c.suppressedBy === null) s.suppressedBy = null;
    s.calls += r.calls;
    s.errors += r.errors;
    g.principals.add(c.principal);
    for (const operation of r.operations) g.operations.add(operation);
    if (r.firstSeen < s.firstSeen) s.firstSeen = r.firstSeen;
    if (r.lastSeen > s.lastSeen) s.lastSeen = r.lastSeen;
  }
  return [...groups.values()].map(({ summary, principals, operations }) => {
    summary.principals = principals.size;
    summary.operations = [...operations].sort();
    return summary;
  });
}

/** Cross-account calls per day and caller account. */
export async function crossAccountDaily(db: KeytrailDb, period: ReportPeriod): Promise<{ day: string; callerAccountId: string; calls: number }[]> {
  const rows = await db.all(
    `SELECT strftime(event_date, '%Y-%m-%d') AS day, principal_account_id, calls FROM (
       SELECT event_date, principal_account_id, ${callCount()} AS calls FROM kms_events WHERE ${CROSS_ACCOUNT} GROUP BY ALL
     ) ORDER BY event_date, principal_account_id`,
    periodParams(period),
  );
  return rows.map((r) => ({ day: String(r['day']), callerAccountId: String(r['principal_account_id']), calls: num(r['calls']) }));
}

// --- usage ----------------------------------------------------------------------------------

/**
 * Calls per day and key in the period (keys and days without calls left out), by day then key id.
 * SQL returns one row per key with its days packed in one text (`yyyy-mm-dd=calls,…`): the day rows
 * are days × keys, and that many rows through the Node bindings cost many times the query.
 */
async function dailyCallsByKey(db: KeytrailDb, period: ReportPeriod, labels: KeyLabels): Promise<UsageEvidence['dailyByKey']> {
  const keys = await db.all(
    `WITH ${await keyedCte(db)}
     SELECT key_id, k_arn, string_agg(strftime(event_date, '%Y-%m-%d') || '=' || calls, ',') AS days FROM (
       SELECT event_date, key_id, k_arn, ${callCount()} AS calls
       FROM keyed WHERE event_kind <> 'lifecycle' AND ${IN_PERIOD}
       GROUP BY event_date, key_id, k_arn
     ) GROUP BY key_id, k_arn
     ORDER BY key_id, k_arn NULLS LAST`,
    periodParams(period),
  );
  // By day, then in the keys' order: bucket the entries by day rather than sort them all.
  const byDay = new Map<string, UsageEvidence['dailyByKey']>();
  for (const r of keys) {
    const keyArn = str(r['k_arn']);
    const keyId = String(r['key_id']);
    const label = labels.label(keyArn, keyId);
    for (const entry of String(r['days']).split(',')) {
      const at = entry.indexOf('=');
      const day = entry.slice(0, at);
      let entries = byDay.get(day);
      if (entries === undefined) byDay.set(day, (entries = []));
      entries.push({ day, keyArn, keyId, label, calls: Number(entry.slice(at + 1)) });
    }
  }
  return [...byDay.keys()].sort().flatMap((day) => byDay.get(day) ?? []);
}

export interface CallerUsage {
  callers: number;
  byPrincipal: UsageEvidence['byPrincipal'];
}

/**
 * Who called in the period, roles not sessions: every caller of a call (`callers`, for the totals)
 * and, by calls, the callers of KMS API calls (`byPrincipal`), from one pass over the period.
 */
export async function callerUsage(db: KeytrailDb, period: ReportPeriod): Promise<CallerUsage> {
  const kms = "event_source = 'kms.amazonaws.com'";
  const rows = await packedRows(
    db,
    `SELECT ${CALLER_SQL} AS principal, bool_or(${kms}) AS kms, max(principal_account_id) FILTER (WHERE ${kms}) AS account_id,
            ${callCount(kms)} AS calls,
            ${callCount(`${kms} AND outcome = 'error'`)} AS errors,
            count(DISTINCT key_id) FILTER (WHERE ${kms})::INTEGER AS keys
     FROM kms_events WHERE event_kind <> 'lifecycle' AND ${IN_PERIOD}
     GROUP BY 1`,
    periodParams(period),
    { text: ['principal', 'account_id'], numbers: ['kms', 'calls', 'errors', 'keys'], orderBy: 'calls DESC, principal' },
  );
  return {
    callers: rows.length,
    byPrincipal: rows
      .filter((r) => r['kms'] === true)
      .map((r) => ({
        principal: String(r['principal']),
        accountId: str(r['account_id']),
        calls: num(r['calls']),
        errors: num(r['errors']),
        keys: num(r['keys']),
      })),
  };
}

/** Calls per day and key, and callers by calls, in the period (`callers`: from `callerUsage`, if already read). */
export async function usageEvidence(db: KeytrailDb, period: ReportPeriod, labels: KeyLabels, callers?: CallerUsage): Promise<UsageEvidence> {
  return { dailyByKey: await dailyCallsByKey(db, period, labels), byPrincipal: (callers ?? (await callerUsage(db, period))).byPrincipal };
}

// --- findings -------------------------------------------------------------------------------

/**
 * Findings that occurred in the period, from the findings table: open ones (most severe first, then
 * by time) and suppressed ones apart. `match` narrows them (one key).
 */
export async function findingsEvidence(
  db: KeytrailDb,
  period: ReportPeriod,
  labels: KeyLabels,
  match: (f: StoredFinding) => boolean = () => true,
): Promise<FindingsEvidence> {
  const all = (await new FindingStore(db).list({ since: period.from, includeSuppressed: true })).filter(
    (f) => f.finding.occurred_at < period.to && match(f),
  );
  const entry = (f: StoredFinding): FindingEntry => {
    const keyId = typeof f.finding.context['keyId'] === 'string' ? f.finding.context['keyId'] : null;
    return {
      findingId: f.finding.finding_id,
      occurredAt: f.finding.occurred_at,
      severity: f.finding.severity,
      detectorId: f.finding.detector_id,
      title: f.finding.title,
      summary: f.finding.summary,
      keyArn: f.finding.key_arn,
      keyLabel: f.finding.key_arn !== null || keyId !== null ? labels.label(f.finding.key_arn, keyId) : null,
      principalArn: f.finding.principal_arn,
      accountId: f.finding.principal_account_id ?? f.finding.account_id,
      status: f.status,
      suppressedBy: f.suppressedBy,
    };
  };
  const bySeverity = (a: FindingEntry, b: FindingEntry) =>
    severityRank(b.severity) - severityRank(a.severity) || a.occurredAt.localeCompare(b.occurredAt) || a.findingId.localeCompare(b.findingId);
  const open = all.filter((f) => f.suppressedBy === null && f.status === 'open').map(entry).sort(bySeverity);
  const suppressed = all.filter((f) => f.suppressedBy !== null).map(entry).sort(bySeverity);
  const openBySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, open.filter((f) => f.severity === s).length])) as Record<Severity, number>;
  const daily = new Map<string, { day: string; severity: Severity; findings: number }>();
  for (const f of open) {
    const day = f.occurredAt.slice(0, 10);
    const id = `${day}|${f.severity}`;
    const d = daily.get(id) ?? { day, severity: f.severity, findings: 0 };
    d.findings += 1;
    daily.set(id, d);
  }
  return { open, openBySeverity, suppressed, daily: [...daily.values()].sort((a, b) => a.day.localeCompare(b.day) || severityRank(b.severity) - severityRank(a.severity)) };
}
