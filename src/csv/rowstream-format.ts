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
// This file holds the format's own facts; rowstream-writer.ts writes it, rowstream-reader.ts reads
// it (spooling rows to disk with spool.ts).
//
// The reader runs ahead of the loader on its own: it hands each source over at its `#source` line
// and spools its rows into segment files per table (the bytes after `<Table>,` copied as they
// are) of about `segmentBytes` each. A segment is handed to the loader as soon as it is full, so
// the loader can load it while later rows still arrive. Every segment stays on disk until the
// source is done (the loader may have to load the source again from the start). Backpressure:
// when the segments handed over but not yet released by the loader exceed `pendingBytes`, the
// reader stops reading its input, so a slow database slows the writer; memory stays constant.
import { TABLES } from '../schema/tables.js';
import type { TableDef } from '../schema/table.js';
import type { Source } from '../schema/rows.js';

export const STREAM_HEADER = '#edx-pipes-rows/3';
/** Streams of older writers: version 2 has no checksum, version 1 no `#done` line either. */
export const OLDER_HEADERS = new Map([
  ['#edx-pipes-rows/2', { done: true, checksum: false }],
  ['#edx-pipes-rows/1', { done: false, checksum: false }],
]);
/** The bytes before a row's values: its table's name and ','. */
const prefixes = new Map<TableDef, number[]>();
export const rowPrefix = (t: TableDef): number[] => {
  let p = prefixes.get(t);
  if (p === undefined) prefixes.set(t, (p = [...Buffer.from(`${t.name},`, 'latin1')]));
  return p;
};

export interface SourceRecord extends Source {
  /** The writer puts a `#quarter` line before the first row of each quarter. */
  announcesQuarters?: boolean;
}

export interface EndRecord {
  loadInfoId: string;
  rows: Record<string, number>;
  quarters: string[];
  /** CRC-32 of the bytes between the `#source` and `#end` lines (version 3). */
  crc32?: number;
}

export class StreamFormatError extends Error {}

/** Several breaks of a stream read to its end (streams one after another): each is a line of its own. */
export class StreamProblems extends StreamFormatError {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

/** A spooled piece of one table's rows of a source: a file in the CSV dialect. */
export interface Segment {
  table: TableDef;
  path: string;
  rows: number;
  bytes: number;
  /** The CRC-32 its writer summed, when it gave one (a collection's manifest). */
  crc32?: number;
}

/** What the loader learns about a source, in stream order. */
export type SourceEvent =
  | { kind: 'quarter'; quarter: string }
  | { kind: 'segment'; segment: Segment }
  | { kind: 'end'; rows: Record<string, number>; quarters: string[] };

// Table names differ in their first letter or length, so (first byte, length) finds the only
// candidate and one byte comparison confirms it: no string per row.
const TABLE_BY_SHAPE = new Map(Object.values(TABLES).map((t) => [t.name.charCodeAt(0) * 256 + t.name.length, { table: t, name: Buffer.from(t.name, 'latin1') }]));
if (TABLE_BY_SHAPE.size !== Object.keys(TABLES).length) throw new Error('rowstream-format.ts: two table names share a first letter and length');

/** The table whose name is buf[start, end), if any. */
export function tableAt(buf: Buffer, start: number, end: number): TableDef | undefined {
  const c = TABLE_BY_SHAPE.get(buf[start] * 256 + (end - start));
  return c && buf.compare(c.name, 0, c.name.length, start, end) === 0 ? c.table : undefined;
}
