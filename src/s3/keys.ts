// Which S3 keys are tracking logs, and where a key lives in the local tree. The local tree mirrors
// the bucket: the object `tracking/app10/tracking.log-20130609.gz` is `<local-root>/tracking/app10/
// tracking.log-20130609.gz` (docs/original.md#logs-and-the-mirror). A download in progress is written beside its final
// name under a hidden temporary name, so a half-written file is never taken for a finished one.
import { basename, dirname, join, resolve, sep } from 'node:path';
import { UsageError } from '../cli/common.js';

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
