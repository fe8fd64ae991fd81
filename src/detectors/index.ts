import { cloudtrailKmsEventsExcluded } from './cloudtrail-kms-events-excluded.js';
import { kmsAccessDeniedBurst } from './kms-access-denied-burst.js';
import { kmsCrossAccountUse } from './kms-cross-account-use.js';
import { kmsCustomKeyStoreChanged } from './kms-custom-key-store-changed.js';
import { kmsDisabledKeyUsed } from './kms-disabled-key-used.js';
import { kmsExternalAccessChanged } from './kms-external-access-changed.js';
import { kmsImportedKeyMaterialDeleted } from './kms-imported-key-material-deleted.js';
import { kmsImportedKeyMaterialExpired } from './kms-imported-key-material-expired.js';
import { kmsKeyDeleted } from './kms-key-deleted.js';
import { kmsKeyDeletionScheduled } from './kms-key-deletion-scheduled.js';
import { kmsKeyDisabled } from './kms-key-disabled.js';
import { kmsKeyMaterialImported } from './kms-key-material-imported.js';
import { kmsKeyPolicyPublic } from './kms-key-policy-public.js';
import { kmsKeyRotated } from './kms-key-rotated.js';
import { kmsPendingDeletionKeyUsed } from './kms-pending-deletion-key-used.js';
import { kmsRotationDisabled } from './kms-rotation-disabled.js';
import type { Detector, EventDetector, QueryDetector } from './types.js';

/**
 * Every detector, in catalogue order (DESIGN.md; docs/DETECTORS.md is generated from this list).
 * An explicit array: adding a detector is one import and one line here.
 */
export const DETECTORS: readonly Detector[] = [
  kmsPendingDeletionKeyUsed,
  kmsDisabledKeyUsed,
  kmsKeyDeletionScheduled,
  kmsKeyDisabled,
  kmsKeyDeleted,
  kmsImportedKeyMaterialExpired,
  kmsImportedKeyMaterialDeleted,
  kmsKeyMaterialImported,
  kmsKeyRotated,
  kmsRotationDisabled,
  kmsCrossAccountUse,
  kmsKeyPolicyPublic,
  kmsExternalAccessChanged,
  kmsCustomKeyStoreChanged,
  cloudtrailKmsEventsExcluded,
  kmsAccessDeniedBurst,
];

export const EVENT_DETECTORS: readonly EventDetector[] = DETECTORS.filter((d): d is EventDetector => d.kind === 'event');
export const QUERY_DETECTORS: readonly QueryDetector[] = DETECTORS.filter((d): d is QueryDetector => d.kind === 'query');

const BY_ID = new Map(DETECTORS.map((d) => [d.id, d]));

/** The detector with this id, or undefined (ids are a public contract: config and users name them). */
export function detectorById(id: string): Detector | undefined {
  return BY_ID.get(id);
}
