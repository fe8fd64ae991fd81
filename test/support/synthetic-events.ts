import { normalizeValue } from '../../src/normalize/normalize.js';
import type { KmsEvent } from '../../src/normalize/types.js';
import { corpusRecord } from './corpus.js';

export const OWNER = '111122223333';
export const keyArnOf = (keyId: string): string => `arn:aws:kms:us-west-2:${OWNER}:key/${keyId}`;

/** Key ids that sort in this order: A < B < C. */
export const KEY_A = '0aaaaaaa-1111-2222-3333-444444444444';
export const KEY_B = '5bbbbbbb-1111-2222-3333-444444444444';
export const KEY_C = 'cccccccc-1111-2222-3333-444444444444';
const KEY_IDS = [KEY_A, KEY_B, KEY_C] as const;

function normalized(record: Record<string, unknown>, position: number): KmsEvent {
  const result = normalizeValue(record, { uri: 'synthetic.jsonl', position }, '2026-11-27T00:00:00.000Z');
  if (result.kind !== 'event') throw new Error(`expected an event: ${JSON.stringify(result)}`);
  return result.event;
}

/** A Decrypt of `keyId` (the guide's Decrypt example, line 9) with its own id and time. */
export function decryptOf(keyId: string, eventId: string, eventTime: string, context: Record<string, string> = { Department: 'Engineering' }): KmsEvent {
  const record = corpusRecord(9);
  record['eventID'] = eventId;
  record['eventTime'] = eventTime;
  record['requestParameters'] = { keyId: keyArnOf(keyId), encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: context };
  record['resources'] = [{ accountId: OWNER, type: 'AWS::KMS::Key', ARN: keyArnOf(keyId) }];
  return normalized(record, 0);
}

/**
 * A ReEncrypt from `source` into `destination`: `named` says how the destination is logged —
 * in resources[] (as CloudTrail does today), or only in the request as an ARN, a key id or an alias.
 */
export function reEncryptOf(
  source: string,
  destination: string,
  eventId: string,
  eventTime: string,
  named: 'resources' | 'request-arn' | 'request-id' | 'request-alias' = 'resources',
): KmsEvent {
  const record = corpusRecord(9);
  record['eventName'] = 'ReEncrypt';
  record['eventID'] = eventId;
  record['eventTime'] = eventTime;
  const destinationKeyId =
    named === 'request-id' ? destination : named === 'request-alias' ? 'alias/archive' : keyArnOf(destination);
  record['requestParameters'] = { sourceKeyId: keyArnOf(source), destinationKeyId, sourceEncryptionContext: { 'aws:s3:arn': `arn:aws:s3:::bucket/${eventId}` } };
  record['resources'] =
    named === 'resources'
      ? [
          { accountId: OWNER, type: 'AWS::KMS::Key', ARN: keyArnOf(source) },
          { accountId: OWNER, type: 'AWS::KMS::Key', ARN: keyArnOf(destination) },
        ]
      : [{ accountId: OWNER, type: 'AWS::KMS::Key', ARN: keyArnOf(source) }];
  return normalized(record, 0);
}

/** `n` Decrypts spread over the keys in turn, one minute apart from `start`: arrival (time) order. */
export function interleavedDecrypts(n: number, start = Date.parse('2026-03-01T00:00:00Z'), prefix = 'ev'): KmsEvent[] {
  return Array.from({ length: n }, (_, i) =>
    decryptOf(KEY_IDS[i % KEY_IDS.length] ?? KEY_A, `${prefix}-${String(i).padStart(5, '0')}`, new Date(start + i * 60_000 * 37).toISOString(), {
      'aws:s3:arn': `arn:aws:s3:::bucket/object-${i % 5}`,
    }),
  );
}
