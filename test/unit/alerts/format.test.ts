import { describe, expect, it } from 'vitest';
import {
  EVENTBRIDGE_MAX_ENTRY_BYTES,
  eventBridgeEntryBytes,
  formatEventBridgeEntry,
  formatSnsMessage,
  SNS_JSON_MARKER,
  SNS_MAX_MESSAGE_BYTES,
  snsMessageBytes,
} from '../../../src/alerts/format.js';
import { FindingSchema, type Finding } from '../../../src/findings/finding.js';
import { crossAccountDecryptFinding, keyDeletionFinding, keylessFinding, usageSummary, withUsage } from './sample-findings.js';

/** The finding JSON appended to an SNS body, parsed and validated as a subscriber would. */
function appendedFinding(message: string): Finding {
  const at = message.indexOf(SNS_JSON_MARKER);
  expect(at).toBeGreaterThan(0);
  return FindingSchema.parse(JSON.parse(message.slice(at + SNS_JSON_MARKER.length)));
}

const PRINTABLE_ASCII = /^[\x20-\x7E]+$/;

describe('formatSnsMessage: subject', () => {
  it('names severity, detector, key alias and account', () => {
    expect(formatSnsMessage(keyDeletionFinding()).subject).toBe('[CRITICAL] KMS.KeyDeletionScheduled: alias/payments-prod in 111122223333');
  });

  it('falls back to the key id when no alias was recorded', () => {
    const finding = keyDeletionFinding({ context: { operation: 'ScheduleKeyDeletion' } });
    expect(formatSnsMessage(finding).subject).toBe('[CRITICAL] KMS.KeyDeletionScheduled: 1234abcd-12ab-34cd-56ef-1234567890ab in 111122223333');
  });

  it('uses the title when there is no key, and leaves out a null account', () => {
    expect(formatSnsMessage(keylessFinding()).subject).toBe('[LOW] KMS.AccessDeniedBurst: Repeated AccessDenied on KMS');
  });

  it('stays under 100 printable ASCII characters on one line for a very long alias', () => {
    const alias = `alias/${'payments-ünïcode-😀-'.repeat(30)}\nsecond line`;
    const subject = formatSnsMessage(keyDeletionFinding({ context: { aliasName: alias } })).subject;
    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(PRINTABLE_ASCII);
    expect(subject.startsWith('[CRITICAL] KMS.KeyDeletionScheduled: alias/payments-')).toBe(true);
    // The account is what on-call triages by, so it survives the cut.
    expect(subject.endsWith('... in 111122223333')).toBe(true);
  });
});

describe('formatSnsMessage: attributes', () => {
  it('carries severity, detector_id and account_id as String attributes', () => {
    expect(formatSnsMessage(crossAccountDecryptFinding()).attributes).toEqual({
      severity: { DataType: 'String', StringValue: 'medium' },
      detector_id: { DataType: 'String', StringValue: 'KMS.CrossAccountDecrypt' },
      account_id: { DataType: 'String', StringValue: '111122223333' },
    });
  });

  it('omits account_id when the finding has none', () => {
    const attributes = formatSnsMessage(keylessFinding()).attributes;
    expect(Object.keys(attributes).sort()).toEqual(['detector_id', 'severity']);
  });
});

describe('formatSnsMessage: body', () => {
  it('tells a person what happened and what to do, then appends the finding JSON', () => {
    const finding = keyDeletionFinding();
    const { message } = formatSnsMessage(finding);
    const readable = message.slice(0, message.indexOf(SNS_JSON_MARKER));
    expect(readable).toContain(finding.summary);
    expect(readable).toContain('Operation:       ScheduleKeyDeletion');
    expect(readable).toContain('When:            2021-03-23T18:58:30.000Z');
    expect(readable).toContain(`Key:             alias/payments-prod (${finding.key_arn})`);
    expect(readable).toContain('Caller:          arn:aws:iam::111122223333:user/Alice');
    expect(readable).toContain('Caller account:  111122223333');
    expect(readable).toContain('1. Read the usage summary in the finding');
    expect(readable).toContain('2. If anything still uses the key, cancel the deletion');
    expect(readable).toContain('- https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html');
    expect(readable).toContain('deletionDate: 2021-04-12T18:58:30.000Z');
    expect(readable).toContain('vendorsAffected: 0 items (in the JSON below)');
    expect(readable).toContain('usageSummary: (in the JSON below)');
    expect(appendedFinding(message)).toEqual(finding);
  });

  it('says when a detector has no runbook and the key is unknown', () => {
    const { message } = formatSnsMessage(keylessFinding());
    expect(message).toContain('Key:             not recorded in the event');
    expect(message).toContain('No runbook for this detector');
  });
});

