import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { InputError } from '../errors.js';
import { ItemDecoder } from './decode-items.js';
import type { FileShape, SourceItem } from './types.js';

/** Options of {@link readFileItems} and {@link readStreamItems}. */
export interface ReadOptions {
  /** `origin.uri` of the values read (default: the path). */
  uri?: string;
  /** Told the file's shape once it is known (never for an empty file). */
  onShape?: (shape: FileShape) => void;
}

/**
 * Read size for local files. Measured: decoding 100 MB in 64 KiB chunks takes ~10 ms, in 256 KiB
 * chunks ~400 ms, because strings over V8's regular object size (~128 KiB) are allocated in
 * large-object space. Keep chunks well under that.
 */
const CHUNK_BYTES = 64 * 1024;
/**
 * Gunzip output size. Inflating runs on the libuv thread pool, one round trip per output chunk:
 * 64 KiB chunks (Node's default is 16 KiB) and a deeper read-ahead let it keep ahead of parsing.
 * zlib drops the output of the call that meets corrupt data, so the chunk size also bounds what a
 * corrupt stream loses just before the damage (about 60 records); a truncated stream loses nothing.
 */
const GUNZIP_CHUNK_BYTES = 64 * 1024;
const GUNZIP_READ_AHEAD_BYTES = 1024 * 1024;

/** Marks an error of the underlying byte stream (disk, network) as opposed to the gzip data. */
class SourceStreamError extends Error {
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** zlib failures carry `Z_*` codes; they mean the compressed data is bad, not that reading failed. */
function zlibCode(error: unknown): string | null {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('Z_')) return error.code;
  return null;
}

/**
 * Read a local file as source items: a CloudTrail delivery file (`{"Records":[…]}`), a JSON array,
 * NDJSON (records or EventBridge events), or one pretty-printed JSON value; gzipped or not (detected
 * from the content, so a `.gz` name on plain text still reads). Streams: memory stays bounded by
 * the largest record, whatever the file size.
 *
 * Bad content never throws: an unparseable record or line, a truncated file or a corrupt gzip
 * stream becomes a `rejected` item and everything decodable is still yielded.
 *
 * @throws InputError naming the path when the file cannot be opened or reading it fails.
 */
export function readFileItems(path: string, options: ReadOptions = {}): AsyncGenerator<SourceItem> {
  return flatten(readBatches(() => openFile(path), options.uri ?? path, path, options.onShape));
}

/**
 * {@link readFileItems}, one array of items per chunk read (64 KiB): for a consumer on the hot path,
 * which then awaits once per chunk rather than once per record.
 */
export function readFileBatches(path: string, options: ReadOptions = {}): AsyncGenerator<SourceItem[]> {
  return readBatches(() => openFile(path), options.uri ?? path, path, options.onShape);
}

/**
 * Read any byte stream (an S3 object body, stdin) as source items; see {@link readFileItems}.
 *
 * @param uri `origin.uri` of what is read, such as `s3://bucket/key`.
 * @param nameHint the file name or S3 key. Content decides gzip and shape; the name only makes a
 *   `.jsonl` / `.ndjson` file whose first line is an array read as NDJSON.
 * @throws InputError naming `uri` when the stream itself fails (not when its content is bad).
 */
export function readStreamItems(
  stream: NodeJS.ReadableStream | Readable,
  uri: string,
  nameHint: string,
  options: Pick<ReadOptions, 'onShape'> = {},
): AsyncGenerator<SourceItem> {
  return flatten(readBatches(() => Promise.resolve(stream), uri, nameHint, options.onShape));
}

async function* flatten(batches: AsyncGenerator<SourceItem[]>): AsyncGenerator<SourceItem> {
  for await (const batch of batches) {
    for (const item of batch) yield item;
  }
}

async function openFile(path: string): Promise<Readable> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw new InputError(`cannot open ${path}: ${messageOf(error)}`, { cause: error });
  }
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw new InputError(`cannot read ${path}: it is a directory`);
    // The stream owns the handle from here (autoClose): ending or destroying it closes the file.
    return handle.createReadStream({ highWaterMark: CHUNK_BYTES });
  } catch (error) {
    await handle.close();
    if (error instanceof InputError) throw error;
    throw new InputError(`cannot read ${path}: ${messageOf(error)}`, { cause: error });
  }
}

