/** Reading fields out of the JSON text columns of a `KmsEvent` (request parameters, raw, …). */

export type JsonObject = Record<string, unknown>;

/** Parse JSON text that should hold an object; anything else (null, invalid, an array) gives null. */
export function jsonObject(text: string | null | undefined): JsonObject | null {
  if (!text) return null;
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

/** A plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The value at a path of object keys, or undefined. */
export function valueAt(obj: JsonObject | null, ...path: string[]): unknown {
  let current: unknown = obj;
  for (const key of path) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** A non-empty string at the path, else null. */
export function stringAt(obj: JsonObject | null, ...path: string[]): string | null {
  const value = valueAt(obj, ...path);
  return typeof value === 'string' && value !== '' ? value : null;
}

/** A finite number at the path (numeric strings too: older records log numbers as text), else null. */
export function numberAt(obj: JsonObject | null, ...path: string[]): number | null {
  const value = valueAt(obj, ...path);
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}
