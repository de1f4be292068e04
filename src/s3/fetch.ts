// Downloading logs into the local mirror, safely (docs/original.md#logs-and-the-mirror, fixing docs/original.md#bug-2): each object
// is written under a temporary name beside its final one and renamed only after its size, and its
// MD5 when the ETag is one, have been checked; a local file of the right size is not fetched again.
// Transient trouble (resets, 5xx, throttling, a short or corrupt body) is retried with exponential
// back-off; an interrupted body is resumed with a Range request where that is safe.
import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { onStopSignal, removeOnSignal } from '../io/interrupt.js';
import { pidRunning } from '../io/owner.js';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describeS3Error } from './client.js';
import { localPathFor, partialPathFor } from './keys.js';
import { unquote } from './list.js';
import { plural } from '../core/plural.js';

export interface Remote { size: number; etag: string }

export interface RetryPolicy {
  /** How many times to try again after the first attempt. */
  retries: number;
  /** The first back-off; it doubles each time (with jitter), up to 30 s. */
  baseDelayMs: number;
}

/** A failure worth retrying, found by us rather than by the SDK (a short or corrupt body). */
class TransientError extends Error {}
/** A failure that retrying cannot fix. */
export class FetchFailure extends Error {}
/** The sink failed (disk full, reader of stdout gone): not the store's fault, passed on as it is. */
class SinkError extends Error {
  constructor(readonly original: unknown) { super('sink failed'); }
}

/** An ETag that is the MD5 of the content: 32 hex digits, no `-<parts>` of a multipart upload. */
export const plainMd5 = (etag: string): boolean => /^[0-9a-f]{32}$/i.test(etag);

export const backoffMs = (policy: RetryPolicy, attempt: number): number =>
  Math.min(policy.baseDelayMs * 2 ** attempt, 30000) * (0.5 + Math.random() / 2);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where the bytes of one object go. */
export interface Sink {
  write(chunk: Buffer, position: number): Promise<void>;
  /** Start again from byte 0; false when that is impossible (bytes already sent on). */
  restart(): Promise<boolean>;
}

export async function headObject(client: S3Client, bucket: string, key: string): Promise<Remote> {
  const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return { size: h.ContentLength ?? 0, etag: unquote(h.ETag) };
}

/**
 * Copy one object into a sink with retries: resumes after an interrupted body, restarts after a body
 * of the wrong size or checksum, gives up on missing keys and denied access at once.
 */
export async function download(
  client: S3Client, bucket: string, key: string, sink: Sink, policy: RetryPolicy,
  opts: { remote?: Remote; onBytes?: (n: number) => void } = {},
): Promise<Remote> {
  let remote = opts.remote;
  let got = 0;
  let hash: Hash = createHash('md5');
  const startOver = async (why: string) => {
    if (!(await sink.restart())) throw new FetchFailure(`${why}; the bytes already written to stdout are not the object`);
    got = 0;
    hash = createHash('md5');
    throw new TransientError(why);
  };
  for (let attempt = 0; ; attempt++) {
    try {
      remote ??= await headObject(client, bucket, key);
      if (got === remote.size && remote.size === 0) break;
      const res = await client.send(new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        Range: got > 0 ? `bytes=${got}-` : undefined,
        // Resume only the same object: S3 answers 412 if it changed meanwhile.
        IfMatch: got > 0 && remote.etag ? `"${remote.etag}"` : undefined,
      }));
      const etag = unquote(res.ETag);
      if (remote.etag && etag && etag !== remote.etag) {
        remote = undefined;
        await startOver(`the object changed during the download (ETag ${etag})`);
      }
      if (got > 0 && res.ContentRange === undefined) await startOver('the store ignored the Range request');
      const body = res.Body as AsyncIterable<Uint8Array> | undefined;
      if (body) {
        for await (const piece of body) {
          const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
          if (got + chunk.length > remote!.size) await startOver(`size mismatch: more than the ${plural(remote!.size, 'byte')} announced`);
          await sink.write(chunk, got).catch((e) => { throw new SinkError(e); });
          hash.update(chunk);
          got += chunk.length;
          opts.onBytes?.(chunk.length);
        }
      }
      if (got < remote!.size) throw new TransientError(`size mismatch: body ended after ${got} of ${plural(remote!.size, 'byte')}`);
      if (plainMd5(remote!.etag)) {
        const md5 = hash.digest('hex');
        if (md5 !== remote!.etag.toLowerCase()) await startOver(`checksum mismatch: MD5 ${md5}, ETag ${remote!.etag}`);
      }
      return remote!;
    } catch (e) {
      if (e instanceof FetchFailure) throw e;
      if (e instanceof SinkError) throw e.original;
      const failure = e instanceof TransientError
        ? { message: e.message, transient: true }
        : describeS3Error(e);
      if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412) {
        // changed since we started: begin again with a fresh HEAD
        remote = undefined;
        if (!(await sink.restart())) throw new FetchFailure('the object changed during the download');
        got = 0;
        hash = createHash('md5');
        failure.transient = true;
      }
      if (!failure.transient || attempt >= policy.retries) {
        const tries = attempt > 0 ? ` (after ${attempt + 1} attempts)` : '';
        throw new FetchFailure(`${failure.message}${tries}`);
      }
      await sleep(backoffMs(policy, attempt));
    }
  }
  return remote!;
}

