// The writer of the row stream (its format: rowstream-format.ts): what `edx-json2sql --rows` writes.
import type { Writable } from 'node:stream';
import type { Row, RowWriter, Source } from '../schema/rows.js';
import { TextChunks } from '../io/text-chunks.js';
import { encodeRow, QuarterSet, ROW_END } from './encode.js';
import { rowPrefix, STREAM_HEADER, type EndRecord, type SourceRecord } from './rowstream-format.js';

const FLUSH_AT = 1 << 16;

export class RowStreamWriter implements RowWriter {
  private pending = new TextChunks();
  private headerWritten = false;
  /** Sources written to their `#end` line. */
  private sourcesEnded = 0;
  private counts: Record<string, number> = {};
  private quarters = new QuarterSet();

  constructor(private readonly out: NodeJS.WritableStream) {}

  private flush(): Promise<void> | void {
    return this.pending.writeTo(this.out as unknown as Writable);
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
