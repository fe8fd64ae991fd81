import { renderChartSvg } from './charts.js';
import { displayColumns, formatNumber, formatTime, type Block, type Cell, type ChartSpec, type Column, type DocTable, type Fact, type ReportDocument } from './document.js';

/** HTML that is already safe: only this module's markup and the chart renderer's SVG are wrapped in it. */
class SafeHtml {
  constructor(readonly html: string) {}
}

/** Text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

type Part = SafeHtml | string | number | null | undefined | false | readonly Part[];

function part(value: Part): string {
  if (value instanceof SafeHtml) return value.html;
  if (Array.isArray(value)) return value.map(part).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** Template for markup: every interpolated value is escaped unless it is `SafeHtml` already. */
function h(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += part(v) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

const STYLE = `
:root { color-scheme: light; --text: #1f2933; --muted: #52606d; --line: #d9dee4; --soft: #f5f7fa; --accent: #2f5d8a;
  --ok: #1e7b4a; --ok-bg: #eef8f2; --warn: #8a5300; --warn-bg: #fff6e0; --bad: #a61b1b; --bad-bg: #fdeeee; }
* { box-sizing: border-box; }
html { background: #fff; }
body { margin: 0 auto; max-width: 1280px; padding: 24px 28px 48px; color: var(--text); background: #fff;
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header.report { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 8px; }
h1 { font-size: 26px; line-height: 1.25; margin: 0 0 4px; overflow-wrap: anywhere; }
.subtitle { font-size: 16px; color: var(--muted); margin: 0 0 8px; }
.lead { max-width: 80ch; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
nav.toc ol { columns: 2; margin: 8px 0 0; padding-left: 20px; }
nav.toc a { color: var(--accent); }
p { margin: 8px 0; max-width: 90ch; }
.tone-attention, .tone-critical, .tone-ok, .tone-neutral { padding: 8px 12px; border-left: 4px solid; border-radius: 2px; }
.tone-attention { border-color: #d69e2e; background: var(--warn-bg); }
.tone-critical { border-color: var(--bad); background: var(--bad-bg); }
.tone-ok { border-color: var(--ok); background: var(--ok-bg); }
.tone-neutral { border-color: var(--line); background: var(--soft); }
dl.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 10px; margin: 12px 0; }
dl.facts div { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; background: #fff; }
dl.facts div.fact-attention { border-left: 4px solid #d69e2e; }
dl.facts div.fact-critical { border-left: 4px solid var(--bad); }
dl.facts div.fact-ok { border-left: 4px solid var(--ok); }
dl.facts dt { font-size: 12px; color: var(--muted); text-transform: none; }
dl.facts dd { margin: 2px 0 0; font-size: 18px; font-weight: 600; overflow-wrap: anywhere; }
dl.facts div.wide { grid-column: 1 / -1; }
dl.facts div.wide dd { font-size: 14px; font-weight: 400; }
figure.chart { margin: 16px 0 20px; padding: 12px; border: 1px solid var(--line); border-radius: 6px; }
figure.chart figcaption { font-weight: 600; margin-bottom: 6px; }
figure.chart svg.chart-svg { display: block; width: 100%; height: auto; }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 0 0 4px; padding: 0; font-size: 12.5px; }
ul.legend li { display: inline-flex; align-items: center; gap: 6px; }
figure.chart .chart-summary { color: var(--muted); font-size: 13px; margin: 6px 0 0; }
details.chart-data { margin-top: 6px; font-size: 13px; }
details.chart-data summary { cursor: pointer; color: var(--accent); }
.table-wrap { overflow-x: auto; margin: 8px 0 16px; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
caption { text-align: left; font-weight: 600; padding: 4px 0 6px; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 4px 7px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.time { white-space: nowrap; font-variant-numeric: tabular-nums; }
td.text { overflow-wrap: anywhere; min-width: 18ch; }
td .secondary { display: block; margin-top: 3px; font-size: 11px; color: var(--muted); overflow-wrap: anywhere; }
td .secondary.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 10.5px; }
td.code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; overflow-wrap: break-word; }
td.arn { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 11px; overflow-wrap: anywhere; min-width: 20ch; }
.badge { display: inline-block; padding: 0 6px; border-radius: 3px; border: 1px solid currentColor; font-size: 12px; }
.sev-critical { color: #8e1b1b; } .sev-high { color: #b3400b; } .sev-medium { color: #8a5300; } .sev-low { color: #2f5d8a; } .sev-info { color: #52606d; }
.st-bad { color: var(--bad); } .st-warn { color: var(--warn); } .st-ok { color: var(--ok); }
.empty { color: var(--muted); font-style: italic; }
.more { color: var(--muted); font-size: 12px; }
ul { margin: 6px 0; }
footer { margin-top: 40px; border-top: 1px solid var(--line); padding-top: 8px; color: var(--muted); font-size: 12px; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  html, body { background: #fff !important; color: #000; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav.toc { display: none; }
  section { break-before: page; }
  section.first { break-before: auto; }
  h2, h3, caption { break-after: avoid; }
  figure.chart, dl.facts div, tr, .tone-attention, .tone-critical, .tone-ok, .tone-neutral { break-inside: avoid; }
  thead { display: table-header-group; }
  .table-wrap { overflow: visible; }
  details.chart-data { display: none; }
  th, .tone-attention, .tone-critical, .tone-ok, .tone-neutral { background: none !important; }
  a { color: inherit; text-decoration: none; }
  table { font-size: 8.5pt; }
}
`;

const WARN = /not declared|^imported material|^no change stored|^pending import|^deletion scheduled|^key material (deleted|expired)/;
const BAD = /^(failed|none$|unknown|deletion due|pending deletion|deleted|disabled|attention|no evidence|automatic rotation disabled)/;
const OK = /^(success|rotated|enabled|evidence$|trusted|vendor |created|deletion cancelled|key material imported|automatic rotation enabled)/;

/** Colour for a status word; the word itself is always shown, so colour is never the only signal. */
function badgeClass(column: Column, text: string): string {
  if (column.kind === 'severity') return `badge sev-${text.replace(/[^a-z]/g, '')}`;
  if (WARN.test(text)) return 'badge st-warn';
  if (BAD.test(text)) return 'badge st-bad';
  if (OK.test(text)) return 'badge st-ok';
  return 'badge';
}

const CELL_CLASS: Record<NonNullable<Column['kind']>, string> = {
  text: 'text',
  number: 'num',
  time: 'time',
  day: 'time',
  arn: 'arn',
  code: 'code',
  severity: '',
  status: '',
};

function cell(value: Cell, column: Column, row: Record<string, Cell>): SafeHtml {
  const under = column.secondary === undefined ? null : (row[column.secondary] ?? null);
  const main = valueCell(value, column);
  if (under === null || under === '' || under === value) return main;
  const cls = column.kind === 'code' || column.kind === 'arn' ? 'secondary mono' : 'secondary';
  return new SafeHtml(main.html.replace(/<\/td>$/, h`<span class="${cls}">${String(under)}</span></td>`.html));
}

function valueCell(value: Cell, column: Column): SafeHtml {
  const text = value === null ? '' : typeof value === 'number' && column.kind === 'number' ? formatNumber(value) : String(value);
  const shown = column.kind === 'time' ? formatTime(text) : column.kind === 'day' ? text.slice(0, 10) : text;
  const cls = CELL_CLASS[column.kind ?? 'text'];
  if ((column.kind === 'severity' || column.kind === 'status') && shown !== '') {
    return h`<td><span class="${badgeClass(column, shown)}">${shown}</span></td>`;
  }
  return cls ? h`<td class="${cls}">${shown}</td>` : h`<td>${shown}</td>`;
}

function table(t: DocTable): SafeHtml {
  if (t.rows.length === 0) return h`<h3>${t.title}</h3><p class="empty">${t.empty}</p>`;
  const shown = t.displayLimit !== undefined ? t.rows.slice(0, t.displayLimit) : t.rows;
  const more = t.rows.length - shown.length;
  const columns = displayColumns(t);
  return h`<div class="table-wrap"><table id="${`table-${t.id}`}">
<caption>${t.title}</caption>
<thead><tr>${columns.map((c) => h`<th scope="col"${c.kind === 'number' ? h` class="num"` : ''}>${c.label}</th>`)}</tr></thead>
<tbody>
${shown.map((row) => h`<tr>${columns.map((c) => cell(row[c.id] ?? null, c, row))}</tr>\n`)}</tbody>
</table>${more > 0 ? h`<p class="more">${formatNumber(more)} more rows: use --format csv or json for all of them.</p>` : ''}</div>`;
}

function facts(items: readonly Fact[]): SafeHtml {
  return h`<dl class="facts">${items.map(
    (f) => h`<div class="${[f.tone ? `fact-${f.tone}` : '', f.wide ? 'wide' : ''].filter(Boolean).join(' ')}"><dt>${f.label}</dt><dd>${f.value}</dd></div>`,
  )}</dl>`;
}

/** The series names with their colours (swatches are SVG, which prints without background graphics). */
function legend(spec: ChartSpec): SafeHtml {
  return h`<ul class="legend">${spec.series.map(
    (s) => h`<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" rx="2" fill="${s.color}"></rect></svg>${s.name}</li>`,
  )}</ul>\n`;
}

async function chart(spec: ChartSpec): Promise<SafeHtml> {
  // The SVG comes from the chart renderer, which escapes every label it draws.
  const svg = new SafeHtml(await renderChartSvg(spec));
  return h`<figure class="chart" id="${`chart-${spec.id}`}">
