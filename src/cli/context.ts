import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { KeytrailDb } from '../store/database.js';
import { openLakeDb } from '../store/lake-view.js';

/** Default database file, relative to the working directory. */
export const DEFAULT_DB = 'keytrail.duckdb';

/** Open the database a command names (`--db`), creating and migrating it on first use. */
export async function openDb(path: string | undefined, options: { readOnly?: boolean } = {}): Promise<KeytrailDb> {
  const target = path === ':memory:' ? path : resolve(path ?? DEFAULT_DB);
  return KeytrailDb.open({ path: target, readOnly: options.readOnly });
}

/** Run work with an open database and always close it. */
export async function withDb<T>(path: string | undefined, work: (db: KeytrailDb) => Promise<T>): Promise<T> {
  const db = await openDb(path);
  try {
    return await work(db);
  } finally {
    db.close();
  }
}

/**
 * The events a read-only command looks at: a Parquet lake (`--lake DIR`, as `keytrail export` writes
 * it or the S3 lake synced locally), else the database file. A lake has no findings: those live in
 * the database.
 */
export async function openReadDb(options: { db?: string; lake?: string }): Promise<KeytrailDb> {
  if (options.lake !== undefined) {
    const lake = resolve(options.lake);
    if (!existsSync(join(lake, 'kms_events'))) throw new InputError(`${options.lake}: not a keytrail lake (no kms_events/ directory in it)`);
    return openLakeDb(lake);
  }
  const path = options.db ?? DEFAULT_DB;
  // Opening a missing file would create an empty database and answer "nothing stored".
  if (path !== ':memory:' && !existsSync(path)) throw new InputError(`${path}: no such database (run keytrail ingest first, or give --db)`);
  return openDb(path, { readOnly: true });
}
