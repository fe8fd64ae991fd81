import { readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.js';
import type { Rejection } from '../../../src/normalize/types.js';
import { MAX_ORIGINAL_CHARS } from '../../../src/normalize/clip.js';
import { ItemDecoder } from '../../../src/sources/decode-items.js';
import { readFileBatches, readFileItems, readStreamItems } from '../../../src/sources/read-file.js';
import type { FileShape, SourceItem } from '../../../src/sources/types.js';
import { collect, deliveryText, fixturePath, guideRecords, lifecycleEvents, trickyRecords, withTempDir } from './helpers.js';

interface Read {
  values: { value: unknown; uri: string; position: number }[];
  rejections: Rejection[];
  /** Kinds in order, to check that rejections sit where the bad input was. */
  kinds: string[];
  shape: FileShape | null;
}

function split(items: SourceItem[], shape: FileShape | null = null): Read {
  const read: Read = { values: [], rejections: [], kinds: [], shape };
  for (const item of items) {
    read.kinds.push(item.kind);
    if (item.kind === 'value') read.values.push({ value: item.value, uri: item.origin.uri, position: item.origin.position });
    else read.rejections.push(item.rejection);
  }
  return read;
}

async function readFile(path: string, uri?: string): Promise<Read> {
  let shape: FileShape | null = null;
  const items = await collect(readFileItems(path, { uri, onShape: (s) => (shape = s) }));
  return split(items, shape);
}

async function write(dir: string, name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/** A stream that hands over its bytes in pieces of `size`, to cut multi-byte characters apart. */
function chunked(bytes: Buffer, size: number): Readable {
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  return Readable.from(pieces);
}

describe('Source: readFileItems', () => {
  const records = guideRecords();
  const delivery = deliveryText(records);

  it('reads a delivery file, plain and gzipped, with each record at its Records index', async () => {
    await withTempDir(async (dir) => {
      const plain = await write(dir, 'plain.json', delivery);
      const gz = await write(dir, '111122223333_CloudTrail_us-west-2_20200629T2340Z_abc.json.gz', gzipSync(delivery));
      for (const path of [plain, gz]) {
        const read = await readFile(path);
        expect(read.shape).toBe('cloudtrail-delivery');
        expect(read.rejections).toEqual([]);
        expect(read.values.map((v) => v.value)).toEqual(records);
        expect(read.values.map((v) => v.position)).toEqual(records.map((_, i) => i));
        expect(read.values.every((v) => v.uri === path)).toBe(true);
      }
    });
  });

  it('uses the uri option as the origin of values and rejections', async () => {
    await withTempDir(async (dir) => {
      const path = await write(dir, 'x.jsonl', `${JSON.stringify(records[0])}\nnot json\n`);
      const read = await readFile(path, 's3://bucket/AWSLogs/x.jsonl');
      expect(read.values[0]?.uri).toBe('s3://bucket/AWSLogs/x.jsonl');
      expect(read.rejections[0]?.sourceUri).toBe('s3://bucket/AWSLogs/x.jsonl');
    });
  });

  it('keeps the records before the cut of a truncated gzip file and adds one rejection for the rest', async () => {
    const gz = gzipSync(delivery);
    const half = gz.subarray(0, Math.floor(gz.length / 2));
    await withTempDir(async (dir) => {
      const read = await readFile(await write(dir, 'cut.json.gz', half));
      const n = read.values.length;
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThan(records.length);
      expect(read.values.map((v) => v.value)).toEqual(records.slice(0, n));
      expect(read.kinds.at(-1)).toBe('rejected');
      expect(read.rejections).toHaveLength(1);
      expect(read.rejections[0]).toMatchObject({
        position: n,
        reason: `gzip stream truncated: unexpected end of file after ${n} records`,
      });
      // The partial record is kept as evidence.
      expect(read.rejections[0]?.original.startsWith('{"eventVersion"')).toBe(true);
    });
  });

  it('turns a corrupt gzip stream into a rejection instead of throwing', async () => {
    const gz = Buffer.from(gzipSync(delivery));
    for (let i = Math.floor(gz.length / 2); i < Math.floor(gz.length / 2) + 64; i++) gz[i] = (gz[i] ?? 0) ^ 0xff;
    await withTempDir(async (dir) => {
      const read = await readFile(await write(dir, 'corrupt.json.gz', gz));
      expect(read.values.length).toBeLessThan(records.length);
      expect(read.kinds.at(-1)).toBe('rejected');
      expect(read.rejections.at(-1)?.reason).toMatch(/^gzip stream (corrupt|truncated): .+ after \d+ records$/);
    });
  });

  it('keeps all but the last few records before garbage that follows a gzip member', async () => {
    const gz = Buffer.concat([gzipSync(delivery), Buffer.from('not another gzip member')]);
    await withTempDir(async (dir) => {
      const read = await readFile(await write(dir, 'trailing-garbage.json.gz', gz));
      const n = read.values.length;
      // zlib drops the output of the call that meets the garbage; the first 64 KiB chunk was already out.
      expect(n).toBeGreaterThanOrEqual(records.length - 20);
      expect(read.values.map((v) => v.value)).toEqual(records.slice(0, n));
      expect(read.rejections).toEqual([expect.objectContaining({ position: n, reason: `gzip stream corrupt: incorrect header check after ${n} records` })]);
    });
  });

  it('reads concatenated gzip members (cat a.json.gz b.json.gz) as one file with running positions', async () => {
    const gz = Buffer.concat([gzipSync(deliveryText(records.slice(0, 2))), gzipSync(deliveryText(records.slice(2, 5)))]);
    await withTempDir(async (dir) => {
      const read = await readFile(await write(dir, 'joined.json.gz', gz));
      expect(read.rejections).toEqual([]);
      expect(read.values.map((v) => [v.position, v.value])).toEqual(records.slice(0, 5).map((r, i) => [i, r]));
    });
  });

  it('reads UTF-16LE text that starts with its byte-order mark (PowerShell Out-File)', async () => {
    const events = lifecycleEvents();
    await withTempDir(async (dir) => {
      const read = await readFile(await write(dir, 'events.json', Buffer.from(`\uFEFF${JSON.stringify(events, null, 2)}`, 'utf16le')));
      expect(read.rejections).toEqual([]);
      expect(read.values.map((v) => v.value)).toEqual(events);
    });
  });

  it('keeps every record when only the gzip trailer is missing', async () => {
    const gz = gzipSync(`${records.slice(0, 3).map((r) => JSON.stringify(r)).join('\n')}`);
    await withTempDir(async (dir) => {
      const read = await readFile(await write(dir, 'no-trailer.jsonl.gz', gz.subarray(0, gz.length - 4)));
      expect(read.values.map((v) => v.value)).toEqual(records.slice(0, 3));
      expect(read.rejections).toEqual([expect.objectContaining({ position: 3, reason: expect.stringMatching(/^gzip stream .* after 3 records$/), original: '' })]);
    });
  });

  it('reads a .gz name holding plain text (an object S3 already decompressed) and plain content under any name', async () => {
    await withTempDir(async (dir) => {
      const read = await readFile(await write(dir, 'decompressed.json.gz', delivery));
      expect(read.values).toHaveLength(records.length);
    });
  });

  it('rejects a truncated plain delivery file at the record it ends inside', async () => {
    const cut = delivery.slice(0, delivery.length - 200);
    await withTempDir(async (dir) => {
      const read = await readFile(await write(dir, 'cut.json', cut));
      expect(read.values.map((v) => v.value)).toEqual(records.slice(0, 73));
      expect(read.rejections).toEqual([
        expect.objectContaining({ position: 73, reason: 'file ends inside Records[73] (truncated?)' }),
      ]);
    });
  });

  it('rejects one bad record of a delivery file by its index and keeps the others', async () => {
    const text = `{"Records":[${JSON.stringify(records[0])},{"eventVersion":"1.08",,},${JSON.stringify(records[1])}]}`;
    await withTempDir(async (dir) => {
      const read = await readFile(await write(dir, 'bad-record.json', text));
      expect(read.kinds).toEqual(['value', 'rejected', 'value']);
      expect(read.values.map((v) => v.position)).toEqual([0, 2]);
      expect(read.rejections[0]).toMatchObject({ position: 1, original: '{"eventVersion":"1.08",,}' });
      expect(read.rejections[0]?.reason).toMatch(/^invalid JSON in Records\[1\]: /);
    });
  });

  it('reads strings with brackets, escapes and multi-byte characters cut at every byte boundary', async () => {
    const tricky = trickyRecords();
    const bytes = Buffer.from(deliveryText(tricky), 'utf8');
    const gz = gzipSync(bytes);
    for (let size = 1; size <= 13; size++) {
      for (const input of [bytes, gz]) {
        const read = split(await collect(readStreamItems(chunked(input, size), 's3://b/k.json.gz', 'k.json.gz')));
        expect(read.rejections, `chunk size ${size}`).toEqual([]);
        expect(read.values.map((v) => v.value), `chunk size ${size}`).toEqual(tricky);
      }
    }
  });

  it('reads a pretty-printed delivery file whose Records key comes after another key', async () => {
    const read = await readFile(fixturePath('sources/delivery-pretty-records-not-first.json'));
    expect(read.shape).toBe('cloudtrail-delivery');
    expect(read.rejections).toEqual([]);
    expect(read.values.map((v) => v.value)).toEqual(records.slice(1, 4));
  });

  it('reads NDJSON with a bad line in the middle: positions are line indexes, the bad line is rejected, the rest kept', async () => {
    const lines = [JSON.stringify(records[0]), JSON.stringify(records[1]), '', '{"eventVersion": "1.08", oops}', JSON.stringify(records[2]), '   ', JSON.stringify(records[3])];
    await withTempDir(async (dir) => {
      const read = await readFile(await write(dir, 'records.ndjson', `${lines.join('\r\n')}\r\n`));
      expect(read.shape).toBe('ndjson');
      expect(read.values.map((v) => v.value)).toEqual(records.slice(0, 4));
      expect(read.values.map((v) => v.position)).toEqual([0, 1, 4, 6]);
      expect(read.kinds).toEqual(['value', 'value', 'rejected', 'value', 'value']);
      expect(read.rejections).toHaveLength(1);
      expect(read.rejections[0]).toMatchObject({ position: 3, original: '{"eventVersion": "1.08", oops}' });
      expect(read.rejections[0]?.reason).toMatch(/^invalid JSON at line 4: /);
    });
  });

  it('reads NDJSON whose last line has no newline', async () => {
    await withTempDir(async (dir) => {
      const read = await readFile(await write(dir, 'r.jsonl', `${JSON.stringify(records[0])}\n${JSON.stringify(records[1])}`));
      expect(read.values.map((v) => v.position)).toEqual([0, 1]);
    });
  });

  it('reads EventBridge events as NDJSON and as a JSON array', async () => {
    const events = lifecycleEvents();
    await withTempDir(async (dir) => {
      const ndjson = await readFile(await write(dir, 'events.jsonl', `${events.map((e) => JSON.stringify(e)).join('\n')}\n`));
      expect(ndjson.shape).toBe('ndjson');
      expect(ndjson.values.map((v) => v.value)).toEqual(events);

      const array = await readFile(await write(dir, 'events.json', JSON.stringify(events, null, 2)));
      expect(array.shape).toBe('json-array');
      expect(array.values.map((v) => v.value)).toEqual(events);
      expect(array.values.map((v) => v.position)).toEqual([0, 1, 2]);
    });
  });

  it('reads one EventBridge event printed over many lines as one value', async () => {
    const path = fixturePath('sources/eventbridge-api-call-pretty.json');
    const read = await readFile(path);
    expect(read.shape).toBe('json-value');
    expect(read.rejections).toEqual([]);
    expect(read.values).toEqual([{ value: JSON.parse(readFileSync(path, 'utf8')), uri: path, position: 0 }]);
  });

  it('reads pretty-printed values one after another (jq output), each at the line it starts on', async () => {
    const events = lifecycleEvents();
    const text = `${events.map((e) => JSON.stringify(e, null, 2)).join('\n')}\n`;
    const starts = [0];
    for (const e of events.slice(0, -1)) starts.push((starts.at(-1) ?? 0) + JSON.stringify(e, null, 2).split('\n').length);
    await withTempDir(async (dir) => {
      const read = await readFile(await write(dir, 'jq.json', text));
      expect(read.rejections).toEqual([]);
      expect(read.values.map((v) => v.value)).toEqual(events);
      expect(read.values.map((v) => v.position)).toEqual(starts);
    });
  });

  it('rejects a file that is entirely garbage line by line, without throwing', async () => {
    await withTempDir(async (dir) => {
      const read = await readFile(await write(dir, 'garbage.json', 'this is not json\nneither {is this\n\n}}}\n'));
      expect(read.values).toEqual([]);
      expect(read.rejections.map((r) => r.position)).toEqual([0, 1, 3]);
      expect(read.rejections.map((r) => r.reason)).toEqual([
        expect.stringMatching(/^invalid JSON at line 1: /),
        expect.stringMatching(/^invalid JSON at line 2: /),
        expect.stringMatching(/^invalid JSON at line 4: /),
      ]);
      expect(read.rejections[1]?.original).toBe('neither {is this');
    });
  });

  it('rejects a pretty-printed value that is not valid JSON once, not line by line', async () => {
    const broken = JSON.stringify(lifecycleEvents()[0], null, 2).replace('"version": "0",', '"version": "0",,');
    await withTempDir(async (dir) => {
      const read = await readFile(await write(dir, 'broken.json', broken));
      expect(read.values).toEqual([]);
      expect(read.rejections).toEqual([expect.objectContaining({ position: 0, original: broken })]);
      expect(read.rejections[0]?.reason).toMatch(/^invalid JSON in the value at line 1: /);
    });
  });

  it('yields nothing for an empty or blank file and ignores a byte-order mark', async () => {
    await withTempDir(async (dir) => {
      expect((await readFile(await write(dir, 'empty.json', ''))).kinds).toEqual([]);
      expect((await readFile(await write(dir, 'blank.jsonl', '\n  \r\n\n'))).kinds).toEqual([]);
      expect((await readFile(await write(dir, 'empty.json.gz', gzipSync('')))).kinds).toEqual([]);
      const bom = await readFile(await write(dir, 'bom.json', `\uFEFF${deliveryText(records.slice(0, 2))}`));
      expect(bom.values.map((v) => v.value)).toEqual(records.slice(0, 2));
    });
  });

  it('keeps at most 64 KiB of a rejected line and says it was cut', async () => {
    const huge = `{"x": "${'a'.repeat(100_000)}", broken}`;
    await withTempDir(async (dir) => {
      const read = await readFile(await write(dir, 'huge.jsonl', `${JSON.stringify(records[0])}\n${huge}\n`));
      const original = read.rejections[0]?.original ?? '';
      expect(original.startsWith(huge.slice(0, MAX_ORIGINAL_CHARS))).toBe(true);
      expect(original.length).toBeLessThan(MAX_ORIGINAL_CHARS + 100);
      expect(original).toContain(`[truncated from ${huge.length} characters]`);
    });
  });

  it('reads a .jsonl file of arrays as NDJSON, not as one array', async () => {
    await withTempDir(async (dir) => {
      const read = await readFile(await write(dir, 'arrays.jsonl', '[1,2]\n[3]\n'));
      expect(read.values.map((v) => v.value)).toEqual([[1, 2], [3]]);
    });
  });

  it('throws InputError naming a missing path or a directory', async () => {
    await expect(collect(readFileItems('/nonexistent/keytrail/trail.json.gz'))).rejects.toThrow(InputError);
    await expect(collect(readFileItems('/nonexistent/keytrail/trail.json.gz'))).rejects.toThrow('/nonexistent/keytrail/trail.json.gz');
    await withTempDir(async (dir) => {
      await mkdir(join(dir, 'sub'));
      await expect(collect(readFileItems(join(dir, 'sub')))).rejects.toThrow(/it is a directory/);
    });
  });

  it('throws InputError naming the uri when the stream itself fails, after yielding what it read', async () => {
    const failing = Readable.from(
      (async function* () {
        yield Buffer.from(`${JSON.stringify(records[0])}\n`);
        throw new Error('socket hang up');
      })(),
    );
    const seen: SourceItem[] = [];
    const reading = (async () => {
      for await (const item of readStreamItems(failing, 's3://bucket/key.jsonl', 'key.jsonl')) seen.push(item);
    })();
    await expect(reading).rejects.toThrow(InputError);
    await expect(reading).rejects.toThrow('cannot read s3://bucket/key.jsonl: socket hang up');
    expect(seen).toHaveLength(1);
  });

  it('throws InputError when the stream under a gzip stream fails, rather than reporting corrupt gzip', async () => {
    const gz = gzipSync(delivery);
    const failing = Readable.from(
      (async function* () {
        yield gz.subarray(0, 100);
        throw new Error('ECONNRESET');
      })(),
    );
    await expect(collect(readStreamItems(failing, 's3://bucket/k.json.gz', 'k.json.gz'))).rejects.toThrow('cannot read s3://bucket/k.json.gz: ECONNRESET');
  });

  it.skipIf(process.platform !== 'linux')('closes the file when the consumer stops early', async () => {
    const openFds = async () => (await readdir('/proc/self/fd')).length;
    await withTempDir(async (dir) => {
      // Larger than one read, so the file is still open when the consumer leaves.
      const path = await write(dir, 'd.json', deliveryText(Array.from({ length: 10 }, () => records).flat()));
      const before = await openFds();
      for (let i = 0; i < 20; i++) {
        for await (const item of readFileItems(path)) {
          expect(item.kind).toBe('value');
          break;
        }
      }
      // Closing is asynchronous; give it a few turns of the event loop.
      for (let i = 0; i < 50 && (await openFds()) > before; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await openFds()).toBeLessThanOrEqual(before);
    });
  });

  it('batches give the same items as the item stream', async () => {
    await withTempDir(async (dir) => {
      const path = await write(dir, 'd.json.gz', gzipSync(delivery));
      const batches = await collect(readFileBatches(path));
      expect(batches.flat()).toEqual(await collect(readFileItems(path)));
    });
  });
});

describe('Source: ItemDecoder', () => {
  const records = guideRecords();

  it('reads a too-large first non-JSON line as NDJSON and says why it was not read whole', () => {
    const decoder = new ItemDecoder({ uri: 'big.json', wholeValueLimit: 1000 });
    const text = `{\n  "looks": "pretty-printed",\n${'  "pad": 1,\n'.repeat(200)}}\n${JSON.stringify(records[0])}\n`;
    const items = [...decoder.push(text), ...decoder.end()];
    const read = split(items);
    expect(read.rejections[0]).toMatchObject({ position: 0, original: '{' });
    expect(read.rejections[0]?.reason).toMatch(/^invalid JSON at line 1: .*too large \(over 0 MiB\)/);
    expect(read.values).toEqual([{ value: records[0], uri: 'big.json', position: 203 }]);
  });

  it('reports a gzip cut inside NDJSON at the line it cut', () => {
    const decoder = new ItemDecoder({ uri: 'x.jsonl.gz' });
    const line = JSON.stringify(records[1]);
    const items = [...decoder.push(`${JSON.stringify(records[0])}\n${line.slice(0, 50)}`), ...decoder.abort('gzip stream truncated: unexpected end of file')];
    const read = split(items);
    expect(read.values.map((v) => v.value)).toEqual([records[0]]);
    expect(read.rejections).toEqual([
      { sourceUri: 'x.jsonl.gz', position: 1, reason: 'gzip stream truncated: unexpected end of file after 1 record', original: line.slice(0, 50) },
    ]);
  });
});
