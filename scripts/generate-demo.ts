/**
 * Generates `demo/`: a sample month (October 2026) of AWS KMS activity for a small organization,
 * Corvid Labs, that shares one key with a BYOK vendor, Lumenvault (both made up). It is what
 * `keytrail demo` ingests and what `test/integration/demo.test.ts` checks detectors against.
 *
 *   npm run demo:generate            # rewrite demo/ in this repository
 *   tsx scripts/generate-demo.ts DIR # write the same files under DIR
 *
 * Deterministic: a seeded PRNG, fixed dates, no clock. Every record's shape (field order, request
 * parameters, response elements, resources) follows the AWS KMS Developer Guide's examples in
 * `test/fixtures/corpus/kms-guide-examples.jsonl` (line numbers in the comments below), in their
 * current form (eventVersion 1.11, tlsDetails, keyMaterialId); identities, keys, encryption
 * contexts, times and ids are generated.
 *
 * Every detector in the DESIGN.md catalogue gets an incident on a named key, and several get benign
 * look-alikes that must not fire; `demo/expected-findings.json` lists both.
 */
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------------

/** FNV-1a: a stable 32-bit seed from a name, so each stream of randomness is independent. */
function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** sfc32 seeded through splitmix32. Not for anything security-related. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | string) {
    let s = typeof seed === 'string' ? seedOf(seed) : seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor((this.u32() / 4294967296) * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)];
    if (item === undefined) throw new RangeError('pick from an empty list');
    return item;
  }

  chars(n: number, alphabet: string): string {
    let out = '';
    for (let i = 0; i < n; i++) out += alphabet.charAt(this.int(0, alphabet.length - 1));
    return out;
  }

  hex(n: number): string {
    return this.chars(n, '0123456789abcdef');
  }

  /** Version-4 shaped UUID. */
  uuid(): string {
    const h = this.hex(32);
    const variant = '89ab'.charAt(this.int(0, 3));
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A stable identifier derived from a name (role ids, key ids): independent of generation order. */
function stableId(name: string, length: number, alphabet: string): string {
  return new Prng(`id:${name}`).chars(length, alphabet);
}

function stableUuid(name: string): string {
  return new Prng(`uuid:${name}`).uuid();
}

// ---------------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------------

export const DEMO_YEAR = 2026;
export const DEMO_MONTH = 10;
export const DEMO_DAYS = 31;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MONTH_START = Date.UTC(DEMO_YEAR, DEMO_MONTH - 1, 1);
const MONTH_END = MONTH_START + DEMO_DAYS * DAY;

/** Epoch ms of `hh:mm[:ss]` UTC on day `day` of the demo month. */
function at(day: number, hhmmss: string): number {
  const [h = 0, m = 0, s = 0] = hhmmss.split(':').map(Number);
  return MONTH_START + (day - 1) * DAY + h * HOUR + m * MINUTE + s * 1000;
}

/** CloudTrail's `eventTime`: second precision, `Z`. */
function iso(t: number): string {
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function dateOf(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/** Sessions were created a little before the call. */
function sessionCreated(t: number, name: string): string {
  const minutes = new Prng(`session:${name}:${Math.floor(t / HOUR)}`).int(2, 50);
  return iso(Math.floor(t / 1000) * 1000 - minutes * MINUTE);
}

/** CloudTrail's Java-style dates inside responses (`deletionDate`, `validTo`). */
function javaDate(t: number): string {
  const d = new Date(t);
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()] ?? 'Jan';
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  const ss = String(d.getUTCSeconds()).padStart(2, '0');
  return `${month} ${d.getUTCDate()}, ${d.getUTCFullYear()}, ${h12}:${mm}:${ss} ${h < 12 ? 'AM' : 'PM'}`;
}

// ---------------------------------------------------------------------------------------------
// The organization, its keys, the vendor, and the strangers
// ---------------------------------------------------------------------------------------------

export const ORG_ID = 'o-7k2m9x4qpb';
export const ACCOUNTS = {
  security: '406139281754',
  prod: '583920174466',
  data: '729461038512',
} as const;
const ORG_ACCOUNTS: readonly string[] = [ACCOUNTS.security, ACCOUNTS.prod, ACCOUNTS.data];

/** The BYOK vendor (made up), shaped on the vendor guides: a role in its own account uses the key. */
export const VENDOR = {
  name: 'Lumenvault',
  account: '318875092146',
  role: 'lumenvault-byok-kms',
  session: 'lv-vault-sync',
  workspace: 'ws-corvid-7f3k2',
} as const;
const VENDOR_ROLE_ARN = `arn:aws:iam::${VENDOR.account}:role/${VENDOR.role}`;

/** A former contractor's sandbox: not in the organization, not a vendor. Its trail still ships to our bucket. */
const STRANGER = '902214567730';
/** An analytics partner someone adds to the data-lake key policy. */
const PARTNER = '655043219871';
/** The external auditor; its quarterly read of the data lake is suppressed in the config, with a reason. */
const AUDITOR = '271046839152';

const REGION = 'us-east-1';
const BYOK_REGION = 'us-east-2';
const TRAIL_NAME = 'corvid-org-trail';
const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNTS.security}:trail/${TRAIL_NAME}`;
const TRAIL_BUCKET = 'corvid-org-cloudtrail-logs';
const PROD_TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${ACCOUNTS.prod}:trail/prod-management-events`;
const CUSTOM_KEY_STORE_ID = 'cks-5c81e2a94b07d3f16';
const HSM_CLUSTER_ID = 'cluster-3xk7wqplm2a';

interface Key {
  /** Short name used in this file. */
  name: string;
  alias: string;
  id: string;
  arn: string;
  account: string;
  region: string;
  description: string;
  /** keyMaterialId logged with cryptographic calls; changes on rotation. */
  material: string;
}

function makeKey(name: string, alias: string, account: string, region: string, description: string): Key {
  const id = stableUuid(`key:${name}`);
  return {
    name,
    alias,
    id,
    arn: `arn:aws:kms:${region}:${account}:key/${id}`,
    account,
    region,
    description,
    material: new Prng(`material:${name}:1`).hex(64),
  };
}

export const KEYS = {
  trail: makeKey('trail', 'alias/org-cloudtrail', ACCOUNTS.security, REGION, 'Encrypts the organization trail log files'),
  app: makeKey('app', 'alias/prod-app', ACCOUNTS.prod, REGION, 'Production application data: S3 uploads, Lambda environment, Secrets Manager'),
  ebs: makeKey('ebs', 'alias/prod-ebs', ACCOUNTS.prod, REGION, 'Production EBS volumes and snapshots'),
  payments: makeKey('payments', 'alias/payments-imported', ACCOUNTS.prod, REGION, 'Card tokenization; imported key material (origin EXTERNAL)'),
  lake: makeKey('lake', 'alias/data-lake', ACCOUNTS.data, REGION, 'Curated data lake (S3, Glue, Athena)'),
  legacy: makeKey('legacy', 'alias/legacy-reports', ACCOUNTS.data, REGION, 'Legacy nightly reports (being retired)'),
  byok: makeKey('byok', 'alias/lumenvault-byok', ACCOUNTS.data, BYOK_REGION, `BYOK key for ${VENDOR.name} vault integration`),
} as const;

// ---------------------------------------------------------------------------------------------
// Callers
// ---------------------------------------------------------------------------------------------

interface Caller {
  identity: Json;
  /** The account the caller belongs to (null for AWS service principals). */
  account: string | null;
  sourceIp: string;
  userAgent: string;
  /** Direct API calls carry tlsDetails; calls made by a service on the caller's behalf do not. */
  direct: boolean;
}

const UA = {
  cli: 'aws-cli/2.18.4 md/awscrt#0.22.0 ua/2.1 os/macos#24.0.0 md/arch#arm64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off',
  console: 'AWS Internal',
  terraform:
    'APN/1.0 HashiCorp/1.0 Terraform/1.9.7 (+https://www.terraform.io) terraform-provider-aws/5.70.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.2 ua/2.1 os/linux lang/go#1.23.2 md/GOOS#linux md/GOARCH#amd64 api/kms#1.37.2',
  boto3: 'Boto3/1.35.36 md/Botocore#1.35.36 ua/2.1 os/linux#5.10.226-214.880.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.7 md/pyimpl#CPython exec-env/AWS_ECS_FARGATE cfg/retry-mode#legacy Botocore/1.35.36',
  java: 'aws-sdk-java/2.28.16 Linux/5.10.226-214.880.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.4+7-LTS Java/21.0.4 vendor/Amazon.com_Inc. exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy',
  go: 'aws-sdk-go-v2/1.30.5 ua/2.1 os/linux lang/go#1.22.7 md/GOOS#linux md/GOARCH#arm64 api/kms#1.35.7',
} as const;

interface RoleOptions {
  session: string;
  mfa?: boolean;
  sourceIp?: string;
  userAgent?: string;
}

/** An assumed-role session (corpus lines 63–65), called directly. */
function role(account: string, roleName: string, o: RoleOptions): (t: number) => Caller {
  const roleId = `AROA${stableId(`role:${account}:${roleName}`, 17, UPPER_ALNUM)}`;
  return (t) => ({
    identity: {
      type: 'AssumedRole',
      principalId: `${roleId}:${o.session}`,
      arn: `arn:aws:sts::${account}:assumed-role/${roleName}/${o.session}`,
      accountId: account,
      accessKeyId: `ASIA${stableId(`akid:${account}:${roleName}:${o.session}:${Math.floor(t / (6 * HOUR))}`, 16, UPPER_ALNUM)}`,
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: roleId,
          arn: `arn:aws:iam::${account}:role/${roleName}`,
          accountId: account,
          userName: roleName,
        },
        attributes: { creationDate: sessionCreated(t, `${account}:${roleName}:${o.session}`), mfaAuthenticated: o.mfa ? 'true' : 'false' },
      },
    },
    account,
    sourceIp: o.sourceIp ?? '10.20.4.17',
    userAgent: o.userAgent ?? UA.boto3,
    direct: true,
  });
}

/** An IAM Identity Center user: role `AWSReservedSSO_<permission set>_<suffix>`, session = the user. */
function ssoUser(account: string, permissionSet: string, user: string, ip: string): (t: number) => Caller {
  const roleName = `AWSReservedSSO_${permissionSet}_${stableId(`sso:${permissionSet}`, 16, '0123456789abcdef')}`;
  return role(account, roleName, { session: user, mfa: false, sourceIp: ip, userAgent: UA.console });
}

/** The same caller, but the call was made by an AWS service on its behalf (`invokedBy`). */
function via(caller: (t: number) => Caller, service: string): (t: number) => Caller {
  return (t) => {
    const c = caller(t);
    return { ...c, identity: { ...c.identity, invokedBy: service }, sourceIp: service, userAgent: service, direct: false };
  };
}

/** An AWS service principal (CloudTrail encrypting its own log files). */
function awsService(service: string): (t: number) => Caller {
  return () => ({ identity: { type: 'AWSService', invokedBy: service }, account: null, sourceIp: service, userAgent: service, direct: false });
}

/** AWS's own service events (DeleteKey, RotateKey, DeleteExpiredKeyMaterial; corpus lines 16, 18, 44). */
function awsInternal(account: string): Caller {
  return { identity: { accountId: account, invokedBy: 'AWS Internal' }, account, sourceIp: 'AWS Internal', userAgent: 'AWS Internal', direct: false };
}

const CORP_IP = ['198.51.100.23', '198.51.100.41', '198.51.100.58'] as const;

