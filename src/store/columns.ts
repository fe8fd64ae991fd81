import type { KmsEvent } from '../normalize/types.js';

/**
 * The one mapper between `KmsEvent` (camelCase) and the `kms_events` table (snake_case). Its order is
 * the table's column order, the appender's value order and the Parquet schema's order. A column added
 * after the first release goes at the end with `since` = the migration that adds it.
 */
export const KMS_EVENT_COLUMNS = [
  { name: 'event_id', field: 'eventId', sql: 'VARCHAR NOT NULL' },
  { name: 'event_time', field: 'eventTime', sql: 'TIMESTAMP NOT NULL' },
  { name: 'event_date', field: 'eventDate', sql: 'DATE NOT NULL' },
  { name: 'event_kind', field: 'eventKind', sql: 'VARCHAR NOT NULL' },
  { name: 'event_source', field: 'eventSource', sql: 'VARCHAR NOT NULL' },
  { name: 'event_name', field: 'eventName', sql: 'VARCHAR NOT NULL' },
  { name: 'aws_region', field: 'awsRegion', sql: 'VARCHAR' },
  { name: 'recipient_account_id', field: 'recipientAccountId', sql: 'VARCHAR' },
  { name: 'key_arn', field: 'keyArn', sql: 'VARCHAR' },
  { name: 'key_id', field: 'keyId', sql: 'VARCHAR' },
  { name: 'key_account_id', field: 'keyAccountId', sql: 'VARCHAR' },
  { name: 'key_region', field: 'keyRegion', sql: 'VARCHAR' },
  { name: 'alias_name', field: 'aliasName', sql: 'VARCHAR' },
  { name: 'related_key_arns', field: 'relatedKeyArns', sql: 'VARCHAR[]' },
  { name: 'principal_type', field: 'principalType', sql: 'VARCHAR' },
  { name: 'principal_arn', field: 'principalArn', sql: 'VARCHAR' },
  { name: 'principal_account_id', field: 'principalAccountId', sql: 'VARCHAR' },
  { name: 'principal_name', field: 'principalName', sql: 'VARCHAR' },
  { name: 'session_issuer_arn', field: 'sessionIssuerArn', sql: 'VARCHAR' },
  { name: 'access_key_id', field: 'accessKeyId', sql: 'VARCHAR' },
  { name: 'invoked_by', field: 'invokedBy', sql: 'VARCHAR' },
  { name: 'via_service', field: 'viaService', sql: 'VARCHAR' },
  { name: 'source_ip', field: 'sourceIp', sql: 'VARCHAR' },
  { name: 'user_agent', field: 'userAgent', sql: 'VARCHAR' },
  { name: 'vpc_endpoint_id', field: 'vpcEndpointId', sql: 'VARCHAR' },
  { name: 'is_cross_account', field: 'isCrossAccount', sql: 'BOOLEAN NOT NULL' },
  { name: 'outcome', field: 'outcome', sql: 'VARCHAR NOT NULL' },
  { name: 'error_code', field: 'errorCode', sql: 'VARCHAR' },
  { name: 'error_message', field: 'errorMessage', sql: 'VARCHAR' },
  { name: 'read_only', field: 'readOnly', sql: 'BOOLEAN' },
  { name: 'management_event', field: 'managementEvent', sql: 'BOOLEAN' },
  { name: 'event_category', field: 'eventCategory', sql: 'VARCHAR' },
  { name: 'encryption_context', field: 'encryptionContext', sql: 'JSON' },
  { name: 'shared_event_id', field: 'sharedEventId', sql: 'VARCHAR' },
  { name: 'request_id', field: 'requestId', sql: 'VARCHAR' },
  { name: 'request_parameters', field: 'requestParameters', sql: 'JSON' },
  { name: 'response_elements', field: 'responseElements', sql: 'JSON' },
  { name: 'additional_event_data', field: 'additionalEventData', sql: 'JSON' },
  { name: 'raw', field: 'raw', sql: 'JSON NOT NULL' },
  { name: 'source_uri', field: 'sourceUri', sql: 'VARCHAR NOT NULL' },
  { name: 'ingested_at', field: 'ingestedAt', sql: 'TIMESTAMP NOT NULL' },
  // Derived at ingest so a per-key question reads no JSON and no other key's rows.
  { name: 'destination_key', field: 'destinationKey', sql: 'VARCHAR', since: 3 },
  { name: 'destination_key_id', field: 'destinationKeyId', sql: 'VARCHAR', since: 3 },
  { name: 'service_resource', field: 'serviceResource', sql: 'VARCHAR', since: 3 },
] as const satisfies readonly { name: string; field: keyof KmsEvent; sql: string; since?: number }[];

export type KmsEventColumn = (typeof KMS_EVENT_COLUMNS)[number]['name'];

/** `kms_events` row as read back from SQL, keyed by column name. */
export type KmsEventRow = { [C in (typeof KMS_EVENT_COLUMNS)[number] as C['name']]: unknown };

/** Map a SQL row (snake_case, JSON-converted values) back to a `KmsEvent`. */
export function rowToEvent(row: Record<string, unknown>): KmsEvent {
  const out: Record<string, unknown> = {};
  for (const c of KMS_EVENT_COLUMNS) out[c.field] = row[c.name] ?? null;
  const event = out as unknown as KmsEvent;
  event.relatedKeyArns = Array.isArray(row['related_key_arns']) ? (row['related_key_arns'] as string[]) : [];
  event.eventTime = toIso(row['event_time']);
  event.ingestedAt = toIso(row['ingested_at']);
  event.eventDate = String(row['event_date']).slice(0, 10);
  return event;
}

function toIso(value: unknown): string {
  if (typeof value !== 'string') return String(value);
  // DuckDB's JSON form of a TIMESTAMP is `2024-01-02 03:04:05.123`; ours is ISO-8601 UTC.
  const iso = value.includes('T') ? value : `${value.replace(' ', 'T')}`;
  const d = new Date(iso.endsWith('Z') ? iso : `${iso}Z`);
  return Number.isNaN(d.getTime()) ? value : d.toISOString();
}
