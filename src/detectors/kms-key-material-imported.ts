import { KMS_EVENT_SOURCE } from '../normalize/normalize.js';
import { parseAwsDate } from './lib/aws-dates.js';
import { callerLabel, draftFor, keyPhrase } from './lib/event-draft.js';
import { jsonObject, stringAt } from './lib/json-text.js';
import type { EventDetector } from './types.js';

/** Key material was imported into a key: whose material it is, and when it expires, matter. */
export const kmsKeyMaterialImported = {
  kind: 'event',
  id: 'KMS.KeyMaterialImported',
  title: 'Key material imported',
  severity: 'medium',
  status: 'stable',
  description:
    'A successful ImportKeyMaterial. Carries the expiration model and the expiry date, so an expiry can be planned ' +
    'for before KMS deletes the material.',
  runbook: [
    'Confirm with the caller (the principal in the finding) that the import was planned: importing material into a key decides what the key can decrypt.',
    'If the finding shows an expiry date (KEY_MATERIAL_EXPIRES), record it and plan the re-import before it: on expiry KMS deletes the material and the key stops working.',
    'Keep a copy of the key material in your own key management infrastructure: KMS cannot export it, and only the same material restores the key.',
  ],
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys.html',
    'https://docs.aws.amazon.com/kms/latest/APIReference/API_ImportKeyMaterial.html',
  ],
  match: (e) => {
    // Only KMS imports key material.
    if (e.eventSource !== KMS_EVENT_SOURCE) return false;
    if (e.eventName !== 'ImportKeyMaterial') return false;
    // A failed import left the key as it was.
    if (e.outcome !== 'success') return false;
    return true;
  },
  describe: (e) => {
    const request = jsonObject(e.requestParameters);
    const expirationModel = stringAt(request, 'expirationModel');
    const validToLogged = stringAt(request, 'validTo');
    const validTo = validToLogged === null ? null : (parseAwsDate(validToLogged) ?? validToLogged);
    const expiry =
      expirationModel === 'KEY_MATERIAL_EXPIRES' && validTo
        ? ` It expires on ${validTo}; KMS then deletes it and the key stops working.`
        : expirationModel === 'KEY_MATERIAL_DOES_NOT_EXPIRE'
          ? ' It does not expire.'
          : '';
    return draftFor(e, {
      summary: `${callerLabel(e)} imported key material into ${keyPhrase(e)}.${expiry}`,
      context: { expirationModel, validTo },
    });
  },
} as const satisfies EventDetector;
