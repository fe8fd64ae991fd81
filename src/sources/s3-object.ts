import { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InputError } from '../errors.js';
import { readStreamItems } from './read-file.js';
import type { S3ObjectRef } from './s3-notification.js';
import type { SourceItem } from './types.js';

/**
 * Read one S3 object (a CloudTrail delivery file, gzipped or not) as source items, streaming the
 * GetObject body through gunzip and the record splitter: memory stays bounded by the largest record,
 * never the object. Items carry `origin.uri` = `s3://bucket/key`.
 *
 * @throws InputError naming the object when it cannot be fetched or its stream fails (not when its
 *   content is bad: that is a `rejected` item).
 */
export async function* readS3ObjectItems(s3: S3Client, object: Pick<S3ObjectRef, 'bucket' | 'key'>): AsyncGenerator<SourceItem> {
  const uri = s3Uri(object);
  let body: unknown;
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: object.bucket, Key: object.key }));
    body = response.Body;
  } catch (error) {
    throw new InputError(`cannot read ${uri}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { cause: error });
  }
  // In Node the SDK's body is an http.IncomingMessage (a Readable), with the SDK's mixin methods.
  if (!(body instanceof Readable)) throw new InputError(`cannot read ${uri}: GetObject returned no stream`);
  yield* readStreamItems(body, uri, object.key);
}

export function s3Uri(object: Pick<S3ObjectRef, 'bucket' | 'key'>): string {
  return `s3://${object.bucket}/${object.key}`;
}
