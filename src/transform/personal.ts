// Personal values taken out of what goes to the public database (docs/decisions.md §15).
// `EdxTrackEvent.badly_formatted` keeps the text of a broken line or event (docs/decisions.md §9), and
// that text can hold what the private tables are for: the username and IP of every line, and the
// whole registration or login form of a cut /create_account or /login_ajax event (name, e-mail,
// mailing address, password…). The reference never filled the column (docs/original.md#broken-lines), so
// this leak was ours. The raw text itself is not lost: it stays in the log (and, for a rejected
// line, in the reject report). URLs and paths in public columns (event_type, page, course_id) name
// learners too (`/u/<username>`, `?email=…`, reset and activation tokens), and the instructor
// dashboard's events name the learner they act on: those columns get the learner's hash.
//
// The text is broken JSON, often cut, and the event inside it is a JSON string, so its keys and
// values carry one more level of backslash escaping; or a Python repr, a query-string form, a
// logger's or GELF's prefix: a scanner of every form a line can take, not a parser.
import { PERSONAL_KEYS, PERSONAL_KEYS_OF_TYPE } from '../core/personal-keys.js';
import { anonScreenName, text as textOf } from '../core/values.js';
import type { RowBuilder } from './row.js';

export const REDACTED = 'personal';

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const keyAlternatives = (keys: readonly string[]) => keys.map(escapeRe).join('|');

/**
 * A personal key quoted as a JSON key at any escape level (`"name"`, `\"name\"`, `\\\"name\\\"`), or as
 * a Python repr's (`'name'`, `u'name'`), with its colon. A GELF field has a leading underscore.
 */
const keyPattern = (keys: readonly string[]) => new RegExp(`(\\\\*)(["'])(_?(?:${keyAlternatives(keys)}))\\1\\2\\s*:\\s*`, 'gi');
const KEY = keyPattern(PERSONAL_KEYS);
/** The same with the keys personal in the event types the text names. */
const KEY_BY_TYPE = new Map(Object.entries(PERSONAL_KEYS_OF_TYPE).map(([type, keys]) => [type, keyPattern([...PERSONAL_KEYS, ...keys])]));

/** Keys whose text values name a learner, so that the same text elsewhere in the line is theirs too. */
const NAMING_KEYS = new Set(['username', 'user', 'user_name', 'screen_name', 'student', 'unique_student_identifier',
  'email', 'email_address', 'new_email', 'old_email', 'user_email', 'full_name', 'fullname']);

/**
 * An event's type under `name` (modern logs carry it on every event: `seq_next`,
 * `edx.video.played`, a URL path): no person's name, kept. A form's `name` field is a list.
 */
const EVENT_NAME = /^(?:[a-z0-9_]+(?:\.[a-z0-9_]+)*|\/[^\s]*)$/;

/** The user and address a logger prefix names: Tutor's `[user 3569] [ip 41.68.39.5]`. */
const PREFIX_FIELD = /\[(user|username|ip|remote_addr) [^\]\s]+\]/gi;

/**
 * `key=value` of a personal key: form fields (`email=…&password=…`, the first one too), query
 * strings, a logger prefix's `user=… ip=…`. The value ends where a field, a string or a word does.
 */
const FIELD = new RegExp(`(^|[?&;,\\s"'\\[({])(_?(?:${keyAlternatives(PERSONAL_KEYS)}))=([^&;,\\s"'\\\\\\])}]*)`, 'gi');
/** The same, in a URL only (its query). */
const QUERY_FIELD = new RegExp(`([?&;])(_?(?:${keyAlternatives(PERSONAL_KEYS)}))=([^&;#\\s"'\\\\]*)`, 'gi');

/**
 * Paths whose next segment is a username or a secret: profiles, the user API, profile images,
 * account activation, password reset and e-mail change confirmation.
 */
const PERSONAL_PATH = /(\/(?:u|api\/user\/v\d+\/(?:accounts|preferences)|api\/profile_images\/v\d+|activate|password_reset_confirm|email_confirm|email_change_confirm)\/)([^/?#&\s"'\\]+)/gi;

/**
 * An e-mail address, plain or URL-encoded (`%40`). The local part starts where the run of its
 * characters starts (the lookbehind): tried from inside a long run it would backtrack over the
 * rest of the run at every position, quadratic in a 1 MB value.
 */
const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])/g;

/** A cheap test: text without any of these has nothing the URL rules would change. */
const URL_HINT = /[@=]|%40|\/(?:u|api|activate|password_reset_confirm|email_confirm|email_change_confirm)\//i;

