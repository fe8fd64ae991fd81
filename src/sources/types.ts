import type { RecordOrigin, Rejection } from '../normalize/types.js';

/**
 * What a reader yields, in file order: a parsed JSON value with where it came from, or a rejection
 * for input that could not be parsed at all (a bad NDJSON line, the cut-off tail of a truncated
 * `.json.gz`). Readers never throw for bad content; they throw `InputError` only when a file cannot
 * be opened.
 */
export type SourceItem =
  | {
      kind: 'value';
      value: unknown;
      origin: RecordOrigin;
      /** The value's own JSON text as read, when the reader has it (kept as `raw` without re-serializing). */
      text?: string;
    }
  | { kind: 'rejected'; rejection: Rejection };

/** Shapes a local file can have; detected per file from its name and first bytes. */
export type FileShape = 'cloudtrail-delivery' | 'ndjson' | 'json-array' | 'json-value';

/** What a directory walk found. */
export interface DiscoveredFile {
  path: string;
  /** CloudTrail-Digest / CloudTrail-Insight files are skipped (and counted), not read. */
  skip: 'digest' | 'insight' | null;
  /** Parsed from an `AWSLogs/[o-…/]<account>/CloudTrail/<region>/yyyy/mm/dd/` path, when it is one. */
  trailPath: TrailPathInfo | null;
  sizeBytes: number;
}

export interface TrailPathInfo {
  organizationId: string | null;
  accountId: string;
  region: string;
  /** yyyy-mm-dd */
  date: string;
}
