import type { CloudTrailRecord } from '../events/cloudtrail-record.js';
import { isBareKeyId, parseKmsArn, type KmsArn } from './arn.js';

export interface ResolvedKey {
  keyArn: string | null;
  keyId: string | null;
  keyAccountId: string | null;
  keyRegion: string | null;
  aliasName: string | null;
  relatedKeyArns: string[];
}

function field(obj: Record<string, unknown> | null | undefined, name: string): unknown {
  return obj ? obj[name] : undefined;
}

/**
 * Resolve the KMS key a record touched. The owner is the account in the key ARN: first the key
 * entries of `resources[]` (any entry whose ARN is a KMS key ARN: the guide has a resource `type`
 * misspelled `AWS::KMS::Kev`, and its `accountId` is sometimes wrong, so neither is trusted), else an
 * ARN in the request or response. `recipientAccountId` is never used: it is where the record was
 * logged, which for a cross-account call is also the caller's account.
 */
export function resolveKey(record: CloudTrailRecord): ResolvedKey {
  const related: KmsArn[] = [];
  for (const r of record.resources ?? []) {
    const arn = parseKmsArn(r.ARN);
    if (arn?.resourceType === 'key' && !related.some((k) => k.arn === arn.arn)) related.push(arn);
  }

  const req = record.requestParameters;
  const res = record.responseElements;
  const keyMetadata = field(res, 'keyMetadata');
  const candidates: unknown[] = [
    field(req, 'keyId'),
    field(req, 'sourceKeyId'), // ReEncrypt names the source key here, the destination below
    field(res, 'keyId'),
    keyMetadata && typeof keyMetadata === 'object' ? (keyMetadata as Record<string, unknown>)['arn'] : undefined,
    field(req, 'targetKeyId'), // CreateAlias / UpdateAlias
    field(req, 'destinationKeyId'),
    field(record.serviceEventDetails, 'keyId'), // service events (DeleteKey, RotateKey, …)
  ];

  let primary: KmsArn | null = related[0] ?? null;
  if (!primary) {
    for (const c of candidates) {
      const arn = parseKmsArn(c);
      if (arn?.resourceType === 'key') {
        primary = arn;
        break;
      }
    }
  }
  // A ReEncrypt without resources still names both keys in its request.
  if (related.length === 0) {
    for (const c of candidates) {
      const arn = parseKmsArn(c);
      if (arn?.resourceType === 'key' && !related.some((k) => k.arn === arn.arn)) related.push(arn);
    }
  }

  const aliasName = resolveAlias(req);
  let keyId = primary?.resourceId ?? null;
  if (!keyId) {
    // A bare key id names a key in the caller's own account, but not which region/partition for
    // sure, so no ARN is made up from it.
    keyId = candidates.find(isBareKeyId) ?? null;
  }

  // A call by alias ARN (cross-account callers must use an ARN) with no resources still names the
  // owner account and region in the alias ARN, even though the key id stays unknown.
  const aliasArn = primary ? null : (candidates.map(parseKmsArn).find((a) => a?.resourceType === 'alias') ?? null);

  return {
    keyArn: primary?.arn ?? null,
    keyId,
    keyAccountId: primary?.accountId ?? aliasArn?.accountId ?? null,
    keyRegion: primary?.region ?? aliasArn?.region ?? null,
    aliasName,
    relatedKeyArns: related.map((k) => k.arn),
  };
}

function resolveAlias(req: Record<string, unknown> | null | undefined): string | null {
  const keyId = field(req, 'keyId');
  if (typeof keyId === 'string') {
    if (keyId.startsWith('alias/')) return keyId;
    const arn = parseKmsArn(keyId);
    if (arn?.resourceType === 'alias') return `alias/${arn.resourceId}`;
  }
  const aliasName = field(req, 'aliasName');
  return typeof aliasName === 'string' && aliasName.startsWith('alias/') ? aliasName : null;
}
