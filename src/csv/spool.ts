// The row stream reader's disk spool: a source's rows go to segment files in a directory of its
// own (made at its first row, removed with the source), written through a buffer so that a row
// costs one copy and no object of its own.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { write, finish } from '../io/write.js';

const WRITE_BUFFER = 256 << 10;

/** A directory of segment files, made when the first one is opened. */
export class SpoolDir {
  private dir?: string;

  constructor(private readonly parent = tmpdir()) {}

  /** Where the files are (undefined until the first one, and after remove()). */
  get path(): string | undefined {
    return this.dir;
  }

  async open(name: string): Promise<SegmentFile> {
    this.dir ??= await mkdtemp(join(this.parent, 'edx-csvload-'));
    return new SegmentFile(join(this.dir, name));
  }

  async remove(): Promise<void> {
    const dir = this.dir;
    this.dir = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/** One segment file being written: rows appended, then closed (or abandoned). */
export class SegmentFile {
  rows = 0;
  bytes = 0;
  private readonly stream: WriteStream;
  /** Rows not yet written: copied here, written when full. */
  private buffer = Buffer.allocUnsafe(WRITE_BUFFER);
  private used = 0;
  private error?: Error;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path);
    this.stream.on('error', (e) => (this.error ??= e));
  }

  /** Append the row buf[start, end) (its '\n' included); waits only when the buffer is full. */
  append(buf: Buffer, start: number, end: number): Promise<void> | void {
    const length = end - start;
    this.bytes += length;
    this.rows++;
    if (this.used + length <= this.buffer.length) {
      this.used += buf.copy(this.buffer, this.used, start, end);
      return;
    }
    return this.appendAfterFlush(buf.subarray(start, end));
  }

  private async appendAfterFlush(row: Buffer): Promise<void> {
    await this.flush();
    if (row.length > this.buffer.length) await write(this.stream, Buffer.from(row));
    else this.used += row.copy(this.buffer, this.used);
  }

  private flush(): Promise<void> | void {
    if (this.error) throw this.error;
    if (!this.used) return;
    const chunk = this.buffer.subarray(0, this.used);
    this.buffer = Buffer.allocUnsafe(WRITE_BUFFER); // the written one belongs to the file stream now
    this.used = 0;
    return write(this.stream, chunk);
  }

  /** Write what is buffered and close the file. */
  async close(): Promise<void> {
    await this.flush();
    await finish(this.stream);
    if (this.error) throw this.error;
  }

  /** Not wanted any more: end it without waiting (it goes with its directory). */
  abandon(): void {
    this.stream.end();
  }

  /** Stop at once (the reader is going away). */
  destroy(): void {
    this.stream.destroy();
  }
}
