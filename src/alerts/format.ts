import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { MessageAttributeValue } from '@aws-sdk/client-sns';
import type { Finding } from '../findings/finding.js';

/** SNS Publish: subjects must be "less than 100 characters long", with no line breaks or control characters. */
export const SNS_SUBJECT_MAX_LENGTH = 99;
/** SNS Publish: body and message attributes together at most 256 KiB; PublishBatch: the sum of its entries too. */
export const SNS_MAX_MESSAGE_BYTES = 262_144;
/**
 * EventBridge now takes entries up to 1 MB, but we keep to 256 KiB: rules commonly target SNS and SQS,
 * which reject anything larger, and the event would then be lost after EventBridge accepted it.
 */
export const EVENTBRIDGE_MAX_ENTRY_BYTES = 262_144;
/** `source` and `detail-type` of keytrail's events, for EventBridge rules to match (DESIGN.md). */
export const EVENTBRIDGE_SOURCE = 'keytrail';
export const EVENTBRIDGE_DETAIL_TYPE = 'KMS Audit Finding';
/** The line between the readable part of an SNS message and the finding JSON; everything after it parses. */
export const SNS_JSON_MARKER = '\n---- finding (JSON) ----\n';

/** One SNS message, ready for Publish or a PublishBatch entry. */
export interface SnsMessage {
  subject: string;
  message: string;
  attributes: Record<string, MessageAttributeValue>;
}

/**
 * The SNS message for a finding: a subject for email subscribers, a body a person can act on with the
 * finding JSON appended, and attributes that subscription filter policies can match. If the message
 * would exceed SNS's 256 KiB, the largest `context` entries of the finding are cut and
 * `context._truncated` says which; the finding is still sent.
 */
export function formatSnsMessage(finding: Finding): SnsMessage {
  const fitted = fitFinding(finding, SNS_MAX_MESSAGE_BYTES, 'SNS 256 KB limit', (f) => snsMessageBytes(buildSnsMessage(f)));
  return buildSnsMessage(fitted);
}

/**
 * Bytes SNS counts against its 256 KiB limit: the body plus each attribute's name, type and value.
 * The subject is added too, which SNS may not count, to stay on the safe side.
 */
export function snsMessageBytes(message: SnsMessage): number {
  let bytes = Buffer.byteLength(message.message, 'utf8') + Buffer.byteLength(message.subject, 'utf8');
  for (const [name, value] of Object.entries(message.attributes)) {
    bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType ?? '', 'utf8');
    bytes += Buffer.byteLength(value.StringValue ?? '', 'utf8');
  }
  return bytes;
}

/**
 * The PutEvents entry for a finding: `detail` is the finding JSON, `resources` the key ARN when known,
 * `time` when it happened. Kept under 256 KiB the same way as the SNS message.
 */
export function formatEventBridgeEntry(finding: Finding, busName: string): PutEventsRequestEntry {
  const fitted = fitFinding(finding, EVENTBRIDGE_MAX_ENTRY_BYTES, 'EventBridge 256 KB limit', (f) =>
    eventBridgeEntryBytes(buildEventBridgeEntry(f, busName)),
  );
  return buildEventBridgeEntry(fitted, busName);
}

/**
 * Entry size as EventBridge computes it ("Calculating PutEvents event entry size", EventBridge user
 * guide): 14 bytes for Time, plus the UTF-8 bytes of Source, DetailType, Detail and each Resource.
 */
export function eventBridgeEntryBytes(entry: PutEventsRequestEntry): number {
  let bytes = entry.Time ? 14 : 0;
  for (const part of [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])]) {
    if (part) bytes += Buffer.byteLength(part, 'utf8');
  }
  return bytes;
}

/** The finding as JSON. Bigints (DuckDB counts) become numbers, or strings past 2^53, instead of throwing. */
export function findingJson(finding: Finding, space?: number): string {
  return JSON.stringify(finding, jsonSafe, space);
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
}

function buildEventBridgeEntry(finding: Finding, busName: string): PutEventsRequestEntry {
  return {
    EventBusName: busName,
    Source: EVENTBRIDGE_SOURCE,
    DetailType: EVENTBRIDGE_DETAIL_TYPE,
    Detail: findingJson(finding),
    ...(finding.key_arn ? { Resources: [finding.key_arn] } : {}),
    Time: new Date(finding.occurred_at),
  };
}

function buildSnsMessage(finding: Finding): SnsMessage {
  const attributes: Record<string, MessageAttributeValue> = {
    severity: { DataType: 'String', StringValue: finding.severity },
    detector_id: { DataType: 'String', StringValue: finding.detector_id },
  };
  // SNS rejects an attribute with an empty value, and a filter on account_id should not match "unknown".
  if (finding.account_id) attributes['account_id'] = { DataType: 'String', StringValue: finding.account_id };
  return { subject: snsSubject(finding), message: readableBody(finding) + SNS_JSON_MARKER + findingJson(finding, 2), attributes };
}

