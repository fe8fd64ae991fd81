/**
 * One normalized KMS event: a row of the `kms_events` table in TypeScript form (camelCase). The one
 * mapper to SQL column names lives in `src/store/columns.ts`.
 */
export interface KmsEvent {
  eventId: string;
  /** ISO-8601 UTC, millisecond precision (`2024-01-02T03:04:05.000Z`). */
  eventTime: string;
  /** `yyyy-mm-dd` of eventTime, UTC. */
  eventDate: string;
  eventKind: EventKind;
  eventSource: string;
  eventName: string;
  awsRegion: string | null;
  recipientAccountId: string | null;
  keyArn: string | null;
  keyId: string | null;
  keyAccountId: string | null;
  keyRegion: string | null;
  aliasName: string | null;
  relatedKeyArns: string[];
  principalType: string | null;
  principalArn: string | null;
  principalAccountId: string | null;
  principalName: string | null;
  sessionIssuerArn: string | null;
  accessKeyId: string | null;
  invokedBy: string | null;
  viaService: string | null;
  sourceIp: string | null;
  userAgent: string | null;
  vpcEndpointId: string | null;
  isCrossAccount: boolean;
  outcome: Outcome;
  errorCode: string | null;
  errorMessage: string | null;
  readOnly: boolean | null;
  managementEvent: boolean | null;
  eventCategory: string | null;
  /** JSON text, or null when the call carried none. */
  encryptionContext: string | null;
  sharedEventId: string | null;
  requestId: string | null;
  requestParameters: string | null;
  responseElements: string | null;
  additionalEventData: string | null;
  /** The original record (or EventBridge event for lifecycle events), as JSON text. */
  raw: string;
  sourceUri: string;
  /** ISO-8601 UTC. */
  ingestedAt: string;
  /**
   * ReEncrypt only: the key the ciphertext was re-encrypted into, as logged — its ARN from
   * `resources[]`, else `requestParameters.destinationKeyId` when that is a key ARN or a key id
   * (null for an alias: which key it named then is not in the record).
   */
  destinationKey: string | null;
  /** The key id of `destinationKey` (the column per-key reads filter and compaction sorts on). */
  destinationKeyId: string | null;
  /** The encryption-context value `viaService` was derived from: the resource the call was for (`aws:s3:arn` → the object ARN). */
  serviceResource: string | null;
}

export type EventKind = 'api_call' | 'service_event' | 'lifecycle' | 'network';
export type Outcome = 'success' | 'error';

/** Where a record came from, for `source_uri` and for rejection reports. */
export interface RecordOrigin {
  /** File path, `s3://bucket/key`, or `eventbridge:<id>`. */
  uri: string;
  /** 0-based index of the record within its source (line or `Records[]` position). */
  position: number;
}

/** Input that could not become a row: kept with its reason in `rejected_records`. */
export interface Rejection {
  sourceUri: string;
  position: number | null;
  /** Names what is wrong: the field and the problem. */
  reason: string;
  /** The original text (possibly truncated for huge inputs). */
  original: string;
}

/**
 * What the normalizer makes of one input value: a row, a rejection (bad input, kept with its reason),
 * or ignored (a well-formed record that is not about KMS, such as the rest of a trail; counted only).
 */
export type NormalizeResult =
  | { kind: 'event'; event: KmsEvent }
  | { kind: 'rejected'; rejection: Rejection }
  | { kind: 'ignored'; reason: string };
