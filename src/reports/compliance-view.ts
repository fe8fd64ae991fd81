import { formatNumber, formatTime, plural, type DocTable, type ReportDocument } from './document.js';
import { principalName } from './labels.js';
import type { ComplianceReport, KeyState, TransitionKind } from './types.js';
import {
  administrationBlocks,
  crossAccountSummaryTable,
  dailyByKeyChart,
  findingsSection,
  keyLabel,
  pendingDeletionTable,
  periodSection,
  periodText,
  principalChart,
  rotationTable,
} from './view-common.js';

const STATE_TEXT: Record<KeyState, string> = {
  enabled: 'enabled',
  disabled: 'disabled',
  'pending-deletion': 'pending deletion',
  'pending-import': 'pending import (no key material)',
  deleted: 'deleted',
};

const TRANSITION_TEXT: Record<TransitionKind, string> = {
  created: 'created',
  enabled: 'enabled',
  disabled: 'disabled',
  'deletion-scheduled': 'deletion scheduled',
  'deletion-cancelled': 'deletion cancelled',
  deleted: 'deleted',
  'key-material-imported': 'key material imported',
  'key-material-deleted': 'key material deleted',
  'key-material-expired': 'key material expired',
  'rotation-enabled': 'automatic rotation enabled',
  'rotation-disabled': 'automatic rotation disabled',
  replicated: 'replicated',
  'primary-region-updated': 'primary Region changed',
};

const SECTION_TITLES: Record<string, string> = {
  period: 'Period and evidence gaps',
  inventory: 'Key inventory',
  transitions: 'State changes',
  rotation: 'Rotation',
  'pending-deletion': 'Pending deletion',
  administration: 'Administrative actions',
  'cross-account': 'Cross-account and vendor access',
  findings: 'Findings',
};

