import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { promisify } from 'node:util';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRuntimeEnv } from '../../src/config/runtime.js';
import { API_CALL_DETAIL_TYPE } from '../../src/events/eventbridge.js';
import { KMS_LIFECYCLE_DETAIL_TYPES } from '../../src/events/kms-lifecycle-event.js';
import { normalizeValue, TRAIL_CONFIGURATION_EVENTS } from '../../src/normalize/normalize.js';
import type { KmsEvent } from '../../src/normalize/types.js';
import { KeytrailDb } from '../../src/store/database.js';
import { EventStore } from '../../src/store/event-store.js';
import { exportLake } from '../../src/store/lake.js';
import { ScheduledInputSchema } from '../../src/pipeline/lambda-scheduled.js';
import { LakeCache } from '../../src/store/lake-cache.js';
import { S3Lake } from '../../src/store/s3-lake.js';
import { asEventBridge, corpusLines, corpusRecord, lifecycleEvent } from '../support/corpus.js';
import { packageStack, resource, resourcesOfType, type PackagedStack, type Template } from './support/stack.js';
import { listZip, readZipEntry, type ZipEntry } from './support/zip.js';

const run = promisify(execFile);

const TRAIL_BUCKET = 'example-org-trail';
const TRAIL_BUCKET_ACCOUNT = '222233334444';
const TRAIL_KEY = 'arn:aws:kms:us-east-1:222233334444:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const CONFIG = { trusted_accounts: ['111122223333'] };
/** Lambda's limit on unzipped code: "250 MB" = 262,144,000 bytes. */
const LAMBDA_UNZIPPED_LIMIT = 262_144_000;

/** What each function is, and what it may touch. */
const FUNCTIONS = {
  ingestEvents: {
    logicalId: 'IngestEventsLambdaFunction',
    handler: 'functions/ingest-events.handler',
    role: 'IngestEventsRole',
    logGroup: 'IngestEventsLogGroup',
    queue: 'EventsQueue',
    dlq: 'EventsDlq',
    lakePrefixes: ['kms_events/', 'ledger/'],
    actions: [
      'logs:CreateLogStream', 'logs:PutLogEvents',
      'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes',
      's3:GetObject', 's3:PutObject', 's3:ListBucket',
      'sns:Publish', 'kms:GenerateDataKey', 'kms:Decrypt', 'events:PutEvents',
    ],
  },
  ingestTrailFiles: {
    logicalId: 'IngestTrailFilesLambdaFunction',
    handler: 'functions/ingest-trail-files.handler',
    role: 'IngestTrailFilesRole',
    logGroup: 'IngestTrailFilesLogGroup',
    queue: 'TrailFilesQueue',
    dlq: 'TrailFilesDlq',
    lakePrefixes: ['kms_events/', 'ledger/'],
    actions: [
      'logs:CreateLogStream', 'logs:PutLogEvents',
      'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes',
      's3:GetObject', 's3:PutObject', 's3:ListBucket',
      'sns:Publish', 'kms:GenerateDataKey', 'kms:Decrypt', 'events:PutEvents',
    ],
  },
  scheduled: {
    logicalId: 'ScheduledLambdaFunction',
    handler: 'functions/scheduled.handler',
    role: 'ScheduledRole',
    logGroup: 'ScheduledLogGroup',
    queue: null,
    dlq: null,
    lakePrefixes: ['kms_events/', 'ledger/', 'reports/'],
    actions: [
      'logs:CreateLogStream', 'logs:PutLogEvents',
      's3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:ListBucket',
      'sns:Publish', 'kms:GenerateDataKey', 'kms:Decrypt', 'events:PutEvents',
    ],
  },
} as const;
type FunctionName = keyof typeof FUNCTIONS;
const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

function statements(template: Template, roleId: string): Statement[] {
  const role = resource(template, roleId);
  expect(role.Type).toBe('AWS::IAM::Role');
  return (role.Properties['Policies'] as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) => p.PolicyDocument.Statement);
}

