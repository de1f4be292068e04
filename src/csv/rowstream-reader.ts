// The reader of the row stream (its format: rowstream-format.ts), what `edx-csvload` reads on
// stdin. It runs ahead of the loader: each source is handed over at its `#source` line, its rows
// spooled into segment files per table (spool.ts) and handed over as they fill, while the reader
// goes on reading; it pauses when the loader falls too far behind.
//
// Several streams one after another are read as one: `xargs edx-json2sql --rows | edx-csvload`
// runs the writer as often as xargs splits the list, and each run writes a whole stream (header
// to `#done`). A stream cut short before the next one starts (its writer killed) fails only what
// it left unfinished: the source without its `#end` line fails, the sources of the other streams
// load, and the problems are told at the end (the reader still fails, so the exit status says so).
import { crc32 } from 'node:zlib';
import type { Readable } from 'node:stream';
import { ALL_TABLES, TABLES } from '../schema/tables.js';
import type { TableDef } from '../schema/table.js';
import type { Source } from '../schema/rows.js';
import { Channel } from '../io/channel.js';
import { isQuarter } from '../schema/quarters.js';
import { SegmentFile, SpoolDir } from './spool.js';
import {
  OLDER_HEADERS,
  STREAM_HEADER,
  StreamFormatError,
  StreamProblems,
  tableAt,
  type EndRecord,
  type Segment,
  type SourceEvent,
  type SourceRecord,
} from './rowstream-format.js';
import { noun, plural } from '../core/plural.js';

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
  /** Where its segments are spooled. */
  readonly spool: SpoolDir;

  constructor(
    readonly source: Source,
    /** Each quarter comes as a `quarter` event before its first row (else they are known only at the end). */
    readonly announcesQuarters: boolean,
    spooling: boolean,
    private readonly reader: RowStreamReader,
    tmp?: string,
  ) {
    this.spooling = spooling;
    this.spool = new SpoolDir(tmp);
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
  cleanup(): Promise<void> {
    return this.spool.remove();
  }
}

/** One table's rows of the current source. */
interface TableSpool {
  table: TableDef;
  rows: number;
  segments: number;
  open?: SegmentFile;
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
  /**
   * Abort: stop reading now (the input may never end), and make the consumer, waiting for the
   * next source or the current source's next event, throw the abort's reason.
   */
  signal?: AbortSignal;
}

