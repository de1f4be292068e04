// Event times (docs/original.md#times, docs/decisions.md §10): ISO-8601 with or without fraction, `Z` or an
// offset, a space or `T`; mongoexport's {"$date": ms | iso}. Stored as UTC DATETIME(6) text.

export interface EventTime {
  /** `YYYY-MM-DD HH:MM:SS.ffffff`, UTC */
  utc: string;
  /** microseconds since the epoch */
  micros: number;
  year: number;
  /** 1-12 */
  month: number;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Days of a month (1-12) of a year of the Gregorian calendar. */
const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * The time at `micros`, or undefined outside the years 1000-9999 (what DATETIME holds, and what a
 * quarter partition can be named after): a number or {"$date": n} there is no event time.
 */
function fromMicros(micros: number): EventTime | undefined {
  const ms = Math.floor(micros / 1000);
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (!(year >= 1000 && year <= 9999)) return undefined; // NaN (out of Date's range) included
  const frac = micros - Math.floor(micros / 1e6) * 1e6;
  return {
    utc: `${year}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(frac, 6)}`,
    micros,
    year,
    month: d.getUTCMonth() + 1,
  };
}

/** What the LMS writes, `2014-03-01T00:00:00.054105+00:00`: read by position, without a regex's captures. */
const LMS_FORM = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;

/** The decimal number written by the ASCII digits from..to-1 of s. */
function digitsAt(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + s.charCodeAt(i) - 48;
  return n;
}

/** An event time in the LMS's own form, already UTC; undefined for anything else. */
function parseLmsTime(v: string): EventTime | undefined {
  if (!LMS_FORM.test(v)) return undefined;
  const year = digitsAt(v, 0, 4), month = digitsAt(v, 5, 7), day = digitsAt(v, 8, 10);
  const hour = digitsAt(v, 11, 13), minute = digitsAt(v, 14, 16), second = digitsAt(v, 17, 19);
  // Out-of-range fields and leap seconds are left to the general parser.
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (day > 28 && day > daysIn(year, month)) return undefined; // 2023-11-31 is no date (the general parser says so)
  const base = Date.UTC(year, month - 1, day, hour, minute, second);
  return { utc: `${v.slice(0, 10)} ${v.slice(11, 26)}`, micros: base * 1000 + digitsAt(v, 20, 26), year, month };
}

export function parseEventTime(v: unknown): EventTime | undefined {
  if (typeof v === 'string') {
    const lms = parseLmsTime(v);
    if (lms) return lms;
  }
  if (typeof v === 'number') return fromNumber(v);
  if (typeof v === 'object' && v !== null && '$date' in v) v = (v as { $date: unknown }).$date;
  // mongoexport's canonical form: {"$date": {"$numberLong": "1710235800123"}}
  if (typeof v === 'object' && v !== null && '$numberLong' in v) v = Number((v as { $numberLong: unknown }).$numberLong);
  // mongoexport's $date is milliseconds, always.
  if (typeof v === 'number' && Number.isFinite(v)) return fromMicros(Math.round(v * 1000));
  if (typeof v !== 'string') return undefined;
  const m = ISO.exec(v.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fracText = '', zone] = m;
  const frac = (fracText + '000000').slice(0, 6);
  const year = Number(y), month = Number(mo);
  // A day the month does not have (2023-02-29) is no date: Date.UTC would roll it over, and the
  // text as written is no DATETIME either.
  if (month < 1 || month > 12 || Number(d) < 1 || Number(d) > daysIn(year, month) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return undefined;
  const base = Date.UTC(year, month - 1, Number(d), Number(h), Number(mi), Number(s));
  if (!Number.isFinite(base) || year < 1000) return undefined;
  let offsetMin = 0;
  if (zone && zone !== 'Z') {
    const digits = zone.replace(':', '');
    const hours = Number(digits.slice(1, 3)), minutes = Number(digits.slice(3, 5) || 0);
    // No zone is further than ±14:00 from UTC: `+25:00` is a broken time, not a place.
    if (minutes > 59 || hours * 60 + minutes > MAX_OFFSET_MINUTES) return undefined;
    offsetMin = (digits[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  if (offsetMin === 0 && Number(s) < 60) {
    // The common case: already UTC, reuse the text.
    return { utc: `${y}-${mo}-${d} ${h}:${mi}:${s}.${frac}`, micros: base * 1000 + Number(frac), year, month };
  }
  return fromMicros((base - offsetMin * 60_000) * 1000 + Number(frac));
}

/** The furthest UTC offset of any time zone (UTC+14:00, Line Islands; UTC-12:00 the other way). */
const MAX_OFFSET_MINUTES = 14 * 60;

/**
 * A numeric `time`, its unit told by its magnitude (issue 14 item 10): seconds below 1e11 (before
 * the year 5138), milliseconds below 2.6e14 (to the year 9999 that DATETIME ends with),
 * microseconds below 2.6e17; anything else is no time. `1393840800` is 2014-03-03 in seconds, not
 * 1970-01-17 in milliseconds.
 */
function fromNumber(v: number): EventTime | undefined {
  if (!Number.isFinite(v)) return undefined;
  const magnitude = Math.abs(v);
  if (magnitude < 1e11) return fromMicros(Math.round(v * 1e6));
  if (magnitude < 2.6e14) return fromMicros(Math.round(v * 1000));
  if (magnitude < 2.6e17) return fromMicros(Math.round(v));
  return undefined;
}

/** A gap in microseconds as TIME text `[-]H:MM:SS[.ffffff]`, within TIME's ±838:59:59. */
export function formatGap(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  let abs = Math.min(Math.abs(micros), (838 * 3600 + 59 * 60 + 59) * 1e6);
  const frac = abs % 1e6;
  abs = (abs - frac) / 1e6;
  const h = Math.floor(abs / 3600), m = Math.floor((abs % 3600) / 60), s = abs % 60;
  return `${sign}${h}:${pad(m)}:${pad(s)}${frac ? `.${pad(frac, 6)}` : ''}`;
}
