/**
 * Small, total readers for the JSON text columns of `kms_events` (`request_parameters`,
 * `response_elements`, `additional_event_data`) and for values that DuckDB hands back as JSON.
 * Nothing here throws: bad input gives `null` or an empty list.
 */

export type JsonObject = Record<string, unknown>;

/** `value` as a plain object, or null. */
export function asObject(value: unknown): JsonObject | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : null;
}

/** Parse JSON text (or accept an already parsed object) into a plain object; anything else is null. */
export function parseJsonObject(value: unknown): JsonObject | null {
  if (typeof value !== 'string') return asObject(value);
  try {
    return asObject(JSON.parse(value));
  } catch {
    return null;
  }
}

/** A string field of an object, or null when absent or not a non-empty string. */
export function stringField(obj: JsonObject | null, name: string): string | null {
  const value = obj?.[name];
  return typeof value === 'string' && value.length > 0 ? value : null;
}

/**
 * A policy value that may be one string or a list of them (`"Action": "kms:*"` or `[…]`), as
 * strings. Booleans and numbers (`"kms:GrantIsForAWSResource": true`) become their text.
 */
export function stringList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return items.filter((v) => ['string', 'number', 'boolean'].includes(typeof v)).map(String);
}

/** A list column returned by DuckDB (already an array), or a JSON array in text, as strings. */
export function rowList(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v) => v !== null && v !== undefined).map(String);
  if (typeof value === 'string') {
    try {
      const parsed: unknown = JSON.parse(value);
      return Array.isArray(parsed) ? rowList(parsed) : [];
    } catch {
      return [];
    }
  }
  return [];
}

/** A numeric column returned by DuckDB (BIGINT comes back as text). */
export function rowNumber(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : 0;
}

/** A text column, or null. */
export function rowString(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}
