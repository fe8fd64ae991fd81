import type { Logger } from '@aws-lambda-powertools/logger';
import { AlertDeliveryError } from '../alerts/alert-delivery-error.js';
import { publishFindings, type PublishSummary } from '../alerts/publish.js';
import type { AlertSink } from '../alerts/sink.js';
import type { Finding, Severity } from '../findings/finding.js';
import type { S3Ledger } from '../findings/s3-ledger.js';
import { KeytrailError } from '../errors.js';
import { logger as defaultLogger } from '../logger.js';

/** One publishing attempt: how long its claims last and whose they are. */
export interface PublishAttempt {
  /** Lease of each claim; in Lambda the invocation's remaining time plus a margin. */
  leaseMs: number;
  /** Written into ledger entries, for people reading them: the Lambda request id. */
  owner: string;
}

export interface PublishOutcome {
  /** null when nothing was to be sent (no findings or no sinks). */
  summary: PublishSummary | null;
  /**
   * Findings not delivered to every sink by this attempt: failed, never tried because the ledger
   * failed, or held by another attempt. The records behind them must be retried.
   */
  undelivered: Set<string>;
  /** Of those, the ones another attempt holds. */
  contended: number;
}

export interface FindingPublisherOptions {
  sinks: readonly AlertSink[];
  ledger: S3Ledger;
  minSeverity: Severity;
  shouldSend: (finding: Finding) => boolean;
  logger?: Logger;
}

/**
 * `publishFindings` over the S3 ledger: each finding goes to each sink once across retries and
 * concurrent containers. Never throws: what did not go out is returned, for the caller to retry.
 */
export class FindingPublisher {
  private readonly log: Logger;

  constructor(private readonly options: FindingPublisherOptions) {
    this.log = options.logger ?? defaultLogger;
  }

  get hasSinks(): boolean {
    return this.options.sinks.length > 0;
  }

  async publish(findings: readonly Finding[], attempt: PublishAttempt): Promise<PublishOutcome> {
    if (findings.length === 0 || this.options.sinks.length === 0) return { summary: null, undelivered: new Set(), contended: 0 };
    const session = this.options.ledger.session(attempt);
    const undelivered = new Set<string>();
    let summary: PublishSummary | null = null;
    try {
      summary = await publishFindings(findings, {
        sinks: this.options.sinks,
        ledger: session,
        minSeverity: this.options.minSeverity,
        shouldSend: this.options.shouldSend,
        logger: this.log,
      });
    } catch (error) {
      if (error instanceof AlertDeliveryError) {
        summary = error.summary ?? null;
        for (const id of error.findingIds) undelivered.add(id);
      } else {
        // The ledger itself failed (S3 unreachable, access denied): nothing is known to be sent.
        this.log.error('publishing failed', { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
        for (const finding of findings) undelivered.add(finding.finding_id);
      }
    } finally {
      await session.releaseUnsent();
    }
    for (const contention of session.contended) undelivered.add(contention.findingId);
    return { summary, undelivered, contended: session.contended.length };
  }
}

/** Some findings (or the report summary) did not go out; the next attempt sends them. */
export class DeliveryIncompleteError extends KeytrailError {}
