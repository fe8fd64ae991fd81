import { KMS_EVENT_SOURCE } from '../normalize/normalize.js';
import { callerLabel, draftFor, keyDedupKey, keyPhrase } from './lib/event-draft.js';
import { describeUsage, impactContext, keyImpact, vendorSentence } from './lib/key-impact.js';
import { scheduledDeletion } from './lib/scheduled-deletion.js';
import type { EventDetector } from './types.js';

/** A customer managed key was scheduled for deletion; its data is unrecoverable after the window. */
export const kmsKeyDeletionScheduled = {
  kind: 'event',
  id: 'KMS.KeyDeletionScheduled',
  title: 'KMS key scheduled for deletion',
  severity: 'high',
  status: 'stable',
  description:
    'A successful ScheduleKeyDeletion. Carries the deletion date, the waiting period and a past-usage summary of ' +
    'the lookback window; critical when the key is declared never_delete, is shared with a declared vendor, or had ' +
    'cryptographic use in the lookback window.',
  runbook: [
    'Read the usage summary in the finding: who used the key in the lookback window, from which accounts and through which services.',
    'If anything still uses the key, or it is declared never_delete or shared with a vendor, cancel the deletion: `aws kms cancel-key-deletion --key-id <key ARN>` then `aws kms enable-key --key-id <key ARN>`.',
    'Confirm with the caller (the principal in the finding) that the deletion was intended and approved.',
    'If the deletion stands, keep watching until the deletion date: KMS.PendingDeletionKeyUsed findings name anything that still tries to use the key, and there is still time to cancel.',
    'Remember that the usage summary only covers what CloudTrail recorded: ciphertexts made long ago, or public-key use outside AWS, leave no recent trace.',
  ],
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys-determining-usage.html',
    'https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html',
    'https://docs.aws.amazon.com/kms/latest/APIReference/API_CancelKeyDeletion.html',
  ],
  needs: ['usageSummary'],
  match: (e) => {
    // Only KMS schedules key deletions.
    if (e.eventSource !== KMS_EVENT_SOURCE) return false;
    if (e.eventName !== 'ScheduleKeyDeletion') return false;
    // A failed ScheduleKeyDeletion scheduled nothing (the key keeps its state).
    if (e.outcome !== 'success') return false;
    return true;
  },
  describe: (e, ctx, facts) => {
    const usage = facts.usageSummary;
    const impact = keyImpact(e, ctx, usage);
    const deletion = scheduledDeletion(e);
    const critical = impact.neverDelete || impact.vendors.length > 0 || impact.usedInLookback === true;
    const when = deletion.deletionDate
      ? ` to be deleted on ${deletion.deletionDate}`
      : deletion.keyState === 'PendingReplicaDeletion'
        ? ' to be deleted once its replica keys are deleted'
        : '';
    const window = deletion.pendingWindowInDays === null ? '' : ` (waiting period ${deletion.pendingWindowInDays} days)`;
    return draftFor(e, {
      dedupKey: keyDedupKey(e),
      severity: critical ? 'critical' : 'high',
      summary:
        `${callerLabel(e)} scheduled ${keyPhrase(e)}${when}${window}.` +
        `${impact.neverDelete ? ' The key is declared never_delete.' : ''}${vendorSentence(impact, 'Deleting it')} ${describeUsage(usage)}`,
      context: {
        deletionDate: deletion.deletionDate,
        pendingWindowInDays: deletion.pendingWindowInDays,
        keyState: deletion.keyState,
        ...impactContext(impact, usage),
      },
    });
  },
} as const satisfies EventDetector;
