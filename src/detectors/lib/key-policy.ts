import { parseJsonObject, asObject, stringList, type JsonObject } from './policy-json.js';

/**
 * Pure reading of KMS key policies as CloudTrail logs them (the `policy` request parameter of
 * CreateKey and PutKeyPolicy, a JSON document in a string). Nothing here throws: a policy that is
 * not JSON (the Developer Guide's own PutKeyPolicy example is not) is reported as unparseable.
 *
 * Semantics follow the IAM policy grammar as KMS applies it: only Allow statements grant; a
 * wildcard principal (`"*"`, `{"AWS": "*"}`, anything with `*`) or an Allow with `NotPrincipal`
 * reaches every AWS account unless a condition pins the caller to an organization or account.
 */

/** One principal named in a statement. */
export interface PolicyPrincipal {
  /** `AWS`, `Service`, `Federated`, `CanonicalUser`, or `*` for `"Principal": "*"`. */
  type: string;
  value: string;
  /** `*` anywhere in the value (`*`, `arn:aws:iam::*:root`). */
  wildcard: boolean;
  /** The account of an AWS principal (ARN or bare account id); null for services, ids, wildcards. */
  accountId: string | null;
}

/** One condition clause: `{"StringEquals": {"kms:CallerAccount": ["111122223333"]}}`. */
export interface ConditionClause {
  operator: string;
  key: string;
  values: string[];
}

export interface KeyPolicyStatement {
  /** Position in the Statement list (0-based), for statements without a Sid. */
  index: number;
  sid: string | null;
  effect: 'Allow' | 'Deny';
  principals: PolicyPrincipal[];
  /** `NotPrincipal`: the statement applies to everyone except these. */
  notPrincipals: PolicyPrincipal[] | null;
  actions: string[];
  /** `NotAction`: every action except these. */
  notActions: string[] | null;
  conditions: ConditionClause[];
}

export type KeyPolicyParse = { ok: true; statements: KeyPolicyStatement[] } | { ok: false; reason: string };

/** Parse a key policy document (JSON text, or an already parsed object). */
export function parseKeyPolicy(policy: unknown): KeyPolicyParse {
  if (policy === null || policy === undefined) return { ok: false, reason: 'no policy' };
  const doc = parseJsonObject(policy);
  if (!doc) return { ok: false, reason: typeof policy === 'string' ? 'policy is not valid JSON' : 'policy is not a JSON object' };
  const raw = doc['Statement'];
  const items = Array.isArray(raw) ? raw : asObject(raw) ? [raw] : null;
  if (!items) return { ok: false, reason: 'policy has no Statement' };
  const statements: KeyPolicyStatement[] = [];
  items.forEach((item, index) => {
    const s = asObject(item);
    if (!s) return;
    const effect = typeof s['Effect'] === 'string' ? s['Effect'].toLowerCase() : '';
    // KMS rejects any other Effect; a statement we cannot read grants nothing we can reason about.
    if (effect !== 'allow' && effect !== 'deny') return;
    statements.push({
      index,
      sid: typeof s['Sid'] === 'string' && s['Sid'] ? s['Sid'] : null,
      effect: effect === 'allow' ? 'Allow' : 'Deny',
      principals: principalsOf(s['Principal']),
      notPrincipals: 'NotPrincipal' in s ? principalsOf(s['NotPrincipal']) : null,
      actions: stringList(s['Action']),
      notActions: 'NotAction' in s ? stringList(s['NotAction']) : null,
      conditions: conditionsOf(s['Condition']),
    });
  });
  return { ok: true, statements };
}

const ACCOUNT_ID = /^\d{12}$/;

/** The account of an AWS principal value: a bare account id or the account field of an ARN. */
export function accountOfPrincipalValue(value: string): string | null {
  if (ACCOUNT_ID.test(value)) return value;
  if (!value.startsWith('arn:')) return null;
  const account = value.split(':')[4] ?? '';
  return ACCOUNT_ID.test(account) ? account : null;
}

function principalsOf(value: unknown): PolicyPrincipal[] {
  if (value === '*') return [{ type: '*', value: '*', wildcard: true, accountId: null }];
  const obj = asObject(value);
  if (!obj) return [];
  const out: PolicyPrincipal[] = [];
  for (const [type, raw] of Object.entries(obj)) {
    for (const v of stringList(raw)) {
      const wildcard = v.includes('*');
      out.push({ type, value: v, wildcard, accountId: type === 'AWS' && !wildcard ? accountOfPrincipalValue(v) : null });
    }
  }
  return out;
}

function conditionsOf(value: unknown): ConditionClause[] {
  const obj = asObject(value);
  if (!obj) return [];
  const out: ConditionClause[] = [];
  for (const [operator, block] of Object.entries(obj)) {
    const keys = asObject(block);
    if (!keys) continue;
    for (const [key, values] of Object.entries(keys)) out.push({ operator, key, values: stringList(values) });
  }
  return out;
}

