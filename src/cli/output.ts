/**
 * The CLI's only printer: results go to stdout, progress and messages to stderr. Nothing else in
 * src/ writes to the console.
 */

type Row = Record<string, unknown>;

// `keytrail … | head` closes the pipe early: that is the reader's choice, not an error to report.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

export function printLine(text = ''): void {
  process.stdout.write(`${text}\n`);
}

export function printError(text: string): void {
  process.stderr.write(`${text}\n`);
}

export function printNotice(text: string): void {
  process.stderr.write(`${text}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printJsonl(rows: readonly unknown[]): void {
  for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A plain-text table; cells longer than `maxWidth` are cut with an ellipsis. */
export function formatTable(columns: readonly string[], rows: readonly Row[], maxWidth = 60): string {
  const text = rows.map((r) => columns.map((c) => clip(cell(r[c]).replace(/\s+/g, ' '), maxWidth)));
  const widths = columns.map((c, i) => Math.max(c.length, ...text.map((t) => t[i]?.length ?? 0)));
  const line = (cells: readonly string[]) => cells.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n');
}

export function printTable(columns: readonly string[], rows: readonly Row[]): void {
  printLine(formatTable(columns, rows));
  printLine(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
}

/** RFC 4180 CSV. */
export function formatCsv(columns: readonly string[], rows: readonly Row[]): string {
  const escape = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [columns.map(escape).join(','), ...rows.map((r) => columns.map((c) => escape(cell(r[c]))).join(','))].join('\n');
}

export function printCsv(columns: readonly string[], rows: readonly Row[]): void {
  printLine(formatCsv(columns, rows));
}

export type RowFormat = 'table' | 'csv' | 'json' | 'jsonl';

export function printRows(format: RowFormat, columns: readonly string[], rows: readonly Row[]): void {
  if (format === 'json') printJson(rows);
  else if (format === 'jsonl') printJsonl(rows);
  else if (format === 'csv') printCsv(columns, rows);
  else printTable(columns, rows);
}

function clip(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}
