/**
 * The ceiling: DuckDB's own `read_json` loading the same trail files into a table of a fresh,
 * file-backed database, with no JavaScript on the data path. Run as a child process by run.ts (so
 * both legs are measured the same way, from the outside), or alone:
 *
 *   npx tsx bench/ingest/ceiling.ts --glob 'DIR/AWSLogs/*\/*\/CloudTrail/*\/*\/*\/*\/*.json.gz' --db x.duckdb [--variant typed|typed-raw]
 */
import { rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { intOption, parseBenchArgs, stringOption } from '../lib/args.js';

type FieldType = 'VARCHAR' | 'TIMESTAMP' | 'BOOLEAN' | 'JSON';
interface FieldTree {
  [name: string]: FieldType | FieldTree | [FieldTree];
}

/**
 * The CloudTrail fields keytrail reads or stores (src/events/cloudtrail-record.ts), typed. Nested
 * objects keytrail keeps whole (`requestParameters`, …) are JSON. Other fields are not read at all,
 * which is also what keeps DuckDB away from the record shapes its auto-detection cannot type
 * (KMS `keyMetadata` has both `AWSAccountId` and `aWSAccountId` across examples: one
 * case-insensitive struct name, twice).
 */
const RECORD_FIELDS: FieldTree = {
  eventVersion: 'VARCHAR',
  eventID: 'VARCHAR',
  // CloudTrail writes UTC with a `Z`; DuckDB's TIMESTAMP parse takes that as is.
  eventTime: 'TIMESTAMP',
  eventSource: 'VARCHAR',
  eventName: 'VARCHAR',
  eventType: 'VARCHAR',
  awsRegion: 'VARCHAR',
  recipientAccountId: 'VARCHAR',
  userIdentity: {
    type: 'VARCHAR',
    principalId: 'VARCHAR',
    arn: 'VARCHAR',
    accountId: 'VARCHAR',
    accessKeyId: 'VARCHAR',
    userName: 'VARCHAR',
    invokedBy: 'VARCHAR',
    sessionContext: { sessionIssuer: { type: 'VARCHAR', principalId: 'VARCHAR', arn: 'VARCHAR', accountId: 'VARCHAR', userName: 'VARCHAR' } },
  },
  sourceIPAddress: 'VARCHAR',
  userAgent: 'VARCHAR',
  vpcEndpointId: 'VARCHAR',
  errorCode: 'VARCHAR',
  errorMessage: 'VARCHAR',
  requestParameters: 'JSON',
  responseElements: 'JSON',
  additionalEventData: 'JSON',
  serviceEventDetails: 'JSON',
  requestID: 'VARCHAR',
  sharedEventID: 'VARCHAR',
  readOnly: 'BOOLEAN',
  managementEvent: 'BOOLEAN',
  eventCategory: 'VARCHAR',
  resources: [{ ARN: 'VARCHAR', accountId: 'VARCHAR', type: 'VARCHAR' }],
};

/** `STRUCT("a" VARCHAR, "b" STRUCT(…), "c" STRUCT(…)[])` for `columns={…}` and casts. */
export function structType(tree: FieldTree): string {
  const fields = Object.entries(tree).map(([name, type]) => {
    const sqlType = typeof type === 'string' ? type : Array.isArray(type) ? `${structType(type[0])}[]` : structType(type);
    return `"${name}" ${sqlType}`;
  });
  return `STRUCT(${fields.join(', ')})`;
}

/** The same tree as a `json_transform` structure (`{"a":"VARCHAR","c":[{…}]}`). */
export function jsonStructure(tree: FieldTree): string {
  return JSON.stringify(tree);
}

/**
 * kms_events-like columns computed in SQL from record struct `r`: what DuckDB can derive cheaply
 * (first resource as the key, issuer ARN, outcome, encryption context). keytrail's normalizer does
 * more (alias and key-id resolution, cross-account, via-service), so this is a lower bound of work.
 */
function projection(r: string): string {
  return `${r}.eventID AS event_id, ${r}.eventTime AS event_time, ${r}.eventTime::DATE AS event_date,
    CASE ${r}.eventType WHEN 'AwsServiceEvent' THEN 'service_event' ELSE 'api_call' END AS event_kind,
    ${r}.eventSource AS event_source, ${r}.eventName AS event_name, ${r}.awsRegion AS aws_region,
    ${r}.recipientAccountId AS recipient_account_id, ${r}.resources[1].ARN AS key_arn,
    list_transform(${r}.resources, x -> x.ARN) AS related_key_arns,
    ${r}.userIdentity.type AS principal_type, ${r}.userIdentity.arn AS principal_arn,
    ${r}.userIdentity.accountId AS principal_account_id, ${r}.userIdentity.userName AS principal_name,
    ${r}.userIdentity.sessionContext.sessionIssuer.arn AS session_issuer_arn,
    ${r}.userIdentity.accessKeyId AS access_key_id, ${r}.userIdentity.invokedBy AS invoked_by,
    ${r}.sourceIPAddress AS source_ip, ${r}.userAgent AS user_agent, ${r}.vpcEndpointId AS vpc_endpoint_id,
    CASE WHEN ${r}.errorCode IS NULL AND ${r}.errorMessage IS NULL THEN 'success' ELSE 'error' END AS outcome,
    ${r}.errorCode AS error_code, ${r}.errorMessage AS error_message, ${r}.readOnly AS read_only,
    ${r}.managementEvent AS management_event, ${r}.eventCategory AS event_category,
    ${r}.requestParameters->'encryptionContext' AS encryption_context,
    ${r}.sharedEventID AS shared_event_id, ${r}.requestID AS request_id,
    ${r}.requestParameters AS request_parameters, ${r}.responseElements AS response_elements,
    ${r}.additionalEventData AS additional_event_data`;
}

export type CeilingVariant = 'typed' | 'typed-raw' | 'typed-pk';

export const CEILING_VARIANTS: Record<CeilingVariant, string> = {
  typed: 'read_json, columns={Records: STRUCT(<keytrail fields>)[]}, unnest, KMS rows only; no raw record',
  'typed-raw': 'read_json, columns={Records: JSON[]}, unnest, json_transform to the same struct, KMS rows only; raw record kept like keytrail',
  'typed-pk': 'as typed, into a table with PRIMARY KEY (event_id) by INSERT OR IGNORE (idempotent, like kms_events)',
};

/**
 * One statement that loads every trail file matched by `$glob` into `ceiling_events`, keeping only
 * KMS records (what keytrail stores; both legs still parse every record).
 */
export function ceilingSql(variant: CeilingVariant, maximumObjectSize: number): string {
  // A delivery file is one JSON object on one line: the whole file is one "object" to read_json.
  const reader = (recordsType: string) =>
    `read_json($glob, columns={Records: '${recordsType}'}, format='newline_delimited', compression='gzip', filename=true, maximum_object_size=${maximumObjectSize})`;
  const typedSelect = `SELECT ${projection('r')}, filename AS source_uri, now()::TIMESTAMP AS ingested_at
      FROM (SELECT unnest(Records) AS r, filename FROM ${reader(`${structType(RECORD_FIELDS)}[]`)})
      WHERE r.eventSource = 'kms.amazonaws.com'`;
  if (variant === 'typed') return `CREATE TABLE ceiling_events AS ${typedSelect}`;
  if (variant === 'typed-pk') return `INSERT OR IGNORE INTO ceiling_events ${typedSelect}`;
  return `CREATE TABLE ceiling_events AS
    SELECT ${projection('s')}, raw, source_uri, now()::TIMESTAMP AS ingested_at
    FROM (
      SELECT raw, json_transform(raw, '${jsonStructure(RECORD_FIELDS)}') AS s, filename AS source_uri
      FROM (SELECT unnest(Records) AS raw, filename FROM ${reader('JSON[]')})
    )
    WHERE s.eventSource = 'kms.amazonaws.com'`;
}

export function isCeilingVariant(value: string): value is CeilingVariant {
  return Object.hasOwn(CEILING_VARIANTS, value);
}

export interface CeilingResult {
  variant: CeilingVariant;
  rows: number;
  /** Opening the fresh database. */
  openMs: number;
  /** The CREATE TABLE … AS SELECT … FROM read_json(…). */
  queryMs: number;
  /** CHECKPOINT and close: the rows are on disk when the leg ends, as keytrail's are. */
  closeMs: number;
  duckdbVersion: string;
  threads: number;
}

export async function runCeiling(options: { glob: string; db: string; threads: number; variant: CeilingVariant; maximumObjectSize: number }): Promise<CeilingResult> {
  rmSync(options.db, { force: true });
  rmSync(`${options.db}.wal`, { force: true });
  let t = performance.now();
  const instance = await DuckDBInstance.create(options.db, { threads: String(options.threads), autoinstall_known_extensions: 'false' });
  const connection = await instance.connect();
  const openMs = performance.now() - t;
  if (options.variant === 'typed-pk') {
    // The table's shape from the query itself (no rows read), then the key keytrail's table has.
    await connection.run(`CREATE TABLE ceiling_events AS ${ceilingSql('typed', options.maximumObjectSize).replace(/^CREATE TABLE ceiling_events AS /, '')} LIMIT 0`, { glob: options.glob });
    await connection.run('ALTER TABLE ceiling_events ADD PRIMARY KEY (event_id)');
  }
  t = performance.now();
  await connection.run(ceilingSql(options.variant, options.maximumObjectSize), { glob: options.glob });
  const queryMs = performance.now() - t;
  const counted = await connection.runAndReadAll('SELECT count(*)::INTEGER AS n, version() AS v FROM ceiling_events');
  const [n, version] = counted.getRows()[0] ?? [0, 'unknown'];
  t = performance.now();
  await connection.run('CHECKPOINT');
  connection.closeSync();
  instance.closeSync();
  const closeMs = performance.now() - t;
  return { variant: options.variant, rows: Number(n), openMs, queryMs, closeMs, duckdbVersion: String(version), threads: options.threads };
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), { glob: 'string', db: 'string', threads: 'string', variant: 'string', 'max-object-size': 'string' });
  const glob = stringOption(args, 'glob');
  const db = stringOption(args, 'db');
  if (!glob || !db) throw new Error('usage: ceiling.ts --glob GLOB --db FILE [--threads 2] [--variant typed|typed-raw] [--max-object-size BYTES]');
  const variant = stringOption(args, 'variant') ?? 'typed';
  if (!isCeilingVariant(variant)) throw new Error(`--variant must be one of ${Object.keys(CEILING_VARIANTS).join(', ')} (got "${variant}")`);
  const result = await runCeiling({
    glob,
    db,
    threads: intOption(args, 'threads', 2),
    variant,
    maximumObjectSize: intOption(args, 'max-object-size', 64 * 2 ** 20),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
