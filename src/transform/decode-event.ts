// Decoding the `event` field (docs/original.md#the-event-field, reference era; docs/decisions.md §1):
// objects are used as they are, strings are decoded once with escapes intact; then the
// reference's fix-ups. An event string that still cannot be decoded is kept as text (so string
// events such as unquoted `input_…=…&…` pass through) and, when it looked like JSON, marked
// undecodable so the row can carry it in badly_formatted instead of losing the line.
import { closeTruncated, tryParse as parse, withPythonNonFinite } from '../tracklog/decode.js';

export interface DecodedEvent {
  value: unknown;
  /** Set when the text looked like JSON but could not be decoded: what was wrong. */
  problem?: string;
  /** Set when the event was recovered by closing a truncated JSON text. */
  repaired?: boolean;
}

/** Characters a JSON text can start with (after white space); a backslash may be removed below. */
const JSON_START = /^[\s]*[{["\-0-9tfn\\]/;
/** Characters a JSON escape may start with after its backslash, except u. */
const SIMPLE_ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX4 = /^[0-9a-fA-F]{4}$/;

/**
 * Whether the text has a backslash that starts no valid JSON escape, escapes read from the left
 * as JSON reads them: then parsing must fail (a backslash outside a string fails anyway).
 */
function hasInvalidEscape(text: string): boolean {
  for (let i = text.indexOf('\\'); i >= 0; i = text.indexOf('\\', i)) {
    const next = text[i + 1];
    if (SIMPLE_ESCAPES.has(next)) i += 2;
    else if (next === 'u' && HEX4.test(text.slice(i + 2, i + 6))) i += 6;
    else return true;
  }
  return false;
}

export function decodeEventField(event: unknown): DecodedEvent {
  if (typeof event !== 'string') return { value: event ?? null };
  // Text no step below can read (a query string, plain words) is kept as it is without trying:
  // each failed parse throws, and throwing costs more than parsing.
  if (!JSON_START.test(event)) return { value: event };
  if (!hasInvalidEscape(event)) {
    const r = parse(event);
    if (r.ok) return { value: r.value };
    // Python's NaN and Infinity (the server's own events): read as null.
    const python = withPythonNonFinite(event);
    const p = python === undefined ? undefined : parse(python);
    if (p?.ok) return { value: p.value };
  }
  // The reference's JSON fix-up: backslashes before anything but / and " doubled. (Text it
  // leaves as it is would only fail again: a failed parse costs microseconds.)
  const fixed = event.replace(/\\(?=[^/"])/g, '\\\\');
  if (fixed !== event) {
    const r = parse(fixed);
    if (r.ok) return { value: r.value };
  }
  // Double-escaped events ({\"old\":2,…}): all backslashes removed.
  if (event.includes('\\')) {
    const r = parse(event.replace(/\\/g, ''));
    if (r.ok) return { value: r.value };
  }
  const trimmed = event.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    const closed = closeTruncated(trimmed);
    if (closed !== undefined) {
      const r = parse(closed);
      if (r.ok) return { value: r.value, repaired: true, problem: 'event text truncated' };
    }
    return { value: event, problem: 'event text is not valid JSON' };
  }
  return { value: event };
}
