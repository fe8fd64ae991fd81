import { displayColumns, formatNumber, formatTime, type Block, type Cell, type Column, type DocTable, type ReportDocument } from './document.js';

/** Text in Markdown: characters that would start markup or HTML are escaped; line breaks become spaces. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\r?\n|\r/g, ' ')
    .replace(/([\\`*_[\]|#])/g, '\\$1')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** A code span that holds any text (backticks inside get a longer fence; pipes are escaped for tables). */
function codeSpan(text: string): string {
  const flat = text.replace(/\r?\n|\r/g, ' ').replace(/\|/g, '\\|');
  const longest = Math.max(0, ...[...flat.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

function cellText(value: Cell, column: Column): string {
  if (value === null || value === '') return '';
  switch (column.kind) {
    case 'number':
      return typeof value === 'number' ? formatNumber(value) : escapeMarkdown(String(value));
    case 'time':
      return escapeMarkdown(formatTime(String(value)));
    case 'day':
      return escapeMarkdown(String(value).slice(0, 10));
    case 'arn':
    case 'code':
      return codeSpan(String(value));
    case 'severity':
    case 'status':
      return `**${escapeMarkdown(String(value))}**`;
    default:
      return escapeMarkdown(String(value));
  }
}

function table(t: DocTable): string[] {
  const lines = [`**${escapeMarkdown(t.title)}**`, ''];
  if (t.rows.length === 0) return [...lines, `_${escapeMarkdown(t.empty)}_`, ''];
  const shown = t.displayLimit !== undefined ? t.rows.slice(0, t.displayLimit) : t.rows;
  const columns = displayColumns(t);
  lines.push(`| ${columns.map((c) => escapeMarkdown(c.label)).join(' | ')} |`);
  lines.push(`| ${columns.map((c) => (c.kind === 'number' ? '---:' : '---')).join(' | ')} |`);
  for (const row of shown) {
    const cells = columns.map((c) => {
      const under = c.secondary === undefined ? null : (row[c.secondary] ?? null);
      const main = cellText(row[c.id] ?? null, c);
      return under === null || under === '' || under === row[c.id] ? main : `${main} (${codeSpan(String(under))})`;
    });
    lines.push(`| ${cells.join(' | ')} |`);
  }
  if (shown.length < t.rows.length) lines.push('', `_${formatNumber(t.rows.length - shown.length)} more rows: use --format csv or json for all of them._`);
  lines.push('');
  return lines;
}

const TONE_PREFIX = { attention: '**Attention:** ', critical: '**Attention:** ', ok: '', neutral: '' } as const;

function block(b: Block): string[] {
  switch (b.kind) {
    case 'paragraph':
      return [`${b.tone ? TONE_PREFIX[b.tone] : ''}${escapeMarkdown(b.text)}`, ''];
    case 'list':
      return b.items.length === 0 ? [] : [...b.items.map((i) => `- ${escapeMarkdown(i)}`), ''];
    case 'facts':
      return ['| | |', '| --- | --- |', ...b.items.map((f) => `| ${escapeMarkdown(f.label)} | ${escapeMarkdown(f.value)} |`), ''];
    case 'chart':
      // Markdown has no charts: the text alternative stands in (the tables beside it hold the numbers).
      return [`_Chart — ${escapeMarkdown(b.chart.title)}:_ ${escapeMarkdown(b.chart.summary)}`, ''];
    case 'table':
      return table(b);
  }
}

/** The document as GitHub-flavoured Markdown. Every piece of data is escaped; nothing is raw HTML. */
export function renderMarkdown(doc: ReportDocument): string {
  const lines = [`# ${escapeMarkdown(doc.title)}`, '', `_${escapeMarkdown(doc.subtitle)}_`, ''];
  for (const p of doc.lead) lines.push(escapeMarkdown(p), '');
  for (const section of doc.sections) {
    lines.push(`## ${escapeMarkdown(section.title)}`, '');
    for (const b of section.blocks) lines.push(...block(b));
  }
  lines.push('---', '', `_${escapeMarkdown(doc.footer)}_`, '');
  return lines.join('\n');
}
