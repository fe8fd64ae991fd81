import { KMS_EVENT_SOURCE } from '../normalize/normalize.js';
import { callerLabel, draftFor } from './lib/event-draft.js';
import { jsonObject, stringAt } from './lib/json-text.js';
import type { EventDetector } from './types.js';

/** Calls that create, change, (dis)connect or delete a custom key store (CloudHSM or external). */
const CUSTOM_KEY_STORE_CHANGES: ReadonlySet<string> = new Set([
  'CreateCustomKeyStore',
  'ConnectCustomKeyStore',
  'DisconnectCustomKeyStore',
  'UpdateCustomKeyStore',
  'DeleteCustomKeyStore',
]);

/** A custom key store changed: every key in it depends on the store being connected. */
export const kmsCustomKeyStoreChanged = {
  kind: 'event',
  id: 'KMS.CustomKeyStoreChanged',
  title: 'Custom key store changed',
  severity: 'medium',
  status: 'stable',
  description:
    'CreateCustomKeyStore, ConnectCustomKeyStore, DisconnectCustomKeyStore, UpdateCustomKeyStore or ' +
    'DeleteCustomKeyStore, successful or not (a failed connect leaves the store\'s keys unavailable).',
  runbook: [
    'Confirm with the caller (the principal in the finding) that the change was planned.',
    'A disconnected store makes every key in it unavailable: cryptographic calls fail until `aws kms connect-custom-key-store --custom-key-store-id <id>` succeeds.',
    'For a failed call, read errorCode and errorMessage in the finding and check the store\'s state: `aws kms describe-custom-key-stores --custom-key-store-id <id>`.',
    'For an external key store, confirm the proxy URI and credentials in an UpdateCustomKeyStore were changed by its owner.',
  ],
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/custom-key-store-overview.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/fix-keystore.html',
  ],
  match: (e) => {
    // Only KMS manages custom key stores.
    if (e.eventSource !== KMS_EVENT_SOURCE) return false;
    // Failed calls are kept: a failed connect or update is itself a store problem to look at.
    return CUSTOM_KEY_STORE_CHANGES.has(e.eventName);
  },
  describe: (e) => {
    const storeId =
      stringAt(jsonObject(e.requestParameters), 'customKeyStoreId') ?? stringAt(jsonObject(e.responseElements), 'customKeyStoreId');
    const storeName =
      stringAt(jsonObject(e.requestParameters), 'customKeyStoreName') ?? stringAt(jsonObject(e.additionalEventData), 'customKeyStoreName');
    const store = [storeId, storeName && `"${storeName}"`].filter(Boolean).join(' ') || 'a custom key store';
    const outcome = e.outcome === 'success' ? '' : ` — it failed (${e.errorCode ?? 'error'}${e.errorMessage ? `: ${e.errorMessage}` : ''})`;
    return draftFor(e, {
      // Retries of one change (same store, same call, same outcome) are one finding per window.
      dedupKey: `${storeId ?? e.eventId}|${e.eventName}|${e.outcome}`,
      summary: `${callerLabel(e)} called ${e.eventName} on ${store}${outcome}.`,
      context: { customKeyStoreId: storeId, customKeyStoreName: storeName },
    });
  },
} as const satisfies EventDetector;