async function* readBatches(
  openStream: () => Promise<NodeJS.ReadableStream | Readable>,
  uri: string,
  nameHint: string,
  onShape: ((shape: FileShape) => void) | undefined,
): AsyncGenerator<SourceItem[]> {
  const stream = await openStream();
  const source: AsyncIterator<Buffer | string> = stream[Symbol.asyncIterator]();
  const decoder = new ItemDecoder({ uri, nameHint, onShape });
  const text = new ByteText();
  let gunzip: ReturnType<typeof createGunzip> | null = null;
  let input: Readable | null = null;

  try {
    // Enough bytes to see the gzip magic number (1f 8b), however the stream chunks them.
    let head: Buffer = Buffer.alloc(0);
    let sourceDone = false;
    while (head.length < 2 && !sourceDone) {
      const next = await readSource(source, uri);
      if (next === null) sourceDone = true;
      else head = head.length === 0 ? next : Buffer.concat([head, next]);
    }

    let chunks: AsyncIterator<Buffer | string>;
    if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      input = Readable.from(prepend(head, source, sourceDone), { objectMode: false });
      // highWaterMark is a stream option zlib passes through; ZlibOptions does not declare it.
      const gunzipOptions: ZlibOptions & { highWaterMark: number } = { chunkSize: GUNZIP_CHUNK_BYTES, highWaterMark: GUNZIP_READ_AHEAD_BYTES };
      gunzip = createGunzip(gunzipOptions);
      const unzip = gunzip;
      // pipe() does not forward errors; a failing source must end the gunzip output with a mark.
      input.on('error', (error) => unzip.destroy(new SourceStreamError(error)));
      input.pipe(unzip);
      chunks = unzip[Symbol.asyncIterator]();
    } else {
      chunks = prepend(head, source, sourceDone);
    }

    for (;;) {
      let next: IteratorResult<Buffer | string>;
      try {
        next = await chunks.next();
      } catch (error) {
        const code = zlibCode(error);
        if (code === null) {
          const cause = error instanceof SourceStreamError ? error.original : error;
          throw new InputError(`cannot read ${uri}: ${messageOf(cause)}`, { cause });
        }
        // Keep what was decoded before the damage, then report it once.
        const kind = code === 'Z_BUF_ERROR' ? 'truncated' : 'corrupt';
        yield decoder.push(text.end()).concat(decoder.abort(`gzip stream ${kind}: ${messageOf(error)}`));
        return;
      }
      if (next.done) break;
      const chunk = next.value;
      const items = decoder.push(typeof chunk === 'string' ? chunk : text.write(chunk));
      if (items.length > 0) yield items;
    }
    // A file read whole (a pretty-printed value) can end with many items: concat, not push(...spread).
    const items = decoder.push(text.end()).concat(decoder.end());
    if (items.length > 0) yield items;
  } finally {
    input?.destroy();
    gunzip?.destroy();
    // Stops the source (a file handle, an HTTP body) when the consumer leaves early.
    await source.return?.().catch(() => undefined);
    if ('destroy' in stream && typeof stream.destroy === 'function') stream.destroy();
  }
}

/**
 * Decodes bytes to text across chunk boundaries (a character's bytes may be split). UTF-8, or
 * UTF-16LE when the text starts with its byte-order mark (PowerShell's `Out-File` writes that).
 */
class ByteText {
  private decoder: StringDecoder | null = null;

  write(bytes: Buffer): string {
    if (bytes.length === 0) return '';
    this.decoder ??= new StringDecoder(bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf16le' : 'utf8');
    return this.decoder.write(bytes);
  }

  end(): string {
    return this.decoder?.end() ?? '';
  }
}

async function readSource(source: AsyncIterator<Buffer | string>, uri: string): Promise<Buffer | null> {
  let next: IteratorResult<Buffer | string>;
  try {
    next = await source.next();
  } catch (error) {
    throw new InputError(`cannot read ${uri}: ${messageOf(error)}`, { cause: error });
  }
  if (next.done) return null;
  return typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
}

/** The bytes already read, then the rest of the source. */
async function* prepend(head: Buffer, source: AsyncIterator<Buffer | string>, sourceDone: boolean): AsyncGenerator<Buffer | string> {
  if (head.length > 0) yield head;
  if (sourceDone) return;
  for (;;) {
    let next: IteratorResult<Buffer | string>;
    try {
      next = await source.next();
    } catch (error) {
      throw new SourceStreamError(error);
    }
    if (next.done) return;
    yield next.value;
  }
}
