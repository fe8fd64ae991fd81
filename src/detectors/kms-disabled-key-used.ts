import { KMS_EVENT_SOURCE } from '../normalize/normalize.js';
import { callerKey, callerLabel, draftFor, keyDedupKey, keyInErrorMessage, keyPhrase } from './lib/event-draft.js';
import { vendorOfCaller } from './lib/vendors.js';
import type { EventDetector } from './types.js';

/** Key-state table note [2]: some operations on a key pending deletion also fail with DisabledException. */
const PENDING_DELETION_WORDING = /\bpending (?:replica )?deletion\b/i;

/** Something tried to use a disabled key: it still depends on the key and is failing now. */
export const kmsDisabledKeyUsed = {
  kind: 'event',
  id: 'KMS.DisabledKeyUsed',
  title: 'Disabled KMS key was used',
  severity: 'high',
  status: 'stable',
  description:
    'Any KMS call that fails with DisabledException because its key is disabled (a key pending deletion is ' +
    'KMS.PendingDeletionKeyUsed instead). One finding per key and caller per window.',
  runbook: [
    'Read the finding: the caller, its account and the service show who depends on the disabled key and is failing right now.',
    'If the key was disabled by mistake, re-enable it: `aws kms enable-key --key-id <key ARN>`; find who disabled it with `keytrail findings --detector KMS.KeyDisabled`.',
    'If the key was disabled on purpose, tell the caller\'s owner; their reads of data encrypted under the key fail until they move to another key.',
    'If the caller is a declared BYOK vendor, their service is broken for this customer: contact the vendor.',
  ],
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/enabling-keys.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html',
    'https://docs.aws.amazon.com/kms/latest/APIReference/API_EnableKey.html',
  ],
  match: (e) => {
    // Only KMS reports a key's state; other services log their own error codes.
    if (e.eventSource !== KMS_EVENT_SOURCE) return false;
    if (e.errorCode !== 'DisabledException') return false;
    // The key is pending deletion, not merely disabled: KMS.PendingDeletionKeyUsed reports it.
    if (PENDING_DELETION_WORDING.test(e.errorMessage ?? '')) return false;
    return true;
  },
  describe: (e, ctx) => {
    const vendor = vendorOfCaller(ctx.config, e, ctx.declaredKey(e));
    const via = e.viaService ? ` via ${e.viaService}` : '';
    // The message names the failing key: a ReEncrypt's destination, or the ARN a record without resources lacks.
    const keyArn = keyInErrorMessage(e)?.arn ?? e.keyArn;
    const draft = draftFor(e, {
      dedupKey: `${keyArn ?? keyDedupKey(e)}|${callerKey(e)}`,
      summary:
        `${e.eventName} by ${callerLabel(e)} (account ${e.principalAccountId ?? 'unknown'})${via} failed because ` +
        `${keyPhrase({ ...e, keyArn })} is disabled: the caller still depends on it.` +
        `${vendor ? ` The caller is vendor ${vendor}, whose access is broken.` : ''}`,
      context: { vendor },
    });
    return { ...draft, keyArn };
  },
} as const satisfies EventDetector;
