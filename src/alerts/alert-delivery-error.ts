import { KeytrailError } from '../errors.js';
import type { PublishSummary } from './publish.js';

/** One finding that did not reach one sink, and why. */
export interface UndeliveredFinding {
  findingId: string;
  /** Ledger name of the sink (`sns:<topic arn>`), or `null` when the finding never reached a sink (it failed validation). */
  sink: string | null;
  reason: string;
}

/** How many findings to name in the message; the full list is on `undelivered`. */
const LISTED_IN_MESSAGE = 20;

/**
 * Some findings could not be delivered. Raised only after every finding that did go out has been
 * recorded in the alert ledger, so a retry of the same batch sends exactly the ones listed here.
 */
export class AlertDeliveryError extends KeytrailError {
  readonly undelivered: readonly UndeliveredFinding[];
  /** What the publish that raised this did deliver and skip, when a publish raised it. */
  readonly summary: PublishSummary | undefined;

  constructor(undelivered: readonly UndeliveredFinding[], options?: { cause?: unknown; summary?: PublishSummary }) {
    super(describe(undelivered), options?.cause === undefined ? undefined : { cause: options.cause });
    this.undelivered = undelivered;
    this.summary = options?.summary;
  }

  /** The distinct finding ids that were not delivered to at least one sink. */
  get findingIds(): string[] {
    return [...new Set(this.undelivered.map((u) => u.findingId))];
  }
}

function describe(undelivered: readonly UndeliveredFinding[]): string {
  const listed = undelivered
    .slice(0, LISTED_IN_MESSAGE)
    .map((u) => `${u.findingId} ${u.sink === null ? '(not sent)' : `to ${u.sink}`}: ${u.reason}`);
  const more = undelivered.length > LISTED_IN_MESSAGE ? `; and ${undelivered.length - LISTED_IN_MESSAGE} more` : '';
  const count = undelivered.length === 1 ? '1 alert delivery' : `${undelivered.length} alert deliveries`;
  return `${count} failed: ${listed.join('; ')}${more}`;
}
