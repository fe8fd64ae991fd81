import { z } from 'zod';

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;

/** Rank for comparisons (`--fail-on`, minimum alert severity). */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export const FINDING_SCHEMA_VERSION = '1.0';

/**
 * A finding, as DESIGN.md defines it. Validated before it is stored or leaves keytrail.
 * `finding_id` is deterministic: detector + dedup key + window, so a retried batch gives the same id.
 */
export const FindingSchema = z.object({
  schema_version: z.literal(FINDING_SCHEMA_VERSION),
  finding_id: z.string().regex(/^[0-9a-f]{32}$/),
  detector_id: z.string().min(1),
  severity: SeveritySchema,
  title: z.string().min(1),
  summary: z.string().min(1),
  /** ISO-8601 UTC: the time of the (first) event behind the finding. */
  occurred_at: z.iso.datetime(),
  /** The account the finding is about: the key owner where known, else where it was logged. */
  account_id: z.string().nullable(),
  region: z.string().nullable(),
  key_arn: z.string().nullable(),
  principal_arn: z.string().nullable(),
  principal_account_id: z.string().nullable(),
  event_ids: z.array(z.string()).min(1),
  context: z.record(z.string(), z.unknown()),
  runbook: z.array(z.string()),
  references: z.array(z.string()),
});

export type Finding = z.infer<typeof FindingSchema>;
