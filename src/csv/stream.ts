// The row stream: what `edx-json2sql --rows` writes and `edx-csvload` reads on stdin, so that
// `edx-json2sql log.gz --rows | edx-csvload` needs no files. It is line-framed text:
//
//   #edx-pipes-rows/3                                           once, first line
//   #source {"name":…,"loadFile":…,"loadInfoId":…,"announcesQuarters":true}   start of a source
//   #quarter {"quarter":"spring2014"}                           before the first row of each quarter
//   <Table>,<one CSV row in the dialect of encode.ts>            any number, tables interleaved
//   #end {"loadInfoId":…,"rows":{"<Table>":n,…},"quarters":[…],"crc32":n}  end of that source
//   #done {"sources":n}                                          once, last line: the writer finished
//
// A CSV row never contains a raw newline (encode.ts escapes it), so '\n' frames rows. The end line
// carries the writer's own counts: the reader checks them, so a stream cut short (transform killed)
// or garbled never loads; a source without its end line is not loaded at all. The `#done` line
// (version 2) tells a stream cut between two sources from a shorter one: the sources before the
// cut load, and the reader still fails, so the loader's exit status says that sources are missing.
// Counts catch lost or added lines, not a byte garbled inside a row that still reads as CSV (a lost
// opening quote makes `server",` a valid bare value): version 3's `crc32` is the CRC-32 of every
// byte between the `#source` line and the `#end` line, and a source whose bytes differ never loads.
//
// `#quarter` lines (and `announcesQuarters` in `#source`) were added so that the loader can load
// EdxTrackEvent rows while the source still streams: it must add a quarter's partition before its
// rows arrive, because ADD PARTITION commits and cannot happen inside the source's transaction.
// Streams without them (older writers) still read; their sources load only once they have ended.
//
// The reader runs ahead of the loader on its own: it hands each source over at its `#source` line
// and spools its rows into segment files per table (the bytes after `<Table>,` copied as they
// are) of about `segmentBytes` each. A segment is handed to the loader as soon as it is full, so
// the loader can load it while later rows still arrive. Every segment stays on disk until the
// source is done (the loader may have to load the source again from the start). Backpressure:
// when the segments handed over but not yet released by the loader exceed `pendingBytes`, the
// reader stops reading its input, so a slow database slows the writer; memory stays constant.
import { createWriteStream, type WriteStream } from 'node:fs';
import { crc32 } from 'node:zlib';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ALL_TABLES, TABLES } from '../schema/tables.js';
import type { TableDef } from '../schema/table.js';
import { isQuarter } from '../schema/quarters.js';
import type { Row, RowWriter, Source } from '../schema/rows.js';
import { write, finish } from '../io/write.js';
import { encodeRow, QuarterSet, ROW_END } from './encode.js';
import { TextChunks } from '../io/text-chunks.js';

export const STREAM_HEADER = '#edx-pipes-rows/3';
/** Streams of older writers: version 2 has no checksum, version 1 no `#done` line either. */
const OLDER_HEADERS = new Map([
  ['#edx-pipes-rows/2', { done: true, checksum: false }],
  ['#edx-pipes-rows/1', { done: false, checksum: false }],
]);
const FLUSH_AT = 1 << 16;
/** The bytes before a row's values: its table's name and ','. */
const prefixes = new Map<TableDef, number[]>();
const rowPrefix = (t: TableDef): number[] => {
  let p = prefixes.get(t);
  if (p === undefined) prefixes.set(t, (p = [...Buffer.from(`${t.name},`, 'latin1')]));
  return p;
};

interface SourceRecord extends Source {
  /** The writer puts a `#quarter` line before the first row of each quarter. */
  announcesQuarters?: boolean;
}

interface EndRecord {
  loadInfoId: string;
  rows: Record<string, number>;
  quarters: string[];
  /** CRC-32 of the bytes between the `#source` and `#end` lines (version 3). */
  crc32?: number;
}

export class RowStreamWriter implements RowWriter {
  private pending = new TextChunks();
  private headerWritten = false;
  /** Sources written to their `#end` line. */
  private sourcesEnded = 0;
  private counts: Record<string, number> = {};
  private quarters = new QuarterSet();

  constructor(private readonly out: NodeJS.WritableStream) {}

  private flush(): Promise<void> | void {
    return this.pending.writeTo(this.out as unknown as import('node:stream').Writable);
  }

