// Talking to the server where the answer is checked: the one place that runs a statement or a
// LOAD DATA LOCAL INFILE and turns whatever the server did not do as asked into an error
// (docs/decisions.md §17: a warning is a failure). Used by edx-csvload's loader, the refresh jobs and
// their dump copy.
//
//   - checkedQuery: one statement; any warning or error it leaves fails, named by `label`.
//     Notes do not (CREATE … IF NOT EXISTS of something that exists leaves one).
//   - loadFile / loadRows: LOAD DATA LOCAL INFILE of a file, or of rows encoded on the fly in the
//     CSV dialect (csv/encode.ts), streamed by mysql2's infileStreamFactory (no server-side
//     file, no FILE privilege); the server must read every row sent, skip none and warn nothing.
// A failure says what was loaded and the server's own words (SHOW WARNINGS), never row values.
import { createReadStream } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { encodeValue } from '../csv/encode.js';
import type { Value } from '../schema/table.js';
import { offeredFile } from './connection.js';
import { plural } from '../core/plural.js';

/** The error a caller's failures are made of (its own class, so that it can tell them apart). */
export type ErrorClass = new (message: string) => Error;

/** A check failed and the caller named no class of its own. */
export class CheckError extends Error {}

/** `Records: 3  Deleted: 0  Skipped: 0  Warnings: 0` (a LOAD DATA's info) → numbers. */
export function loadInfo(info: string): { records: number; skipped: number; warnings: number } {
  const num = (k: string) => Number(new RegExp(`${k}:\\s*(\\d+)`).exec(info)?.[1] ?? NaN);
  return { records: num('Records'), skipped: num('Skipped'), warnings: num('Warnings') };
}

/** Warnings and errors as a message says them: `Warning 1265: Data truncated …; …`, the first five. */
export const formatWarnings = (warnings: RowDataPacket[]): string =>
  warnings.slice(0, 5).map((w) => `${w.Level} ${w.Code}: ${w.Message}`).join('; ');

/** The warnings and errors of the last statement, notes left out. */
async function problems(conn: Connection): Promise<RowDataPacket[]> {
  const [warnings] = await conn.query<RowDataPacket[]>('SHOW WARNINGS');
  return warnings.filter((w) => w.Level !== 'Note');
}

export interface CheckOptions {
  /** What the statement was, for a message (`auth_user: INSERT INTO…`); default its first 80 characters. */
  label?: string;
  error?: ErrorClass;
}

/** Run one statement; a warning or error it leaves (notes aside) is a failure. */
export async function checkedQuery(conn: Connection, sql: string, params?: unknown[], opts: CheckOptions = {}): Promise<ResultSetHeader> {
  const Err = opts.error ?? CheckError;
  const label = opts.label ?? `${sql.split('\n')[0].slice(0, 80)}…`;
  let res: ResultSetHeader;
  try {
    [res] = await conn.query<ResultSetHeader>(sql, params);
  } catch (e) {
    throw Object.assign(new Err(`${label} failed: ${(e as Error).message}`), { cause: e }); // the cause tells a lost connection
  }
  if (res && typeof res === 'object' && 'warningStatus' in res && res.warningStatus > 0) {
    const found = await problems(conn);
    if (found.length) throw new Err(`${label} gave ${found.length} warning(s): ${formatWarnings(found)}`);
  }
  return res;
}

export interface LoadSpec {
  /** The LOAD DATA LOCAL INFILE statement (its file name is not opened: the bytes come from here). */
  sql: string;
  /** The table loaded, which begins every message. */
  table: string;
  error?: ErrorClass;
}

/**
 * Run a LOAD DATA LOCAL INFILE whose bytes `bytes()` gives; then the server must have read
 * `expected()` rows (asked after the load: a stream counts as it goes), skipped none, warned nothing.
 */