function statement(template: Template, roleId: string, sid: string): Statement {
  const found = statements(template, roleId).find((s) => s.Sid === sid);
  if (!found) throw new Error(`${roleId} has no statement ${sid}`);
  return found;
}

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** `{ "Fn::Sub": "…" }` → its string; anything else as JSON, so that a '*' is found wherever it hides. */
function resourceText(value: unknown): string {
  if (typeof value === 'string') return value;
  const sub = (value as Record<string, unknown>)['Fn::Sub'];
  return typeof sub === 'string' ? sub : JSON.stringify(value);
}

/**
 * Every module a bundle loads: its import statements and dynamic imports as esbuild parses them
 * (so text in strings and comments does not count), and the `__require("…")` calls through which
 * esbuild's ESM output loads what CommonJS dependencies require.
 */
async function importsOf(code: string): Promise<Set<string>> {
  const found = new Set<string>();
  await build({
    stdin: { contents: code, loader: 'js' },
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
    plugins: [
      {
        name: 'collect-imports',
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            found.add(args.path);
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  for (const m of code.matchAll(/\b__require\("([^"]+)"\)/g)) found.add(m[1] ?? '');
  return found;
}

describe('Stack: osls package of serverless.yml', () => {
  let stack: PackagedStack;
  let template: Template;
  const zips = new Map<FunctionName, { zip: Buffer; entries: ZipEntry[] }>();

  beforeAll(async () => {
    stack = await packageStack({
      stage: 'test',
      params: { trailBucketName: TRAIL_BUCKET, trailBucketAccountId: TRAIL_BUCKET_ACCOUNT, trailKmsKeyArn: TRAIL_KEY },
      files: { 'keytrail.config.json': JSON.stringify(CONFIG) },
    });
    template = stack.template;
    for (const name of FUNCTION_NAMES) {
      const zip = readFileSync(join(stack.outDir, `${name}.zip`));
      zips.set(name, { zip, entries: listZip(zip) });
    }
  }, 300_000);
  afterAll(() => stack?.cleanup());

  const zipOf = (name: FunctionName) => {
    const found = zips.get(name);
    if (!found) throw new Error(`no zip for ${name}`);
    return found;
  };

  describe('EventBridge rules', () => {
    it('sends KMS API calls, KMS service events and the three key lifecycle events to the events queue', () => {
      const rule = resource(template, 'KmsEventsRule').Properties;
      expect(rule['EventPattern']).toEqual({
        source: ['aws.kms'],
        'detail-type': [
          'AWS API Call via CloudTrail',
          'AWS Service Event via CloudTrail',
          'KMS CMK Rotation',
          'KMS CMK Deletion',
          'KMS Imported Key Material Expiration',
        ],
      });
      // Everything the ingest schemas accept, and nothing they would reject.
      expect(rule['EventPattern']['detail-type']).toEqual(expect.arrayContaining([API_CALL_DETAIL_TYPE, ...KMS_LIFECYCLE_DETAIL_TYPES]));
      expect(rule['State']).toBe('ENABLED');
      expect(rule['Targets']).toEqual([
        { Id: 'keytrail-events-queue', Arn: { 'Fn::GetAtt': ['EventsQueue', 'Arn'] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['EventsDlq', 'Arn'] } } },
      ]);
    });

    it('sends the CloudTrail calls that change what a trail logs, the set the normalizer keeps', () => {
      const rule = resource(template, 'TrailConfigurationRule').Properties;
      expect(rule['EventPattern']).toEqual({
        source: ['aws.cloudtrail'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['cloudtrail.amazonaws.com'],
          eventName: ['PutEventSelectors', 'PutAdvancedEventSelectors', 'StopLogging', 'DeleteTrail', 'UpdateTrail', 'CreateTrail', 'StartLogging'],
        },
      });
      expect(new Set(rule['EventPattern'].detail.eventName)).toEqual(new Set(TRAIL_CONFIGURATION_EVENTS));
      expect(rule['Targets'][0].Arn).toEqual({ 'Fn::GetAtt': ['EventsQueue', 'Arn'] });
    });

    it('lets only those two rules send to the events queue and to its DLQ', () => {
      const rules = [{ 'Fn::GetAtt': ['KmsEventsRule', 'Arn'] }, { 'Fn::GetAtt': ['TrailConfigurationRule', 'Arn'] }];
      for (const [policyId, queueId] of [['EventsQueuePolicy', 'EventsQueue'], ['EventsDlqPolicy', 'EventsDlq']] as const) {
        const policy = resource(template, policyId).Properties;
        expect(policy['Queues']).toEqual([{ Ref: queueId }]);
        expect(policy['PolicyDocument'].Statement).toEqual([
          {
            Sid: expect.any(String),
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
            Condition: { ArnEquals: { 'aws:SourceArn': rules } },
          },
        ]);
      }
    });
  });

  describe('queues', () => {
    it('moves a message to its own DLQ after 5 receives, and keeps dead letters 14 days', () => {
      for (const [queueId, dlqId] of [['EventsQueue', 'EventsDlq'], ['TrailFilesQueue', 'TrailFilesDlq']]) {
        const queue = resource(template, queueId as string).Properties;
        expect(queue['RedrivePolicy']).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 });
        expect(resource(template, dlqId as string).Properties['MessageRetentionPeriod']).toBe(1_209_600);
        expect(resource(template, dlqId as string).Properties['RedrivePolicy']).toBeUndefined();
        for (const id of [queueId, dlqId]) expect(resource(template, id as string).Properties['SqsManagedSseEnabled']).toBe(true);
      }
    });

    it('feeds each queue to its function in batches, reporting partial batch failures', () => {
      const mappings = Object.values(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'));
      expect(mappings).toHaveLength(2);
      for (const name of ['ingestEvents', 'ingestTrailFiles'] as const) {
        const fn = FUNCTIONS[name];
        const mapping = mappings.find((m) => JSON.stringify(m.Properties['FunctionName']).includes(fn.logicalId));
        expect(mapping, name).toBeDefined();
        expect(mapping?.Properties).toMatchObject({
          EventSourceArn: { 'Fn::GetAtt': [fn.queue, 'Arn'] },
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          Enabled: true,
        });
        // The mapping's permissions live in the role: it must exist first.
        expect(mapping?.DependsOn).toContain(fn.role);
      }
    });

    it('hides a received message for six times its function timeout, so no second container takes it meanwhile', () => {
      for (const name of ['ingestEvents', 'ingestTrailFiles'] as const) {
        const timeout = resource(template, FUNCTIONS[name].logicalId).Properties['Timeout'] as number;
        expect(resource(template, FUNCTIONS[name].queue).Properties['VisibilityTimeout']).toBeGreaterThanOrEqual(6 * timeout);
      }
    });

    it("accepts trail file notifications only from the trail bucket, in the bucket owner's account (and no SNS topic unless one is named)", () => {
      const policy = resource(template, 'TrailFilesQueuePolicy').Properties;
      expect(policy['Queues']).toEqual([{ Ref: 'TrailFilesQueue' }]);
      expect(policy['PolicyDocument'].Statement).toEqual([
        {
          Sid: 'TrailBucketNotifications',
          Effect: 'Allow',
          Principal: { Service: 's3.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': ['TrailFilesQueue', 'Arn'] },
          Condition: {
            ArnEquals: { 'aws:SourceArn': { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${TRAIL_BUCKET}` } },
            StringEquals: { 'aws:SourceAccount': TRAIL_BUCKET_ACCOUNT },
          },
        },
      ]);
      // Without trailBucketAccountId the stack's own account is the owner.
      const raw = JSON.stringify(stack.raw.Resources['TrailFilesQueuePolicy']);
      expect(raw).toContain('{"Ref":"AWS::AccountId"}');
    });
  });

  describe('lake bucket', () => {
    it('is encrypted, blocks every kind of public access, and is kept when the stack goes', () => {
      const bucket = resource(template, 'LakeBucket');
      expect(bucket.Properties['BucketEncryption']).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      });
      expect(bucket.Properties['PublicAccessBlockConfiguration']).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    });

    it('refuses every request that does not use TLS', () => {
      const policy = resource(template, 'LakeBucketPolicy').Properties;
      expect(policy['Bucket']).toEqual({ Ref: 'LakeBucket' });
      expect(policy['PolicyDocument'].Statement).toContainEqual({
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [{ 'Fn::GetAtt': ['LakeBucket', 'Arn'] }, { 'Fn::Sub': '${LakeBucket.Arn}/*' }],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      });
    });

    it('expires Athena results, and no current object under the lake prefixes', () => {
      const rules = resource(template, 'LakeBucket').Properties['LifecycleConfiguration'].Rules as { Prefix?: string; ExpirationInDays?: number }[];
      const expiring = rules.filter((r) => r.ExpirationInDays !== undefined);
      expect(expiring.map((r) => [r.Prefix, r.ExpirationInDays])).toEqual([['athena-results/', 7]]);
    });
  });

  describe('alerts', () => {
    it('encrypts the alert topic with a key CloudWatch alarms may use, and subscribes no email unless one is given', () => {
      expect(resource(template, 'AlertTopic').Properties['KmsMasterKeyId']).toEqual({ Ref: 'AlertsKey' });
      const keyPolicy = resource(template, 'AlertsKey').Properties['KeyPolicy'].Statement as Statement[];
      expect(keyPolicy).toContainEqual(expect.objectContaining({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }));
      expect(stack.raw.Resources['AlertEmailSubscription']?.Condition).toBe('HasAlertEmail');
      expect(template.Resources['AlertEmailSubscription']).toBeUndefined();
    });

    it('alarms on the alert topic as soon as a DLQ holds a message', () => {
      const alarms = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'));
      for (const dlq of ['EventsDlq', 'TrailFilesDlq']) {
        const alarm = alarms.find((a) => JSON.stringify(a.Properties['Dimensions']).includes(`"${dlq}"`));
        expect(alarm?.Properties, dlq).toMatchObject({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          AlarmActions: [{ Ref: 'AlertTopic' }],
        });
      }
    });
  });

  describe('IAM: least privilege per function', () => {
    it('runs each function under its own role, and creates no shared default role', () => {
      for (const name of FUNCTION_NAMES) {
        expect(resource(template, FUNCTIONS[name].logicalId).Properties['Role']).toEqual({ 'Fn::GetAtt': [FUNCTIONS[name].role, 'Arn'] });
      }
      expect(template.Resources['IamRoleLambdaExecution']).toBeUndefined();
      expect(Object.keys(resourcesOfType(template, 'AWS::IAM::Role')).sort()).toEqual(FUNCTION_NAMES.map((n) => FUNCTIONS[n].role).sort());
    });

    it('names a resource in every statement: no "*" resource and no wildcard action', () => {
      for (const name of FUNCTION_NAMES) {
        for (const s of statements(template, FUNCTIONS[name].role)) {
          expect(s.Effect).toBe('Allow');
          for (const r of asList(s.Resource)) expect(resourceText(r), `${name} ${s.Sid}`).not.toBe('*');
          for (const a of asList(s.Action)) expect(a, `${name} ${s.Sid}`).not.toMatch(/\*/);
        }
      }
    });

    it('gives each role exactly the actions its function uses', () => {
      for (const name of FUNCTION_NAMES) {
        const actions = new Set(statements(template, FUNCTIONS[name].role).flatMap((s) => asList(s.Action)));
        expect([...actions].sort(), name).toEqual([...FUNCTIONS[name].actions].sort());
      }
    });

    it("lets a function write logs only to its own log group, and consume only its own queue", () => {
      for (const name of FUNCTION_NAMES) {
        const fn = FUNCTIONS[name];
        expect(statement(template, fn.role, 'OwnLogGroup').Resource).toEqual({ 'Fn::GetAtt': [fn.logGroup, 'Arn'] });
        const sqs = statements(template, fn.role).filter((s) => asList(s.Action).some((a) => a.startsWith('sqs:')));
        expect(sqs.map((s) => s.Resource)).toEqual(fn.queue === null ? [] : [{ 'Fn::GetAtt': [fn.queue, 'Arn'] }]);
      }
    });

    it('scopes lake access to the prefixes each function uses', () => {
      for (const name of FUNCTION_NAMES) {
        const fn = FUNCTIONS[name];
        expect(statement(template, fn.role, 'LakeObjects').Resource).toEqual(fn.lakePrefixes.map((p) => ({ 'Fn::Sub': `\${LakeBucket.Arn}/${p}*` })));
        // Unconditioned on purpose: without it S3 answers a missing ledger entry with 403, not 404 (infra/iam.yml).
        expect(statement(template, fn.role, 'LakeList')).toMatchObject({ Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': ['LakeBucket', 'Arn'] } });
        // Only compaction deletes.
        expect(asList(statement(template, fn.role, 'LakeObjects').Action).includes('s3:DeleteObject'), name).toBe(name === 'scheduled');
      }
    });

    it("lets only ingestTrailFiles read the trail's log files, and decrypt them only through S3", () => {
      expect(statement(template, 'IngestTrailFilesRole', 'ReadTrailLogFiles')).toMatchObject({
        Action: 's3:GetObject',
        Resource: { 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${TRAIL_BUCKET}/AWSLogs/*` },
      });
      expect(statement(template, 'IngestTrailFilesRole', 'DecryptTrailLogFiles')).toEqual({
        Sid: 'DecryptTrailLogFiles',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: TRAIL_KEY,
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 's3.${AWS::Region}.amazonaws.com' } } },
      });
      for (const role of ['IngestEventsRole', 'ScheduledRole']) {
        expect(JSON.stringify(statements(template, role))).not.toContain(TRAIL_BUCKET);
      }
    });

    it('publishes only to the stack’s own topic (through its key, via SNS) and bus', () => {
      for (const name of FUNCTION_NAMES) {
        const role = FUNCTIONS[name].role;
        expect(statement(template, role, 'PublishAlerts').Resource).toEqual({ Ref: 'AlertTopic' });
        expect(statement(template, role, 'AlertTopicKey')).toMatchObject({
          Resource: { 'Fn::GetAtt': ['AlertsKey', 'Arn'] },
          Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Sub': 'sns.${AWS::Region}.amazonaws.com' } } },
        });
        expect(statement(template, role, 'PutFindingEvents').Resource).toEqual({ 'Fn::GetAtt': ['FindingsBus', 'Arn'] });
      }
    });
  });

  describe('functions and their packages', () => {
    it('gives every function the lake, topic and bus of this stack, and the bundled configuration', () => {
      for (const name of FUNCTION_NAMES) {
        const fn = resource(template, FUNCTIONS[name].logicalId).Properties;
        expect(fn['Handler']).toBe(FUNCTIONS[name].handler);
        expect(fn['Runtime']).toBe('nodejs20.x');
        expect(fn['Environment'].Variables).toMatchObject({
          KEYTRAIL_LAKE_BUCKET: { Ref: 'LakeBucket' },
          KEYTRAIL_LAKE_PREFIX: 'kms_events/',
          KEYTRAIL_LEDGER_PREFIX: 'ledger/',
          KEYTRAIL_SNS_TOPIC_ARN: { Ref: 'AlertTopic' },
          KEYTRAIL_EVENT_BUS: { 'Fn::GetAtt': ['FindingsBus', 'Arn'] },
          KEYTRAIL_CONFIG: '/var/task/keytrail.config.json',
        });
        const { zip, entries } = zipOf(name);
        const config = entries.find((e) => e.name === 'keytrail.config.json');
        expect(config, name).toBeDefined();
        expect(JSON.parse(readZipEntry(zip, config as ZipEntry).toString('utf8'))).toEqual(CONFIG);
      }
      expect(resource(template, 'ScheduledLambdaFunction').Properties['ReservedConcurrentExecutions']).toBe(1);
    });

    it('sets an environment that the functions\' start-up (readRuntimeEnv) accepts, with a cache that fits in /tmp', () => {
      // What CloudFormation puts in place of the references, in a real account.
      const deployed: Record<string, string> = {
        '{"Ref":"LakeBucket"}': 'keytrail-test-lake-111122223333-us-east-1',
        '{"Ref":"AlertTopic"}': 'arn:aws:sns:us-east-1:111122223333:keytrail-test-alerts',
        '{"Fn::GetAtt":["FindingsBus","Arn"]}': 'arn:aws:events:us-east-1:111122223333:event-bus/keytrail-test-findings',
      };
      for (const name of FUNCTION_NAMES) {
        const fn = resource(template, FUNCTIONS[name].logicalId).Properties;
        const env: Record<string, string> = { AWS_REGION: 'us-east-1', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn['MemorySize']) };
        for (const [variable, value] of Object.entries(fn['Environment'].Variables as Record<string, unknown>)) {
          const text = typeof value === 'string' || typeof value === 'number' ? String(value) : deployed[JSON.stringify(value)];
          expect(text, `${name} ${variable}`).toBeDefined();
          env[variable] = text as string;
        }
        const settings = readRuntimeEnv(env);
        expect(settings).toMatchObject({ lakePrefix: 'kms_events/', ledgerPrefix: 'ledger/', configPath: '/var/task/keytrail.config.json' });
        expect(settings.snsTopicArn).toBe(deployed['{"Ref":"AlertTopic"}']);
        // The part cache shares /tmp with DuckDB's database and spill files: at most half of it.
        const tmpBytes = ((fn['EphemeralStorage'] as { Size: number } | undefined)?.Size ?? 512) * 1024 * 1024;
        expect(settings.cacheMaxBytes, name).toBeLessThanOrEqual(tmpBytes / 2);
      }
    });

    it('runs the scheduled function for detectors, compaction and the daily report', () => {
      const inputs = Object.values(resourcesOfType(template, 'AWS::Events::Rule'))
        .flatMap((r) => (r.Properties['Targets'] as { Arn: unknown; Input?: string }[]).filter((t) => JSON.stringify(t.Arn).includes('ScheduledLambdaFunction')))
        .map((t) => JSON.parse(t.Input ?? 'null'));
      // Every input is one the scheduled function's own schema accepts.
      for (const input of inputs) expect(() => ScheduledInputSchema.parse(input)).not.toThrow();
      expect(inputs).toEqual([
        { task: 'detect', days: 1 },
        { task: 'detect' },
        { task: 'compact', days: 2 },
        { task: 'compact' },
        { task: 'daily-report' },
      ]);
    });

    it("ships each handler bundle with DuckDB's binding for the function's architecture only, under Lambda's size limit", () => {
      for (const name of FUNCTION_NAMES) {
        const fn = resource(template, FUNCTIONS[name].logicalId).Properties;
        const cpu = { x86_64: 'x64', arm64: 'arm64' }[(fn['Architectures'] as string[])[0] as 'x86_64' | 'arm64'];
        const { entries } = zipOf(name);
        const names = entries.map((e) => e.name);
        expect(names).toContain(`${FUNCTIONS[name].handler.replace(/\.handler$/, '')}.mjs`);
        expect(names).toContain('node_modules/@duckdb/node-api/package.json');
        expect(names).toContain(`node_modules/@duckdb/node-bindings-linux-${cpu}/duckdb.node`);
        expect(names).toContain(`node_modules/@duckdb/node-bindings-linux-${cpu}/libduckdb.so`);
        const bindings = new Set(names.filter((n) => n.startsWith('node_modules/@duckdb/node-bindings-')).map((n) => n.split('/')[2]));
        expect([...bindings]).toEqual([`node-bindings-linux-${cpu}`]);
        // Only the function's own handler: not the other functions', not sources or tests.
        expect(names.filter((n) => !n.startsWith('node_modules/'))).toEqual([`${FUNCTIONS[name].handler.replace(/\.handler$/, '')}.mjs`, 'keytrail.config.json'].sort());
        expect(entries.reduce((sum, e) => sum + e.size, 0)).toBeLessThan(LAMBDA_UNZIPPED_LIMIT);
      }
    });

    it('imports from its bundle only Node built-ins and the packages shipped beside it', async () => {
      const builtins = new Set(builtinModules);
      for (const name of FUNCTION_NAMES) {
        const { zip, entries } = zipOf(name);
        const shipped = new Set(
          entries.filter((e) => e.name.startsWith('node_modules/') && e.name.endsWith('/package.json')).map((e) => dirname(e.name).slice('node_modules/'.length)),
        );
        const bundle = entries.find((e) => e.name === `${FUNCTIONS[name].handler.replace(/\.handler$/, '')}.mjs`) as ZipEntry;
        const specifiers = await importsOf(readZipEntry(zip, bundle).toString('utf8'));
        expect(specifiers).toContain('@duckdb/node-api');
        for (const specifier of specifiers) {
          const builtin = specifier.replace(/^node:/, '').split('/')[0] ?? '';
          const pkg = specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
          expect(builtins.has(builtin) || shipped.has(pkg), `${name} imports ${specifier}`).toBe(true);
        }
      }
    }, 60_000);

    it('locates no file relative to a source module: in the bundle, import.meta.url is functions/<name>.mjs', () => {
      // `new URL('../../queries/', import.meta.url)` in src/reports/ means /var/queries/ once bundled.
      for (const name of FUNCTION_NAMES) {
        const { zip, entries } = zipOf(name);
        const bundle = entries.find((e) => e.name === `${FUNCTIONS[name].handler.replace(/\.handler$/, '')}.mjs`) as ZipEntry;
        const uses = readZipEntry(zip, bundle).toString('utf8').split('\n').filter((line) => line.includes('import.meta.url'));
        // The one use is the banner's createRequire (infra/bundle-plugin.mjs).
        expect(uses, name).toEqual([expect.stringContaining('__keytrailCreateRequire(import.meta.url)')]);
      }
    });

    it('loads the shipped DuckDB from the zip alone, with nothing else installed', async () => {
      const { zip, entries } = zipOf('ingestEvents');
      const taskRoot = mkdtempSync(join(tmpdir(), 'keytrail-task-root-'));
      try {
        for (const entry of entries.filter((e) => e.name.startsWith('node_modules/'))) {
          const target = join(taskRoot, ...entry.name.split('/'));
          mkdirSync(dirname(target), { recursive: true });
          writeFileSync(target, readZipEntry(zip, entry));
        }
        writeFileSync(
          join(taskRoot, 'probe.mjs'),
          `import { DuckDBInstance } from '@duckdb/node-api';
const db = await DuckDBInstance.create(':memory:');
const reader = await (await db.connect()).runAndReadAll('SELECT 42 AS answer');
process.stdout.write(JSON.stringify({ resolved: import.meta.resolve('@duckdb/node-api'), rows: reader.getRowObjectsJson() }));`,
        );
        const { stdout } = await run(process.execPath, ['probe.mjs'], { cwd: taskRoot, env: { PATH: process.env['PATH'] ?? '', HOME: taskRoot } });
        const result = JSON.parse(stdout) as { resolved: string; rows: unknown };
        expect(result.resolved.startsWith(`file://${taskRoot}${sep}node_modules`)).toBe(true);
        expect(result.rows).toEqual([{ answer: 42 }]);
      } finally {
        rmSync(taskRoot, { recursive: true, force: true });
      }
    }, 60_000);
  });

  describe('Glue table kms_events', () => {
    const NOW = '2026-11-27T00:00:00.000Z';
    /** DuckDB's types as Glue (Hive) spells them; the JSON columns are strings to Athena. */
    const GLUE_TYPE: Record<string, string> = {
      VARCHAR: 'string',
      TIMESTAMP: 'timestamp',
      BOOLEAN: 'boolean',
      'VARCHAR[]': 'array<string>',
      JSON: 'string',
      DATE: 'date',
    };
    /** Both writers of the lake: the CLI's `keytrail export` and the functions' S3 lake. */
    const WRITERS = ['exportLake', 'S3Lake'] as const;
    const lakeDirs = {} as Record<(typeof WRITERS)[number], string>;
    let work: string;

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'keytrail-glue-lake-'));
      const db = await KeytrailDb.open({ path: ':memory:' });
      try {
        // Real-shaped events: API calls, a ReEncrypt (two keys), a lifecycle event through EventBridge.
        const values: unknown[] = [
          ...corpusLines.slice(0, 12).map((line) => JSON.parse(line) as unknown),
          asEventBridge(corpusRecord(65)),
          lifecycleEvent(1),
        ];
        const events = values.flatMap((value, position) => {
          const result = normalizeValue(value, { uri: 'test://glue', position }, NOW);
          return result.kind === 'event' ? [result.event] : ([] as KmsEvent[]);
        });
        expect(events.length).toBeGreaterThan(5);
        await new EventStore(db).insertEvents(events);

        lakeDirs.exportLake = join(work, 'export');
        await exportLake(db, lakeDirs.exportLake);

        // The S3 lake PUTs each part; this S3 stand-in writes the bodies under their keys.
        lakeDirs.S3Lake = join(work, 's3');
        const s3 = {
          send: async (command: unknown) => {
            if (!(command instanceof PutObjectCommand)) throw new Error(`unexpected S3 call ${String(command)}`);
            const target = join(lakeDirs.S3Lake, ...String(command.input.Key).split('/'));
            mkdirSync(dirname(target), { recursive: true });
            writeFileSync(target, command.input.Body as Buffer);
            return { ETag: '"etag"' };
          },
        } as unknown as S3Client;
        const cache = new LakeCache({ s3, bucket: 'lake', dir: join(work, 'cache'), maxBytes: 1 << 20 });
        const lake = new S3Lake({ s3, bucket: 'lake', prefix: 'kms_events/', workDir: join(work, 'outgoing'), cache });
        const parts = await lake.writeEvents(db, events.map((e) => e.eventId));
        expect(parts.length).toBeGreaterThan(0);
      } finally {
        db.close();
      }
    });
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    it.each(WRITERS)('declares the columns, in order and type, that %s writes to Parquet', async (writer) => {
      const table = resource(template, 'KmsEventsTable').Properties['TableInput'];
      const glue = [...table.StorageDescriptor.Columns, ...table.PartitionKeys].map((c: { Name: string; Type: string }) => [c.Name, c.Type]);
      const db = await KeytrailDb.open({ path: ':memory:' });
      try {
        // hive_types as the Glue table declares them: DuckDB's own guess would make account_id a
        // BIGINT (and drop an account id's leading zeros). Declaring them still checks that every
        // partition value in the paths parses as its type.
        const rows = await db.all(
          `DESCRIBE SELECT * FROM read_parquet('${join(lakeDirs[writer], 'kms_events')}/**/*.parquet',
             hive_partitioning = true, hive_types = {'account_id': VARCHAR, 'event_date': DATE})`,
        );
        const parquet = rows.map((r) => {
          const type = String(r['column_type']);
          expect(GLUE_TYPE[type], `DuckDB type ${type} of ${String(r['column_name'])} has no Glue mapping`).toBeDefined();
          return [r['column_name'], GLUE_TYPE[type]];
        });
        expect(glue).toEqual(parquet);
      } finally {
        db.close();
      }
    });

    it.each(WRITERS)('projects account and date partitions onto the paths %s writes, without a crawler', (writer) => {
      const table = resource(template, 'KmsEventsTable').Properties['TableInput'];
      expect(table.PartitionKeys.map((k: { Name: string }) => k.Name)).toEqual(['account_id', 'event_date']);
      expect(table.Parameters).toMatchObject({
        'projection.enabled': 'true',
        'projection.account_id.type': 'injected',
        'projection.event_date.type': 'date',
        'projection.event_date.format': 'yyyy-MM-dd',
        'projection.event_date.range': '2014-01-01,NOW',
        'storage.location.template': { 'Fn::Sub': 's3://${LakeBucket}/kms_events/account_id=${!account_id}/event_date=${!event_date}/' },
      });
      expect(table.Parameters['projection.account_id.values']).toBeUndefined();
      expect(table.StorageDescriptor.Location).toEqual({ 'Fn::Sub': 's3://${LakeBucket}/kms_events/' });
      expect(table.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');

      // Every Parquet file sits where the template puts its partition (and the date format matches).
      const location = (table.Parameters['storage.location.template']['Fn::Sub'] as string).replace('s3://${LakeBucket}/', '');
      const pattern = new RegExp(`^${location.replace('${!account_id}', '(\\d{12}|unknown)').replace('${!event_date}', '\\d{4}-\\d{2}-\\d{2}')}[^/]+\\.parquet$`);
      const files = (readdirSync(lakeDirs[writer], { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet')).map((f) => f.split(sep).join('/'));
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) expect(file).toMatch(pattern);
    });
  });
});
