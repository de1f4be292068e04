// Scrubbing a forum post's body (docs/original.md#job-forum), with the original's
// bugs fixed (docs/original.md#bug-17): every e-mail address is replaced (the original only rebuilt a body
// that was one address), a zip code is replaced as a whole number (the original replaced single
// digit characters), and the poster's names are matched as text, never as a regular expression
// (a screen name such as `a.b+c` was used as one).
//
// Order: e-mail addresses, phone numbers, zip codes, then the poster's names; last, line breaks
// become spaces and double quotes single ones, as the original stored bodies.

export const EMAIL_MARK = '<emailRedac>';
export const PHONE_MARK = '<phoneRedac>';
export const ZIP_MARK = '<zipRedac>';
export const nameMark = (anon: string) => `<nameRedac_${anon}>`;

const EMAIL = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}/gu;

// North American numbers (650-723-2300, (650) 723 2300, 650.723.2300, +1 650 723 2300,
// 6507232300) and international ones written with a + (+44 20 7946 0958, +33 1 23 45 67 89).
const PHONE = new RegExp(
  [
    String.raw`(?<![\p{L}\p{N}])(?:\+?1[\s.-]?)?(?:\(\d{3}\)[\s.-]?|\d{3}[\s.-]?)\d{3}[\s.-]?\d{4}(?![\p{L}\p{N}])`,
    String.raw`(?<![\p{L}\p{N}])\+\d{1,3}(?:[\s.-]?\d{1,4}){3,5}(?![\p{L}\p{N}])`,
  ].join('|'),
  'gu',
);

// A US zip code: five digits, optionally -four, standing alone: not part of a longer number, a
// decimal (3.14159) or a word (a1b2c34567).
const ZIP = /(?<![\p{L}\p{N}_.,-])\d{5}(?:-\d{4})?(?![\p{L}\p{N}_]|[.,]\d)/gu;

/** Who wrote a post, as far as the scrub needs: names to take out, and the mark's anon id. */
export interface Poster {
  /** Screen names (the platform's username; the post's author_username). */
  screenNames: readonly string[];
  /** The full name the user gave (UserGrade.name), if known. */
  fullName: string | null;
  /** anon_screen_name put into the mark `<nameRedac_…>`. */
  anon: string;
}

/**
 * The parts of a full name worth taking out: runs of letters, digits and apostrophes of three
 * characters or more (`Mary-Jane O'Brien` → Mary, Jane, O'Brien).
 */
export function nameParts(fullName: string | null): string[] {
  if (!fullName) return [];
  return (fullName.match(/[\p{L}\p{N}'’]+/gu) ?? []).filter((p) => [...p].length >= 3);
}

/** A character that continues a word: a letter, a digit or '_'. */
const WORD_CHAR = /[\p{L}\p{N}_]/u;

/**
 * Lower case that keeps every UTF-16 index where it was (a character whose lower case is longer,
 * such as 'İ', stays as it is), so that positions found in it are positions in the text.
 */
function lowerInPlace(s: string): string {
  const lower = s.toLowerCase();
  if (lower.length === s.length) return lower;
  let out = '';
  for (const ch of s) {
    const l = ch.toLowerCase();
    out += l.length === ch.length ? l : ch;
  }
  return out;
}

const isWordAt = (s: string, i: number) => i >= 0 && i < s.length && WORD_CHAR.test(String.fromCodePoint(s.codePointAt(i) ?? 0));
const isWordBefore = (s: string, i: number) => i > 0 && (isWordAt(s, i - 1) || (i > 1 && /[\udc00-\udfff]/.test(s[i - 1]) && isWordAt(s, i - 2)));

/**
 * Every occurrence of the names as whole words, any case, replaced by `mark`; the longest name
 * first where two overlap. Names are text, never patterns. (Found with indexOf rather than a
 * regular expression made per poster: compiling one with Unicode classes cost a millisecond a
 * post, more than everything else the job does.)
 */
export function replaceNames(s: string, names: readonly string[], mark: string): string {
  const wanted = [...new Set(names.filter((n) => n.trim() !== '').map(lowerInPlace))].sort((a, b) => b.length - a.length);
  if (wanted.length === 0) return s;
  const text = lowerInPlace(s);
  const taken: [number, number][] = [];
  for (const name of wanted) {
    for (let i = text.indexOf(name); i >= 0; i = text.indexOf(name, i + 1)) {
      const end = i + name.length;
      if (isWordBefore(text, i) || isWordAt(text, end)) continue;
      if (taken.some(([a, b]) => i < b && end > a)) continue;
      taken.push([i, end]);
    }
  }
  if (taken.length === 0) return s;
  taken.sort((x, y) => x[0] - y[0]);
  let out = '';
  let at = 0;
  for (const [a, b] of taken) {
    out += s.slice(at, a) + mark;
    at = b;
  }
  return out + s.slice(at);
}

export function scrubBody(body: string, poster: Poster): string {
  let s = body.replace(EMAIL, EMAIL_MARK).replace(PHONE, PHONE_MARK).replace(ZIP, ZIP_MARK);
  s = replaceNames(s, [...poster.screenNames, ...nameParts(poster.fullName)], nameMark(poster.anon));
  return s.replace(/\n/g, ' ').replace(/"/g, "'");
}
