import { KMS_EVENT_SOURCE } from '../normalize/normalize.js';
import { callerKey, callerLabel, draftFor, keyDedupKey, keyInErrorMessage, keyPhrase } from './lib/event-draft.js';
import { jsonObject } from './lib/json-text.js';
import { vendorOfCaller } from './lib/vendors.js';
import type { EventDetector } from './types.js';

/** The AWS guide's CloudWatch metric filter: `{ $.eventSource = kms* && $.errorMessage = "* is pending deletion." }`. */
const METRIC_FILTER_SUFFIX = 'is pending deletion.';
/**
 * KMS reports a key pending (replica) deletion with either exception, and the key-state table words it
 * "<key ARN> is pending deletion (or pending replica deletion)": match the wording, not only the suffix.
 */
const PENDING_DELETION_CODES: ReadonlySet<string> = new Set(['KMSInvalidStateException', 'DisabledException']);
const PENDING_DELETION_WORDING = /\bpending (?:replica )?deletion\b/i;
/** "… is not pending deletion" (CancelKeyDeletion on a live key) is the opposite state. */
const NOT_PENDING_WORDING = /\bis not pending\b/i;

/**
 * Something tried to use a key that is pending deletion: it still needs the key, and once the
 * waiting period ends the data it protects is unrecoverable.
 */
export const kmsPendingDeletionKeyUsed = {
  kind: 'event',
  id: 'KMS.PendingDeletionKeyUsed',
  title: 'KMS key pending deletion was used',
  severity: 'critical',
  status: 'stable',
  description:
    'Any KMS call that fails because its key is pending deletion: the guide\'s CloudWatch metric filter ' +
    '(eventSource kms*, errorMessage ending "is pending deletion."), plus KMSInvalidStateException or ' +
    'DisabledException whose message says the key is pending (replica) deletion. One finding per key and caller per window.',
  runbook: [
    'Read the finding: key, caller, caller account, operation and the service or encryption context show what still depends on the key.',
    'If the caller still needs the key, cancel the deletion now: `aws kms cancel-key-deletion --key-id <key ARN>`, then `aws kms enable-key --key-id <key ARN>` (a cancelled key is Disabled).',
    'Check the deletion date in the finding: after it the key and every ciphertext under it are gone for good.',
    'If the deletion is intended, find the caller\'s owner and have them re-encrypt their data under another key (ReEncrypt) before the deletion date.',
    'Find what else used the key before its deletion was scheduled: the usage summary in its KMS.KeyDeletionScheduled finding (`keytrail findings --detector KMS.KeyDeletionScheduled`).',
  ],
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys-creating-cloudwatch-alarm.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html',
    'https://docs.aws.amazon.com/kms/latest/APIReference/API_CancelKeyDeletion.html',
  ],
  needs: ['deletionDate'],
  match: (e) => {
    // The metric filter's `eventSource = kms*`: other services' records never report a key's state.
    if (e.eventSource !== KMS_EVENT_SOURCE) return false;
    const message = e.errorMessage ?? '';
    if (message.endsWith(METRIC_FILTER_SUFFIX)) return true;
    // Without the filter's wording, only the two key-state exceptions can mean "pending deletion".
    if (e.errorCode === null || !PENDING_DELETION_CODES.has(e.errorCode)) return false;
    // The opposite state ("is not pending deletion") mentions the same words.
    if (NOT_PENDING_WORDING.test(message)) return false;
    return PENDING_DELETION_WORDING.test(message);
  },
  describe: (e, ctx, facts) => {
    const declared = ctx.declaredKey(e);
    const vendor = vendorOfCaller(ctx.config, e, declared);
    // The message names the failing key: a ReEncrypt's destination, or the ARN a record without resources lacks.
    const named = keyInErrorMessage(e);
    const keyArn = named?.arn ?? e.keyArn;
    // The engine looked the deletion date up for the event's key: it says nothing about another key.
    const deletionDate = named && !named.sameKey ? null : (facts.deletionDate ?? null);
    const via = e.viaService ? ` via ${e.viaService}` : '';
    const when = deletionDate ? ` It is scheduled to be deleted on ${deletionDate}.` : '';
    const who = vendor ? ` The caller is vendor ${vendor}.` : '';
    const draft = draftFor(e, {
      // A retrying client fails thousands of times: one finding per key and caller per window.
      dedupKey: `${keyArn ?? keyDedupKey(e)}|${callerKey(e)}`,
      summary:
        `${e.eventName} by ${callerLabel(e)} (account ${e.principalAccountId ?? 'unknown'})${via} failed because ` +
        `${keyPhrase({ ...e, keyArn })} is pending deletion: something still needs this key.${when}${who}`,
      context: {
        deletionDate,
        encryptionContext: jsonObject(e.encryptionContext),
        vendor,
      },
    });
    return { ...draft, keyArn };
  },
} as const satisfies EventDetector;
