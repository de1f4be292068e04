// Text kept as UTF-8 bytes from the moment it is appended: a writer that gathers many small rows
// before a write encodes each one into a chunk at once, so its string dies young; gathered as
// one string (+=), the rows form a rope that Buffer.from must walk and flatten at every write,
// and that waited in the heap until then (measured: a sixth of an `edx-json2sql --rows` run).
import type { Writable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { write } from './write.js';

/** A chunk is this big (or one text's worst case, when bigger). */
const CHUNK_BYTES = 256 * 1024;

export class TextChunks {
  private full: Buffer[] = [];
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  /** Bytes of `chunk` handed out by take() already (they belong to the stream now). */
  private start = 0;
  private used = 0;
  /** Bytes appended since the last take(). */
  bytes = 0;
  /** While a checksum runs: where in `chunk` the bytes not yet summed start (else -1). */
  private sumFrom = -1;
  private sum = 0;

  /** Append text as UTF-8. */
  append(text: string): void {
    this.room(text.length * 3); // UTF-8 needs at most 3 bytes per UTF-16 unit
    const n = this.chunk.write(text, this.used, 'utf8');
    this.used += n;
    this.bytes += n;
  }

  /** Append a few ASCII bytes (separators), without a call into the encoder. */
  appendAscii(bytes: readonly number[]): void {
    this.room(bytes.length);
    for (const b of bytes) this.chunk[this.used++] = b;
    this.bytes += bytes.length;
  }

  /**
   * Start a CRC-32 of the bytes appended from now on. Summed a chunk at a time (4 GB/s here),
   * not per append: a native call per row would cost more than the sum.
   */
  startChecksum(): void {
    this.sumFrom = this.used;
    this.sum = 0;
  }

  /** The CRC-32 of the bytes appended since startChecksum(); the checksum stops. */
  endChecksum(): number {
    this.addToSum();
    this.sumFrom = -1;
    return this.sum;
  }

  private addToSum(): void {
    if (this.sumFrom < 0) return;
    if (this.used > this.sumFrom) this.sum = crc32(this.chunk.subarray(this.sumFrom, this.used), this.sum);
    this.sumFrom = this.used;
  }

  /** The bytes appended so far, in order; starts over empty (the rest of the chunk is used on). */
  take(): Buffer[] {
    const out = this.full;
    if (this.used > this.start) out.push(this.chunk.subarray(this.start, this.used));
    this.full = [];
    this.start = this.used;
    this.bytes = 0;
    return out;
  }

  /** Forget what was appended since the last take(). */
  discard(): void {
    this.full = [];
    this.used = this.start;
    this.bytes = 0;
    this.sumFrom = -1;
  }

  /** Write what was appended to a stream (starting over empty), waiting once for backpressure. */
  writeTo(out: Writable): Promise<void> | void {
    const chunks = this.take();
    if (chunks.length === 0) return;
    for (let i = 0; i < chunks.length - 1; i++) out.write(chunks[i]);
    return write(out, chunks[chunks.length - 1]);
  }

  /** Make sure the current chunk has `bytes` free. */
  private room(bytes: number): void {
    if (this.chunk.length - this.used >= bytes) return;
    this.addToSum();
    if (this.used > this.start) this.full.push(this.chunk.subarray(this.start, this.used));
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
    this.start = this.used = 0;
    if (this.sumFrom >= 0) this.sumFrom = 0;
  }
}
