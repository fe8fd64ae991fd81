import type { Vendor } from '../config/schema.js';
import type { Severity } from '../findings/finding.js';
import { accountOfPrincipalValue, accountRootArn, keyPolicyOf, parseKeyPolicy, policyAccess, type PolicyAccess, type PolicyPrincipalGrant } from './lib/key-policy.js';
import { parseJsonObject, rowString, stringField, stringList, type JsonObject } from './lib/policy-json.js';
import { accountOfGrantee, keyLabel, findVendorForPrincipal, vendorsOfKey } from './lib/policy-principals.js';
import { bucketStart, dedupWindowHours, isoSql } from './lib/policy-window.js';
import type { DetectionContext, FindingDraft, QueryDetector } from './types.js';

const ID = 'KMS.ExternalAccessChanged';

/**
 * Every successful key-policy or grant change in the window, with what history says about it:
 * - for PutKeyPolicy, the policy it replaced: the last successful CreateKey/PutKeyPolicy of the same
 *   key before it (same key id; same ARN when both rows have one, so multi-Region replicas, which
 *   share a key id but not a policy, stay apart);
 * - for RevokeGrant/RetireGrant, the CreateGrant whose grantId it names (RevokeGrant logs only the
 *   grant id; RetireGrant logs it in requestParameters or additionalEventData).
 * Both come from the table, so the detector needs no history facts from the engine.
 */
const SQL = `
SELECT
  c.event_id, c.event_name, ${isoSql('c.event_time')} AS event_time,
  c.key_arn, c.key_id, c.key_account_id, c.key_region, c.alias_name, c.aws_region, c.recipient_account_id,
  c.principal_arn, c.principal_account_id, c.session_issuer_arn, c.invoked_by, c.shared_event_id,
  c.request_parameters, c.response_elements, c.additional_event_data,
  prev.event_id AS previous_event_id,
  prev.event_name AS previous_event_name,
  ${isoSql('prev.event_time')} AS previous_event_time,
  prev.request_parameters AS previous_request_parameters,
  grant_event.event_id AS grant_event_id,
  ${isoSql('grant_event.event_time')} AS grant_event_time,
  grant_event.request_parameters AS grant_request_parameters
FROM kms_events c
LEFT JOIN LATERAL (
  SELECT p.event_id, p.event_name, p.event_time, p.request_parameters
    FROM kms_events p
   WHERE c.event_name = 'PutKeyPolicy'
     AND p.event_source = 'kms.amazonaws.com'
     AND p.event_name IN ('CreateKey', 'PutKeyPolicy')
     AND p.outcome = 'success'
     AND p.key_id = c.key_id
     AND (p.key_arn IS NULL OR c.key_arn IS NULL OR p.key_arn = c.key_arn)
     AND (p.event_time < c.event_time OR (p.event_time = c.event_time AND p.event_id < c.event_id))
   ORDER BY p.event_time DESC, p.event_id DESC
   LIMIT 1
) prev ON true
LEFT JOIN LATERAL (
  SELECT g.event_id, g.event_time, g.request_parameters
    FROM kms_events g
   WHERE c.event_name IN ('RevokeGrant', 'RetireGrant')
     AND g.event_source = 'kms.amazonaws.com'
     AND g.event_name = 'CreateGrant'
     AND g.outcome = 'success'
     AND json_extract_string(g.response_elements, '$.grantId') = coalesce(
           json_extract_string(c.request_parameters, '$.grantId'),
           json_extract_string(c.additional_event_data, '$.grantId'))
   ORDER BY g.event_time DESC
   LIMIT 1
) grant_event ON true
WHERE c.event_time >= $window_from::TIMESTAMP
  AND c.event_time < $window_to::TIMESTAMP
  AND c.event_source = 'kms.amazonaws.com'
  -- A failed change changed nothing.
  AND c.outcome = 'success'
  AND c.event_name IN ('CreateKey', 'PutKeyPolicy', 'CreateGrant', 'RevokeGrant', 'RetireGrant')
ORDER BY c.event_time, c.event_id`;

