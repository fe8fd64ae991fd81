import { asObject, stringList, type JsonObject } from './policy-json.js';

/**
 * What a trail's event selectors, as logged in a PutEventSelectors record, still record of AWS KMS.
 *
 * CloudTrail logs the request in camelCase:
 * - basic: `requestParameters.eventSelectors[]` = `{readWriteType: All|ReadOnly|WriteOnly,
 *   includeManagementEvents, excludeManagementEventSources: ["kms.amazonaws.com"], dataResources}`;
 * - advanced: `requestParameters.advancedEventSelectors[]` = `{name, fieldSelectors: [{field,
 *   equals, notEquals, startsWith, notStartsWith, endsWith, notEndsWith}]}`; for management events
 *   the fields are `eventCategory` (Equals Management), `readOnly` (Equals true|false) and
 *   `eventSource` (NotEquals kms.amazonaws.com / rdsdata.amazonaws.com).
 * A trail logs an event when any selector matches it (selectors are ORed, fields within one ANDed).
 * KMS events are management events; cryptographic calls (Decrypt, Encrypt, GenerateDataKey…) are
 * read-only events, key changes (PutKeyPolicy, ScheduleKeyDeletion, CreateGrant…) write events.
 * (AWS CloudTrail API Reference: EventSelector, AdvancedFieldSelector.)
 */

export const KMS_EVENT_SOURCE = 'kms.amazonaws.com';

export interface KmsCoverage {
  /** Read-only KMS events (the cryptographic calls) are still logged. */
  read: boolean;
  /** Write KMS events (key policy, grants, disable, deletion) are still logged. */
  write: boolean;
}

export type SelectorAnalysis =
  | { kind: 'basic' | 'advanced'; coverage: KmsCoverage; selectors: number; notes: string[] }
  | { kind: 'unknown'; reason: string };

/** Case-insensitive field access: the API spells fields in PascalCase, CloudTrail logs camelCase. */
function field(obj: JsonObject | null, name: string): unknown {
  if (!obj) return undefined;
  if (name in obj) return obj[name];
  const lower = name.toLowerCase();
  const found = Object.keys(obj).find((k) => k.toLowerCase() === lower);
  return found === undefined ? undefined : obj[found];
}

/** Read the selectors of a PutEventSelectors (or PutAdvancedEventSelectors) request. */
export function analyzeEventSelectors(requestParameters: JsonObject | null): SelectorAnalysis {
  // The API takes one or the other; advanced selectors overwrite basic ones, so they win here too.
  const advanced = field(requestParameters, 'advancedEventSelectors');
  if (Array.isArray(advanced)) return analyzeAdvanced(advanced);
  const basic = field(requestParameters, 'eventSelectors');
  if (Array.isArray(basic)) return analyzeBasic(basic);
  return { kind: 'unknown', reason: 'the request carries neither eventSelectors nor advancedEventSelectors' };
}

function analyzeBasic(selectors: unknown[]): SelectorAnalysis {
  const coverage: KmsCoverage = { read: false, write: false };
  const notes: string[] = [];
  selectors.forEach((raw, i) => {
    const s = asObject(raw);
    if (!s) return;
    // Both default on: a selector without them logs all read and write management events.
    if (field(s, 'includeManagementEvents') === false) {
      notes.push(`selector ${i + 1}: includeManagementEvents is false`);
      return;
    }
    if (stringList(field(s, 'excludeManagementEventSources')).includes(KMS_EVENT_SOURCE)) {
      notes.push(`selector ${i + 1}: excludeManagementEventSources contains ${KMS_EVENT_SOURCE}`);
      return;
    }
    const rw = field(s, 'readWriteType');
    const readWrite = typeof rw === 'string' ? rw : 'All';
    if (readWrite === 'All' || readWrite === 'ReadOnly') coverage.read = true;
    if (readWrite === 'All' || readWrite === 'WriteOnly') coverage.write = true;
    if (readWrite !== 'All') notes.push(`selector ${i + 1}: readWriteType is ${readWrite}`);
  });
  return { kind: 'basic', coverage, selectors: selectors.length, notes };
}

type Operator = 'equals' | 'notEquals' | 'startsWith' | 'notStartsWith' | 'endsWith' | 'notEndsWith';

/** Does one field selector let `value` through? */
function fieldAllows(selector: JsonObject, value: string): boolean {
  const v = value.toLowerCase();
  const list = (op: Operator) => stringList(field(selector, op)).map((x) => x.toLowerCase());
  const equals = list('equals');
  if (equals.length > 0 && !equals.includes(v)) return false;
  const startsWith = list('startsWith');
  if (startsWith.length > 0 && !startsWith.some((p) => v.startsWith(p))) return false;
  const endsWith = list('endsWith');
  if (endsWith.length > 0 && !endsWith.some((p) => v.endsWith(p))) return false;
  if (list('notEquals').includes(v)) return false;
  if (list('notStartsWith').some((p) => v.startsWith(p))) return false;
  if (list('notEndsWith').some((p) => v.endsWith(p))) return false;
  return true;
}

function analyzeAdvanced(selectors: unknown[]): SelectorAnalysis {
  const coverage: KmsCoverage = { read: false, write: false };
  const notes: string[] = [];
  selectors.forEach((raw, i) => {
    const s = asObject(raw);
    if (!s) return;
    const name = typeof field(s, 'name') === 'string' ? `"${String(field(s, 'name'))}"` : `${i + 1}`;
    const fieldSelectors = (Array.isArray(field(s, 'fieldSelectors')) ? (field(s, 'fieldSelectors') as unknown[]) : [])
      .map(asObject)
      .filter((f): f is JsonObject => f !== null);
    // A KMS management event as the selector sees it. Fields a KMS management event has no value
    // for here (resources.ARN, eventName, …) filter data events and are not evaluated: they are
    // assumed not to drop KMS events.
    const blockedFields = (readOnly: 'true' | 'false'): string[] => {
      const candidate: Record<string, string> = { eventcategory: 'Management', eventsource: KMS_EVENT_SOURCE, readonly: readOnly };
      const names = fieldSelectors
        .filter((f) => {
          const name = field(f, 'field');
          const value = typeof name === 'string' ? candidate[name.toLowerCase()] : undefined;
          return value !== undefined && !fieldAllows(f, value);
        })
        .map((f) => String(field(f, 'field')));
      return [...new Set(names)];
    };
    const read = blockedFields('true');
    const write = blockedFields('false');
    if (read.length === 0) coverage.read = true;
    if (write.length === 0) coverage.write = true;
    // A data-event (or network-activity) selector says nothing about management events.
    if (read.some((f) => f.toLowerCase() === 'eventcategory')) return;
    if (read.length > 0 && write.length > 0) notes.push(`selector ${name}: ${[...new Set([...read, ...write])].join(', ')} excludes KMS management events`);
    else if (read.length > 0) notes.push(`selector ${name}: ${read.join(', ')} excludes KMS read-only events`);
    else if (write.length > 0) notes.push(`selector ${name}: ${write.join(', ')} excludes KMS write events`);
  });
  return { kind: 'advanced', coverage, selectors: selectors.length, notes };
}

/** Words for what a trail no longer records of KMS. */
export function describeLostCoverage(coverage: KmsCoverage): string {
  if (!coverage.read && !coverage.write) return 'all AWS KMS events';
  if (!coverage.read) return 'AWS KMS read-only events, which include every cryptographic call (Decrypt, Encrypt, GenerateDataKey, Sign…)';
  if (!coverage.write) return 'AWS KMS write events (key policy and grant changes, DisableKey, ScheduleKeyDeletion…)';
  return 'nothing';
}