/**
 * A URL or path for a public column (event_type, page, course_id…): usernames, e-mails and secrets
 * in its path and query replaced by the marker; anything else as it was.
 */
export function withoutPersonalInUrl(url: string): string {
  if (!URL_HINT.test(url)) return url;
  return url
    .replace(PERSONAL_PATH, (_, path: string) => `${path}${REDACTED}`)
    .replace(QUERY_FIELD, (_, sep: string, key: string) => `${sep}${key}=${REDACTED}`)
    .replace(EMAIL, REDACTED);
}

/**
 * The anonymous form of a learner named in a public column (student_id, instructor_id,
 * group_user): the hash anon_screen_name has for that username or e-mail, so the column still joins
 * with anon_screen_name; '' when there is none.
 */
export function anonymousIdOf(v: unknown): string {
  const name = textOf(v);
  return name === '' ? '' : anonScreenName(name);
}

/**
 * `\u0022` and `\u0027` (at any escape level) as the quotes they stand for, so that a key or a
 * string written with them is seen: the text means the same. n backslashes before `u0022`: for odd
 * n a quote at the level of n backslashes; for even n the escape is itself escaped once more.
 */
function withPlainQuotes(text: string): string {
  if (!/\\u00(?:22|27)/i.test(text)) return text;
  const dq = (n: number): number => (n % 2 === 1 ? n : 2 * dq(n / 2) + 1);
  const sq = (n: number): number => (n % 2 === 1 ? n - 1 : 2 * sq(n / 2));
  return text.replace(/(\\+)u00(22|27)/gi, (_, bs: string, code: string) =>
    code === '22' ? `${'\\'.repeat(dq(bs.length))}"` : `${'\\'.repeat(sq(bs.length))}'`);
}

/** The text with the value of every personal key replaced by "personal" (quoted as the key was). */
export function withoutPersonalValues(raw: string): string {
  const text = withPlainQuotes(raw);
  let key = KEY;
  for (const [type, pattern] of KEY_BY_TYPE) if (text.includes(type)) key = pattern;
  const names = new Set<string>();
  let out = '';
  let from = 0;
  key.lastIndex = 0;
  for (let m = key.exec(text); m !== null; m = key.exec(text)) {
    if (m.index < from) continue; // inside a value already replaced
    const quoteChar = m[2];
    const keyName = m[3].toLowerCase().replace(/^_/, '');
    const valueStart = m.index + m[0].length;
    const value = valueAt(text, valueStart);
    if (keyName === 'name' && value.content !== undefined && EVENT_NAME.test(value.content)) {
      key.lastIndex = value.end;
      continue;
    }
    if (value.content !== undefined && NAMING_KEYS.has(keyName)) names.add(value.content);
    const quote = value.quote ?? (quoteChar === "'" ? "'" : '\\'.repeat(m[1].length) + '"');
    out += text.slice(from, valueStart) + (value.prefix ?? '') + quote + REDACTED + quote;
    from = value.end;
    key.lastIndex = Math.max(value.end, valueStart);
  }
  out += text.slice(from);
  out = out
    .replace(FIELD, (_, sep: string, k: string, v: string) => {
      if (NAMING_KEYS.has(k.toLowerCase())) names.add(v);
      return `${sep}${k}=${REDACTED}`;
    })
    .replace(PREFIX_FIELD, (_, field: string) => `[${field} ${REDACTED}]`)
    .replace(PERSONAL_PATH, (_, path: string, segment: string) => {
      names.add(segment);
      return `${path}${REDACTED}`;
    });
  // The same learner's name or e-mail elsewhere in the line (a URL, a message, the context).
  for (const name of names) {
    if (!isName(name)) continue;
    out = out.replace(new RegExp(`(?<![A-Za-z0-9_])${escapeRe(name)}(?![A-Za-z0-9_])`, 'g'), REDACTED);
  }
  return out.replace(EMAIL, REDACTED);
}

/** A value worth looking for elsewhere: text, not a number, not a JSON/Python literal, not the marker. */
const isName = (s: string) => s.length >= 2 && !/^(?:\d+|None|null|true|false|True|False|personal)$/.test(s) && !s.includes('\\');

interface Value {
  /** Where the value ends (the text's end when it is cut). */
  end: number;
  /** The content of a string value, undefined for any other. */
  content?: string;
  /** A string's quote as written (`"`, `\"`, `'`), to quote the marker alike. */
  quote?: string;
  /** A Python string's prefix (`u`, `b`). */
  prefix?: string;
}

