import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadLambdaSettings, readRuntimeEnv } from '../../../src/config/runtime.js';
import { ConfigError } from '../../../src/errors.js';

/** Cold start: the functions' environment and bundled configuration, validated with clear errors. */

let dir: string;
const base = { KEYTRAIL_LAKE_BUCKET: 'keytrail-lake' };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keytrail-runtime-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('Lambda runtime settings', () => {
  it('applies the documented defaults', () => {
    expect(readRuntimeEnv(base)).toEqual({
      lakeBucket: 'keytrail-lake',
      lakePrefix: 'kms_events/',
      ledgerPrefix: 'ledger/',
      reportsPrefix: 'reports/',
      snsTopicArn: null,
      eventBus: null,
      configPath: null,
      cacheDir: '/tmp/keytrail-cache',
      cacheMaxBytes: 512 * 1024 * 1024,
      endpoints: { s3: null, sns: null, eventBridge: null },
      region: null,
      memoryMb: null,
    });
  });

  it('reads every variable serverless.yml sets', () => {
    const settings = readRuntimeEnv({
      ...base,
      KEYTRAIL_LAKE_PREFIX: 'lake/kms_events/',
      KEYTRAIL_LEDGER_PREFIX: 'state/ledger/',
      KEYTRAIL_SNS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:keytrail-alerts',
      KEYTRAIL_EVENT_BUS: 'security',
      KEYTRAIL_CONFIG: '/var/task/keytrail.config.yaml',
      KEYTRAIL_CACHE_DIR: '/tmp/kt',
      KEYTRAIL_CACHE_MAX_MB: '2048',
      KEYTRAIL_S3_ENDPOINT: 'http://127.0.0.1:4566',
      KEYTRAIL_SNS_ENDPOINT: 'http://127.0.0.1:4567',
      KEYTRAIL_EVENTBRIDGE_ENDPOINT: 'http://127.0.0.1:4568',
      AWS_REGION: 'eu-west-1',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769',
    });
    expect(settings).toMatchObject({
      lakePrefix: 'lake/kms_events/',
      ledgerPrefix: 'state/ledger/',
      snsTopicArn: 'arn:aws:sns:eu-west-1:111122223333:keytrail-alerts',
      eventBus: 'security',
      cacheDir: '/tmp/kt',
      cacheMaxBytes: 2048 * 1024 * 1024,
      endpoints: { s3: 'http://127.0.0.1:4566', sns: 'http://127.0.0.1:4567', eventBridge: 'http://127.0.0.1:4568' },
      region: 'eu-west-1',
      memoryMb: 1769,
    });
  });

  it.each([
    [{}, /KEYTRAIL_LAKE_BUCKET: is required/],
    [{ KEYTRAIL_LAKE_BUCKET: 's3://keytrail-lake' }, /KEYTRAIL_LAKE_BUCKET: must be an S3 bucket name.*\(got "s3:\/\/keytrail-lake"\)/],
    [{ ...base, KEYTRAIL_CACHE_MAX_MB: 'lots' }, /KEYTRAIL_CACHE_MAX_MB: must be a whole number of megabytes/],
    [{ ...base, KEYTRAIL_CACHE_MAX_MB: '20000' }, /KEYTRAIL_CACHE_MAX_MB: must be at most 10240/],
    [{ ...base, KEYTRAIL_CACHE_DIR: 'cache' }, /KEYTRAIL_CACHE_DIR: must be an absolute path/],
    [{ ...base, KEYTRAIL_LAKE_PREFIX: '/kms_events' }, /KEYTRAIL_LAKE_PREFIX: must be a key prefix/],
    [{ ...base, KEYTRAIL_SNS_TOPIC_ARN: 'keytrail-alerts' }, /KEYTRAIL_SNS_TOPIC_ARN: must be an SNS topic ARN/],
    [{ ...base, KEYTRAIL_S3_ENDPOINT: '127.0.0.1:4566' }, /KEYTRAIL_S3_ENDPOINT: must be an http\(s\) URL/],
  ])('names the variable at fault: %j', (env, message) => {
    expect(() => readRuntimeEnv(env)).toThrow(ConfigError);
    expect(() => readRuntimeEnv(env)).toThrow(message);
  });

  it('treats empty variables as unset', () => {
    expect(readRuntimeEnv({ ...base, KEYTRAIL_LAKE_PREFIX: '', KEYTRAIL_SNS_TOPIC_ARN: '' })).toMatchObject({ lakePrefix: 'kms_events/', snsTopicArn: null });
  });

  it('names the configuration file and field, and lets the environment set the alert topic', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ detection: { lookback_days: -3 } }));
    await expect(loadLambdaSettings({ ...base, KEYTRAIL_CONFIG: bad })).rejects.toThrow(/bad\.json: detection\.lookback_days:/);
    await expect(loadLambdaSettings({ ...base, KEYTRAIL_CONFIG: join(dir, 'missing.json') })).rejects.toThrow(/missing\.json: no such configuration file \(named by KEYTRAIL_CONFIG\)/);

    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ detection: { lookback_days: 30 } }));
    const { config } = await loadLambdaSettings({ ...base, KEYTRAIL_CONFIG: good, KEYTRAIL_SNS_TOPIC_ARN: 'arn:aws:sns:us-east-1:111122223333:t' });
    expect(config.detection.lookback_days).toBe(30);
    expect(config.alerts.sns_topic_arn).toBe('arn:aws:sns:us-east-1:111122223333:t');
  });

  it('fails the cold start of a function, naming the variable', async () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { KEYTRAIL_LAKE_BUCKET: 'keytrail-lake', KEYTRAIL_CACHE_MAX_MB: 'lots', KEYTRAIL_CACHE_DIR: join(dir, 'cache'), POWERTOOLS_LOG_LEVEL: 'SILENT' });
      vi.resetModules();
      await expect(import('../../../functions/ingest-events.js')).rejects.toThrow(/KEYTRAIL_CACHE_MAX_MB/);
    } finally {
      process.env = saved;
    }
  });
});
