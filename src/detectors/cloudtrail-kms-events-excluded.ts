import { createHash } from 'node:crypto';
import type { KmsEvent } from '../normalize/types.js';
import { analyzeEventSelectors, describeLostCoverage, type SelectorAnalysis } from './lib/event-selectors.js';
import { parseJsonObject, stringField } from './lib/policy-json.js';
import type { EventDetector, FindingDraft } from './types.js';

const CLOUDTRAIL_SOURCE = 'cloudtrail.amazonaws.com';
/**
 * Selector changes. Advanced selectors are set through PutEventSelectors (its AdvancedEventSelectors
 * parameter); PutAdvancedEventSelectors is accepted too, in case a record names it so.
 */
const SELECTOR_EVENTS: ReadonlySet<string> = new Set(['PutEventSelectors', 'PutAdvancedEventSelectors']);
/** Calls after which a trail records nothing at all. */
const TRAIL_SILENCING_EVENTS: ReadonlySet<string> = new Set(['StopLogging', 'DeleteTrail']);

type Verdict =
  | { kind: 'selectors'; analysis: Extract<SelectorAnalysis, { coverage: unknown }> }
  | { kind: 'silenced' };

function verdictOf(e: KmsEvent): Verdict | null {
  if (e.eventSource !== CLOUDTRAIL_SOURCE) return null;
  // A failed call changed nothing about the trail (an attempt is still stored as evidence).
  if (e.outcome !== 'success') return null;
  if (TRAIL_SILENCING_EVENTS.has(e.eventName)) return { kind: 'silenced' };
  if (!SELECTOR_EVENTS.has(e.eventName)) return null;
  const analysis = analyzeEventSelectors(parseJsonObject(e.requestParameters));
  // Without the selectors in the record there is nothing to judge; no guessing.
  if (analysis.kind === 'unknown') return null;
  if (analysis.coverage.read && analysis.coverage.write) return null;
  return { kind: 'selectors', analysis };
}

/** The trail a call names: its ARN when the response carries it, else the name or ARN requested. */
function trailOf(e: KmsEvent): string {
  const req = parseJsonObject(e.requestParameters);
  const res = parseJsonObject(e.responseElements);
  return stringField(res, 'trailARN') ?? stringField(req, 'trailName') ?? stringField(req, 'name') ?? 'an unnamed trail';
}

/**
 * A trail stopped recording AWS KMS events: its event selectors exclude kms.amazonaws.com, drop
 * management events, or keep only reads or only writes; or logging was stopped or the trail deleted.
 */
export const cloudtrailKmsEventsExcluded = {
  kind: 'event',
  id: 'CloudTrail.KmsEventsExcluded',
  title: 'CloudTrail trail no longer records AWS KMS events',
  severity: 'high',
  status: 'stable',
  description:
    'A successful PutEventSelectors whose selectors exclude kms.amazonaws.com, turn off management events, or keep only ' +
    'read-only or only write management events; or a successful StopLogging or DeleteTrail.',
  runbook: [
    'Ask the caller named in the finding whether the change was intended (cost reduction is the usual reason for excluding KMS events).',
    'Restore coverage: put back selectors that include management events without excluding kms.amazonaws.com, or StartLogging / recreate the trail.',
    'KMS events from the gap are not in the trail and cannot be recovered there; CloudTrail Event history keeps 90 days of management events (LookupEvents with EventSource kms.amazonaws.com): export them and `keytrail ingest` them.',
    'Restrict cloudtrail:PutEventSelectors, cloudtrail:StopLogging and cloudtrail:DeleteTrail (for example with a service control policy).',
  ],
  references: [
    'https://docs.aws.amazon.com/kms/latest/developerguide/logging-using-cloudtrail.html',
    'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html',
    'https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_EventSelector.html',
    'https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_AdvancedFieldSelector.html',
  ],
  match: (e) => verdictOf(e) !== null,
  describe: (e): FindingDraft => {
    const verdict = verdictOf(e);
    const trail = trailOf(e);
    const trailAccount = trail.startsWith('arn:') ? (trail.split(':')[4] ?? null) : null;
    const caller = e.principalArn ?? e.principalAccountId ?? 'an unknown caller';
    let summary: string;
    let dedupKey: string;
    let context: Record<string, unknown>;
    if (verdict?.kind === 'selectors') {
      const { analysis } = verdict;
      const lost = describeLostCoverage(analysis.coverage);
      summary = `${e.eventName} by ${caller} changed trail ${trail} so that it no longer records ${lost}${analysis.notes.length > 0 ? ` (${analysis.notes.join('; ')})` : ''}.`;
      // The same selectors put again (infrastructure as code re-applying them) are the same finding
      // within the dedup window; a different exclusion is a new one.
      const selectors = createHash('sha256').update(e.requestParameters ?? '').digest('hex').slice(0, 16);
      dedupKey = `${trail}|${e.eventName}|${selectors}`;
      context = {
        change: 'event-selectors',
        selectorKind: analysis.kind,
        selectorCount: analysis.selectors,
        kmsReadEventsLogged: analysis.coverage.read,
        kmsWriteEventsLogged: analysis.coverage.write,
        notes: analysis.notes,
      };
    } else {
      summary =
        e.eventName === 'DeleteTrail'
          ? `DeleteTrail by ${caller} deleted trail ${trail}: the AWS KMS events it recorded are no longer recorded there.`
          : `StopLogging by ${caller} stopped trail ${trail}: it records no AWS KMS events (nor any other) until StartLogging.`;
      dedupKey = e.eventId;
      context = { change: e.eventName === 'DeleteTrail' ? 'trail-deleted' : 'logging-stopped' };
    }
    return {
      dedupKey,
      summary,
      occurredAt: e.eventTime,
      accountId: trailAccount ?? e.recipientAccountId ?? e.principalAccountId,
      region: e.awsRegion,
      keyArn: null,
      principalArn: e.principalArn,
      principalAccountId: e.principalAccountId,
      eventIds: [e.eventId],
      context: {
        ...context,
        operation: e.eventName,
        trail,
        caller: { arn: e.principalArn, accountId: e.principalAccountId, type: e.principalType, invokedBy: e.invokedBy },
        sourceIp: e.sourceIp,
        userAgent: e.userAgent,
      },
    };
  },
} as const satisfies EventDetector;