const WHO = {
  // security
  analystPriya: via(ssoUser(ACCOUNTS.security, 'SecurityAnalyst', 'priya.natarajan@corvidlabs.example', CORP_IP[0]), 's3.amazonaws.com'),
  analystTomas: via(ssoUser(ACCOUNTS.security, 'SecurityAnalyst', 'tomas.oyelaran@corvidlabs.example', CORP_IP[1]), 's3.amazonaws.com'),
  secAdmin: ssoUser(ACCOUNTS.security, 'SecurityAdmin', 'dana.whitlock@corvidlabs.example', CORP_IP[2]),
  secAdminCli: role(ACCOUNTS.security, 'AWSReservedSSO_SecurityAdmin_' + stableId('sso:SecurityAdmin', 16, '0123456789abcdef'), {
    session: 'dana.whitlock@corvidlabs.example',
    sourceIp: CORP_IP[2],
    userAgent: UA.cli,
  }),
  finopsAdmin: ssoUser(ACCOUNTS.security, 'FinOpsAdmin', 'marcus.bell@corvidlabs.example', CORP_IP[0]),
  secConfig: (account: string) =>
    via(role(account, 'AWSServiceRoleForConfig', { session: 'AWSConfig-Describe', userAgent: 'config.amazonaws.com' }), 'config.amazonaws.com'),
  cloudtrail: awsService('cloudtrail.amazonaws.com'),
  // prod
  appApiS3: via(role(ACCOUNTS.prod, 'app-api-task', { session: '8f14e45fceea167a5a36dedd4bea2543' }), 's3.amazonaws.com'),
  appApiSecrets: via(role(ACCOUNTS.prod, 'app-api-task', { session: '8f14e45fceea167a5a36dedd4bea2543' }), 'secretsmanager.amazonaws.com'),
  ordersLambda: via(role(ACCOUNTS.prod, 'orders-processor-role', { session: 'orders-processor' }), 'lambda.amazonaws.com'),
  secretsRotation: via(role(ACCOUNTS.prod, 'secrets-rotation-lambda', { session: 'rotate-db-password' }), 'secretsmanager.amazonaws.com'),
  autoscaling: via(role(ACCOUNTS.prod, 'AWSServiceRoleForAutoScaling', { session: 'AutoScaling' }), 'autoscaling.amazonaws.com'),
  paymentsApi: role(ACCOUNTS.prod, 'payments-api-task', { session: 'c4ca4238a0b923820dcc509a6f75849b', userAgent: UA.java, sourceIp: '10.20.8.91' }),
  keyCustodian: role(ACCOUNTS.prod, 'kms-key-custodian', { session: 'hsm-ceremony', mfa: true, userAgent: UA.cli, sourceIp: CORP_IP[1] }),
  reportingBatch: role(ACCOUNTS.prod, 'reporting-batch', { session: 'b6d767d2f8ed5d21a44b0e5886680cb9', sourceIp: '10.20.6.12' }),
  ciDeployer: role(ACCOUNTS.prod, 'ci-deployer', { session: 'gha-run-11873', userAgent: UA.terraform, sourceIp: '10.20.9.4' }),
  backupScanner: role(ACCOUNTS.prod, 'backup-scanner', { session: 'scan', sourceIp: '10.20.6.40' }),
  prodDev: ssoUser(ACCOUNTS.prod, 'Developer', 'alex.kim@corvidlabs.example', CORP_IP[1]),
  prodAdmin: ssoUser(ACCOUNTS.prod, 'PlatformAdmin', 'sam.ortega@corvidlabs.example', CORP_IP[0]),
  prodSecAdmin: ssoUser(ACCOUNTS.prod, 'SecurityAdmin', 'dana.whitlock@corvidlabs.example', CORP_IP[2]),
  prodSecAdminCli: role(ACCOUNTS.prod, 'AWSReservedSSO_SecurityAdmin_' + stableId('sso:SecurityAdmin', 16, '0123456789abcdef'), {
    session: 'dana.whitlock@corvidlabs.example',
    sourceIp: CORP_IP[2],
    userAgent: UA.cli,
  }),
  // data
  glueEtl: via(role(ACCOUNTS.data, 'glue-etl-curated', { session: 'GlueJobRunnerSession' }), 's3.amazonaws.com'),
  athenaAnalyst: via(ssoUser(ACCOUNTS.data, 'DataAnalyst', 'lena.fischer@corvidlabs.example', CORP_IP[0]), 's3.amazonaws.com'),
  drCopier: via(role(ACCOUNTS.data, 'dr-snapshot-copier', { session: 'nightly-copy' }), 'ec2.amazonaws.com'),
  reportsNightly: role(ACCOUNTS.data, 'reports-nightly', { session: 'ecs-task-5e1f', sourceIp: '10.30.2.77' }),
  dataAdmin: ssoUser(ACCOUNTS.data, 'PlatformAdmin', 'sam.ortega@corvidlabs.example', CORP_IP[0]),
  dataEngineer: ssoUser(ACCOUNTS.data, 'DataEngineer', 'ravi.menon@corvidlabs.example', CORP_IP[1]),
  terraform: role(ACCOUNTS.data, 'terraform-apply', { session: 'atlantis-pr-412', userAgent: UA.terraform, sourceIp: '10.30.9.5' }),
  grantJanitor: role(ACCOUNTS.data, 'kms-grant-janitor', { session: 'grant-janitor', userAgent: UA.boto3, sourceIp: '10.30.9.18' }),
  // outside the organization
  vendor: role(VENDOR.account, VENDOR.role, { session: VENDOR.session, userAgent: UA.go, sourceIp: '203.0.113.54' }),
  vendorViaS3: via(role(VENDOR.account, VENDOR.role, { session: 'lv-index-exports', userAgent: UA.go, sourceIp: '203.0.113.54' }), 's3.amazonaws.com'),
  stranger: via(role(STRANGER, 'contractor-etl', { session: 'export-job', sourceIp: '192.0.2.144' }), 's3.amazonaws.com'),
  auditor: via(role(AUDITOR, 'audit-evidence-reader', { session: 'bramwell-oakes-q3', sourceIp: '192.0.2.201' }), 's3.amazonaws.com'),
} as const;

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

/** A record and where it is delivered: the account whose trail logged it, and the Region. */
interface Logged {
  record: Json;
  time: number;
  account: string;
  region: string;
  /** KMS records vanish from the trail while KMS is excluded from it (see the coverage gap). */
  kms: boolean;
}

const CRYPTO_OPS = new Set(['Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncrypt']);

interface KmsCall {
  t: number;
  who: Caller;
  op: string;
  key: Key | null;
  req: Json | null;
  res?: Json | null;
  error?: readonly [string, string];
  readOnly: boolean;
  /** The account whose trail logs this copy (default: the key owner). */
  loggedIn?: string;
  region?: string;
  extra?: Json | null;
  serviceEventDetails?: Json;
  eventType?: 'AwsApiCall' | 'AwsServiceEvent';
  sharedEventId?: string;
  requestId?: string;
  /** eventSource (default kms.amazonaws.com). */
  source?: string;
  /** Default: the key, as `AWS::KMS::Key`; null for none. */
  resources?: Json[] | null;
}

/** One CloudTrail record in the field order the guide's examples use (corpus lines 9, 40, 46). */
function record(rng: Prng, c: KmsCall): Json {
  const region = c.region ?? c.key?.region ?? REGION;
  const source = c.source ?? 'kms.amazonaws.com';
  const r: Json = {
    eventVersion: '1.11',
    userIdentity: c.who.identity,
    eventTime: iso(c.t),
    eventSource: source,
    eventName: c.op,
    awsRegion: region,
    sourceIPAddress: c.who.sourceIp,
    userAgent: c.who.userAgent,
  };
  if (c.error) {
    r['errorCode'] = c.error[0];
    r['errorMessage'] = c.error[1];
  }
  r['requestParameters'] = c.req;
  r['responseElements'] = c.res ?? null;
  const extra = c.extra !== undefined ? c.extra : c.key && CRYPTO_OPS.has(c.op) && !c.error ? { keyMaterialId: c.key.material } : undefined;
  if (extra) r['additionalEventData'] = extra;
  if ((c.eventType ?? 'AwsApiCall') === 'AwsApiCall') r['requestID'] = c.requestId ?? rng.uuid();
  r['eventID'] = rng.uuid();
  r['readOnly'] = c.readOnly;
  if (c.resources !== undefined) {
    if (c.resources !== null) r['resources'] = c.resources;
  } else if (c.key) {
    r['resources'] = [{ accountId: c.key.account, type: 'AWS::KMS::Key', ARN: c.key.arn }];
  }
  r['eventType'] = c.eventType ?? 'AwsApiCall';
  r['managementEvent'] = true;
  r['recipientAccountId'] = c.loggedIn ?? c.key?.account ?? c.who.account;
  if (c.sharedEventId) r['sharedEventID'] = c.sharedEventId;
  if (c.serviceEventDetails) r['serviceEventDetails'] = c.serviceEventDetails;
  r['eventCategory'] = 'Management';
  if (c.who.direct) {
    r['tlsDetails'] = {
      tlsVersion: 'TLSv1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      clientProvidedHostHeader: source === 'kms.amazonaws.com' ? `kms.${region}.amazonaws.com` : `${source.split('.')[0] ?? 'kms'}.${region}.amazonaws.com`,
    };
  }
  return r;
}

class Trail {
  readonly logged: Logged[] = [];
  /** EventBridge lifecycle events (NDJSON lines, in order). */
  readonly lifecycle: string[] = [];
  /** EventBridge "AWS API Call via CloudTrail" copies of records also in the trail. */
  readonly apiCallEvents: string[] = [];

  /**
   * Log a call. A cross-account call is logged in both accounts with the same sharedEventID and
   * requestID and different eventIDs (DESIGN.md); only organization accounts (and the stranger,
   * whose trail ships here) have trails we receive.
   */
  call(rng: Prng, c: KmsCall): Json {
    const owner = c.loggedIn ?? c.key?.account ?? c.who.account ?? ACCOUNTS.security;
    const region = c.region ?? c.key?.region ?? REGION;
    const callerAccount = c.who.account;
    const crossAccount = c.key !== null && callerAccount !== null && callerAccount !== c.key.account && c.loggedIn === undefined;
    const kms = (c.source ?? 'kms.amazonaws.com') === 'kms.amazonaws.com';
    if (!crossAccount) {
      const rec = record(rng, c);
      this.logged.push({ record: rec, time: c.t, account: owner, region, kms });
      return rec;
    }
    const shared = c.sharedEventId ?? rng.uuid();
    const requestId = c.requestId ?? rng.uuid();
    const ownerCopy = record(rng, { ...c, sharedEventId: shared, requestId, loggedIn: owner });
    this.logged.push({ record: ownerCopy, time: c.t, account: owner, region, kms });
    // The caller's copy exists only where the caller's account has a trail delivering here. (Every
    // cross-account call in the demo reaches the key; an access-denied one would be logged only in
    // the caller's account, which is why the vendor's calls vanish after its access is removed.)
    const callerHasTrail = callerAccount !== null && (ORG_ACCOUNTS.includes(callerAccount) || callerAccount === STRANGER);
    if (callerHasTrail) {
      const callerCopy = record(rng, { ...c, sharedEventId: shared, requestId, loggedIn: callerAccount });
      this.logged.push({ record: callerCopy, time: c.t, account: callerAccount, region, kms });
    }
    return ownerCopy;
  }

  /** A CloudTrail trail-configuration call (PutEventSelectors, StopLogging). */
  trailCall(rng: Prng, c: Omit<KmsCall, 'key' | 'source'>): Json {
    const account = c.who.account ?? ACCOUNTS.security;
    const rec = record(rng, { ...c, key: null, source: 'cloudtrail.amazonaws.com', loggedIn: account, resources: null });
    this.logged.push({ record: rec, time: c.t, account, region: c.region ?? REGION, kms: false });
    return rec;
  }

  /** A record of another service (ignored by keytrail, counted). */
  other(entry: Logged): void {
    this.logged.push(entry);
  }

