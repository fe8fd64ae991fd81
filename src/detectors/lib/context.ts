import type { KeyDeclaration, KeytrailConfig } from '../../config/schema.js';
import { parseKmsArn } from '../../normalize/arn.js';
import type { KmsEvent } from '../../normalize/types.js';
import type { DetectionContext } from '../types.js';

type KeyRef = Pick<KmsEvent, 'keyArn' | 'keyId' | 'aliasName'>;

export interface DetectionContextOptions {
  /**
   * Alias name (`alias/x`) → key ARN or key id it points to, from stored CreateAlias/UpdateAlias
   * calls, so a key declared only by alias is recognised in events that name it by ARN.
   */
  aliasTargets?: ReadonlyMap<string, string>;
}

/**
 * Build the context detectors read: declared-key lookup (by ARN, key id or alias) and trusted
 * accounts. Pure; built once per detection run.
 */
export function createDetectionContext(config: KeytrailConfig, options: DetectionContextOptions = {}): DetectionContext {
  const trusted = new Set(config.trusted_accounts);
  const aliasTargets = options.aliasTargets ?? new Map<string, string>();
  return {
    config,
    declaredKey: (event) => config.keys.find((declaration) => declarationMatches(declaration, event, aliasTargets)) ?? null,
    isTrustedAccount: (accountId, keyAccountId) => trusted.has(accountId) || (keyAccountId != null && accountId === keyAccountId),
  };
}

/** Whether a `keys[]` entry names the event's key; any one of its identifiers is enough. */
export function declarationMatches(
  declaration: KeyDeclaration,
  event: KeyRef,
  aliasTargets: ReadonlyMap<string, string> = new Map(),
): boolean {
  const identifiers = [declaration.key_arn, declaration.key_id, declaration.alias].filter((v): v is string => v !== undefined);
  return identifiers.some((identifier) => {
    if (refersTo(identifier, event)) return true;
    // A declared alias also matches the key it points to, as last seen in CreateAlias/UpdateAlias.
    const alias = aliasNameOf(identifier);
    const target = alias === null ? undefined : aliasTargets.get(alias);
    return target !== undefined && refersTo(target, event);
  });
}

/** Does one identifier (key ARN, alias ARN, `alias/x`, or bare key id) name the event's key? */
function refersTo(identifier: string, event: KeyRef): boolean {
  const alias = aliasNameOf(identifier);
  if (alias !== null) return event.aliasName === alias;
  const arn = parseKmsArn(identifier);
  const eventKeyId = event.keyId ?? parseKmsArn(event.keyArn)?.resourceId ?? null;
  // With both ARNs known, compare them: multi-Region replicas share a key id across Regions.
  if (arn !== null) return event.keyArn !== null ? event.keyArn === arn.arn : eventKeyId === arn.resourceId;
  return eventKeyId === identifier;
}

/** `alias/x` for an alias name or alias ARN, else null. */
function aliasNameOf(identifier: string): string | null {
  if (identifier.startsWith('alias/')) return identifier;
  const arn = parseKmsArn(identifier);
  return arn?.resourceType === 'alias' ? `alias/${arn.resourceId}` : null;
}
