import type { Logger } from '@aws-lambda-powertools/logger';
import { FindingSchema, severityRank, type Finding, type Severity } from '../findings/finding.js';
import type { AlertLedger } from '../findings/ledger.js';
import { logger as defaultLogger } from '../logger.js';
import { AlertDeliveryError, type UndeliveredFinding } from './alert-delivery-error.js';
import type { AlertSink } from './sink.js';

export interface PublishOptions {
  sinks: readonly AlertSink[];
  ledger: Pick<AlertLedger, 'unpublished' | 'markAllPublished'>;
  /** Findings below this severity are stored but not sent. */
  minSeverity: Severity;
  /**
   * Findings for which this returns false are not sent, e.g. those of detectors with
   * `status: 'experimental'`: `(f) => detectorsById.get(f.detector_id)?.status !== 'experimental'`.
   */
  shouldSend?: (finding: Finding) => boolean;
  logger?: Logger;
}

/**
 * What a publish did. `sent`, `skippedAlreadyPublished` and `failed` count (finding, sink) pairs;
 * `belowSeverity`, `filteredOut` and `invalid` count findings.
 */
export interface PublishSummary {
  sent: number;
  skippedAlreadyPublished: number;
  belowSeverity: number;
  filteredOut: number;
  /** Findings that failed FindingSchema; they are also in the thrown error. */
  invalid: number;
  failed: number;
}

/**
 * Send findings to every sink, each at most once per sink (the ledger remembers), validating each
 * against FindingSchema first. Every delivery is recorded as soon as its sink reports it; if anything
 * was not delivered, throws an `AlertDeliveryError` listing it (with this summary), so a retry of the
 * same input sends exactly what is missing.
 */
export async function publishFindings(findings: readonly unknown[], options: PublishOptions): Promise<PublishSummary> {
  const log = options.logger ?? defaultLogger;
  const summary: PublishSummary = { sent: 0, skippedAlreadyPublished: 0, belowSeverity: 0, filteredOut: 0, invalid: 0, failed: 0 };
  const undelivered: UndeliveredFinding[] = [];

  const toSend = new Map<string, Finding>();
  findings.forEach((candidate, index) => {
    const parsed = FindingSchema.safeParse(candidate);
    if (!parsed.success) {
      summary.invalid += 1;
      const issue = parsed.error.issues[0];
      const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : parsed.error.message;
      undelivered.push({ findingId: idOf(candidate) ?? `#${index}`, sink: null, reason: `finding failed FindingSchema at ${where}` });
      return;
    }
    const finding = parsed.data;
    if (toSend.has(finding.finding_id)) return;
    if (severityRank(finding.severity) < severityRank(options.minSeverity)) {
      summary.belowSeverity += 1;
      return;
    }
    if (options.shouldSend && !options.shouldSend(finding)) {
      summary.filteredOut += 1;
      return;
    }
    toSend.set(finding.finding_id, finding);
  });

  for (const sink of options.sinks) {
    const pendingIds = await options.ledger.unpublished([...toSend.keys()], sink.name);
    summary.skippedAlreadyPublished += toSend.size - pendingIds.length;
    if (pendingIds.length === 0) continue;

    const pending = pendingIds.map((id) => toSend.get(id)).filter((f): f is Finding => f !== undefined);
    const outcome = await sendSafely(sink, pending);
    const unaccounted = new Set(pendingIds);
    const delivered = outcome.delivered.filter((d) => unaccounted.delete(d.findingId));
    await options.ledger.markAllPublished(sink.name, delivered);
    summary.sent += delivered.length;
    for (const { findingId, error } of outcome.failed) {
      if (!unaccounted.delete(findingId)) continue;
      undelivered.push({ findingId, sink: sink.name, reason: error.message });
    }
    // A sink that forgets to report a finding must not make it vanish.
    for (const findingId of unaccounted) {
      undelivered.push({ findingId, sink: sink.name, reason: 'the sink reported neither delivery nor failure' });
    }
  }

  summary.failed = undelivered.filter((u) => u.sink !== null).length;
  if (undelivered.length > 0) {
    log.error('alerts not delivered', {
      ...summary,
      undelivered: undelivered.map(({ findingId, sink, reason }) => ({ findingId, sink, reason })),
    });
    throw new AlertDeliveryError(undelivered, { summary });
  }
  log.info('alerts published', { ...summary });
  return summary;
}

async function sendSafely(sink: AlertSink, findings: Finding[]): ReturnType<AlertSink['send']> {
  try {
    return await sink.send(findings);
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    return { delivered: [], failed: findings.map((f) => ({ findingId: f.finding_id, error: err })) };
  }
}

function idOf(candidate: unknown): string | null {
  if (typeof candidate !== 'object' || candidate === null) return null;
  const id = (candidate as { finding_id?: unknown }).finding_id;
  return typeof id === 'string' && id.length > 0 ? id : null;
}
