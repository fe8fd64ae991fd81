import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { logger } from '../logger.js';
import { DEFAULT_CONFIG, KeytrailConfigSchema, type KeytrailConfig } from './schema.js';

/** Looked for in the working directory (at most one may exist) when neither a path nor KEYTRAIL_CONFIG is given. */
export const DEFAULT_CONFIG_FILES = ['keytrail.config.json', 'keytrail.config.yaml', 'keytrail.config.yml'] as const;

export interface LoadConfigOptions {
  /** `--config` path; wins over KEYTRAIL_CONFIG and the default file names. */
  path?: string;
  /** Environment to read (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where the default file names are looked for (default: the working directory). */
  cwd?: string;
}

/** Environment variables that override a field of the file (Lambda gets ARNs from its environment). */
const ENV_OVERRIDES = {
  KEYTRAIL_SNS_TOPIC_ARN: 'sns_topic_arn',
  KEYTRAIL_EVENT_BUS: 'event_bus',
} as const;

/**
 * Which file the configuration comes from: `path`, else `KEYTRAIL_CONFIG`, else the first of
 * `DEFAULT_CONFIG_FILES` present in `cwd`; null when there is none (the defaults apply).
 * A named file that does not exist is an error, not a silent fallback to defaults.
 */
export function findConfigFile(options: LoadConfigOptions = {}): string | null {
  const env = options.env ?? process.env;
  const named = options.path ?? (env['KEYTRAIL_CONFIG'] || undefined);
  if (named !== undefined) {
    if (!existsSync(named)) {
      const via = options.path !== undefined ? '--config' : 'KEYTRAIL_CONFIG';
      throw new ConfigError(`${named}: no such configuration file (named by ${via})`);
    }
    return named;
  }
  const cwd = options.cwd ?? process.cwd();
  const present = DEFAULT_CONFIG_FILES.filter((name) => existsSync(join(cwd, name)));
  // Two files would mean one of them is silently ignored.
  if (present.length > 1) throw new ConfigError(`${present.join(' and ')} are both present: keep one, or name one with --config`);
  return present[0] === undefined ? null : join(cwd, present[0]);
}

/**
 * Load and validate the configuration (JSON or YAML). Errors are a `ConfigError` whose message names
 * the file and every bad field, one per line:
 * `keytrail.config.yaml: keys[1].vendors[0].accounts[0]: must be a 12-digit AWS account id`.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<KeytrailConfig> {
  const env = options.env ?? process.env;
  const file = findConfigFile(options);
  let raw: unknown = {};
  if (file !== null) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`${displayName(file, options.cwd)}: cannot read: ${(error as Error).message}`, { cause: error });
    }
    raw = parseConfigText(text, displayName(file, options.cwd));
  }
  const config = validateConfig(withEnvOverrides(raw, env), file === null ? 'configuration' : displayName(file, options.cwd));
  logger.debug('configuration loaded', { configFile: file === null ? null : resolve(file) });
  return config;
}

/** A file found in the working directory is named as the user sees it there: `keytrail.config.yaml`. */
function displayName(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return isAbsolute(file) && rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** Parse file text by its extension (`.json`, else YAML, which also reads JSON). An empty file is `{}`. */
export function parseConfigText(text: string, file: string): unknown {
  if (text.trim() === '') return {};
  if (file.endsWith('.json')) {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ConfigError(`${file}: not valid JSON: ${(error as Error).message}`, { cause: error });
    }
  }
  try {
    return parseYaml(text, { prettyErrors: true }) as unknown;
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? `line ${error.linePos[0].line}, column ${error.linePos[0].col}: ` : '';
    const message = (error as Error).message.split('\n')[0] ?? '';
    throw new ConfigError(`${file}: not valid YAML: ${where}${message}`, { cause: error });
  }
}

/** Validate a parsed value against KeytrailConfigSchema; `source` names it in errors. */
export function validateConfig(value: unknown, source: string): KeytrailConfig {
  // A YAML file with only comments parses to null: that is an empty configuration.
  if (value === null || value === undefined) return DEFAULT_CONFIG;
  const parsed = KeytrailConfigSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.flatMap((issue) => describeIssue(issue).map((text) => `${source}: ${text}`));
  throw new ConfigError(lines.join('\n'), { cause: parsed.error });
}

function withEnvOverrides(raw: unknown, env: Readonly<Record<string, string | undefined>>): unknown {
  const overrides: Record<string, string> = {};
  for (const [variable, field] of Object.entries(ENV_OVERRIDES)) {
    const value = env[variable];
    if (value) overrides[field] = value;
  }
  if (Object.keys(overrides).length === 0) return raw;
  // Only objects take overrides; anything else fails validation with its own message.
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const record = raw as Record<string, unknown>;
  const alerts = record['alerts'];
  const base = alerts && typeof alerts === 'object' && !Array.isArray(alerts) ? alerts : {};
  return { ...record, alerts: { ...base, ...overrides } };
}

/** `keys[1].vendors[0].accounts[0]: must be a 12-digit AWS account id` (one per unknown field). */
function describeIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown field`);
  }
  return [`${formatPath(issue.path)}: ${issue.message}`];
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out === '' ? '(top level)' : out;
}
