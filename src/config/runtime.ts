import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { loadConfig } from './loader.js';
import type { KeytrailConfig } from './schema.js';

/**
 * The Lambda functions' environment, read once at cold start. Variable names are a contract with
 * serverless.yml; every other setting comes from the bundled configuration file (KEYTRAIL_CONFIG).
 */
export const RuntimeEnvSchema = z.object({
  /** Bucket of the Parquet lake, the findings ledger and the reports. */
  KEYTRAIL_LAKE_BUCKET: z
    .string({ error: 'is required: the name of the lake bucket' })
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens), not an ARN or s3:// URI'),
  /** Prefix of the `kms_events` table in the lake bucket. */
  KEYTRAIL_LAKE_PREFIX: prefixSchema('kms_events/'),
  /** Prefix of the findings ledger (one object per finding and sink). */
  KEYTRAIL_LEDGER_PREFIX: prefixSchema('ledger/'),
  KEYTRAIL_SNS_TOPIC_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+(\.fifo)?$/, 'must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)')
    .optional(),
  /** Bus name or ARN. */
  KEYTRAIL_EVENT_BUS: z.string().min(1).optional(),
  /** Path of the bundled configuration file; without it, keytrail.config.{json,yaml,yml} in the working directory. */
  KEYTRAIL_CONFIG: z.string().min(1).optional(),
  KEYTRAIL_CACHE_DIR: z
    .string()
    .refine((dir) => isAbsolute(dir), 'must be an absolute path (Lambda can write only under /tmp)')
    .default('/tmp/keytrail-cache'),
  KEYTRAIL_CACHE_MAX_MB: z.coerce
    .number({ error: 'must be a whole number of megabytes' })
    .int('must be a whole number of megabytes')
    .min(16, 'must be at least 16 (MB)')
    .max(10_240, 'must be at most 10240 (MB): Lambda /tmp is at most 10 GB')
    .default(512),
  KEYTRAIL_S3_ENDPOINT: endpointSchema(),
  KEYTRAIL_SNS_ENDPOINT: endpointSchema(),
  KEYTRAIL_EVENTBRIDGE_ENDPOINT: endpointSchema(),
  /** Set by Lambda; locally the SDK's own default chain applies. */
  AWS_REGION: z.string().min(1).optional(),
  /** Set by Lambda: the function's memory, which DuckDB cannot see for itself. */
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: z.coerce.number().int().positive().optional(),
});

/** What the functions need from their environment, validated. */
export interface RuntimeSettings {
  lakeBucket: string;
  /** `kms_events/`: always ends with `/`, never starts with one. */
  lakePrefix: string;
  ledgerPrefix: string;
  /** Fixed: daily reports go under `reports/daily/`. */
  reportsPrefix: string;
  snsTopicArn: string | null;
  eventBus: string | null;
  configPath: string | null;
  cacheDir: string;
  cacheMaxBytes: number;
  endpoints: { s3: string | null; sns: string | null; eventBridge: string | null };
  region: string | null;
  /** The function's memory in MB (Lambda), or null. */
  memoryMb: number | null;
}

/** Everything a function needs at cold start: the environment and the configuration file it names. */
export interface LambdaSettings {
  settings: RuntimeSettings;
  config: KeytrailConfig;
}

/**
 * Read and validate the functions' environment. Throws a `ConfigError` naming every bad variable,
 * one per line: `KEYTRAIL_CACHE_MAX_MB: must be a whole number of megabytes (got "lots")`.
 */
export function readRuntimeEnv(env: Readonly<Record<string, string | undefined>> = process.env): RuntimeSettings {
  // Lambda passes unset-but-declared variables as empty strings; treat them as unset.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = RuntimeEnvSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? '(environment)');
      const value = present[variable];
      // Values are ours (names, paths, ARNs), never secrets, and showing them saves a round trip.
      const got = value === undefined ? '' : ` (got ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)})`;
      return `${variable}: ${issue.message}${got}`;
    });
    throw new ConfigError(`invalid Lambda environment:\n${lines.join('\n')}`, { cause: parsed.error });
  }
  const e = parsed.data;
  return {
    lakeBucket: e.KEYTRAIL_LAKE_BUCKET,
    lakePrefix: e.KEYTRAIL_LAKE_PREFIX,
    ledgerPrefix: e.KEYTRAIL_LEDGER_PREFIX,
    reportsPrefix: 'reports/',
    snsTopicArn: e.KEYTRAIL_SNS_TOPIC_ARN ?? null,
    eventBus: e.KEYTRAIL_EVENT_BUS ?? null,
    configPath: e.KEYTRAIL_CONFIG ?? null,
    cacheDir: e.KEYTRAIL_CACHE_DIR,
    cacheMaxBytes: e.KEYTRAIL_CACHE_MAX_MB * 1024 * 1024,
    endpoints: {
      s3: e.KEYTRAIL_S3_ENDPOINT ?? null,
      sns: e.KEYTRAIL_SNS_ENDPOINT ?? null,
      eventBridge: e.KEYTRAIL_EVENTBRIDGE_ENDPOINT ?? null,
    },
    region: e.AWS_REGION ?? null,
    memoryMb: e.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? null,
  };
}

/**
 * Cold start: the environment, then the bundled configuration it names (KEYTRAIL_CONFIG, with
 * KEYTRAIL_SNS_TOPIC_ARN / KEYTRAIL_EVENT_BUS overriding its alert destinations). Any problem is a
 * `ConfigError` naming the variable, or the file and field, so the function fails its init instead
 * of every invocation.
 */
export async function loadLambdaSettings(env: Readonly<Record<string, string | undefined>> = process.env): Promise<LambdaSettings> {
  const settings = readRuntimeEnv(env);
  // loadConfig's errors already name the file (and KEYTRAIL_CONFIG when it named a missing one) and field.
  const config = await loadConfig({ env });
  return { settings, config };
}

function prefixSchema(fallback: string) {
  return z
    .string()
    .regex(/^[A-Za-z0-9!_.*'()=-]+(\/[A-Za-z0-9!_.*'()=-]+)*\/$/, 'must be a key prefix of safe characters ending with "/" and not starting with one, such as "kms_events/"')
    .default(fallback);
}

function endpointSchema() {
  return z.url({ protocol: /^https?$/, error: 'must be an http(s) URL, such as http://127.0.0.1:4566' }).optional();
}
