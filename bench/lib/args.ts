import { parseArgs } from 'node:util';

export type ArgValues = Record<string, string | boolean | undefined>;

/** Parse `--name value` / `--flag` options strictly; an unknown option is an error that names it. */
export function parseBenchArgs(argv: string[], spec: Record<string, 'string' | 'boolean'>): ArgValues {
  const options = Object.fromEntries(Object.entries(spec).map(([name, type]) => [name, { type }]));
  const { values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  return values as ArgValues;
}

/** A positive integer option (underscores and commas allowed: `1_000_000`, `1,000,000`). */
export function intOption(values: ArgValues, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined || typeof raw === 'boolean') return fallback;
  const n = Number(raw.replace(/[_,]/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer (got "${raw}")`);
  return n;
}

export function stringOption(values: ArgValues, name: string): string | undefined {
  const raw = values[name];
  return typeof raw === 'string' ? raw : undefined;
}
