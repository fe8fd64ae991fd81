/**
 * Dates as CloudTrail logs them inside `responseElements`/`requestParameters`, which is not always
 * ISO-8601: `"deletionDate": "Apr 12, 2021 18:58:30 PM"`, `"Nov 2, 2021, 11:25:25 PM"`,
 * `"validTo": "Jan 1, 2021 8:00:00 PM"`, or epoch seconds (`1598304792.0`). They are UTC.
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const JAVA_STYLE = /^([A-Za-z]{3})[a-z]* (\d{1,2}),? (\d{4}),? (\d{1,2}):(\d{2}):(\d{2})(?: ?(AM|PM))?$/i;
const ISO_LIKE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** ISO-8601 UTC for a date as CloudTrail logs it, or null when it cannot be read. */
export function parseAwsDate(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) {
    // Epoch seconds (SDK/JSON form); milliseconds would be 1000× later than any plausible date.
    return new Date(value < 1e11 ? value * 1000 : value).toISOString();
  }
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (ISO_LIKE.test(text)) {
    const hasZone = /(?:Z|[+-]\d{2}:?\d{2})$/.test(text) && text.length > 10;
    const d = new Date(hasZone ? text : `${text.replace(' ', 'T')}${text.length > 10 ? 'Z' : 'T00:00:00Z'}`);
    return Number.isNaN(d.getTime()) ? null : d.toISOString();
  }
  const m = JAVA_STYLE.exec(text);
  if (!m) return null;
  const [, mon = '', day = '', year = '', hh = '', mm = '', ss = '', ampm] = m;
  const month = MONTHS.indexOf(mon.toLowerCase());
  if (month < 0) return null;
  let hour = Number(hh);
  // "18:58:30 PM" (as the guide prints it) is already 24-hour; only 1–12 take AM/PM.
  if (ampm && hour <= 12) {
    if (ampm.toUpperCase() === 'PM' && hour < 12) hour += 12;
    if (ampm.toUpperCase() === 'AM' && hour === 12) hour = 0;
  }
  const d = new Date(Date.UTC(Number(year), month, Number(day), hour, Number(mm), Number(ss)));
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
