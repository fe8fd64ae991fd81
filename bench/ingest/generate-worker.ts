import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { RecordFactory } from './records.js';

/** One trail file to write; planned by generate.ts so layout does not depend on the worker. */
export interface FileTask {
  index: number;
  path: string;
  account: string;
  region: string;
  /** Delivery time; records cover the five minutes before it. */
  deliveredMs: number;
  records: number;
}

export interface WorkerInput {
  seed: number;
  gzipLevel: number;
  tasks: FileTask[];
}

export interface FileResult {
  index: number;
  kmsRecords: number;
  otherRecords: number;
  uncompressedBytes: number;
  compressedBytes: number;
  /** Time spent building the JSON, compressing, writing (ms): where generation time goes. */
  buildMs: number;
  gzipMs: number;
  writeMs: number;
}

const FIVE_MINUTES = 5 * 60_000;

/** Build one trail file's bytes straight into a reusable buffer (no giant joined string). */
export function buildTrailFile(factory: RecordFactory, task: FileTask, scratch: { buffer: Buffer }): { bytes: Buffer; kms: number; other: number } {
  factory.startFile(task.index);
  let buffer = scratch.buffer;
  let offset = buffer.write('{"Records":[', 0, 'latin1');
  let kms = 0;
  let other = 0;
  for (let k = 0; k < task.records; k++) {
    // In time order, as CloudTrail mostly writes them.
    const t = task.deliveredMs - FIVE_MINUTES + Math.floor(((k + 0.5) * FIVE_MINUTES) / task.records);
    const record = factory.next(task.account, task.region, t);
    if (record.cls === 'kms') kms++;
    else other++;
    const needed = offset + record.json.length * 3 + 8;
    if (needed > buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, buffer.length * 2));
      buffer.copy(grown, 0, 0, offset);
      buffer = grown;
      scratch.buffer = grown;
    }
    if (k > 0) buffer[offset++] = 0x2c;
    offset += buffer.write(record.json, offset, 'utf8');
  }
  offset += buffer.write(']}', offset, 'latin1');
  return { bytes: buffer.subarray(0, offset), kms, other };
}

function run(input: WorkerInput): void {
  const factory = new RecordFactory(input.seed);
  const scratch = { buffer: Buffer.allocUnsafe(4 << 20) };
  for (const task of input.tasks) {
    const t0 = performance.now();
    const { bytes, kms, other } = buildTrailFile(factory, task, scratch);
    const t1 = performance.now();
    const compressed = gzipSync(bytes, { level: input.gzipLevel });
    const t2 = performance.now();
    mkdirSync(dirname(task.path), { recursive: true });
    writeFileSync(task.path, compressed);
    const result: FileResult = {
      index: task.index,
      kmsRecords: kms,
      otherRecords: other,
      uncompressedBytes: bytes.length,
      compressedBytes: compressed.length,
      buildMs: t1 - t0,
      gzipMs: t2 - t1,
      writeMs: performance.now() - t2,
    };
    parentPort?.postMessage(result);
  }
}

if (parentPort && workerData) run(workerData as WorkerInput);