/** The value starting at i: a JSON string at any escape level, a Python string, a list or object, a literal. */
function valueAt(text: string, i: number): Value {
  const py = /^([uUbBrR]{0,2})'/.exec(text.slice(i, i + 3));
  if (py) {
    const start = i + py[0].length;
    const end = endOfPythonString(text, start);
    return { end, content: text.slice(start, Math.max(start, end - 1)), quote: "'", prefix: py[1] };
  }
  const dq = /^(\\*)"/.exec(text.slice(i, i + 64));
  if (dq) {
    const level = levelOf(dq[1].length);
    if (level !== undefined) {
      const start = i + dq[0].length;
      const end = endOfString(text, start, level);
      const closing = text.slice(end - dq[0].length, end) === dq[0] && end - dq[0].length >= start ? end - dq[0].length : end;
      return { end, content: text.slice(start, closing), quote: dq[0] };
    }
  }
  const open = text[i];
  if (open === '[' || open === '{' || open === '(') {
    let depth = 0;
    for (let j = i; j < text.length; ) {
      const c = text[j];
      if (c === '"' || c === '\\') {
        const run = /^(\\*)"/.exec(text.slice(j, j + 64));
        const level = run ? levelOf(run[1].length) : undefined;
        if (run && level !== undefined && (j === 0 || text[j - 1] !== '\\')) {
          j = endOfString(text, j + run[0].length, level);
          continue;
        }
        j++;
        continue;
      }
      if (c === "'" && /[[({,:\s]|^$/.test(text.slice(Math.max(0, j - 1), j).replace(/[uUbB]$/, ' '))) {
        j = endOfPythonString(text, j + 1);
        continue;
      }
      if (c === '[' || c === '{' || c === '(') depth++;
      else if ((c === ']' || c === '}' || c === ')') && --depth === 0) return { end: j + 1 };
      j++;
    }
    return { end: text.length };
  }
  // A number, true/false/null, None: up to the next delimiter.
  let j = i;
  while (j < text.length && !/[,}\])\s\\"']/.test(text[j])) j++;
  return { end: j };
}

/** The escape level of a quote preceded by n backslashes (0, 1, 3, 7 … → 0, 1, 2, 3 …), or undefined. */
function levelOf(n: number): number | undefined {
  const level = Math.log2(n + 1);
  return Number.isInteger(level) ? level : undefined;
}

/**
 * The end (after the closing quote) of a JSON string whose content starts at i. At escape level k
 * the closing quote is preceded by b backslashes with b mod 2^(k+1) = 2^k - 1 (level 0: an even
 * number, level 1: 1, 5, 9 …); any other quote is part of the content. The text's end when it is cut.
 */
function endOfString(text: string, i: number, level: number): number {
  const period = 2 ** (level + 1);
  const closing = 2 ** level - 1;
  for (let j = text.indexOf('"', i); j !== -1; j = text.indexOf('"', j + 1)) {
    let b = 0;
    while (j - 1 - b >= i && text[j - 1 - b] === '\\') b++;
    if (b % period === closing) return j + 1;
  }
  return text.length;
}

/**
 * The end (after the closing quote) of a Python repr's single-quoted string whose content starts at
 * i: a quote no backslash escapes and that a separator, a bracket or the end follows (its nesting
 * level in JSON strings is not known, so an escaped quote is told by what follows it).
 */
function endOfPythonString(text: string, i: number): number {
  for (let j = text.indexOf("'", i); j !== -1; j = text.indexOf("'", j + 1)) {
    if (text[j - 1] === '\\' && j - 1 >= i) continue;
    if (/^\s*(?:[,:}\])]|\\*"|$)/.test(text.slice(j + 1, j + 8))) return j + 1;
  }
  return text.length;
}

/** Public columns that hold a URL, a path or what is cut from one. */
const URL_COLUMNS = ['event_type', 'page', 'course_id', 'course_display_name'] as const;

/** A main row's URL columns without the personal values in them (docs/decisions.md §15). */
export function withoutPersonalUrls(row: RowBuilder): void {
  for (const column of URL_COLUMNS) {
    const v = row.get(column);
    if (typeof v === 'string' && v !== '') {
      const scrubbed = withoutPersonalInUrl(v);
      if (scrubbed !== v) row.set(column, scrubbed);
    }
  }
}