describe('formatSnsMessage: size limit', () => {
  it('leaves a finding that fits untouched', () => {
    const finding = keyDeletionFinding();
    const formatted = formatSnsMessage(finding);
    expect(appendedFinding(formatted.message).context).not.toHaveProperty('_truncated');
  });

  it('cuts the largest part of the usage summary to fit 256 KiB, keeps its shape, and says so', async () => {
    const finding = withUsage(5_000);
    expect(Buffer.byteLength(JSON.stringify(finding))).toBeGreaterThan(SNS_MAX_MESSAGE_BYTES);

    const formatted = formatSnsMessage(finding);
    const bytes = snsMessageBytes(formatted);
    expect(bytes).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
    // Kept as much as fits, not far less: within a few principals' size of the limit.
    expect(bytes).toBeGreaterThan(SNS_MAX_MESSAGE_BYTES - 1_000);

    const sent = appendedFinding(formatted.message);
    const original = usageSummary(5_000);
    const { principals: keptPrincipals, ...keptRest } = sent.context['usageSummary'] as Record<string, unknown>;
    const { principals: allPrincipals, ...originalRest } = original;
    expect(keptRest).toEqual(originalRest);
    const kept = keptPrincipals as unknown[];
    expect(kept.length).toBeGreaterThan(100);
    expect(kept.length).toBeLessThan(5_000);
    expect(kept).toEqual((allPrincipals as unknown[]).slice(0, kept.length));
    expect(sent.context['_truncated']).toBe(`context.usageSummary.principals cut to ${kept.length} of 5000 items to fit SNS 256 KB limit`);
    expect(formatted.message).toContain('Note: context.usageSummary.principals cut to');
    // Everything outside the cut part is as detected.
    const { usageSummary: _cut, _truncated: _note, ...otherContext } = sent.context;
    const { usageSummary: _orig, ...originalContext } = finding.context;
    expect(otherContext).toEqual(originalContext);
    expect({ ...sent, context: {} }).toEqual({ ...finding, context: {} });
  });

  it('counts bytes, not characters, for multi-byte text', () => {
    const note = '鍵の削除が予定されています。'.repeat(12_000); // 3 bytes a character: ~500 KB
    const formatted = formatSnsMessage(keyDeletionFinding({ context: { operator_note: note } }));
    expect(snsMessageBytes(formatted)).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
    expect(Buffer.byteLength(formatted.message)).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
    const sent = appendedFinding(formatted.message);
    expect(String(sent.context['operator_note']).endsWith('...[truncated]')).toBe(true);
    expect(String(sent.context['_truncated'])).toMatch(/^context\.operator_note cut to \d+ of 168000 characters to fit SNS 256 KB limit$/);
  });

  it('cuts only the largest entry when that is enough', () => {
    const grants = Array.from({ length: 300 }, (_, i) => ({ grantId: `g-${i}`, grantee: `arn:aws:iam::111122223333:role/r-${i}` }));
    const finding = keyDeletionFinding({ context: { recentGrants: grants, callers: Array.from({ length: 6_000 }, (_, i) => `arn:aws:iam::111122223333:role/caller-${i}`) } });
    const sent = appendedFinding(formatSnsMessage(finding).message);
    expect(sent.context['recentGrants']).toEqual(grants);
    expect(String(sent.context['_truncated'])).toMatch(/^context\.callers cut to \d+ of 6000 items to fit SNS 256 KB limit$/);
  });

  it('serializes and cuts an object with no large part, as a last resort', () => {
    const byOperation = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`Operation${i}`, i]));
    const sent = appendedFinding(formatSnsMessage(keyDeletionFinding({ context: { byOperation } })).message);
    expect(typeof sent.context['byOperation']).toBe('string');
    expect(String(sent.context['_truncated'])).toMatch(/^context\.byOperation serialized and cut to \d+ of \d+ characters to fit SNS 256 KB limit$/);
  });

  it('serializes and cuts the whole context when it is large only by its many small entries', () => {
    const context = Object.fromEntries(Array.from({ length: 3_000 }, (_, i) => [`note${i}`, `observation ${i}: ${'x'.repeat(180)}`]));
    const formatted = formatSnsMessage(keyDeletionFinding({ context }));
    expect(snsMessageBytes(formatted)).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
    const sent = appendedFinding(formatted.message);
    expect(Object.keys(sent.context).sort()).toEqual(['_context', '_truncated']);
    expect(String(sent.context['_context']).startsWith('{"note0":"observation 0: ')).toBe(true);
    expect(String(sent.context['_truncated'])).toMatch(/^context \(as JSON\) cut to \d+ of \d+ characters to fit SNS 256 KB limit$/);
  });

  it('cuts the event id list when the context is not what is large, keeping at least one id', () => {
    const eventIds = Array.from({ length: 20_000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    const formatted = formatSnsMessage(keylessFinding({ event_ids: eventIds }));
    expect(snsMessageBytes(formatted)).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
    const sent = appendedFinding(formatted.message);
    expect(sent.event_ids.length).toBeGreaterThan(0);
    expect(sent.event_ids).toEqual(eventIds.slice(0, sent.event_ids.length));
    expect(String(sent.context['_truncated'])).toContain(`event_ids cut to ${sent.event_ids.length} of 20000 items`);
  });
});

describe('formatEventBridgeEntry', () => {
  it('puts the finding in detail with source, detail-type, the key as resource and the event time', () => {
    const finding = keyDeletionFinding();
    const entry = formatEventBridgeEntry(finding, 'security-findings');
    expect(entry).toMatchObject({
      EventBusName: 'security-findings',
      Source: 'keytrail',
      DetailType: 'KMS Audit Finding',
      Resources: [finding.key_arn],
      Time: new Date('2021-03-23T18:58:30.000Z'),
    });
    expect(FindingSchema.parse(JSON.parse(entry.Detail ?? ''))).toEqual(finding);
  });

  it('leaves resources out when the key is unknown', () => {
    expect(formatEventBridgeEntry(keylessFinding(), 'default')).not.toHaveProperty('Resources');
  });

  it('keeps the entry within 256 KiB by EventBridge size rules and notes the cut', () => {
    const entry = formatEventBridgeEntry(withUsage(5_000), 'default');
    expect(eventBridgeEntryBytes(entry)).toBeLessThanOrEqual(EVENTBRIDGE_MAX_ENTRY_BYTES);
    const detail = FindingSchema.parse(JSON.parse(entry.Detail ?? ''));
    expect(String(detail.context['_truncated'])).toMatch(/^context\.usageSummary\.principals cut to \d+ of 5000 items to fit EventBridge 256 KB limit$/);
  });
});
