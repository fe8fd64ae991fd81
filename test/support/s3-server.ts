import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startFauxqs, type FauxqsServer } from 'fauxqs';

/**
 * A local S3: fauxqs (an SNS/SQS/S3 emulator from npm, already a devDependency for SNS) on
 * 127.0.0.1, behind a small proxy started here.
 *
 * fauxqs 1.9 ignores `If-None-Match` and `If-Match` on PutObject (it honours them on GetObject only),
 * so the proxy implements S3's conditional writes: it serialises writes per key, checks the
 * precondition against a HEAD of the object, and answers `412 PreconditionFailed` (or `404 NoSuchKey`
 * for `If-Match` on a missing key) the way S3 does. Every client goes through the proxy, so a check
 * and its write are atomic, as on S3.
 *
 * The proxy also records every request (method, key, condition, status) and can fail requests on
 * demand with S3's 500 InternalError.
 */
export interface S3Server {
  /** Endpoint for S3 clients (the proxy); use path-style addressing. */
  readonly endpoint: string;
  readonly region: string;
  /** Every request that reached the proxy, in order. */
  readonly requests: RecordedS3Request[];
  /** An S3 client pointed at the proxy, path-style, with dummy credentials. */
  client(config?: { maxAttempts?: number }): S3Client;
  createBucket(name: string): Promise<void>;
  put(bucket: string, key: string, body: Buffer | string): Promise<void>;
  get(bucket: string, key: string): Promise<Buffer>;
  /** Every key under `prefix`, in key order. */
  list(bucket: string, prefix?: string): Promise<string[]>;
  /** Answer the next `times` requests that `match` with HTTP 500 InternalError, without forwarding them. */
  failRequests(rule: { times: number; match?: (request: RecordedS3Request) => boolean }): void;
  reset(): void;
  stop(): Promise<void>;
}

export interface RecordedS3Request {
  method: string;
  bucket: string | null;
  /** Object key, URL-decoded; null for bucket-level requests. */
  key: string | null;
  /** The query string without the leading `?` (`list-type=2&prefix=…`). */
  query: string;
  condition: { ifNoneMatch: string | null; ifMatch: string | null };
  /** HTTP status the client got. */
  status: number;
}

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Start fauxqs and the proxy on random free ports of 127.0.0.1. */
export async function startS3Server(): Promise<S3Server> {
  const fauxqs: FauxqsServer = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false, defaultRegion: REGION });
  const upstreamPort = fauxqs.port;
  const requests: RecordedS3Request[] = [];
  let failures: { times: number; match: (request: RecordedS3Request) => boolean }[] = [];
  const keyLocks = new Map<string, Promise<void>>();

  const withKeyLock = async <T>(lockKey: string, work: () => Promise<T>): Promise<T> => {
    const previous = keyLocks.get(lockKey) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const current = new Promise<void>((resolve) => {
      release = resolve;
    });
    const chained = previous.then(() => current);
    keyLocks.set(lockKey, chained);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (keyLocks.get(lockKey) === chained) keyLocks.delete(lockKey);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const [bucket, ...keyParts] = url.pathname.slice(1).split('/');
    const key = keyParts.length === 0 || keyParts.join('/') === '' ? null : decodeURIComponent(keyParts.join('/'));
    const record: RecordedS3Request = {
      method: req.method ?? 'GET',
      bucket: bucket === undefined || bucket === '' ? null : decodeURIComponent(bucket),
      key,
      query: url.search.slice(1),
      condition: { ifNoneMatch: headerOf(req, 'if-none-match'), ifMatch: headerOf(req, 'if-match') },
      status: 0,
    };
    requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });

    const failure = failures.find((f) => f.times > 0 && f.match(record));
    if (failure) {
      failure.times -= 1;
      req.resume();
      sendError(res, 500, 'InternalError', 'injected failure');
      return;
    }

    const isConditionalPut =
      record.method === 'PUT' &&
      key !== null &&
      (record.condition.ifNoneMatch !== null || record.condition.ifMatch !== null) &&
      !req.headers['x-amz-copy-source'] &&
      !url.searchParams.has('partNumber');
    if (!isConditionalPut) {
      await forward(req, res, upstreamPort);
      return;
    }
    await withKeyLock(`${record.bucket ?? ''}/${key}`, async () => {
      const current = await headEtag(upstreamPort, url.pathname);
      const { ifNoneMatch, ifMatch } = record.condition;
      if (ifNoneMatch !== null && ifNoneMatch.trim() === '*' && current !== null) {
        req.resume();
        sendError(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
        return;
      }
      if (ifMatch !== null) {
        if (current === null) {
          req.resume();
          sendError(res, 404, 'NoSuchKey', 'The specified key does not exist.');
          return;
        }
        if (stripQuotes(ifMatch) !== stripQuotes(current)) {
          req.resume();
          sendError(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
          return;
        }
      }
      await forward(req, res, upstreamPort);
    });
  };

  const proxy: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'InternalError', `proxy error: ${String(error)}`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  if (address === null || typeof address === 'string') throw new Error('the S3 proxy has no TCP address');
  const endpoint = `http://127.0.0.1:${address.port}`;

  const client = (config?: { maxAttempts?: number }): S3Client =>
    new S3Client({ region: REGION, endpoint, forcePathStyle: true, credentials: CREDENTIALS, maxAttempts: config?.maxAttempts ?? 3 });
  const admin = client();

  return {
    endpoint,
    region: REGION,
    requests,
    client,
    async createBucket(name) {
      await admin.send(new CreateBucketCommand({ Bucket: name }));
    },
    async put(bucket, key, body) {
      await admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async get(bucket, key) {
      const response = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!response.Body) throw new Error(`s3://${bucket}/${key} has no body`);
      return Buffer.from(await response.Body.transformToByteArray());
    },
    async list(bucket, prefix = '') {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    failRequests(rule) {
      failures.push({ times: rule.times, match: rule.match ?? (() => true) });
    },
    reset() {
      requests.length = 0;
      failures = [];
    },
    async stop() {
      admin.destroy();
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await fauxqs.stop();
    },
  };
}

function headerOf(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

function stripQuotes(etag: string): string {
  return etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
}

/** The object's ETag, or null when it does not exist. */
function headEtag(port: number, path: string): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const upstream = httpRequest({ host: '127.0.0.1', port, method: 'HEAD', path }, (response) => {
      response.resume();
      if (response.statusCode === 404) resolve(null);
      else if (response.statusCode === 200) resolve(String(response.headers.etag ?? ''));
      else reject(new Error(`HEAD ${path}: HTTP ${response.statusCode ?? '?'}`));
    });
    upstream.on('error', reject);
    upstream.end();
  });
}

/** Pipe the request to fauxqs and its answer back, bodies streamed both ways. */
function forward(req: IncomingMessage, res: ServerResponse, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const upstream = httpRequest(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${port}` } },
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
        response.on('end', () => resolve());
        response.on('error', reject);
      },
    );
    upstream.on('error', reject);
    req.pipe(upstream);
  });
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>proxy</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
