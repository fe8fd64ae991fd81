/**
 * A report as a document: sections of paragraphs, facts, tables and charts, in reading order. The
 * views (`*-view.ts`) turn a report object into one; the renderers (Markdown, HTML, CSV) never look
 * at the report object. Text here is plain text: every renderer escapes it for its format.
 */

export type Cell = string | number | boolean | null;

export type ColumnKind = 'text' | 'number' | 'time' | 'day' | 'arn' | 'code' | 'severity' | 'status';

export interface Column {
  id: string;
  label: string;
  kind?: ColumnKind;
  /** In CSV only: identifiers a person rarely reads in a page (full principal ARNs, event ids of long lists). */
  csvOnly?: true;
  /** Another column (usually `csvOnly`) shown in small type under this one's value in Markdown and HTML: a key's ARN under its alias. */
  secondary?: string;
}

export interface DocTable {
  kind: 'table';
  /** Stable name: the CSV section name and `--table` value. */
  id: string;
  title: string;
  columns: Column[];
  rows: Record<string, Cell>[];
  /** Said instead of an empty table. */
  empty: string;
  /** Markdown and HTML list at most this many rows and say how many more there are (CSV and JSON have all). */
  displayLimit?: number;
  /** Left out of CSV (chart data, which other tables hold in full). */
  csv?: false;
}

export interface ChartSeries {
  name: string;
  values: number[];
  color: string;
  type?: 'bar' | 'line';
}

export interface ChartSpec {
  id: string;
  title: string;
  /** The text alternative: what the chart shows, with the numbers that matter. */
  summary: string;
  /** vertical: categories along the x axis (days); horizontal: along the y axis (principals). */
  orientation: 'vertical' | 'horizontal';
  categories: string[];
  series: ChartSeries[];
  stacked: boolean;
  /** What the values count (`calls`, `findings`). */
  valueName: string;
  /** The chart's numbers as a table (in HTML behind "Chart data"). */
  data: DocTable;
}

export interface Fact {
  label: string;
  value: string;
  tone?: Tone;
  /** A long value (an ARN, a description): a whole row of the grid, in body type. */
  wide?: true;
}

export type Tone = 'ok' | 'attention' | 'critical' | 'neutral';

export type Block =
  | { kind: 'paragraph'; text: string; tone?: Tone }
  | { kind: 'list'; items: string[] }
  | { kind: 'facts'; items: Fact[] }
  | { kind: 'chart'; chart: ChartSpec }
  | DocTable;

export interface DocSection {
  /** Anchor id: sections link to each other by it. */
  id: string;
  title: string;
  blocks: Block[];
}

export interface ReportDocument {
  title: string;
  subtitle: string;
  /** Paragraphs under the title: what the report is and what it rests on. */
  lead: string[];
  sections: DocSection[];
  footer: string;
}

// --- formatting helpers shared by views and renderers ---------------------------------------

/** `2024-03-01 09:00:00Z` for tables. */
export function formatTime(iso: string | null): string {
  if (!iso) return '';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]}Z` : iso;
}

export function formatNumber(n: number): string {
  return n.toLocaleString('en-US');
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${formatNumber(n)} ${n === 1 ? word : many}`;
}

/** The columns Markdown and HTML show. */
export function displayColumns(t: DocTable): Column[] {
  return t.columns.filter((c) => !c.csvOnly);
}

/** The tables of a document in order, chart data included (for CSV: those without `csv: false`). */
export function documentTables(doc: ReportDocument): DocTable[] {
  return doc.sections.flatMap((s) => s.blocks.filter((b): b is DocTable => b.kind === 'table'));
}
