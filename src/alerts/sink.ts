import type { Finding } from '../findings/finding.js';

/** A finding the sink accepted, with the id the service gave the message (SNS MessageId, EventBridge EventId). */
export interface DeliveredFinding {
  findingId: string;
  messageId: string | null;
}

/** A finding the sink gave up on, after its own retries. */
export interface FailedFinding {
  findingId: string;
  error: Error;
}

/** What one `send` did: every finding passed in appears in exactly one of the two lists. */
export interface SinkResult {
  delivered: DeliveredFinding[];
  failed: FailedFinding[];
}

/**
 * Somewhere findings are sent. The SNS and EventBridge sinks implement it; tests pass fakes.
 * `send` reports failures in its result instead of throwing, so that the findings that did go out
 * can still be recorded in the ledger.
 */
export interface AlertSink {
  /** Ledger key of the destination (`sns:<topic arn>`): a finding goes to each name at most once. */
  readonly name: string;
  send(findings: readonly Finding[]): Promise<SinkResult>;
}
