import { describe, expect, it } from 'vitest';
import { callerOf, sortFindings } from '../../../src/cli/findings.js';
import { FindingSchema, type Finding } from '../../../src/findings/finding.js';

function finding(overrides: Partial<Finding>): Finding {
  return FindingSchema.parse({
    schema_version: '1.0',
    finding_id: '0'.repeat(32),
    detector_id: 'KMS.KeyDisabled',
    severity: 'high',
    title: 'KMS key disabled',
    summary: 'A key was disabled.',
    occurred_at: '2026-10-14T10:05:42.000Z',
    account_id: '729461038512',
    region: 'us-east-2',
    key_arn: 'arn:aws:kms:us-east-2:729461038512:key/f73c0d1e-5afe-4649-9c4a-375a0b2b8628',
    principal_arn: null,
    principal_account_id: null,
    event_ids: ['e1'],
    context: {},
    runbook: [],
    references: [],
    ...overrides,
  });
}

describe('CLI: keytrail demo', () => {
  it('shortens callers for the table: role sessions, Identity Center users, IAM users, services', () => {
    expect(callerOf({ principal_arn: 'arn:aws:sts::583920174466:assumed-role/reporting-batch/b6d767d2', context: {} })).toBe('reporting-batch/b6d767d2');
    expect(
      callerOf({ principal_arn: 'arn:aws:sts::729461038512:assumed-role/AWSReservedSSO_PlatformAdmin_8fe0525933ba7cf5/sam.ortega@corvidlabs.example', context: {} }),
    ).toBe('sso:PlatformAdmin/sam.ortega');
    expect(callerOf({ principal_arn: 'arn:aws:iam::583920174466:user/alice', context: {} })).toBe('user/alice');
    expect(callerOf({ principal_arn: 'arn:aws:iam::318875092146:role/lumenvault-byok-kms', context: {} })).toBe('role/lumenvault-byok-kms');
    expect(callerOf({ principal_arn: null, context: { invokedBy: 'AWS Internal' } })).toBe('AWS Internal');
    expect(callerOf({ principal_arn: null, context: {} })).toBe('');
  });

  it('sorts findings most severe first, then by time', () => {
    const sorted = sortFindings([
      finding({ finding_id: 'a'.repeat(32), severity: 'medium', occurred_at: '2026-10-01T00:00:00.000Z' }),
      finding({ finding_id: 'b'.repeat(32), severity: 'critical', occurred_at: '2026-10-20T00:00:00.000Z' }),
      finding({ finding_id: 'c'.repeat(32), severity: 'info', occurred_at: '2026-10-02T00:00:00.000Z' }),
      finding({ finding_id: 'd'.repeat(32), severity: 'critical', occurred_at: '2026-10-05T00:00:00.000Z' }),
    ]);
    expect(sorted.map((f) => f.finding_id[0])).toEqual(['d', 'b', 'a', 'c']);
  });
});
