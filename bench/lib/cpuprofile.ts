import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a V8 `.cpuprofile` (as written by `node --cpu-prof`) that the summaries use. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Self time per category, largest first. */
  categories: { name: string; ms: number; share: number }[];
  /** Self time per function, largest first. */
  functions: { name: string; ms: number; share: number }[];
  /** Inclusive (self + callees) time of selected functions, each counted once per stack. */
  inclusive: { name: string; ms: number; share: number }[];
}

/** A category rule: the first rule whose test matches a frame's URL and function name wins. */
export interface CategoryRule {
  name: string;
  test: (url: string, functionName: string) => boolean;
}

/**
 * The main thread's `.cpuprofile` in a directory. `--cpu-prof` writes one file per thread, and with
 * `--import tsx` the module loader runs on a thread of its own; the main thread's is the largest.
 */
export function mainThreadProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ path: join(dir, f), size: statSync(join(dir, f)).size }))
    .sort((a, b) => b.size - a.size);
  const largest = files[0];
  if (!largest) throw new Error(`no .cpuprofile in ${dir}`);
  return largest.path;
}

/**
 * Self time by category and function, and inclusive time of named functions. Built-ins such as
 * `JSON.parse` / `JSON.stringify` have no frame of their own: their time is the caller's self time.
 */
export function summarizeProfile(file: string, rules: readonly CategoryRule[], inclusiveNames: readonly string[], top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    if (id === undefined) continue;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let total = 0;
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    total += us;
    const { url, functionName, lineNumber } = node.callFrame;
    const category = rules.find((r) => r.test(url, functionName))?.name ?? 'other';
    categories.set(category, (categories.get(category) ?? 0) + us);
    const fn = `${functionName || '(anonymous)'} ${shortUrl(url)}${lineNumber >= 0 ? `:${lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
    // Walk up the stack once; a name counts once per sample even when it recurses.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = byId.get(cur)?.callFrame.functionName ?? '';
      if (inclusiveNames.includes(name) && !seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      }
    }
  }
  const rows = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / total }));
  return { file, totalMs: total / 1000, categories: rows(categories, 100), functions: rows(functions, top), inclusive: rows(inclusive, 100) };
}

function shortUrl(url: string): string {
  if (!url) return '';
  const clean = url.replace(/^file:\/\//, '').replace(/\?.*$/, '');
  const nm = clean.lastIndexOf('/node_modules/');
  if (nm >= 0) return clean.slice(nm + '/node_modules/'.length);
  const src = clean.search(/\/(src|bench)\//);
  return src >= 0 ? clean.slice(src + 1) : clean;
}