  startSource(source: Source): Promise<void> | void {
    if (!this.headerWritten) {
      this.pending.append(STREAM_HEADER + '\n');
      this.headerWritten = true;
    }
    this.counts = {};
    this.quarters = new QuarterSet();
    const s: SourceRecord = { name: source.name, loadFile: source.loadFile, loadInfoId: source.loadInfoId, announcesQuarters: true };
    this.pending.append(`#source ${JSON.stringify(s)}\n`);
    this.pending.startChecksum();
  }

  write(row: Row): Promise<void> | void {
    const name = row.table.name;
    this.counts[name] = (this.counts[name] ?? 0) + 1;
    const newQuarter = this.quarters.add(row.table, row.values);
    if (newQuarter !== undefined) this.pending.append(`#quarter ${JSON.stringify({ quarter: newQuarter })}\n`);
    this.pending.appendAscii(rowPrefix(row.table));
    this.pending.append(encodeRow(row.table, row.values));
    this.pending.appendAscii(ROW_END);
    if (this.pending.bytes >= FLUSH_AT) return this.flush();
  }

  endSource(source: Source): Promise<void> | void {
    const end: EndRecord = { loadInfoId: source.loadInfoId, rows: this.counts, quarters: this.quarters.list(), crc32: this.pending.endChecksum() };
    this.pending.append(`#end ${JSON.stringify(end)}\n`);
    this.sourcesEnded++;
    return this.flush();
  }

  close(): Promise<void> | void {
    if (!this.headerWritten) this.pending.append(STREAM_HEADER + '\n'); // an empty run is still a valid stream
    this.headerWritten = true;
    this.pending.append(`#done ${JSON.stringify({ sources: this.sourcesEnded })}\n`);
    return this.flush();
  }
}

export class StreamFormatError extends Error {}

/** A spooled piece of one table's rows of a source: a file in the CSV dialect. */
export interface Segment {
  table: TableDef;
  path: string;
  rows: number;
  bytes: number;
}

/** What the loader learns about a source, in stream order. */
export type SourceEvent =
  | { kind: 'quarter'; quarter: string }
  | { kind: 'segment'; segment: Segment }
  | { kind: 'end'; rows: Record<string, number>; quarters: string[] };

/** An unbounded queue with one consumer; `close(error)` makes the consumer throw after the items. */
class Channel<T> {
  private items: T[] = [];
  private wake?: () => void;
  private closed = false;
  private failure?: Error;

  push(item: T): void {
    this.items.push(item);
    this.notify();
  }