  /** A KMS lifecycle event as EventBridge delivers it (corpus: kms-guide-lifecycle-events.jsonl). */
  lifecycleEvent(id: string, detailType: string, key: Key, t: number): string {
    const line = JSON.stringify({
      version: '0',
      id,
      'detail-type': detailType,
      source: 'aws.kms',
      account: key.account,
      time: iso(t),
      region: key.region,
      resources: [key.arn],
      detail: { 'key-id': key.id },
    });
    this.lifecycle.push(line);
    return line;
  }

  /** The EventBridge copy of a trail record (same eventID: keytrail stores it once). */
  viaEventBridge(rng: Prng, rec: Json): void {
    this.apiCallEvents.push(
      JSON.stringify({
        version: '0',
        id: rng.uuid(),
        'detail-type': 'AWS API Call via CloudTrail',
        source: 'aws.kms',
        account: rec['recipientAccountId'],
        time: rec['eventTime'],
        region: rec['awsRegion'],
        resources: [],
        detail: rec,
      }),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Encryption contexts and small helpers
// ---------------------------------------------------------------------------------------------

function s3Context(bucket: string, objectKey: string): Json {
  return { 'aws:s3:arn': `arn:aws:s3:::${bucket}/${objectKey}` };
}

const APP_BUCKET = 'corvid-prod-app-uploads';
const LAKE_BUCKET = 'corvid-data-lake-curated';
const ORDERS_FUNCTION = `arn:aws:lambda:${REGION}:${ACCOUNTS.prod}:function:orders-processor`;
const DB_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNTS.prod}:secret:prod/app/db-credentials-Qm3xT9`;
const API_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNTS.prod}:secret:prod/app/stripe-api-key-Lk20Pa`;

function objectKey(rng: Prng, t: number, prefix: string, ext: string): string {
  const d = dateOf(t).replaceAll('-', '/');
  return `${prefix}/${d}/${rng.hex(8)}.${ext}`;
}

function keyPolicy(statements: Json[]): string {
  return JSON.stringify({ Version: '2012-10-17', Id: 'key-policy', Statement: statements }, null, 2);
}

function rootStatement(account: string): Json {
  return { Sid: 'EnableIAMPolicies', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' };
}

function denied(caller: Caller, action: string, key: Key, reason = 'because no identity-based policy allows the'): readonly [string, string] {
  const arn = String(caller.identity['arn']);
  return ['AccessDeniedException', `User: ${arn} is not authorized to perform: kms:${action} on resource: ${key.arn} ${reason} kms:${action} action`];
}

// ---------------------------------------------------------------------------------------------
// The expected-findings manifest
// ---------------------------------------------------------------------------------------------

/** One line of `demo/expected-findings.json`. */
export interface Expectation {
  detector_id: string;
  /** The key's alias (readable), or null for trail-level and custom-key-store findings. */
  key: string | null;
  /** The key ARN a finding must carry (`key_arn`), or null. */
  key_arn: string | null;
  /** UTC day of the event behind the finding (`occurred_at`), when it tells incidents apart. */
  date?: string;
  /** The caller account a finding must carry (`principal_account_id`), when it tells cases apart. */
  principal_account_id?: string;
  /** Exactly this many findings match (the detector must deduplicate). */
  exactly?: number;
  must_not_fire?: true;
  note: string;
}

class Manifest {
  readonly incidents: Expectation[] = [];
  readonly lookAlikes: Expectation[] = [];

  incident(detector: string, key: Key | null, t: number, note: string, more: Partial<Expectation> = {}): void {
    this.incidents.push({ detector_id: detector, key: key?.alias ?? null, key_arn: key?.arn ?? null, date: dateOf(t), ...more, note });
  }

  lookAlike(detector: string, key: Key | null, note: string, more: Partial<Expectation> = {}): void {
    this.lookAlikes.push({ detector_id: detector, key: key?.alias ?? null, key_arn: key?.arn ?? null, ...more, must_not_fire: true, note });
  }
}

// ---------------------------------------------------------------------------------------------
// The month
// ---------------------------------------------------------------------------------------------

/** Windows in which a key could not be used, so background traffic avoids (or fails in) them. */
interface Windows {
  /** KMS excluded from the organization trail: no KMS record is delivered. */
  trailGap: readonly [number, number];
  byokCreated: number;
  byokDisabled: readonly [number, number];
  byokVendorRemoved: number;
  legacyScheduled: number;
  legacyDeleted: number;
  ebsPending: readonly [number, number];
  paymentsNoMaterial: readonly (readonly [number, number])[];
  trailRotated: number;
}

const W: Windows = {
  trailGap: [at(9, '14:02:11'), at(9, '14:41:37')],
  byokCreated: at(1, '10:31:04'),
  byokDisabled: [at(14, '10:05:42'), at(14, '19:02:15')],
  byokVendorRemoved: at(27, '11:20:33'),
  legacyScheduled: at(5, '15:20:07'),
  legacyDeleted: at(12, '15:20:07'),
  ebsPending: [at(16, '14:03:26'), at(16, '14:29:40')],
  paymentsNoMaterial: [
    [at(24, '00:00:00'), at(24, '09:41:12')],
    [at(29, '16:12:48'), at(29, '17:05:30')],
  ],
  trailRotated: at(15, '03:12:44'),
};

const within = (t: number, [a, b]: readonly [number, number]) => t >= a && t < b;

/** Times spread over a day: `n` calls between `from` and `to` hours. */
function times(rng: Prng, day: number, n: number, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(at(day, '00:00:00') + rng.int(from * 3600, to * 3600 - 1) * 1000);
  return out.sort((a, b) => a - b);
}

const isWeekday = (day: number) => {
  const dow = new Date(at(day, '12:00:00')).getUTCDay();
  return dow !== 0 && dow !== 6;
};

/** Everyday use of every key: the baseline every finding stands out against. */
function background(trail: Trail): void {
  for (let day = 1; day <= DEMO_DAYS; day++) {
    const rng = new Prng(`background:${day}`);
    const K = KEYS;

    // Security: analysts read trail log files (S3 SSE-KMS decrypt).
    if (isWeekday(day)) {
      for (const t of times(rng, day, rng.int(2, 4), 13, 22)) {
        const who = rng.pick([WHO.analystPriya, WHO.analystTomas])(t);
        const acct = rng.pick(ORG_ACCOUNTS);
        const obj = `AWSLogs/${ORG_ID}/${acct}/CloudTrail/${REGION}/2026/10/${String(Math.max(1, day - 1)).padStart(2, '0')}/${acct}_CloudTrail_${REGION}_${rng.hex(6)}.json.gz`;
        trail.call(rng, {
          t, who, op: 'Decrypt', key: K.trail, readOnly: true,
          req: { encryptionContext: { 'aws:cloudtrail:arn': TRAIL_ARN, ...s3Context(TRAIL_BUCKET, obj) }, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
        });
      }
    }

    // AWS Config records each key's configuration daily.
    for (const key of Object.values(K)) {
      if (key === K.legacy && day > 12) continue; // deleted on the 12th
      if (key === K.byok && day < 2) continue; // created on the 1st, after Config's run
      const t = at(day, `04:${String(10 + rng.int(0, 40)).padStart(2, '0')}:${String(rng.int(0, 59)).padStart(2, '0')}`);
      const who = WHO.secConfig(key.account)(t);
      trail.call(rng, { t, who, op: 'DescribeKey', key, readOnly: true, req: { keyId: key.arn } });
      // Imported key material cannot rotate; Config does not ask.
      if (key !== K.payments) {
        trail.call(rng, { t: t + 1000, who, op: 'GetKeyRotationStatus', key, readOnly: true, req: { keyId: key.arn } });
      }
    }

    // Prod: the application's S3 uploads and downloads.
    for (const t of times(rng, day, rng.int(5, 9), 7, 23)) {
      trail.call(rng, {
        t, who: WHO.appApiS3(t), op: 'GenerateDataKey', key: K.app, readOnly: true,
        req: { keyId: K.app.arn, keySpec: 'AES_256', encryptionContext: s3Context(APP_BUCKET, objectKey(rng, t, 'uploads', 'pdf')) },
      });
    }
    for (const t of times(rng, day, rng.int(8, 14), 0, 24)) {
      trail.call(rng, {
        t, who: WHO.appApiS3(t), op: 'Decrypt', key: K.app, readOnly: true,
        req: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: s3Context(APP_BUCKET, objectKey(rng, t - rng.int(1, 20) * DAY, 'uploads', 'pdf')) },
      });
    }
    // Lambda decrypts its environment variables on cold start.
    for (const t of times(rng, day, rng.int(3, 5), 0, 24)) {
      trail.call(rng, {
        t, who: WHO.ordersLambda(t), op: 'Decrypt', key: K.app, readOnly: true,
        req: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: { 'aws:lambda:FunctionArn': ORDERS_FUNCTION } },
      });
    }
    // Secrets Manager decrypts secrets for the application.
    for (const t of times(rng, day, rng.int(4, 6), 0, 24)) {
      trail.call(rng, {
        t, who: WHO.appApiSecrets(t), op: 'Decrypt', key: K.app, readOnly: true,
        req: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: { SecretARN: rng.pick([DB_SECRET, API_SECRET]), SecretVersionId: stableUuid(`secret-version:${Math.floor(day / 7)}`) } },
      });
    }
    // Weekly secret rotation.
    if (new Date(at(day, '12:00:00')).getUTCDay() === 0) {
      const t = at(day, '03:00:00') + rng.int(0, 600) * 1000;
      trail.call(rng, {
        t, who: WHO.secretsRotation(t), op: 'GenerateDataKey', key: K.app, readOnly: true,
        req: { keyId: K.app.arn, keySpec: 'AES_256', encryptionContext: { SecretARN: DB_SECRET, SecretVersionId: stableUuid(`secret-version:${Math.floor((day + 1) / 7)}`) } },
      });
    }

    // Prod: EBS volumes for the autoscaling group (corpus lines 61–63). Avoids the minutes the key
    // was pending deletion on the 16th: nothing launched then.
    for (const t of times(rng, day, 2, 0, 24)) {
      if (within(t, W.ebsPending) || within(t + 5 * MINUTE, W.ebsPending)) continue;
      const volume = `vol-0${rng.hex(16)}`;
      const instance = `i-0${rng.hex(16)}`;
      trail.call(rng, {
        t, who: WHO.autoscaling(t), op: 'GenerateDataKeyWithoutPlaintext', key: K.ebs, readOnly: true,
        req: { keyId: K.ebs.arn, numberOfBytes: 64, encryptionContext: { 'aws:ebs:id': volume } },
      });
      const grantRes = { grantId: new Prng(`grant:${volume}`).hex(64), keyId: K.ebs.arn };
      trail.call(rng, {
        t: t + 2000, who: WHO.autoscaling(t), op: 'CreateGrant', key: K.ebs, readOnly: false,
        req: {
          keyId: K.ebs.arn,
          granteePrincipal: `${ACCOUNTS.prod}:aws:ec2-infrastructure:${instance}`,
          operations: ['Decrypt'],
          constraints: { encryptionContextSubset: { 'aws:ebs:id': volume } },
          retiringPrincipal: `ec2.${REGION}.amazonaws.com`,
        },
        res: grantRes,
      });
      const ec2 = role(ACCOUNTS.prod, 'aws:ec2-infrastructure', { session: instance, sourceIp: 'ec2.amazonaws.com', userAgent: 'ec2.amazonaws.com' })(t);
      trail.call(rng, {
        t: t + 9000, who: { ...ec2, direct: false }, op: 'Decrypt', key: K.ebs, readOnly: true,
        req: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: { 'aws:ebs:id': volume } },
      });
    }
    // Data's DR job copies prod snapshots every night: cross-account inside the organization,
    // logged in both accounts.
    {
      const t = at(day, '02:30:00') + rng.int(0, 900) * 1000;
      trail.call(rng, {
        t, who: WHO.drCopier(t), op: 'Decrypt', key: K.ebs, readOnly: true,
        req: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: { 'aws:ebs:id': `snap-0${rng.hex(16)}` } },
      });
    }

