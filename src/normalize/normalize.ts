import type { z } from 'zod';
import { CloudTrailRecordSchema, type CloudTrailRecord } from '../events/cloudtrail-record.js';
import { CloudTrailApiCallEventSchema, looksLikeEventBridge } from '../events/eventbridge.js';
import { KMS_LIFECYCLE_DETAIL_TYPES, KmsLifecycleEventSchema, type KmsLifecycleEvent } from '../events/kms-lifecycle-event.js';
import { isBareKeyId, keyArnFrom, parseKmsArn, validAccountId } from './arn.js';
import { clipOriginal } from './clip.js';
import { resolveKey } from './key.js';
import { resolvePrincipal } from './principal.js';
import { resolveService } from './service.js';
import type { EventKind, KmsEvent, NormalizeResult, RecordOrigin } from './types.js';

export const KMS_EVENT_SOURCE = 'kms.amazonaws.com';
export const CLOUDTRAIL_EVENT_SOURCE = 'cloudtrail.amazonaws.com';

/**
 * CloudTrail calls that change what a trail logs; the coverage-gap detector needs them, so they are
 * stored beside the KMS events.
 */
export const TRAIL_CONFIGURATION_EVENTS: ReadonlySet<string> = new Set([
  'CreateTrail',
  'UpdateTrail',
  'DeleteTrail',
  'StartLogging',
  'StopLogging',
  'PutEventSelectors',
  'PutAdvancedEventSelectors',
]);


/**
 * Normalize one parsed JSON value: a CloudTrail record, or an EventBridge event (API call via
 * CloudTrail, or a KMS lifecycle event). Pure and total: every input gives a result, never a throw.
 * `text`, when given, is the value's JSON text as read and is kept as `raw`.
 */