interface Change {
  eventId: string;
  eventName: string;
  eventTime: string;
  keyArn: string | null;
  keyId: string | null;
  aliasName: string | null;
  keyRegion: string | null;
  awsRegion: string | null;
  /** The key owner. Only the owner can call CreateKey/PutKeyPolicy, and a key named without its ARN is in the caller's own account. */
  owner: string | null;
  principalArn: string | null;
  principalAccountId: string | null;
  req: JsonObject | null;
  res: JsonObject | null;
  extra: JsonObject | null;
  row: Record<string, unknown>;
}

function changeOf(row: Record<string, unknown>): Change {
  const principalAccountId = rowString(row['principal_account_id']);
  return {
    eventId: String(row['event_id']),
    eventName: String(row['event_name']),
    eventTime: String(row['event_time']),
    keyArn: rowString(row['key_arn']),
    keyId: rowString(row['key_id']),
    aliasName: rowString(row['alias_name']),
    keyRegion: rowString(row['key_region']),
    awsRegion: rowString(row['aws_region']),
    owner: rowString(row['key_account_id']) ?? principalAccountId ?? rowString(row['recipient_account_id']),
    principalArn: rowString(row['principal_arn']),
    principalAccountId,
    req: parseJsonObject(row['request_parameters']),
    res: parseJsonObject(row['response_elements']),
    extra: parseJsonObject(row['additional_event_data']),
    row,
  };
}

/** A principal as a finding lists it. */
interface PrincipalChange {
  principal: string;
  accountId: string | null;
  via: PolicyPrincipalGrant['via'];
  statements: string[];
  actions: string[];
  vendor: string | null;
  trusted: boolean;
}

function describePrincipal(p: PolicyPrincipalGrant, vendors: readonly Vendor[], ctx: DetectionContext, owner: string | null): PrincipalChange {
  return {
    principal: p.id,
    accountId: p.accountId,
    via: p.via,
    statements: p.sids,
    actions: p.actions,
    vendor: findVendorForPrincipal(vendors, p.id, p.accountId, owner)?.name ?? null,
    trusted: p.accountId !== null && ctx.isTrustedAccount(p.accountId),
  };
}

function principalText(p: PrincipalChange): string {
  const notes = [p.vendor ? `vendor "${p.vendor}"` : null, p.trusted ? 'trusted account' : null, p.via === 'condition' ? 'via a condition on "*"' : null].filter(Boolean);
  return notes.length > 0 ? `${p.principal} (${notes.join(', ')})` : p.principal;
}

/** Does a policy still let the vendor in? Its principals named, or (for a vendor role in the owner's own account) the owner's root, which delegates to IAM policies. */
function vendorCovered(access: PolicyAccess, vendor: Vendor, owner: string | null): boolean {
  if (access.denied.some((p) => findVendorForPrincipal([vendor], p.id, p.accountId, owner))) return false;
  if (access.granted.some((p) => findVendorForPrincipal([vendor], p.id, p.accountId, owner))) return true;
  const inOwnerAccount = vendor.principals.some((p) => owner !== null && accountOfPrincipalValue(p) === owner) || (owner !== null && vendor.accounts.includes(owner));
  // Only the root named as principal delegates to IAM policies; a wildcard pinned to the owner
  // account usually carries kms:ViaService and lets the role in only through that service.
  return inOwnerAccount && owner !== null && access.granted.some((p) => p.id === accountRootArn(owner) && p.via === 'principal');
}

type PreviousPolicy =
  | { state: 'none'; access: PolicyAccess }
  | { state: 'seen'; access: PolicyAccess; eventId: string; eventName: string; eventTime: string | null }
  | { state: 'unseen' }
  | { state: 'unparseable'; eventId: string; eventName: string; eventTime: string | null; reason: string };

const EMPTY_ACCESS: PolicyAccess = { granted: [], denied: [], publicStatements: 0, organizations: [] };