    // Prod: payments tokenization with the imported-material key; fails while it has no material.
    for (const t of times(rng, day, rng.int(7, 12), 0, 24)) {
      const op = rng.chance(0.45) ? 'Encrypt' : 'Decrypt';
      const noMaterial = W.paymentsNoMaterial.some((w) => within(t, w));
      trail.call(rng, {
        t, who: WHO.paymentsApi(t), op, key: K.payments, readOnly: true,
        req: { keyId: K.payments.arn, encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: { tenant: `t-${String(rng.int(1, 60)).padStart(4, '0')}`, purpose: 'card-token' } },
        ...(noMaterial ? { error: ['KMSInvalidStateException', `${K.payments.arn} is pending import.`] as const } : {}),
      });
    }

    // Data: the lake's Glue jobs write, analysts read on weekdays.
    for (const t of times(rng, day, rng.int(4, 8), 1, 5)) {
      trail.call(rng, {
        t, who: WHO.glueEtl(t), op: 'GenerateDataKey', key: K.lake, readOnly: true,
        req: { keyId: K.lake.arn, keySpec: 'AES_256', encryptionContext: s3Context(LAKE_BUCKET, objectKey(rng, t, 'orders/parquet', 'parquet')) },
      });
    }
    if (isWeekday(day)) {
      for (const t of times(rng, day, rng.int(3, 8), 14, 22)) {
        trail.call(rng, {
          t, who: WHO.athenaAnalyst(t), op: 'Decrypt', key: K.lake, readOnly: true,
          req: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: s3Context(LAKE_BUCKET, objectKey(rng, t - rng.int(1, 9) * DAY, 'orders/parquet', 'parquet')) },
        });
      }
    }

    // Data: the legacy nightly report job. It still runs after the key was scheduled for deletion
    // (nobody knew it used the key) and after the deletion, until someone turns it off.
    if (day <= 15) {
      const t = at(day, '01:30:00') + rng.int(0, 120) * 1000;
      const who = WHO.reportsNightly(t);
      const req = { keyId: KEYS.legacy.alias, encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: { report: 'daily-revenue' } };
      if (t < W.legacyScheduled) {
        trail.call(rng, { t, who, op: 'Decrypt', key: K.legacy, readOnly: true, req });
        trail.call(rng, { t: t + 40_000, who, op: 'GenerateDataKey', key: K.legacy, readOnly: true, req: { keyId: KEYS.legacy.alias, keySpec: 'AES_256', encryptionContext: { report: 'daily-revenue' } } });
      } else if (t < W.legacyDeleted) {
        // Retried once, then the job gives up.
        for (const dt of [0, 30_000]) {
          trail.call(rng, { t: t + dt, who, op: 'Decrypt', key: K.legacy, readOnly: true, req, error: ['KMSInvalidStateException', `${K.legacy.arn} is pending deletion.`] });
        }
      } else {
        trail.call(rng, { t, who, op: 'Decrypt', key: null, loggedIn: ACCOUNTS.data, readOnly: true, req, error: ['NotFoundException', `Alias arn:aws:kms:${REGION}:${ACCOUNTS.data}:${KEYS.legacy.alias} is not found.`] });
      }
    }

    // Data: the vendor's role decrypts with the BYOK key four times a day and generates a data key
    // once — until its access is removed on the 27th (its denied calls are logged only in its own
    // account, so they vanish from ours).
    for (const [hh, op] of [['00:15', 'Decrypt'], ['03:00', 'GenerateDataKey'], ['06:15', 'Decrypt'], ['12:15', 'Decrypt'], ['18:15', 'Decrypt']] as const) {
      const t = at(day, `${hh}:00`) + rng.int(-600, 600) * 1000;
      if (t < W.byokCreated + 2 * HOUR || t >= W.byokVendorRemoved) continue;
      const disabled = within(t, W.byokDisabled);
      const context = { 'lumenvault:workspace': VENDOR.workspace, 'lumenvault:purpose': 'vault-root-key' };
      trail.call(rng, {
        t, who: WHO.vendor(t), op, key: K.byok, readOnly: true,
        req: op === 'Decrypt'
          ? { keyId: K.byok.arn, encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: context }
          : { keyId: K.byok.arn, keySpec: 'AES_256', encryptionContext: context },
        ...(disabled ? { error: ['DisabledException', `${K.byok.arn} is disabled.`] as const } : {}),
      });
    }

    // CloudTrail's own use of the trail key is added per delivered file (see deliver()).
  }
}

