import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deriveSeed, Prng, weighted } from '../lib/prng.js';

/**
 * Realistic CloudTrail records for the ingest benchmark. Every KMS record takes its shape (field order,
 * request parameters, response elements, resources) from a real example in the AWS KMS Developer
 * Guide (`test/fixtures/corpus/kms-guide-examples.jsonl`, read from this repository at generation
 * time); identities, keys, encryption contexts, times and ids are generated.
 */

/** The corpus in this repository, so a fresh clone can generate its own data. */
export const CORPUS_PATH = fileURLToPath(new URL('../../test/fixtures/corpus/kms-guide-examples.jsonl', import.meta.url));

type Json = Record<string, unknown>;

/** Values in the corpus examples that are replaced by generated ones. */
const EXAMPLE_ACCOUNT = '111122223333';
const EXAMPLE_KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';

/** The organization that owns the trail, its member accounts and regions. */
export const ORG_ID = 'o-exampleorg1';
export const ACCOUNTS = ['111122223333', '444455556666', '777788889999'] as const;
export const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1'] as const;
/** A SaaS vendor (BYOK) that decrypts with a customer key from its own account; it has no trail here. */
const VENDOR_ACCOUNT = '999988887777';

export type RecordClass = 'kms' | 'other';

export interface GeneratedRecord {
  json: string;
  cls: RecordClass;
}

interface Key {
  id: string;
  arn: string;
  account: string;
  region: string;
  alias: string | null;
  state: 'Enabled' | 'PendingDeletion' | 'Disabled';
}

interface Identity {
  json: Json;
  /** `json` serialized once. */
  text: string;
  account: string;
  arn: string;
}

interface ServiceProfile {
  name: string;
  weight: number;
  invokedBy: string | null;
  sourceIp: (p: Prng) => string;
  userAgent: (p: Prng) => string;
  context: ((p: Prng, account: string, region: string) => Json) | null;
  roles: readonly string[];
  eventType: 'AwsApiCall' | 'AwsServiceEvent';
}

const CRYPTO_EVENTS: readonly (readonly [string, number])[] = [
  ['Decrypt', 42],
  ['GenerateDataKey', 25],
  ['Encrypt', 9],
  ['GenerateDataKeyWithoutPlaintext', 5],
  ['ReEncrypt', 2],
  ['Sign', 1],
  ['Verify', 0.5],
  ['GenerateDataKeyPair', 0.4],
  ['GenerateDataKeyPairWithoutPlaintext', 0.2],
  ['GenerateMac', 0.3],
  ['VerifyMac', 0.2],
  ['GenerateRandom', 0.4],
];

const MANAGEMENT_EVENTS: readonly (readonly [string, number])[] = [
  ['DescribeKey', 8],
  ['CreateGrant', 3],
  ['ListAliases', 2],
  ['GetKeyPolicy', 1.5],
  ['GetKeyRotationStatus', 1.5],
  ['ListGrants', 1],
  ['RetireGrant', 1],
  ['ListKeyRotations', 0.3],
  ['TagResource', 0.2],
  ['RevokeGrant', 0.2],
  ['PutKeyPolicy', 0.2],
  ['CreateKey', 0.1],
  ['CreateAlias', 0.1],
  ['UpdateKeyDescription', 0.05],
  ['ScheduleKeyDeletion', 0.05],
  ['DisableKey', 0.05],
  ['EnableKey', 0.05],
  ['CancelKeyDeletion', 0.02],
  ['RotateKeyOnDemand', 0.02],
  ['DisableKeyRotation', 0.02],
];

const SHARE_MANAGEMENT = 0.18;

const HEX = '0123456789abcdef';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const SDK_AGENTS = [
  'aws-sdk-java/2.25.16 Linux/5.10.219-208.866.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc. md/internal exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy',
  'aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/kms#1.35.3',
  'Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.220-209.869.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.144',
  'aws-sdk-js/3.614.0 ua/2.0 os/linux#5.10.219-229.866.amzn2.x86_64 lang/js md/nodejs#20.15.0 api/kms#3.614.0',
];
const ADMIN_AGENTS = [
  'APN/1.0 HashiCorp/1.0 Terraform/1.8.5 (+https://www.terraform.io) terraform-provider-aws/5.58.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.1 os/linux lang/go#1.22.4 md/GOOS#linux md/GOARCH#amd64 api/kms#1.35.1',
  'aws-cli/2.17.13 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#source md/prompt#off md/command#kms.describe-key',
  'AWS Internal',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
];

