import type { KeyDeclaration, Vendor } from '../../config/schema.js';
import type { KmsEvent } from '../../normalize/types.js';
import type { DetectionContext } from '../types.js';
import { accountOfPrincipalValue, accountRootArn } from './key-policy.js';

/**
 * Who is who, for the access detectors: callers, policy principals and grantees matched against the
 * BYOK vendors declared in the configuration. Pure functions over config and strings.
 */

const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/;

/**
 * The role behind an assumed-role session ARN (`arn:aws:sts::A:assumed-role/R/s` →
 * `arn:aws:iam::A:role/R`). A role path is not in the session ARN, so this is a fallback for
 * records without `sessionContext.sessionIssuer`.
 */
export function roleArnOfSession(arn: string | null): string | null {
  const m = arn ? ASSUMED_ROLE.exec(arn) : null;
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : null;
}

/**
 * The identity to group a caller's calls under: the role for role sessions (a new session name per
 * Lambda invocation or console login would otherwise split one caller into many), else the ARN,
 * else the account.
 */
export function callerIdentity(e: Pick<KmsEvent, 'principalArn' | 'sessionIssuerArn' | 'principalAccountId'>): string | null {
  return e.sessionIssuerArn ?? roleArnOfSession(e.principalArn) ?? e.principalArn ?? e.principalAccountId;
}

/** Vendors declared for the key an event (or row) names. */
export function vendorsOfKey(ctx: DetectionContext, key: Pick<KmsEvent, 'keyArn' | 'keyId' | 'aliasName'>): Vendor[] {
  return ctx.declaredKey(key)?.vendors ?? [];
}

export interface CallerRef {
  accountId: string | null;
  principalArn: string | null;
  sessionIssuerArn: string | null;
}

/**
 * The declared vendor a caller belongs to: its account is one of the vendor's accounts, or its ARN,
 * role (session issuer) or role-of-session matches one of the vendor's principals.
 */
export function findVendorForCaller(vendors: readonly Vendor[], caller: CallerRef): Vendor | null {
  const arns = new Set([caller.principalArn, caller.sessionIssuerArn, roleArnOfSession(caller.principalArn)].filter((a): a is string => !!a));
  return (
    vendors.find(
      (v) => (caller.accountId !== null && v.accounts.includes(caller.accountId)) || v.principals.some((p) => arns.has(p)),
    ) ?? null
  );
}

/**
 * The declared vendor a policy principal or grantee belongs to: one of its accounts (or the root of
 * one), one of its principals, or the root of the account a declared principal lives in (the root
 * stands for every principal of that account) — except the key owner's own root, which stands for
 * the owner, not for a vendor role that happens to live in the owner's account.
 */
export function findVendorForPrincipal(
  vendors: readonly Vendor[],
  id: string,
  accountId: string | null,
  ownerAccountId: string | null = null,
): Vendor | null {
  return (
    vendors.find((v) => {
      if (accountId !== null && v.accounts.includes(accountId)) return true;
      if (v.principals.includes(id)) return true;
      const role = roleArnOfSession(id);
      if (role !== null && v.principals.includes(role)) return true;
      return v.principals.some((p) => {
        const account = accountOfPrincipalValue(p);
        return account !== null && account !== ownerAccountId && id === accountRootArn(account);
      });
    }) ?? null
  );
}

/** The account of a grantee or retiring principal: an ARN, a bare account, or `111122223333:aws:…`. */
export function accountOfGrantee(value: string | null): string | null {
  if (!value) return null;
  return accountOfPrincipalValue(value) ?? /^(\d{12}):/.exec(value)?.[1] ?? null;
}

/** Where else an account (or principal) is a declared vendor: for "vendor of another key" context. */
export function vendorDeclarationsOf(
  keys: readonly KeyDeclaration[],
  caller: CallerRef,
): { vendor: string; key: string }[] {
  const out: { vendor: string; key: string }[] = [];
  for (const key of keys) {
    const vendor = findVendorForCaller(key.vendors, caller);
    if (vendor) out.push({ vendor: vendor.name, key: key.key_arn ?? key.key_id ?? key.alias ?? '(unnamed key)' });
  }
  return out;
}

/** How a finding names a key: its ARN, else its id, else the alias it was called by. */
export function keyLabel(key: Pick<KmsEvent, 'keyArn' | 'keyId' | 'aliasName'>): string {
  return key.keyArn ?? key.keyId ?? key.aliasName ?? 'an unidentified key';
}