/** `[HIGH] KMS.KeyDeletionScheduled: alias/payments in 111122223333`, shortened in the key part first. */
function snsSubject(finding: Finding): string {
  const head = printableAscii(`[${finding.severity.toUpperCase()}] ${finding.detector_id}: `);
  const tail = finding.account_id ? printableAscii(` in ${finding.account_id}`) : '';
  let target = printableAscii(keyLabel(finding) ?? finding.title);
  const room = SNS_SUBJECT_MAX_LENGTH - head.length - tail.length;
  if (room >= 8) {
    if (target.length > room) target = `${target.slice(0, room - 3)}...`;
    return `${head}${target}${tail}`;
  }
  // Only a detector id or account id of absurd length gets here; keep the start, which has the severity.
  const whole = `${head}${target}${tail}`;
  return whole.length > SNS_SUBJECT_MAX_LENGTH ? `${whole.slice(0, SNS_SUBJECT_MAX_LENGTH - 3)}...` : whole;
}

/** Email subjects and terminals: printable ASCII on one line; anything else becomes `?`. */
function printableAscii(text: string): string {
  return text
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7E]/gu, '?')
    .replace(/ {2,}/g, ' ');
}

/** The name a person knows the key by: its alias when the detector recorded one, else its key id. */
function keyLabel(finding: Finding): string | null {
  const alias = stringEntry(finding.context, 'aliasName');
  if (alias) return alias;
  if (!finding.key_arn) return null;
  const resource = finding.key_arn.split(':').slice(5).join(':');
  return resource.startsWith('key/') ? resource.slice('key/'.length) : resource || finding.key_arn;
}

function stringEntry(context: Record<string, unknown>, name: string): string | null {
  const value = context[name];
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/** Context entries shown inline when short; the rest are in the JSON below. */
const DETAIL_VALUE_MAX_CHARS = 200;
const EVENT_IDS_LISTED = 10;
/** Context entries (as detectors' `eventContext` names them) the body already shows in its own lines. */
const SHOWN_ELSEWHERE = new Set(['aliasName', 'operation', '_truncated']);

function readableBody(f: Finding): string {
  const alias = stringEntry(f.context, 'aliasName');
  const operation = stringEntry(f.context, 'operation');
  const key = f.key_arn ? (alias ? `${alias} (${f.key_arn})` : f.key_arn) : (alias ?? 'not recorded in the event');
  const shownIds = f.event_ids.slice(0, EVENT_IDS_LISTED).join(', ');
  const moreIds = f.event_ids.length > EVENT_IDS_LISTED ? ` and ${f.event_ids.length - EVENT_IDS_LISTED} more` : '';

  const lines = [
    `${f.title} (${f.severity.toUpperCase()})`,
    '',
    f.summary,
    '',
    'What happened',
    `  Detector:        ${f.detector_id}`,
    ...(operation ? [`  Operation:       ${operation}`] : []),
    `  When:            ${f.occurred_at}`,
    `  Key:             ${key}`,
    `  Caller:          ${f.principal_arn ?? 'unknown'}`,
    `  Caller account:  ${f.principal_account_id ?? 'unknown'}`,
    `  Account:         ${f.account_id ?? 'unknown'}`,
    `  Region:          ${f.region ?? 'unknown'}`,
    `  CloudTrail ids:  ${shownIds}${moreIds}`,
  ];

  const details = Object.entries(f.context).filter(([name]) => !SHOWN_ELSEWHERE.has(name));
  if (details.length > 0) {
    lines.push('', 'Details');
    for (const [name, value] of details) lines.push(`  ${name}: ${inlineValue(value)}`);
  }
  const truncated = f.context['_truncated'];
  if (typeof truncated === 'string' && truncated.length > 0) lines.push('', `Note: ${truncated}.`);

  lines.push('', 'What to do');
  if (f.runbook.length === 0) lines.push('  No runbook for this detector: read the summary and the events it names.');
  f.runbook.forEach((step, i) => lines.push(`  ${i + 1}. ${step}`));
  if (f.references.length > 0) {
    lines.push('', 'References');
    for (const ref of f.references) lines.push(`  - ${ref}`);
  }
  lines.push('', `Finding id: ${f.finding_id} (schema ${f.schema_version})`);
  return lines.join('\n');
}

function inlineValue(value: unknown): string {
  if (value === null || ['string', 'number', 'boolean', 'bigint'].includes(typeof value)) {
    const text = String(value).replace(/\s+/g, ' ');
    return text.length > DETAIL_VALUE_MAX_CHARS ? `${text.slice(0, DETAIL_VALUE_MAX_CHARS)}...` : text;
  }
  if (Array.isArray(value)) return `${value.length} item${value.length === 1 ? '' : 's'} (in the JSON below)`;
  return '(in the JSON below)';
}

/** One value the fitter may shorten: where it is, and how to put back a cut version of it. */
interface Cuttable {
  path: string;
  /** Read when its turn comes: an object's children may have been cut by then. */
  get: () => unknown;
  /** The smallest length that keeps the finding schema-valid (an event id must remain). */
  minLength: number;
  set: (value: unknown) => void;
}

/**
 * Shrink a finding until `measure` fits `limitBytes`. Candidates, largest first: the context entries
 * of 1 KB or more (inside an object such as a usage summary, its large parts first, so the rest
 * keeps its shape), then the whole context, then long top-level lists and texts. Each candidate is
 * emptied in turn until the finding fits; the last one emptied is then given back as much as fits.
 * Every cut is named in `context._truncated`. Returns the finding itself when it already fits.
 */
export function fitFinding(finding: Finding, limitBytes: number, limitLabel: string, measure: (f: Finding) => number): Finding {
  if (measure(finding) <= limitBytes) return finding;
  const working = structuredClone(finding);
  const notes: string[] = [];
  const setNotes = (extra?: string): void => {
    working.context['_truncated'] = [...notes, ...(extra ? [extra] : [])].join('; ');
  };
  const fits = (): boolean => measure(working) <= limitBytes;

  const contextTargets = largeEntries(working.context)
    .filter((name) => name !== '_truncated')
    .flatMap((name) => cuttablesIn(working.context, name, `context.${name}`));
  const wholeContext: Cuttable = {
    path: 'context (as JSON)',
    get: () => {
      const { _truncated: _note, ...rest } = working.context;
      return JSON.stringify(rest, jsonSafe) ?? '';
    },
    minLength: 0,
    // The context must stay an object: its JSON text, cut, goes in one entry.
    set: (v) => (working.context = { _context: v }),
  };
  const topLevel: Cuttable[] = [
    { path: 'event_ids', get: () => working.event_ids, minLength: 1, set: (v) => (working.event_ids = stringList(v)) },
    { path: 'runbook', get: () => working.runbook, minLength: 0, set: (v) => (working.runbook = stringList(v)) },
    { path: 'references', get: () => working.references, minLength: 0, set: (v) => (working.references = stringList(v)) },
    { path: 'summary', get: () => working.summary, minLength: 1, set: (v) => (working.summary = String(v)) },
    { path: 'title', get: () => working.title, minLength: 1, set: (v) => (working.title = String(v)) },
  ];

  for (const target of [...contextTargets, wholeContext, ...topLevel]) {
    const cutter = cutterFor(target.get());
    if (!cutter || cutter.length <= target.minLength) continue;
    const noteFor = (kept: number): string => `${target.path} ${cutter.describe(kept)} to fit ${limitLabel}`;
    const apply = (kept: number): void => {
      target.set(cutter.cut(kept));
      setNotes(noteFor(kept));
    };
    apply(target.minLength);
    if (!fits()) {
      notes.push(noteFor(target.minLength));
      continue;
    }
    // Emptying it was enough: keep the largest prefix that fits. Size only grows with the prefix.
    let lo = target.minLength;
    let hi = cutter.length - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      apply(mid);
      if (fits()) lo = mid;
      else hi = mid - 1;
    }
    apply(lo);
    notes.push(noteFor(lo));
    break;
  }
  if (notes.length > 0) setNotes();
  else delete working.context['_truncated'];
  return working;
}