function defaultPolicyAccess(owner: string | null): PolicyAccess {
  // CreateKey without a policy gets the default key policy: the owner account's root, kms:*.
  if (!owner) return EMPTY_ACCESS;
  return { ...EMPTY_ACCESS, granted: [{ id: accountRootArn(owner), accountId: owner, via: 'principal', sids: ['default'], actions: ['kms:*'] }] };
}

function previousPolicyOf(c: Change): PreviousPolicy {
  if (c.eventName === 'CreateKey') return { state: 'none', access: EMPTY_ACCESS };
  const eventId = rowString(c.row['previous_event_id']);
  const eventName = rowString(c.row['previous_event_name']);
  if (!eventId || !eventName) return { state: 'unseen' };
  const eventTime = rowString(c.row['previous_event_time']);
  const raw = keyPolicyOf(eventName, parseJsonObject(c.row['previous_request_parameters']), null);
  if (raw === null) return { state: 'seen', access: defaultPolicyAccess(c.owner), eventId, eventName, eventTime };
  const parsed = parseKeyPolicy(raw);
  if (!parsed.ok) return { state: 'unparseable', eventId, eventName, eventTime, reason: parsed.reason };
  return { state: 'seen', access: policyAccess(parsed.statements), eventId, eventName, eventTime };
}

