import type { KeyDeclaration, KeytrailConfig } from '../../config/schema.js';
import type { KmsEvent } from '../../normalize/types.js';
import { listPhrase } from './event-draft.js';

/** Names of the BYOK vendors declared on a key (config `keys[].vendors`). */
export function vendorNames(declared: KeyDeclaration | null): string[] {
  return declared ? declared.vendors.map((v) => v.name) : [];
}

/**
 * The declared vendor an account belongs to: first among the key's own vendors, then any key's
 * (a vendor declared on one key is the same company on another).
 */
export function vendorOfAccount(config: KeytrailConfig, accountId: string | null, declared: KeyDeclaration | null = null): string | null {
  if (!accountId) return null;
  const own = declared?.vendors.find((v) => v.accounts.includes(accountId));
  if (own) return own.name;
  for (const key of config.keys) {
    const vendor = key.vendors.find((v) => v.accounts.includes(accountId));
    if (vendor) return vendor.name;
  }
  return null;
}

/** The declared vendor the caller is: by its role/user ARN or session issuer, else by its account. */
export function vendorOfCaller(
  config: KeytrailConfig,
  event: Pick<KmsEvent, 'principalArn' | 'sessionIssuerArn' | 'principalAccountId'>,
  declared: KeyDeclaration | null = null,
): string | null {
  const arns = [event.principalArn, event.sessionIssuerArn].filter((a): a is string => a !== null);
  for (const key of declared ? [declared, ...config.keys] : config.keys) {
    const vendor = key.vendors.find((v) => v.principals.some((p) => arns.includes(p)));
    if (vendor) return vendor.name;
  }
  return vendorOfAccount(config, event.principalAccountId, declared);
}

/** "vendor Acme's access", "the access of vendors Acme and Beta". */
export function vendorAccessPhrase(vendors: readonly string[]): string {
  return vendors.length === 1 ? `vendor ${vendors[0] ?? ''}'s access` : `the access of vendors ${listPhrase(vendors)}`;
}