async function checkedLoad(conn: Connection, spec: LoadSpec, offered: string, bytes: () => Readable, expected: () => number, sentAs: string): Promise<void> {
  const Err = spec.error ?? CheckError;
  let res: ResultSetHeader;
  try {
    // The statement names one file, and only that one is served (see offeredFile).
    [res] = await conn.query<ResultSetHeader>({ sql: spec.sql, infileStreamFactory: offeredFile(offered, bytes) });
  } catch (e) {
    throw Object.assign(new Err(`${spec.table}: ${(e as Error).message}`), { cause: e }); // the cause tells a lost connection
  }
  const info = loadInfo(res.info ?? '');
  if (res.warningStatus > 0 || info.warnings > 0 || info.skipped > 0) {
    const found = await problems(conn);
    if (found.length || info.skipped > 0) {
      const skipped = info.skipped > 0 ? `, ${info.skipped} skipped` : '';
      throw new Err(`${spec.table}: ${found.length} warning(s)${skipped}: ${formatWarnings(found)}`);
    }
  }
  const rows = expected();
  if (info.records !== rows) throw new Err(`${spec.table}: the server read ${plural(info.records, 'row')}, the ${sentAs} should hold ${rows}`);
}

/**
 * Counts rows ('\n') of the bytes passing through (for progress) and sums their CRC-32 (what the
 * server read, to compare with what the writer wrote); passes the bytes on unchanged.
 */
class LineCounter extends Transform {
  crc32 = 0;
  constructor(private readonly onLines?: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.onLines) {
      let n = 0;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n++;
      this.onLines(n);
    }
    this.crc32 = crc32(chunk, this.crc32);
    cb(null, chunk);
  }
}

export interface FileLoad extends LoadSpec {
  path: string;
  /** The rows the file holds. */
  rows: number;
  /** The CRC-32 of the file as its writer wrote it: counts catch lost lines, not a changed byte that still reads as CSV. */
  crc32?: number;
  /** Told the rows as their bytes go to the server. */
  onLines?: (n: number) => void;
}

/** Load a file (in the CSV dialect) as `spec.sql` says; checked as above, and against its CRC-32 when given. */
export async function loadFile(conn: Connection, spec: FileLoad): Promise<void> {
  let read: LineCounter | undefined;
  await checkedLoad(conn, spec, spec.path, () => createReadStream(spec.path).pipe((read = new LineCounter(spec.onLines))), () => spec.rows, 'file');
  if (spec.crc32 !== undefined && read?.crc32 !== spec.crc32) {
    const Err = spec.error ?? CheckError;
    throw new Err(`${spec.table}: ${spec.path} is not the file the transform wrote (CRC-32 ${read?.crc32}, the manifest's ${spec.crc32})`);
  }
}

/** Rows as the bytes of the CSV dialect LOAD DATA reads (csv/encode.ts), a batch of rows per chunk. */
function csvBytes(rows: AsyncIterable<readonly Value[]> | Iterable<readonly Value[]>, count: { rows: number }): Readable {
  async function* lines() {
    let batch = '';
    for await (const row of rows) {
      let line = '';
      for (let i = 0; i < row.length; i++) line += (i ? ',' : '') + encodeValue(row[i]);
      batch += line + '\n';
      count.rows++;
      if (batch.length >= 1 << 16) {
        yield Buffer.from(batch, 'utf8'); // mysql2 needs Buffers
        batch = '';
      }
    }
    if (batch) yield Buffer.from(batch, 'utf8');
  }
  return Readable.from(lines(), { objectMode: false });
}

/** The file name a statement loading rows (not a file) names: `LOAD DATA LOCAL INFILE 'rows'`. */
export const ROWS_FILE = 'rows';

/** Load rows (values in the statement's column order) encoded as they come; returns their count. */
export async function loadRows(conn: Connection, spec: LoadSpec, rows: AsyncIterable<readonly Value[]> | Iterable<readonly Value[]>): Promise<number> {
  const count = { rows: 0 };
  await checkedLoad(conn, spec, ROWS_FILE, () => csvBytes(rows, count), () => count.rows, 'stream');
  return count.rows;
}
