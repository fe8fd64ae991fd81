import type { KeyDeclaration, KeytrailConfig } from '../config/schema.js';
import { declarationMatches } from '../detectors/lib/context.js';
import { vendorOfCaller } from '../detectors/lib/vendors.js';
import { parseKmsArn } from '../normalize/arn.js';
import type { KeytrailDb } from '../store/database.js';

/** How a report names keys: by alias where one is known (config first, then the last one logged), else by key id. */
export interface KeyLabels {
  alias(keyArn: string | null, keyId: string | null): string | null;
  label(keyArn: string | null, keyId: string | null): string;
  declared(keyArn: string | null, keyId: string | null): KeyDeclaration | null;
}

/**
 * Aliases from the configuration's key declarations, else from stored events: calls made through an
 * alias that logged their key, and CreateAlias/UpdateAlias (`aliasName` → `targetKeyId`); the latest wins.
 */
export async function loadKeyLabels(db: KeytrailDb, config: KeytrailConfig): Promise<KeyLabels> {
  const rows = await db.all(
    // alias_calls is materialized so that the JSON is read from alias calls only: inlined, the filters
    // below are pushed into that scan and evaluated on every row's request_parameters.
    `WITH alias_calls AS MATERIALIZED (
       SELECT request_parameters, event_time FROM kms_events WHERE event_name IN ('CreateAlias', 'UpdateAlias') AND outcome = 'success'
     )
     SELECT key_id, alias_name, max(event_time) AS last FROM (
       SELECT key_id, alias_name, event_time FROM kms_events WHERE alias_name IS NOT NULL AND key_id IS NOT NULL
       UNION ALL
       SELECT regexp_replace(json_extract_string(request_parameters, '$.targetKeyId'), '^arn:.*:key/', ''),
              json_extract_string(request_parameters, '$.aliasName'), event_time
       FROM alias_calls
     ) WHERE key_id IS NOT NULL AND alias_name LIKE 'alias/%'
     GROUP BY key_id, alias_name
     ORDER BY last DESC, alias_name`,
  );
  const logged = new Map<string, string>();
  for (const row of rows) {
    const keyId = String(row['key_id']);
    if (!logged.has(keyId)) logged.set(keyId, String(row['alias_name']));
  }
  const declared = (keyArn: string | null, keyId: string | null): KeyDeclaration | null => {
    if (keyArn === null && keyId === null) return null;
    return config.keys.find((d) => declarationMatches(d, { keyArn, keyId, aliasName: null })) ?? null;
  };
  const alias = (keyArn: string | null, keyId: string | null): string | null => {
    const id = keyId ?? parseKmsArn(keyArn)?.resourceId ?? null;
    return declared(keyArn, keyId)?.alias ?? (id === null ? null : (logged.get(id) ?? null));
  };
  return {
    alias,
    declared,
    label: (keyArn, keyId) => alias(keyArn, keyId) ?? keyId ?? parseKmsArn(keyArn)?.resourceId ?? keyArn ?? '(no key)',
  };
}

/**
 * A caller, short enough for a table: `AppRole/app-1` for a role session, `sso:PlatformAdmin/sam.ortega`
 * for an IAM Identity Center user, `user/Alice`, `role/AppRole`, `root`, else `fallback` (the AWS
 * service that called, for service events).
 */
export function principalName(arn: string | null, fallback: string | null = null): string {
  if (arn) {
    const m = /^arn:[^:]+:(?:sts|iam)::\d{12}:(?:assumed-role\/)?(.+)$/.exec(arn);
    const name = m?.[1] ?? arn;
    const sso = /^(?:role\/(?:aws-reserved\/sso\.amazonaws\.com\/(?:[^/]+\/)?)?)?AWSReservedSSO_(.+)_[0-9a-f]{16}(?:\/([^@]+)(?:@.*)?)?$/.exec(name);
    if (sso) return sso[2] ? `sso:${sso[1] ?? ''}/${sso[2]}` : `sso:${sso[1] ?? ''}`;
    return name;
  }
  return fallback ?? '(unknown)';
}

/**
 * SQL expression for "who", grouped the way people think of callers: an assumed role is its role
 * (sessions are many), an AWS service call is the service, else the logged ARN.
 */
export const CALLER_SQL = `CASE WHEN principal_type = 'AssumedRole' AND session_issuer_arn IS NOT NULL THEN session_issuer_arn
  ELSE coalesce(principal_arn, invoked_by, principal_name, '(unknown)') END`;

/** Whose access a cross-account call is: a declared BYOK vendor, an account in `trusted_accounts`, or nobody known. */
export type AccessKind = 'vendor' | 'trusted' | 'unknown';

export interface CallerAccess {
  access: AccessKind;
  /** The declared vendor the caller is (by role ARN, else by account), on this key or another. */
  vendor: string | null;
  /** False when the vendor is declared only for other keys: its use of this key is not allowlisted. */
  vendorDeclaredForKey: boolean;
}

/** Classify a caller of a key against the configuration (vendors first: a vendor may also be trusted). */
export function classifyCaller(
  config: KeytrailConfig,
  declared: KeyDeclaration | null,
  caller: { principalArn: string | null; sessionIssuerArn: string | null; accountId: string | null },
): CallerAccess {
  const event = { principalArn: caller.principalArn, sessionIssuerArn: caller.sessionIssuerArn, principalAccountId: caller.accountId };
  const vendor = vendorOfCaller(config, event, declared);
  if (vendor !== null) {
    const onKey = declared?.vendors.some((v) => v.name === vendor) ?? false;
    return { access: 'vendor', vendor, vendorDeclaredForKey: onKey };
  }
  if (caller.accountId !== null && config.trusted_accounts.includes(caller.accountId)) return { access: 'trusted', vendor: null, vendorDeclaredForKey: false };
  return { access: 'unknown', vendor: null, vendorDeclaredForKey: false };
}

/** `vendor Lumenvault`, `vendor Lumenvault (not declared for this key)`, `trusted`, `unknown`. */
export function accessLabel(a: CallerAccess): string {
  if (a.access !== 'vendor') return a.access;
  return a.vendorDeclaredForKey ? `vendor ${a.vendor ?? ''}` : `vendor ${a.vendor ?? ''} (not declared for this key)`;
}