/** The compliance report as a document, in the order an auditor reads it: scope, controls, evidence. */
export function complianceDocument(r: ComplianceReport): ReportDocument {
  const noRotation = r.rotation.filter((k) => k.noEvidenceInPeriod);
  const unexplained = r.rotation.filter((k) => k.status === 'no evidence' || k.status === 'rotation disabled');
  const open = r.crossAccount.filter((c) => c.suppressedBy === null);
  const unknownAccess = open.filter((c) => c.access === 'unknown');
  const undeclaredVendor = open.filter((c) => c.access === 'vendor' && !c.vendorDeclaredForKey);
  const openHigh = r.findings.openBySeverity.critical + r.findings.openBySeverity.high;

  const controlsTable: DocTable = {
    kind: 'table',
    id: 'controls',
    title: 'Controls and the sections that evidence them',
    columns: [
      { id: 'framework', label: 'Framework', kind: 'text' },
      { id: 'control', label: 'Control', kind: 'text' },
      { id: 'requirement', label: 'What the auditor tests', kind: 'text' },
      { id: 'sections', label: 'Evidence in this report', kind: 'text' },
      { id: 'status', label: 'This period', kind: 'status' },
      { id: 'status_reason', label: 'Why', kind: 'text' },
      { id: 'limits', label: 'Not shown by CloudTrail', kind: 'text' },
    ],
    rows: r.controls.map((c) => ({
      framework: c.framework,
      control: c.control,
      requirement: c.requirement,
      sections: c.sections.map((s) => SECTION_TITLES[s] ?? s).join('; '),
      status: c.status,
      status_reason: c.statusReason,
      limits: c.limits,
    })),
    empty: '',
  };

  return {
    title: 'KMS key management: compliance evidence',
    subtitle: periodText(r.period),
    lead: [
      'Evidence for the key-management controls auditors test under PCI DSS v4.0 requirements 3.6 and 3.7 (key inventory, ' +
        'rotation at the end of the cryptoperiod, retirement and destruction, key custodians) and SOC 2 CC6.1 (logical access to ' +
        'encryption keys): who used and administered AWS KMS keys, how they were rotated and retired, and who outside the key ' +
        'owner\'s account used them.',
      'It is drawn only from the CloudTrail records and KMS EventBridge events keytrail stored, and from its findings. It shows ' +
        'what happened; it does not attest that a control is designed or operating effectively.',
    ],
    sections: [
      {
        id: 'summary',
        title: 'At a glance',
        blocks: [
          {
            kind: 'facts',
            items: [
              { label: 'Period', value: periodText(r.period) },
              { label: 'Stored events', value: formatNumber(r.totals.events) },
              { label: 'Keys seen', value: formatNumber(r.keys.length) },
              { label: 'Days without stored events', value: formatNumber(r.period.evidence.gapDays), tone: r.period.evidence.gapDays === 0 ? 'ok' : 'attention' },
              { label: 'Keys without rotation in the period', value: formatNumber(noRotation.length), tone: unexplained.length > 0 ? 'attention' : 'ok' },
              { label: 'Keys pending deletion', value: formatNumber(r.pendingDeletion.length), tone: r.pendingDeletion.length === 0 ? 'ok' : 'attention' },
              { label: 'Unknown cross-account callers', value: formatNumber(unknownAccess.length + undeclaredVendor.length), tone: unknownAccess.length + undeclaredVendor.length === 0 ? 'ok' : 'attention' },
              { label: 'Open critical/high findings', value: formatNumber(openHigh), tone: openHigh === 0 ? 'ok' : 'critical' },
            ],
          },
        ],
      },
      { id: 'controls', title: 'Control mapping', blocks: [controlsTable] },
      periodSection(r.period, r.loggingChanges, [
        ...(r.totals.rejectedRecords > 0
          ? [{ kind: 'paragraph' as const, tone: 'attention' as const, text: `${plural(r.totals.rejectedRecords, 'input record')} could not be read and were kept in rejected_records (all time): their events are not in this report.` }]
          : []),
      ]),
      {
        id: 'usage',
        title: 'Key usage',
        blocks: [
          { kind: 'chart', chart: dailyByKeyChart('daily_usage_by_key', 'Calls per day, by key', r.period, r.usage.dailyByKey) },
          { kind: 'chart', chart: principalChart('usage_by_principal', 'Calls by caller (roles, not sessions)', r.usage.byPrincipal) },
        ],
      },
      {
        id: 'inventory',
        title: 'Key inventory',
        blocks: [
          {
            kind: 'paragraph',
            text: `${plural(r.keys.length, 'key')} had events in the period. "State at end" is the state the last stored change left the key in (any time before the end of the period).`,
          },
          {
            kind: 'table',
            id: 'keys',
            title: 'Keys seen in the period',
            columns: [
              { id: 'key', label: 'Key', kind: 'code', secondary: 'key_arn' },
              { id: 'account', label: 'Account', kind: 'code' },
              { id: 'region', label: 'Region', kind: 'code' },
              { id: 'state', label: 'State at end', kind: 'status' },
              { id: 'calls', label: 'Calls', kind: 'number' },
              { id: 'errors', label: 'Failed', kind: 'number' },
              { id: 'changes', label: 'Changes', kind: 'number' },
              { id: 'first_seen', label: 'First seen', kind: 'day' },
              { id: 'last_seen', label: 'Last seen', kind: 'day' },
              { id: 'declared', label: 'Declared purpose', kind: 'text' },
              { id: 'key_arn', label: 'Key ARN', kind: 'arn', csvOnly: true },
            ],
            rows: r.keys.map((k) => ({
              key: keyLabel(k),
              account: k.accountId,
              region: k.region,
              state: k.stateAtEnd === null ? 'no change stored' : STATE_TEXT[k.stateAtEnd],
              calls: k.calls,
              errors: k.errors,
              changes: k.transitionsInPeriod,
              first_seen: k.firstSeen,
              last_seen: k.lastSeen,
              declared: k.declared
                ? [k.description?.replace(/\.\s*$/, ''), k.neverDelete ? 'never delete' : null, k.vendors.length > 0 ? `vendors: ${k.vendors.join(', ')}` : null].filter(Boolean).join('; ') || 'declared'
                : 'not declared',
              key_arn: k.keyArn ?? k.keyId,
            })),
            empty: 'No key had events in the period.',
          },
        ],
      },
      {
        id: 'transitions',
        title: 'State changes',
        blocks: [
          {
            kind: 'table',
            id: 'state_changes',
            title: 'Successful state changes in the period, oldest first',
            columns: [
              { id: 'time', label: 'Time', kind: 'time' },
              { id: 'key', label: 'Key', kind: 'code' },
              { id: 'change', label: 'Change', kind: 'status' },
              { id: 'detail', label: 'Detail', kind: 'text' },
              { id: 'by', label: 'By', kind: 'arn' },
              { id: 'account', label: 'Account', kind: 'code' },
              { id: 'event', label: 'Event', kind: 'code' },
              { id: 'event_id', label: 'Event id', kind: 'code' },
              { id: 'key_arn', label: 'Key ARN', kind: 'arn', csvOnly: true },
            ],
            rows: r.transitions.map((t) => ({
              time: t.time,
              key: keyLabel(t),
              key_arn: t.keyArn ?? t.keyId,
              change: TRANSITION_TEXT[t.kind],
              detail: [t.detail, t.repeats > 0 ? `${plural(t.repeats, 'more stored copy', 'more stored copies')}` : null].filter(Boolean).join('; ') || null,
              by: t.by === null ? 'AWS KMS' : principalName(t.by.startsWith('arn:') ? t.by : null, t.by),
              account: t.byAccountId,
              event: t.event,
              event_id: t.eventId,
            })),
            empty: 'No state changes in the period.',
          },
        ],
      },
      {
        id: 'rotation',
        title: 'Rotation',
        blocks: [
          {
            kind: 'paragraph',
            text:
              'A rotation is a RotateKey service event or a "KMS CMK Rotation" event (one rotation often leaves both; it counts once), ' +
              'or a RotateKeyOnDemand request. The last rotation and the automatic rotation setting (last EnableKeyRotation or ' +
              'DisableKeyRotation) look at all stored history before the end of the period.',
          },
          ...(noRotation.length > 0
            ? [
                {
                  kind: 'paragraph' as const,
                  tone: unexplained.length > 0 ? ('attention' as const) : ('neutral' as const),
                  text:
                    `No rotation evidence in the period for ${plural(noRotation.length, 'key')}: ${noRotation.map((k) => `${keyLabel(k)} (${k.status})`).join(', ')}. ` +
                    'Automatic rotation happens once per rotation period (365 days by default), so a short period often has none; ' +
                    '"rotation disabled" and "no evidence" need an explanation from the key owner.',
                },
              ]
            : []),
          rotationTable(r.rotation),
        ],
      },
      {
        id: 'pending-deletion',
        title: 'Pending deletion',
        blocks: [
          {
            kind: 'paragraph',
            text:
              'Keys whose latest ScheduleKeyDeletion was neither cancelled nor followed by a deletion before the end of the period, with ' +
              'the deletion date KMS logged (responseElements.deletionDate). A call failing because the key is pending deletion means ' +
              'something still needs the key.',
          },
          pendingDeletionTable(r.pendingDeletion),
        ],
      },
      {
        id: 'administration',
        title: 'Administrative actions',
        blocks: [
          {
            kind: 'paragraph',
            text:
              'Calls that change key policies, grants, state, deletion, rotation, aliases, key material, descriptions or tags, failed ' +
              'attempts included: the key custodians as they acted. Compare them with the list of authorized custodians.',
          },
          ...administrationBlocks(r.administration),
        ],
      },
      {
        id: 'cross-account',
        title: 'Cross-account and vendor access',
        blocks: [
          {
            kind: 'paragraph',
            text:
              'Calls where the caller\'s account is not the key owner\'s, denied ones included. "vendor" is a BYOK vendor declared in the ' +
              'configuration (on this key, or only on another key), "trusted" an account in trusted_accounts, "unknown" anyone else.',
          },
          ...(unknownAccess.length + undeclaredVendor.length > 0
            ? [
                {
                  kind: 'paragraph' as const,
                  tone: 'attention' as const,
                  text: `Not allowlisted: ${[...unknownAccess, ...undeclaredVendor].map((c) => `${c.callerAccountId} on ${keyLabel(c)}`).join(', ')}.`,
                },
              ]
            : []),
          crossAccountSummaryTable(r.crossAccount),
        ],
      },
      findingsSection(
        r.period,
        r.findings,
        `Findings that occurred in the period, from the findings table (run keytrail detect to refresh it). ${plural(r.findings.open.length, 'open finding')}; ` +
          `${plural(r.findings.suppressed.length, 'suppressed finding')} listed apart with the suppression that matched.`,
      ),
    ],
    footer: `Generated by keytrail at ${formatTime(r.generatedAt)} from stored events ${r.period.evidence.firstEvent ? `${formatTime(r.period.evidence.firstEvent)} to ${formatTime(r.period.evidence.lastEvent)}` : '(none)'}.`,
  };
}