/** The incidents and their benign look-alikes; each is written into the manifest where it happens. */
function incidents(trail: Trail, m: Manifest): void {
  const K = KEYS;
  const rng = new Prng('incidents');

  // --- Oct 1: the BYOK key is created for Lumenvault (vendor guide steps 1–3) -----------------
  const byokPolicy = keyPolicy([
    rootStatement(ACCOUNTS.data),
    {
      Sid: 'AllowLumenvaultUseOfTheKey',
      Effect: 'Allow',
      Principal: { AWS: VENDOR_ROLE_ARN },
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
      Resource: '*',
    },
  ]);
  {
    const t = W.byokCreated;
    // corpus line 7 (CreateKey), line 4 (CreateAlias), line 6 (CreateGrant)
    trail.call(rng, {
      t, who: WHO.dataAdmin(t), op: 'CreateKey', key: K.byok, readOnly: false,
      req: { policy: byokPolicy, description: K.byok.description, keyUsage: 'ENCRYPT_DECRYPT', keySpec: 'SYMMETRIC_DEFAULT', origin: 'AWS_KMS', multiRegion: false, bypassPolicyLockoutSafetyCheck: false, tags: [{ tagKey: 'vendor', tagValue: VENDOR.name }] },
      res: {
        keyMetadata: {
          aWSAccountId: K.byok.account, keyId: K.byok.id, arn: K.byok.arn, creationDate: javaDate(t), enabled: true, description: K.byok.description,
          keyUsage: 'ENCRYPT_DECRYPT', keyState: 'Enabled', origin: 'AWS_KMS', keyManager: 'CUSTOMER', customerMasterKeySpec: 'SYMMETRIC_DEFAULT',
          keySpec: 'SYMMETRIC_DEFAULT', encryptionAlgorithms: ['SYMMETRIC_DEFAULT'], multiRegion: false, currentKeyMaterialId: K.byok.material,
        },
      },
    });
    trail.call(rng, {
      t: t + 21_000, who: WHO.dataAdmin(t), op: 'CreateAlias', key: K.byok, readOnly: false,
      req: { aliasName: K.byok.alias, targetKeyId: K.byok.id },
      resources: [
        { accountId: K.byok.account, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${BYOK_REGION}:${K.byok.account}:${K.byok.alias}` },
        { accountId: K.byok.account, type: 'AWS::KMS::Key', ARN: K.byok.arn },
      ],
    });
    trail.call(rng, {
      t: t + 47_000, who: WHO.dataAdmin(t), op: 'EnableKeyRotation', key: K.byok, readOnly: false,
      req: { keyId: K.byok.arn, rotationPeriodInDays: 365 },
    });
  }
  const vendorGrantId = new Prng('grant:lumenvault').hex(64);
  {
    const t = W.byokCreated + 9 * MINUTE;
    trail.call(rng, {
      t, who: WHO.dataAdmin(t), op: 'CreateGrant', key: K.byok, readOnly: false,
      req: { keyId: K.byok.arn, granteePrincipal: VENDOR_ROLE_ARN, operations: ['Decrypt', 'Encrypt', 'GenerateDataKey', 'DescribeKey'], name: 'lumenvault-vault-integration' },
      res: { grantId: vendorGrantId, keyId: K.byok.arn },
    });
    // The vendor validates access (vendor guide step 4: describe-key).
    const v = W.byokCreated + 52 * MINUTE;
    trail.call(rng, { t: v, who: WHO.vendor(v), op: 'DescribeKey', key: K.byok, readOnly: true, req: { keyId: K.byok.arn } });
  }

  // --- Oct 2: routine changes that look like incidents but are not -----------------------------
  {
    const t = at(2, '10:14:52');
    trail.trailCall(rng, {
      t, who: WHO.secAdmin(t), op: 'PutEventSelectors', readOnly: false,
      req: {
        trailName: TRAIL_ARN,
        eventSelectors: [{ readWriteType: 'All', includeManagementEvents: true, dataResources: [{ type: 'AWS::S3::Object', values: [`arn:aws:s3:::${APP_BUCKET}/`] }], excludeManagementEventSources: [] }],
      },
      res: {
        trailARN: TRAIL_ARN,
        eventSelectors: [{ readWriteType: 'All', includeManagementEvents: true, dataResources: [{ type: 'AWS::S3::Object', values: [`arn:aws:s3:::${APP_BUCKET}/`] }], excludeManagementEventSources: [] }],
      },
    });
    m.lookAlike('CloudTrail.KmsEventsExcluded', null, 'PutEventSelectors on the organization trail that adds S3 data events and keeps every management event source, KMS included.', { date: '2026-10-02' });

    // CloudTrail's default key policy: "*" may decrypt, but only callers in the account (kms:CallerAccount).
    const p = at(2, '11:02:09');
    trail.call(rng, {
      t: p, who: WHO.secAdmin(p), op: 'PutKeyPolicy', key: K.trail, readOnly: false,
      req: {
        keyId: K.trail.arn, policyName: 'default', bypassPolicyLockoutSafetyCheck: false,
        policy: keyPolicy([
          rootStatement(ACCOUNTS.security),
          { Sid: 'AllowCloudTrailToEncryptLogs', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'kms:GenerateDataKey*', Resource: '*', Condition: { StringEquals: { 'aws:SourceArn': TRAIL_ARN }, StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:aws:cloudtrail:*:${ACCOUNTS.security}:trail/*` } } },
          { Sid: 'AllowCloudTrailToDescribeKey', Effect: 'Allow', Principal: { Service: 'cloudtrail.amazonaws.com' }, Action: 'kms:DescribeKey', Resource: '*' },
          { Sid: 'AllowPrincipalsInTheAccountToDecryptLogFiles', Effect: 'Allow', Principal: { AWS: '*' }, Action: ['kms:Decrypt', 'kms:ReEncryptFrom'], Resource: '*', Condition: { StringEquals: { 'kms:CallerAccount': ACCOUNTS.security }, StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:aws:cloudtrail:*:${ACCOUNTS.security}:trail/*` } } },
        ]),
      },
    });
    m.lookAlike('KMS.KeyPolicyPublic', K.trail, 'PutKeyPolicy with CloudTrail\'s default statement: Principal "*" constrained by kms:CallerAccount to the security account.');

    const d = at(2, '15:37:20');
    trail.call(rng, { t: d, who: WHO.secAdmin(d), op: 'DescribeCustomKeyStores', key: null, loggedIn: ACCOUNTS.security, readOnly: true, req: { customKeyStoreId: CUSTOM_KEY_STORE_ID } });
    m.lookAlike('KMS.CustomKeyStoreChanged', null, 'DescribeCustomKeyStores: a read of the CloudHSM key store, not a change.', { date: '2026-10-02' });
  }

  // --- Oct 3: the payments key's imported material is re-imported, expiring in three weeks -----
  function reimport(t: number, validTo: number | null, note: string): void {
    // corpus line 35 (GetParametersForImport), line 36 (ImportKeyMaterial)
    trail.call(rng, {
      t, who: WHO.keyCustodian(t), op: 'GetParametersForImport', key: K.payments, readOnly: true,
      req: { keyId: K.payments.arn, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_4096' },
    });
    const i = t + 4 * MINUTE + 12_000;
    trail.call(rng, {
      t: i, who: WHO.keyCustodian(i), op: 'ImportKeyMaterial', key: K.payments, readOnly: false,
      req: validTo === null
        ? { keyId: K.payments.arn, expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE', importType: 'EXISTING_KEY_MATERIAL' }
        : { keyId: K.payments.arn, validTo: javaDate(validTo), expirationModel: 'KEY_MATERIAL_EXPIRES', importType: 'EXISTING_KEY_MATERIAL' },
      res: { keyId: K.payments.arn, keyMaterialId: K.payments.material },
    });
    m.incident('KMS.KeyMaterialImported', K.payments, i, note);
  }
  reimport(at(3, '09:12:40'), at(24, '00:00:00'), 'ImportKeyMaterial re-imports the payments key material with validTo 2026-10-24 (three weeks out).');

  // --- Oct 5: the legacy key is scheduled for deletion; its nightly job still uses it ----------
  {
    const t = W.legacyScheduled;
    // corpus line 47/49
    const sched = trail.call(rng, {
      t, who: WHO.dataAdmin(t), op: 'ScheduleKeyDeletion', key: K.legacy, readOnly: false,
      req: { keyId: K.legacy.arn, pendingWindowInDays: 7 },
      res: { keyId: K.legacy.arn, deletionDate: javaDate(W.legacyDeleted), keyState: 'PendingDeletion', pendingWindowInDays: 7 },
    });
    trail.viaEventBridge(rng, sched);
    m.incident('KMS.KeyDeletionScheduled', K.legacy, t, 'ScheduleKeyDeletion with a 7-day window; the usage summary shows the nightly reports job still decrypting with it.');
    m.incident('KMS.PendingDeletionKeyUsed', K.legacy, at(6, '01:30:00'), 'reports-nightly keeps calling Decrypt every night from the 6th until the key is deleted on the 12th: KMSInvalidStateException "... is pending deletion.".', { principal_account_id: ACCOUNTS.data, date: '2026-10-06' });
  }

  // --- Oct 7/14/21: the external auditor reads exports (suppressed in the config) -------------
  for (const day of [7, 14, 21]) {
    const t = at(day, '16:20:00') + rng.int(0, 1800) * 1000;
    trail.call(rng, {
      t, who: WHO.auditor(t), op: 'Decrypt', key: K.lake, readOnly: true,
      req: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: s3Context(LAKE_BUCKET, `audit-exports/2026-q3/ledger-${day}.parquet`) },
    });
  }
  m.lookAlike('KMS.CrossAccountUse', K.lake, 'The external auditor\'s account decrypts audit exports on the 7th, 14th and 21st; keytrail.config.json suppresses it with a reason.', { principal_account_id: AUDITOR });

  // --- Oct 8: benign changes on prod-ebs (denials under the burst threshold) and the data lake ---
  {
    // 9 denials in 10 minutes: one short of the burst threshold (and all inside one quarter hour,
    // so a detector counting in fixed windows sees all nine together).
    const start = at(8, '09:46:00');
    for (let i = 0; i < 9; i++) {
      const t = start + i * 65_000 + rng.int(0, 20) * 1000;
      const who = WHO.ciDeployer(t);
      trail.call(rng, { t, who, op: 'DescribeKey', key: K.ebs, readOnly: true, req: { keyId: K.ebs.alias }, error: denied(who, 'DescribeKey', K.ebs) });
    }
    m.lookAlike('KMS.AccessDeniedBurst', K.ebs, 'ci-deployer is denied DescribeKey 9 times in 10 minutes on the 8th: one short of the threshold.', { principal_account_id: ACCOUNTS.prod });

    // "*" constrained to the organization: not public.
    const t = at(8, '13:25:31');
    trail.call(rng, {
      t, who: WHO.dataAdmin(t), op: 'PutKeyPolicy', key: K.lake, readOnly: false,
      req: {
        keyId: K.lake.arn, policyName: 'default', bypassPolicyLockoutSafetyCheck: false,
        policy: keyPolicy([
          rootStatement(ACCOUNTS.data),
          { Sid: 'AllowOrganizationReadsThroughS3', Effect: 'Allow', Principal: { AWS: '*' }, Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG_ID, 'kms:ViaService': `s3.${REGION}.amazonaws.com` } } },
        ]),
      },
    });
    m.lookAlike('KMS.KeyPolicyPublic', K.lake, 'PutKeyPolicy with Principal "*" constrained by aws:PrincipalOrgID (and kms:ViaService): organization-wide, not public.');

    const r = at(8, '13:31:02');
    trail.call(rng, { t: r, who: WHO.dataAdmin(r), op: 'EnableKeyRotation', key: K.lake, readOnly: false, req: { keyId: K.lake.arn, rotationPeriodInDays: 180 } });
    trail.call(rng, { t: r + 9000, who: WHO.dataAdmin(r), op: 'GetKeyRotationStatus', key: K.lake, readOnly: true, req: { keyId: K.lake.arn } });
    m.lookAlike('KMS.RotationDisabled', K.lake, 'EnableKeyRotation and GetKeyRotationStatus: rotation turned on, not off.');
  }

  // --- Oct 9: KMS excluded from the organization trail for 39 minutes --------------------------
  {
    const [t, back] = W.trailGap;
    const excluded = [{ readWriteType: 'All', includeManagementEvents: true, dataResources: [{ type: 'AWS::S3::Object', values: [`arn:aws:s3:::${APP_BUCKET}/`] }], excludeManagementEventSources: ['kms.amazonaws.com'] }];
    trail.trailCall(rng, { t, who: WHO.finopsAdmin(t), op: 'PutEventSelectors', readOnly: false, req: { trailName: TRAIL_ARN, eventSelectors: excluded }, res: { trailARN: TRAIL_ARN, eventSelectors: excluded } });
    m.incident('CloudTrail.KmsEventsExcluded', null, t, 'PutEventSelectors on the organization trail with excludeManagementEventSources ["kms.amazonaws.com"] (a cost cut); KMS records are missing from the trail until it is reverted 39 minutes later.', { date: '2026-10-09' });
    const restored = [{ readWriteType: 'All', includeManagementEvents: true, dataResources: [{ type: 'AWS::S3::Object', values: [`arn:aws:s3:::${APP_BUCKET}/`] }], excludeManagementEventSources: [] }];
    trail.trailCall(rng, { t: back, who: WHO.secAdminCli(back), op: 'PutEventSelectors', readOnly: false, req: { trailName: TRAIL_ARN, eventSelectors: restored }, res: { trailARN: TRAIL_ARN, eventSelectors: restored } });
  }

  // --- Oct 11: prod-ebs policy names the data account's DR role (inside the organization) ------
  {
    const t = at(11, '10:02:48');
    trail.call(rng, {
      t, who: WHO.prodAdmin(t), op: 'PutKeyPolicy', key: K.ebs, readOnly: false,
      req: {
        keyId: K.ebs.arn, policyName: 'default', bypassPolicyLockoutSafetyCheck: false,
        policy: keyPolicy([
          rootStatement(ACCOUNTS.prod),
          { Sid: 'AllowDrSnapshotCopies', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNTS.data}:role/dr-snapshot-copier` }, Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:CreateGrant', 'kms:ReEncrypt*'], Resource: '*', Condition: { StringEquals: { 'kms:ViaService': `ec2.${REGION}.amazonaws.com` } } },
        ]),
      },
    });
    m.lookAlike('KMS.ExternalAccessChanged', K.ebs, 'PutKeyPolicy naming a role in the data account (trusted, same organization), and the daily EBS CreateGrant calls to ec2-infrastructure in the key\'s own account.');
    m.lookAlike('KMS.CrossAccountUse', K.ebs, 'The data account\'s dr-snapshot-copier decrypts with prod-ebs every night (both copies logged): a trusted organization account.');
  }

  // --- Oct 12: a developer tries to disable prod-app (denied); the legacy key is deleted -------
  {
    const t = at(12, '11:48:03');
    const who = WHO.prodDev(t);
    trail.call(rng, { t, who, op: 'DisableKey', key: K.app, readOnly: false, req: { keyId: K.app.arn }, error: denied(who, 'DisableKey', K.app) });
    m.lookAlike('KMS.KeyDisabled', K.app, 'A DisableKey that failed with AccessDeniedException: the key stayed enabled.');

    // corpus line 18 (DeleteKey service event) + the lifecycle event, delivered three times and
    // once more as an exact duplicate (EventBridge is at least once).
    const d = W.legacyDeleted;
    trail.call(rng, {
      t: d, who: awsInternal(K.legacy.account), op: 'DeleteKey', key: K.legacy, readOnly: false,
      req: null, eventType: 'AwsServiceEvent', serviceEventDetails: { keyId: K.legacy.id },
    });
    const first = trail.lifecycleEvent(stableUuid('lifecycle:legacy:1'), 'KMS CMK Deletion', K.legacy, d + 38_000);
    trail.lifecycleEvent(stableUuid('lifecycle:legacy:2'), 'KMS CMK Deletion', K.legacy, d + 41_000);
    trail.lifecycle.push(first);
    trail.lifecycleEvent(stableUuid('lifecycle:legacy:3'), 'KMS CMK Deletion', K.legacy, d + 17 * MINUTE);
    m.incident('KMS.KeyDeleted', K.legacy, d, 'The waiting period ends: DeleteKey service event plus the "KMS CMK Deletion" lifecycle event three times (and one redelivered copy) make one finding; high, because the key was used in the lookback window.', { exactly: 1 });
  }

  // --- Oct 13: rotation of the EBS key is turned off ------------------------------------------
  {
    const t = at(13, '17:22:19');
    trail.call(rng, { t, who: WHO.prodAdmin(t), op: 'DisableKeyRotation', key: K.ebs, readOnly: false, req: { keyId: K.ebs.arn } }); // corpus line 23
    m.incident('KMS.RotationDisabled', K.ebs, t, 'DisableKeyRotation on prod-ebs.');
    const u = at(13, '17:25:51');
    trail.call(rng, {
      t: u, who: WHO.keyCustodian(u), op: 'DisableKeyRotation', key: K.payments, readOnly: false, req: { keyId: K.payments.arn },
      error: ['UnsupportedOperationException', `${K.payments.arn} origin is EXTERNAL which is not valid for this operation.`],
    });
    m.lookAlike('KMS.RotationDisabled', K.payments, 'DisableKeyRotation on the imported-material key failed (UnsupportedOperationException): nothing changed.');
  }

  // --- Oct 14: the BYOK key is disabled for nine hours; the vendor's calls fail ----------------
  {
    const [t, back] = W.byokDisabled;
    const dis = trail.call(rng, { t, who: WHO.dataAdmin(t), op: 'DisableKey', key: K.byok, readOnly: false, req: { keyId: K.byok.arn }, res: { keyId: K.byok.arn } }); // corpus line 22
    trail.viaEventBridge(rng, dis);
    m.incident('KMS.KeyDisabled', K.byok, t, `DisableKey on the BYOK key (taken for unused during a cleanup): breaks vendor ${VENDOR.name}, whose role decrypts with it daily.`);
    m.incident('KMS.DisabledKeyUsed', K.byok, at(14, '12:15:00'), `${VENDOR.name}'s role fails with DisabledException at 12:15 and 18:15 until the key is re-enabled at 19:02.`, { principal_account_id: VENDOR.account });
    trail.call(rng, { t: back, who: WHO.dataAdmin(back), op: 'EnableKey', key: K.byok, readOnly: false, req: { keyId: K.byok.arn } }); // corpus line 25
    m.lookAlike('KMS.CrossAccountUse', K.byok, `${VENDOR.name}'s role (its own account) decrypts with the BYOK key declared for it, every day: allowlisted by the vendor declaration.`, { principal_account_id: VENDOR.account });
  }

  // --- Oct 15: the trail key rotates automatically -------------------------------------------
  {
    const t = W.trailRotated;
    trail.call(rng, {
      t, who: awsInternal(K.trail.account), op: 'RotateKey', key: K.trail, readOnly: false, req: null,
      eventType: 'AwsServiceEvent', serviceEventDetails: { rotationType: 'AUTOMATIC', keyId: K.trail.id },
    }); // corpus line 44
    trail.lifecycleEvent(stableUuid('lifecycle:trail:rotation'), 'KMS CMK Rotation', K.trail, t + 6000);
    m.incident('KMS.KeyRotated', K.trail, t, 'Automatic rotation: RotateKey service event plus the "KMS CMK Rotation" lifecycle event (info: evidence, not an alert).');
  }

  // --- Oct 16: the CloudHSM key store's kmsuser password is changed; prod-ebs deletion scheduled by mistake and cancelled
  {
    const base = { customKeyStoreName: 'corvid-hsm-store', clusterId: HSM_CLUSTER_ID };
    const steps: [string, number, Json][] = [
      ['DisconnectCustomKeyStore', at(16, '09:10:04'), { customKeyStoreId: CUSTOM_KEY_STORE_ID }],
      ['UpdateCustomKeyStore', at(16, '09:12:31'), { customKeyStoreId: CUSTOM_KEY_STORE_ID, keyStorePassword: 'HIDDEN_DUE_TO_SECURITY_REASONS' }],
      ['ConnectCustomKeyStore', at(16, '09:15:58'), { customKeyStoreId: CUSTOM_KEY_STORE_ID }],
    ];
    for (const [op, t, req] of steps) {
      trail.call(rng, { t, who: WHO.secAdminCli(t), op, key: null, loggedIn: ACCOUNTS.security, readOnly: false, req, extra: base }); // corpus lines 24, 55, 3
    }
    m.incident('KMS.CustomKeyStoreChanged', null, at(16, '09:10:04'), `Disconnect, update (kmsuser password) and reconnect of CloudHSM key store ${CUSTOM_KEY_STORE_ID}.`, { date: '2026-10-16' });

    const [t, cancelled] = W.ebsPending;
    const deletion = t + 30 * DAY;
    trail.call(rng, {
      t, who: WHO.prodAdmin(t), op: 'ScheduleKeyDeletion', key: K.ebs, readOnly: false,
      req: { keyId: K.ebs.arn, pendingWindowInDays: 30 },
      res: { keyId: K.ebs.arn, deletionDate: javaDate(deletion), keyState: 'PendingDeletion', pendingWindowInDays: 30 },
    });
    m.incident('KMS.KeyDeletionScheduled', K.ebs, t, 'ScheduleKeyDeletion of prod-ebs (the wrong key picked in the console); cancelled 26 minutes later.');
    trail.call(rng, { t: cancelled, who: WHO.prodAdmin(cancelled), op: 'CancelKeyDeletion', key: K.ebs, readOnly: false, req: { keyId: K.ebs.arn }, res: { keyId: K.ebs.arn } }); // corpus line 2
    trail.call(rng, { t: cancelled + 48_000, who: WHO.prodAdmin(cancelled), op: 'EnableKey', key: K.ebs, readOnly: false, req: { keyId: K.ebs.arn } });
    m.lookAlike('KMS.PendingDeletionKeyUsed', K.ebs, 'prod-ebs was pending deletion for 26 minutes on the 16th, then cancelled and re-enabled; its use afterwards succeeds.');
  }

  // --- Oct 17: prod-app's policy made public for 47 minutes ------------------------------------
  {
    const t = at(17, '16:44:09');
    const normal = [rootStatement(ACCOUNTS.prod)];
    trail.call(rng, {
      t, who: WHO.prodDev(t), op: 'PutKeyPolicy', key: K.app, readOnly: false,
      req: {
        keyId: K.app.arn, policyName: 'default', bypassPolicyLockoutSafetyCheck: false,
        policy: keyPolicy([...normal, { Sid: 'TempDebugAccess', Effect: 'Allow', Principal: { AWS: '*' }, Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: '*' }]),
      },
    }); // corpus line 40
    m.incident('KMS.KeyPolicyPublic', K.app, t, 'PutKeyPolicy adds a statement allowing Principal "*" kms:Decrypt with no condition ("TempDebugAccess"); reverted 47 minutes later.');
    const r = at(17, '17:31:40');
    trail.call(rng, { t: r, who: WHO.prodSecAdmin(r), op: 'PutKeyPolicy', key: K.app, readOnly: false, req: { keyId: K.app.arn, policyName: 'default', bypassPolicyLockoutSafetyCheck: false, policy: keyPolicy(normal) } });
  }

  // --- Oct 18/19: the vendor is granted, and uses, the data lake key (not declared for it) ----
  {
    const t = at(18, '15:08:27');
    trail.call(rng, {
      t, who: WHO.dataEngineer(t), op: 'CreateGrant', key: K.lake, readOnly: false,
      req: { keyId: K.lake.arn, granteePrincipal: VENDOR_ROLE_ARN, operations: ['Decrypt', 'DescribeKey'], name: 'lumenvault-index-exports' },
      res: { grantId: new Prng('grant:lake-vendor').hex(64), keyId: K.lake.arn },
    });
    m.incident('KMS.ExternalAccessChanged', K.lake, t, `CreateGrant on the data lake key to ${VENDOR.name}'s role, an account outside the organization (the vendor is declared only for the BYOK key).`);
    for (const [i, hhmm] of ['09:02:13', '09:04:51'].entries()) {
      const u = at(19, hhmm);
      trail.call(rng, {
        t: u, who: WHO.vendorViaS3(u), op: 'Decrypt', key: K.lake, readOnly: true,
        req: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: s3Context(LAKE_BUCKET, `exports/customers/part-000${i}.parquet`) },
      });
    }
    m.incident('KMS.CrossAccountUse', K.lake, at(19, '09:02:13'), `${VENDOR.name}'s account decrypts with the data lake key, which is not declared for it: the vendor allowlist is per key.`, { principal_account_id: VENDOR.account });
  }

  // --- Oct 19: the stranger decrypts a prod-app object; both logged copies arrive -------------
  {
    const t = at(19, '11:42:37');
    trail.call(rng, {
      t, who: WHO.stranger(t), op: 'Decrypt', key: K.app, readOnly: true,
      req: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: s3Context(APP_BUCKET, 'exports/customers-2026-10.csv') },
    });
    m.incident('KMS.CrossAccountUse', K.app, t, `Account ${STRANGER} (a former contractor's sandbox: not trusted, not a vendor) decrypts an export with prod-app. Logged twice, in prod and in the sandbox (same sharedEventID): one finding.`, { principal_account_id: STRANGER, exactly: 1 });
  }

  // --- Oct 20: the grant janitor revokes the vendor's grant -----------------------------------
  {
    const t = at(20, '06:40:12');
    trail.call(rng, { t, who: WHO.grantJanitor(t), op: 'ListGrants', key: K.byok, readOnly: true, req: { keyId: K.byok.arn } });
    trail.call(rng, { t: t + 3000, who: WHO.grantJanitor(t), op: 'RevokeGrant', key: K.byok, readOnly: false, req: { keyId: K.byok.arn, grantId: vendorGrantId } }); // corpus line 43
    m.incident('KMS.ExternalAccessChanged', K.byok, t, `RevokeGrant of ${VENDOR.name}'s grant (created on the 1st) by the grant-janitor job: the vendor loses its grant.`);
    // Tries to clean imported material on a key that has none.
    const u = t + 61_000;
    trail.call(rng, {
      t: u, who: WHO.grantJanitor(u), op: 'DeleteImportedKeyMaterial', key: K.byok, readOnly: false, req: { keyId: K.byok.arn },
      error: ['UnsupportedOperationException', `${K.byok.arn} origin is AWS_KMS which is not valid for this operation.`],
    });
    m.lookAlike('KMS.ImportedKeyMaterialDeleted', K.byok, 'DeleteImportedKeyMaterial on the BYOK key failed (UnsupportedOperationException, origin AWS_KMS): nothing was deleted.');
  }

  // --- Oct 22: a burst of denials on prod-app; the data lake key gets an external account ------
  {
    // Inside one quarter hour (03:15–03:30), so a detector counting in fixed windows sees all 12.
    const start = at(22, '03:16:05');
    for (let i = 0; i < 12; i++) {
      const t = start + i * 28_000 + rng.int(0, 9) * 1000;
      const who = WHO.reportingBatch(t);
      trail.call(rng, {
        t, who, op: 'Decrypt', key: K.app, readOnly: true,
        req: { keyId: K.app.arn, encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: { job: 'monthly-revenue' } },
        error: denied(who, 'Decrypt', K.app),
      });
    }
    m.incident('KMS.AccessDeniedBurst', K.app, start, 'reporting-batch (a new task role without kms:Decrypt) is denied 12 times in under 6 minutes.', { principal_account_id: ACCOUNTS.prod });

    const t = at(22, '14:56:44');
    trail.call(rng, {
      t, who: WHO.dataEngineer(t), op: 'PutKeyPolicy', key: K.lake, readOnly: false,
      req: {
        keyId: K.lake.arn, policyName: 'default', bypassPolicyLockoutSafetyCheck: false,
        policy: keyPolicy([
          rootStatement(ACCOUNTS.data),
          { Sid: 'AllowOrganizationReadsThroughS3', Effect: 'Allow', Principal: { AWS: '*' }, Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG_ID, 'kms:ViaService': `s3.${REGION}.amazonaws.com` } } },
          { Sid: 'AllowPartnerAnalytics', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${PARTNER}:root` }, Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: '*' },
        ]),
      },
    });
    m.incident('KMS.ExternalAccessChanged', K.lake, t, `PutKeyPolicy adds account ${PARTNER} (an analytics partner outside the organization) to the data lake key policy.`, { date: '2026-10-22' });
  }

  // --- Oct 23: the prod account's own trail is stopped ------------------------------------------
  {
    const t = at(23, '20:17:55');
    trail.trailCall(rng, { t, who: WHO.prodAdmin(t), op: 'StopLogging', readOnly: false, req: { name: PROD_TRAIL_ARN } });
    m.incident('CloudTrail.KmsEventsExcluded', null, t, 'StopLogging on the prod account\'s own management-events trail (which also logs KMS).', { date: '2026-10-23' });
  }

  // --- Oct 24: the payments key material expires, then is re-imported -------------------------
  {
    const t = at(24, '00:00:00');
    trail.call(rng, {
      t: t + 2000, who: awsInternal(K.payments.account), op: 'DeleteExpiredKeyMaterial', key: K.payments, readOnly: false, req: null,
      eventType: 'AwsServiceEvent', serviceEventDetails: { keyId: K.payments.id, keyMaterialId: K.payments.material },
    }); // corpus line 16
    trail.lifecycleEvent(stableUuid('lifecycle:payments:expiration'), 'KMS Imported Key Material Expiration', K.payments, t + 7000);
    m.incident('KMS.ImportedKeyMaterialExpired', K.payments, t, 'The imported material reaches validTo: "KMS Imported Key Material Expiration" lifecycle event plus the DeleteExpiredKeyMaterial service event. Payments calls fail (pending import) until 09:41.');
    m.lookAlike('KMS.PendingDeletionKeyUsed', K.payments, 'Payments calls fail with KMSInvalidStateException "... is pending import." while the key has no material (24th and 29th): a key state, but not pending deletion.');
    reimport(at(24, '09:36:47'), null, 'The custodian re-imports the expired material, now without expiry.');
  }

  // --- Oct 26: denials on prod-ebs spread over the day (no burst) ------------------------------
  {
    for (let i = 0; i < 12; i++) {
      const t = at(26, '08:05:00') + i * 58 * MINUTE + rng.int(0, 300) * 1000;
      const who = WHO.backupScanner(t);
      trail.call(rng, {
        t, who, op: 'Decrypt', key: K.ebs, readOnly: true,
        req: { keyId: K.ebs.arn, encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: { 'aws:ebs:id': `snap-0${rng.hex(16)}` } },
        error: denied(who, 'Decrypt', K.ebs),
      });
    }
    m.lookAlike('KMS.AccessDeniedBurst', K.ebs, 'backup-scanner is denied 12 times on the 26th, but about once an hour: never 10 within 15 minutes.', { principal_account_id: ACCOUNTS.prod, date: '2026-10-26' });
  }

  // --- Oct 27: Terraform rewrites the BYOK key policy from a stale template --------------------
  {
    const t = W.byokVendorRemoved;
    trail.call(rng, {
      t, who: WHO.terraform(t), op: 'PutKeyPolicy', key: K.byok, readOnly: false,
      req: {
        keyId: K.byok.arn, policyName: 'default', bypassPolicyLockoutSafetyCheck: false,
        policy: keyPolicy([
          rootStatement(ACCOUNTS.data),
          { Sid: 'AllowKeyAdministration', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNTS.data}:role/terraform-apply` }, Action: ['kms:Describe*', 'kms:Put*', 'kms:Enable*', 'kms:Disable*', 'kms:TagResource', 'kms:UntagResource'], Resource: '*' },
        ]),
      },
    });
    m.incident('KMS.ExternalAccessChanged', K.byok, t, `PutKeyPolicy from a stale Terraform template removes ${VENDOR.name}'s role from the BYOK key policy: the vendor loses access (high). Its later, denied calls are logged only in its own account.`, { date: '2026-10-27' });
  }

  // --- Oct 28: an attempt to schedule deletion of the never-delete trail key is denied --------
  {
    const t = at(28, '13:07:26');
    const who = WHO.secAdminCli(t);
    trail.call(rng, {
      t, who, op: 'ScheduleKeyDeletion', key: K.trail, readOnly: false, req: { keyId: K.trail.arn, pendingWindowInDays: 30 },
      error: denied(who, 'ScheduleKeyDeletion', K.trail, 'with an explicit deny in a service control policy: denies the'),
    });
    m.lookAlike('KMS.KeyDeletionScheduled', K.trail, 'ScheduleKeyDeletion of the never_delete trail key, denied by a service control policy (AccessDeniedException): nothing was scheduled.');
  }

  // --- Oct 29: the custodian deletes the payments key material by mistake, then re-imports -----
  {
    const t = W.paymentsNoMaterial[1]?.[0] ?? at(29, '16:12:48');
    trail.call(rng, { t, who: WHO.keyCustodian(t), op: 'DeleteImportedKeyMaterial', key: K.payments, readOnly: false, req: { keyId: K.payments.arn }, res: { keyId: K.payments.arn, keyMaterialId: K.payments.material } }); // corpus line 17
    m.incident('KMS.ImportedKeyMaterialDeleted', K.payments, t, 'DeleteImportedKeyMaterial during a "revocation drill" run against production; payments fail until the material is re-imported about 50 minutes later.');
    reimport(at(29, '17:00:58'), null, 'Re-import after the mistaken DeleteImportedKeyMaterial.');
  }

  // --- Oct 25: a decrypt with the wrong ciphertext (an ordinary error, not a disabled key) ------
  {
    const t = at(25, '19:44:10');
    trail.call(rng, {
      t, who: WHO.athenaAnalyst(t), op: 'Decrypt', key: K.lake, readOnly: true,
      req: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: s3Context(LAKE_BUCKET, 'orders/parquet/2026/10/24/corrupt.parquet') },
      error: ['InvalidCiphertextException', 'The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.'],
    });
    m.lookAlike('KMS.DisabledKeyUsed', K.lake, 'A Decrypt that fails with InvalidCiphertextException: an error, but not a disabled key.');
  }

  m.lookAlike('KMS.CrossAccountUse', K.trail, 'CloudTrail itself (AWSService principal) generates a data key for every delivered log file, and security analysts decrypt log files: no caller outside the key\'s account.');
}

// ---------------------------------------------------------------------------------------------
// Delivery: CloudTrail S3 files, CloudTrail's own KMS use, a digest file
// ---------------------------------------------------------------------------------------------

/** CloudTrail delivers roughly every few minutes; the demo groups a day into two files per account and Region. */
const BLOCK_HOURS = 12;

interface Slot {
  account: string;
  region: string;
  org: boolean;
  block: number;
  records: Logged[];
}

function slotKey(account: string, region: string, block: number): string {
  return `${account}|${region}|${String(block).padStart(4, '0')}`;
}

/** Other services' records that share the trail files (keytrail ignores and counts them). */
function noise(rng: Prng, account: string, block: number): Logged {
  const t = MONTH_START + block * BLOCK_HOURS * HOUR + rng.int(60, BLOCK_HOURS * 3600 - 60) * 1000;
  const rec: Json = {
    eventVersion: '1.08',
    userIdentity: { type: 'AWSService', invokedBy: 'ecs-tasks.amazonaws.com' },
    eventTime: iso(t),
    eventSource: 'sts.amazonaws.com',
    eventName: 'AssumeRole',
    awsRegion: REGION,
    sourceIPAddress: 'ecs-tasks.amazonaws.com',
    userAgent: 'ecs-tasks.amazonaws.com',
    requestParameters: { roleArn: `arn:aws:iam::${account}:role/app-task`, roleSessionName: rng.hex(32), durationSeconds: 3600 },
    responseElements: { credentials: { accessKeyId: `ASIA${rng.chars(16, UPPER_ALNUM)}`, sessionToken: 'HIDDEN', expiration: javaDate(t + HOUR) } },
    requestID: rng.uuid(),
    eventID: rng.uuid(),
    readOnly: true,
    resources: [{ accountId: account, type: 'AWS::IAM::Role', ARN: `arn:aws:iam::${account}:role/app-task` }],
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: account,
    sharedEventID: rng.uuid(),
    eventCategory: 'Management',
  };
  return { record: rec, time: t, account, region: REGION, kms: false };
}

interface DeliveredFile {
  path: string;
  body: string;
  stamp: number;
  account: string;
  region: string;
  oldest: number;
  newest: number;
}

function fileName(account: string, region: string, stamp: number): string {
  const s = iso(stamp).replace(/[-:]/g, '').slice(0, 13); // 20261001T0605
  return `${account}_CloudTrail_${region}_${s}Z_${new Prng(`file:${account}:${region}:${stamp}`).chars(16, ALNUM)}.json.gz`;
}

function dayPath(t: number): string {
  const d = new Date(t);
  return `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}`;
}

function trailPrefix(account: string, org: boolean): string {
  return org ? `AWSLogs/${ORG_ID}/${account}` : `AWSLogs/${account}`;
}

/**
 * Group records into delivery files, add CloudTrail's GenerateDataKey for each file it delivers
 * (logged in the security account), and drop KMS records from the minutes KMS was excluded.
 */
function deliver(trail: Trail): DeliveredFile[] {
  const rng = new Prng('delivery');
  const blocks = (DEMO_DAYS * 24) / BLOCK_HOURS;
  const blockEnd = (block: number) => MONTH_START + (block + 1) * BLOCK_HOURS * HOUR;
  const endsAtMidnight = (block: number) => (blockEnd(block) - MONTH_START) % DAY === 0;
  // A file is stamped a few minutes after the records it holds; the last file of a day is stamped
  // just before midnight so it stays in that day's folder, and later records go to the next file.
  const stampOfBlock = (account: string, region: string, block: number) => {
    const jitter = new Prng(`stamp:${account}:${region}:${block}`).int(0, 9);
    return endsAtMidnight(block) ? blockEnd(block) - (1 + (jitter % 3)) * MINUTE : blockEnd(block) + (5 + jitter) * MINUTE;
  };
  const blockOf = (account: string, region: string, t: number) => {
    const block = Math.floor((t - MONTH_START) / (BLOCK_HOURS * HOUR));
    return t >= stampOfBlock(account, region, block) && block + 1 < blocks ? block + 1 : block;
  };
  const slots = new Map<string, Slot>();
  const slotFor = (account: string, region: string, t: number): Slot => {
    const block = blockOf(account, region, t);
    const k = slotKey(account, region, block);
    let slot = slots.get(k);
    if (!slot) {
      slot = { account, region, org: ORG_ACCOUNTS.includes(account), block, records: [] };
      slots.set(k, slot);
    }
    return slot;
  };

  // Every organization account has other activity in us-east-1 in every block, so those files always exist.
  for (const account of ORG_ACCOUNTS) {
    for (let b = 0; b < blocks; b++) trail.other(noise(rng, account, b));
  }
  for (const entry of trail.logged) {
    if (entry.kms && within(entry.time, W.trailGap)) continue;
    slotFor(entry.account, entry.region, entry.time).records.push(entry);
  }

  // CloudTrail encrypts each file it delivers with the trail key (corpus line 68, in its current
  // form: an AWSService principal). Those calls are logged in the security account.
  const stampOf = (slot: Slot) => stampOfBlock(slot.account, slot.region, slot.block);
  const organizationSlots = [...slots.values()].filter((s) => s.org).sort((a, b) => slotKey(a.account, a.region, a.block).localeCompare(slotKey(b.account, b.region, b.block)));
  for (const slot of organizationSlots) {
    const stamp = stampOf(slot);
    const t = stamp - 20_000;
    if (t >= MONTH_END || within(t, W.trailGap)) continue;
    const key = KEYS.trail;
    const object = `${trailPrefix(slot.account, true)}/CloudTrail/${slot.region}/${dayPath(stamp)}/${fileName(slot.account, slot.region, stamp)}`;
    const rec = record(rng, {
      t, who: WHO.cloudtrail(t), op: 'GenerateDataKey', key, readOnly: true, loggedIn: ACCOUNTS.security, region: REGION,
      req: { keyId: key.arn, encryptionContext: { 'aws:cloudtrail:arn': TRAIL_ARN, ...s3Context(TRAIL_BUCKET, object) }, keySpec: 'AES_256' },
      extra: { keyMaterialId: t >= W.trailRotated ? new Prng('material:trail:2').hex(64) : key.material },
      sharedEventId: rng.uuid(),
    });
    slotFor(ACCOUNTS.security, REGION, t).records.push({ record: rec, time: t, account: ACCOUNTS.security, region: REGION, kms: true });
  }

  const files: DeliveredFile[] = [];
  for (const slot of [...slots.values()].sort((a, b) => slotKey(a.account, a.region, a.block).localeCompare(slotKey(b.account, b.region, b.block)))) {
    const stamp = stampOf(slot);
    slot.records.sort((a, b) => a.time - b.time || String(a.record['eventID']).localeCompare(String(b.record['eventID'])));
    const path = `trail/${trailPrefix(slot.account, slot.org)}/CloudTrail/${slot.region}/${dayPath(stamp)}/${fileName(slot.account, slot.region, stamp)}`;
    files.push({
      path,
      body: JSON.stringify({ Records: slot.records.map((r) => r.record) }),
      stamp,
      account: slot.account,
      region: slot.region,
      oldest: slot.records[0]?.time ?? stamp,
      newest: slot.records[slot.records.length - 1]?.time ?? stamp,
    });
  }
  return files;
}

/** One CloudTrail-Digest file (keytrail skips digests; the demo shows it does). */
function digest(files: readonly DeliveredFile[]): { path: string; body: string } {
  const first = files.filter((f) => f.account === ACCOUNTS.security && f.region === REGION).sort((a, b) => a.stamp - b.stamp)[0];
  if (!first) throw new Error('no security-account file to digest');
  const start = first.stamp - 30 * MINUTE;
  const end = first.stamp + 30 * MINUTE;
  const stamp = iso(end).replace(/[-:]/g, '');
  const path = `trail/${trailPrefix(ACCOUNTS.security, true)}/CloudTrail-Digest/${REGION}/${dayPath(end)}/${ACCOUNTS.security}_CloudTrail-Digest_${REGION}_${TRAIL_NAME}_${REGION}_${stamp}.json.gz`;
  const body = JSON.stringify({
    awsAccountId: ACCOUNTS.security,
    digestStartTime: iso(start),
    digestEndTime: iso(end),
    digestS3Bucket: TRAIL_BUCKET,
    digestS3Object: path.slice('trail/'.length),
    digestPublicKeyFingerprint: new Prng('digest:fingerprint').hex(32),
    digestSignatureAlgorithm: 'SHA256withRSA',
    newestEventTime: iso(first.newest),
    oldestEventTime: iso(first.oldest),
    previousDigestS3Bucket: null,
    previousDigestS3Object: null,
    previousDigestHashValue: null,
    previousDigestHashAlgorithm: null,
    previousDigestSignature: null,
    logFiles: [
      {
        s3Bucket: TRAIL_BUCKET,
        s3Object: first.path.slice('trail/'.length),
        // CloudTrail hashes the uncompressed log file.
        hashValue: createHash('sha256').update(first.body).digest('hex'),
        hashAlgorithm: 'SHA-256',
        newestEventTime: iso(first.newest),
        oldestEventTime: iso(first.oldest),
      },
    ],
  });
  return { path, body };
}

// ---------------------------------------------------------------------------------------------
// Config, manifest, README
// ---------------------------------------------------------------------------------------------

function config(): Json {
  const declared = (key: Key, extra: Json = {}) => ({ key_arn: key.arn, alias: key.alias, description: key.description, ...extra });
  return {
    trusted_accounts: [...ORG_ACCOUNTS],
    keys: [
      declared(KEYS.trail, {
        description: `${KEYS.trail.description}; deleting it makes the organization's audit trail unreadable.`,
        never_delete: true,
      }),
      declared(KEYS.app),
      declared(KEYS.ebs),
      declared(KEYS.payments, { description: `${KEYS.payments.description}; the HSM team re-imports the material before it expires.` }),
      declared(KEYS.lake),
      declared(KEYS.legacy),
      declared(KEYS.byok, {
        description: `${KEYS.byok.description}. ${VENDOR.name}'s role decrypts with it daily from its own account; disabling or deleting the key, removing the vendor from its policy, revoking its grant or letting its material expire breaks the integration.`,
        vendors: [{ name: VENDOR.name, accounts: [VENDOR.account], principals: [VENDOR_ROLE_ARN] }],
      }),
    ],
    suppressions: [
      {
        detector: 'KMS.CrossAccountUse',
        key: KEYS.lake.arn,
        account: AUDITOR,
        reason: 'External auditor (Bramwell & Oakes LLP) reads the quarterly audit exports under engagement letter SEC-2026-114.',
      },
    ],
  };
}

/** Every detector id in the DESIGN.md catalogue, in catalogue order. */
export const CATALOGUE: readonly string[] = [
  'KMS.PendingDeletionKeyUsed',
  'KMS.DisabledKeyUsed',
  'KMS.KeyDeletionScheduled',
  'KMS.KeyDisabled',
  'KMS.KeyDeleted',
  'KMS.ImportedKeyMaterialExpired',
  'KMS.ImportedKeyMaterialDeleted',
  'KMS.KeyMaterialImported',
  'KMS.KeyRotated',
  'KMS.RotationDisabled',
  'KMS.CrossAccountUse',
  'KMS.KeyPolicyPublic',
  'KMS.ExternalAccessChanged',
  'KMS.CustomKeyStoreChanged',
  'CloudTrail.KmsEventsExcluded',
  'KMS.AccessDeniedBurst',
];

function manifest(m: Manifest): Json {
  const order = (e: Expectation) => CATALOGUE.indexOf(e.detector_id);
  const sorted = (list: Expectation[]) => [...list].sort((a, b) => order(a) - order(b) || (a.date ?? '').localeCompare(b.date ?? '') || (a.key ?? '').localeCompare(b.key ?? ''));
  return {
    description: 'What keytrail must (incidents) and must not (look_alikes) find in demo/. Generated by scripts/generate-demo.ts; a finding matches an entry when detector_id and key_arn are equal and, where given, occurred_at falls on date and principal_account_id is equal.',
    month: `${DEMO_YEAR}-${String(DEMO_MONTH).padStart(2, '0')}`,
    organization: { id: ORG_ID, accounts: { ...ACCOUNTS } },
    vendor: { name: VENDOR.name, account: VENDOR.account, role_arn: VENDOR_ROLE_ARN, key: KEYS.byok.alias },
    outsiders: { stranger: STRANGER, partner: PARTNER, auditor: AUDITOR },
    keys: Object.values(KEYS).map((k) => ({ alias: k.alias, key_arn: k.arn, account: k.account, region: k.region, description: k.description })),
    incidents: sorted(m.incidents),
    look_alikes: sorted(m.lookAlikes),
  };
}

function readme(m: Manifest, summary: Omit<DemoSummary, 'bytes'>): string {
  const account = (id: string) => Object.entries(ACCOUNTS).find(([, v]) => v === id)?.[0] ?? id;
  const lines = [
    '# keytrail demo data',
    '',
    'Generated by `scripts/generate-demo.ts` (`npm run demo:generate`); do not edit by hand. `keytrail demo` (`npm start`)',
    'ingests it and prints what keytrail finds; `test/integration/demo.test.ts` checks the findings against',
    '`expected-findings.json`.',
    '',
    `A month (October ${DEMO_YEAR}) of AWS KMS activity for Corvid Labs, a made-up company with an AWS organization`,
    `\`${ORG_ID}\` of three accounts — security \`${ACCOUNTS.security}\`, prod \`${ACCOUNTS.prod}\`, data \`${ACCOUNTS.data}\` — and a made-up`,
    `SaaS vendor, ${VENDOR.name} (account \`${VENDOR.account}\`), whose role \`${VENDOR.role}\` uses the BYOK key from its own account.`,
    `${summary.records} CloudTrail records (${summary.kmsRecords} about KMS or trail configuration) in ${summary.trailFiles} delivery files, one digest file,`,
    `and ${summary.eventBridgeEvents} EventBridge events (lifecycle events, and two API calls also delivered in the trail).`,
    '',
    '| key | account | used by |',
    '| --- | --- | --- |',
    `| \`${KEYS.trail.alias}\` (never_delete) | security | CloudTrail (every log file), security analysts |`,
    `| \`${KEYS.app.alias}\` | prod | the app via S3, Lambda environment, Secrets Manager |`,
    `| \`${KEYS.ebs.alias}\` | prod | EBS via EC2 and autoscaling; the data account's DR snapshot copies |`,
    `| \`${KEYS.payments.alias}\` | prod | payments tokenization; imported key material |`,
    `| \`${KEYS.lake.alias}\` | data | Glue and Athena via S3; an external auditor (suppressed) |`,
    `| \`${KEYS.legacy.alias}\` | data | a forgotten nightly report job; deleted on the 12th |`,
    `| \`${KEYS.byok.alias}\` (${BYOK_REGION}) | data | ${VENDOR.name}, daily, from its own account |`,
    '',
    '## Incidents (must fire)',
    '',
    '| detector | key | day | what happened |',
    '| --- | --- | --- | --- |',
    ...m.incidents.map((e) => `| \`${e.detector_id}\` | ${e.key ? `\`${e.key}\`` : '—'} | ${e.date ?? ''} | ${e.note} |`),
    '',
    '## Look-alikes (must not fire)',
    '',
    '| detector | key | what happened |',
    '| --- | --- | --- |',
    ...m.lookAlikes.map((e) => `| \`${e.detector_id}\` | ${e.key ? `\`${e.key}\`` : '—'}${e.principal_account_id ? ` (caller ${account(e.principal_account_id)})` : ''} | ${e.note} |`),
    '',
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

export interface DemoSummary {
  trailFiles: number;
  records: number;
  kmsRecords: number;
  eventBridgeEvents: number;
  incidents: number;
  lookAlikes: number;
  bytes: number;
}

/**
 * gzip with a fixed header: zlib leaves mtime 0, but its OS byte depends on the platform that
 * built it. (The deflate stream itself can still differ between zlib builds: compare demo files
 * by their decompressed content across machines.)
 */
function gzip(text: string): Buffer {
  const out = gzipSync(Buffer.from(text, 'utf8'), { level: 9 });
  out[9] = 3; // OS = Unix
  return out;
}

/** One file of the demo, relative to the demo directory. */
export interface DemoFile {
  path: string;
  /** The file's text; written gzipped when `gzip` is set. */
  text: string;
  gzip: boolean;
}

export interface Demo {
  files: DemoFile[];
  summary: Omit<DemoSummary, 'bytes'>;
}

/** Build the whole demo in memory (pure and deterministic: same output on every call). */
export function buildDemo(): Demo {
  const trail = new Trail();
  const m = new Manifest();
  background(trail);
  incidents(trail, m);
  const delivered = deliver(trail);
  const dig = digest(delivered);

  let records = 0;
  let kmsRecords = 0;
  for (const f of delivered) {
    const parsed = JSON.parse(f.body) as { Records: Json[] };
    records += parsed.Records.length;
    kmsRecords += parsed.Records.filter((r) => r['eventSource'] === 'kms.amazonaws.com' || r['eventSource'] === 'cloudtrail.amazonaws.com').length;
  }
  const summary = {
    trailFiles: delivered.length,
    records,
    kmsRecords,
    eventBridgeEvents: trail.lifecycle.length + trail.apiCallEvents.length,
    incidents: m.incidents.length,
    lookAlikes: m.lookAlikes.length,
  };
  const files: DemoFile[] = [
    ...delivered.map((f) => ({ path: f.path, text: f.body, gzip: true })),
    { path: dig.path, text: dig.body, gzip: true },
    { path: 'eventbridge/kms-lifecycle.ndjson', text: `${trail.lifecycle.join('\n')}\n`, gzip: false },
    { path: 'eventbridge/kms-api-calls.ndjson', text: `${trail.apiCallEvents.join('\n')}\n`, gzip: false },
    { path: 'keytrail.config.json', text: `${JSON.stringify(config(), null, 2)}\n`, gzip: false },
    { path: 'expected-findings.json', text: `${JSON.stringify(manifest(m), null, 2)}\n`, gzip: false },
    { path: 'README.md', text: readme(m, summary), gzip: false },
  ];
  return { files, summary };
}

/** The generated parts of a demo directory; `generateDemo` replaces them and leaves anything else. */
export const GENERATED_DIRS = ['trail', 'eventbridge'] as const;

/** Generate the demo into `outDir` (its `trail/` and `eventbridge/` are replaced). */
export async function generateDemo(outDir: string): Promise<DemoSummary> {
  const demo = buildDemo();
  for (const dir of GENERATED_DIRS) await rm(join(outDir, dir), { recursive: true, force: true });
  let bytes = 0;
  for (const f of demo.files) {
    const full = join(outDir, f.path);
    const data = f.gzip ? gzip(f.text) : Buffer.from(f.text, 'utf8');
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, data);
    bytes += data.length;
  }
  return { ...demo.summary, bytes };
}

/** This repository's `demo/` directory. */
export const DEMO_DIR = fileURLToPath(new URL('../demo/', import.meta.url));

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(process.argv[2] ?? DEMO_DIR);
  const s = await generateDemo(out);
  console.log(
    `demo written to ${out}: ${s.trailFiles} trail files, ${s.records} records (${s.kmsRecords} KMS/trail), ` +
      `${s.eventBridgeEvents} EventBridge events, ${s.incidents} incidents, ${s.lookAlikes} look-alikes, ${(s.bytes / 1024).toFixed(0)} KiB`,
  );
}
