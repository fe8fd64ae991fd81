import { UsageError } from '../errors.js';
import type { KeytrailDb } from '../store/database.js';

const DAY_MS = 86_400_000;
const ISO = (expr: string) => `strftime(${expr}, '%Y-%m-%dT%H:%M:%S.%gZ')`;

/** A window of whole UTC days. */
export interface UsageWindow {
  days: number;
  /** First and last day, `yyyy-mm-dd`, both included. */
  firstDay: string;
  lastDay: string;
  /** `firstDay` at 00:00Z: included. */
  from: string;
  /** The day after `lastDay` at 00:00Z: excluded. */
  to: string;
  /** Whether the last day was asked for (`until`) rather than taken from the last stored event. */
  untilGiven: boolean;
}

/** Consecutive days, `yyyy-mm-dd`, both included. */
export interface DayRange {
  from: string;
  to: string;
  days: number;
  /** Where the range lies relative to all stored events: before the first, between, after the last. */
  position: 'before-evidence' | 'within-evidence' | 'after-evidence';
}

/** How much the store can say about a window. */
export interface Evidence {
  /** First and last event stored at all (every key, every account). */
  firstEvent: string | null;
  lastEvent: string | null;
  /** Days of the window with at least one stored event (any key). */
  daysWithEvents: number;
  /** Days of the window with no stored event at all, as ranges: nothing is known about them. */
  gaps: DayRange[];
  gapDays: number;
  /** Every day of the window has stored events. */
  coversWindow: boolean;
}

/** First and last event time stored (all keys); nulls when nothing is stored. */
export async function storedEventRange(db: KeytrailDb): Promise<{ first: string | null; last: string | null }> {
  const [row] = await db.all(`SELECT ${ISO('min(event_time)')} AS first, ${ISO('max(event_time)')} AS last FROM kms_events`);
  return { first: str(row?.['first']), last: str(row?.['last']) };
}

/**
 * The days of the window on which anything at all was stored, `yyyy-mm-dd`, sorted: from
 * `kms_event_days`, which every writer of kms_events keeps; a database whose kms_events is not a
 * table written by keytrail (a view over a Parquet lake) has it empty, and then kms_events is read.
 */
export async function storedEventDays(db: KeytrailDb, window: UsageWindow): Promise<string[]> {
  const params = { firstDay: window.firstDay, lastDay: window.lastDay };
  const tracked = await db.all(
    `SELECT strftime(event_date, '%Y-%m-%d') AS day FROM kms_event_days WHERE event_date >= $firstDay::DATE AND event_date <= $lastDay::DATE ORDER BY event_date`,
    params,
  );
  // Nothing in the window: either no evidence there, or nothing keeps the days (then count is 0).
  if (tracked.length > 0 || Number((await db.all('SELECT count(*)::INTEGER AS n FROM kms_event_days'))[0]?.['n'] ?? 0) > 0) {
    return tracked.map((r) => String(r['day']));
  }
  const rows = await db.all(
    // DISTINCT on the date itself: formatting every row first costs tens of times more.
    `SELECT strftime(day, '%Y-%m-%d') AS day FROM (
       SELECT DISTINCT event_date AS day FROM kms_events WHERE event_date >= $firstDay::DATE AND event_date <= $lastDay::DATE
     ) ORDER BY day`,
    params,
  );
  return rows.map((r) => String(r['day']));
}

/**
 * The window of `days` whole UTC days ending on `until`'s day (a date, or an ISO-8601 time taken as its
 * UTC day), else on the day of the last stored event, else today.
 *
 * @throws UsageError for a bad `days` or `until`.
 */
export function usageWindow(days: number, until: string | undefined, lastEvent: string | null, now = new Date()): UsageWindow {
  if (!Number.isInteger(days) || days < 1) throw new UsageError(`days: expected a positive whole number (got ${days})`);
  const lastDay = until !== undefined ? parseDay(until) : (lastEvent ?? now.toISOString()).slice(0, 10);
  const lastMs = Date.parse(`${lastDay}T00:00:00Z`);
  const firstDay = new Date(lastMs - (days - 1) * DAY_MS).toISOString().slice(0, 10);
  return {
    days,
    firstDay,
    lastDay,
    from: `${firstDay}T00:00:00.000Z`,
    to: new Date(lastMs + DAY_MS).toISOString(),
    untilGiven: until !== undefined,
  };
}

/** `yyyy-mm-dd`, or an ISO-8601 time (its UTC day). */
export function parseDay(value: string): string {
  const text = value.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const ms = Date.parse(`${text}T00:00:00Z`);
    if (!Number.isNaN(ms) && new Date(ms).toISOString().startsWith(text)) return text;
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    const ms = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(text) ? text : `${text}Z`);
    if (!Number.isNaN(ms)) return new Date(ms).toISOString().slice(0, 10);
  }
  throw new UsageError(`until: not a date (yyyy-mm-dd) or ISO-8601 time: "${value}"`);
}

/** Evidence for a window from the stored range and the days that have events. */
export function evidenceFor(window: UsageWindow, range: { first: string | null; last: string | null }, daysWithEvents: readonly string[]): Evidence {
  const have = new Set(daysWithEvents);
  const firstDay = range.first?.slice(0, 10) ?? null;
  const lastDay = range.last?.slice(0, 10) ?? null;
  const gaps: DayRange[] = [];
  for (const day of eachDay(window.firstDay, window.lastDay)) {
    if (have.has(day)) continue;
    const position: DayRange['position'] =
      firstDay === null || day < firstDay ? 'before-evidence' : lastDay !== null && day > lastDay ? 'after-evidence' : 'within-evidence';
    const open = gaps[gaps.length - 1];
    if (open && open.position === position && nextDay(open.to) === day) {
      open.to = day;
      open.days += 1;
    } else {
      gaps.push({ from: day, to: day, days: 1, position });
    }
  }
  const gapDays = gaps.reduce((n, g) => n + g.days, 0);
  return {
    firstEvent: range.first,
    lastEvent: range.last,
    daysWithEvents: window.days - gapDays,
    gaps,
    gapDays,
    coversWindow: gapDays === 0,
  };
}

function* eachDay(first: string, last: string): Generator<string> {
  for (let day = first; day <= last; day = nextDay(day)) yield day;
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}
