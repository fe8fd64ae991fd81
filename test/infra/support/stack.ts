import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository this test file belongs to. */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** Top-level entries of the repository that packaging never reads (and some are large). */
const NOT_COPIED = new Set(['node_modules', '.git', '.serverless', 'coverage', 'test-output', 'lake']);

export type Template = {
  Resources: Record<string, CfnResource>;
  Conditions?: Record<string, unknown>;
  Outputs?: Record<string, unknown>;
};
export type CfnResource = {
  Type: string;
  Condition?: string;
  DependsOn?: string[];
  // CloudFormation properties are free-form JSON that the tests read by path.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  Properties: Record<string, any>;
};

export interface PackagedStack {
  /** CloudFormation as osls generated it (Fn::If and conditions still in place). */
  raw: Template;
  /** The same with conditions decided the way CloudFormation would, for these parameters. */
  template: Template;
  /** `--package` directory: the templates and one zip per function. */
  outDir: string;
  /** Temporary copy of the repository that was packaged. */
  serviceDir: string;
  cleanup(): void;
}

export interface PackageOptions {
  stage: string;
  params: Record<string, string>;
  /** Files to write into the copy before packaging (path relative to the repository → content). */
  files?: Record<string, string>;
}

/**
 * `osls package` on a temporary copy of the repository (node_modules linked, not copied), with dummy
 * credentials and no network: what `npx osls package` does for a developer or CI, without writing
 * .serverless/ into the working tree.
 */
export async function packageStack(options: PackageOptions): Promise<PackagedStack> {
  const work = mkdtempSync(join(tmpdir(), 'keytrail-stack-'));
  const serviceDir = join(work, 'service');
  const outDir = join(work, 'package');
  cpSync(REPO, serviceDir, {
    recursive: true,
    filter: (source) => {
      const rel = relative(REPO, source);
      const top = rel.split(/[\\/]/)[0] ?? '';
      if (NOT_COPIED.has(top) || rel.startsWith(join('bench', 'data'))) return false;
      // A developer's own configuration or database must not leak into the package under test.
      if (rel === basename(rel) && /^keytrail\.config\./.test(rel)) return false;
      return !/\.duckdb(\.wal)?$/.test(source);
    },
  });
  symlinkSync(join(REPO, 'node_modules'), join(serviceDir, 'node_modules'), 'dir');
  for (const [path, content] of Object.entries(options.files ?? {})) writeFileSync(join(serviceDir, path), content);

  const args = [join(REPO, 'node_modules/osls/bin/serverless.js'), 'package', '--stage', options.stage, '--region', 'us-east-1', '--package', outDir];
  for (const [name, value] of Object.entries(options.params)) args.push('--param', `${name}=${value}`);
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: 'dummy', AWS_SECRET_ACCESS_KEY: 'dummy', AWS_REGION: 'us-east-1' };
  for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'KEYTRAIL_CONFIG']) delete env[name];
  try {
    await run(process.execPath, args, { cwd: serviceDir, env, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    rmSync(work, { recursive: true, force: true });
    throw new Error(`osls package failed:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error });
  }
  const raw = JSON.parse(readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  return { raw, template: decideConditions(raw), outDir, serviceDir, cleanup: () => rmSync(work, { recursive: true, force: true }) };
}

/**
 * Decide the template's conditions (Fn::Equals on literals, Fn::Not/And/Or), as CloudFormation
 * does at deploy time: drop resources whose condition is false, take the chosen branch of each
 * Fn::If, and remove AWS::NoValue.
 */
export function decideConditions(template: Template): Template {
  const conditions = template.Conditions ?? {};
  const decided = new Map<string, boolean>();
  const evaluate = (expression: unknown): boolean => {
    const node = expression as Record<string, unknown>;
    if ('Condition' in node) return decide(node['Condition'] as string);
    if ('Fn::Equals' in node) {
      const [a, b] = node['Fn::Equals'] as unknown[];
      if (typeof a !== 'string' || typeof b !== 'string') throw new Error(`Fn::Equals on non-literals: ${JSON.stringify(node)}`);
      return a === b;
    }
    if ('Fn::Not' in node) return !evaluate((node['Fn::Not'] as unknown[])[0]);
    if ('Fn::And' in node) return (node['Fn::And'] as unknown[]).every(evaluate);
    if ('Fn::Or' in node) return (node['Fn::Or'] as unknown[]).some(evaluate);
    throw new Error(`cannot evaluate condition ${JSON.stringify(node)}`);
  };
  const decide = (name: string): boolean => {
    if (!decided.has(name)) {
      if (!(name in conditions)) throw new Error(`no condition ${name}`);
      decided.set(name, evaluate(conditions[name]));
    }
    return decided.get(name) as boolean;
  };
  const NO_VALUE = Symbol('AWS::NoValue');
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(walk).filter((v) => v !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const node = value as Record<string, unknown>;
    if (node['Ref'] === 'AWS::NoValue') return NO_VALUE;
    if ('Fn::If' in node) {
      const [name, whenTrue, whenFalse] = node['Fn::If'] as [string, unknown, unknown];
      return walk(decide(name) ? whenTrue : whenFalse);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      const walked = walk(v);
      if (walked !== NO_VALUE) out[k] = walked;
    }
    return out;
  };
  const resources: Record<string, CfnResource> = {};
  for (const [id, resource] of Object.entries(template.Resources)) {
    if (resource.Condition !== undefined && !decide(resource.Condition)) continue;
    resources[id] = walk(resource) as CfnResource;
  }
  return { ...template, Resources: resources };
}

/** Resources of one type, by logical id. */
export function resourcesOfType(template: Template, type: string): Record<string, CfnResource> {
  return Object.fromEntries(Object.entries(template.Resources).filter(([, r]) => r.Type === type));
}

/** A resource that must exist. */
export function resource(template: Template, id: string): CfnResource {
  const found = template.Resources[id];
  if (!found) throw new Error(`template has no resource ${id}`);
  return found;
}
