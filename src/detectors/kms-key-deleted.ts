import { KMS_EVENT_SOURCE } from '../normalize/normalize.js';
import { capitalized, draftFor, keyDedupKey, keyPhrase } from './lib/event-draft.js';
import { isObject, jsonObject, stringAt } from './lib/json-text.js';
import { describeUsage, impactContext, keyImpact, vendorSentence } from './lib/key-impact.js';
import type { EventDetector } from './types.js';

/** EventBridge event KMS sends when the waiting period ends (guaranteed, may repeat within seconds). */
const DELETION_LIFECYCLE_EVENTS: ReadonlySet<string> = new Set(['KMS CMK Deletion']);
/** CloudTrail's record of the same deletion, logged by AWS as a service event. */
const DELETION_SERVICE_EVENTS: ReadonlySet<string> = new Set(['DeleteKey']);

/**
 * A key was deleted at the end of its waiting period: everything encrypted under it is unrecoverable.
 * The lifecycle event (possibly several times) and the DeleteKey service event make one finding.
 */
export const kmsKeyDeleted = {
  kind: 'event',
  id: 'KMS.KeyDeleted',
  title: 'KMS key deleted',
  severity: 'medium',
  status: 'stable',
  description:
    'A `KMS CMK Deletion` EventBridge event or a `DeleteKey` service event: the key is gone. One finding per key, however ' +
    'many times the event repeats; high when the key had cryptographic use in the lookback window or is shared with a ' +
    'declared vendor, else medium.',
  runbook: [
    'The deletion cannot be undone: data encrypted only under this key is unrecoverable.',
    'Read the usage summary in the finding: the principals, accounts and services listed there lose access to their data; tell their owners.',
    'Find who scheduled the deletion and when: `keytrail findings --detector KMS.KeyDeletionScheduled`, and review why the waiting period passed unnoticed.',
    'For a key in a CloudHSM key store, check `backingKeysDeletionStatus` in the finding: on FAILURE, delete the orphaned key material from the cluster by hand.',
    'If the key is shared with a vendor, tell the vendor: their access to the customer\'s data is gone.',
  ],
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/kms-events.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/fix-keystore.html#fix-keystore-orphaned-key',
  ],
  oncePerDedupKey: true,
  needs: ['usageSummary'],
  match: (e) => {
    if (e.eventKind === 'lifecycle') return DELETION_LIFECYCLE_EVENTS.has(e.eventName);
    // Only KMS deletes KMS keys.
    if (e.eventSource !== KMS_EVENT_SOURCE) return false;
    if (!DELETION_SERVICE_EVENTS.has(e.eventName)) return false;
    // KMS has no DeleteKey API: a record of that name that is not AWS's own service event is not a deletion.
    if (e.eventKind !== 'service_event') return false;
    return true;
  },
  describe: (e, ctx, facts) => {
    const usage = facts.usageSummary;
    const impact = keyImpact(e, ctx, usage);
    const extra = jsonObject(e.additionalEventData);
    const backingKeysDeletionStatus = parseEmbeddedJson(stringAt(extra, 'backingKeysDeletionStatus'));
    const failedBackingKeys = Array.isArray(backingKeysDeletionStatus)
      ? backingKeysDeletionStatus.filter((b) => isObject(b) && stringAt(b, 'deletionStatus') === 'FAILURE').length
      : 0;
    return draftFor(e, {
      // Deleted once: every repeat and both records of the deletion are this one finding.
      dedupKey: keyDedupKey(e),
      severity: impact.usedInLookback === true || impact.vendors.length > 0 ? 'high' : 'medium',
      summary:
        `${capitalized(keyPhrase(e))} was deleted; data encrypted under it is unrecoverable.` +
        `${vendorSentence(impact, 'This')}` +
        `${failedBackingKeys > 0 ? ` ${failedBackingKeys} backing key(s) in the CloudHSM cluster were not deleted (orphaned key material).` : ''}` +
        ` ${describeUsage(usage)}`,
      context: {
        customKeyStoreId: stringAt(extra, 'customKeyStoreId'),
        backingKeysDeletionStatus,
        ...impactContext(impact, usage),
      },
    });
  },
} as const satisfies EventDetector;

/** CloudHSM key stores log `backingKeys…` as JSON inside a string. */
function parseEmbeddedJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