export function normalizeValue(value: unknown, origin: RecordOrigin, ingestedAt: string, text?: string): NormalizeResult {
  try {
    if (looksLikeEventBridge(value)) return normalizeEventBridge(value, origin, ingestedAt);
    // A record's text as read is its raw evidence; re-serializing 1-2 KB per record is not free.
    return normalizeRecord(value, origin, ingestedAt, text);
  } catch (error) {
    // Defensive: a bug here must cost one record, not the batch.
    return reject(origin, value, `normalizer failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Normalize one CloudTrail record (from a trail file, NDJSON, or an EventBridge `detail`). */
export function normalizeRecord(value: unknown, origin: RecordOrigin, ingestedAt: string, raw?: string): NormalizeResult {
  const parsed = CloudTrailRecordSchema.safeParse(value);
  if (!parsed.success) return reject(origin, value, describeIssues(parsed.error, value, 'record'));
  const record = parsed.data;
  if (!isRelevant(record)) {
    return { kind: 'ignored', reason: `eventSource ${record.eventSource} ${record.eventName} is not a KMS or trail-configuration event` };
  }
  return { kind: 'event', event: fromRecord(record, origin, ingestedAt, raw ?? JSON.stringify(value)) };
}

function isRelevant(record: CloudTrailRecord): boolean {
  if (record.eventSource === KMS_EVENT_SOURCE) return true;
  if (record.eventSource === CLOUDTRAIL_EVENT_SOURCE) return TRAIL_CONFIGURATION_EVENTS.has(record.eventName);
  // Another service's record that names a KMS key (e.g. a service event about a key) is evidence too.
  return (record.resources ?? []).some((r) => parseKmsArn(r.ARN)?.resourceType === 'key');
}

function eventKindOf(eventType: string | null | undefined): EventKind {
  switch (eventType) {
    case 'AwsServiceEvent':
      return 'service_event';
    case 'AwsVpceEvent':
      return 'network';
    default:
      return 'api_call';
  }
}

function jsonOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function fromRecord(record: CloudTrailRecord, origin: RecordOrigin, ingestedAt: string, raw: string): KmsEvent {
  const key = resolveKey(record);
  const principal = resolvePrincipal(record.userIdentity);
  const req = record.requestParameters;
  const context = pickEncryptionContext(req);
  const eventTime = new Date(record.eventTime).toISOString();
  const errorCode = record.errorCode || null;
  const errorMessage = record.errorMessage || null;

  return {
    eventId: record.eventID,
    eventTime,
    eventDate: eventTime.slice(0, 10),
    eventKind: eventKindOf(record.eventType),
    eventSource: record.eventSource,
    eventName: record.eventName,
    awsRegion: record.awsRegion ?? null,
    recipientAccountId: validAccountId(record.recipientAccountId) ?? record.recipientAccountId ?? null,
    ...key,
    ...principal,
    ...resolveService(context, principal.invokedBy),
    sourceIp: record.sourceIPAddress ?? null,
    userAgent: record.userAgent ?? null,
    vpcEndpointId: record.vpcEndpointId ?? null,
    isCrossAccount:
      principal.principalAccountId !== null &&
      key.keyAccountId !== null &&
      principal.principalAccountId !== key.keyAccountId,
    outcome: errorCode || errorMessage ? 'error' : 'success',
    errorCode,
    errorMessage,
    readOnly: record.readOnly ?? null,
    managementEvent: record.managementEvent ?? null,
    eventCategory: record.eventCategory ?? null,
    encryptionContext: jsonOrNull(context),
    sharedEventId: record.sharedEventID ?? null,
    requestId: record.requestID ?? null,
    requestParameters: jsonOrNull(req),
    responseElements: jsonOrNull(record.responseElements),
    additionalEventData: jsonOrNull(record.additionalEventData),
    raw,
    sourceUri: origin.uri,
    ingestedAt,
    ...destinationOf(record.eventName === 'ReEncrypt' ? destinationKeyOf(key.relatedKeyArns, req) : null),
  };
}

function destinationOf(destinationKey: string | null): Pick<KmsEvent, 'destinationKey' | 'destinationKeyId'> {
  return { destinationKey, destinationKeyId: destinationKey === null ? null : (parseKmsArn(destinationKey)?.resourceId ?? destinationKey) };
}

/**
 * ReEncrypt's destination key as logged: `resources[]` names the source key, then the destination
 * (its ARN); records without it name the destination in the request, by key ARN, key id or alias
 * (an alias does not say which key it named then).
 */
function destinationKeyOf(relatedKeyArns: readonly string[], req: Record<string, unknown> | null | undefined): string | null {
  if (relatedKeyArns.length >= 2) return relatedKeyArns[1] ?? null;
  const named = req?.['destinationKeyId'];
  if (parseKmsArn(named)?.resourceType === 'key' || isBareKeyId(named)) return named as string;
  return null;
}

/** Encrypt/Decrypt/GenerateDataKey* carry `encryptionContext`; ReEncrypt carries source and destination. */
function pickEncryptionContext(req: Record<string, unknown> | null | undefined): Record<string, unknown> | null {
  if (!req) return null;
  for (const name of ['encryptionContext', 'sourceEncryptionContext', 'destinationEncryptionContext']) {
    const value = req[name];
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  }
  return null;
}

function normalizeEventBridge(value: unknown, origin: RecordOrigin, ingestedAt: string): NormalizeResult {
  const detailType = (value as Record<string, unknown>)['detail-type'];
  if (typeof detailType === 'string' && (KMS_LIFECYCLE_DETAIL_TYPES as readonly string[]).includes(detailType)) {
    const parsed = KmsLifecycleEventSchema.safeParse(value);
    if (!parsed.success) return reject(origin, value, describeIssues(parsed.error, value, 'EventBridge event'));
    return { kind: 'event', event: fromLifecycle(parsed.data, origin, ingestedAt, JSON.stringify(value)) };
  }
  const parsed = CloudTrailApiCallEventSchema.safeParse(value);
  if (!parsed.success) return reject(origin, value, describeIssues(parsed.error, value, 'EventBridge event'));
  // The row keeps the CloudTrail record itself, as delivered, so the copy that arrives in a trail
  // file gives the same row.
  const detail = (value as Record<string, unknown>)['detail'];
  return normalizeRecord(detail, origin, ingestedAt, JSON.stringify(detail));
}

function fromLifecycle(event: KmsLifecycleEvent, origin: RecordOrigin, ingestedAt: string, raw: string): KmsEvent {
  const keyId = event.detail['key-id'];
  const fromResources = event.resources.map(parseKmsArn).find((a) => a?.resourceType === 'key') ?? null;
  const account = validAccountId(event.account);
  // KMS sends lifecycle events to the key owner's account, in the key's region.
  const keyArn = fromResources?.arn ?? (account ? keyArnFrom('aws', event.region, account, keyId) : null);
  const eventTime = new Date(event.time).toISOString();
  return {
    eventId: event.id,
    eventTime,
    eventDate: eventTime.slice(0, 10),
    eventKind: 'lifecycle',
    eventSource: event.source,
    eventName: event['detail-type'],
    awsRegion: event.region,
    recipientAccountId: account ?? event.account,
    keyArn,
    keyId: fromResources?.resourceId ?? keyId,
    keyAccountId: fromResources?.accountId ?? account,
    keyRegion: fromResources?.region ?? event.region,
    aliasName: null,
    relatedKeyArns: keyArn ? [keyArn] : [],
    principalType: null,
    principalArn: null,
    principalAccountId: null,
    principalName: null,
    sessionIssuerArn: null,
    accessKeyId: null,
    invokedBy: null,
    viaService: null,
    serviceResource: null,
    sourceIp: null,
    userAgent: null,
    vpcEndpointId: null,
    isCrossAccount: false,
    outcome: 'success',
    errorCode: null,
    errorMessage: null,
    readOnly: null,
    managementEvent: null,
    eventCategory: null,
    encryptionContext: null,
    sharedEventId: null,
    requestId: null,
    requestParameters: null,
    responseElements: null,
    additionalEventData: jsonOrNull(event.detail),
    raw,
    sourceUri: origin.uri,
    ingestedAt,
    destinationKey: null,
    destinationKeyId: null,
  };
}

function reject(origin: RecordOrigin, value: unknown, reason: string): NormalizeResult {
  let original: string;
  try {
    original = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    original = String(value);
  }
  return { kind: 'rejected', rejection: { sourceUri: origin.uri, position: origin.position, reason, original: clipOriginal(original) } };
}

/** Turn zod issues into one line that names each field and what is wrong with it. */
export function describeIssues(error: z.ZodError, value: unknown, what: string): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return `${what} is not a JSON object (got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value})`;
  }
  const parts = error.issues.slice(0, 5).map((issue) => {
    const path = issue.path.map(String).join('.') || '(root)';
    const actual = valueAt(value, issue.path);
    if (actual === undefined) return `${path}: missing`;
    if (issue.code === 'invalid_type') return `${path}: expected ${issue.expected}, got ${describeValue(actual)}`;
    return `${path}: ${issue.message} (got ${describeValue(actual)})`;
  });
  if (error.issues.length > 5) parts.push(`and ${error.issues.length - 5} more`);
  return `invalid ${what}: ${parts.join('; ')}`;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : String(value);
}
