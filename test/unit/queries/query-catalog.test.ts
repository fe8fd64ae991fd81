import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { queryCommand } from '../../../src/cli/query.js';
import { listQueryFiles, loadQueryCatalog, parseQueryHeader, QUERIES_DIR, QueryHeaderError, queryParameterNames } from '../../../src/cli/query-catalog.js';
import { UsageError } from '../../../src/errors.js';
import { KeytrailDb } from '../../../src/store/database.js';
import { runCli } from '../../support/cli.js';
import { K1 } from './seed.js';

const HEADER = [
  '-- purpose: Who used a key, how often,',
  '--   and when first/last.',
  '-- params: key (key ARN, key id or alias), since (ISO timestamp)',
  '-- columns: principal_arn, calls , first_seen',
  '-- athena: json_extract_string → json_extract_scalar',
  '-- athena: bind $key positionally',
  '',
  '-- a free comment after the header',
  'SELECT 1',
].join('\n');

describe('Query catalog: header parser', () => {
  it('reads purpose, params with their descriptions, columns and repeated athena notes', () => {
    expect(parseQueryHeader(HEADER, 'audit/x.sql')).toEqual({
      purpose: 'Who used a key, how often, and when first/last.',
      params: [
        { name: 'key', description: 'key ARN, key id or alias' },
        { name: 'since', description: 'ISO timestamp' },
      ],
      columns: ['principal_arn', 'calls', 'first_seen'],
      athena: ['json_extract_string → json_extract_scalar', 'bind $key positionally'],
    });
  });

  it('reads "params: none" as no parameters', () => {
    const header = parseQueryHeader('-- purpose: Count rows.\n-- params: none\n-- columns: n\nSELECT count(*) AS n FROM kms_events', 'n.sql');
    expect(header.params).toEqual([]);
  });

  it('rejects a file without a header, naming the file and the missing field', () => {
    expect(() => parseQueryHeader('SELECT 1', 'audit/bare.sql')).toThrow(QueryHeaderError);
    expect(() => parseQueryHeader('SELECT 1', 'audit/bare.sql')).toThrow(/audit\/bare\.sql: the header has no "-- purpose:" line/);
    expect(() => parseQueryHeader('-- purpose: x\n-- params: none\nSELECT 1', 'c.sql')).toThrow(/no "-- columns:" line/);
  });

  it('rejects unknown, repeated and malformed header lines with their line number', () => {
    expect(() => parseQueryHeader('-- purpose: x\n-- parameters: key\n', 'a.sql')).toThrow(/a\.sql:2: unknown header field "parameters"/);
    expect(() => parseQueryHeader('-- purpose: x\n-- purpose: y\n', 'a.sql')).toThrow(/a\.sql:2: "purpose" is given twice/);
    expect(() => parseQueryHeader('-- purpose: x\n-- just words\n', 'a.sql')).toThrow(/a\.sql:2: expected "-- field: value"/);
    expect(() => parseQueryHeader('-- purpose: x\n-- params: key (a, since\n-- columns: a\n', 'a.sql')).toThrow(/params: expected "name \(description\)"/);
    expect(() => parseQueryHeader('-- purpose: x\n-- params: none\n-- columns: a b\n', 'a.sql')).toThrow(/columns: "a b" is not a column name/);
  });
});

describe('Query catalog: parameters bound by SQL', () => {
  it('finds $names outside comments, string literals and quoted identifiers, in order of first use', () => {
    const sql = [
      '-- header mentions $ignored',
      "SELECT json_extract_string(x, '$.keyId'), '$notparam' AS \"$col\"",
      'FROM t /* $alsoIgnored */ WHERE a = $key AND b >= CAST($since AS TIMESTAMP) AND c = $key',
    ].join('\n');
    expect(queryParameterNames(sql)).toEqual(['key', 'since']);
  });
});

describe('Query catalog: files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'keytrail-queries-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function write(path: string, text: string): string {
    const root = mkdtempSync(join(dir, 'case-'));
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
    return root;
  }

  it('fails on a query file without the header', () => {
    const root = write('audit/no-header.sql', 'SELECT * FROM kms_events WHERE key_id = $key');
    expect(() => loadQueryCatalog(root)).toThrow(/audit\/no-header\.sql: the header has no "-- purpose:" line/);
  });

  it('fails when the header and the SQL disagree on parameters', () => {
    const header = '-- purpose: x\n-- params: key (k)\n-- columns: n\n';
    const undeclared = write('a/undeclared.sql', `${header}SELECT count(*) AS n FROM kms_events WHERE key_id = $key AND event_time < $until`);
    expect(() => loadQueryCatalog(undeclared)).toThrow(/binds \$until, missing from "-- params:"/);
    const unused = write('a/unused.sql', `${header}SELECT count(*) AS n FROM kms_events`);
    expect(() => loadQueryCatalog(unused)).toThrow(/lists key, which the SQL never binds/);
  });

  it('fails on two files with the same name in different folders', () => {
    const root = write('audit/same.sql', '-- purpose: x\n-- params: none\n-- columns: n\nSELECT 1 AS n');
    mkdirSync(join(root, 'compliance'));
    writeFileSync(join(root, 'compliance', 'same.sql'), readFileSync(join(root, 'audit', 'same.sql')));
    expect(() => loadQueryCatalog(root)).toThrow(/same name/);
  });
});

