// Screen names of tracking logs and their anon_screen_name, exactly as the transform stores it
// in EdxTrackEvent (docs/original.md#anonymous-ids-and-the-forum-key, #screen-name-tools). The lines are read and decoded by the
// transform's own functions, so every line variant it accepts (logger prefixes, NUL padding,
// truncated or broken lines whose username is rescued) gives the same username here.
import { inputError, readLineBatches, readLines } from '../io/input.js';
import { decodeLine, type Record_ } from '../tracklog/decode.js';
import { decodeEventField } from '../transform/decode-event.js';
import { handlerFor } from '../transform/dispatch.js';
import { loginAjax, loginAjaxEmails } from '../transform/families/navigation.js';
import { H, anonScreenName } from '../core/values.js';
import { plural } from '../core/plural.js';


export interface CollectOptions {
  /** Keep only the lines (as read) it accepts: --match / --regex. */
  match?: (line: string) => boolean;
  /** List the e-mail of /login_ajax events with the hash stored for them (see loginAjaxEmail). */
  loginEmails?: boolean;
  /** A line nothing could be read from. */
  onUnreadable?: (file: string, line: number, reason: string) => void;
}

export interface CollectStats {
  lines: number;
  /** Lines left out by --match / --regex. */
  unmatched: number;
  /** Blank and '#' lines. */
  blank: number;
  /** Lines with nothing recoverable (the transform's rejects). */
  unreadable: number;
  /** Records read (rescued ones included): lines = unmatched + blank + unreadable + events. */
  events: number;
  /** Events whose username is a non-empty string (the ones listed). */
  withName: number;
  /** Events without a username, or with an empty or non-string one. */
  withoutName: number;
  /** /login_ajax events whose row holds the hash of the posted e-mail instead. */
  loginAjax: number;
}

/**
 * The text the transform hashes into anon_screen_name instead of the username, for a /login_ajax
 * event that posted an e-mail (families/navigation.ts, kept from the reference); undefined for
 * every other event. The event is recognised, and its e-mail read, by the transform's own
 * dispatch table and functions.
 */
export function loginAjaxEmail(record: Record_): string | undefined {
  const type = typeof record.event_type === 'string' ? record.event_type : typeof record.name === 'string' ? record.name : '';
  const name = typeof record.name === 'string' ? record.name : undefined;
  const handler = handlerFor(type) ?? (name !== undefined ? handlerFor(name) : undefined);
  if (handler !== loginAjax) return undefined;
  return loginAjaxEmails(decodeEventField(record.event).value);
}

/** Distinct screen names → anon_screen_name; memory grows with the names, not the lines. */
export class ScreenNameCollector {
  readonly names = new Map<string, string>();
  readonly stats: CollectStats = { lines: 0, unmatched: 0, blank: 0, unreadable: 0, events: 0, withName: 0, withoutName: 0, loginAjax: 0 };

  constructor(private readonly opts: CollectOptions = {}) {}

  /** One line as read (terminator removed). */
  line(file: string, lineNo: number, raw: string): void {
    const stats = this.stats;
    stats.lines++;
    if (this.opts.match && !this.opts.match(raw)) {
      stats.unmatched++;
      return;
    }
    const decoded = decodeLine(raw);
    if (decoded.kind === 'skip') {
      stats.blank++;
      return;
    }
    if (decoded.kind === 'reject') {
      stats.unreadable++;
      this.opts.onUnreadable?.(file, lineNo, decoded.reason);
      return;
    }
    stats.events++;
    const record = decoded.record;
    const email = loginAjaxEmail(record);
    if (email !== undefined) {
      // The row of this event is keyed by the e-mail's hash, so its username is not listed from it.
      stats.loginAjax++;
      if (this.opts.loginEmails && email !== '' && !this.names.has(email)) this.names.set(email, H(email));
      return;
    }
    const username = record.username;
    // Absent, empty or not text: the transform stores H('') here, which identifies nobody.
    if (typeof username !== 'string' || username === '') {
      stats.withoutName++;
      return;
    }
    stats.withName++;
    // Keyed by the text as printed: a lone surrogate is written as U+FFFD, so names that differ
    // only there are one line of the CSV (they hash alike: the hash reads a lone surrogate as U+FFFD).
    const printed = username.toWellFormed();
    if (!this.names.has(printed)) this.names.set(printed, anonScreenName(username));
  }

  /** All lines of a file or stdin ('-'), gzip or not; an InputError (io/input.ts) when it cannot be read to its end. */
  async addInput(path: string): Promise<void> {
    const batches = readLineBatches(path)[Symbol.asyncIterator]();
    let lineNo = 0;
    for (;;) {
      let next: IteratorResult<string[]>;
      try {
        next = await batches.next();
      } catch (e) {
        throw inputError(path, e);
      }
      if (next.done) return;
      for (const raw of next.value) this.line(path, ++lineNo, raw);
    }
  }

  /** The names with their hashes, in code-point order (as `LC_ALL=C sort`). */
  sorted(): [string, string][] {
    return [...this.names].sort((a, b) => compareCodePoints(a[0], b[0]));
  }
}

/**
 * Code-point (= UTF-8 byte) order. JavaScript's `<` compares UTF-16 code units, which puts
 * characters above U+FFFF (surrogate pairs) before U+E000-U+FFFF; shifting the ranges fixes that.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return shift(x) - shift(y);
  }
  return a.length - b.length;
}

const shift = (c: number) => (c >= 0xd800 && c <= 0xdfff ? c + 0x2000 : c >= 0xe000 ? c - 0x800 : c);

/** The names of an input for --hash -: one per line, terminator (LF or CRLF) not included. */
export async function* namesFrom(path: string): AsyncGenerator<string> {
  const lines = readLines(path)[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<{ text: string }>;
      try {
        next = await lines.next();
      } catch (e) {
        throw inputError(path, e);
      }
      if (next.done) return;
      yield next.value.text;
    }
  } finally {
    await lines.return(undefined); // the caller stopped early: close the input
  }
}

/** One summary line for stderr: lines = events + skipped. */
export function summaryLine(s: CollectStats, distinct: number, matching: boolean): string {
  const skipped = s.unmatched + s.blank + s.unreadable;
  const why = [`${s.blank} blank or comment`, `${s.unreadable} unreadable`];
  if (matching) why.unshift(`${s.unmatched} not matching`);
  const kinds = [`${s.withName} with a username`, `${s.withoutName} without`];
  if (s.loginAjax) kinds.push(`${s.loginAjax} /login_ajax keyed by e-mail`);
  return [
    `${plural(s.lines, 'line')} read`,
    `${plural(s.events, 'event')} (${kinds.join(', ')})`,
    `${plural(distinct, 'distinct name')}`,
    `${plural(skipped, 'line')} skipped (${why.join(', ')})`,
  ].join('; ');
}
