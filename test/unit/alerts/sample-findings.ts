import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { FindingSchema, type Finding } from '../../../src/findings/finding.js';

/**
 * Findings as the detectors make them, built from the KMS developer guide's CloudTrail examples in
 * test/fixtures/corpus (ScheduleKeyDeletion by Alice, 2021-03-23; a cross-account Decrypt).
 * Every builder validates its result with FindingSchema, so a test cannot run on an invalid finding
 * by accident.
 */

/** The same derivation shape as the detectors use: detector + dedup key + window, 32 hex characters. */
export function findingIdFor(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

const KEY_ARN = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** KMS.KeyDeletionScheduled from the guide's ScheduleKeyDeletion example, context as the detector builds it. */
export function keyDeletionFinding(overrides: Partial<Finding> = {}): Finding {
  return FindingSchema.parse({
    schema_version: '1.0',
    finding_id: findingIdFor('KMS.KeyDeletionScheduled', KEY_ARN, 'once'),
    detector_id: 'KMS.KeyDeletionScheduled',
    severity: 'critical',
    title: 'KMS key scheduled for deletion',
    summary:
      `arn:aws:iam::111122223333:user/Alice scheduled KMS key ${KEY_ARN} to be deleted on 2021-04-12T18:58:30.000Z ` +
      '(waiting period 20 days). 18,234 calls in the 90 days before, 2 principals, last cryptographic use 2021-03-23T18:40:02.000Z.',
    occurred_at: '2021-03-23T18:58:30.000Z',
    account_id: '111122223333',
    region: 'us-west-2',
    key_arn: KEY_ARN,
    principal_arn: 'arn:aws:iam::111122223333:user/Alice',
    principal_account_id: '111122223333',
    event_ids: ['3c4226b0-1e81-48a8-a333-7fa5f3cbd118'],
    context: {
      keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
      aliasName: 'alias/payments-prod',
      operation: 'ScheduleKeyDeletion',
      eventKind: 'api_call',
      eventSource: 'kms.amazonaws.com',
      outcome: 'success',
      principalType: 'IAMUser',
      principalName: 'Alice',
      sourceIp: '192.0.2.0',
      userAgent: 'AWS Internal',
      loggedInAccount: '111122223333',
      loggedInRegion: 'us-east-1',
      deletionDate: '2021-04-12T18:58:30.000Z',
      pendingWindowInDays: 20,
      keyState: 'PendingDeletion',
      declaredKey: null,
      vendorsAffected: [],
      usedInLookback: true,
      usageSummary: usageSummary(2),
    },
    runbook: [
      'Read the usage summary in the finding: who used the key in the lookback window, from which accounts and through which services.',
      'If anything still uses the key, cancel the deletion: `aws kms cancel-key-deletion --key-id <key ARN>` then `aws kms enable-key --key-id <key ARN>`.',
      'Confirm with the caller (the principal in the finding) that the deletion was intended and approved.',
    ],
    references: [
      'https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html',
      'https://docs.aws.amazon.com/kms/latest/APIReference/API_CancelKeyDeletion.html',
    ],
    ...overrides,
  });
}

/** A medium finding about a caller from another account decrypting with the key. */
export function crossAccountDecryptFinding(overrides: Partial<Finding> = {}): Finding {
  return FindingSchema.parse({
    schema_version: '1.0',
    finding_id: findingIdFor('KMS.CrossAccountDecrypt', KEY_ARN, 'arn:aws:iam::444455556666:role/vendor-sync', '2021-03-23'),
    detector_id: 'KMS.CrossAccountDecrypt',
    severity: 'medium',
    title: 'Key used from an untrusted account',
    summary: 'Role vendor-sync in account 444455556666, which is not in the organization, called Decrypt with alias/payments-prod.',
    occurred_at: '2021-03-23T19:04:11.000Z',
    account_id: '111122223333',
    region: 'us-west-2',
    key_arn: KEY_ARN,
    principal_arn: 'arn:aws:iam::444455556666:role/vendor-sync',
    principal_account_id: '444455556666',
    event_ids: ['6b4a1ad1-0d2a-4f5e-9c43-4f1e2d3c4b5a', '8d7e6f5a-4b3c-4d2e-8f1a-0b9c8d7e6f5a'],
    context: { aliasName: 'alias/payments-prod', operation: 'Decrypt', calls: 2, trustedAccounts: ['111122223333', '222233334444'] },
    runbook: ['Check whether 444455556666 is a declared BYOK vendor for this key.', 'If not, remove the grant or key policy statement that allows it.'],
    references: ['https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html'],
    ...overrides,
  });
}

/** A low finding with no key (a failed call whose resources were null) and no account. */
export function keylessFinding(overrides: Partial<Finding> = {}): Finding {
  return FindingSchema.parse({
    schema_version: '1.0',
    finding_id: findingIdFor('KMS.AccessDeniedBurst', 'arn:aws:iam::111122223333:user/Bob', '2021-03-23T19'),
    detector_id: 'KMS.AccessDeniedBurst',
    severity: 'low',
    title: 'Repeated AccessDenied on KMS',
    summary: 'Bob was denied 14 KMS calls in one hour.',
    occurred_at: '2021-03-23T19:00:00.000Z',
    account_id: null,
    region: null,
    key_arn: null,
    principal_arn: 'arn:aws:iam::111122223333:user/Bob',
    principal_account_id: '111122223333',
    event_ids: ['c0ffee00-0000-4000-8000-000000000001'],
    context: { operation: 'Decrypt', deniedCalls: 14 },
    runbook: [],
    references: [],
    ...overrides,
  });
}

/** `count` distinct key-deletion findings (one per key); `principals(i)` sizes the usage summary of the i-th. */
export function manyFindings(count: number, principals: (i: number) => number = () => 2): Finding[] {
  return Array.from({ length: count }, (_, i) => {
    const keyId = `0000${String(i).padStart(4, '0')}-12ab-34cd-56ef-1234567890ab`;
    const keyArn = `arn:aws:kms:us-west-2:111122223333:key/${keyId}`;
    return withUsage(principals(i), {
      finding_id: findingIdFor('KMS.KeyDeletionScheduled', keyArn, 'once'),
      key_arn: keyArn,
      context: { ...keyDeletionFinding().context, keyId, aliasName: `alias/service-${i}` },
    });
  });
}

/** A key-deletion finding whose usage summary lists `principals` callers (about 110 bytes each). */
export function withUsage(principals: number, overrides: Partial<Finding> = {}): Finding {
  const base = keyDeletionFinding(overrides);
  return keyDeletionFinding({ ...overrides, context: { ...base.context, usageSummary: usageSummary(principals) } });
}

/**
 * A past-usage summary (the shape src/analysis/usage-summary.ts returns) with `principals` callers,
 * about 110 bytes of JSON per principal: a key used by many roles makes a large finding.
 */
export function usageSummary(principals: number): Record<string, unknown> {
  const list = Array.from({ length: principals }, (_, i) => ({
    arn: `arn:aws:iam::111122223333:role/service-${String(i).padStart(5, '0')}`,
    accountId: '111122223333',
    calls: 18_234 - i,
  }));
  return {
    keyArn: KEY_ARN,
    windowDays: 90,
    from: '2020-12-23T18:58:30.000Z',
    to: '2021-03-23T18:58:30.000Z',
    totalCalls: list.reduce((n, p) => n + p.calls, 0),
    cryptographicCalls: list.reduce((n, p) => n + p.calls, 0),
    byOperation: { Decrypt: 18_000, GenerateDataKey: 234 },
    principals: list,
    accounts: [{ accountId: '111122223333', calls: 18_234, external: false, vendor: null }],
    services: ['s3.amazonaws.com'],
    firstUse: '2020-12-24T00:00:01.000Z',
    lastUse: '2021-03-23T18:40:02.000Z',
    lastCryptographicUse: '2021-03-23T18:40:02.000Z',
    errors: 0,
    evidenceFrom: '2020-11-01T00:00:00.000Z',
    evidenceTo: '2021-03-23T19:10:00.000Z',
    basis: 'every API call and service event on the key in the 90 days before the deletion was scheduled',
  };
}

/** Keeps expected warnings and errors out of the test output. */
export const silentLogger = new Logger({ serviceName: 'keytrail-test', logLevel: 'SILENT' });
