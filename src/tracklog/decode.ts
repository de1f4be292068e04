// Decoding one tracking-log line into an event record, accepting the line variants real logs
// contain (docs/decisions.md §1): NUL padding from logrotate copytruncate, a logger or syslog prefix
// before the JSON, GELF wrapping, blank and '#' lines; and repairing or rescuing broken lines
// (docs/decisions.md §8, §9) so that no line is lost silently.
import { isObject } from '../core/values.js';
import { withoutPadding } from '../io/nul-padding.js';

export type Record_ = Record<string, unknown>;

export type Decoded =
  /** Nothing to transform: blank line or a '#' comment (counted, never a row). */
  | { kind: 'skip'; reason: 'blank' | 'comment' }
  /** A record; `repaired` says what had to be fixed to parse it (the raw line goes to badly_formatted). */
  | { kind: 'record'; record: Record_; repaired?: string }
  /** Not JSON, but some fields could be recovered from the text. */
  | { kind: 'rescued'; record: Record_; reason: string }
  /** Nothing recoverable: goes to the reject report. */
  | { kind: 'reject'; reason: string };

const FIELDS_TO_RESCUE = ['username', 'event_type', 'name', 'event_source', 'time', 'ip', 'session', 'page', 'agent', 'host'];

export function decodeLine(raw: string, unwrapped = false): Decoded {
  let text = withoutPadding(raw);
  if (text === '') return { kind: 'skip', reason: 'blank' };
  if (text.startsWith('#')) return { kind: 'skip', reason: 'comment' };

  let repaired: string | undefined;
  if (text[0] !== '{') {
    // A logger or syslog prefix: the event is the JSON object after it.
    if (text[0] === '[' || /^-?\d|^"|^(true|false|null)\b/.test(text)) {
      const parsed = tryParse(text);
      if (parsed.ok) return { kind: 'reject', reason: `JSON ${Array.isArray(parsed.value) ? 'array' : typeof parsed.value}, not an event object` };
    }
    text = afterPrefix(text);
    if (text[0] !== '{') return rescueOrReject(text, 'not a JSON object');
  }

  let parsed = tryParse(text);
  if (!parsed.ok) {
    const python = withPythonNonFinite(text);
    if (python !== undefined) {
      const p = tryParse(python);
      if (p.ok) parsed = p;
    }
  }
  if (!parsed.ok) {
    // The reference's JSON fix-up (docs/original.md#broken-lines), a normal decoding step there, not a repair: first only
    // backslashes that start no valid escape, then every backslash not before / or " (this is what
    // reads double-escaped events such as "{\\"old\\":2}").
    for (const fix of [/\\(?=[^"\\/bfnrtu])/g, /\\(?=[^/"])/g]) {
      const fixed = text.replace(fix, '\\\\');
      if (fixed !== text && (parsed = tryParse(fixed)).ok) break;
    }
  }
  if (!parsed.ok) {
    const closed = closeTruncated(text);
    if (closed !== undefined && (parsed = tryParse(closed)).ok && isObject(parsed.value)) {
      repaired = 'truncated line closed';
    } else {
      return rescueOrReject(text, parsed.ok ? 'not a JSON object' : `invalid JSON (${(parsed as { error: string }).error})`);
    }
  }
  const value = parsed.value;
  if (!isObject(value)) {
    return { kind: 'reject', reason: `JSON ${Array.isArray(value) ? 'array' : typeof value}, not an event object` };
  }
  const inner = unwrapped ? undefined : wrappedText(value);
  if (inner !== undefined) return decodeLine(inner, true);
  return { kind: 'record', record: value, repaired };
}

/** An object that starts with a key of a tracking record: where the record after a prefix starts. */
const RECORD_START = new RegExp(`\\{\\s*"(?:${[...FIELDS_TO_RESCUE, 'event', 'context', 'referer', 'accept_language'].join('|')})"`);

/**
 * The text from where the JSON object after a logger prefix starts: the first object whose first
 * key is one a tracking record has (`{tracking}` or `{"pid": 1}` in a prefix is not it), else the
 * first `{"`, else the first `{`.
 */
