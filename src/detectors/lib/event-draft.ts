import type { Severity } from '../../findings/finding.js';
import { parseKmsArn } from '../../normalize/arn.js';
import type { KmsEvent } from '../../normalize/types.js';
import type { FindingDraft } from '../types.js';

/** How a finding names the key: ARN, else key id, else alias (older records have no `resources`). */
export function keyLabel(event: KmsEvent): string {
  return event.keyArn ?? event.keyId ?? event.aliasName ?? 'an unidentified key';
}

/** "KMS key <ARN, id or alias>", or "an unidentified KMS key": for the start of a sentence's object. */
export function keyPhrase(event: Pick<KmsEvent, 'keyArn' | 'keyId' | 'aliasName'>): string {
  const label = event.keyArn ?? event.keyId ?? event.aliasName;
  return label === null ? 'an unidentified KMS key' : `KMS key ${label}`;
}

/** The text with its first letter in upper case, to start a sentence. */
export function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The key a key-state error names — KMS words them "<key ARN> is disabled." / "<key ARN> is pending
 * deletion." — and whether it is the event's own key. A ReEncrypt fails for its destination key,
 * which is not the event's primary key; a record without `resources` names its key only by id.
 */
export function keyInErrorMessage(event: Pick<KmsEvent, 'errorMessage' | 'keyArn' | 'keyId'>): { arn: string; sameKey: boolean } | null {
  const arn = parseKmsArn(event.errorMessage?.trim().split(/\s/, 1)[0]);
  if (arn?.resourceType !== 'key') return null;
  const sameKey = event.keyArn !== null ? arn.arn === event.keyArn : event.keyId === null || event.keyId === arn.resourceId;
  return { arn: arn.arn, sameKey };
}

/** How a finding names the caller: principal ARN, else the AWS service, else the account. */
export function callerLabel(event: KmsEvent): string {
  if (event.principalArn) return event.principalArn;
  if (event.invokedBy) return event.invokedBy === 'AWS Internal' ? 'AWS (internal)' : event.invokedBy;
  if (event.principalAccountId) return `account ${event.principalAccountId}`;
  return 'an unidentified caller';
}

/** One finding per key: ARN, else key id, else (no key resolved at all) the event itself. */
export function keyDedupKey(event: KmsEvent): string {
  return event.keyArn ?? event.keyId ?? event.eventId;
}

/** Identity of the caller within a dedup key: principal ARN, else AWS service, else account. */
export function callerKey(event: KmsEvent): string {
  return event.principalArn ?? event.invokedBy ?? event.principalAccountId ?? 'unknown caller';
}

/** The event's identifying fields for a finding's `context`, nulls left out. Never request parameters. */
export function eventContext(event: KmsEvent): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    keyId: event.keyId,
    aliasName: event.aliasName,
    operation: event.eventName,
    eventKind: event.eventKind,
    eventSource: event.eventSource,
    outcome: event.outcome,
    errorCode: event.errorCode,
    errorMessage: event.errorMessage,
    principalType: event.principalType,
    principalName: event.principalName,
    sessionIssuerArn: event.sessionIssuerArn,
    invokedBy: event.invokedBy,
    viaService: event.viaService,
    sourceIp: event.sourceIp,
    userAgent: event.userAgent,
    vpcEndpointId: event.vpcEndpointId,
    loggedInAccount: event.recipientAccountId,
    loggedInRegion: event.awsRegion,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== null && value !== undefined));
}

export interface DraftFields {
  summary: string;
  /** Default: the event id (every event its own finding). */
  dedupKey?: string;
  severity?: Severity;
  /** Detector-specific context, merged over `eventContext(event)`. */
  context?: Record<string, unknown>;
}

/**
 * A draft about one event: account is the key owner where known, else where the event was logged;
 * region is the key's, else the event's.
 */
export function draftFor(event: KmsEvent, fields: DraftFields): FindingDraft {
  return {
    dedupKey: fields.dedupKey ?? event.eventId,
    ...(fields.severity ? { severity: fields.severity } : {}),
    summary: fields.summary,
    occurredAt: event.eventTime,
    accountId: event.keyAccountId ?? event.recipientAccountId,
    region: event.keyRegion ?? event.awsRegion,
    keyArn: event.keyArn,
    principalArn: event.principalArn,
    principalAccountId: event.principalAccountId,
    eventIds: [event.eventId],
    context: { ...eventContext(event), ...fields.context },
  };
}

/** "A", "A and B", "A, B and C". */
export function listPhrase(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] ?? ''}`;
}
