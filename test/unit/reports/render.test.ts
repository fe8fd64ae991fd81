import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildComplianceReport,
  buildCrossAccountReport,
  buildKeyReport,
  csvTableIds,
  renderReport,
  reportDocument,
  type ComplianceReport,
  type KeyReport,
} from '../../../src/reports/index.js';
import { KeytrailDb } from '../../../src/store/database.js';
import { AUDITOR, CONFIG, HOSTILE_CONTEXT, K1, K2, MARCH, NOW, STRANGER, openSeededDb } from './seed.js';

/** RFC 4180 records (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || record.length > 0) records.push([...record, field]);
  return records;
}

/** The sections of a multi-table CSV: `# id`, header, rows, empty line. */
function csvSections(text: string): Map<string, { header: string[]; rows: string[][] }> {
  const sections = new Map<string, { header: string[]; rows: string[][] }>();
  let current: { header: string[]; rows: string[][] } | null = null;
  for (const record of parseCsv(text)) {
    if (record.length === 1 && record[0]?.startsWith('# ')) {
      current = { header: [], rows: [] };
      sections.set(record[0].slice(2), current);
    } else if (record.length === 1 && record[0] === '') current = null;
    else if (current && current.header.length === 0) current.header = record;
    else if (current) current.rows.push(record);
    else throw new Error(`a record outside any section: ${record.join(',')}`);
  }
  return sections;
}

