import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { EventBridgeSink } from '../alerts/eventbridge-sink.js';
import type { AlertSink } from '../alerts/sink.js';
import { SnsSink } from '../alerts/sns-sink.js';
import { loadLambdaSettings, type RuntimeSettings } from '../config/runtime.js';
import type { KeytrailConfig } from '../config/schema.js';
import { S3Ledger } from '../findings/s3-ledger.js';
import { logger as sharedLogger } from '../logger.js';
import { KeytrailDb } from '../store/database.js';
import { LakeCache } from '../store/lake-cache.js';
import { S3Lake } from '../store/s3-lake.js';
import { isSendable } from './detect.js';
import { LakeHistory } from './lambda-history.js';
import { FindingPublisher } from './lambda-publish.js';

/**
 * Everything a function builds once per container, at cold start: settings, configuration, AWS
 * clients, the lake and its cache, the ledger and the alert sinks. The DuckDB database is opened on
 * first use ({@link ContainerDatabase}).
 */
export interface LambdaRuntime {
  settings: RuntimeSettings;
  config: KeytrailConfig;
  logger: Logger;
  s3: S3Client;
  /** For the daily report's summary; null without a topic. */
  sns: SNSClient | null;
  database: ContainerDatabase;
  cache: LakeCache;
  lake: S3Lake;
  history: LakeHistory;
  ledger: S3Ledger;
  publisher: FindingPublisher;
}

export interface LoadRuntimeOptions {
  env?: Readonly<Record<string, string | undefined>>;
  logger?: Logger;
}

/**
 * Cold start of a keytrail function. Fails (so Lambda reports an init error) when the environment or
 * the bundled configuration is invalid, naming the variable, or the file and field.
 */
export async function loadRuntime(options: LoadRuntimeOptions = {}): Promise<LambdaRuntime> {
  const env = options.env ?? process.env;
  const log = options.logger ?? sharedLogger;
  const { settings, config } = await loadLambdaSettings(env);
  const region = settings.region ?? config.alerts.region;

  const s3 = new S3Client({
    ...(region ? { region } : {}),
    // An organization trail's bucket often lives in another account and Region than the function.
    followRegionRedirects: true,
    // Local S3-compatible servers answer on one host: path-style addressing.
    ...(settings.endpoints.s3 ? { endpoint: settings.endpoints.s3, forcePathStyle: true } : {}),
  });
  const snsEndpoint = settings.endpoints.sns ?? config.alerts.sns_endpoint;
  const topicArn = config.alerts.sns_topic_arn;
  const sinks: AlertSink[] = [];
  if (topicArn) {
    sinks.push(new SnsSink({ topicArn, logger: log, ...(config.alerts.region ? { region: config.alerts.region } : {}), ...(snsEndpoint ? { endpoint: snsEndpoint } : {}) }));
  }
  if (config.alerts.event_bus) {
    const endpoint = settings.endpoints.eventBridge ?? config.alerts.eventbridge_endpoint;
    sinks.push(
      new EventBridgeSink({
        busName: config.alerts.event_bus,
        logger: log,
        ...(region ? { region } : {}),
        ...(endpoint ? { endpoint } : {}),
      }),
    );
  }
  if (sinks.length === 0) log.warn('no alert destination configured: findings are computed but not sent', { variables: ['KEYTRAIL_SNS_TOPIC_ARN', 'KEYTRAIL_EVENT_BUS'] });

  const cache = new LakeCache({ s3, bucket: settings.lakeBucket, dir: settings.cacheDir, maxBytes: settings.cacheMaxBytes, logger: log });
  const lake = new S3Lake({ s3, bucket: settings.lakeBucket, prefix: settings.lakePrefix, workDir: join(settings.cacheDir, 'outgoing'), cache, logger: log });
  const ledger = new S3Ledger({ s3, bucket: settings.lakeBucket, prefix: settings.ledgerPrefix, logger: log });
  return {
    settings,
    config,
    logger: log,
    s3,
    sns: topicArn ? new SNSClient({ ...(config.alerts.region ? { region: config.alerts.region } : {}), ...(snsEndpoint ? { endpoint: snsEndpoint } : {}) }) : null,
    database: new ContainerDatabase({ dir: join(settings.cacheDir, 'duckdb'), maxBytes: settings.cacheMaxBytes, memoryMb: settings.memoryMb }),
    cache,
    lake,
    history: new LakeHistory(lake, { maxBytes: settings.cacheMaxBytes, logger: log }),
    ledger,
    publisher: new FindingPublisher({ sinks, ledger, minSeverity: config.alerts.min_severity, shouldSend: (f) => isSendable(f), logger: log }),
  };
}

/**
 * The container's one DuckDB database, a file under the cache directory (/tmp), opened on first
 * use. It holds the events of this container's batches and the history loaded from the lake; when
 * the file outgrows `maxBytes` it is recreated empty between batches (`generation` then changes, and
 * the lake history is loaded again as needed).
 */
export class ContainerDatabase {
  private db: KeytrailDb | null = null;
  private opening: Promise<KeytrailDb> | null = null;
  private gen = 0;
  readonly path: string;

  constructor(private readonly options: { dir: string; maxBytes: number; memoryMb: number | null }) {
    this.path = join(options.dir, 'keytrail.duckdb');
    // A file from an earlier process in this sandbox: its contents are not tracked, start over.
    rmSync(options.dir, { recursive: true, force: true });
  }

  /** Changes whenever the database is recreated. */
  get generation(): number {
    return this.gen;
  }

  async get(): Promise<KeytrailDb> {
    if (this.db) return this.db;
    this.opening ??= this.open();
    this.db = await this.opening;
    this.opening = null;
    return this.db;
  }

  /** Between batches: recreate the database when its file is larger than the budget. */
  async resetIfOversized(): Promise<boolean> {
    if (!this.db || this.fileBytes() <= this.options.maxBytes) return false;
    this.close();
    rmSync(this.options.dir, { recursive: true, force: true });
    this.gen += 1;
    await this.get();
    return true;
  }

  fileBytes(): number {
    let bytes = 0;
    for (const file of [this.path, `${this.path}.wal`]) if (existsSync(file)) bytes += statSync(file).size;
    return bytes;
  }

  close(): void {
    this.db?.close();
    this.db = null;
  }

  private async open(): Promise<KeytrailDb> {
    const db = await KeytrailDb.open({ path: this.path, tempDirectory: join(this.options.dir, 'tmp') });
    // DuckDB sizes its memory from the host, not the function's memory setting.
    if (this.options.memoryMb !== null) await db.exec(`SET memory_limit = '${Math.max(128, Math.floor(this.options.memoryMb / 2))}MB'`);
    return db;
  }
}

/** How long a ledger claim lasts: the invocation's remaining time plus a margin for clock skew. */
export function leaseFor(context: { getRemainingTimeInMillis(): number } | undefined, fallbackMs = 15 * 60_000): number {
  const remaining = context?.getRemainingTimeInMillis();
  return (typeof remaining === 'number' && Number.isFinite(remaining) && remaining > 0 ? remaining : fallbackMs) + 30_000;
}
