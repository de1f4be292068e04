// The row stream: what `edx-json2sql --rows` writes and `edx-csvload` reads on stdin, so that
// `edx-json2sql log.gz --rows | edx-csvload` needs no files. It is line-framed text:
//
//   #edx-pipes-rows/1                                           once, first line
//   #source {"name":…,"loadFile":…,"loadInfoId":…}              start of a source
//   <Table>,<one CSV row in the dialect of encode.ts>            any number, tables interleaved
//   #end {"loadInfoId":…,"rows":{"<Table>":n,…},"quarters":[…]}  end of that source, with its counts
//
// A CSV row never contains a raw newline (encode.ts escapes it), so '\n' frames rows. The end line
// carries the writer's own counts: the reader checks them, so a stream cut short (transform killed)
// or garbled never loads; a source without its end line is not loaded at all.
//
// The reader spools each source's rows into one temporary file per table (constant memory, the
// bytes after `<Table>,` are copied as they are) and hands the source to the loader when its end
// line arrives; the loader then loads it in one transaction, exactly as a collection.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ALL_TABLES, TABLES, type TableDef } from '../schema/tables.js';
import type { Row, RowWriter, Source } from '../transform/rows.js';
import { write, finish } from '../cli/common.js';
import { encodeRow, isQuarter, QuarterSet } from './encode.js';
import type { LoadableSource } from './collection.js';

export const STREAM_HEADER = '#edx-pipes-rows/1';
const FLUSH_AT = 1 << 16;

interface EndRecord {
  loadInfoId: string;
  rows: Record<string, number>;
  quarters: string[];
}

export class RowStreamWriter implements RowWriter {
  private pending = '';
  private headerWritten = false;
  private counts: Record<string, number> = {};
  private quarters = new QuarterSet();

  constructor(private readonly out: NodeJS.WritableStream) {}

  private flush(): Promise<void> | void {
    if (!this.pending) return;
    const chunk = this.pending;
    this.pending = '';
    return write(this.out as unknown as import('node:stream').Writable, chunk);
  }

  startSource(source: Source): Promise<void> | void {
    if (!this.headerWritten) {
      this.pending += STREAM_HEADER + '\n';
      this.headerWritten = true;
    }
    this.counts = {};
    this.quarters = new QuarterSet();
    const s: Source = { name: source.name, loadFile: source.loadFile, loadInfoId: source.loadInfoId };
    this.pending += `#source ${JSON.stringify(s)}\n`;
  }

  write(row: Row): Promise<void> | void {
    const name = row.table.name;
    this.counts[name] = (this.counts[name] ?? 0) + 1;
    this.quarters.add(row.table, row.values);
    this.pending += name + ',' + encodeRow(row.values);
    if (this.pending.length >= FLUSH_AT) return this.flush();
  }

  endSource(source: Source): Promise<void> | void {
    const end: EndRecord = { loadInfoId: source.loadInfoId, rows: this.counts, quarters: this.quarters.list() };
    this.pending += `#end ${JSON.stringify(end)}\n`;
    return this.flush();
  }

  close(): Promise<void> | void {
    if (!this.headerWritten) this.pending += STREAM_HEADER + '\n'; // an empty run is still a valid stream
    this.headerWritten = true;
    return this.flush();
  }
}

export class StreamFormatError extends Error {}

interface Spool {
  table: TableDef;
  path: string;
  stream?: WriteStream;
  rows: number;
  parts: Buffer[];
  size: number;
  error?: Error;
}

/** A source read from the stream; `cleanup()` removes its spooled files (also done when iteration moves on). */
export type StreamedSource = LoadableSource;

/**
 * Read a row stream. Yields each source once its end line has arrived and its counts check out.
 * With `spool: false` (dry run) nothing is written anywhere; the files then have no usable path.
 */
