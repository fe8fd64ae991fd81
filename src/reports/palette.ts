import type { Severity } from '../findings/finding.js';

/** Series colours (Tableau 10: distinguishable, and readable in greyscale print by position in the stack). */
export const SERIES_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f'] as const;

/** The "everything else" series. */
export const OTHER_COLOR = '#bab0ac';

export const SEVERITY_COLORS: Record<Severity, string> = {
  critical: '#8e1b1b',
  high: '#d9480f',
  medium: '#e8a33d',
  low: '#4e79a7',
  info: '#9aa5b1',
};

export const OUTCOME_COLORS = { success: '#4e79a7', error: '#e15759', other: '#a0cbe8' } as const;

export function seriesColor(i: number): string {
  return SERIES_COLORS[i % SERIES_COLORS.length] ?? OTHER_COLOR;
}