function privateIp(p: Prng): string {
  return `10.${p.int(64)}.${p.int(256)}.${1 + p.int(254)}`;
}

function publicIp(p: Prng): string {
  return `${p.pick(['198.51.100', '203.0.113', '192.0.2'])}.${1 + p.int(254)}`;
}

function always(value: string): (p: Prng) => string {
  return () => value;
}

const BUCKETS = ['acme-data-lake', 'acme-invoices', 'acme-backups', 'acme-ml-features', 'acme-logs-archive', 'acme-uploads'];
const FUNCTIONS = ['orders-api', 'billing-worker', 'thumbnailer', 'payments-webhook', 'report-builder', 'auth-authorizer'];
const TABLES = ['Orders', 'Customers', 'Sessions', 'Invoices', 'FeatureFlags'];
const SECRETS = ['prod/db/orders', 'prod/api/stripe', 'prod/db/billing', 'shared/datadog', 'prod/oauth/client'];
const LOG_GROUPS = ['/aws/lambda/orders-api', '/aws/lambda/billing-worker', '/ecs/payments', '/aws/rds/cluster/orders/postgresql'];
const QUEUES = ['orders-events', 'billing-jobs', 'emails-outbound', 'audit-fanout'];
const TENANTS = ['tenant-0042', 'tenant-0137', 'tenant-0900', 'tenant-1208', 'tenant-2718'];

