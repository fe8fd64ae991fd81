import type { EChartsCoreOption } from 'echarts/core';
import type { ChartSpec } from './document.js';

/**
 * Charts as inline SVG, drawn at build time by Apache ECharts' server-side renderer (`ssr: true`,
 * SVG string output: no DOM, no canvas, no script in the page). ECharts is loaded on first use only,
 * so the other formats and commands never pay for it.
 */

type EChartsCore = typeof import('echarts/core');

let loading: Promise<EChartsCore> | null = null;

function echarts(): Promise<EChartsCore> {
  loading ??= (async () => {
    const [core, charts, components, renderers] = await Promise.all([
      import('echarts/core'),
      import('echarts/charts'),
      import('echarts/components'),
      import('echarts/renderers'),
    ]);
    core.use([charts.BarChart, charts.LineChart, components.GridComponent, renderers.SVGRenderer]);
    return core;
  })();
  return loading;
}

export const CHART_WIDTH = 960;
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
const TEXT = '#1f2933';
const MUTED = '#52606d';
const GRID_LINE = '#e4e7eb';
/** Width of an 11px label character in common sans-serif fonts, generously (digits and capitals are wide). */
const LABEL_PX_PER_CHAR = 6.8;
const MAX_LABEL_PX = 330;

function chartOption(spec: ChartSpec): { option: EChartsCoreOption; height: number } {
  // The legend is HTML beside the SVG (renderHtml): it wraps and reads better than one the SVG has
  // to lay out with estimated text widths.
  const legendTop = 8;
  const series = spec.series.map((s) => ({
    type: s.type ?? 'bar',
    name: s.name,
    data: s.values,
    ...(spec.stacked && (s.type ?? 'bar') === 'bar' ? { stack: 'total' } : {}),
    itemStyle: { color: s.color },
    lineStyle: { color: s.color, width: 2 },
    barMaxWidth: 28,
    emphasis: { disabled: true },
  }));
  const common = {
    animation: false,
    textStyle: { fontFamily: FONT, color: TEXT },
    series,
  };
  const valueAxis = {
    type: 'value',
    name: spec.valueName,
    minInterval: 1,
    nameTextStyle: { color: MUTED, fontSize: 11 },
    axisLabel: { color: MUTED, fontSize: 11 },
    splitLine: { lineStyle: { color: GRID_LINE } },
  };
  if (spec.orientation === 'horizontal') {
    const height = legendTop + 40 + 24 * Math.max(spec.categories.length, 1);
    // Room for the labels from their length: ECharts measures text without the browser's fonts, and a
    // label it thinks fits can run off the left edge. Labels longer than that are cut with an ellipsis.
    const longest = Math.max(8, ...spec.categories.map((c) => c.length));
    const labelWidth = Math.min(MAX_LABEL_PX, Math.ceil(longest * LABEL_PX_PER_CHAR));
    return {
      height,
      option: {
        ...common,
        grid: { left: labelWidth + 16, right: 48, top: legendTop + 8, bottom: 28, outerBoundsMode: 'none' },
        yAxis: {
          type: 'category',
          data: spec.categories.map((c) => (c.length * LABEL_PX_PER_CHAR > MAX_LABEL_PX ? `${c.slice(0, Math.floor(MAX_LABEL_PX / LABEL_PX_PER_CHAR) - 1)}…` : c)),
          inverse: true,
          axisTick: { show: false },
          axisLabel: { color: TEXT, fontSize: 11 },
        },
        xAxis: valueAxis,
      },
    };
  }
  const height = legendTop + 250;
  return {
    height,
    option: {
      ...common,
      grid: { left: 8, right: 16, top: legendTop + 22, bottom: 8, outerBoundsMode: 'same', outerBoundsContain: 'all' },
      xAxis: {
        type: 'category',
        data: spec.categories,
        axisTick: { alignWithLabel: true },
        // Days as MM-DD: the year is in the period above every chart.
        axisLabel: { color: MUTED, fontSize: 11, hideOverlap: true, formatter: (value: string) => (/^\d{4}-\d{2}-\d{2}$/.test(value) ? value.slice(5) : value) },
      },
      yAxis: valueAxis,
    },
  };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * One chart as an SVG element: `role="img"`, with the chart's title and text alternative as its
 * `<title>` and `<desc>`. ECharts escapes the labels it draws; the ids come from the spec (constants).
 */
export async function renderChartSvg(spec: ChartSpec, width = CHART_WIDTH): Promise<string> {
  const core = await echarts();
  const { option, height } = chartOption(spec);
  const chart = core.init(null, null, { renderer: 'svg', ssr: true, width, height });
  let svg: string;
  try {
    chart.setOption(option);
    svg = chart.renderToSVGString();
  } finally {
    // Without dispose the instance keeps a timer alive and the process does not exit.
    chart.dispose();
  }
  const titleId = `${spec.id}-title`;
  const descId = `${spec.id}-desc`;
  return svg.replace(
    /^<svg\b([^>]*)>/,
    (_, attrs: string) =>
      `<svg${attrs} role="img" aria-labelledby="${titleId} ${descId}" class="chart-svg">` +
      `<title id="${titleId}">${escapeXml(spec.title)}</title><desc id="${descId}">${escapeXml(spec.summary)}</desc>`,
  );
}
