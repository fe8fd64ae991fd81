/**
 * What keytrail's store step costs, and what alternatives would: the same normalized events
 * (normalized once, up front, with keytrail's own normalizer) written into a fresh file-backed
 * database several ways. Each variant is timed from the first append to a closed database
 * (checkpoint included), in this process, one after the other.
 *
 *   npx tsx bench/ingest/store-variants.ts [--records 100000] [--files 100] [--repeat 1] [--only a,b]
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, LIST, listValue, VARCHAR, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { intOption, parseBenchArgs, stringOption } from '../lib/args.js';
import { median, thousands } from '../lib/stats.js';
import { BENCH_DATA_DIR, ensureDataset } from './generate.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

interface Column {
  name: string;
  field: string;
  sql: string;
}
type Event = Record<string, unknown>;

interface Keytrail {
  columns: readonly Column[];
  normalizeValue: (value: unknown, origin: unknown, ingestedAt: string, text?: string) => { kind: string; event?: Event };
  readBatches: (path: string) => AsyncGenerator<{ kind: string; value?: unknown; origin?: unknown; text?: string }[]>;
  /** Create keytrail's schema (migrations) in a fresh database file, then close it. */
  createSchema: (path: string) => Promise<void>;
  EventStore: new (db: unknown) => { insertEvents: (events: readonly Event[]) => Promise<unknown> };
  openDb: (path: string) => Promise<{ close: () => void; connection: DuckDBConnection }>;
}

async function loadKeytrail(): Promise<Keytrail> {
  const columns = (await import(join(REPO, 'src/store/columns.ts'))) as { KMS_EVENT_COLUMNS: readonly Column[] };
  const normalize = (await import(join(REPO, 'src/normalize/normalize.ts'))) as { normalizeValue: Keytrail['normalizeValue'] };
  const readFile = (await import(join(REPO, 'src/sources/read-file.ts'))) as { readFileBatches: Keytrail['readBatches'] };
  const database = (await import(join(REPO, 'src/store/database.ts'))) as {
    KeytrailDb: { open: (o: { path: string; threads?: number }) => Promise<{ close: () => void; connection: DuckDBConnection }> };
  };
  const store = (await import(join(REPO, 'src/store/event-store.ts'))) as { EventStore: Keytrail['EventStore'] };
  return {
    columns: columns.KMS_EVENT_COLUMNS,
    normalizeValue: normalize.normalizeValue,
    readBatches: readFile.readFileBatches,
    createSchema: async (path) => (await database.KeytrailDb.open({ path })).close(),
    EventStore: store.EventStore,
    openDb: (path) => database.KeytrailDb.open({ path }),
  };
}

const VARCHAR_LIST = LIST(VARCHAR);
const LIST_TYPE_ID = VARCHAR_LIST.typeId;

