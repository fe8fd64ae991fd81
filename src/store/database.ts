import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, type Compilable } from 'kysely';
import { StoreError } from '../errors.js';
import { logger } from '../logger.js';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from './migrations.js';
import type { Database } from './schema.js';

export interface OpenOptions {
  /** DuckDB file path, or `:memory:`. */
  path: string;
  /** DuckDB threads (default: DuckDB's own choice, the number of cores). */
  threads?: number;
  /** Directory for DuckDB's home and spill files (Lambda: /tmp). */
  tempDirectory?: string;
  /** Open without migrating or writing (query-only use of an existing file). */
  readOnly?: boolean;
  /**
   * DuckDB's memory limit (it spills to the temp directory beyond it). DuckDB's own default is 80%
   * of the machine; bounded here so an ingest of any size stays within a predictable footprint.
   */
  memoryLimit?: string;
}

export const DEFAULT_MEMORY_LIMIT = '512MB';

/**
 * Kysely used as a query builder only: it compiles typed queries to SQL with `$1` placeholders,
 * which DuckDB accepts, and `KeytrailDb.all` runs them. No Kysely driver touches the database.
 */
export const sql = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

export type Row = Record<string, unknown>;

/**
 * One open keytrail database: a DuckDB instance and the connection every query uses. This module and
 * the rest of `src/store/` are the only importers of `@duckdb/node-api`.
 */
export class KeytrailDb {
  private constructor(
    readonly path: string,
    readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  static async open(options: OpenOptions): Promise<KeytrailDb> {
    const config: Record<string, string> = {};
    if (options.threads) config['threads'] = String(options.threads);
    if (options.tempDirectory) {
      config['temp_directory'] = options.tempDirectory;
      config['home_directory'] = options.tempDirectory;
    }
    if (options.readOnly) config['access_mode'] = 'READ_ONLY';
    config['memory_limit'] = options.memoryLimit ?? DEFAULT_MEMORY_LIMIT;
    // Extensions are built in (json, parquet); never fetch one at run time.
    config['autoinstall_known_extensions'] = 'false';
    config['autoload_known_extensions'] = 'true';
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(options.path, config);
    } catch (error) {
      throw new StoreError(`cannot open database ${options.path}: ${(error as Error).message}`, { cause: error });
    }
    const db = new KeytrailDb(options.path, instance, await instance.connect());
    if (!options.readOnly) await db.migrate();
    return db;
  }

  /** Apply every migration not yet recorded in `schema_version`. */
  async migrate(): Promise<number> {
    await this.exec(`CREATE TABLE IF NOT EXISTS schema_version (
      version INTEGER PRIMARY KEY, description VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)`);
    const rows = await this.all('SELECT coalesce(max(version), 0)::INTEGER AS v FROM schema_version');
    const current = Number(rows[0]?.['v'] ?? 0);
    if (current > LATEST_SCHEMA_VERSION) {
      throw new StoreError(
        `database ${this.path} has schema version ${current}, newer than this keytrail (${LATEST_SCHEMA_VERSION}); upgrade keytrail`,
      );
    }
    for (const migration of MIGRATIONS.filter((m) => m.version > current)) {
      await this.transaction(async () => {
        for (const statement of migration.statements) await this.exec(statement);
        await this.exec('INSERT INTO schema_version VALUES ($1, $2, now()::TIMESTAMP)', [migration.version, migration.description]);
      });
      logger.debug('schema migrated', { version: migration.version, description: migration.description });
    }
    return LATEST_SCHEMA_VERSION;
  }

  async exec(text: string, params?: DuckDBValue[] | Record<string, DuckDBValue>): Promise<void> {
    await this.connection.run(text, params);
  }

  /** Run SQL with bound parameters and return rows as JSON-safe objects (timestamps as strings). */
  async all(text: string, params?: DuckDBValue[] | Record<string, DuckDBValue>): Promise<Row[]> {
    const reader = await this.connection.runAndReadAll(text, params);
    return reader.getRowObjectsJson() as Row[];
  }

  /** Run a Kysely-built query. */
  async query<T = Row>(query: Compilable<unknown>): Promise<T[]> {
    const compiled = query.compile();
    return (await this.all(compiled.sql, compiled.parameters as DuckDBValue[])) as T[];
  }

  /** Column names and rows, for printing results of arbitrary SQL. */
  async table(text: string, params?: Record<string, DuckDBValue>): Promise<{ columns: string[]; rows: Row[] }> {
    const reader = await this.connection.runAndReadAll(text, params);
    return { columns: reader.columnNames(), rows: reader.getRowObjectsJson() as Row[] };
  }

  async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.exec('BEGIN TRANSACTION');
    try {
      const result = await work();
      await this.exec('COMMIT');
      return result;
    } catch (error) {
      await this.exec('ROLLBACK');
      throw error;
    }
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
