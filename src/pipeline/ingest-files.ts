import { readFileBatches } from '../sources/read-file.js';
import type { DiscoveredFile } from '../sources/types.js';
import { discoverFiles } from '../sources/walk.js';
import type { EventStore } from '../store/event-store.js';
import type { Rejection } from '../normalize/types.js';
import { IngestSink, type IngestCounts, type IngestProgress } from './ingest.js';

export interface IngestFilesOptions {
  store: EventStore;
  /** Called after each file and periodically within large files. */
  onProgress?: (progress: IngestProgress) => void;
  batchSize?: number;
  now?: () => Date;
}

export interface IngestFilesSummary extends IngestCounts {
  files: number;
  skippedFiles: { digest: number; insight: number };
  firstRejections: Rejection[];
  elapsedMs: number;
}

/**
 * Ingest local files and directories: discover, read each file as a stream, normalize, store.
 * Throws `InputError` only when a named path cannot be found or read at all; bad content inside
 * a file is rejected record by record and the rest of the file still lands.
 */
export async function ingestFiles(paths: readonly string[], options: IngestFilesOptions): Promise<IngestFilesSummary> {
  const now = options.now ?? (() => new Date());
  const started = Date.now();
  const files: DiscoveredFile[] = [];
  const skippedFiles = { digest: 0, insight: 0 };
  for await (const file of discoverFiles([...paths])) {
    if (file.skip) skippedFiles[file.skip] += 1;
    else files.push(file);
  }

  const sink = new IngestSink(options.store, now().toISOString(), options.batchSize);
  const bytesTotal = files.reduce((sum, f) => sum + f.sizeBytes, 0);
  let bytesDone = 0;
  const report = (filesDone: number, bytes: number) =>
    options.onProgress?.({ ...sink.counts, filesDone, filesTotal: files.length, bytesDone: bytes, bytesTotal });

  report(0, 0);
  for (const [index, file] of files.entries()) {
    let sinceReport = 0;
    for await (const items of readFileBatches(file.path)) {
      await sink.addAll(items);
      sinceReport += items.length;
      if (sinceReport >= 50_000) {
        sinceReport = 0;
        report(index, bytesDone);
      }
    }
    bytesDone += file.sizeBytes;
    report(index + 1, bytesDone);
  }
  await sink.flush();
  report(files.length, bytesDone);

  return {
    ...sink.counts,
    files: files.length,
    skippedFiles,
    firstRejections: sink.firstRejections,
    elapsedMs: Date.now() - started,
  };
}
