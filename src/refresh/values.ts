// Values of exported documents (MongoDB exports: modulestore, forum) as column values: what the
// document lacks is NULL, never the text 'None' or 'False' (docs/original.md#bug-13); lists and
// objects are JSON text; dates are UTC DATETIME text.
import { parseEventTime } from '../tracklog/time.js';

/** JSON text of a value, or null for none. */
export const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

/** A string as it is, anything else as JSON text, or null for none. */
export const textOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : json(v));

/** A finite number (or a string that is one), else null. */
export function numberOrNull(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

/** An integer in INT's range (or a string that is one), else null. */
export function intOrNull(v: unknown): number | null {
  const n = numberOrNull(v);
  return n !== null && Number.isInteger(n) && Math.abs(n) <= 2_147_483_647 ? n : null;
}

/**
 * A date as DATETIME text (UTC, whole seconds), or null: a Date (Extended JSON's $date), an
 * ISO-8601 string, milliseconds, or the old modulestore's Python time tuple
 * [year, month, day, hour, minute, second, …].
 */
export function sqlDateTime(v: unknown): string | null {
  if (v instanceof Date) v = v.getTime();
  if (Array.isArray(v) && v.length >= 6 && v.slice(0, 6).every((x) => Number.isInteger(x))) {
    const [y, mo, d, h, mi, s] = v as number[];
    v = Date.UTC(y, mo - 1, d, h, mi, s);
  }
  return parseEventTime(v)?.utc.slice(0, 19) ?? null;
}