function policyDraft(c: Change, ctx: DetectionContext): FindingDraft | null {
  const raw = keyPolicyOf(c.eventName, c.req, c.res);
  // CreateKey without a policy: the default policy, owner only. Nothing external to report.
  if (raw === null) return null;
  const parsed = parseKeyPolicy(raw);
  // A policy that is not JSON cannot be compared (KMS accepts only JSON, so this is a damaged record).
  if (!parsed.ok) return null;
  const now = policyAccess(parsed.statements);
  const previous = previousPolicyOf(c);
  const vendors = vendorsOfKey(ctx, c);
  // The organization's accounts (trusted_accounts) are expected on every key, as in the grant path.
  const external = (p: PolicyPrincipalGrant) =>
    p.accountId !== null && p.accountId !== c.owner && !ctx.isTrustedAccount(p.accountId, c.owner);
  const declaredVendor = (p: PolicyPrincipalGrant) => findVendorForPrincipal(vendors, p.id, p.accountId, c.owner) !== null;
  // Vendor principals are followed wherever they live: a BYOK vendor often assumes a role in the
  // customer's own account (see the vendor setup guides), and removing it breaks the vendor too.
  const tracked = (p: PolicyPrincipalGrant) => external(p) || declaredVendor(p);

  const known = previous.state === 'seen' || previous.state === 'none';
  const before = known ? previous.access : null;
  const beforeIds = new Set(before?.granted.map((p) => p.id) ?? []);
  const nowIds = new Set(now.granted.map((p) => p.id));
  const beforeDenied = new Set(before?.denied.map((p) => p.id) ?? []);

  // Without the previous policy only what is external now can be reported, as "present".
  // A key's own declared vendor being added is the BYOK setup the config describes, not a surprise.
  const added = now.granted.filter((p) => !declaredVendor(p) && (known ? tracked(p) && !beforeIds.has(p.id) : external(p)));
  const removed = before ? before.granted.filter((p) => tracked(p) && !nowIds.has(p.id)) : [];
  const newlyDenied = now.denied.filter((p) => tracked(p) && (!known || !beforeDenied.has(p.id)));

  const vendorsLosing = before ? vendors.filter((v) => vendorCovered(before, v, c.owner) && !vendorCovered(now, v, c.owner)) : [];
  const vendorsMaybeLosing = before ? [] : vendors.filter((v) => !vendorCovered(now, v, c.owner));

  if (added.length + removed.length + newlyDenied.length + vendorsLosing.length + vendorsMaybeLosing.length === 0) return null;

  const addedOut = added.map((p) => describePrincipal(p, vendors, ctx, c.owner));
  const removedOut = removed.map((p) => describePrincipal(p, vendors, ctx, c.owner));
  const deniedOut = newlyDenied.map((p) => describePrincipal(p, vendors, ctx, c.owner));
  const key = keyLabel(c);
  const caller = c.principalArn ?? c.principalAccountId ?? 'an unknown caller';
  const parts: string[] = [];
  if (addedOut.length > 0) {
    // A vendor role in the owner's own account is followed too, but it is not "external".
    const kind = added.every(external) ? 'external principal' : 'principal';
    parts.push(`${known ? 'added' : 'grants'} ${kind}${addedOut.length === 1 ? '' : 's'} ${addedOut.map(principalText).join(', ')}`);
  }
  if (removedOut.length > 0) parts.push(`removed ${removedOut.map(principalText).join(', ')}`);
  if (deniedOut.length > 0) parts.push(`now explicitly denies ${deniedOut.map(principalText).join(', ')}`);
  if (vendorsLosing.length > 0) parts.push(`vendor ${vendorsLosing.map((v) => `"${v.name}"`).join(', ')} loses access to the key`);
  for (const v of vendors) {
    if (vendorsLosing.includes(v) || !removedOut.some((p) => p.vendor === v.name)) continue;
    const still = now.granted.filter((p) => findVendorForPrincipal([v], p.id, p.accountId, c.owner)).map((p) => p.id);
    parts.push(
      still.length > 0
        ? `vendor "${v.name}" is still allowed through ${still.join(', ')}`
        : `vendor "${v.name}" is still allowed only through IAM policies of the key owner's account (the policy allows its root)`,
    );
  }
  if (vendorsMaybeLosing.length > 0) {
    parts.push(`declared vendor ${vendorsMaybeLosing.map((v) => `"${v.name}"`).join(', ')} is not granted by the new policy and may lose access unless it holds a grant`);
  }
  let previousNote: string | null = null;
  if (previous.state === 'unseen') previousNote = 'the previous policy of this key was not seen, so removals cannot be told';
  if (previous.state === 'unparseable') previousNote = `the previous policy (${previous.eventName} ${previous.eventId}) could not be read (${previous.reason}), so removals cannot be told`;

  const severity: Severity = vendorsLosing.length > 0 ? 'high' : 'medium';
  return {
    dedupKey: `policy|${c.eventId}`,
    severity,
    summary: `${c.eventName} by ${caller} on key ${key}: ${parts.join('; ')}${previousNote ? ` (${previousNote})` : ''}.`,
    occurredAt: c.eventTime,
    accountId: c.owner,
    region: c.keyRegion ?? c.awsRegion,
    keyArn: c.keyArn,
    principalArn: c.principalArn,
    principalAccountId: c.principalAccountId,
    eventIds: [c.eventId],
    context: {
      operation: c.eventName,
      keyArn: c.keyArn,
      keyId: c.keyId,
      keyOwnerAccountId: c.owner,
      added: addedOut,
      removed: removedOut,
      newlyDenied: deniedOut,
      vendorsLosingAccess: vendorsLosing.map((v) => v.name),
      vendorsPossiblyLosingAccess: vendorsMaybeLosing.map((v) => v.name),
      previousPolicy:
        previous.state === 'seen' || previous.state === 'unparseable'
          ? { state: previous.state, eventId: previous.eventId, eventName: previous.eventName, eventTime: previous.eventTime }
          : { state: previous.state },
      note: previousNote,
      publicStatements: now.publicStatements,
      organizations: now.organizations,
    },
  };
}

