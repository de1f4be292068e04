// Writing to streams with backpressure: wait for 'drain' when the stream asks us to.
import type { Writable } from 'node:stream';
import { OutputError } from '../core/errors.js';

/**
 * Up to this many bytes may wait in a stream's buffer before a writer waits for 'drain'. Above
 * the streams' own 16 KiB mark, so that the work goes on while the last statement (up to 1 MiB)
 * is written out instead of stopping for every one; still a bound.
 */
const MAX_BUFFERED_BYTES = 4 << 20;

/** Streams whose errors this module watches: they surface as an OutputError on the next write. */
const watched = new WeakSet<Writable>();

/** What to call a stream in a message. */
function nameOf(out: Writable): string {
  if (out === process.stdout) return 'stdout';
  const path = (out as Writable & { path?: unknown }).path;
  return typeof path === 'string' ? path : 'an output';
}

/**
 * Write a chunk and wait for 'drain' when the stream holds more than it should. A stream that
 * failed (ENOSPC, EPIPE, EIO) makes this throw an OutputError, never an unhandled 'error' event.
 */
export function write(out: Writable, chunk: string | Buffer): Promise<void> | void {
  if (!watched.has(out)) {
    watched.add(out);
    out.on('error', () => undefined); // seen through out.errored below
  }
  if (out.errored) throw new OutputError(nameOf(out), out.errored);
  // A false return means the stream's mark is passed, and 'drain' will come once it empties.
  if (out.write(chunk) || out.writableLength < MAX_BUFFERED_BYTES) return;
  return new Promise((resolve, reject) => {
    const onDrain = () => { out.off('error', onError); resolve(); };
    const onError = (e: Error) => { out.off('drain', onDrain); reject(new OutputError(nameOf(out), e)); };
    out.once('drain', onDrain);
    out.once('error', onError);
  });
}

/** End a stream and wait until everything is flushed. */
export function finish(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (e: Error) => reject(new OutputError(nameOf(out), e));
    if (out.errored) return fail(out.errored);
    if (out === process.stdout || out === process.stderr) {
      out.write('', (e) => (e ? fail(e) : resolve()));
      return;
    }
    out.once('error', fail);
    out.end((e?: Error | null) => (e ? fail(e) : resolve()));
  });
}