/** A condition clause that pins the caller (or the calling resource) to accounts or organizations. */
export interface ScopeConstraint {
  key: string;
  operator: string;
  values: string[];
  /** Accounts the clause allows (account keys, and the account field of ARN keys). */
  accounts: string[];
  /** Organizations the clause allows (org id and org path keys). */
  orgIds: string[];
  /** Principal ARNs the clause allows (`aws:PrincipalArn`). */
  principalArns: string[];
}

// Condition keys are case-insensitive in IAM; compared in lower case.
const ACCOUNT_KEYS = new Set(['aws:principalaccount', 'aws:sourceaccount', 'kms:calleraccount']);
const ORG_ID_KEYS = new Set(['aws:principalorgid', 'aws:sourceorgid']);
const ORG_PATH_KEYS = new Set(['aws:principalorgpaths', 'aws:sourceorgpaths']);
// aws:SourceArn limits the calling resource (service principals), aws:PrincipalArn the caller; both
// pin an account only when the ARN's account field is literal.
const ARN_KEYS = new Set(['aws:sourcearn', 'aws:principalarn']);
// Positive matches only. `ForAllValues:` is true when the key is absent, `…IfExists` lets callers
// without the key through, and the negated operators allow everyone else: none of them limit.
const LIMITING_OPERATORS = new Set(['stringequals', 'stringequalsignorecase', 'stringlike', 'arnequals', 'arnlike']);
const ORG_ID = /^o-[a-z0-9]{10,32}$/;
const ORG_PATH = /^(o-[a-z0-9]{10,32})\//;

/**
 * The clauses that limit a statement to known accounts or organizations. kms:ViaService is not one:
 * any account can call through a service; it limits only together with kms:CallerAccount (which is
 * one by itself). Network conditions (aws:SourceVpce, aws:SourceIp) narrow where a call comes from,
 * not whose it is, so they do not make a wildcard private either.
 */
export function scopeConstraints(conditions: readonly ConditionClause[]): ScopeConstraint[] {
  const out: ScopeConstraint[] = [];
  for (const clause of conditions) {
    let operator = clause.operator.toLowerCase();
    if (operator.startsWith('forallvalues:') || operator.endsWith('ifexists')) continue;
    if (operator.startsWith('foranyvalue:')) operator = operator.slice('foranyvalue:'.length);
    if (!LIMITING_OPERATORS.has(operator) || clause.values.length === 0) continue;
    const key = clause.key.toLowerCase();
    const base = { key: clause.key, operator: clause.operator, values: clause.values, accounts: [], orgIds: [], principalArns: [] };
    if (ACCOUNT_KEYS.has(key)) {
      if (clause.values.every((v) => ACCOUNT_ID.test(v))) out.push({ ...base, accounts: unique(clause.values) });
    } else if (ORG_ID_KEYS.has(key)) {
      if (clause.values.every((v) => ORG_ID.test(v))) out.push({ ...base, orgIds: unique(clause.values) });
    } else if (ORG_PATH_KEYS.has(key)) {
      const orgs = clause.values.map((v) => ORG_PATH.exec(v)?.[1] ?? null);
      if (orgs.every((o) => o !== null)) out.push({ ...base, orgIds: unique(orgs as string[]) });
    } else if (ARN_KEYS.has(key)) {
      const accounts = clause.values.map((v) => (v.startsWith('arn:') ? accountOfPrincipalValue(v) : null));
      if (accounts.every((a) => a !== null)) {
        out.push({
          ...base,
          accounts: unique(accounts as string[]),
          principalArns: key === 'aws:principalarn' ? unique(clause.values) : [],
        });
      }
    }
  }
  return out;
}

/** An Allow statement that any AWS account can use. */
export interface PublicGrant {
  index: number;
  sid: string | null;
  /** Why it is public, in words (`Principal "*"`, `NotPrincipal in an Allow statement`). */
  reason: string;
  principals: string[];
  actions: string[];
  notActions: string[] | null;
  /** Condition keys present that do not limit the caller to an account or organization. */
  conditionKeys: string[];
}

/** Allow statements with a wildcard principal (or NotPrincipal) and no account/org condition. */
export function publicGrants(statements: readonly KeyPolicyStatement[]): PublicGrant[] {
  const out: PublicGrant[] = [];
  for (const s of statements) {
    // Deny statements only take access away, whoever they name.
    if (s.effect !== 'Allow') continue;
    const wildcards = s.principals.filter((p) => p.wildcard);
    if (wildcards.length === 0 && s.notPrincipals === null) continue;
    if (scopeConstraints(s.conditions).length > 0) continue;
    const reason =
      wildcards.length > 0
        ? `Principal ${wildcards.map((p) => (p.type === '*' ? '"*"' : `{"${p.type}": "${p.value}"}`)).join(', ')}`
        : 'NotPrincipal in an Allow statement (everyone not listed)';
    out.push({
      index: s.index,
      sid: s.sid,
      reason,
      principals: (wildcards.length > 0 ? wildcards : (s.notPrincipals ?? [])).map((p) => p.value),
      actions: s.actions,
      notActions: s.notActions,
      conditionKeys: unique(s.conditions.map((c) => c.key)),
    });
  }
  return out;
}

