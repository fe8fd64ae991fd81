import type { PastUsageReport } from './past-usage-types.js';
import { at, countOf, formatCount } from './past-usage-verdict.js';

/** A table of plain-text cells. */
export interface SectionTable {
  columns: string[];
  rows: string[][];
}

/** One part of a rendered report: a heading, paragraphs, an optional list and table, in that order. */
export interface ReportSection {
  title: string;
  paragraphs: string[];
  list?: string[];
  table?: SectionTable;
}

/**
 * The past-usage report as sections of plain text, in reading order (verdict, evidence, key, then
 * the tables), for the Markdown and HTML renderers. The text is not escaped: renderers escape it.
 */
export function pastUsageSections(report: PastUsageReport): ReportSection[] {
  const { verdict, evidence, window, key } = report;
  const sections: ReportSection[] = [];

  sections.push({
    title: 'Verdict',
    paragraphs: [verdict.headline, `Safe to delete: ${verdict.safeToDelete ? 'yes' : 'no'} — ${verdict.note}`],
    list: verdict.reasons,
  });

  sections.push({
    title: 'Evidence',
    paragraphs: [
      'Counts below come only from the CloudTrail and EventBridge events keytrail stored. A day without any stored event ' +
        '(for any key) is a gap in the evidence, not a day without use.',
    ],
    table: {
      columns: ['', ''],
      rows: [
        ['Window', `${window.firstDay} to ${window.lastDay} (${countOf(window.days, 'day')}, UTC)`],
        ['Stored events (all keys)', evidence.firstEvent ? `${at(evidence.firstEvent)} to ${at(evidence.lastEvent)}` : 'none'],
        ['Days of the window with stored events', `${formatCount(evidence.daysWithEvents)} of ${formatCount(window.days)}`],
        [
          'Days with no stored events at all',
          evidence.gaps.length === 0 ? 'none' : evidence.gaps.map((g) => (g.days === 1 ? g.from : `${g.from} to ${g.to} (${g.days} days)`)).join(', '),
        ],
      ],
    },
  });

  const aliasLine = key.alias
    ? `${key.alias.arn ?? key.alias.name}, which named this key at ${at(key.alias.observedAt)} (${key.alias.observedBy === 'call' ? 'a call through the alias' : key.alias.observedBy})`
    : key.resolvedFrom === 'key-id'
      ? 'key id'
      : 'key ARN';
  sections.push({
    title: 'Key',
    paragraphs: [],
    table: {
      columns: ['', ''],
      rows: [
        ['Key ARN', key.arn ?? '(never logged: only the key id)'],
        ['Key id', key.id],
        ['Owner account', key.accountId ?? 'unknown'],
        ['Region', key.region ?? 'unknown'],
        ['Asked for', key.ref],
        ['Resolved from', aliasLine],
        ['Aliases seen', key.aliases.length === 0 ? 'none' : key.aliases.map((a) => `${a.name} (last ${at(a.lastSeen)})`).join(', ')],
        [
          'Configuration',
          key.declared
            ? [
                key.declared.description,
                key.declared.vendors.length > 0 ? `BYOK vendors: ${key.declared.vendors.join(', ')}` : 'no vendors',
                key.declared.neverDelete ? 'never_delete' : null,
              ]
                .filter((p): p is string => p !== null && p !== '')
                .join('; ')
            : 'not declared',
        ],
        ['Last known state', report.lifecycle.lastKnownState ?? 'not seen in stored events'],
      ],
    },
  });

  sections.push({
    title: 'Calls by operation',
    paragraphs: report.operations.length === 0 ? ['No calls on the key in the window.'] : [],
    ...(report.operations.length > 0 && {
      table: {
        columns: ['Operation', 'Calls', 'Use', 'Failed'],
        rows: [
          ...report.operations.map((o) => [o.operation, formatCount(o.calls), o.uses > 0 ? 'yes' : 'no', formatCount(o.errors)]),
          ['Total', formatCount(report.totals.calls), `${formatCount(report.totals.uses)} uses`, formatCount(report.totals.errors)],
        ],
      },
    }),
  });

  sections.push({
    title: 'Principals',
    paragraphs: report.principals.length === 0 ? ['No callers in the window.'] : ['An assumed role is one principal; its sessions are counted.'],
    ...(report.principals.length > 0 && {
      table: {
        columns: ['Principal', 'Type', 'Account', 'Calls', 'Uses', 'Failed', 'First call', 'Last call'],
        rows: report.principals.map((p) => [
          p.sessions > 0 ? `${p.arn ?? p.name} (${countOf(p.sessions, 'session')})` : (p.arn ?? p.name),
          p.type ?? '',
          p.accountId ?? '',
          formatCount(p.calls),
          formatCount(p.uses),
          formatCount(p.errors),
          at(p.firstCall),
          at(p.lastCall),
        ]),
      },
    }),
  });

  sections.push({
    title: 'External accounts',
    paragraphs:
      key.accountId === null
        ? ['The key owner is unknown (no stored event names the key ARN), so external accounts cannot be told apart.']
        : report.externalAccounts.length === 0
          ? [`Every call in the window came from the key owner's account ${key.accountId}.`]
          : [],
    ...(report.externalAccounts.length > 0 && {
      table: {
        columns: ['Account', 'Vendor', 'Trusted', 'Principals', 'Calls', 'Uses', 'Failed', 'First call', 'Last call'],
        rows: report.externalAccounts.map((a) => [
          a.accountId,
          a.vendor ?? (a.vendorOfOtherKey ? `${a.vendorOfOtherKey} (declared on another key)` : a.trusted ? '' : 'not declared'),
          a.trusted ? 'yes' : 'no',
          formatCount(a.principals),
          formatCount(a.calls),
          formatCount(a.uses),
          formatCount(a.errors),
          at(a.firstCall),
          at(a.lastCall),
        ]),
      },
    }),
  });

  sections.push({
    title: 'AWS services',
    paragraphs: report.services.length === 0 ? ['No call in the window was made for or by an AWS service.'] : [],
    ...(report.services.length > 0 && {
      table: {
        columns: ['Service', 'Calls', 'Uses', 'Invoked by', 'Example resources (calls)'],
        rows: report.services.map((s) => [
          s.service,
          formatCount(s.calls),
          formatCount(s.uses),
          s.invokedBy.join(', '),
          s.exampleResources.map((r) => `${r.resource} (${formatCount(r.calls)})`).join(', '),
        ]),
      },
    }),
  });

  sections.push({
    title: 'Errors',
    paragraphs: report.errors.length === 0 ? ['No failed calls in the window.'] : [],
    ...(report.errors.length > 0 && {
      table: {
        columns: ['Error code', 'Calls', 'Last seen'],
        rows: report.errors.map((e) => [e.errorCode ?? '(no code)', formatCount(e.calls), at(e.lastSeen)]),
      },
    }),
  });

  const ct = report.ciphertexts;
  sections.push({
    title: 'Ciphertexts possibly outstanding',
    paragraphs: [
      `${countOf(ct.inWindow, 'successful call')} in the window (${formatCount(ct.allStored)} in all stored events` +
        `${ct.lastProduced ? `, last ${at(ct.lastProduced)}` : ''}) may have produced ciphertexts only this key decrypts. ` +
        'AWS keeps no record of ciphertexts: once the key is deleted they cannot be decrypted.',
    ],
    ...(ct.byOperation.length > 0 && {
      table: { columns: ['Operation', 'Successful calls'], rows: ct.byOperation.map((o) => [o.operation, formatCount(o.calls)]) },
    }),
  });

  sections.push({
    title: 'Lifecycle',
    paragraphs: [
      report.lifecycle.entries.length === 0
        ? 'No lifecycle change of the key is stored.'
        : 'Successful lifecycle changes in all stored events (not only the window).',
    ],
    ...(report.lifecycle.entries.length > 0 && {
      table: {
        columns: ['Time', 'Change', 'Event', 'By', 'Detail'],
        rows: report.lifecycle.entries.map((e) => [
          at(e.time),
          e.kind,
          e.event,
          e.by ?? '',
          e.kind === 'deletion-scheduled'
            ? `deletion date ${e.deletionDate ? at(e.deletionDate) : 'not logged'}${e.pendingWindowInDays ? ` (${e.pendingWindowInDays}-day waiting period)` : ''}`
            : '',
        ]),
      },
    }),
  });

  sections.push({
    title: 'Daily calls',
    paragraphs: [report.daily.length === 0 ? 'No calls on the key in the window.' : 'Days of the window with calls on the key.'],
    ...(report.daily.length > 0 && {
      table: {
        columns: ['Day', 'Calls', 'Uses', 'Failed'],
        rows: report.daily.map((d) => [d.day, formatCount(d.calls), formatCount(d.uses), formatCount(d.errors)]),
      },
    }),
  });

  return sections;
}

/** `Past usage of <key>`: the title renderers use. */
export function pastUsageTitle(report: PastUsageReport): string {
  return `Past usage of ${report.key.arn ?? report.key.id}`;
}
