import { resolve } from 'node:path';
import { KeytrailDb } from '../store/database.js';

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