<figcaption>${spec.title}</figcaption>
${spec.series.length > 1 ? legend(spec) : ''}${svg}
<p class="chart-summary">${spec.summary}</p>
<details class="chart-data"><summary>Chart data (table)</summary>${table(spec.data)}</details>
</figure>`;
}

async function block(b: Block): Promise<SafeHtml> {
  switch (b.kind) {
    case 'paragraph':
      return b.tone ? h`<p class="${`tone-${b.tone}`}">${b.text}</p>` : h`<p>${b.text}</p>`;
    case 'list':
      return b.items.length === 0 ? h`` : h`<ul>${b.items.map((i) => h`<li>${i}</li>`)}</ul>`;
    case 'facts':
      return facts(b.items);
    case 'chart':
      return chart(b.chart);
    case 'table':
      return table(b);
  }
}

/**
 * The document as one self-contained HTML page: inline CSS and inline SVG charts, no script, no
 * external resource (nothing is fetched when it is opened), printable (page breaks per section,
 * repeated table headers, no backgrounds). Every piece of data is escaped.
 */
export async function renderHtml(doc: ReportDocument): Promise<string> {
  const sections: SafeHtml[] = [];
  for (const [i, s] of doc.sections.entries()) {
    const blocks: SafeHtml[] = [];
    for (const b of s.blocks) blocks.push(await block(b));
    sections.push(h`<section id="${s.id}" aria-labelledby="${`${s.id}-heading`}"${i === 0 ? h` class="first"` : ''}>
<h2 id="${`${s.id}-heading`}">${s.title}</h2>
${blocks.map((b) => h`${b}\n`)}</section>\n`);
  }
  const page = h`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="keytrail">
<title>${doc.title} (${doc.subtitle})</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body>
<header class="report">
<h1>${doc.title}</h1>
<p class="subtitle">${doc.subtitle}</p>
${doc.lead.map((p) => h`<p class="lead">${p}</p>\n`)}</header>
<nav class="toc" aria-label="Contents"><ol>${doc.sections.map((s) => h`<li><a href="${`#${s.id}`}">${s.title}</a></li>`)}</ol></nav>
<main>
${sections}</main>
<footer><p>${doc.footer}</p></footer>
</body>
</html>
`;
  return page.html;
}