/** AWS services that call KMS on a caller's behalf, with the encryption contexts they use. */
const SERVICE_PROFILES: readonly ServiceProfile[] = [
  {
    name: 's3',
    weight: 30,
    invokedBy: 's3.amazonaws.com',
    sourceIp: always('s3.amazonaws.com'),
    userAgent: always('s3.amazonaws.com'),
    context: (p) => ({
      'aws:s3:arn': `arn:aws:s3:::${p.pick(BUCKETS)}/${p.pick(['raw', 'curated', 'exports', 'tmp'])}/${2024 + p.int(2)}/${String(1 + p.int(12)).padStart(2, '0')}/part-${String(p.int(100000)).padStart(5, '0')}-${p.chars(8, HEX)}.snappy.parquet`,
    }),
    roles: ['etl-glue-job', 'data-pipeline', 'analytics-reader', 'backup-agent'],
    eventType: 'AwsApiCall',
  },
  {
    name: 'sdk',
    weight: 18,
    invokedBy: null,
    sourceIp: privateIp,
    userAgent: (p) => p.pick(SDK_AGENTS),
    context: (p) => (p.chance(0.3) ? { tenant: p.pick(TENANTS), purpose: p.pick(['pii', 'payment-token', 'session']) } : {}),
    roles: ['orders-service-task', 'payments-service-task', 'tokenizer', 'ci-deployer'],
    eventType: 'AwsApiCall',
  },
  {
    name: 'ebs',
    weight: 10,
    invokedBy: 'ec2.amazonaws.com',
    sourceIp: always('ec2.amazonaws.com'),
    userAgent: always('ec2.amazonaws.com'),
    context: (p) => ({ 'aws:ebs:id': `vol-0${p.chars(16, HEX)}` }),
    roles: ['aws:ec2-infrastructure', 'eks-node-group', 'batch-compute'],
    eventType: 'AwsApiCall',
  },
  {
    name: 'lambda',
    weight: 10,
    invokedBy: null,
    sourceIp: privateIp,
    userAgent: always('lambda.amazonaws.com'),
    context: (p, account, region) => ({ 'aws:lambda:FunctionArn': `arn:aws:lambda:${region}:${account}:function:${p.pick(FUNCTIONS)}` }),
    roles: FUNCTIONS.map((f) => `${f}-role`),
    eventType: 'AwsApiCall',
  },
  {
    name: 'secretsmanager',
    weight: 8,
    invokedBy: 'secretsmanager.amazonaws.com',
    sourceIp: always('secretsmanager.amazonaws.com'),
    userAgent: always('secretsmanager.amazonaws.com'),
    context: (p, account, region) => ({
      SecretARN: `arn:aws:secretsmanager:${region}:${account}:secret:${p.pick(SECRETS)}-${p.chars(6, ALNUM)}`,
      SecretVersionId: p.uuid(),
    }),
    roles: ['orders-service-task', 'payments-service-task', 'rotation-lambda'],
    eventType: 'AwsApiCall',
  },
  {
    name: 'dynamodb',
    weight: 7,
    invokedBy: 'dynamodb.amazonaws.com',
    sourceIp: always('dynamodb.amazonaws.com'),
    userAgent: always('dynamodb.amazonaws.com'),
    context: (p, account) => ({ 'aws:dynamodb:tableName': p.pick(TABLES), 'aws:dynamodb:subscriberId': account }),
    roles: ['orders-service-task', 'sessions-api'],
    eventType: 'AwsApiCall',
  },
  {
    name: 'rds',
    weight: 4,
    invokedBy: 'rds.amazonaws.com',
    sourceIp: always('rds.amazonaws.com'),
    userAgent: always('rds.amazonaws.com'),
    context: (p) => ({ 'aws:rds:db-id': `db-${p.chars(26, UPPER)}` }),
    roles: ['rds-monitoring-role', 'orders-service-task'],
    eventType: 'AwsApiCall',
  },
  {
    name: 'logs',
    weight: 4,
    invokedBy: 'logs.amazonaws.com',
    sourceIp: always('logs.amazonaws.com'),
    userAgent: always('logs.amazonaws.com'),
    context: (p, account, region) => ({ 'aws:logs:arn': `arn:aws:logs:${region}:${account}:log-group:${p.pick(LOG_GROUPS)}` }),
    roles: [],
    eventType: 'AwsApiCall',
  },
  {
    name: 'sqs',
    weight: 4,
    invokedBy: 'sqs.amazonaws.com',
    sourceIp: always('sqs.amazonaws.com'),
    userAgent: always('sqs.amazonaws.com'),
    context: (p, account, region) => ({ 'aws:sqs:arn': `arn:aws:sqs:${region}:${account}:${p.pick(QUEUES)}` }),
    roles: ['billing-worker-role', 'emails-sender'],
    eventType: 'AwsApiCall',
  },
  {
    name: 'cloudtrail',
    weight: 3,
    invokedBy: 'cloudtrail.amazonaws.com',
    sourceIp: always('cloudtrail.amazonaws.com'),
    userAgent: always('cloudtrail.amazonaws.com'),
    context: (p, account, region) => ({
      'aws:cloudtrail:arn': `arn:aws:cloudtrail:us-east-1:${ACCOUNTS[0]}:trail/org-trail`,
      'aws:s3:arn': `arn:aws:s3:::acme-org-trail/AWSLogs/${ORG_ID}/${account}/CloudTrail/${region}/2025/03/0${1 + p.int(9)}/${account}_CloudTrail_${region}_20250301T${String(p.int(24)).padStart(2, '0')}${String(p.int(60)).padStart(2, '0')}Z_${p.chars(16, ALNUM)}.json.gz`,
    }),
    roles: [],
    eventType: 'AwsServiceEvent',
  },
];

const ADMIN_ROLES = ['AWSReservedSSO_AdministratorAccess_2f7c1d3e4b5a6978', 'terraform-apply', 'AWSReservedSSO_SecurityAudit_8a9b0c1d2e3f4a5b', 'key-admin'];
const ADMIN_USERS = ['alice', 'bob.breakglass', 'ci-legacy'];

