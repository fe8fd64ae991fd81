import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeytrailConfigSchema } from '../../../src/config/schema.js';
import { kmsKeyDeleted } from '../../../src/detectors/kms-key-deleted.js';
import { kmsKeyDisabled } from '../../../src/detectors/kms-key-disabled.js';
import type { FindingDraft } from '../../../src/detectors/types.js';
import { KeytrailError } from '../../../src/errors.js';
import { buildFinding, dedupWindowHours, FindingBuildError, findingId } from '../../../src/findings/build.js';
import { KEY_ARN } from '../detectors/helpers.js';

const config = KeytrailConfigSchema.parse({});

function draft(overrides: Partial<FindingDraft> = {}): FindingDraft {
  return {
    dedupKey: KEY_ARN,
    summary: 'Alice disabled KMS key …',
    occurredAt: '2024-05-01T10:00:00.000Z',
    accountId: '111122223333',
    region: 'us-west-2',
    keyArn: KEY_ARN,
    principalArn: 'arn:aws:iam::111122223333:user/Alice',
    principalAccountId: '111122223333',
    eventIds: ['e1'],
    context: { operation: 'DisableKey' },
    ...overrides,
  };
}

describe('buildFinding', () => {
  it('makes the id sha256(detector | dedup key | window bucket), first 32 hex digits', () => {
    const bucket = Math.floor(Date.parse('2024-05-01T10:00:00.000Z') / (24 * 3_600_000));
    const expected = createHash('sha256').update(`KMS.KeyDisabled|${KEY_ARN}|${bucket}`).digest('hex').slice(0, 32);
    const finding = buildFinding(draft(), kmsKeyDisabled, config);
    expect(finding.finding_id).toBe(expected);
    expect(finding).toMatchObject({
      schema_version: '1.0',
      detector_id: 'KMS.KeyDisabled',
      title: kmsKeyDisabled.title,
      severity: 'high',
      occurred_at: '2024-05-01T10:00:00.000Z',
      runbook: [...kmsKeyDisabled.runbook],
      references: [...kmsKeyDisabled.references],
    });
  });

  it('gives the same id within one window and a new one in the next', () => {
    const a = buildFinding(draft({ occurredAt: '2024-05-01T00:00:01Z' }), kmsKeyDisabled, config).finding_id;
    const b = buildFinding(draft({ occurredAt: '2024-05-01T23:59:59Z', eventIds: ['e2'] }), kmsKeyDisabled, config).finding_id;
    const c = buildFinding(draft({ occurredAt: '2024-05-02T00:00:01Z' }), kmsKeyDisabled, config).finding_id;
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('uses the per-detector window from config', () => {
    const weekly = KeytrailConfigSchema.parse({ detection: { dedup_window_hours_by_detector: { 'KMS.KeyDisabled': 168 } } });
    expect(dedupWindowHours(kmsKeyDisabled, weekly)).toBe(168);
    // Weekly buckets start on Thursdays (the epoch was one): 2024-05-02 to 2024-05-08 is one bucket.
    const a = buildFinding(draft({ occurredAt: '2024-05-02T00:00:01Z' }), kmsKeyDisabled, weekly).finding_id;
    const b = buildFinding(draft({ occurredAt: '2024-05-08T23:00:00Z' }), kmsKeyDisabled, weekly).finding_id;
    expect(a).toBe(b);
    expect(buildFinding(draft({ occurredAt: '2024-05-02T00:00:01Z' }), kmsKeyDisabled, config).finding_id).not.toBe(
      buildFinding(draft({ occurredAt: '2024-05-08T23:00:00Z' }), kmsKeyDisabled, config).finding_id,
    );
  });

  it('has no window for once-per-key detectors: a key deleted is one finding whenever the repeats arrive', () => {
    expect(dedupWindowHours(kmsKeyDeleted, config)).toBeNull();
    const a = buildFinding(draft({ occurredAt: '2024-05-01T23:59:59Z' }), kmsKeyDeleted, config).finding_id;
    const b = buildFinding(draft({ occurredAt: '2024-05-02T00:00:02Z' }), kmsKeyDeleted, config).finding_id;
    expect(a).toBe(b);
    expect(findingId('KMS.KeyDeleted', KEY_ARN, '2024-05-01T00:00:00Z', null)).toBe(a);
  });

  it('takes the draft severity, and a config override over both', () => {
    expect(buildFinding(draft({ severity: 'critical' }), kmsKeyDisabled, config).severity).toBe('critical');
    const overridden = KeytrailConfigSchema.parse({ severity_overrides: { 'KMS.KeyDisabled': 'low' } });
    expect(buildFinding(draft({ severity: 'critical' }), kmsKeyDisabled, overridden).severity).toBe('low');
  });

  it('normalizes occurred_at to ISO-8601 UTC and removes repeated event ids', () => {
    const finding = buildFinding(draft({ occurredAt: '2024-05-01T12:00:00+02:00', eventIds: ['e1', 'e1', 'e2'] }), kmsKeyDisabled, config);
    expect(finding.occurred_at).toBe('2024-05-01T10:00:00.000Z');
    expect(finding.event_ids).toEqual(['e1', 'e2']);
  });

  it('throws a KeytrailError naming the detector when the draft is invalid', () => {
    const build = () => buildFinding(draft({ summary: '', eventIds: [] }), kmsKeyDisabled, config);
    expect(build).toThrow(FindingBuildError);
    expect(build).toThrow(KeytrailError);
    expect(build).toThrow(/detector KMS\.KeyDisabled produced an invalid finding: summary: .*; event_ids: /);
  });
});