function appendEvent(appender: DuckDBAppender, columns: readonly Column[], event: Event): void {
  for (const column of columns) {
    const value = event[column.field];
    if (value === null || value === undefined) appender.appendNull();
    else if (typeof value === 'boolean') appender.appendBoolean(value);
    else if (Array.isArray(value)) {
      // kms_events takes a list; the staging tables below take the list as JSON text.
      if (column.sql.startsWith('VARCHAR[]') && appender.columnType(columns.indexOf(column)).typeId === LIST_TYPE_ID) appender.appendList(listValue(value as string[]), VARCHAR_LIST);
      else appender.appendVarchar(JSON.stringify(value));
    }
    else appender.appendVarchar(String(value));
  }
  appender.endRow();
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

type Variant = (ctx: { kt: Keytrail; events: Event[]; db: string }) => Promise<void>;

/** Open a raw DuckDB connection on keytrail's schema (migrated by keytrail itself). */
async function rawOpen(kt: Keytrail, db: string): Promise<{ instance: DuckDBInstance; connection: DuckDBConnection; close: () => void }> {
  await kt.createSchema(db);
  const instance = await DuckDBInstance.create(db, { threads: '2' });
  const connection = await instance.connect();
  return {
    instance,
    connection,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

function stagingDdl(columns: readonly Column[], jsonAs: 'JSON' | 'VARCHAR', name = 'staging'): string {
  // Lists are staged as JSON text and converted in the INSERT, as keytrail's EventStore does.
  const cols = columns.map((c) => `${c.name} ${c.sql.replace(' NOT NULL', '').replace('VARCHAR[]', 'VARCHAR').replace(/^JSON/, jsonAs)}`).join(', ');
  return `CREATE TEMP TABLE ${name} (${cols})`;
}

let stagedSelect = '';
const MERGE_CURRENT = (names: string) => `INSERT INTO kms_events (${names})
  SELECT ${stagedSelect} FROM (SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY rowid) AS copy FROM staging) s
  WHERE copy = 1 AND NOT EXISTS (SELECT 1 FROM kms_events k WHERE k.event_id = s.event_id)`;
const MERGE_PLAIN = (names: string) => `INSERT INTO kms_events (${names}) SELECT ${stagedSelect} FROM staging`;

function stagedVariant(options: { batch: number; jsonAs: 'JSON' | 'VARCHAR'; merge: ((names: string) => string) | null }): Variant {
  return async ({ kt, events, db }) => {
    const { connection, close } = await rawOpen(kt, db);
    const names = kt.columns.map((c) => c.name).join(', ');
    stagedSelect = kt.columns.map((c) => (c.sql.startsWith('VARCHAR[]') ? `from_json(${c.name}, '["VARCHAR"]') AS ${c.name}` : c.name)).join(', ');
    await connection.run(stagingDdl(kt.columns, options.jsonAs));
    for (const batch of chunks(events, options.batch)) {
      const appender = await connection.createAppender('staging');
      for (const e of batch) appendEvent(appender, kt.columns, e);
      appender.closeSync();
      if (options.merge) {
        await connection.run(options.merge(names));
        await connection.run('DELETE FROM staging');
      }
    }
    close();
  };
}

const VARIANTS: Record<string, { what: string; run: Variant }> = {
  'keytrail-eventstore': {
    what: "keytrail's EventStore.insertEvents, batches of 20,000 (as the pipeline), + close",
    run: async ({ kt, events, db }) => {
      const opened = await kt.openDb(db);
      const store = new kt.EventStore(opened);
      for (const batch of chunks(events, 20_000)) await store.insertEvents(batch);
      opened.close();
    },
  },
  'appender-only': {
    what: 'appender into the JSON-typed staging table only (no merge): appender + flush cost',
    run: stagedVariant({ batch: 20_000, jsonAs: 'JSON', merge: null }),
  },
  'appender-only-varchar': {
    what: 'the same, staging JSON columns as VARCHAR (no JSON validation at flush)',
    run: stagedVariant({ batch: 20_000, jsonAs: 'VARCHAR', merge: null }),
  },
  'staged-dedupe': {
    what: 'appender → staging (JSON) + de-duplicating INSERT (row_number + NOT EXISTS), 20,000 per batch',
    run: stagedVariant({ batch: 20_000, jsonAs: 'JSON', merge: MERGE_CURRENT }),
  },
  'staged-plain': {
    what: 'appender → staging (JSON) + plain INSERT … SELECT, 20,000 per batch',
    run: stagedVariant({ batch: 20_000, jsonAs: 'JSON', merge: MERGE_PLAIN }),
  },
  'staged-plain-big': {
    what: 'as staged-plain, 150,000 per batch (above a row group: DuckDB writes the rows straight to the file)',
    run: stagedVariant({ batch: 150_000, jsonAs: 'JSON', merge: MERGE_PLAIN }),
  },
  'ids-then-direct': {
    what: 'stage only event_id (1 column), check them against kms_events, then appender straight into kms_events; 20,000 per check',
    run: async ({ kt, events, db }) => {
      const { connection, close } = await rawOpen(kt, db);
      await connection.run('CREATE TEMP TABLE staged_ids (event_id VARCHAR)');
      const rows = await connection.createAppender('kms_events');
      for (const batch of chunks(events, 20_000)) {
        const ids = await connection.createAppender('staged_ids');
        for (const e of batch) {
          ids.appendVarchar(String(e['eventId']));
          ids.endRow();
        }
        ids.closeSync();
        // The rows already stored (none in a fresh database); a real store would skip them.
        const stored = await connection.runAndReadAll('SELECT count(*) FROM staged_ids WHERE event_id IN (SELECT event_id FROM kms_events)');
        if (Number(stored.getRows()[0]?.[0]) !== 0) throw new Error('unexpected stored ids');
        for (const e of batch) appendEvent(rows, kt.columns, e);
        rows.flushSync();
        // A fresh table per batch: DELETE leaves a temp table's storage allocated.
        await connection.run('CREATE OR REPLACE TEMP TABLE staged_ids (event_id VARCHAR)');
      }
      rows.closeSync();
      close();
    },
  },
  'direct-appender-no-raw': {
    what: "as direct-appender with raw = '{}' (what storing the whole record costs the store step)",
    run: async ({ kt, events, db }) => {
      const { connection, close } = await rawOpen(kt, db);
      const appender = await connection.createAppender('kms_events');
      for (const e of events) appendEvent(appender, kt.columns, { ...e, raw: '{}' });
      appender.closeSync();
      close();
    },
  },
  'direct-appender': {
    what: 'appender straight into kms_events in one transaction (no staging, no dedupe): lower bound of the appender path',
    run: async ({ kt, events, db }) => {
      const { connection, close } = await rawOpen(kt, db);
      const appender = await connection.createAppender('kms_events');
      for (const e of events) appendEvent(appender, kt.columns, e);
      appender.closeSync();
      close();
    },
  },
};

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), { records: 'string', files: 'string', repeat: 'string', only: 'string' });
  const dataset = await ensureDataset({ records: intOption(args, 'records', 100_000), files: intOption(args, 'files', 100), log: (l) => console.log(l) });
  const repeat = intOption(args, 'repeat', 1);
  const only = stringOption(args, 'only')?.split(',');
  const kt = await loadKeytrail();
  const ingestedAt = new Date().toISOString();
  const events: Event[] = [];
  const root = join(dataset.dir, 'AWSLogs');
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (e.name !== 'CloudTrail-Digest') walk(join(dir, e.name));
      } else if (e.name.endsWith('.json.gz')) files.push(join(dir, e.name));
    }
  };
  walk(root);
  for (const f of files.sort()) {
    for await (const batch of kt.readBatches(f)) {
      for (const item of batch) {
        const r = kt.normalizeValue(item.value, item.origin, ingestedAt, item.text);
        if (r.kind === 'event' && r.event) events.push(r.event);
      }
    }
  }
  console.log(`${thousands(events.length)} normalized events in memory; each variant writes them to a fresh file database:`);
  const db = join(BENCH_DATA_DIR, 'store-variant.duckdb');
  for (const [name, variant] of Object.entries(VARIANTS)) {
    if (only && !only.includes(name)) continue;
    const times: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < repeat; i++) {
      rmSync(db, { force: true });
      rmSync(`${db}.wal`, { force: true });
      global.gc?.();
      const c = process.cpuUsage();
      const t = performance.now();
      await variant.run({ kt, events, db });
      times.push(performance.now() - t);
      const u = process.cpuUsage(c);
      cpus.push((u.user + u.system) / 1000);
    }
    rmSync(db, { force: true });
    rmSync(`${db}.wal`, { force: true });
    const ms = median(times);
    console.log(`  ${name.padEnd(24)} ${thousands(ms).padStart(7)} ms  ${thousands(events.length / (ms / 1000)).padStart(8)} events/s  cpu ${thousands(median(cpus)).padStart(7)} ms   ${variant.what}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
