// Value helpers that decide what is stored, kept compatible with the reference
// (docs/decisions.md §2, §3): sanitize(), Python-2 str() of JSON values, and the hash H.
import { hash } from 'node:crypto';
import unidecode from 'unidecode';

/**
 * The reference's cleaner (docs/decisions.md §3), returning the value to *store*: non-string → '';
 * any code point > 128 → the whole string transliterated to ASCII; CR and LF → '; '; backslashes
 * deleted. (The reference then wrote quotes as \' for its SQL; our writers escape everything,
 * so the stored text is the same.)
 */
/** Anything sanitize() changes: text without these (nearly all) is returned after one test. */
const NEEDS_SANITIZING = /[\u0081-\uffff\n\r\\]/;

export function sanitize(v: unknown): string {
  if (typeof v !== 'string' || v === '') return '';
  if (!NEEDS_SANITIZING.test(v)) return v;
  let s = v;
  if (/[\u0081-\uffff]/.test(s)) s = unidecode(s);
  if (/[\n\r\\]/.test(s)) s = s.replace(/[\n\r]/g, '; ').replace(/\\/g, '');
  return s;
}

const hashCache = new Map<string, string>();

/** H(s): lowercase hex RIPEMD-160 of the UTF-8 bytes of s, no salt (docs/decisions.md §2). */
export function H(s: string): string {
  let h = hashCache.get(s);
  if (h === undefined) {
    h = hash('ripemd160', s, 'hex');
    if (hashCache.size > 20_000) hashCache.clear(); // usernames repeat; bound the memory
    hashCache.set(s, h);
  }
  return h;
}

/**
 * anon_screen_name of a username: H of the sanitized name where sanitize() leaves it unchanged (every
 * username of the reference era, so rows join with the reference's), else H of the name as it is
 * (docs/decisions.md §15): transliteration merged learners (`José`, `Jose` and `Jos\e` were one hash, an
 * emoji-only name got the empty name's). For text the two cases are the same hash, H(username). Not
 * text: H('') as the reference. The one place it is computed, so the transform, edx-screennames and
 * the refresh jobs always agree.
 */
export function anonScreenName(username: unknown): string {
  return H(typeof username === 'string' ? username : '');
}

/** Python 2 '%.12g' of a float, plus '.0' when it looks like an int (docs/decisions.md §3). */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const exp = Number(x.toExponential(11).split('e')[1]);
  let s: string;
  if (exp < -4 || exp >= 12) {
    const [mant, e] = x.toExponential(11).split('e');
    const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    const n = Number(e);
    s = `${m}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  } else {
    s = x.toFixed(Math.max(0, 11 - exp));
    if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  }
  return /[.en]/.test(s) ? s : `${s}.0`;
}

/**
 * Python 2 str() of a decoded JSON value, as the reference stored several columns: numbers
 * (JSON cannot tell us 2.0 from 2 once parsed, so integral numbers print as ints), None,
 * True/False. Lists and objects become JSON text instead of Python reprs (docs/decisions.md §10).
 */
export function pystr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) < 1e16 ? String(v) : pyFloat(v);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return JSON.stringify(v);
}

/** Text of a value for a text column with '' for absent (the reference's type default). */
export function text(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return pystr(v);
  return JSON.stringify(v);
}

/** A number for a DOUBLE column (scores, points: 0.5 stays 0.5), -1 when absent or not a number. */
export function num(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)\s*$/.test(v)) return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return -1;
}

/** Integer value for an INT column, -1 when absent or not a number (reference default). */
export function int(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return -1;
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The first 32-hex-digit run in a string (a modulestore hash), or undefined. */
export function firstHash(s: unknown): string | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /[a-f0-9]{32}/.exec(s);
  return m ? m[0] : undefined;
}

/**
 * Object entries in the order the log wrote them. JavaScript puts integer-like keys first, in
 * numeric order, whatever the JSON said; where that matters (rubric criteria named "0", "1", …)
 * the keys are put back in the order they appear in the raw text.
 */
export function entriesInLogOrder(obj: Record<string, unknown>, raw: string, field?: string): [string, unknown][] {
  const entries = Object.entries(obj);
  if (!entries.some(([k]) => /^(0|[1-9]\d*)$/.test(k))) return entries;
  const start = field ? Math.max(0, raw.indexOf(`"${field}"`)) : 0;
  const at = (k: string) => {
    // The key followed by its colon: the same text may also be a value ("0": "2").
    const re = new RegExp(`${JSON.stringify(k).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*:`, 'g');
    re.lastIndex = start;
    const m = re.exec(raw);
    return m ? m.index : Number.MAX_SAFE_INTEGER;
  };
  return entries.map((e) => [at(e[0]), e] as const).sort((a, b) => a[0] - b[0]).map(([, e]) => e);
}
