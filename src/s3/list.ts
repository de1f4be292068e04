// Listing the tracking logs of a bucket, and leaving out those already done: pulled into the local
// mirror with the right size, or recorded as loaded in LoadInfo (docs/original.md#logs-and-the-mirror, fixing
// docs/original.md#bug-1, #bug-2: the original trusted any local file, even a half-written one, and matched LoadInfo
// only for paths below a directory named `EdX/tracking`).
import { resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { compareKeys, localPathFor, unusableKey } from './keys.js';

export interface ObjectInfo {
  key: string;
  size: number;
  /** Without the quotes S3 puts around it. */
  etag: string;
  lastModified?: Date;
}

/** Every object under the prefix, following continuation tokens (1,000 keys per page). */
export async function* listAll(
  client: S3Client, bucket: string, prefix: string, warn: (msg: string) => void = () => undefined,
): AsyncGenerator<ObjectInfo> {
  let token: string | undefined;
  let last: string | undefined;
  let disordered = false;
  do {
    const page = await client.send(new ListObjectsV2Command({
      Bucket: bucket,
      Prefix: prefix || undefined,
      ContinuationToken: token,
    }));
    for (const o of page.Contents ?? []) {
      if (o.Key === undefined) continue;
      if (last !== undefined && compareKeys(o.Key, last) <= 0) disordered = true;
      last = o.Key;
      yield { key: o.Key, size: o.Size ?? 0, etag: unquote(o.ETag), lastModified: o.LastModified };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (page.IsTruncated && !token) throw new Error('the store said the listing was truncated but gave no continuation token');
    if (token && disordered) {
      // S3 pages in key order and continues after the last key; a store that pages in another
      // order (s3rver lists a folder before its sibling files) can skip keys between pages.
      warn('the store lists keys out of order across pages; it may have left some out');
      disordered = false;
    }
  } while (token);
}

export const unquote = (etag: string | undefined): string => (etag ?? '').replace(/^"(.*)"$/, '$1');

/**
 * The tracking logs: keys the pattern finds, sorted by key. Keys that cannot be mirrored locally or
 * printed one per line are reported through `skip` and left out.
 */
export async function listLogs(
  client: S3Client, bucket: string, prefix: string, pattern: RegExp,
  skip: (key: string, why: string) => void, warn: (msg: string) => void,
): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of listAll(client, bucket, prefix, warn)) {
    if (!pattern.test(o.key)) continue;
    const why = unusableKey(o.key);
    if (why) {
      skip(o.key, why);
      continue;
    }
    out.push(o);
  }
  return out.sort((a, b) => compareKeys(a.key, b.key));
}

/**
 * The local copy `<root>/<key>`: `same` (a regular file of the object's size: pulled), `differs`
 * (the object changed since, or the download was cut), or `missing`.
 */
export async function localCopy(root: string, o: ObjectInfo): Promise<'same' | 'differs' | 'missing'> {
  try {
    const s = await stat(localPathFor(root, o.key));
    return s.isFile() && s.size === o.size ? 'same' : 'differs';
  } catch {
    return 'missing';
  }
}

/**
 * Whether a listed log is done already (what --new leaves out): a local copy of the same size, or
 * with no local copy at all, a key LoadInfo records. A local copy of another size means the object
 * changed since it was pulled (a log replaced by a longer one) or the download was cut: it is
 * fetched again even when LoadInfo has the key.
 */
export async function alreadyDone(o: ObjectInfo, root: string | undefined, loadedKeys: ReadonlyMap<string, string> | undefined): Promise<boolean> {
  const local = root ? await localCopy(root, o) : 'missing';
  return local === 'same' || (local === 'missing' && loadedKeys?.has(o.key) === true);
}

/** One output line: the key, or (long) key, size, ETag, last-modified (ISO 8601 UTC). */
export const formatObject = (o: ObjectInfo, long: boolean): string =>
  long ? `${o.key}\t${o.size}\t${o.etag}\t${o.lastModified ? o.lastModified.toISOString() : ''}\n` : `${o.key}\n`;

/**
 * The "already loaded" test against LoadInfo.load_file values (`file://<path given to the
 * transform>`). A load_file under the local root is the log of exactly the key below it. Any
 * other (a copy transformed from another mirror of the bucket, the old setup's
 * `file:///home/dataman/Data/EdX/tracking/<key>`) is the log of the longest of the keys it ends
 * with, as `/<key>`: `…/app1/tracking.log-20140325.gz` is `app1/…`'s, not the log of a key
 * `tracking.log-20140325.gz` at the bucket's root, which would then never be loaded.
 */
export class LoadedFiles {
  constructor(private readonly loadFiles: readonly string[]) {}

  /** The keys among `keys` that some load_file records, each with (one of) its load_file(s). */
  among(keys: Iterable<string>, localRoot?: string): Map<string, string> {
    const listed = new Set<string>();
    for (const k of keys) listed.add(k.replace(/^\/+/, ''));
    const under = localRoot === undefined ? undefined : `file://${resolve(localRoot)}/`;
    const loaded = new Map<string, string>();
    for (const f of this.loadFiles) {
      if (under !== undefined && f.startsWith(under)) {
        const key = f.slice(under.length);
        if (listed.has(key)) loaded.set(key, f);
        continue;
      }
      // The leftmost '/' whose rest is a listed key gives the longest such key.
      for (let i = f.indexOf('/'); i >= 0; i = f.indexOf('/', i + 1)) {
        const key = f.slice(i + 1);
        if (listed.has(key)) {
          if (!loaded.has(key)) loaded.set(key, f);
          break;
        }
      }
    }
    const out = new Map<string, string>();
    for (const k of keys) {
      const f = loaded.get(k.replace(/^\/+/, ''));
      if (f !== undefined) out.set(k, f);
    }
    return out;
  }
}
