// Writing to streams with backpressure: wait for 'drain' when the stream asks us to.
import type { Writable } from 'node:stream';

/**
 * Up to this many bytes may wait in a stream's buffer before a writer waits for 'drain'. Above
 * the streams' own 16 KiB mark, so that the work goes on while the last statement (up to 1 MiB)
 * is written out instead of stopping for every one; still a bound.
 */
const MAX_BUFFERED_BYTES = 4 << 20;

/** Write a chunk and wait for 'drain' when the stream holds more than it should. */
export function write(out: Writable, chunk: string | Buffer): Promise<void> | void {
  // A false return means the stream's mark is passed, and 'drain' will come once it empties.
  if (out.write(chunk) || out.writableLength < MAX_BUFFERED_BYTES) return;
  return new Promise((resolve, reject) => {
    const onDrain = () => { out.off('error', onError); resolve(); };
    const onError = (e: Error) => { out.off('drain', onDrain); reject(e); };
    out.once('drain', onDrain);
    out.once('error', onError);
  });
}

/** End a stream and wait until everything is flushed. */
export function finish(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out === process.stdout || out === process.stderr) {
      out.write('', () => resolve());
      return;
    }
    out.once('error', reject);
    out.end(() => resolve());
  });
}
