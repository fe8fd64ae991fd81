import type { KmsEvent } from '../normalize/types.js';
import { keyPolicyOf, parseKeyPolicy, publicGrants, type PublicGrant } from './lib/key-policy.js';
import { parseJsonObject, stringField } from './lib/policy-json.js';
import { keyLabel } from './lib/policy-principals.js';
import type { EventDetector, FindingDraft } from './types.js';

/** Calls that set a key policy. ReplicateKey sets the new replica's own policy. */
const POLICY_SETTING_EVENTS: ReadonlySet<string> = new Set(['CreateKey', 'PutKeyPolicy', 'ReplicateKey']);

interface PublicPolicy {
  grants: PublicGrant[];
  statementCount: number;
}

function publicPolicyOf(e: KmsEvent): PublicPolicy | null {
  if (e.eventSource !== 'kms.amazonaws.com') return null;
  if (!POLICY_SETTING_EVENTS.has(e.eventName)) return null;
  // A failed call left the policy as it was; the attempt is evidence for other detectors, not this one.
  if (e.outcome !== 'success') return null;
  const policy = keyPolicyOf(e.eventName, parseJsonObject(e.requestParameters), parseJsonObject(e.responseElements));
  const parsed = parseKeyPolicy(policy);
  // No policy (CreateKey's default allows only the owner account) or one that is not JSON (the
  // Developer Guide's PutKeyPolicy example): nothing to judge, and no guessing.
  if (!parsed.ok) return null;
  const grants = publicGrants(parsed.statements);
  return grants.length > 0 ? { grants, statementCount: parsed.statements.length } : null;
}

/** The key whose policy was set: for ReplicateKey, the new replica rather than the primary. */
function targetKeyOf(e: KmsEvent): { keyArn: string | null; keyAccountId: string | null; region: string | null } {
  if (e.eventName === 'ReplicateKey') {
    const metadata = parseJsonObject(parseJsonObject(e.responseElements)?.['replicaKeyMetadata']);
    const replicaArn = stringField(metadata, 'arn');
    if (replicaArn) return { keyArn: replicaArn, keyAccountId: replicaArn.split(':')[4] ?? e.keyAccountId, region: replicaArn.split(':')[3] ?? null };
  }
  return { keyArn: e.keyArn, keyAccountId: e.keyAccountId, region: e.keyRegion ?? e.awsRegion };
}

/**
 * A key policy was set that lets any AWS account use or manage the key: an Allow statement with a
 * wildcard principal (or NotPrincipal) and no condition that pins the caller to an organization or
 * account (aws:PrincipalOrgID, aws:PrincipalAccount, kms:CallerAccount, aws:SourceAccount, …).
 */
export const kmsKeyPolicyPublic = {
  kind: 'event',
  id: 'KMS.KeyPolicyPublic',
  title: 'KMS key policy allows any AWS account',
  severity: 'critical',
  status: 'stable',
  description:
    'A successful CreateKey, PutKeyPolicy or ReplicateKey set a key policy with an Allow statement whose principal is "*" ' +
    '(or NotPrincipal) and no condition limiting callers to an organization or account.',
  runbook: [
    'Read the public statements in the finding: the principal, the actions and any conditions that do not limit the caller.',
    'If the change was not intended, restore the previous policy with PutKeyPolicy (GetKeyPolicy shows the current one), or add a condition such as aws:PrincipalOrgID or kms:CallerAccount to the statement.',
    'Look for use of the key by other accounts since the change: KMS.CrossAccountUse findings and `keytrail past-usage <key>`.',
    'Confirm with the caller named in the finding that the change was theirs; if the session is not recognised, treat the credentials as compromised.',
  ],
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-caller-account',
    'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgid',
  ],
  match: (e) => publicPolicyOf(e) !== null,
  describe: (e): FindingDraft => {
    const found = publicPolicyOf(e) ?? { grants: [], statementCount: 0 };
    const target = targetKeyOf(e);
    const key = target.keyArn ?? keyLabel(e);
    const first = found.grants[0];
    const firstText = first
      ? `statement ${first.sid ? `"${first.sid}"` : `#${first.index + 1}`} allows ${first.notActions ? `every action except ${first.notActions.join(', ')}` : first.actions.join(', ') || 'no listed action'} to ${first.reason}`
      : '';
    const more = found.grants.length > 1 ? ` (and ${found.grants.length - 1} more public statement${found.grants.length > 2 ? 's' : ''})` : '';
    const caller = e.principalArn ?? e.principalAccountId ?? 'an unknown caller';
    const req = parseJsonObject(e.requestParameters);
    return {
      dedupKey: e.eventId,
      summary: `${e.eventName} by ${caller} set a key policy on ${key} that any AWS account can use: ${firstText} without an organization or account condition${more}.`,
      occurredAt: e.eventTime,
      // Only the key owner can set its policy, so the caller's account is the owner when the key ARN is not logged.
      accountId: target.keyAccountId ?? e.principalAccountId ?? e.recipientAccountId,
      region: target.region,
      keyArn: target.keyArn,
      principalArn: e.principalArn,
      principalAccountId: e.principalAccountId,
      eventIds: [e.eventId],
      context: {
        operation: e.eventName,
        keyArn: target.keyArn,
        keyId: e.keyId,
        aliasName: e.aliasName,
        primaryKeyArn: e.eventName === 'ReplicateKey' ? e.keyArn : undefined,
        publicStatements: found.grants,
        statementCount: found.statementCount,
        bypassPolicyLockoutSafetyCheck: req?.['bypassPolicyLockoutSafetyCheck'] ?? null,
        caller: { arn: e.principalArn, accountId: e.principalAccountId, type: e.principalType, invokedBy: e.invokedBy },
        sourceIp: e.sourceIp,
        userAgent: e.userAgent,
      },
    };
  },
} as const satisfies EventDetector;
