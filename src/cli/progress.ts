import { SingleBar, Presets } from 'cli-progress';
import type { IngestProgress } from '../pipeline/ingest.js';
import { printNotice } from './output.js';

/**
 * Progress for long ingests: a bar on a terminal, a plain line every few seconds otherwise (CI logs,
 * pipes). Writes to stderr so stdout stays clean for results.
 */
export function createIngestProgress(enabled: boolean): { update: (p: IngestProgress) => void; stop: () => void } {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  if (process.stderr.isTTY) {
    const bar = new SingleBar(
      {
        format: 'ingest [{bar}] {percentage}% | {filesDone}/{filesTotal} files | {records} records | {inserted} new | {rejected} rejected',
        stream: process.stderr,
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    let started = false;
    return {
      update: (p) => {
        const payload = { ...p };
        if (!started) {
          bar.start(Math.max(p.bytesTotal, 1), p.bytesDone, payload);
          started = true;
        } else bar.update(p.bytesDone, payload);
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  let printedDone = false;
  return {
    update: (p) => {
      const now = Date.now();
      const done = p.filesDone === p.filesTotal;
      if (done ? printedDone : now - last < 5_000) return;
      printedDone = done;
      last = now;
      printNotice(`ingest: ${p.filesDone}/${p.filesTotal} files, ${p.records} records, ${p.inserted} new, ${p.rejected} rejected`);
    },
    stop: () => undefined,
  };
}
