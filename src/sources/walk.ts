import type { Dirent, Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { classifySkip, parseTrailPath } from './trail-path.js';
import type { DiscoveredFile } from './types.js';

/** Names a directory walk reads: JSON, NDJSON, and their gzipped forms. */
const READABLE_NAME = /\.(json|jsonl|ndjson)(\.gz)?$/i;

/** Whether a directory walk would read a file of this name. */
export function isReadableName(name: string): boolean {
  return READABLE_NAME.test(name);
}

function describeError(error: unknown): string {
  if (error instanceof Error && 'code' in error) {
    if (error.code === 'ENOENT') return 'no such file or directory';
    if (error.code === 'EACCES' || error.code === 'EPERM') return 'permission denied';
    if (error.code === 'ELOOP') return 'too many levels of symbolic links';
  }
  return error instanceof Error ? error.message : String(error);
}

async function statOrThrow(path: string): Promise<Stats> {
  try {
    // stat, not lstat: symbolic links are followed (loops are caught by the visited set).
    return await stat(path);
  } catch (error) {
    throw new InputError(`cannot read ${path}: ${describeError(error)}`, { cause: error });
  }
}

function identity(stats: Stats): string {
  return `${stats.dev}:${stats.ino}`;
}

/**
 * Find the files to ingest under the given paths, in a deterministic order: each path in the order
 * given, directory entries sorted by name (code point order, so trail files come in time order).
 * Directories are walked recursively, following symbolic links but never into a directory already
 * walked, so a link loop ends and a file reachable twice is read once. In directories only
 * `.json`, `.jsonl`, `.ndjson` (each optionally `.gz`) files are read; a file named explicitly is
 * read whatever its name. CloudTrail digest and Insights files are yielded with `skip` set, to be
 * counted rather than read.
 *
 * @throws InputError naming the path, when a path does not exist or cannot be read. All named
 *   paths are checked before the first file is yielded, so a mistyped argument fails fast.
 */
export async function* discoverFiles(paths: string[]): AsyncIterable<DiscoveredFile> {
  const roots: { path: string; stats: Stats }[] = [];
  for (const path of paths) roots.push({ path, stats: await statOrThrow(path) });

  const seen = new Set<string>();
  for (const root of roots) {
    if (root.stats.isDirectory()) {
      yield* walkDirectory(root.path, root.stats, seen);
    } else if (!seen.has(identity(root.stats))) {
      // Named explicitly: read even a FIFO such as /dev/stdin.
      seen.add(identity(root.stats));
      yield describe(root.path, root.stats);
    }
  }
}

async function* walkDirectory(dir: string, dirStats: Stats, seen: Set<string>): AsyncGenerator<DiscoveredFile> {
  const id = identity(dirStats);
  if (seen.has(id)) return;
  seen.add(id);

  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new InputError(`cannot read directory ${dir}: ${describeError(error)}`, { cause: error });
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() || entry.isSymbolicLink()) {
      const stats = await statOrThrow(path);
      if (stats.isDirectory()) {
        yield* walkDirectory(path, stats, seen);
        continue;
      }
      if (stats.isFile() && isReadableName(entry.name) && !seen.has(identity(stats))) {
        seen.add(identity(stats));
        yield describe(path, stats);
      }
    } else if (entry.isFile() && isReadableName(entry.name)) {
      const stats = await statOrThrow(path);
      if (seen.has(identity(stats))) continue;
      seen.add(identity(stats));
      yield describe(path, stats);
    }
    // Sockets, FIFOs and devices inside a tree are not input.
  }
}

function describe(path: string, stats: Stats): DiscoveredFile {
  // Resolved so that a relative path run from inside AWSLogs/… still yields the account and date.
  const absolute = resolve(path);
  return { path, skip: classifySkip(path), trailPath: parseTrailPath(absolute), sizeBytes: stats.isFile() ? stats.size : 0 };
}