function afterPrefix(text: string): string {
  const m = RECORD_START.exec(text) ?? /\{\s*"/.exec(text);
  if (m) return text.slice(m.index);
  const brace = text.indexOf('{');
  return brace < 0 ? text : text.slice(brace);
}

/**
 * The line inside a log shipper's record, decoded as a line of its own (a prefix, a cut, …): GELF's
 * `short_message`, Docker's json-file `{"log": …, "stream": …, "time": …}`. Undefined for an event.
 */
function wrappedText(v: Record_): string | undefined {
  if ('event_type' in v || 'name' in v) return undefined;
  if (typeof v.short_message === 'string' && v.short_message.includes('{')) return v.short_message;
  if (typeof v.log === 'string' && 'stream' in v && v.log.includes('{')) return v.log;
  return undefined;
}

export type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * JSON.parse without throwing. Broken text is common here (a repair tries several parses), and a
 * throw that records no stack trace costs a quarter less; the message is all we keep of it.
 */
export function tryParse(text: string): Parsed {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Python's JSON (the tracking logger's) writes a float that is not finite as the bare words NaN,
 * Infinity and -Infinity, which JSON.parse refuses: the text with each of them, where a value
 * stands (outside strings), read as null, as a NULL or default column stores it. Undefined when
 * the text has none.
 */
/** The rest of a JSON string after its opening quote, closing quote included (sticky: read in place). */
const STRING_REST = /(?:[^"\\]|\\.)*"?/y;

export function withPythonNonFinite(text: string): string | undefined {
  if (!/NaN|Infinity/.test(text)) return undefined;
  let out = '';
  let from = 0;
  let lastSignificant = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      // Past the string: its closing quote is the first one no backslash escapes.
      STRING_REST.lastIndex = i + 1;
      i += STRING_REST.exec(text)![0].length;
      lastSignificant = c;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (lastSignificant === ':' || lastSignificant === '[' || lastSignificant === ',') {
      const m = /^(?:-?Infinity|NaN)(?![A-Za-z0-9_])/.exec(text.slice(i, i + 10));
      if (m) {
        out += text.slice(from, i) + 'null';
        from = i + m[0].length;
        i = from - 1;
        lastSignificant = 'l';
        continue;
      }
    }
    lastSignificant = c;
  }
  return from === 0 ? undefined : out + text.slice(from);
}

/** GELF (`short_message` holding the event as JSON text) → the event. */

/**
 * Close a JSON object that was cut off: end an open string, drop a dangling key or separator,
 * and close the open brackets. Returns undefined when the text does not look like a cut object.
 */
export function closeTruncated(text: string): string | undefined {
  const stack: string[] = [];
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') stack.push(c === '{' ? '}' : ']');
    else if (c === '}' || c === ']') {
      if (stack.pop() !== c) return undefined; // not a cut: broken in the middle
    }
  }
  if (stack.length === 0 && !inString) return undefined;
  let out = text;
  if (inString) out = (escaped ? out.slice(0, -1) : out.replace(/\\u[0-9a-fA-F]{0,3}$/, '')) + '"';
  out = out.replace(/\s+$/, '');
  // A dangling "key": (or "key") inside an object, or a trailing separator or partial literal.
  for (let guard = 0; guard < 3; guard++) {
    const before = out;
    out = out.replace(/,\s*$/, '');
    if (stack[stack.length - 1] === '}') out = out.replace(/([{,])\s*"(?:[^"\\]|\\.)*"\s*:?\s*$/, '$1');
    out = out.replace(/:\s*(-|-?\d+\.|t|tr|tru|f|fa|fal|fals|n|nu|nul)$/, ': null');
    out = out.replace(/,\s*$/, '');
    if (out === before) break;
  }
  if (/\{\s*,$|,\s*$/.test(out)) out = out.replace(/,\s*$/, '');
  return out + stack.reverse().join('');
}

/**
 * Recover what the text still says (docs/original.md#broken-lines): the fields it shows give a rescue row, which needs at
 * least one of event_type, name, time or username; otherwise a reject.
 */
export function rescueOrReject(text: string, reason: string): Decoded {
  const record: Record_ = {};
  for (const key of FIELDS_TO_RESCUE) {
    const m = new RegExp(`"${key}"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"`).exec(text);
    if (m) {
      const v = tryParse(`"${m[1]}"`);
      record[key] = v.ok ? v.value : m[1];
    }
  }
  return rescued(record, reason);
}

/**
 * The rescue of a line that parsed but could not be transformed (a handler failed on its values):
 * the same fields, taken from the record's top level, not searched for in the text (where a
 * nested `"username": "…"` or the first of two keys would be found instead of the event's own);
 * with `withEvent`, its `event` too (a /login_ajax row is keyed by the e-mail it holds).
 */
export function rescueFromRecord(source: Record_, reason: string, withEvent = false): Decoded {
  const record: Record_ = {};
  for (const key of withEvent ? [...FIELDS_TO_RESCUE, 'event'] : FIELDS_TO_RESCUE) {
    if (source[key] !== undefined && source[key] !== null) record[key] = source[key];
  }
  return rescued(record, reason);
}

function rescued(record: Record_, reason: string): Decoded {
  if (!(record.event_type || record.name || record.time || record.username)) return { kind: 'reject', reason };
  return { kind: 'rescued', record, reason };
}