function grantDraft(c: Change, ctx: DetectionContext, bucketSeconds: number): FindingDraft | null {
  const vendors = vendorsOfKey(ctx, c);
  const key = keyLabel(c);
  const caller = c.principalArn ?? c.principalAccountId ?? 'an unknown caller';
  const base = {
    occurredAt: c.eventTime,
    accountId: c.owner,
    region: c.keyRegion ?? c.awsRegion,
    keyArn: c.keyArn,
    principalArn: c.principalArn,
    principalAccountId: c.principalAccountId,
    eventIds: [c.eventId],
  };

  if (c.eventName === 'CreateGrant') {
    const grantee = stringField(c.req, 'granteePrincipal');
    const retiring = stringField(c.req, 'retiringPrincipal');
    const parties = [
      { role: 'grantee', principal: grantee, accountId: accountOfGrantee(grantee) },
      { role: 'retiring principal', principal: retiring, accountId: accountOfGrantee(retiring) },
    ].filter(
      (p) =>
        p.principal !== null &&
        p.accountId !== null &&
        p.accountId !== c.owner &&
        // The organization's accounts and the key's own vendors get grants routinely (AWS services
        // such as EBS create one per attachment); their grants are expected.
        !ctx.isTrustedAccount(p.accountId, c.owner) &&
        findVendorForPrincipal(vendors, p.principal, p.accountId, c.owner) === null,
    );
    if (parties.length === 0) return null;
    const operations = stringList(c.req?.['operations']);
    const grantId = stringField(c.res, 'grantId');
    const accounts = [...new Set(parties.map((p) => p.accountId))].sort();
    return {
      ...base,
      // Grants to one account on one key in one dedup window are one finding (both logged copies of
      // a cross-account CreateGrant included).
      dedupKey: `grant-created|${key}|${accounts.join(',')}|${bucketStart(c.eventTime, bucketSeconds)}`,
      summary:
        `CreateGrant by ${caller} on key ${key} gives ${parties.map((p) => `${p.role} ${p.principal} (account ${p.accountId})`).join(' and ')} ` +
        `${operations.length > 0 ? operations.join(', ') : 'the listed operations'}: an account outside the organization and not a vendor of this key.`,
      context: {
        operation: c.eventName,
        keyArn: c.keyArn,
        keyOwnerAccountId: c.owner,
        grantId,
        grantee,
        retiringPrincipal: retiring,
        externalParties: parties,
        operations,
        constraints: c.req?.['constraints'] ?? null,
        grants: [{ eventId: c.eventId, grantId, eventTime: c.eventTime }],
      },
    };
  }

  // RevokeGrant / RetireGrant.
  const grantId = stringField(c.req, 'grantId') ?? stringField(c.extra, 'grantId');
  const grantReq = parseJsonObject(c.row['grant_request_parameters']);
  const grantEventId = rowString(c.row['grant_event_id']);
  const grantee = stringField(grantReq, 'granteePrincipal');
  const granteeAccount = accountOfGrantee(grantee);
  const retiring = stringField(grantReq, 'retiringPrincipal');
  const dedupKey = `grant-removed|${grantId ?? c.eventId}`;

  if (grantEventId && grantee) {
    // A grantee retiring its own grant is the normal end of it (services do it when they detach).
    if (c.eventName === 'RetireGrant' && c.principalAccountId !== null && [granteeAccount, accountOfGrantee(retiring)].includes(c.principalAccountId)) return null;
    const vendor = findVendorForPrincipal(vendors, grantee, granteeAccount, c.owner);
    const external = granteeAccount !== null && granteeAccount !== c.owner;
    if (!vendor && (!external || (granteeAccount !== null && ctx.isTrustedAccount(granteeAccount, c.owner)))) return null;
    const operations = stringList(grantReq?.['operations']);
    return {
      ...base,
      dedupKey,
      severity: vendor ? 'high' : 'medium',
      summary:
        `${c.eventName} by ${caller} on key ${key} removed grant ${grantId ?? '(id not logged)'} of ${grantee}` +
        `${granteeAccount ? ` (account ${granteeAccount})` : ''}${operations.length > 0 ? ` for ${operations.join(', ')}` : ''}` +
        `${vendor ? `: vendor "${vendor.name}" loses that grant` : ': an external grantee loses access'}.`,
      context: {
        operation: c.eventName,
        keyArn: c.keyArn,
        keyOwnerAccountId: c.owner,
        grantId,
        grantee,
        granteeAccountId: granteeAccount,
        retiringPrincipal: retiring,
        operations,
        vendor: vendor?.name ?? null,
        grantCreatedBy: { eventId: grantEventId, eventTime: rowString(c.row['grant_event_time']) },
      },
    };
  }

  // The grant's CreateGrant was not seen: its grantee is unknown. A revocation on a key shared with
  // a vendor may be the vendor's grant. A retirement is usually the grantee's own clean-up, so an
  // unknown one is left alone.
  if (c.eventName !== 'RevokeGrant' || vendors.length === 0) return null;
  const names = vendors.map((v) => `"${v.name}"`).join(', ');
  return {
    ...base,
    dedupKey,
    severity: 'medium',
    summary: `RevokeGrant by ${caller} on key ${key}, which is shared with vendor ${names}, revoked grant ${grantId ?? '(id not logged)'} whose grantee is unknown (its CreateGrant was not seen): this may break vendor ${names}.`,
    context: {
      operation: c.eventName,
      keyArn: c.keyArn,
      keyOwnerAccountId: c.owner,
      grantId,
      grantee: null,
      vendorsOfKey: vendors.map((v) => v.name),
      note: 'the CreateGrant of this grant is not in the stored history, so its grantee is unknown',
    },
  };
}

