import './log-level.js';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { KeytrailError, UsageError } from '../errors.js';
import { registerCompactCommand } from './compact.js';
import { registerDemoCommand } from './demo.js';
import { registerDetectCommand } from './detect.js';
import { registerExportCommand } from './export.js';
import { registerFindingsCommand } from './findings.js';
import { registerIngestCommand } from './ingest.js';
import { printError } from './output.js';
import { registerPastUsageCommand } from './past-usage.js';
import { registerQueryCommand } from './query.js';
import { registerReportCommand } from './report.js';
import { EXIT, type CommandResult } from './result.js';

/** Runs a command's work and turns its outcome into an exit code; user errors never print a stack. */
export type Runner = (work: () => Promise<CommandResult>) => Promise<void>;

async function run(work: () => Promise<CommandResult>): Promise<void> {
  try {
    const result = await work();
    process.exitCode = result.exitCode;
  } catch (error) {
    if (error instanceof KeytrailError) {
      printError(`keytrail: ${error.message}`);
      process.exitCode = EXIT.badInput;
      return;
    }
    throw error;
  }
}

export function buildProgram(runner: Runner = run): Command {
  const program = new Command()
    .name('keytrail')
    .description('AWS KMS audit: CloudTrail and KMS events into DuckDB, detectors, alerts, reports')
    .exitOverride()
    .configureOutput({ outputError: (text) => printError(text.trimEnd()) });
  registerIngestCommand(program, runner);
  registerQueryCommand(program, runner);
  registerExportCommand(program, runner);
  registerCompactCommand(program, runner);
  registerFindingsCommand(program, runner);
  registerDetectCommand(program, runner);
  registerDemoCommand(program, runner);
  registerReportCommand(program, runner);
  registerPastUsageCommand(program, runner);
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; everything else commander rejects is bad usage.
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
      return;
    }
    if (error instanceof UsageError) {
      printError(`keytrail: ${error.message}`);
      process.exitCode = EXIT.badInput;
      return;
    }
    throw error;
  }
}

// Run when executed as a script (`tsx src/cli/main.ts …`); bin/keytrail.js imports and calls main().
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
