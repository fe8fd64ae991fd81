import { pastUsageSections, pastUsageTitle, type ReportSection } from './past-usage-sections.js';
import type { PastUsageReport } from './past-usage-types.js';

/**
 * The past-usage report as Markdown for a person: the verdict first, then the evidence, the key and
 * the tables (GitHub-flavoured tables).
 */
export function renderPastUsageMarkdown(report: PastUsageReport): string {
  const lines = [`# ${escape(pastUsageTitle(report))}`, ''];
  for (const section of pastUsageSections(report)) lines.push(...renderSection(section));
  return `${lines.join('\n').trimEnd()}\n`;
}

function renderSection(section: ReportSection): string[] {
  const lines = [`## ${escape(section.title)}`, ''];
  section.paragraphs.forEach((p, i) => {
    // The verdict's headline is the line a reader must not miss.
    lines.push(section.title === 'Verdict' && i === 0 ? `**${escape(p)}**` : escape(p), '');
  });
  if (section.list && section.list.length > 0) lines.push(...section.list.map((item) => `- ${escape(item)}`), '');
  if (section.table) {
    const { columns, rows } = section.table;
    lines.push(`| ${columns.map(cell).join(' | ')} |`, `| ${columns.map(() => '---').join(' | ')} |`);
    for (const row of rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
    lines.push('');
  }
  return lines;
}

/** Characters that would start Markdown formatting or break a table (`_` inside words is plain text in GFM). */
function escape(text: string): string {
  return text.replace(/([\\`*<[\]|])/g, '\\$1');
}

function cell(text: string): string {
  return escape(text.replace(/\s+/g, ' '));
}