/** A principal (or an account, when a wildcard is pinned to one) that a policy allows or denies. */
export interface PolicyPrincipalGrant {
  /** Principal ARN; an account is written as its root ARN (`arn:aws:iam::444455556666:root`). */
  id: string;
  accountId: string | null;
  /** `principal`: named in Principal; `condition`: a wildcard pinned to it by a condition. */
  via: 'principal' | 'condition';
  sids: string[];
  actions: string[];
}

/** Who a key policy lets in (and explicitly keeps out), for comparing two versions. */
export interface PolicyAccess {
  granted: PolicyPrincipalGrant[];
  /** Principals named in unconditional Deny statements. */
  denied: PolicyPrincipalGrant[];
  /** Allow statements open to every account (reported by KMS.KeyPolicyPublic). */
  publicStatements: number;
  /** Organizations a wildcard is pinned to (their accounts are not known here). */
  organizations: string[];
}

/** An account written as a principal: its root ARN, which is what KMS shows for a bare account id. */
export function accountRootArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:root`;
}

function canonicalPrincipal(p: PolicyPrincipal): string {
  return /^\d{12}$/.test(p.value) ? accountRootArn(p.value) : p.value;
}

/** Collect the principals a policy grants and denies. Service principals are AWS itself, not accounts. */
export function policyAccess(statements: readonly KeyPolicyStatement[]): PolicyAccess {
  const granted = new Map<string, PolicyPrincipalGrant>();
  const denied = new Map<string, PolicyPrincipalGrant>();
  const organizations = new Set<string>();
  let publicStatements = 0;

  const add = (into: Map<string, PolicyPrincipalGrant>, s: KeyPolicyStatement, id: string, accountId: string | null, via: PolicyPrincipalGrant['via']) => {
    const entry = into.get(id) ?? { id, accountId, via, sids: [], actions: [] };
    // Named outright anywhere wins over pinned by a condition elsewhere.
    if (via === 'principal') entry.via = 'principal';
    const label = s.sid ?? `#${s.index}`;
    if (!entry.sids.includes(label)) entry.sids.push(label);
    for (const a of s.actions) if (!entry.actions.includes(a)) entry.actions.push(a);
    into.set(id, entry);
  };

  for (const s of statements) {
    if (s.effect === 'Deny') {
      // A conditional Deny removes access only in some requests; only an outright Deny is counted.
      if (s.conditions.length > 0) continue;
      for (const p of s.principals) if (p.type === 'AWS' && !p.wildcard) add(denied, s, canonicalPrincipal(p), p.accountId, 'principal');
      continue;
    }
    for (const p of s.principals) if (p.type === 'AWS' && !p.wildcard) add(granted, s, canonicalPrincipal(p), p.accountId, 'principal');
    const open = s.principals.some((p) => p.wildcard) || s.notPrincipals !== null;
    if (!open) continue;
    const limits = scopeConstraints(s.conditions);
    if (limits.length === 0) {
      publicStatements += 1;
      continue;
    }
    const arnLimits = limits.filter((l) => l.principalArns.length > 0);
    if (arnLimits.length > 0) {
      for (const arn of arnLimits.flatMap((l) => l.principalArns)) add(granted, s, arn, accountOfPrincipalValue(arn), 'condition');
      continue;
    }
    // Several account clauses must all hold (conditions are ANDed): the accounts they share.
    const accountSets = limits.filter((l) => l.accounts.length > 0).map((l) => l.accounts);
    if (accountSets.length > 0) {
      const [first, ...rest] = accountSets;
      for (const account of (first ?? []).filter((a) => rest.every((set) => set.includes(a)))) {
        add(granted, s, accountRootArn(account), account, 'condition');
      }
      continue;
    }
    for (const l of limits) for (const org of l.orgIds) organizations.add(org);
  }
  return { granted: [...granted.values()], denied: [...denied.values()], publicStatements, organizations: [...organizations] };
}

/**
 * The key policy text of a key-policy-setting event: the `policy` request parameter of CreateKey /
 * PutKeyPolicy / ReplicateKey; for ReplicateKey, CloudTrail also logs the replica's effective policy
 * as `responseElements.replicaPolicy`. Null when the call set no policy (CreateKey then applies the
 * default policy, which allows only the owner account).
 */
export function keyPolicyOf(eventName: string, requestParameters: JsonObject | null, responseElements: JsonObject | null): unknown {
  const requested = requestParameters?.['policy'];
  if (requested !== undefined && requested !== null) return requested;
  if (eventName === 'ReplicateKey') return responseElements?.['replicaPolicy'] ?? null;
  return null;
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