  close(failure?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.failure = failure;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Items in order; iterating again (after a break) continues where the last iteration stopped. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      if (this.items.length) {
        yield this.items.shift()!;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

/**
 * A source of the row stream, handed over at its `#source` line. The loader iterates `events()`
 * (segments as they fill, quarters as they first appear, then the checked end), `release()`s each
 * segment once loaded, and calls `cleanup()` when done. If the stream breaks inside the source,
 * `events()` throws a StreamFormatError.
 */
export class StreamedSource {
  readonly origin = 'stdin';
  readonly events: Channel<SourceEvent> = new Channel();
  /** Set by the reader: whether rows still go to disk. */
  spooling: boolean;
  /** Set by the reader when it has read the source's end line. */
  ended = false;
  dir?: string;

  constructor(
    readonly source: Source,
    /** Each quarter comes as a `quarter` event before its first row (else they are known only at the end). */
    readonly announcesQuarters: boolean,
    spooling: boolean,
    private readonly reader: RowStreamReader,
  ) {
    this.spooling = spooling;
  }

  /** The loader is done with this segment for now (it stays on disk until cleanup). */
  release(segment: Segment): void {
    this.reader.release(segment.bytes);
  }

  /** Rows of this source are not needed (already loaded, or failed): stop writing them to disk. */
  stopSpooling(): void {
    this.reader.stopSpooling(this);
  }

  /** Remove the spooled segments. */
  async cleanup(): Promise<void> {
    const dir = this.dir;
    this.dir = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

interface OpenSegment {
  path: string;
  stream: WriteStream;
  rows: number;
  bytes: number;
  /** Rows not yet written: copied here (one copy, no object per row), written when full. */
  buffer: Buffer;
  used: number;
  error?: Error;
}

/** One table's rows of the current source. */
interface TableSpool {
  table: TableDef;
  rows: number;
  segments: number;
  open?: OpenSegment;
}

export interface RowStreamOptions {
  /** Write rows to disk (false: dry run, rows are only counted). Default true. */
  spool?: boolean;
  /** Directory for the spooled segments (default the system's). */
  tmp?: string;
  /** A table's segment is handed over when it holds this many bytes (default 4 MiB). */
  segmentBytes?: number;
  /** The reader pauses while this many bytes are handed over and not released (default 64 MiB). */
  pendingBytes?: number;
}

export const DEFAULT_SEGMENT_BYTES = 4 << 20;
const DEFAULT_PENDING_BYTES = 64 << 20;
const WRITE_BUFFER = 256 << 10;

// Table names differ in their first letter or length, so (first byte, length) finds the only
// candidate and one byte comparison confirms it: no string per row.
const TABLE_BY_SHAPE = new Map(Object.values(TABLES).map((t) => [t.name.charCodeAt(0) * 256 + t.name.length, { table: t, name: Buffer.from(t.name, 'latin1') }]));
if (TABLE_BY_SHAPE.size !== Object.keys(TABLES).length) throw new Error('stream.ts: two table names share a first letter and length');

function tableAt(buf: Buffer, start: number, end: number): TableDef | undefined {
  const c = TABLE_BY_SHAPE.get(buf[start] * 256 + (end - start));
  return c && buf.compare(c.name, 0, c.name.length, start, end) === 0 ? c.table : undefined;
}

class RowStreamReader {
  readonly sources: Channel<StreamedSource> = new Channel();
  private readonly spoolToDisk: boolean;
  private readonly segmentBytes: number;
  private readonly pendingLimit: number;
  private pending = 0;
  private roomWaiter?: () => void;
  private stopped = false;
  private readonly dirs = new Set<StreamedSource>();

  private lineNo = 0;
  private sawHeader = false;
  /** Version 2 and 3 streams end with `#done`. */
  private expectsDone = false;
  /** Version 3 streams give each source's CRC-32. */
  private expectsChecksum = false;
  /** The CRC-32 of the current source's bytes so far, and where the bytes not yet summed start in the current chunk. */
  private sum = 0;
  private sumFrom = 0;
  private done = false;
  /** Sources read to their `#end` line. */
  private sourcesEnded = 0;
  private current?: StreamedSource;
  private spools = new Map<TableDef, TableSpool>();

  constructor(private readonly input: Readable, private readonly opts: RowStreamOptions) {
    this.spoolToDisk = opts.spool ?? true;
    this.segmentBytes = Math.max(1, opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES);
    this.pendingLimit = opts.pendingBytes ?? DEFAULT_PENDING_BYTES;
  }

  release(bytes: number): void {
    this.pending -= bytes;
    if (this.pending <= this.pendingLimit) this.wakeWriter();
  }

  private wakeWriter(): void {
    const w = this.roomWaiter;
    this.roomWaiter = undefined;
    w?.();
  }

  private async room(): Promise<void> {
    while (this.pending > this.pendingLimit && !this.stopped) await new Promise<void>((r) => (this.roomWaiter = r));
  }

  /** The reader itself closes the source's open segments at their next row (it may be writing one now). */
  stopSpooling(src: StreamedSource): void {
    src.spooling = false;
  }

  /** The consumer went away: stop reading, wake a waiting reader. */
  stop(): void {
    this.stopped = true;
    this.wakeWriter();
    this.input.destroy();
  }

  async removeAll(): Promise<void> {
    for (const s of this.spools.values()) s.open?.stream.destroy();
    await Promise.all([...this.dirs].map((src) => src.cleanup()));
  }

  private fail(msg: string): never {
    throw new StreamFormatError(`row stream line ${this.lineNo}: ${msg}`);
  }

  private flushSegment(seg: OpenSegment): Promise<void> | void {
    if (seg.error) throw seg.error;
    if (!seg.used) return;
    const chunk = seg.buffer.subarray(0, seg.used);
    seg.buffer = Buffer.allocUnsafe(WRITE_BUFFER); // the written one belongs to the file stream now
    seg.used = 0;
    return write(seg.stream, chunk);
  }

  /** Close the table's open segment and hand it to the loader; wait while too much is pending. */
  private async seal(src: StreamedSource, spool: TableSpool): Promise<void> {
    const seg = spool.open;
    if (!seg) return;
    spool.open = undefined;
    if (!src.spooling) {
      seg.stream.end(); // not wanted any more; cleanup removes it
      return;
    }
    await this.flushSegment(seg);
    await finish(seg.stream);
    if (seg.error) throw seg.error;
    this.pending += seg.bytes;
    src.events.push({ kind: 'segment', segment: { table: spool.table, path: seg.path, rows: seg.rows, bytes: seg.bytes } });
    await this.room();
  }

  private async openSegment(src: StreamedSource, spool: TableSpool): Promise<OpenSegment> {
    if (!src.dir) {
      src.dir = await mkdtemp(join(this.opts.tmp ?? tmpdir(), 'edx-csvload-'));
      this.dirs.add(src);
    }
    const path = join(src.dir, `${spool.table.name}.${++spool.segments}.csv`);
    const seg: OpenSegment = { path, stream: createWriteStream(path), rows: 0, bytes: 0, buffer: Buffer.allocUnsafe(WRITE_BUFFER), used: 0 };
    seg.stream.on('error', (e) => (seg.error ??= e));
    return seg;
  }

  private control(line: string): Promise<void> | void {
    const older = OLDER_HEADERS.get(line);
    if (line === STREAM_HEADER || older) {
      this.sawHeader = true;
      this.expectsDone = older?.done ?? true;
      this.expectsChecksum = older?.checksum ?? true;
      return;
    }
    if (this.done) this.fail('a line after #done');
    if (!this.sawHeader) this.fail(`not a row stream (expected ${STREAM_HEADER} first)`);
    const sp = line.indexOf(' ');
    const tag = sp < 0 ? line : line.slice(0, sp);
    let body: unknown;
    try {
      body = JSON.parse(line.slice(sp + 1));
    } catch {
      this.fail(`unreadable ${tag} line`);
    }
    if (tag === '#source') return this.startSource(body as SourceRecord);
    if (tag === '#quarter') {
      const q = (body as { quarter?: unknown } | null)?.quarter;
      if (!this.current) this.fail('#quarter outside a source');
      if (!isQuarter(q)) this.fail('#quarter: not a quarter');
      this.current!.events.push({ kind: 'quarter', quarter: q as string });
      return;
    }
    if (tag === '#end') return this.endSource(body as EndRecord);
    if (tag === '#done') {
      if (this.current) this.fail(`#done inside source ${this.current.source.name}`);
      const n = (body as { sources?: unknown } | null)?.sources;
      if (n !== this.sourcesEnded) this.fail(`#done says ${String(n)} sources, the stream held ${this.sourcesEnded}`);
      this.done = true;
      return;
    }
    this.fail(`unknown control line ${tag}`);
  }

  private startSource(s: SourceRecord): void {
    if (this.current) this.fail(`source ${this.current.source.name} has no #end line before the next source`);
    if (!s || typeof s.loadFile !== 'string' || !/^[0-9a-f]{40}$/.test(s.loadInfoId ?? '')) this.fail('#source without a valid loadInfoId');
    const source: Source = { name: String(s.name), loadFile: s.loadFile, loadInfoId: s.loadInfoId };
    this.current = new StreamedSource(source, s.announcesQuarters === true, this.spoolToDisk, this);
    this.spools = new Map();
    this.sources.push(this.current);
  }

  private async endSource(end: EndRecord): Promise<void> {
    const src = this.current;
    if (!src) this.fail('#end without #source');
    if (end?.loadInfoId !== src!.source.loadInfoId) this.fail(`#end of another source than ${src!.source.name}`);
    if (!Array.isArray(end.quarters) || !end.quarters.every(isQuarter)) this.fail('#end: bad quarter list');
    for (const t of ALL_TABLES) {
      const got = this.spools.get(t)?.rows ?? 0;
      const want = end.rows?.[t.name] ?? 0;
      if (got !== want) this.fail(`source ${src!.source.name}: ${got} ${t.name} rows in the stream, the writer counted ${want}`);
    }
    if (this.expectsChecksum && end.crc32 !== this.sum) {
      this.fail(`source ${src!.source.name}: its bytes differ from what the writer wrote (CRC-32 ${this.sum}, the writer's ${String(end.crc32)}): the stream was garbled`);
    }
    src!.ended = true;
    // EdxTrackEvent last: the other tables' remainders are small and load quickly.
    for (const t of [...ALL_TABLES.filter((x) => x !== TABLES.EdxTrackEvent), TABLES.EdxTrackEvent]) {
      const spool = this.spools.get(t);
      if (spool) await this.seal(src!, spool);
    }
    const rows: Record<string, number> = {};
    for (const [t, s] of this.spools) rows[t.name] = s.rows;
    this.current = undefined;
    this.spools = new Map();
    this.sourcesEnded++;
    src!.events.push({ kind: 'end', rows, quarters: end.quarters });
    src!.events.close();
  }

  /** Reads the whole input; throws StreamFormatError (or an I/O error) where it breaks. */
  async pump(): Promise<void> {
    let carry: Buffer | undefined;
    try {
      for await (const chunk of this.input as AsyncIterable<Buffer>) {
        if (this.stopped) return;
        const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
        let start = 0;
        for (;;) {
          const nl = buf.indexOf(10, start);
          if (nl < 0) break;
          this.lineNo++;
          if (buf[start] === 0x23 /* # */) {
            const line = buf.toString('utf8', start, nl);
            // The checksum covers the lines between #source and #end (#quarter lines too).
            if (this.current && line.startsWith('#end ')) this.sum = crc32(buf.subarray(this.sumFrom, start), this.sum);
            start = nl + 1;
            await this.control(line);
            if (line.startsWith('#source ')) {
              this.sum = 0;
              this.sumFrom = start;
            }
            continue;
          }
          // A data line: <Table>,<csv row>
          const src = this.current;
          if (!src) this.fail(this.sawHeader ? 'row outside a source' : `not a row stream (expected ${STREAM_HEADER} first)`);
          const comma = buf.indexOf(44, start);
          if (comma < 0 || comma > nl) this.fail('row without a table name');
          const table = tableAt(buf, start, comma);
          if (!table) this.fail(`unknown table ${JSON.stringify(buf.toString('utf8', start, Math.min(comma, start + 40)))}`);
          let spool = this.spools.get(table);
          if (!spool) {
            spool = { table, rows: 0, segments: 0 };
            this.spools.set(table, spool);
          }
          spool.rows++;
          if (!src!.spooling) {
            if (spool.open) await this.seal(src!, spool);
          } else {
            const seg = (spool.open ??= await this.openSegment(src!, spool));
            const length = nl + 1 - (comma + 1);
            if (seg.used + length > seg.buffer.length) await this.flushSegment(seg);
            if (length > seg.buffer.length) await write(seg.stream, Buffer.from(buf.subarray(comma + 1, nl + 1)));
            else seg.used += buf.copy(seg.buffer, seg.used, comma + 1, nl + 1);
            seg.bytes += length;
            seg.rows++;
            if (seg.bytes >= this.segmentBytes) await this.seal(src!, spool);
          }
          start = nl + 1;
        }
        // Whole lines are summed; the carried part of a line is summed with the next chunk.
        if (this.current) this.sum = crc32(buf.subarray(this.sumFrom, start), this.sum);
        this.sumFrom = 0;
        carry = start < buf.length ? buf.subarray(start) : undefined;
      }
      if (this.stopped) return;
      if (carry?.length) {
        this.lineNo++;
        this.fail('the stream ends in the middle of a line');
      }
      if (this.current) this.fail(`the stream ended inside source ${this.current.source.name} (no #end line: the writer did not finish)`);
      if (!this.sawHeader) throw new StreamFormatError(`row stream: empty input (expected ${STREAM_HEADER})`);
      if (this.expectsDone && !this.done) {
        this.fail(`the stream ended after ${this.sourcesEnded} whole source(s) without its #done line: the writer did not finish, sources may be missing`);
      }
      this.sources.close();
    } catch (e) {
      this.current?.events.close(e as Error);
      this.sources.close(e as Error);
    }
  }
}

/**
 * Read a row stream. Yields each source at its `#source` line; its rows, quarters and end come
 * through `events()` while the reader goes on reading. The next source is yielded when the
 * consumer asks for it (normally after the previous one is done). Throws a StreamFormatError
 * after the last good source when the stream is cut short or garbled.
 */
export async function* readRowStream(input: Readable, opts: RowStreamOptions = {}): AsyncGenerator<StreamedSource> {
  const reader = new RowStreamReader(input, opts);
  const pumping = reader.pump();
  try {
    yield* reader.sources;
  } finally {
    reader.stop();
    await pumping;
    await reader.removeAll();
  }
}
