/** Pure helpers for AWS ARNs and account ids as they appear in KMS CloudTrail records. */

const KMS_ARN = /^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/;
const ACCOUNT_ID = /^\d{12}$/;
const ARN_ACCOUNT = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/;

export interface KmsArn {
  partition: string;
  region: string;
  accountId: string;
  resourceType: 'key' | 'alias';
  /** Key id (`1234abcd-…`, `mrk-…`) or alias name without the `alias/` prefix. */
  resourceId: string;
  arn: string;
}

/** Parse a KMS key or alias ARN; anything else (a bare id, an alias name, a typo) gives null. */
export function parseKmsArn(value: unknown): KmsArn | null {
  if (typeof value !== 'string') return null;
  const m = KMS_ARN.exec(value);
  if (!m) return null;
  const [, partition, region, accountId, resourceType, resourceId] = m;
  if (!partition || !region || !accountId || !resourceId) return null;
  return { partition, region, accountId, resourceType: resourceType === 'alias' ? 'alias' : 'key', resourceId, arn: value };
}

/** A 12-digit AWS account id, or null (the guide has a 13-digit typo; real trails have worse). */
export function validAccountId(value: unknown): string | null {
  return typeof value === 'string' && ACCOUNT_ID.test(value) ? value : null;
}

/** The account segment of any ARN (`arn:aws:iam::111122223333:user/x` → `111122223333`). */
export function accountOfArn(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  return ARN_ACCOUNT.exec(value)?.[1] ?? null;
}

/** Build a key ARN from its parts (lifecycle events name the key by id plus region and account). */
export function keyArnFrom(partition: string, region: string, accountId: string, keyId: string): string {
  return `arn:${partition}:kms:${region}:${accountId}:key/${keyId}`;
}

/** A bare key id: a UUID or a multi-Region `mrk-` id. */
export function isBareKeyId(value: unknown): value is string {
  return typeof value === 'string' && /^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.test(value);
}
