import type { KeytrailDb } from '../store/database.js';
import { buildComplianceReport } from './compliance.js';
import { complianceDocument } from './compliance-view.js';
import { buildCrossAccountReport } from './cross-account.js';
import { crossAccountDocument } from './cross-account-view.js';
import type { ReportDocument } from './document.js';
import { buildKeyReport, type KeyReportOptions } from './key-report.js';
import { keyDocument } from './key-view.js';
import { renderCsv } from './render-csv.js';
import { renderHtml } from './render-html.js';
import { renderMarkdown } from './render-markdown.js';
import type { Report } from './types.js';

export type * from './types.js';
export { REPORT_NAMES } from './types.js';
export type { ReportOptions } from './compliance.js';
export type { KeyReportOptions } from './key-report.js';
export { buildComplianceReport, buildCrossAccountReport, buildKeyReport };
export { csvTableIds } from './render-csv.js';

export const REPORT_FORMATS = ['md', 'html', 'csv', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** The document view of a report, as the Markdown, HTML and CSV renderers read it. */
export function reportDocument(report: Report): ReportDocument {
  switch (report.kind) {
    case 'compliance':
      return complianceDocument(report);
    case 'key':
      return keyDocument(report);
    case 'cross-account':
      return crossAccountDocument(report);
  }
}

export interface RenderOptions {
  /** csv: write only this table (default: every table, one section each). */
  table?: string;
}

/**
 * A report in one format: `json` is the report object itself; `md`, `html` and `csv` render its
 * document (CSV: its tables, see `renderCsv`). HTML is one self-contained page with inline SVG charts.
 */
export async function renderReport(report: Report, format: ReportFormat, options: RenderOptions = {}): Promise<string> {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  const doc = reportDocument(report);
  if (format === 'csv') return renderCsv(doc, options.table);
  if (format === 'html') return renderHtml(doc);
  return renderMarkdown(doc);
}

/** Build a report by name (`key` needs `keyRef`). */
export async function buildReport(
  db: KeytrailDb,
  name: Report['kind'],
  options: KeyReportOptions & { keyRef?: string },
): Promise<Report> {
  if (name === 'compliance') return buildComplianceReport(db, options);
  if (name === 'cross-account') return buildCrossAccountReport(db, options);
  if (options.keyRef === undefined) throw new Error('the key report needs a key');
  return buildKeyReport(db, options.keyRef, options);
}
