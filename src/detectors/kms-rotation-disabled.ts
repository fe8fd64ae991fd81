import { KMS_EVENT_SOURCE } from '../normalize/normalize.js';
import { callerLabel, draftFor, keyDedupKey, keyPhrase } from './lib/event-draft.js';
import type { EventDetector } from './types.js';

/** Automatic rotation was turned off for a key: compliance baselines usually require it. */
export const kmsRotationDisabled = {
  kind: 'event',
  id: 'KMS.RotationDisabled',
  title: 'Automatic key rotation disabled',
  severity: 'medium',
  status: 'stable',
  description: 'A successful DisableKeyRotation: the key\'s material will no longer rotate automatically.',
  runbook: [
    'Confirm with the caller (the principal in the finding) that turning off rotation was intended and approved.',
    'If your baseline requires rotation (CIS, PCI DSS), turn it back on: `aws kms enable-key-rotation --key-id <key ARN>`.',
    'Rotation never breaks decryption of old ciphertexts, so there is rarely a reason to leave it off for a symmetric key.',
  ],
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html',
    'https://docs.aws.amazon.com/kms/latest/APIReference/API_DisableKeyRotation.html',
  ],
  match: (e) => {
    // Only KMS rotates KMS keys.
    if (e.eventSource !== KMS_EVENT_SOURCE) return false;
    if (e.eventName !== 'DisableKeyRotation') return false;
    // A failed call left rotation as it was.
    if (e.outcome !== 'success') return false;
    return true;
  },
  describe: (e) =>
    draftFor(e, {
      dedupKey: keyDedupKey(e),
      summary: `${callerLabel(e)} disabled automatic rotation of ${keyPhrase(e)}.`,
    }),
} as const satisfies EventDetector;
