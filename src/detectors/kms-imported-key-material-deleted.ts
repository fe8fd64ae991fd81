import { KMS_EVENT_SOURCE } from '../normalize/normalize.js';
import { callerLabel, draftFor, keyDedupKey, keyPhrase } from './lib/event-draft.js';
import { describeUsage, impactContext, keyImpact, vendorSentence } from './lib/key-impact.js';
import type { EventDetector } from './types.js';

/** Someone deleted a key's imported key material: the key is unusable until it is imported again. */
export const kmsImportedKeyMaterialDeleted = {
  kind: 'event',
  id: 'KMS.ImportedKeyMaterialDeleted',
  title: 'Imported key material deleted',
  severity: 'high',
  status: 'stable',
  description:
    'A successful DeleteImportedKeyMaterial: the key is unusable (PendingImport) until the same key material is ' +
    'imported again. Carries a past-usage summary and the vendors who lose access.',
  runbook: [
    'Confirm with the caller (the principal in the finding) that deleting the key material was intended and approved.',
    'Every call that needs the key fails now; the usage summary in the finding lists who is affected.',
    'To restore the key, re-import the same key material (GetParametersForImport, then ImportKeyMaterial); other key material will not decrypt existing ciphertexts.',
    'If the key is shared with a vendor (BYOK), tell the vendor: their access is broken until the material is back.',
  ],
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys-delete-key-material.html',
    'https://docs.aws.amazon.com/kms/latest/APIReference/API_DeleteImportedKeyMaterial.html',
  ],
  needs: ['usageSummary'],
  match: (e) => {
    // Only KMS holds imported key material.
    if (e.eventSource !== KMS_EVENT_SOURCE) return false;
    if (e.eventName !== 'DeleteImportedKeyMaterial') return false;
    // A failed call deleted nothing.
    if (e.outcome !== 'success') return false;
    return true;
  },
  describe: (e, ctx, facts) => {
    const usage = facts.usageSummary;
    const impact = keyImpact(e, ctx, usage);
    return draftFor(e, {
      dedupKey: keyDedupKey(e),
      summary:
        `${callerLabel(e)} deleted the imported key material of ${keyPhrase(e)}: the key is unusable until the ` +
        `same key material is imported again.${vendorSentence(impact, 'This')} ${describeUsage(usage)}`,
      context: impactContext(impact, usage),
    });
  },
} as const satisfies EventDetector;
