// Scrubbing a forum post's body (operations.md §7, "Forum body scrubbing"), with the original's
// bugs fixed (§13 item 18): every e-mail address is replaced (the original only rebuilt a body
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

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

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

/** A matcher of the poster's names as whole words, case-insensitive; undefined when there are none. */
function namesPattern(poster: Poster): RegExp | undefined {
  const names = [...new Set([...poster.screenNames.filter((s) => s.trim() !== ''), ...nameParts(poster.fullName)])];
  if (names.length === 0) return undefined;
  names.sort((a, b) => b.length - a.length); // the longest first: `Anna` must not cut `Annabel`
  return new RegExp(`(?<![\\p{L}\\p{N}_])(?:${names.map(escapeRegExp).join('|')})(?![\\p{L}\\p{N}_])`, 'giu');
}

export function scrubBody(body: string, poster: Poster): string {
  let s = body.replace(EMAIL, EMAIL_MARK).replace(PHONE, PHONE_MARK).replace(ZIP, ZIP_MARK);
  const names = namesPattern(poster);
  if (names) s = s.replace(names, nameMark(poster.anon));
  return s.replace(/\n/g, ' ').replace(/"/g, "'");
}