export const DEFAULT_SEGMENT_BYTES = 4 << 20;
/** The first lines of every version of the stream: all of one length. */
const HEADERS = new Set([STREAM_HEADER, ...OLDER_HEADERS.keys()]);
const HEADER_LENGTH = STREAM_HEADER.length;
if ([...HEADERS].some((h) => h.length !== HEADER_LENGTH)) throw new Error('rowstream-reader.ts: stream headers differ in length');
const DEFAULT_PENDING_BYTES = 64 << 20;

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
  /** What went wrong in streams that were followed by another: told when the input ends. */
  private readonly problems: string[] = [];
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

  /** Stop reading, and end what the consumer waits for with `reason`. */
  abort(reason: Error): void {
    this.stop();
    this.current?.events.close(reason);
    this.sources.close(reason);
  }

  async removeAll(): Promise<void> {
    for (const s of this.spools.values()) s.open?.destroy();
    await Promise.all([...this.dirs].map((src) => src.cleanup()));
  }

  private fail(msg: string): never {
    throw new StreamFormatError(this.at(msg));
  }

  private at(msg: string): string {
    return `row stream line ${this.lineNo}: ${msg}`;
  }

  /** A broken stream that does not stop the reading: the sources after it still load. */
  private problem(msg: string): void {
    this.problems.push(this.at(msg));
  }

  /**
   * The current source ends here without its `#end` line (its writer stopped; another stream or
   * source follows): it fails, its spooled rows are dropped, and the reading goes on.
   */
  private cutSource(msg: string): void {
    const src = this.current!;
    this.problem(msg);
    for (const spool of this.spools.values()) spool.open?.abandon();
    src.events.close(new StreamFormatError(this.at(msg)));
    this.current = undefined;
    this.spools = new Map();
  }

  /** A stream header after a stream: what the one before left unfinished is a problem, not an end. */
  private nextStream(): void {
    if (!this.sawHeader) return;
    if (this.current) {
      this.cutSource(`the stream ended inside source ${this.current.source.name} (no #end line: its writer did not finish) and another stream began`);
    } else if (this.expectsDone && !this.done) {
      this.problem(`a stream ended after ${plural(this.sourcesEnded, 'whole source')} without its #done line and another began: its writer did not finish, sources may be missing`);
    }
    this.done = false;
    this.sourcesEnded = 0;
  }

  /** Close the table's open segment and hand it to the loader; wait while too much is pending. */
  private async seal(src: StreamedSource, spool: TableSpool): Promise<void> {
    const seg = spool.open;
    if (!seg) return;
    spool.open = undefined;
    if (!src.spooling) {
      seg.abandon(); // not wanted any more; cleanup removes it
      return;
    }
    await seg.close();
    this.pending += seg.bytes;
    src.events.push({ kind: 'segment', segment: { table: spool.table, path: seg.path, rows: seg.rows, bytes: seg.bytes } });
    await this.room();
  }

  private openSegment(src: StreamedSource, spool: TableSpool): Promise<SegmentFile> {
    this.dirs.add(src);
    return src.spool.open(`${spool.table.name}.${++spool.segments}.csv`);
  }

  private control(line: string): Promise<void> | void {
    const older = OLDER_HEADERS.get(line);
    if (line === STREAM_HEADER || older) {
      this.nextStream(); // when the writer ran again (xargs)
      this.sawHeader = true;
      this.expectsDone = older?.done ?? true;
      this.expectsChecksum = older?.checksum ?? true;
      return;
    }
    if (this.done) this.fail('a line after #done that does not start another stream');
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
      if (n !== this.sourcesEnded) this.problem(`#done says ${String(n)} sources, the stream held ${this.sourcesEnded}`);
      this.done = true;
      return;
    }
    this.fail(`unknown control line ${tag}`);
  }

  private startSource(s: SourceRecord): void {
    // A writer cut inside a line and the next stream's header glued to it end here, too.
    if (this.current) this.cutSource(`source ${this.current.source.name} has no #end line before the next source`);
    if (!s || typeof s.loadFile !== 'string' || !/^[0-9a-f]{40}$/.test(s.loadInfoId ?? '')) this.fail('#source without a valid loadInfoId');
    const source: Source = { name: String(s.name), loadFile: s.loadFile, loadInfoId: s.loadInfoId };
    this.current = new StreamedSource(source, s.announcesQuarters === true, this.spoolToDisk, this, this.opts.tmp);
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
      if (got !== want) this.fail(`source ${src!.source.name}: ${got} ${t.name} ${noun(got, 'row')} in the stream, the writer counted ${want}`);
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

  /**
   * Whether the line buf[start, nl) is the start of a line cut short followed by a stream header.
   * No whole line ends so: a row ends with '"', a digit after ',' or \N, a control line with '}'.
   */
  private gluedHeader(buf: Buffer, start: number, nl: number): boolean {
    return nl - start > HEADER_LENGTH && buf[nl - HEADER_LENGTH] === 0x23 && HEADERS.has(buf.toString('latin1', nl - HEADER_LENGTH, nl));
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
          if (this.stopped) return; // aborted while this chunk was being read: nothing more is handed over
          const nl = buf.indexOf(10, start);
          if (nl < 0) break;
          this.lineNo++;
          if (this.gluedHeader(buf, start, nl)) {
            // A writer cut in the middle of a line, and the next one's stream begins right after it.
            await this.control(buf.toString('latin1', nl - HEADER_LENGTH, nl));
            start = nl + 1;
            continue;
          }
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
            const appended = seg.append(buf, comma + 1, nl + 1);
            if (appended) await appended;
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
        this.fail(`the stream ended after ${plural(this.sourcesEnded, 'whole source')} without its #done line: the writer did not finish, sources may be missing`);
      }
      this.sources.close(this.problems.length ? new StreamProblems(this.problems) : undefined);
    } catch (e) {
      this.current?.events.close(e as Error);
      const problems = e instanceof StreamFormatError ? [...this.problems, e.message] : [];
      this.sources.close(problems.length > 1 ? new StreamProblems(problems) : (e as Error));
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
  const abort = () => reader.abort(opts.signal!.reason instanceof Error ? opts.signal!.reason : new Error('row stream: reading aborted'));
  if (opts.signal?.aborted) abort();
  opts.signal?.addEventListener('abort', abort, { once: true });
  const pumping = reader.pump();
  try {
    yield* reader.sources;
  } finally {
    opts.signal?.removeEventListener('abort', abort);
    reader.stop();
    await pumping;
    await reader.removeAll();
  }
}
