import { KMS_EVENT_SOURCE } from '../normalize/normalize.js';
import { capitalized, draftFor, keyDedupKey, keyPhrase } from './lib/event-draft.js';
import { jsonObject, stringAt } from './lib/json-text.js';
import type { EventDetector } from './types.js';

/** EventBridge event KMS sends after rotating key material (best effort). */
const ROTATION_LIFECYCLE_EVENTS: ReadonlySet<string> = new Set(['KMS CMK Rotation']);
/** CloudTrail records of a rotation: AWS's service event (automatic or on demand) and the on-demand call. */
const ROTATION_EVENTS: ReadonlySet<string> = new Set(['RotateKey', 'RotateKeyOnDemand']);

/** Key material was rotated: compliance evidence, stored but not sent. */
export const kmsKeyRotated = {
  kind: 'event',
  id: 'KMS.KeyRotated',
  title: 'KMS key material rotated',
  severity: 'info',
  status: 'stable',
  alert: false,
  description:
    'A `KMS CMK Rotation` EventBridge event, a `RotateKey` service event or a successful `RotateKeyOnDemand`: rotation ' +
    'evidence for compliance reports. The records of one rotation make one finding per key per window. Stored, not sent.',
  runbook: [
    'Nothing to do: this is evidence that rotation happened, for compliance reports.',
    'If rotation was expected and no such finding appears for a key, check that automatic rotation is enabled (`aws kms get-key-rotation-status --key-id <key ARN>`).',
  ],
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/kms-events.html',
  ],
  match: (e) => {
    if (e.eventKind === 'lifecycle') return ROTATION_LIFECYCLE_EVENTS.has(e.eventName);
    // Only KMS rotates KMS keys.
    if (e.eventSource !== KMS_EVENT_SOURCE) return false;
    if (!ROTATION_EVENTS.has(e.eventName)) return false;
    // A failed RotateKeyOnDemand rotated nothing.
    if (e.outcome !== 'success') return false;
    return true;
  },
  describe: (e) => {
    const rotationType =
      e.eventName === 'RotateKeyOnDemand'
        ? 'ON_DEMAND'
        : (stringAt(jsonObject(e.raw), 'serviceEventDetails', 'rotationType') ?? stringAt(jsonObject(e.additionalEventData), 'rotation-type'));
    return draftFor(e, {
      // The lifecycle event, the service event and the on-demand call of one rotation name the same key.
      dedupKey: keyDedupKey(e),
      summary: `${capitalized(keyPhrase(e))} was rotated${rotationType ? ` (${rotationType.toLowerCase().replace('_', '-')})` : ''}.`,
      context: { rotationType },
    });
  },
} as const satisfies EventDetector;
