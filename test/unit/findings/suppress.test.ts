import { describe, expect, it } from 'vitest';
import { KeytrailConfigSchema } from '../../../src/config/schema.js';
import type { Finding } from '../../../src/findings/finding.js';
import { matchSuppression } from '../../../src/findings/suppress.js';
import { KEY_ARN, KEY_ID } from '../detectors/helpers.js';

const finding: Finding = {
  schema_version: '1.0',
  finding_id: '0123456789abcdef0123456789abcdef',
  detector_id: 'KMS.DisabledKeyUsed',
  severity: 'high',
  title: 'Disabled KMS key was used',
  summary: 'Decrypt by … failed',
  occurred_at: '2024-05-01T10:00:00.000Z',
  account_id: '111122223333',
  region: 'us-west-2',
  key_arn: KEY_ARN,
  principal_arn: 'arn:aws:sts::444455556666:assumed-role/AcmeReader/s1',
  principal_account_id: '444455556666',
  event_ids: ['e1'],
  context: { keyId: KEY_ID, sessionIssuerArn: 'arn:aws:iam::444455556666:role/AcmeReader', viaService: 's3' },
  runbook: [],
  references: [],
};
const now = new Date('2024-06-01T00:00:00Z');

function suppressions(...list: unknown[]) {
  return KeytrailConfigSchema.parse({ suppressions: list }).suppressions;
}

describe('matchSuppression', () => {
  it.each([
    ['detector', { detector: 'KMS.DisabledKeyUsed' }],
    ['key ARN', { key: KEY_ARN }],
    ['key id', { key: KEY_ID }],
    ['principal ARN', { principal: 'arn:aws:sts::444455556666:assumed-role/AcmeReader/s1' }],
    ['role of an assumed-role session', { principal: 'arn:aws:iam::444455556666:role/AcmeReader' }],
    ['caller account', { account: '444455556666' }],
    ['key owner account', { account: '111122223333' }],
    ['service', { service: 's3' }],
  ])('matches by %s', (_, suppression) => {
    expect(matchSuppression(finding, suppressions(suppression), now).match?.index).toBe(0);
  });

  it('requires every field it sets to match', () => {
    expect(matchSuppression(finding, suppressions({ detector: 'KMS.DisabledKeyUsed', service: 'ebs' }), now).match).toBeNull();
    expect(matchSuppression(finding, suppressions({ detector: 'KMS.KeyDisabled' }), now).match).toBeNull();
  });

  it('returns the first match with a label for suppressed_by', () => {
    const result = matchSuppression(finding, suppressions({ detector: 'KMS.KeyDisabled' }, { account: '444455556666', reason: 'vendor test' }), now);
    expect(result.match?.label).toBe('suppressions[1] (reason: vendor test)');
  });

  it('ignores an expired suppression and reports it; a date suppresses through that day', () => {
    const expired = matchSuppression(finding, suppressions({ detector: 'KMS.DisabledKeyUsed', expires: '2024-05-31' }), now);
    expect(expired.match).toBeNull();
    expect(expired.expired.map((e) => e.label)).toEqual(['suppressions[0]']);
    const lastDay = matchSuppression(finding, suppressions({ detector: 'KMS.DisabledKeyUsed', expires: '2024-06-01' }), now);
    expect(lastDay.match?.index).toBe(0);
    const instant = matchSuppression(finding, suppressions({ detector: 'KMS.DisabledKeyUsed', expires: '2024-05-31T23:59:59Z' }), now);
    expect(instant.match).toBeNull();
  });
});
