import type { UserIdentity } from '../events/cloudtrail-record.js';
import { accountOfArn, validAccountId } from './arn.js';

export interface ResolvedPrincipal {
  principalType: string | null;
  principalArn: string | null;
  principalAccountId: string | null;
  principalName: string | null;
  sessionIssuerArn: string | null;
  accessKeyId: string | null;
  invokedBy: string | null;
}

const NONE: ResolvedPrincipal = {
  principalType: null,
  principalArn: null,
  principalAccountId: null,
  principalName: null,
  sessionIssuerArn: null,
  accessKeyId: null,
  invokedBy: null,
};

function nonEmpty(value: string | null | undefined): string | null {
  return value ? value : null;
}

/** When `userIdentity.type` is absent (older records, guide examples), infer it from the ARN. */
function inferType(identity: UserIdentity): string | null {
  const arn = identity.arn ?? '';
  if (arn.includes(':assumed-role/')) return 'AssumedRole';
  if (arn.endsWith(':root')) return 'Root';
  if (arn.includes(':federated-user/')) return 'FederatedUser';
  if (arn.includes(':user/')) return 'IAMUser';
  if (!arn && identity.invokedBy) return 'AWSService';
  if (!arn && identity.accountId) return 'AWSAccount';
  return null;
}

/**
 * The caller. Its account is `userIdentity.accountId`, else the account in its ARN, else the session
 * issuer's; never `recipientAccountId`.
 */
export function resolvePrincipal(identity: UserIdentity | null | undefined): ResolvedPrincipal {
  if (!identity) return NONE;
  const issuer = identity.sessionContext?.sessionIssuer ?? null;
  const principalType = nonEmpty(identity.type) ?? inferType(identity);
  const principalArn = nonEmpty(identity.arn);
  const invokedBy = nonEmpty(identity.invokedBy);
  const principalAccountId =
    validAccountId(identity.accountId) ?? accountOfArn(principalArn) ?? validAccountId(issuer?.accountId) ?? accountOfArn(issuer?.arn);

  return {
    principalType,
    principalArn,
    principalAccountId,
    principalName: principalNameOf(identity, principalType, principalArn, invokedBy),
    sessionIssuerArn: nonEmpty(issuer?.arn),
    accessKeyId: nonEmpty(identity.accessKeyId),
    invokedBy,
  };
}

function principalNameOf(
  identity: UserIdentity,
  type: string | null,
  arn: string | null,
  invokedBy: string | null,
): string | null {
  if (type === 'AWSService') return invokedBy;
  if (identity.userName) return identity.userName;
  if (arn) {
    // arn:aws:sts::111122223333:assumed-role/Role/session → Role/session
    const resource = arn.split(':').slice(5).join(':');
    return resource.replace(/^(assumed-role|user|role|federated-user)\//, '') || null;
  }
  return nonEmpty(identity.principalId);
}
