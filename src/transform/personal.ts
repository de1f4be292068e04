// Personal values taken out of text that goes to the public database (docs/decisions.md §15).
// `EdxTrackEvent.badly_formatted` keeps the text of a broken line or event (docs/decisions.md §9), and
// that text can hold what the private tables are for: the username and IP of every line, and the
// whole registration or login form of a cut /create_account or /login_ajax event (name, e-mail,
// mailing address, password…). The reference never filled the column (docs/original.md#broken-lines), so
// this leak was ours. The raw text itself is not lost: it stays in the log (and, for a rejected
// line, in the reject report).
//
// The text is broken JSON, often cut, and the event inside it is a JSON string, so its keys and
// values carry one more level of backslash escaping: a scanner, not a parser.

/** Keys whose values are personal: the Account columns, the username, the IP, the user's ids. */
const PERSONAL_KEYS = [
  'username', 'user', 'screen_name', 'name', 'full_name', 'fullname', 'first_name', 'last_name',
  'email', 'new_email', 'old_email', 'password', 'mailing_address', 'address', 'zipcode', 'zip',
  'postal_code', 'country', 'phone', 'phone_number', 'year_of_birth', 'gender', 'level_of_education',
  'goals', 'ip', 'user_id', 'anonymous_user_id',
];

/** A personal key in quotes escaped k times (`"name"`, `\"name\"`, …) and its colon. */
const KEY = new RegExp(`(\\\\*)"(${PERSONAL_KEYS.join('|')})\\1"\\s*:\\s*`, 'gi');

/**
 * An event's type under `name` (modern logs carry it on every event: `seq_next`,
 * `edx.video.played`, a URL path): no person's name, kept. A form's `name` field is a list.
 */
const EVENT_NAME = /^(?:[a-z0-9_]+(?:\.[a-z0-9_]+)*|\/[^\s]*)$/;

/** The user and address a logger prefix names: Tutor's `[user 3569] [ip 41.68.39.5]`. */
const PREFIX_FIELD = /\[(user|ip) [^\]\s]+\]/g;

/** Form fields (`email=…&password=…`) as some events carry their POST. */
const FORM_FIELD = new RegExp(`(^|[?&])(${PERSONAL_KEYS.join('|')})=[^&"\\\\\\s]*`, 'gi');

export const REDACTED = 'personal';

/** The text with the value of every personal key replaced by "personal" (quoted as the key was). */
export function withoutPersonalValues(text: string): string {
  let out = '';
  let from = 0;
  KEY.lastIndex = 0;
  for (let m = KEY.exec(text); m !== null; m = KEY.exec(text)) {
    const escapes = m[1].length;
    const valueStart = m.index + m[0].length;
    const valueEnd = endOfValue(text, valueStart, escapes);
    const quote = '\\'.repeat(escapes) + '"';
    const isString = stringStartAt(text, valueStart, escapes);
    if (m[2].toLowerCase() === 'name' && isString && EVENT_NAME.test(text.slice(valueStart + quote.length, valueEnd - quote.length))) {
      KEY.lastIndex = valueEnd;
      continue;
    }
    out += text.slice(from, valueStart) + quote + REDACTED + quote;
    from = valueEnd;
    KEY.lastIndex = Math.max(valueEnd, valueStart);
  }
  out += text.slice(from);
  return out
    .replace(FORM_FIELD, (_, sep: string, key: string) => `${sep}${key}=${REDACTED}`)
    .replace(PREFIX_FIELD, (_, field: string) => `[${field} ${REDACTED}]`);
}

/** Where the value starting at i ends, its strings quoted with `escapes` backslashes; the text's end when it is cut. */
function endOfValue(text: string, i: number, escapes: number): number {
  const quoteAt = (j: number) => stringStartAt(text, j, escapes);
  if (quoteAt(i)) return endOfString(text, i + escapes + 1, escapes);
  const open = text[i];
  if (open === '[' || open === '{') {
    let depth = 0;
    for (let j = i; j < text.length; ) {
      if (quoteAt(j)) {
        j = endOfString(text, j + escapes + 1, escapes);
        continue;
      }
      const c = text[j];
      if (c === '[' || c === '{') depth++;
      else if ((c === ']' || c === '}') && --depth === 0) return j + 1;
      j++;
    }
    return text.length;
  }
  // A number, true/false/null: up to the next delimiter.
  let j = i;
  while (j < text.length && !/[,}\]\s\\"]/.test(text[j])) j++;
  return j;
}

/** Does a string quoted with `escapes` backslashes start at j (exactly that many, then '"')? */
function stringStartAt(text: string, j: number, escapes: number): boolean {
  for (let k = 0; k < escapes; k++) if (text[j + k] !== '\\') return false;
  return text[j + escapes] === '"' && (j === 0 || escapes === 0 || text[j - 1] !== '\\');
}

/**
 * The end (after the closing quote) of a string whose content starts at i. At escape level k the
 * closing quote is preceded by b backslashes with b mod 2^(k+1) = 2^k - 1 (level 0: an even number,
 * level 1: 1, 5, 9 …); any other quote is part of the content. The text's end when it is cut.
 */
function endOfString(text: string, i: number, escapes: number): number {
  const period = 2 ** (escapes + 1);
  const closing = 2 ** escapes - 1;
  for (let j = text.indexOf('"', i); j !== -1; j = text.indexOf('"', j + 1)) {
    let b = 0;
    while (j - 1 - b >= i && text[j - 1 - b] === '\\') b++;
    if (b % period === closing) return j + 1;
  }
  return text.length;
}