/** Attributes that would make a browser fetch something (or run something) when the page opens. */
const EXTERNAL_REFERENCE = /\b(?:src|href|xlink:href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?\/\//i;

describe('Report rendering', () => {
  let db: KeytrailDb;
  let compliance: ComplianceReport;
  let key: KeyReport;
  let complianceHtml: string;
  let keyHtml: string;

  beforeAll(async () => {
    db = await openSeededDb();
    compliance = await buildComplianceReport(db, { config: CONFIG, ...MARCH, now: NOW });
    key = await buildKeyReport(db, K1, { config: CONFIG, ...MARCH, now: NOW });
    complianceHtml = await renderReport(compliance, 'html');
    keyHtml = await renderReport(key, 'html');
  });
  afterAll(() => db.close());

  describe('HTML', () => {
    it('escapes a <script> in an encryption-context value and markup in an alias name', () => {
      for (const html of [complianceHtml, keyHtml]) {
        expect(html).not.toMatch(/<script/i);
        expect(html).not.toMatch(/<img/i);
        // No tag carries an event handler: the alias's text is inside an element, escaped.
        expect(html).not.toMatch(/<[^>]*\son[a-z]+\s*=/i);
      }
      // The encryption context shows, as text, in the key's timeline.
      expect(keyHtml).toContain('&lt;script&gt;alert(\\&quot;ctx\\&quot;)&lt;/script&gt;');
      // The alias shows as text in the tables and in the daily chart's legend.
      expect(complianceHtml).toContain('<td class="code">alias/&lt;img src=x onerror=alert(1)&gt;');
      const legends = [...complianceHtml.matchAll(/<ul class="legend">[\s\S]*?<\/ul>/g)].map((m) => m[0]).join('\n');
      expect(legends).toContain('</svg>alias/&lt;img src=x onerror=alert(1)&gt;</li>');
    });

    it('references nothing outside the file: no external src/href, no script, no @import, no url()', () => {
      for (const html of [complianceHtml, keyHtml]) {
        expect(html).not.toMatch(EXTERNAL_REFERENCE);
        expect(html).not.toMatch(/@import|url\(/i);
        expect(html).not.toMatch(/<(?:script|link|iframe|object|embed|img)\b/i);
        // In-page links only.
        for (const m of html.matchAll(/\bhref="([^"]*)"/g)) expect(m[1]).toMatch(/^#/);
      }
      // A URL in a finding's text stays text.
      expect(complianceHtml).toContain('See https://docs.aws.amazon.com/kms/latest/developerguide/logging-using-cloudtrail.html for the record.');
    });

    it('draws at least three charts as inline SVG, each with a title, a text alternative and bars', () => {
      const charts = [...complianceHtml.matchAll(/<figure class="chart" id="chart-([^"]+)">([\s\S]*?)<\/figure>/g)];
      expect(charts.map((c) => c[1])).toEqual(['daily_usage_by_key', 'usage_by_principal', 'findings_daily']);
      for (const [, id, body = ''] of charts) {
        expect(body, id).toMatch(/<svg[^>]*role="img"[^>]*aria-labelledby="[^"]+-title [^"]+-desc"/);
        expect(body, id).toMatch(/<title id="[^"]+-title">[^<]+<\/title><desc id="[^"]+-desc">[^<]+<\/desc>/);
        // ECharts marks the shapes of data series.
        expect(body.match(/ecmeta_ssr_type="chart"/g)?.length ?? 0, id).toBeGreaterThan(0);
        expect(body, id).toContain('<details class="chart-data">');
      }
      const daily = charts[0]?.[2] ?? '';
      // K1 has the most calls: it is the first series, named by its alias.
      expect(daily).toContain('alias/project-key');
      const calls = compliance.usage.dailyByKey.reduce((n, d) => n + d.calls, 0);
      expect(daily).toContain(`${calls} calls on 5 keys over 31 days; busiest: alias/project-key (12)`);
    });

    it('has a title, a language, headed tables and print rules', () => {
      expect(complianceHtml).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
      expect(complianceHtml).toContain('<title>KMS key management: compliance evidence (2024-03-01 to 2024-03-31 (31 days, UTC))</title>');
      expect(complianceHtml).toContain('<th scope="col">Framework</th>');
      expect(complianceHtml).toMatch(/@media print \{[\s\S]*section \{ break-before: page; \}[\s\S]*thead \{ display: table-header-group; \}/);
      expect(complianceHtml).toContain('PCI DSS v4.0');
      expect(complianceHtml).toContain('CC6.1 (logical access)');
    });

    it('shows the pending deletion date and the stranger that is not allowlisted', () => {
      expect(complianceHtml).toContain('2024-04-19 12:00:00Z');
      expect(complianceHtml).toContain(`Not allowlisted: ${STRANGER} on alias/project-key.`);
      expect(complianceHtml).toContain('suppressions[0] (reason: Q1 audit engagement)');
    });
  });

  it('renders every format for an empty store, saying there is nothing rather than failing', async () => {
    const empty = await KeytrailDb.open({ path: ':memory:', threads: 1 });
    try {
      const report = await buildComplianceReport(empty, { config: CONFIG, now: NOW });
      // Nothing stored: the 30 days up to today.
      expect(report.period).toMatchObject({ firstDay: '2024-03-07', lastDay: '2024-04-05', days: 30 });
      expect(report.period.evidence).toMatchObject({ firstEvent: null, gapDays: 30 });
      const html = await renderReport(report, 'html');
      expect(html).toContain('No calls on any key in the period.');
      expect(html.match(/class="chart-svg"/g)).toHaveLength(3);
      expect(await renderReport(report, 'md')).toContain('_No key had events in the period._');
      expect(csvSections(await renderReport(report, 'csv')).get('keys')?.rows).toEqual([]);
    } finally {
      empty.close();
    }
  });

  describe('CSV', () => {
    it('writes every table as a "# id" section that parses, with raw values', async () => {
      const csv = await renderReport(compliance, 'csv');
      const sections = csvSections(csv);
      expect([...sections.keys()]).toEqual(csvTableIds(reportDocument(compliance)));
      for (const [id, s] of sections) for (const row of s.rows) expect(row.length, id).toBe(s.header.length);
      const keys = sections.get('keys');
      expect(keys?.header).toContain('key_arn');
      expect(keys?.rows.map((r) => r[keys.header.indexOf('key_arn')])).toContain(K1);
      const pending = sections.get('pending_deletion');
      expect(pending?.rows).toHaveLength(1);
      expect(pending?.rows[0]?.[pending.header.indexOf('deletion_date')]).toBe('2024-04-19T12:00:00.000Z');
      const cross = sections.get('cross_account_by_account');
      expect(cross?.rows.map((r) => r[cross.header.indexOf('caller_account')])).toEqual(['222233334444', '444455556666', AUDITOR, STRANGER]);
      expect(sections.get('administrative_actions')?.rows).toHaveLength(10);
      // Chart data is not repeated in CSV.
      expect([...sections.keys()].some((id) => id.endsWith('_data'))).toBe(false);
    });

    it('writes one table alone as plain CSV, and names the tables when asked for one it lacks', async () => {
      const csv = await renderReport(key, 'csv', { table: 'timeline' });
      const records = parseCsv(csv.trimEnd());
      expect(records[0]).toEqual(['time', 'event', 'outcome', 'caller', 'account', 'service', 'source_ip', 'encryption_context', 'event_id']);
      expect(records).toHaveLength(1 + key.timeline.shown);
      const context = records.map((r) => r[7] ?? '').find((c) => c.includes('script'));
      // As logged, JSON text: a spreadsheet gets the text, not a formula (the cell does not start with "=").
      expect(JSON.parse(context ?? 'null')).toMatchObject({ tenant: HOSTILE_CONTEXT });
      await expect(renderReport(key, 'csv', { table: 'nope' })).rejects.toThrow(/no table "nope".*timeline/);
    });

    it('keeps a spreadsheet from reading a cell as a formula', async () => {
      const report = await buildComplianceReport(db, { config: CONFIG, ...MARCH, now: NOW });
      const [first] = report.keys;
      if (!first) throw new Error('the seed has keys');
      report.keys[0] = { ...first, alias: '=HYPERLINK("http://evil.example","x")' };
      const csv = await renderReport(report, 'csv', { table: 'keys' });
      expect(csv).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    });
  });

  describe('Markdown and JSON', () => {
    it('escapes table cells and markup in Markdown', async () => {
      const md = await renderReport(key, 'md');
      // Markup appears only inside code spans, which Markdown shows as text.
      for (const line of md.split('\n').filter((l) => /<script/i.test(l))) expect(line.replace(/`[^`]*`/g, '')).not.toMatch(/<script/i);
      const contextRow = md.split('\n').find((l) => l.includes('tenant'));
      // A code span, and the table's pipes stay the table's.
      expect(contextRow).toMatch(/`\{"tenant":"<script>alert\(\\"ctx\\"\)<\/script>".*`/);
      const compliance = await renderReport(await buildComplianceReport(db, { config: CONFIG, ...MARCH, now: NOW }), 'md');
      expect(compliance).toContain('alias/&lt;img src=x onerror=alert(1)&gt;');
      expect(compliance).toContain('## Control mapping');
    });

    it('prints the typed report object as JSON', async () => {
      const json = JSON.parse(await renderReport(compliance, 'json')) as ComplianceReport;
      expect(json.kind).toBe('compliance');
      expect(json.pendingDeletion[0]?.keyArn).toBe(K2);
      const cross = JSON.parse(await renderReport(await buildCrossAccountReport(db, { config: CONFIG, ...MARCH, now: NOW }), 'json')) as { kind: string; rows: unknown[] };
      expect(cross.kind).toBe('cross-account');
      expect(cross.rows).toHaveLength(5);
    });
  });
});