export async function* readRowStream(
  input: Readable,
  opts: { spool?: boolean; tmp?: string } = {},
): AsyncGenerator<StreamedSource> {
  const spoolToDisk = opts.spool ?? true;
  let lineNo = 0;
  let sawHeader = false;
  let source: Source | undefined;
  let dir: string | undefined;
  let spools = new Map<TableDef, Spool>();
  const fail = (msg: string): never => {
    throw new StreamFormatError(`row stream line ${lineNo}: ${msg}`);
  };

  const flushSpool = (s: Spool): Promise<void> | void => {
    if (!s.parts.length) return;
    const chunk = s.parts.length === 1 ? s.parts[0] : Buffer.concat(s.parts, s.size);
    s.parts = [];
    s.size = 0;
    if (s.error) throw s.error;
    if (s.stream) return write(s.stream, chunk);
  };
  const discard = async () => {
    for (const s of spools.values()) s.stream?.destroy();
    spools = new Map();
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  };

  let carry: Buffer | undefined;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
      let start = 0;
      for (;;) {
        const nl = buf.indexOf(10, start);
        if (nl < 0) break;
        lineNo++;
        if (buf[start] === 0x23 /* # */) {
          const line = buf.toString('utf8', start, nl);
          start = nl + 1;
          if (line === STREAM_HEADER) {
            sawHeader = true;
            continue;
          }
          if (!sawHeader) fail(`not a row stream (expected ${STREAM_HEADER} first)`);
          const sp = line.indexOf(' ');
          const tag = sp < 0 ? line : line.slice(0, sp);
          let body: unknown;
          try {
            body = JSON.parse(line.slice(sp + 1));
          } catch {
            fail(`unreadable ${tag} line`);
          }
          if (tag === '#source') {
            if (source) fail(`source ${source.name} has no #end line before the next source`);
            const s = body as Source;
            if (!s || typeof s.loadFile !== 'string' || !/^[0-9a-f]{40}$/.test(s.loadInfoId ?? '')) fail('#source without a valid loadInfoId');
            source = { name: String(s.name), loadFile: s.loadFile, loadInfoId: s.loadInfoId };
            if (spoolToDisk) dir = await mkdtemp(join(opts.tmp ?? tmpdir(), 'edx-csvload-'));
          } else if (tag === '#end') {
            const end = body as EndRecord;
            if (!source) fail('#end without #source');
            if (end?.loadInfoId !== source!.loadInfoId) fail(`#end of another source than ${source!.name}`);
            if (!Array.isArray(end.quarters) || !end.quarters.every(isQuarter)) fail('#end: bad quarter list');
            for (const s of spools.values()) {
              await flushSpool(s);
              if (s.stream) await finish(s.stream);
              if (s.error) throw s.error;
            }
            for (const t of ALL_TABLES) {
              const got = spools.get(t)?.rows ?? 0;
              const want = end.rows?.[t.name] ?? 0;
              if (got !== want) fail(`source ${source!.name}: ${got} ${t.name} rows in the stream, the writer counted ${want}`);
            }
            const loadable: StreamedSource = {
              source: source!,
              files: ALL_TABLES.filter((t) => spools.has(t)).map((t) => ({ table: t, path: spools.get(t)!.path, rows: spools.get(t)!.rows })),
              quarters: end.quarters,
              origin: 'stdin',
            };
            source = undefined;
            yield loadable;
            await discard();
          } else {
            fail(`unknown control line ${tag}`);
          }
          continue;
        }
        // A data line: <Table>,<csv row>
        if (!source) fail(sawHeader ? 'row outside a source' : `not a row stream (expected ${STREAM_HEADER} first)`);
        const comma = buf.indexOf(44, start);
        if (comma < 0 || comma > nl) fail('row without a table name');
        const table = TABLES[buf.toString('latin1', start, comma) as keyof typeof TABLES];
        if (!table) fail(`unknown table ${JSON.stringify(buf.toString('utf8', start, Math.min(comma, start + 40)))}`);
        let s = spools.get(table);
        if (!s) {
          const path = dir ? join(dir, `${table.name}.csv`) : '';
          s = { table, path, rows: 0, parts: [], size: 0 };
          if (dir) {
            const spool = s;
            s.stream = createWriteStream(path);
            s.stream.on('error', (e) => (spool.error ??= e));
          }
          spools.set(table, s);
        }
        s.rows++;
        if (s.stream) {
          const part = buf.subarray(comma + 1, nl + 1);
          s.parts.push(part);
          s.size += part.length;
          if (s.size >= FLUSH_AT * 4) await flushSpool(s);
        }
        start = nl + 1;
      }
      carry = start < buf.length ? buf.subarray(start) : undefined;
    }
    if (carry?.length) {
      lineNo++;
      fail('the stream ends in the middle of a line');
    }
    if (source) fail(`the stream ended inside source ${source.name} (no #end line: the writer did not finish)`);
    if (!sawHeader) throw new StreamFormatError(`row stream: empty input (expected ${STREAM_HEADER})`);
  } finally {
    await discard();
  }
}
