import { describe, expect, it } from 'vitest';
import { normalizeValue } from '../../../src/normalize/normalize.js';
import type { KmsEvent, NormalizeResult } from '../../../src/normalize/types.js';
import { asEventBridge, corpusLines, corpusRecord, lifecycleEvent, lifecycleLines } from '../../support/corpus.js';

const NOW = '2026-11-27T00:00:00.000Z';
const KEY = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const OWNER = '111122223333';

function normalize(value: unknown, position = 0): NormalizeResult {
  return normalizeValue(value, { uri: 'test.jsonl', position }, NOW);
}

function event(value: unknown): KmsEvent {
  const result = normalize(value);
  if (result.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(result)}`);
  return result.event;
}

type Expected = Pick<
  KmsEvent,
  'keyArn' | 'keyAccountId' | 'principalAccountId' | 'isCrossAccount' | 'outcome' | 'viaService'
> &
  Partial<KmsEvent>;

/**
 * Corpus lines chosen to cover every userIdentity shape the guide prints, service events, aliases,
 * S3/EBS decrypts without keyId, multi-Region keys and the guide's typos.
 */
const CASES: [line: number, what: string, expected: Expected][] = [
  [1, 'GenerateDataKey called by alias', { keyArn: KEY, keyAccountId: OWNER, principalAccountId: OWNER, isCrossAccount: false, outcome: 'success', viaService: null, aliasName: 'alias/project-key', principalType: 'IAMUser' }],
  [3, 'ConnectCustomKeyStore (no key at all)', { keyArn: null, keyAccountId: null, principalAccountId: OWNER, isCrossAccount: false, outcome: 'success', viaService: null, keyId: null }],
  [4, 'CreateAlias: alias resource beside the key', { keyArn: KEY, keyAccountId: OWNER, principalAccountId: OWNER, isCrossAccount: false, outcome: 'success', viaService: null, aliasName: 'alias/ExampleAlias', relatedKeyArns: [KEY] }],
  [8, 'CreateKey whose resources name another account than its response', { keyArn: 'arn:aws:kms:us-east-1:227179770375:key/39c5eb22-f37c-4956-92ca-89e8f8b57ab2', keyAccountId: '227179770375', principalAccountId: OWNER, isCrossAccount: true, outcome: 'success', viaService: null }],
  [9, 'Decrypt with an encryption context', { keyArn: KEY, keyAccountId: OWNER, principalAccountId: OWNER, isCrossAccount: false, outcome: 'success', viaService: null, encryptionContext: '{"Department":"Engineering","Project":"Alpha"}' }],
  [10, 'Decrypt failure', { keyArn: KEY, keyAccountId: OWNER, principalAccountId: OWNER, isCrossAccount: false, outcome: 'error', viaService: null, errorCode: 'IncorrectKeyException' }],
  [13, 'external key store failure', { keyArn: 'arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321', keyAccountId: OWNER, principalAccountId: OWNER, isCrossAccount: false, outcome: 'error', viaService: null, errorCode: 'KMSInvalidStateException' }],
  [16, 'DeleteExpiredKeyMaterial service event, userIdentity without type', { keyArn: KEY, keyAccountId: OWNER, principalAccountId: OWNER, isCrossAccount: false, outcome: 'success', viaService: null, eventKind: 'service_event', principalType: 'AWSService', requestParameters: null }],
  [18, 'DeleteKey service event', { keyArn: KEY, keyAccountId: OWNER, principalAccountId: OWNER, isCrossAccount: false, outcome: 'success', viaService: null, eventKind: 'service_event' }],
  [22, 'DisableKey whose resource accountId has 13 digits', { keyArn: KEY, keyAccountId: OWNER, principalAccountId: OWNER, isCrossAccount: false, outcome: 'success', viaService: null }],
  [30, 'error without a message', { keyArn: KEY, keyAccountId: OWNER, principalAccountId: OWNER, isCrossAccount: false, outcome: 'error', viaService: null, errorCode: 'InvalidKeyUsageException', errorMessage: null }],
  [32, 'GenerateRandom: empty resources, null requestParameters', { keyArn: null, keyAccountId: null, principalAccountId: OWNER, isCrossAccount: false, outcome: 'success', viaService: null, relatedKeyArns: [] }],
  [44, 'RotateKey service event', { keyArn: KEY, keyAccountId: OWNER, principalAccountId: OWNER, isCrossAccount: false, outcome: 'success', viaService: null, eventKind: 'service_event' }],
  [48, 'ScheduleKeyDeletion of a multi-Region key', { keyArn: 'arn:aws:kms:us-west-2:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab', keyAccountId: OWNER, principalAccountId: OWNER, isCrossAccount: false, outcome: 'success', viaService: null, keyId: 'mrk-1234abcd12ab34cd56ef1234567890ab' }],
  [57, 'UpdatePrimaryRegion: null resources, key from requestParameters', { keyArn: 'arn:aws:kms:ap-northeast-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab', keyAccountId: OWNER, principalAccountId: OWNER, isCrossAccount: false, outcome: 'success', viaService: 'kms', keyRegion: 'ap-northeast-1' }],
  [62, 'EBS GenerateDataKeyWithoutPlaintext through alias/aws/ebs', { keyArn: KEY, keyAccountId: OWNER, principalAccountId: OWNER, isCrossAccount: false, outcome: 'success', viaService: 'ebs', aliasName: 'alias/aws/ebs' }],
  [63, 'EBS Decrypt without keyId, by the ec2-infrastructure assumed role', { keyArn: KEY, keyAccountId: OWNER, principalAccountId: OWNER, isCrossAccount: false, outcome: 'success', viaService: 'ebs', principalType: 'AssumedRole', sessionIssuerArn: 'arn:aws:iam::111122223333:role/aws:ec2-infrastructure', accessKeyId: null }],
  [65, 'S3 Decrypt without keyId', { keyArn: KEY, keyAccountId: OWNER, principalAccountId: OWNER, isCrossAccount: false, outcome: 'success', viaService: 's3', principalType: 'AssumedRole', invokedBy: 'internal.amazonaws.com' }],
  [68, "CloudTrail's role in its own account encrypting a trail", { keyArn: KEY, keyAccountId: OWNER, principalAccountId: '086441151436', isCrossAccount: true, outcome: 'success', viaService: 'cloudtrail', eventKind: 'service_event' }],
  [69, 'Decrypt invoked by the console for CloudTrail logs', { keyArn: KEY, keyAccountId: OWNER, principalAccountId: OWNER, isCrossAccount: false, outcome: 'success', viaService: 'cloudtrail', invokedBy: 'signin.amazonaws.com' }],
  [73, 'WorkMail as an AWSService principal, no account', { keyArn: 'arn:aws:kms:eu-west-1:111122223333:key/1a2b3c4d-5e6f-1a2b-3c4d-5e6f1a2b3c4d', keyAccountId: OWNER, principalAccountId: null, isCrossAccount: false, outcome: 'success', viaService: 'workmail', principalType: 'AWSService', principalName: 'workmail.eu-west-1.amazonaws.com' }],
];

describe('Normalizer: corpus records', () => {
  it.each(CASES)('line %i: %s', (line, _what, expected) => {
    expect(event(corpusRecord(line))).toMatchObject(expected);
  });

  it('takes every corpus line without throwing: each is a row, a rejection or an ignored non-KMS record', () => {
    const kinds = corpusLines.map((line, i) => normalize(JSON.parse(line), i).kind);
    expect(kinds.filter((k) => k === 'event')).toHaveLength(73);
    // Line 60 is EC2 CreateVolume: well-formed, but not a KMS event.
    expect(kinds.indexOf('ignored')).toBe(59);
    expect(kinds.filter((k) => k === 'rejected')).toHaveLength(0);
  });

  it('says why a non-KMS record is ignored', () => {
    const result = normalize(corpusRecord(60));
    expect(result).toEqual({ kind: 'ignored', reason: expect.stringContaining('ec2.amazonaws.com CreateVolume') });
  });

  it('keeps the original record and the full request', () => {
    const e = event(corpusRecord(40));
    expect(JSON.parse(e.raw)).toEqual(corpusRecord(40));
    expect(JSON.parse(e.requestParameters ?? 'null')).toHaveProperty('policy');
    expect(e.eventTime).toBe('2022-09-01T20:06:16.000Z');
    expect(e.eventDate).toBe('2022-09-01');
    expect(e.sourceUri).toBe('test.jsonl');
  });
});

describe('Normalizer: caller shapes the guide does not print', () => {
  it('resolves a cross-account caller logged in the key owner account as AWSAccount', () => {
    const record = corpusRecord(9);
    record['userIdentity'] = { type: 'AWSAccount', principalId: 'AROAEXAMPLEVENDOR:session', accountId: '444455556666' };
    record['sharedEventID'] = '0c5ae1c2-1111-4a5b-9c2b-000000000001';
    const e = event(record);
    expect(e).toMatchObject({ principalType: 'AWSAccount', principalAccountId: '444455556666', keyAccountId: OWNER, isCrossAccount: true, sharedEventId: '0c5ae1c2-1111-4a5b-9c2b-000000000001' });
  });

  it('never takes the caller account from recipientAccountId', () => {
    const record = corpusRecord(63);
    record['recipientAccountId'] = '999988887777';
    const e = event(record);
    expect(e.principalAccountId).toBe(OWNER);
    expect(e.recipientAccountId).toBe('999988887777');
    expect(e.isCrossAccount).toBe(false);
  });

  it('resolves Root and FederatedUser callers, and infers the type when it is absent', () => {
    const root = corpusRecord(9);
    root['userIdentity'] = { type: 'Root', principalId: '111122223333', arn: 'arn:aws:iam::111122223333:root', accountId: OWNER };
    expect(event(root)).toMatchObject({ principalType: 'Root', principalAccountId: OWNER });

    const federated = corpusRecord(9);
    federated['userIdentity'] = { type: 'FederatedUser', arn: 'arn:aws:sts::444455556666:federated-user/Bob', accountId: '444455556666', principalId: '444455556666:Bob' };
    expect(event(federated)).toMatchObject({ principalType: 'FederatedUser', principalName: 'Bob', principalAccountId: '444455556666', isCrossAccount: true });

    const untyped = corpusRecord(63);
    delete (untyped['userIdentity'] as Record<string, unknown>)['type'];
    delete (untyped['userIdentity'] as Record<string, unknown>)['accountId'];
    expect(event(untyped)).toMatchObject({ principalType: 'AssumedRole', principalAccountId: OWNER });
  });

  it('takes the caller account from the session issuer when nothing else names it', () => {
    const record = corpusRecord(63);
    record['userIdentity'] = { type: 'AssumedRole', sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::444455556666:role/Vendor', accountId: '444455556666' } } };
    expect(event(record)).toMatchObject({ principalAccountId: '444455556666', isCrossAccount: true });
  });

  it('accepts a record with no userIdentity at all', () => {
    const record = corpusRecord(18);
    delete record['userIdentity'];
    expect(event(record)).toMatchObject({ principalType: null, principalAccountId: null, isCrossAccount: false, keyArn: KEY });
  });
});

describe('Normalizer: keys', () => {
  it('names both keys of a ReEncrypt, source first', () => {
    const record = corpusRecord(9);
    const destination = 'arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321';
    record['eventName'] = 'ReEncrypt';
    record['requestParameters'] = { sourceKeyId: KEY, destinationKeyId: destination, sourceEncryptionContext: { 'aws:s3:arn': 'arn:aws:s3:::bucket/object' } };
    record['resources'] = [
      { accountId: OWNER, type: 'AWS::KMS::Key', ARN: KEY },
      { accountId: OWNER, type: 'AWS::KMS::Key', ARN: destination },
    ];
    expect(event(record)).toMatchObject({
      keyArn: KEY,
      relatedKeyArns: [KEY, destination],
      viaService: 's3',
      serviceResource: 'arn:aws:s3:::bucket/object',
      destinationKey: destination,
    });

    record['resources'] = null;
    expect(event(record)).toMatchObject({ keyArn: KEY, relatedKeyArns: [KEY, destination], destinationKey: destination });
  });

  it('takes the ReEncrypt destination from the request when resources name one key, and never from an alias', () => {
    const record = corpusRecord(9);
    record['eventName'] = 'ReEncrypt';
    record['resources'] = [{ accountId: OWNER, type: 'AWS::KMS::Key', ARN: KEY }];
    record['requestParameters'] = { sourceKeyId: KEY, destinationKeyId: 'mrk-1234abcd12ab34cd56ef1234567890ab' };
    expect(event(record).destinationKey).toBe('mrk-1234abcd12ab34cd56ef1234567890ab');
    record['requestParameters'] = { sourceKeyId: KEY, destinationKeyId: KEY.replace('1234abcd', '9999abcd') };
    expect(event(record).destinationKey).toBe(KEY.replace('1234abcd', '9999abcd'));
    record['requestParameters'] = { sourceKeyId: KEY, destinationKeyId: 'alias/archive' };
    expect(event(record).destinationKey).toBeNull();
    record['requestParameters'] = { sourceKeyId: KEY, destinationKeyId: 'arn:aws:kms:us-west-2:111122223333:alias/archive' };
    expect(event(record).destinationKey).toBeNull();
    // Only ReEncrypt has a destination.
    record['eventName'] = 'Decrypt';
    record['requestParameters'] = { destinationKeyId: KEY };
    expect(event(record).destinationKey).toBeNull();
  });

  it('keeps the encryption-context value the service came from as the resource, and none when invokedBy named it', () => {
    expect(event(corpusRecord(65))).toMatchObject({ viaService: 's3', serviceResource: 'arn:aws:s3:::example_bucket/example_object' });
    expect(event(corpusRecord(62))).toMatchObject({ viaService: 'ebs', serviceResource: 'vol-f67bafb2' });
    expect(event(corpusRecord(73))).toMatchObject({ viaService: 'workmail' });
    expect(event(corpusRecord(9))).toMatchObject({ viaService: null, serviceResource: null });
    const secret = corpusRecord(9);
    secret['requestParameters'] = { keyId: KEY, encryptionContext: { Department: 'x', SecretARN: 'arn:aws:secretsmanager:us-west-2:111122223333:secret:db-AbCdEf' } };
    expect(event(secret)).toMatchObject({ viaService: 'secretsmanager', serviceResource: 'arn:aws:secretsmanager:us-west-2:111122223333:secret:db-AbCdEf' });
    const invoked = corpusRecord(9);
    invoked['userIdentity'] = { ...(invoked['userIdentity'] as object), invokedBy: 'secretsmanager.amazonaws.com' };
    expect(event(invoked)).toMatchObject({ viaService: 'secretsmanager', serviceResource: null });
  });

  it('accepts a misspelled resource type and falls back to the request when resources are null', () => {
    const typo = corpusRecord(9);
    typo['resources'] = [{ accountId: OWNER, type: 'AWS::KMS::Kev', ARN: KEY }];
    expect(event(typo).keyArn).toBe(KEY);

    const none = corpusRecord(47);
    none['resources'] = null;
    // requestParameters.keyId is a bare id; responseElements.keyId is the ARN.
    expect(event(none)).toMatchObject({ keyArn: KEY, keyAccountId: OWNER });
  });

  it('takes the owner account from an alias ARN when resources are null', () => {
    const record = corpusRecord(9);
    record['userIdentity'] = { type: 'AWSAccount', principalId: 'AROAEXAMPLE:vendor', accountId: '444455556666' };
    record['requestParameters'] = { keyId: 'arn:aws:kms:us-west-2:111122223333:alias/shared-with-vendor' };
    record['resources'] = null;
    expect(event(record)).toMatchObject({
      keyArn: null,
      keyAccountId: OWNER,
      keyRegion: 'us-west-2',
      aliasName: 'alias/shared-with-vendor',
      isCrossAccount: true,
    });
  });

  it('keeps a bare key id without inventing an ARN', () => {
    const record = corpusRecord(47);
    record['resources'] = [];
    record['responseElements'] = null;
    expect(event(record)).toMatchObject({ keyArn: null, keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', keyAccountId: null, isCrossAccount: false });
  });
});

describe('Normalizer: EventBridge', () => {
  it('gives a record delivered through EventBridge the same row as in a trail file', () => {
    const record = corpusRecord(65);
    const direct = event(record);
    const viaEventBridge = event(asEventBridge(corpusRecord(65)));
    expect(viaEventBridge).toEqual(direct);
  });

  it.each(lifecycleLines.map((_, i) => i + 1))('normalizes lifecycle event %i', (line) => {
    const source = lifecycleEvent(line);
    const e = event(source);
    expect(e).toMatchObject({
      eventId: source['id'],
      eventKind: 'lifecycle',
      eventSource: 'aws.kms',
      eventName: source['detail-type'],
      keyArn: KEY,
      keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
      keyAccountId: OWNER,
      principalAccountId: null,
      isCrossAccount: false,
      outcome: 'success',
    });
  });

  it('builds the key ARN from key-id, region and account when resources is empty', () => {
    const source = lifecycleEvent(3);
    source['resources'] = [];
    expect(event(source).keyArn).toBe('arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab');
  });
});

describe('Normalizer: bad input', () => {
  it('rejects a record without eventTime, naming the field', () => {
    const record = corpusRecord(9);
    delete record['eventTime'];
    const result = normalize(record, 7);
    expect(result.kind).toBe('rejected');
    if (result.kind !== 'rejected') return;
    expect(result.rejection).toMatchObject({ sourceUri: 'test.jsonl', position: 7 });
    expect(result.rejection.reason).toContain('eventTime: missing');
    expect(JSON.parse(result.rejection.original)).toMatchObject({ eventID: record['eventID'] });
  });

  it('rejects a malformed timestamp and a non-object with reasons', () => {
    const record = corpusRecord(9);
    record['eventTime'] = 'yesterday';
    const bad = normalize(record);
    expect(bad.kind === 'rejected' && bad.rejection.reason).toMatch(/eventTime: .*"yesterday"/);

    const notObject = normalize([1, 2]);
    expect(notObject.kind === 'rejected' && notObject.rejection.reason).toBe('record is not a JSON object (got an array)');
  });

  it('rejects an EventBridge lifecycle event without key-id', () => {
    const source = lifecycleEvent(1);
    source['detail'] = {};
    const result = normalize(source);
    expect(result.kind === 'rejected' && result.rejection.reason).toContain('detail.key-id: missing');
  });

  it('rejects a wrongly typed field rather than guessing', () => {
    const record = corpusRecord(9);
    record['userIdentity'] = 'Alice';
    const result = normalize(record);
    expect(result.kind === 'rejected' && result.rejection.reason).toContain('userIdentity: expected object, got "Alice"');
  });
});
