import type { PastUsageReport, PastUsageVerdict } from './past-usage-types.js';

/** `1,204` */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** `1 operation`, `1,204 operations` */
export function countOf(n: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${formatCount(n)} ${n === 1 ? noun : pluralNoun}`;
}

const DISABLE_FIRST = 'no use seen; deletion still irreversible — consider disabling first';

/**
 * The verdict on a past-usage report, in plain words. "In use" means at least one use (a
 * cryptographic operation or GetPublicKey, successful or not) in the window. Deletion is called
 * safe only when no use is seen AND every day of the window has stored events AND no call through
 * an alias could be this key's AND the configuration does not say never_delete; even then the note
 * says that deletion is irreversible.
 */
export function pastUsageVerdict(report: Omit<PastUsageReport, 'verdict'>): PastUsageVerdict {
  const { window, evidence, totals, key, lifecycle } = report;
  const reasons: string[] = [];
  const span = window.untilGiven ? `in the ${countOf(window.days, 'day')} to ${window.lastDay}` : `in the last ${countOf(window.days, 'day')}`;

  let status: PastUsageVerdict['status'];
  let headline: string;
  if (totals.uses > 0) {
    status = 'in-use';
    const principals = report.principals.filter((p) => p.uses > 0).length;
    const externals = report.externalAccounts.filter((a) => a.uses > 0);
    headline = `in use: ${countOf(totals.uses, 'operation')} by ${countOf(principals, 'principal')} ${span}`;
    if (externals.length > 0) headline += `, ${countOf(externals.length, 'external account')} (${externals.map(describeAccount).join('; ')})`;
    if (!evidence.coversWindow) headline += ` — stored events cover ${evidence.daysWithEvents} of those days`;
  } else if (evidence.daysWithEvents === 0) {
    status = 'no-evidence';
    headline =
      `no evidence: nothing is stored for ${window.firstDay} to ${window.lastDay}` +
      (evidence.firstEvent && evidence.lastEvent ? ` (stored events run from ${day(evidence.firstEvent)} to ${day(evidence.lastEvent)})` : '');
  } else if (evidence.coversWindow) {
    status = 'no-use-seen';
    headline = `no use seen in ${countOf(window.days, 'day')} of evidence; evidence starts on ${day(evidence.firstEvent)}`;
  } else {
    status = 'no-use-seen';
    const limits = [`window asked: ${countOf(window.days, 'day')}`];
    const before = gapDays(report, 'before-evidence');
    const within = gapDays(report, 'within-evidence');
    const after = gapDays(report, 'after-evidence');
    if (before > 0) limits.push(`evidence starts on ${day(evidence.firstEvent)}`);
    if (after > 0) limits.push(`evidence ends on ${day(evidence.lastEvent)}`);
    if (within > 0) limits.push(`${countOf(within, 'day')} ${before > 0 || after > 0 ? 'in between ' : ''}without any stored events`);
    headline = `no use seen in the ${countOf(evidence.daysWithEvents, 'day')} of evidence available (${limits.join('; ')})`;
  }

  // A headline about a key that is gone or going says so.
  if (lifecycle.deletedAt !== null) headline += `; the key was deleted on ${day(lifecycle.deletedAt)}`;
  else if (lifecycle.pendingDeletion !== null) {
    headline += `; the key is pending deletion${lifecycle.pendingDeletion.deletionDate ? ` until ${day(lifecycle.pendingDeletion.deletionDate)}` : ''}`;
  }

  // What was used, by whom, for what.
  if (totals.uses > 0) {
    const failed = totals.failedUses;
    reasons.push(
      `${countOf(totals.uses, 'use')} of the key ${span}${failed > 0 ? ` (${formatCount(failed)} failed)` : ''}: ` +
        `first ${at(totals.firstUse)}, last ${at(totals.lastUse)}${lastUser(report)}`,
    );
  } else {
    reasons.push(`no cryptographic operation or GetPublicKey call on the key ${span}`);
    if (report.allStored.lastUse !== null) reasons.push(`last use stored: ${at(report.allStored.lastUse)}, outside the window`);
  }
  for (const account of report.externalAccounts) {
    reasons.push(
      `external account ${account.accountId} (${accountLabel(account)}): ` +
        `${countOf(account.calls, 'call')} (${formatCount(account.uses)} uses, ${formatCount(account.errors)} failed), last ${at(account.lastCall)}`,
    );
  }
  if (report.services.length > 0) {
    reasons.push(`through AWS services: ${report.services.map((s) => `${s.service} (${countOf(s.calls, 'call')})`).join(', ')}`);
  }
  const other = totals.calls - totals.uses;
  if (other > 0) {
    const ops = report.operations.filter((o) => o.uses === 0).map((o) => `${o.operation} ×${o.calls}`);
    reasons.push(`${countOf(other, 'other call')} on the key (${ops.join(', ')})`);
  }
  if (report.ciphertexts.allStored > 0) {
    reasons.push(
      `${countOf(report.ciphertexts.inWindow, 'successful call')} in the window (${formatCount(report.ciphertexts.allStored)} in all stored events, ` +
        `last ${at(report.ciphertexts.lastProduced)}) may have produced ciphertexts only this key decrypts; AWS keeps no record of them`,
    );
  }
  if (report.unattributedAliasCalls > 0) {
    reasons.push(`${countOf(report.unattributedAliasCalls, 'call')} in the window named an alias of this key but logged no key: they may have used it`);
  }

  // The key's state, as far as stored events show it.
  const created = lifecycle.entries.find((e) => e.kind === 'created');
  if (created) reasons.push(`the key was created on ${at(created.time)}`);
  if (lifecycle.deletedAt !== null) reasons.push(`the key was deleted on ${at(lifecycle.deletedAt)}`);
  else if (lifecycle.pendingDeletion !== null) {
    reasons.push(
      `the key is pending deletion (scheduled ${at(lifecycle.pendingDeletion.scheduledAt)}` +
        `${lifecycle.pendingDeletion.deletionDate ? `, deletion date ${at(lifecycle.pendingDeletion.deletionDate)}` : ''}): CancelKeyDeletion still recovers it`,
    );
  } else if (lifecycle.lastKnownState === 'disabled') {
    reasons.push('the key was last seen disabled');
  }

  // How far the evidence goes.
  reasons.push(
    evidence.coversWindow
      ? `evidence: every day of the window (${window.firstDay} to ${window.lastDay}) has stored events; stored events run from ${at(evidence.firstEvent)} to ${at(evidence.lastEvent)}`
      : `evidence: ${evidence.daysWithEvents} of the ${countOf(window.days, 'day')} of the window have stored events; no stored events at all on ` +
          evidence.gaps.map((g) => (g.days === 1 ? g.from : `${g.from} to ${g.to} (${g.days} days)`)).join(', '),
  );

  if (key.declared?.neverDelete) reasons.push('the configuration declares this key never_delete');
  if (key.declared && key.declared.vendors.length > 0) {
    reasons.push(`declared BYOK vendors: ${key.declared.vendors.join(', ')} — deleting or disabling the key ends their access to the data`);
  }
  if (key.alias?.otherKeys.length) {
    reasons.push(`${key.alias.name} also named ${key.alias.otherKeys.map((o) => `${o.key} (last ${at(o.lastSeen)})`).join(', ')}`);
  }
  if (key.alias?.deletedAt) {
    reasons.push(`${key.alias.name} was deleted on ${at(key.alias.deletedAt)}`);
  }

  const safeToDelete =
    status === 'no-use-seen' && evidence.coversWindow && report.unattributedAliasCalls === 0 && !key.declared?.neverDelete && lifecycle.deletedAt === null;
  return { status, headline, reasons, safeToDelete, note: safeToDelete ? DISABLE_FIRST : whyNot(report, status) };
}

function whyNot(report: Omit<PastUsageReport, 'verdict'>, status: PastUsageVerdict['status']): string {
  if (report.lifecycle.deletedAt !== null) return 'the key is already deleted';
  if (report.key.declared?.neverDelete) return 'the configuration declares this key never_delete';
  if (status === 'in-use') return 'the key is in use: deleting it breaks these callers and leaves their ciphertexts unrecoverable';
  if (report.unattributedAliasCalls > 0) return 'calls through an alias of the key may have used it';
  return 'the stored evidence does not cover every day of the window, so no use is not proven: ingest the missing days, or disable the key first and watch for failures';
}

/** `vendor Acme`, `trusted 222233334444`, `undeclared 999988887777` (for the headline). */
function describeAccount(account: PastUsageReport['externalAccounts'][number]): string {
  if (account.vendor) return `vendor ${account.vendor}`;
  if (account.trusted) return `trusted ${account.accountId}`;
  return `undeclared ${account.accountId}${account.vendorOfOtherKey ? ` — vendor ${account.vendorOfOtherKey} on another key` : ''}`;
}

/** `vendor Acme`, `trusted`, `undeclared`, `undeclared, vendor Beta on another key`. */
function accountLabel(account: PastUsageReport['externalAccounts'][number]): string {
  if (account.vendor) return `vendor ${account.vendor}`;
  if (account.trusted) return 'trusted';
  return account.vendorOfOtherKey ? `undeclared, vendor ${account.vendorOfOtherKey} on another key` : 'undeclared';
}

function lastUser(report: Omit<PastUsageReport, 'verdict'>): string {
  const last = report.principals.filter((p) => p.lastUse !== null && p.lastUse === report.totals.lastUse)[0];
  return last ? ` by ${last.name}${last.accountId ? ` (${last.accountId})` : ''}` : '';
}

function gapDays(report: Omit<PastUsageReport, 'verdict'>, position: 'before-evidence' | 'within-evidence' | 'after-evidence'): number {
  return report.evidence.gaps.filter((g) => g.position === position).reduce((n, g) => n + g.days, 0);
}

/** `2024-03-09T09:00:00Z`: an event time without the milliseconds CloudTrail never has. */
export function at(time: string | null): string {
  return time === null ? '?' : time.replace(/\.000Z$/, 'Z');
}

function day(time: string | null): string {
  return time === null ? '?' : time.slice(0, 10);
}
