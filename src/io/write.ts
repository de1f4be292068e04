// Writing to streams with backpressure: wait for 'drain' when the stream asks us to.
import type { Writable } from 'node:stream';

/** Write a chunk and wait for 'drain' when the stream asks us to. */
export function write(out: Writable, chunk: string | Buffer): Promise<void> | void {
  if (out.write(chunk)) return;
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