/** Digest file body, as CloudTrail writes one per hour per account and region (skipped by keytrail). */
export function digestFile(account: string, region: string, start: Date, end: Date, logFiles: readonly string[]): string {
  return JSON.stringify({
    awsAccountId: account,
    digestStartTime: start.toISOString().slice(0, 19) + 'Z',
    digestEndTime: end.toISOString().slice(0, 19) + 'Z',
    digestS3Bucket: 'acme-org-trail',
    digestS3Object: `AWSLogs/${ORG_ID}/${account}/CloudTrail-Digest/${region}/digest.json.gz`,
    digestPublicKeyFingerprint: '4ff94f4b1c4ef1e8d5fdfa4c6c8a6f2c',
    digestSignatureAlgorithm: 'SHA256withRSA',
    newestEventTime: end.toISOString().slice(0, 19) + 'Z',
    oldestEventTime: start.toISOString().slice(0, 19) + 'Z',
    previousDigestS3Bucket: null,
    previousDigestS3Object: null,
    previousDigestHashValue: null,
    previousDigestHashAlgorithm: null,
    previousDigestSignature: null,
    logFiles: logFiles.map((f) => ({
      s3Bucket: 'acme-org-trail',
      s3Object: f,
      hashValue: '9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6',
      hashAlgorithm: 'SHA-256',
      newestEventTime: end.toISOString().slice(0, 19) + 'Z',
      oldestEventTime: start.toISOString().slice(0, 19) + 'Z',
    })),
  });
}

/** Makes records; deterministic for a given seed and call sequence. */
export class RecordFactory {
  readonly corpusText: string;
  /** The current file's stream; the world (keys, identities) comes from the seed itself. */
  private p: Prng;
  private readonly seed: number;
  private readonly templates = new Map<string, Json[]>();
  private readonly keys = new Map<string, Key[]>();
  private readonly appIdentities = new Map<string, Identity[]>();
  private readonly adminIdentities = new Map<string, Identity[]>();
  private readonly foreignCallers: Identity[] = [];
  private readonly serviceIdentities = new Map<string, Identity>();
  private readonly drawCrypto = weighted(CRYPTO_EVENTS);
  private readonly drawManagement = weighted(MANAGEMENT_EVENTS);
  private readonly drawService = weighted(SERVICE_PROFILES.map((s) => [s, s.weight] as const));
  private readonly nonKmsTemplates: Json[];

