import { UsageError } from '../errors.js';

/** Exit codes (DESIGN.md): 0 ok, 1 findings at or above --fail-on, 2 bad input or usage. */
export const EXIT = { ok: 0, findings: 1, badInput: 2 } as const;

export interface CommandResult {
  exitCode: number;
  /** For tests and callers that run commands in-process. */
  summary?: unknown;
}

/** Validate a `--format`-style option against its allowed values. */
export function parseFormat<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${flag} must be one of ${allowed.join(', ')} (got "${value}")`);
}
