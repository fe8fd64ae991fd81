import { describe, expect, it } from 'vitest';
import { renderChartSvg } from '../../../src/reports/charts.js';
import type { ChartSpec } from '../../../src/reports/document.js';

function spec(overrides: Partial<ChartSpec>): ChartSpec {
  return {
    id: 'test_chart',
    title: 'Calls <by> "caller"',
    summary: 'Two callers & one <script>.',
    orientation: 'horizontal',
    categories: ['role/App', '<img src=x onerror=alert(1)>'],
    series: [
      { name: 'successful', values: [5, 2], color: '#4e79a7' },
      { name: '</text><script>alert(1)</script>', values: [1, 0], color: '#e15759' },
    ],
    stacked: true,
    valueName: 'calls',
    data: { kind: 'table', id: 'test_chart_data', title: 'data', columns: [], rows: [], empty: '' },
    ...overrides,
  };
}

describe('Charts: ECharts server-side SVG', () => {
  it('draws the bars as SVG with the title and text alternative, every label escaped', async () => {
    const svg = await renderChartSvg(spec({}));
    expect(svg).toMatch(/^<svg [^>]*role="img" aria-labelledby="test_chart-title test_chart-desc"/);
    expect(svg).toContain('<title id="test_chart-title">Calls &lt;by&gt; &quot;caller&quot;</title>');
    expect(svg).toContain('<desc id="test_chart-desc">Two callers &amp; one &lt;script&gt;.</desc>');
    expect(svg).not.toMatch(/<script|<img/i);
    expect(svg).toContain('&lt;img src=x onerror=alert(1)&gt;');
    // One shape per value (a zero is drawn flat).
    expect(svg.match(/ecmeta_ssr_type="chart"/g)).toHaveLength(4);
    // No animation: a printed page shows the finished chart.
    expect(svg).not.toMatch(/@keyframes|<animate/);
  });

  it('lays days out along the x axis as month-day labels', async () => {
    const svg = await renderChartSvg(
      spec({ orientation: 'vertical', categories: ['2024-03-01', '2024-03-02', '2024-03-03'], series: [{ name: 'calls', values: [1, 0, 3], color: '#4e79a7' }] }),
    );
    expect(svg).toContain('>03-01<');
    expect(svg).toContain('>03-03<');
    expect(svg.match(/ecmeta_ssr_type="chart"/g)).toHaveLength(3);
  });
});
