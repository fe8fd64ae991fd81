import type { KmsEvent } from '../../normalize/types.js';
import type { DetectionContext, UsageSummary } from '../types.js';
import { listPhrase } from './event-draft.js';
import { vendorAccessPhrase, vendorNames } from './vendors.js';

/** What breaking a key would break: what config declares about it and what history shows. */
export interface KeyImpact {
  declared: boolean;
  description: string | null;
  neverDelete: boolean;
  /** Declared BYOK vendors of the key. */
  vendors: string[];
  /** Cryptographic use in the lookback window; null when unknown (no usage summary). */
  usedInLookback: boolean | null;
}

export function keyImpact(event: KmsEvent, ctx: DetectionContext, usage: UsageSummary | null | undefined): KeyImpact {
  const declared = ctx.declaredKey(event);
  return {
    declared: declared !== null,
    description: declared?.description ?? null,
    neverDelete: declared?.never_delete ?? false,
    vendors: vendorNames(declared),
    usedInLookback: usage ? usage.cryptographicCalls > 0 : null,
  };
}

/** The finding context entries for an impact and its usage summary. */
export function impactContext(impact: KeyImpact, usage: UsageSummary | null | undefined): Record<string, unknown> {
  return {
    declaredKey: impact.declared ? { description: impact.description, neverDelete: impact.neverDelete } : null,
    vendorsAffected: impact.vendors,
    usedInLookback: impact.usedInLookback,
    usageSummary: usage ?? null,
  };
}

/** "Disabling it breaks vendor Acme's access." — empty when the key has no declared vendor. */
export function vendorSentence(impact: KeyImpact, action: string): string {
  return impact.vendors.length === 0 ? '' : ` ${action} breaks ${vendorAccessPhrase(impact.vendors)}.`;
}

/** One sentence on past usage, saying what was counted and how far the stored evidence reaches. */
export function describeUsage(usage: UsageSummary | null | undefined): string {
  if (!usage) return 'Past usage unknown: the event names no key.';
  if (usage.evidenceFrom === null) return 'Past usage unknown: no events are stored.';
  const partial = usage.evidenceFrom > usage.from ? ` (events stored only since ${usage.evidenceFrom.slice(0, 10)})` : '';
  if (usage.totalCalls === 0) return `No calls on the key in the ${usage.windowDays} days before${partial}.`;
  const external = usage.accounts.filter((a) => a.external);
  const externalText =
    external.length === 0 ? '' : `, ${external.length} external (${listPhrase(external.map((a) => (a.vendor ? `${a.vendor} ${a.accountId}` : a.accountId)))})`;
  const services = usage.services.length === 0 ? '' : `, via ${listPhrase(usage.services)}`;
  const last = usage.lastCryptographicUse ? `last cryptographic use ${usage.lastCryptographicUse}` : 'no cryptographic use';
  return (
    `In the ${usage.windowDays} days before${partial}: ${usage.totalCalls} calls (${usage.cryptographicCalls} cryptographic) ` +
    `by ${plural(usage.principals.length, 'principal')} from ${plural(usage.accounts.length, 'account')}${externalText}${services}; ${last}.`
  );
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