/** A value for each parameter name the queries use; a new parameter must be added here. */
const SAMPLE_PARAMS: Record<string, string> = {
  key: K1,
  since: '2024-03-01T00:00:00Z',
  until: '2024-04-01T00:00:00Z',
  as_of: '2024-04-01T00:00:00Z',
  org_accounts: '111122223333,222233334444',
  vendor_accounts: '444455556666',
};

describe('Query catalog: queries/', () => {
  const catalog = loadQueryCatalog();
  let db: KeytrailDb;
  beforeAll(async () => {
    db = await KeytrailDb.open({ path: ':memory:', threads: 1 });
  });
  afterAll(() => db.close());

  it('holds audit and compliance queries, each with a valid header', () => {
    const files = listQueryFiles().map((p) => p.slice(QUERIES_DIR.length + 1));
    expect(files.length).toBeGreaterThanOrEqual(10);
    expect(catalog.map((q) => q.file).sort()).toEqual(files.sort());
    expect(new Set(catalog.map((q) => q.file.split('/')[0]))).toEqual(new Set(['audit', 'compliance']));
    for (const q of catalog) {
      expect(q.purpose, q.file).toMatch(/^[A-Z].*\.$/);
      for (const p of q.params) expect(p.description, `${q.file}: ${p.name}`).not.toBe('');
    }
  });

  it('returns exactly the columns each header lists', async () => {
    for (const q of catalog) {
      const params = Object.fromEntries(q.params.map((p) => [p.name, SAMPLE_PARAMS[p.name]]));
      for (const p of q.params) expect(SAMPLE_PARAMS[p.name], `${q.file}: no sample value for ${p.name}`).toBeDefined();
      const result = await db.table(q.sql, params as Record<string, string>);
      expect(result.columns, q.file).toEqual(q.columns);
    }
  });

  it('binds values only and keeps to SQL that Trino also parses', () => {
    for (const q of catalog) {
      const code = q.sql.replace(/--.*$/gm, '');
      // No templating: values arrive as $name only.
      expect(code, q.file).not.toMatch(/\$\{|\{\{|%s/);
      // DuckDB-only syntax: QUALIFY, aggregate FILTER clauses, :: casts, list literals.
      expect(code, q.file).not.toMatch(/\bQUALIFY\b|\bFILTER\s*\(|::|\[\s*'/i);
    }
  });

  it('every query file is run by a test that asserts its rows', () => {
    const testDir = fileURLToPath(new URL('.', import.meta.url));
    const sources = readdirSync(testDir)
      .filter((f) => f.endsWith('.test.ts'))
      .map((f) => readFileSync(join(testDir, f), 'utf8'))
      .join('\n');
    const described = new Set([...sources.matchAll(/describe\('Query: ([a-z0-9-]+)'/g)].map((m) => m[1]));
    const run = new Set([...sources.matchAll(/runQuery\(db, '([a-z0-9-]+)'/g)].map((m) => m[1]));
    const names = catalog.map((q) => q.name);
    expect([...described].sort()).toEqual([...names].sort());
    expect([...run].sort()).toEqual([...names].sort());
  });
});

describe('CLI: keytrail query', () => {
  let out: string[];
  afterEach(() => vi.restoreAllMocks());
  function captureStdout(): void {
    out = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
  }

  it('--list --format json describes every query from its header', async () => {
    captureStdout();
    await queryCommand(undefined, { list: true, param: [], format: 'json' });
    const listed = JSON.parse(out.join('')) as { name: string; purpose: string; params: { name: string }[] }[];
    expect(listed.map((q) => q.name)).toEqual(loadQueryCatalog().map((q) => q.name));
    expect(listed.find((q) => q.name === 'key-usage-by-principal')?.params.map((p) => p.name)).toEqual(['key', 'since', 'until']);
  });

  it('runs a named query with --param values and rejects a missing or unknown parameter', async () => {
    captureStdout();
    const params = ['key=alias/project-key', 'since=2024-03-01T00:00:00Z', 'until=2024-04-01 00:00:00'];
    await queryCommand('key-usage-by-principal', { db: ':memory:', param: params, format: 'json' });
    expect(JSON.parse(out.join(''))).toEqual([]);
    await expect(queryCommand('key-usage-by-principal', { db: ':memory:', param: params.slice(0, 2), format: 'json' })).rejects.toThrow(
      'the query needs --param until=…',
    );
    await expect(queryCommand('keys-pending-deletion', { db: ':memory:', param: ['as_of=2024-01-01', 'key=x'], format: 'json' })).rejects.toThrow(
      '--param key: the query has no $key parameter',
    );
  });

  it('asks for a query, and takes none with --list', async () => {
    await expect(queryCommand(undefined, { param: [], format: 'table' })).rejects.toThrow(UsageError);
    await expect(queryCommand('key-usage-by-principal', { list: true, param: [], format: 'table' })).rejects.toThrow(/--list takes no query/);
  });

  it('keytrail query --list prints each query\'s name, purpose and parameters as a table', () => {
    const result = runCli(['query', '--list']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^name\s+purpose\s+params$/);
    const catalog = loadQueryCatalog();
    expect(lines).toHaveLength(catalog.length + 2);
    catalog.forEach((q, i) => {
      const line = lines[i + 2] ?? '';
      expect(line.startsWith(`${q.name} `)).toBe(true);
      expect(line).toContain(q.purpose);
      expect(line.endsWith(q.params.map((p) => p.name).join(', '))).toBe(true);
    });
  });
});