  constructor(seed: number, corpusPath = CORPUS_PATH) {
    this.seed = seed;
    this.p = new Prng(seed);
    this.corpusText = readFileSync(corpusPath, 'utf8');
    const corpus = this.corpusText
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Json);
    this.nonKmsTemplates = corpus.filter((r) => r['eventSource'] !== 'kms.amazonaws.com');
    for (const record of corpus) {
      if (record['eventSource'] !== 'kms.amazonaws.com' || record['errorCode'] || record['eventType'] !== 'AwsApiCall') continue;
      const name = String(record['eventName']);
      const list = this.templates.get(name) ?? [];
      list.push(record);
      this.templates.set(name, list);
    }
    // Prefer plain shapes: enclave attestation and custom-key-store examples are real but rare.
    for (const [name, list] of this.templates) {
      const plain = list.filter((r) => !r['additionalEventData']);
      this.templates.set(name, plain.length > 0 ? plain : list);
    }
    // ReEncrypt has no example in the guide: it is Encrypt's shape with source and destination keys.
    const encrypt = this.templates.get('Encrypt');
    if (encrypt) {
      this.templates.set(
        'ReEncrypt',
        encrypt.map((r) => ({
          ...r,
          eventName: 'ReEncrypt',
          requestParameters: {
            sourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
            destinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
            sourceKeyId: EXAMPLE_KEY_ID,
            destinationKeyId: EXAMPLE_KEY_ID,
            encryptionContext: {},
          },
        })),
      );
    }
    for (const [name] of [...CRYPTO_EVENTS, ...MANAGEMENT_EVENTS]) {
      if (!this.templates.has(name)) throw new Error(`corpus ${corpusPath} has no successful ${name} example to take a shape from`);
    }
    this.buildKeys();
    this.buildIdentities();
  }

  /**
   * Start file `index`: its records come from their own stream, so files can be generated in any
   * order, by any number of workers, and still be the same bytes.
   */
  startFile(index: number): void {
    this.p = new Prng(deriveSeed(this.seed, index));
  }

  private buildKeys(): void {
    for (const account of ACCOUNTS) {
      for (const region of REGIONS) {
        const list: Key[] = [];
        for (let i = 0; i < 24; i++) {
          const id = this.p.uuid();
          const state = i === 22 ? 'PendingDeletion' : i === 23 ? 'Disabled' : 'Enabled';
          list.push({
            id,
            arn: `arn:aws:kms:${region}:${account}:key/${id}`,
            account,
            region,
            alias: i < 10 ? `alias/${['orders', 'payments', 'data-lake', 'backups', 'secrets', 'logs', 'ebs-default', 'tokenizer', 'sessions', 'legacy'][i]}` : null,
            state,
          });
        }
        this.keys.set(`${account}/${region}`, list);
      }
    }
  }

  private assumedRole(account: string, role: string, session: string, invokedBy: string | null): Identity {
    const roleId = `AROA${this.p.chars(17, UPPER)}`;
    const arn = `arn:aws:sts::${account}:assumed-role/${role}/${session}`;
    const json: Json = {
      type: 'AssumedRole',
      principalId: `${roleId}:${session}`,
      arn,
      accountId: account,
      accessKeyId: `ASIA${this.p.chars(16, UPPER)}`,
      sessionContext: {
        sessionIssuer: { type: 'Role', principalId: roleId, arn: `arn:aws:iam::${account}:role/${role}`, accountId: account, userName: role },
        attributes: { creationDate: `2025-03-0${1 + this.p.int(9)}T0${this.p.int(10)}:${10 + this.p.int(50)}:${10 + this.p.int(50)}Z`, mfaAuthenticated: 'false' },
      },
    };
    if (invokedBy) json['invokedBy'] = invokedBy;
    return { json, text: JSON.stringify(json), account, arn };
  }

  private session(role: string): string {
    if (role === 'aws:ec2-infrastructure' || role === 'eks-node-group' || role === 'batch-compute') return `i-0${this.p.chars(16, HEX)}`;
    if (role.endsWith('-role')) return role.slice(0, -5);
    return `${role}-${this.p.chars(8, HEX)}`;
  }

  private buildIdentities(): void {
    for (const account of ACCOUNTS) {
      const apps: Identity[] = [];
      for (const profile of SERVICE_PROFILES) {
        for (const role of profile.roles) {
          for (let i = 0; i < 4; i++) apps.push(this.assumedRole(account, role, this.session(role), profile.invokedBy));
        }
      }
      this.appIdentities.set(account, apps);
      const admins: Identity[] = ADMIN_ROLES.map((role) =>
        this.assumedRole(account, role, role.startsWith('AWSReservedSSO') ? `${this.p.pick(['alice', 'carol', 'dave'])}@example.com` : `tf-${this.p.chars(10, HEX)}`, null),
      );
      for (const user of ADMIN_USERS) {
        const arn = `arn:aws:iam::${account}:user/${user}`;
        const json = { type: 'IAMUser', principalId: `AIDA${this.p.chars(17, UPPER)}`, arn, accountId: account, accessKeyId: `AKIA${this.p.chars(16, UPPER)}`, userName: user };
        admins.push({ json, text: JSON.stringify(json), account, arn });
      }
      this.adminIdentities.set(account, admins);
    }
    // What a key owner's trail shows for a caller in another account (AWS logs it as AWSAccount).
    for (const other of [VENDOR_ACCOUNT, ...ACCOUNTS]) {
      for (let i = 0; i < 3; i++) {
        const session = other === VENDOR_ACCOUNT ? `vendor-byok-${i}` : `cross-${this.p.chars(6, HEX)}`;
        const json = { type: 'AWSAccount', principalId: `AROA${this.p.chars(17, UPPER)}:${session}`, accountId: other };
        this.foreignCallers.push({ json, text: JSON.stringify(json), account: other, arn: '' });
      }
    }
  }

  /** One record for a trail file of `account` in `region`, at `timeMs`. */
  next(account: string, region: string, timeMs: number): GeneratedRecord {
    const r = this.p.float();
    if (r < 0.03) return { json: this.nonKms(account, region, timeMs), cls: 'other' };
    return { json: this.kms(account, region, timeMs), cls: 'kms' };
  }

  private kms(account: string, region: string, timeMs: number): string {
    const p = this.p;
    const management = p.chance(SHARE_MANAGEMENT);
    const eventName = management ? this.drawManagement(p) : this.drawCrypto(p);
    const template = p.pick(this.templates.get(eventName) ?? []);
    const profile = management ? null : this.drawService(p);
    const ownKeys = this.keys.get(`${account}/${region}`) ?? [];

    let identity: Identity;
    let key: Key;
    let sharedEventId: string | null = null;
    const crossRoll = p.float();
    if (crossRoll < 0.03) {
      // Key owner's copy of a cross-account call.
      identity = p.pick(this.foreignCallers.filter((c) => c.account !== account));
      key = p.pick(ownKeys);
      sharedEventId = p.uuid();
    } else if (crossRoll < 0.05) {
      // Caller's copy: its own role, a key in another account (a central key, or the vendor's).
      const others = ACCOUNTS.filter((a) => a !== account);
      const owner = p.pick(others);
      key = p.pick(this.keys.get(`${owner}/${region}`) ?? ownKeys);
      identity = p.pick(this.appIdentities.get(account) ?? []);
      sharedEventId = p.uuid();
    } else {
      key = p.pick(ownKeys);
      if (profile && profile.roles.length === 0) identity = this.serviceIdentity(profile);
      else if (management) identity = p.pick(this.adminIdentities.get(account) ?? []);
      else identity = this.pickAppIdentity(account, profile);
    }

    let errorCode: string | null = null;
    let errorMessage: string | null = null;
    const errorRoll = p.float();
    if (errorRoll < 0.012) {
      errorCode = 'AccessDeniedException';
      const who = identity.arn || `arn:aws:iam::${identity.account}:root`;
      errorMessage = `User: ${who} is not authorized to perform: kms:${eventName} on resource: ${key.arn} because no identity-based policy allows the kms:${eventName} action`;
    } else if (errorRoll < 0.017) {
      key = p.pick((this.keys.get(`${key.account}/${region}`) ?? ownKeys).filter((k) => k.state === 'PendingDeletion'));
      errorCode = 'KMSInvalidStateException';
      errorMessage = `${key.arn} is pending deletion.`;
    } else if (errorRoll < 0.02) {
      key = p.pick((this.keys.get(`${key.account}/${region}`) ?? ownKeys).filter((k) => k.state === 'Disabled'));
      errorCode = 'DisabledException';
      errorMessage = `${key.arn} is disabled.`;
    }

    const context = profile?.context ? profile.context(p, key.account, region) : null;
    const crossAccount = key.account !== identity.account;
    const keyRef = crossAccount || profile?.invokedBy ? key.arn : management ? (p.chance(0.5) ? key.id : key.arn) : key.alias && p.chance(0.3) ? key.alias : p.chance(0.5) ? key.arn : key.id;
    const destination = eventName === 'ReEncrypt' ? p.pick(this.keys.get(`${key.account}/${region}`) ?? ownKeys) : null;

    const templateResources = template['resources'];

    const time = new Date(timeMs).toISOString();
    // Built as text from pre-serialized parts: JSON.stringify of whole records would be most of the
    // generator's time. Every generated string is free of characters JSON must escape.
    let json = `{"eventVersion":"1.08","userIdentity":${identity.text},"eventTime":"${time.slice(0, 19)}Z","eventSource":"kms.amazonaws.com","eventName":"${eventName}","awsRegion":"${region}","sourceIPAddress":"${profile ? profile.sourceIp(p) : p.chance(0.5) ? publicIp(p) : privateIp(p)}","userAgent":"${profile ? profile.userAgent(p) : p.pick(ADMIN_AGENTS)}"`;
    if (errorCode) json += `,"errorCode":"${errorCode}","errorMessage":"${errorMessage}"`;
    json += `,"requestParameters":${this.requestParameters(template, keyRef, key, destination, context, identity)}`;
    json += `,"responseElements":${errorCode ? 'null' : this.responseElements(template, key)}`;
    if (template['additionalEventData']) json += `,"additionalEventData":${jsonText(template['additionalEventData'])}`;
    json += `,"requestID":"${p.uuid()}","eventID":"${p.uuid()}","readOnly":${template['readOnly'] === false ? 'false' : 'true'}`;
    if (Array.isArray(templateResources)) {
      if (templateResources.length === 0) json += ',"resources":[]';
      else {
        json += `,"resources":[{"accountId":"${key.account}","type":"AWS::KMS::Key","ARN":"${key.arn}"}`;
        if (destination) json += `,{"accountId":"${destination.account}","type":"AWS::KMS::Key","ARN":"${destination.arn}"}`;
        json += ']';
      }
    }
    json += `,"eventType":"${profile?.eventType ?? 'AwsApiCall'}","managementEvent":true,"recipientAccountId":"${account}"`;
    if (sharedEventId) json += `,"sharedEventID":"${sharedEventId}"`;
    if (!profile?.invokedBy && p.chance(0.15)) json += `,"vpcEndpointId":"vpce-0${p.chars(16, HEX)}"`;
    json += ',"eventCategory":"Management"';
    if (!profile?.invokedBy) {
      json += `,"tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"kms.${region}.amazonaws.com"}`;
    }
    return `${json}}`;
  }

  private serviceIdentity(profile: ServiceProfile): Identity {
    let identity = this.serviceIdentities.get(profile.name);
    if (!identity) {
      const json = { type: 'AWSService', invokedBy: profile.invokedBy };
      identity = { json, text: JSON.stringify(json), account: '', arn: '' };
      this.serviceIdentities.set(profile.name, identity);
    }
    return identity;
  }

  private pickAppIdentity(account: string, profile: ServiceProfile | null): Identity {
    const apps = this.appIdentities.get(account) ?? [];
    if (!profile) return this.p.pick(apps);
    // Identities are built per profile in order, 4 per role; draw from this profile's slice.
    let offset = 0;
    for (const s of SERVICE_PROFILES) {
      if (s === profile) break;
      offset += s.roles.length * 4;
    }
    return apps[offset + this.p.int(profile.roles.length * 4)] ?? this.p.pick(apps);
  }

  private requestParameters(template: Json, keyRef: string, key: Key, destination: Key | null, context: Json | null, identity: Identity): string {
    const source = template['requestParameters'];
    if (source === null || typeof source !== 'object') return 'null';
    const contextText = context && Object.keys(context).length > 0 ? JSON.stringify(context) : null;
    let out = '';
    let hasContext = false;
    let hasKeyId = false;
    for (const [name, value] of entriesOf(source)) {
      let text: string | null;
      switch (name) {
        case 'keyId':
        case 'targetKeyId':
          hasKeyId = true;
          text = `"${keyRef}"`;
          break;
        case 'sourceKeyId':
          text = `"${key.arn}"`;
          break;
        case 'destinationKeyId':
          text = `"${destination?.arn ?? key.arn}"`;
          break;
        case 'encryptionContext':
          hasContext = true;
          text = contextText;
          break;
        case 'constraints':
          text = contextText ? `{"encryptionContextSubset":${contextText}}` : retargetText(value, key);
          break;
        case 'granteePrincipal':
        case 'retiringPrincipal':
          text = `"${identity.arn || identity.account}"`;
          break;
        case 'grantId':
          text = `"${this.p.chars(64, HEX)}"`;
          break;
        case 'aliasName':
          text = `"${key.alias ?? `alias/generated-${key.id.slice(0, 8)}`}"`;
          break;
        default:
          text = retargetText(value, key);
      }
      if (text !== null) out += `${out ? ',' : ''}"${name}":${text}`;
    }
    if (!hasContext && contextText && hasKeyId) out += `,"encryptionContext":${contextText}`;
    // A symmetric Decrypt without context or key id still names its algorithm.
    if (out === '' && hasContext) out = '"encryptionAlgorithm":"SYMMETRIC_DEFAULT"';
    return `{${out}}`;
  }

  private responseElements(template: Json, key: Key): string {
    const source = template['responseElements'];
    if (source === null || typeof source !== 'object') return 'null';
    let out = '';
    for (const [name, value] of entriesOf(source)) {
      const text = name === 'keyId' ? `"${key.arn}"` : name === 'grantId' ? `"${this.p.chars(64, HEX)}"` : retargetText(value, key);
      out += `${out ? ',' : ''}"${name}":${text}`;
    }
    return `{${out}}`;
  }

  private nonKms(account: string, region: string, timeMs: number): string {
    const p = this.p;
    const time = new Date(timeMs).toISOString().slice(0, 19) + 'Z';
    const roll = p.float();
    const caller = p.pick(this.appIdentities.get(account) ?? []);
    if (roll < 0.5) {
      const role = `arn:aws:iam::${account}:role/${p.pick(['orders-service-task', 'data-pipeline', 'ci-deployer'])}`;
      return JSON.stringify({
        eventVersion: '1.08',
        userIdentity: { type: 'AWSService', invokedBy: 'ecs-tasks.amazonaws.com' },
        eventTime: time,
        eventSource: 'sts.amazonaws.com',
        eventName: 'AssumeRole',
        awsRegion: region,
        sourceIPAddress: 'ecs-tasks.amazonaws.com',
        userAgent: 'ecs-tasks.amazonaws.com',
        requestParameters: { roleArn: role, roleSessionName: p.chars(32, HEX) },
        responseElements: {
          credentials: { accessKeyId: `ASIA${p.chars(16, UPPER)}`, sessionToken: p.chars(120, ALNUM), expiration: 'Mar 1, 2025, 6:00:00 PM' },
        },
        requestID: p.uuid(),
        eventID: p.uuid(),
        readOnly: true,
        resources: [{ accountId: account, type: 'AWS::IAM::Role', ARN: role }],
        eventType: 'AwsApiCall',
        managementEvent: true,
        recipientAccountId: account,
        sharedEventID: p.uuid(),
        eventCategory: 'Management',
      });
    }
    if (roll < 0.8) {
      const bucket = p.pick(BUCKETS);
      return JSON.stringify({
        eventVersion: '1.09',
        userIdentity: caller.json,
        eventTime: time,
        eventSource: 's3.amazonaws.com',
        eventName: p.pick(['GetObject', 'PutObject', 'HeadObject']),
        awsRegion: region,
        sourceIPAddress: privateIp(p),
        userAgent: p.pick(SDK_AGENTS),
        requestParameters: { bucketName: bucket, Host: `${bucket}.s3.${region}.amazonaws.com`, key: `raw/2025/03/${p.chars(12, HEX)}.json` },
        responseElements: null,
        additionalEventData: { bytesTransferredIn: 0, bytesTransferredOut: p.int(1 << 20), 'x-amz-id-2': p.chars(60, ALNUM) },
        requestID: p.chars(16, UPPER),
        eventID: p.uuid(),
        readOnly: true,
        resources: [
          { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/raw/2025/03/object.json` },
          { accountId: account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` },
        ],
        eventType: 'AwsApiCall',
        managementEvent: false,
        recipientAccountId: account,
        eventCategory: 'Data',
      });
    }
    // The guide's EC2 example (CreateVolume), retargeted.
    const template = p.pick(this.nonKmsTemplates);
    return JSON.stringify({
      ...template,
      userIdentity: caller.json,
      eventTime: time,
      awsRegion: region,
      requestID: p.uuid(),
      eventID: p.uuid(),
      recipientAccountId: account,
    });
  }
}

const ENTRIES = new WeakMap<object, [string, unknown][]>();

function entriesOf(value: object): [string, unknown][] {
  let entries = ENTRIES.get(value);
  if (!entries) {
    entries = Object.entries(value);
    ENTRIES.set(value, entries);
  }
  return entries;
}

const JSON_TEXT = new WeakMap<object, string>();

/** JSON text of a template value, serialized once. */
function jsonText(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  let text = JSON_TEXT.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    JSON_TEXT.set(value, text);
  }
  return text;
}

/** A template value as JSON text, with the example account and key id replaced by the generated ones. */
function retargetText(value: unknown, key: Key): string {
  const text = jsonText(value);
  if (!text.includes(EXAMPLE_ACCOUNT) && !text.includes(EXAMPLE_KEY_ID)) return text;
  return text.replaceAll(EXAMPLE_ACCOUNT, key.account).replaceAll(EXAMPLE_KEY_ID, key.id);
}