/** Below this a cut saves too little to be worth a try; the enclosing object or the whole context takes over. */
const MIN_CUT_BYTES = 1_024;

/** What may be cut in `holder[name]`: an object's large parts, largest first, then the object as a whole. */
function cuttablesIn(holder: Record<string, unknown>, name: string, path: string): Cuttable[] {
  const value = holder[name];
  const self: Cuttable = { path, get: () => holder[name], minLength: 0, set: (v) => (holder[name] = v) };
  if (!isPlainObject(value)) return [self];
  return [...largeEntries(value).flatMap((child) => cuttablesIn(value, child, `${path}.${child}`)), self];
}

/** Names of the entries of at least MIN_CUT_BYTES, largest first. */
function largeEntries(record: Record<string, unknown>): string[] {
  return Object.entries(record)
    .map(([name, value]) => ({ name, size: jsonBytes(value) }))
    .filter(({ size }) => size >= MIN_CUT_BYTES)
    .sort((a, b) => b.size - a.size)
    .map(({ name }) => name);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

interface Cutter {
  length: number;
  cut: (kept: number) => unknown;
  describe: (kept: number) => string;
}

function cutterFor(value: unknown): Cutter | null {
  if (Array.isArray(value)) {
    return { length: value.length, cut: (k) => value.slice(0, k), describe: (k) => `cut to ${k} of ${value.length} items` };
  }
  if (typeof value === 'string') {
    return { length: value.length, cut: (k) => cutString(value, k), describe: (k) => `cut to ${k} of ${value.length} characters` };
  }
  if (typeof value === 'object' && value !== null) {
    // An object has no natural prefix; its JSON text does, and a person can still read it.
    const text = JSON.stringify(value, jsonSafe) ?? '';
    return { length: text.length, cut: (k) => cutString(text, k), describe: (k) => `serialized and cut to ${k} of ${text.length} characters` };
  }
  return null;
}

/** The first `kept` UTF-16 units, never splitting a surrogate pair, marked as cut. */
function cutString(text: string, kept: number): string {
  let end = kept;
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}...[truncated]`;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value, jsonSafe) ?? '', 'utf8');
}
