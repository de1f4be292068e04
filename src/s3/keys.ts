// Which S3 keys are tracking logs, and where a key lives in the local tree. The local tree mirrors
// the bucket: the object `tracking/app10/tracking.log-20130609.gz` is `<local-root>/tracking/app10/
// tracking.log-20130609.gz` (docs/original.md#logs-and-the-mirror). A download in progress is written beside its final
// name under a hidden temporary name, so a half-written file is never taken for a finished one.
import { basename, dirname, join, resolve, sep } from 'node:path';
import { UsageError } from '../core/errors.js';

/**
 * The original's test (docs/original.md#logs-and-the-mirror), with its dots escaped: `tracking.log-`, 8 digits, any
 * run of `-` and digits, `.gz` at the end. A search, not anchored at the start of the key.
 */
export const DEFAULT_KEY_PATTERN = String.raw`tracking\.log-[0-9]{8}[-0-9]*\.gz$`;

/** Compile a key pattern given by the user (a JavaScript regular expression, searched in the key). */
export function keyPattern(source: string | undefined): RegExp {
  const text = source === undefined || source === '' ? DEFAULT_KEY_PATTERN : source;
  try {
    return new RegExp(text);
  } catch (e) {
    throw new UsageError(`--match: not a valid regular expression: ${(e as Error).message}`);
  }
}

/** Why a key cannot be mirrored into a local tree or printed one per line, or undefined if it can. */
export function unusableKey(key: string): string | undefined {
  if (key === '' || key.endsWith('/')) return 'is a folder marker, not a file';
  if (/[\n\r\t\0]/.test(key)) return 'contains a tab, newline or NUL';
  if (key.split('/').some((part) => part === '..' || part === '.')) return "has a '.' or '..' path segment";
  return undefined;
}

/** `<root>/<key>`, refusing keys that would land outside the root. */
export function localPathFor(root: string, key: string): string {
  const why = unusableKey(key);
  if (why) throw new Error(`key '${key}' ${why}`);
  const base = resolve(root);
  const path = join(base, key.replace(/^\/+/, ''));
  if (!path.startsWith(base + sep)) throw new Error(`key '${key}' would land outside ${base}`);
  return path;
}

/** The temporary name a download is written to before it is verified: `.<name>.partial-<pid>`. */
export const partialPathFor = (finalPath: string, pid = process.pid): string =>
  join(dirname(finalPath), `.${basename(finalPath)}.partial-${pid}`);

/** S3 orders keys by their UTF-8 bytes; so do we. */
export const compareKeys = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * The day a log covers, from the date in its file name (`tracking.log-20140301.gz`,
 * `tracking.log-20140301-1393718401.gz` → `2014-03-01`); undefined when the name holds no date.
 */
export function logDay(key: string): string | undefined {
  const m = /(?:^|[^0-9])((?:19|20)\d\d)-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])(?![0-9])/.exec(basename(key));
  return m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
}

/** `2014-01-01` or `20140101` → `2014-01-01`; anything else is a usage error. */
export function dayOption(name: string, text: unknown): string | undefined {
  if (text === undefined || text === '') return undefined;
  const m = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(String(text));
  const day = m ? `${m[1]}-${m[2]}-${m[3]}` : '';
  if (!m || Number.isNaN(Date.parse(`${day}T00:00:00Z`)) || new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) !== day) {
    throw new UsageError(`--${name}: not a date (YYYY-MM-DD): ${JSON.stringify(text)}`);
  }
  return day;
}

/** Whether a key's log day lies in [from, to] (either end open); a key without a date is outside any range. */
export function inDayRange(key: string, from?: string, to?: string): boolean {
  if (from === undefined && to === undefined) return true;
  const day = logDay(key);
  return day !== undefined && (from === undefined || day >= from) && (to === undefined || day <= to);
}
