import { evidenceFor, storedEventDays, storedEventRange, type Evidence, type UsageWindow } from '../analysis/evidence.js';
import { UsageError } from '../errors.js';
import type { KeytrailDb } from '../store/database.js';

const DAY_MS = 86_400_000;
/** Period length when nothing is stored and no `since` is given. */
const EMPTY_STORE_DAYS = 30;

/** What a report was asked to cover; both optional. */
export interface PeriodOptions {
  /** First day (`yyyy-mm-dd`, or an ISO-8601 time taken as its UTC day); default: the day of the first stored event. */
  since?: string;
  /** Last day, included (same forms); default: the day of the last stored event. */
  until?: string;
}

/**
 * The whole UTC days a report covers (the same window shape `pastUsage` uses), and what the store can
 * say about them: first and last stored event, the days without any stored event.
 */
export interface ReportPeriod extends UsageWindow {
  sinceGiven: boolean;
  evidence: Evidence;
}

/**
 * Resolve `since`/`until` against the stored events: by default the report covers every day from the
 * first stored event to the last (the evidence there is), so a report on a fresh trail is not mostly gaps.
 *
 * @throws UsageError for a date that cannot be read, or `since` after `until`.
 */
export async function resolvePeriod(db: KeytrailDb, options: PeriodOptions, now: Date): Promise<ReportPeriod> {
  const range = await storedEventRange(db);
  const lastDay = options.until !== undefined ? parseDay(options.until, '--until') : (range.last ?? now.toISOString()).slice(0, 10);
  const firstDay =
    options.since !== undefined
      ? parseDay(options.since, '--since')
      : (range.first?.slice(0, 10) ?? addDays(lastDay, -(EMPTY_STORE_DAYS - 1)));
  if (firstDay > lastDay) throw new UsageError(`--since ${firstDay} is after --until ${lastDay}: the period would be empty`);
  const window: UsageWindow = {
    days: Math.round((Date.parse(`${lastDay}T00:00:00Z`) - Date.parse(`${firstDay}T00:00:00Z`)) / DAY_MS) + 1,
    firstDay,
    lastDay,
    from: `${firstDay}T00:00:00.000Z`,
    to: `${addDays(lastDay, 1)}T00:00:00.000Z`,
    untilGiven: options.until !== undefined,
  };
  const days = await storedEventDays(db, window);
  return { ...window, sinceGiven: options.since !== undefined, evidence: evidenceFor(window, range, days) };
}

/** `yyyy-mm-dd`, or an ISO-8601 time reduced to its UTC day; `flag` names the option in the error. */
export function parseDay(value: string, flag: string): string {
  const text = value.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const ms = Date.parse(`${text}T00:00:00Z`);
    if (!Number.isNaN(ms) && new Date(ms).toISOString().startsWith(text)) return text;
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    const ms = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(text) ? text : `${text}Z`);
    if (!Number.isNaN(ms)) return new Date(ms).toISOString().slice(0, 10);
  }
  throw new UsageError(`${flag}: not a date (yyyy-mm-dd) or ISO-8601 time: "${value}"`);
}

/** The day `n` days after `day` (`yyyy-mm-dd`, UTC); negative goes back. */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/** Every day of the period, oldest first. */
export function periodDays(period: Pick<UsageWindow, 'firstDay' | 'lastDay'>): string[] {
  const days: string[] = [];
  for (let day = period.firstDay; day <= period.lastDay; day = addDays(day, 1)) days.push(day);
  return days;
}

/** The period's bounds as the queries in queries/ take them (`YYYY-MM-DD HH:MM:SS`, portable to Athena). */
export function sqlBounds(period: Pick<UsageWindow, 'from' | 'to'>): { since: string; until: string } {
  return { since: sqlTimestamp(period.from), until: sqlTimestamp(period.to) };
}

export function sqlTimestamp(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ');
}
