import { KMS_EVENT_SOURCE } from '../normalize/normalize.js';
import { draftFor, keyDedupKey, keyPhrase } from './lib/event-draft.js';
import { describeUsage, impactContext, keyImpact, vendorSentence } from './lib/key-impact.js';
import type { EventDetector } from './types.js';

/** EventBridge event KMS sends when it deletes expired imported key material (best effort). */
const EXPIRY_LIFECYCLE_EVENTS: ReadonlySet<string> = new Set(['KMS Imported Key Material Expiration']);
/** CloudTrail's record of the same deletion, logged by AWS as a service event. */
const EXPIRY_SERVICE_EVENTS: ReadonlySet<string> = new Set(['DeleteExpiredKeyMaterial']);

/**
 * Imported key material expired and KMS deleted it: the key is unusable until the same material is
 * imported again. The lifecycle event and the service event of one expiry make one finding.
 */
export const kmsImportedKeyMaterialExpired = {
  kind: 'event',
  id: 'KMS.ImportedKeyMaterialExpired',
  title: 'Imported key material expired',
  severity: 'high',
  status: 'stable',
  description:
    'A `KMS Imported Key Material Expiration` EventBridge event or a `DeleteExpiredKeyMaterial` service event: KMS ' +
    'deleted expired imported key material and the key is unusable (PendingImport). Both records of one expiry make ' +
    'one finding per key per window. Carries a past-usage summary and the vendors who lose access.',
  runbook: [
    'Every call that needs the key fails now (key state PendingImport); the usage summary in the finding lists who is affected.',
    'Re-import the same key material (GetParametersForImport, then ImportKeyMaterial) from your key management infrastructure; other key material will not decrypt existing ciphertexts.',
    'Choose the expiration on re-import deliberately; set a reminder well before it, or import with `--expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE`.',
    'If the key is shared with a vendor (BYOK), tell the vendor: their access to the customer\'s data is broken until the material is back.',
  ],
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/kms-events.html',
    'https://docs.aws.amazon.com/kms/latest/APIReference/API_ImportKeyMaterial.html',
  ],
  needs: ['usageSummary'],
  match: (e) => {
    if (e.eventKind === 'lifecycle') return EXPIRY_LIFECYCLE_EVENTS.has(e.eventName);
    // Only KMS deletes KMS key material.
    if (e.eventSource !== KMS_EVENT_SOURCE) return false;
    return EXPIRY_SERVICE_EVENTS.has(e.eventName);
  },
  describe: (e, ctx, facts) => {
    const usage = facts.usageSummary;
    const impact = keyImpact(e, ctx, usage);
    return draftFor(e, {
      // The lifecycle event and the service event of one expiry name the same key.
      dedupKey: keyDedupKey(e),
      summary:
        `The imported key material of ${keyPhrase(e)} expired and KMS deleted it: the key is unusable until the ` +
        `same key material is imported again.${vendorSentence(impact, 'This')} ${describeUsage(usage)}`,
      context: impactContext(impact, usage),
    });
  },
} as const satisfies EventDetector;