/** Merge drafts with one dedup key (the two logged copies of a call; several grants in one window). */
function mergeDrafts(drafts: FindingDraft[]): FindingDraft[] {
  const byKey = new Map<string, FindingDraft>();
  const rank: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
  for (const d of drafts) {
    const seen = byKey.get(d.dedupKey);
    if (!seen) {
      byKey.set(d.dedupKey, d);
      continue;
    }
    for (const id of d.eventIds) if (!seen.eventIds.includes(id)) seen.eventIds.push(id);
    if (rank[d.severity ?? 'medium'] > rank[seen.severity ?? 'medium']) seen.severity = d.severity;
    const grants = seen.context['grants'];
    const more = d.context['grants'];
    if (Array.isArray(grants) && Array.isArray(more)) {
      for (const g of more) if (!grants.some((x) => JSON.stringify(x) === JSON.stringify(g))) grants.push(g);
    }
  }
  return [...byKey.values()];
}

/**
 * Who outside the key owner's account can use a key changed: a key policy added or removed an
 * external principal (compared with the key's previous policy), or a grant to an external grantee
 * was created, revoked or retired. High when a vendor declared for the key loses access.
 */
export const kmsExternalAccessChanged = {
  kind: 'query',
  id: ID,
  title: 'External access to a KMS key changed',
  severity: 'medium',
  status: 'stable',
  description:
    'A successful CreateKey or PutKeyPolicy adds or removes a principal of another account (or a declared vendor) compared with ' +
    'the previous policy; a CreateGrant gives an outside account a grant; a RevokeGrant or RetireGrant removes an external or vendor grant. ' +
    'High when a vendor declared for the key loses access.',
  runbook: [
    'Read the added and removed principals and the vendor named in the finding.',
    'If a declared vendor lost access, restore its statement or grant before it fails to decrypt your data (the vendor cannot read what the key protects without it).',
    'If an unknown account was added, confirm the change with the caller; otherwise restore the previous policy (the finding names the event that set it) and review KMS.CrossAccountUse findings for the key.',
  ],
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/grants.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/managing-grants.html',
  ],
  sql: SQL,
  params: (_ctx, window) => ({ window_from: window.from, window_to: window.to }),
  toDrafts: (rows, ctx) => {
    const bucketSeconds = dedupWindowHours(ctx, { id: ID }) * 3600;
    const drafts: FindingDraft[] = [];
    for (const row of rows) {
      const c = changeOf(row);
      const draft = c.eventName === 'CreateKey' || c.eventName === 'PutKeyPolicy' ? policyDraft(c, ctx) : grantDraft(c, ctx, bucketSeconds);
      if (draft) drafts.push(draft);
    }
    return mergeDrafts(drafts);
  },
} as const satisfies QueryDetector;