/** At SIGINT, SIGTERM or SIGHUP the partial files being written are removed, and the run exits 128 + n. */
export function removePartialsOnSignal(): void {
  onStopSignal();
}

/** The mirror folders whose leftovers this run has removed (once per folder). */
const swept = new Map<string, Promise<void>>();
const PARTIAL = /^\..+\.partial-(\d+)$/;

/**
 * Remove what killed runs (SIGKILL, a crash) left in a mirror folder: partial files whose pid no
 * process has. One with a live pid stays: another run may be writing it.
 */
function sweepPartials(dir: string): Promise<void> {
  let done = swept.get(dir);
  if (!done) {
    done = (async () => {
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        const pid = Number(PARTIAL.exec(name)?.[1] ?? 0);
        if (pid > 0 && pid !== process.pid && !pidRunning(pid)) await unlink(join(dir, name)).catch(() => undefined);
      }
    })();
    swept.set(dir, done);
  }
  return done;
}

class FileSink implements Sink {
  constructor(private readonly fh: FileHandle, private readonly path: string) {}
  async write(chunk: Buffer, position: number) {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await this.fh.write(chunk, done, chunk.length - done, position + done);
      done += bytesWritten;
    }
  }
  async restart() {
    await truncate(this.path, 0).catch((e) => { throw new SinkError(e); });
    return true;
  }
}

export type Outcome =
  | { status: 'fetched'; path: string; bytes: number }
  | { status: 'present'; path: string; bytes: number }
  | { status: 'failed'; message: string };

/** Fetch one key to `<root>/<key>` unless a local copy of the same size is there already. */
export async function fetchToMirror(
  client: S3Client, bucket: string, root: string, key: string, policy: RetryPolicy, onBytes?: (n: number) => void,
): Promise<Outcome> {
  let path: string;
  try {
    path = localPathFor(root, key);
  } catch (e) {
    return { status: 'failed', message: (e as Error).message };
  }
  let remote: Remote | undefined;
  for (let attempt = 0; !remote; attempt++) {
    try {
      remote = await headObject(client, bucket, key);
    } catch (e) {
      const f = describeS3Error(e);
      if (!f.transient || attempt >= policy.retries) return { status: 'failed', message: f.message };
      await sleep(backoffMs(policy, attempt));
    }
  }
  await sweepPartials(dirname(path));
  const local = await stat(path).catch(() => undefined);
  if (local?.isFile() && local.size === remote.size) return { status: 'present', path, bytes: local.size };

  const partial = partialPathFor(path);
  let forget: (() => void) | undefined;
  try {
    await mkdir(dirname(path), { recursive: true });
    forget = removeOnSignal(partial);
    const fh = await open(partial, 'w');
    try {
      // The object may have been replaced meanwhile; then download() has fetched the new one.
      remote = await download(client, bucket, key, new FileSink(fh, partial), policy, { remote, onBytes });
      await fh.sync();
    } finally {
      await fh.close();
    }
    // A last look: the rename must never put a file of the wrong size under the final name.
    const written = await stat(partial);
    if (written.size !== remote.size) throw new FetchFailure(`size mismatch: wrote ${written.size} of ${plural(remote.size, 'byte')}`);
    await rename(partial, path);
    return { status: 'fetched', path, bytes: remote.size };
  } catch (e) {
    await unlink(partial).catch(() => undefined);
    return { status: 'failed', message: (e as Error).message };
  } finally {
    forget?.();
  }
}

/** What a run over many keys tells its caller as it goes. */
export interface FetchEvents {
  /** A key's download begins. */
  started?(key: string): void;
  /** A key is done (fetched, present or failed); awaited before that worker takes the next key. */
  finished(key: string, outcome: Outcome): Promise<void> | void;
  onBytes?(n: number): void;
}

/** Fetch keys into the mirror `<root>/<key>`, `jobs` at a time, taking keys as they arrive. */
export async function fetchAllToMirror(
  client: S3Client, bucket: string, root: string, keys: AsyncIterator<string>, policy: RetryPolicy, jobs: number, events: FetchEvents,
): Promise<void> {
  const worker = async () => {
    for (let next = await keys.next(); !next.done; next = await keys.next()) {
      events.started?.(next.value);
      const outcome = await fetchToMirror(client, bucket, root, next.value, policy, events.onBytes);
      await events.finished(next.value, outcome);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
}
