import { pastUsageSections, pastUsageTitle, type ReportSection } from './past-usage-sections.js';
import type { PastUsageReport } from './past-usage-types.js';

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1f24;line-height:1.45}
h1{font-size:1.5rem;word-break:break-all}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.25rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td{word-break:break-word}.headline{font-size:1.1rem;font-weight:600;padding:.6rem .8rem;border-left:4px solid #888}
.in-use{border-color:#cf222e;background:#fff5f5}.no-use-seen{border-color:#1a7f37;background:#f3fbf5}.no-evidence{border-color:#9a6700;background:#fff8e5}`;

/**
 * The past-usage report as one self-contained HTML page (inline style, no scripts, no external
 * resources): the verdict first, then the evidence, the key and the tables.
 */
export function renderPastUsageHtml(report: PastUsageReport): string {
  const title = pastUsageTitle(report);
  const body = pastUsageSections(report).map((s) => renderSection(s, report)).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`;
}

function renderSection(section: ReportSection, report: PastUsageReport): string {
  const parts = [`<section>`, `<h2>${escapeHtml(section.title)}</h2>`];
  section.paragraphs.forEach((p, i) => {
    const headline = section.title === 'Verdict' && i === 0;
    parts.push(headline ? `<p class="headline ${report.verdict.status}">${escapeHtml(p)}</p>` : `<p>${escapeHtml(p)}</p>`);
  });
  if (section.list && section.list.length > 0) parts.push(`<ul>${section.list.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ul>`);
  if (section.table) {
    const { columns, rows } = section.table;
    const head = columns.every((c) => c === '') ? '' : `<thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>`;
    const bodyRows = rows.map((row) => `<tr>${row.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
    parts.push(`<table>${head}<tbody>\n${bodyRows}\n</tbody></table>`);
  }
  parts.push('</section>');
  return parts.join('\n');
}

/** Text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
