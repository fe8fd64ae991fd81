import { KMS_EVENT_SOURCE } from '../normalize/normalize.js';
import { callerLabel, draftFor, keyDedupKey, keyPhrase } from './lib/event-draft.js';
import { describeUsage, impactContext, keyImpact, vendorSentence } from './lib/key-impact.js';
import type { EventDetector } from './types.js';

/** A key was disabled: every call that needs it fails from now on, until it is enabled again. */
export const kmsKeyDisabled = {
  kind: 'event',
  id: 'KMS.KeyDisabled',
  title: 'KMS key disabled',
  severity: 'high',
  status: 'stable',
  description:
    'A successful DisableKey. Carries a past-usage summary of the lookback window; critical when the key is shared ' +
    'with a declared vendor (their access breaks) or had cryptographic use in the lookback window.',
  runbook: [
    'Read the usage summary in the finding: the principals, accounts and services listed there fail from now on.',
    'Confirm with the caller (the principal in the finding) that disabling the key was intended and approved.',
    'If it was not, or something listed still needs the key, enable it again: `aws kms enable-key --key-id <key ARN>`.',
    'If the key is shared with a vendor, tell the vendor: their access to the customer\'s data is broken while the key is disabled.',
    'Watch for KMS.DisabledKeyUsed findings: they name every caller that still tries to use the key.',
  ],
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/enabling-keys.html',
    'https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys-determining-usage.html',
    'https://docs.aws.amazon.com/kms/latest/APIReference/API_DisableKey.html',
  ],
  needs: ['usageSummary'],
  match: (e) => {
    // Only KMS disables keys.
    if (e.eventSource !== KMS_EVENT_SOURCE) return false;
    if (e.eventName !== 'DisableKey') return false;
    // A failed DisableKey left the key enabled.
    if (e.outcome !== 'success') return false;
    return true;
  },
  describe: (e, ctx, facts) => {
    const usage = facts.usageSummary;
    const impact = keyImpact(e, ctx, usage);
    // Disabling is reversible, so never_delete alone does not make it critical; breaking use does.
    const critical = impact.vendors.length > 0 || impact.usedInLookback === true;
    return draftFor(e, {
      dedupKey: keyDedupKey(e),
      severity: critical ? 'critical' : 'high',
      summary: `${callerLabel(e)} disabled ${keyPhrase(e)}.${vendorSentence(impact, 'Disabling it')} ${describeUsage(usage)}`,
      context: impactContext(impact, usage),
    });
  },
} as const satisfies EventDetector;
