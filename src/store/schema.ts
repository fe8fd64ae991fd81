import type { ColumnType } from 'kysely';

/**
 * Kysely's view of the database, for typed query building. Column names are snake_case as stored;
 * timestamps are read back as strings.
 */
export interface KmsEventsTable {
  event_id: string;
  event_time: ColumnType<string, string, never>;
  event_date: ColumnType<string, string, never>;
  event_kind: string;
  event_source: string;
  event_name: string;
  aws_region: string | null;
  recipient_account_id: string | null;
  key_arn: string | null;
  key_id: string | null;
  key_account_id: string | null;
  key_region: string | null;
  alias_name: string | null;
  related_key_arns: string[];
  principal_type: string | null;
  principal_arn: string | null;
  principal_account_id: string | null;
  principal_name: string | null;
  session_issuer_arn: string | null;
  access_key_id: string | null;
  invoked_by: string | null;
  via_service: string | null;
  source_ip: string | null;
  user_agent: string | null;
  vpc_endpoint_id: string | null;
  is_cross_account: boolean;
  outcome: string;
  error_code: string | null;
  error_message: string | null;
  read_only: boolean | null;
  management_event: boolean | null;
  event_category: string | null;
  encryption_context: string | null;
  shared_event_id: string | null;
  request_id: string | null;
  request_parameters: string | null;
  response_elements: string | null;
  additional_event_data: string | null;
  raw: string;
  source_uri: string;
  ingested_at: string;
  destination_key: string | null;
  destination_key_id: string | null;
  service_resource: string | null;
}

export interface RejectedRecordsTable {
  id: string;
  source_uri: string;
  position: number | null;
  reason: string;
  original: string;
  rejected_at: string;
}

export interface Database {
  kms_events: KmsEventsTable;
  rejected_records: RejectedRecordsTable;
}
