import { UsageError } from '../errors.js';
import { documentTables, type Cell, type DocTable, type ReportDocument } from './document.js';

/**
 * CSV of a report's tables (RFC 4180, CRLF-free: `\n` line ends).
 *
 * A report has several tables. By default every table is written, each as a section: a line
 * `# <table id>`, the header row, the rows, then an empty line. `table` picks one table, written
 * alone as plain CSV (for spreadsheets and `COPY … FROM`). Chart data is left out: the tables hold
 * the same numbers in full.
 *
 * Text cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
 * carriage return) are prefixed with `'`: CloudTrail values such as encryption contexts are chosen
 * by callers.
 */
export function renderCsv(doc: ReportDocument, table?: string): string {
  const tables = documentTables(doc).filter((t) => t.csv !== false);
  if (table !== undefined) {
    const one = tables.find((t) => t.id === table);
    if (!one) throw new UsageError(`--table: no table "${table}" in this report (tables: ${tables.map((t) => t.id).join(', ')})`);
    return `${csvTable(one)}\n`;
  }
  return tables.map((t) => `# ${t.id}\n${csvTable(t)}\n`).join('\n');
}

/** The table ids `renderCsv` accepts for this document. */
export function csvTableIds(doc: ReportDocument): string[] {
  return documentTables(doc)
    .filter((t) => t.csv !== false)
    .map((t) => t.id);
}

function csvTable(t: DocTable): string {
  const lines = [t.columns.map((c) => field(c.id)).join(',')];
  for (const row of t.rows) lines.push(t.columns.map((c) => field(row[c.id] ?? null)).join(','));
  return lines.join('\n');
}

function field(value: Cell): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
