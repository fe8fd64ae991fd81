import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { demoCommand } from '../../src/cli/demo.js';

/** Screenshots land here (git-ignored) for a person to look at. */
const OUTPUT_DIR = fileURLToPath(new URL('../../test-output/', import.meta.url));
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** Flags for a quiet, offline browser: nothing it does on its own may reach the network. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface ChartCheck {
  id: string;
  title: string | null;
  desc: string | null;
  width: number;
  /** Filled paths and rects with an area: bars, legend swatches. */
  drawn: number;
  /** Bars of the data series (ECharts marks them). */
  marks: number;
}

describe('Browser: the demo\'s HTML compliance report in Chromium', () => {
  let dir: string;
  let reportPath: string;
  let context: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];
  const failedRequests: string[] = [];
  const externalRequests: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keytrail-browser-'));
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      reportPath = (await demoCommand({ db: join(dir, 'demo.duckdb'), format: 'table', progress: false, report: join(dir, 'report.html') })).reportPath;
    } finally {
      stdout.mockRestore();
    }
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
      offline: true,
    });
    // The page is one file: anything else it asks for is a defect (and is not fetched).
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:') || url === 'about:blank') return route.continue();
      externalRequests.push(url);
      return route.abort();
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    page.on('requestfailed', (r) => failedRequests.push(`${r.url()}: ${r.failure()?.errorText ?? ''}`));
    await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });
  });

  afterAll(async () => {
    await context?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('renders at least three charts as SVG with drawn bars, each with a title and a text alternative', async () => {
    // Runs in the page (plain JavaScript: the project's TypeScript has no DOM types).
    const charts = (await page.evaluate(`[...document.querySelectorAll('figure.chart svg.chart-svg')].map((svg) => {
      const filled = [...svg.querySelectorAll('path, rect')].filter((s) => {
        const fill = s.getAttribute('fill');
        if (!fill || fill === 'none' || s.getAttribute('fill-opacity') === '0') return false;
        const box = s.getBBox();
        return box.width > 0 && box.height > 0;
      });
      return {
        id: svg.closest('figure')?.id ?? '',
        title: svg.querySelector('title')?.textContent ?? null,
        desc: svg.querySelector('desc')?.textContent ?? null,
        width: svg.getBoundingClientRect().width,
        drawn: filled.length,
        marks: svg.querySelectorAll('[ecmeta_ssr_type="chart"]').length,
      };
    })`)) as ChartCheck[];
    expect(charts.length).toBeGreaterThanOrEqual(3);
    for (const c of charts) {
      expect(c.title, c.id).toBeTruthy();
      expect(c.desc, c.id).toBeTruthy();
      expect(c.width, `${c.id} is laid out at a readable width`).toBeGreaterThan(600);
      expect(c.drawn, `${c.id} draws filled shapes`).toBeGreaterThan(3);
      expect(c.marks, `${c.id} draws data marks`).toBeGreaterThan(0);
    }
    expect(charts.map((c) => c.id)).toEqual(expect.arrayContaining(['chart-daily_usage_by_key', 'chart-usage_by_principal', 'chart-findings_daily']));
  });

  it('logs no console error and makes no request beyond the file itself', () => {
    expect(consoleErrors).toEqual([]);
    expect(failedRequests).toEqual([]);
    expect(externalRequests).toEqual([]);
  });

  it('has tables with column headers and in-page links only', async () => {
    const links = await page.$$eval('[href], [src]', (els) => els.map((e) => e.getAttribute('href') ?? e.getAttribute('src') ?? ''));
    expect(links.filter((l) => !l.startsWith('#'))).toEqual([]);
    const headers = await page.$$eval('table', (tables) => tables.map((t) => t.querySelectorAll('thead th[scope="col"]').length));
    expect(headers.length).toBeGreaterThan(5);
    expect(headers.every((n) => n > 0)).toBe(true);
  });

  it('saves screenshots for screen and print to test-output/', async () => {
    mkdirSync(OUTPUT_DIR, { recursive: true });
    const screen = join(OUTPUT_DIR, 'compliance-report.png');
    await page.screenshot({ path: screen, fullPage: true });
    await page.emulateMedia({ media: 'print' });
    const print = join(OUTPUT_DIR, 'compliance-report-print.png');
    await page.screenshot({ path: print, fullPage: true });
    const background = (await page.evaluate('getComputedStyle(document.body).backgroundColor')) as string;
    await page.emulateMedia({ media: 'screen' });
    expect(['rgb(255, 255, 255)', 'rgba(0, 0, 0, 0)']).toContain(background);
    for (const file of [screen, print]) expect(readFileSync(file).subarray(1, 4).toString()).toBe('PNG');
  });
});
