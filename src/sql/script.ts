// The default output of edx-json2sql: a complete MySQL script that `mysql`/`mariadb` loads as it
// is (decisions.md §3): databases and tables created if missing, multi-row INSERTs, one
// transaction per source, partitions added as quarters appear. Loading it twice adds nothing:
// ids are derived, and duplicates are ignored by primary key without warnings.
import type { Writable } from 'node:stream';
import { createAllTables, createDatabases, dropAllTables, ensureQuarterPartition } from '../schema/ddl.js';
import { columnIndex, qualifiedName, DEFAULT_DATABASES, LoadInfo, TYPES, type DatabaseNames, type TableDef } from '../schema/tables.js';
import type { Value } from '../schema/fit.js';
import type { Row, RowWriter, Source } from '../transform/rows.js';
import { write } from '../io/write.js';
import { sqlLiteral } from './escape.js';

/** Statements stay well under the servers' default max_allowed_packet (16 MiB MariaDB, 64 MiB MySQL). */
const MAX_STATEMENT_BYTES = 1 << 20;

export interface SqlScriptOptions {
  names?: DatabaseNames;
  /** DROP the Edx tables first (EdxPrivate ones too with dropPrivate). */
  drop?: boolean;
  dropPrivate?: boolean;
  /** A comment line naming the tool and its inputs. */
  banner?: string;
}

/** A statement is encoded in chunks of this size (or one tuple's worst case, when bigger). */
const CHUNK_BYTES = 256 * 1024;
/** ASCII of the separator between tuples: `),\n(`. */
const TUPLE_SEPARATOR = [0x29, 0x2c, 0x0a, 0x28];

/**
 * The text of a table's tuples: each value's literal, joined by ','. Most columns of a row hold
 * their empty value (an EdxTrackEvent row sets about a dozen of its 65), so each run of them is
 * one piece, made once per (first, end) column pair and reused: far fewer pieces to join.
 */
class TupleText {
  private readonly empty: readonly Value[];
  private readonly emptyLiterals: readonly string[];
  /** Runs of empty values by first column * 1024 + end column. */
  private readonly runs = new Map<number, string>();
  /** Reused for every tuple: joining one array makes a flat string (no rope to collect). */
  private readonly pieces: string[] = [];

  constructor(private readonly table: TableDef) {
    this.empty = table.columns.map((c) => TYPES[c.type].empty);
    this.emptyLiterals = this.empty.map((v, i) => this.literal(v, i));
  }

  of(values: readonly Value[]): string {
    const pieces = this.pieces;
    let count = 0;
    let runStart = 0; // first column of the current run of empty values
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === this.empty[i]) continue;
      if (runStart < i) pieces[count++] = this.run(runStart, i);
      pieces[count++] = this.literal(v, i);
      runStart = i + 1;
    }
    if (runStart < values.length) pieces[count++] = this.run(runStart, values.length);
    pieces.length = count;
    return pieces.join(',');
  }

  /** The literal of a value of column i. */
  private literal(v: Value, i: number): string {
    if (v === '') return "''";
    if (typeof v === 'number') return String(v);
    // LoadInfo.load_date_time is the time of the load, not of the transform.
    return v === null && this.table === LoadInfo && i === 1 ? 'CURRENT_TIMESTAMP' : sqlLiteral(v);
  }

  /** The empty values' literals of columns from..end-1, joined by ','. */
  private run(from: number, end: number): string {
    const key = from * 1024 + end; // no table has 1024 columns
    let text = this.runs.get(key);
    if (text === undefined) {
      text = this.emptyLiterals.slice(from, end).join(',');
      this.runs.set(key, text);
    }
    return text;
  }
}

/**
 * An INSERT statement being built, as UTF-8 bytes: each tuple is encoded as soon as it is made,
 * so its string dies young instead of waiting (and being moved by the GC, then joined and encoded
 * again) until the statement is complete.
 */
class PendingStatement {
  private full: Buffer[] = [];
  private chunk: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  /** Tuples so far. */
  tuples = 0;
  /** The tuples' length so far in UTF-16 units, parentheses and separators included (statements are cut by it). */
  length = 0;

  constructor(
    /** Makes the text of the table's tuples. */
    readonly tupleText: TupleText,
    /** `INSERT … VALUES\n(`: the first tuple's opening parenthesis included. */
    private readonly head: string,
    /** The last tuple's closing parenthesis, then `ON DUPLICATE KEY …`. */
    private readonly tail: string,
  ) {}

  /** Add a tuple: its values' literals joined by ',' (the parentheses come with the separators). */
  add(values: string): void {
    if (this.tuples === 0) this.append(this.head);
    this.room(values.length * 3 + TUPLE_SEPARATOR.length); // UTF-8 needs at most 3 bytes per UTF-16 unit
    if (this.tuples > 0) for (const byte of TUPLE_SEPARATOR) this.chunk[this.used++] = byte;
    this.used += this.chunk.write(values, this.used, 'utf8');
    this.tuples++;
    this.length += values.length + 4; // with its parentheses and the separator
  }

  /** The complete statement's bytes, in order; the statement starts over empty. */
  take(): Buffer[] {
    this.append(this.tail);
    const out = this.full;
    out.push(this.chunk.subarray(0, this.used));
    this.full = [];
    this.discard();
    return out;
  }

  discard(): void {
    this.full.length = 0;
    this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
    this.tuples = 0;
    this.length = 0;
  }

  private append(text: string): void {
    this.room(text.length * 3);
    this.used += this.chunk.write(text, this.used, 'utf8');
  }

  /** Make sure the current chunk has `bytes` free. */
  private room(bytes: number): void {
    if (this.chunk.length - this.used >= bytes) return;
    if (this.used > 0) this.full.push(this.chunk.subarray(0, this.used));
    this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bytes));
    this.used = 0;
  }
}

export class SqlScriptWriter implements RowWriter {
  private pending = new Map<TableDef, PendingStatement>();
  private quarters = new Set<string>();
  private names: DatabaseNames;
  private started = false;

  constructor(private out: Writable, private opts: SqlScriptOptions = {}) {
    this.names = opts.names ?? DEFAULT_DATABASES;
  }

  private async preamble(): Promise<void> {
    this.started = true;
    const lines = [
      `-- ${this.opts.banner ?? 'edx-pipes edx-json2sql'}`,
      '-- Load with: mysql < this-file (or mariadb). Loading it again adds no duplicate rows.',
      // CREATE … IF NOT EXISTS on a second load would leave notes; a load must leave nothing to see.
      'SET @edx_pipes_sql_notes = @@sql_notes, sql_notes = 0;',
      ...createDatabases(this.names),
      'SET NAMES utf8mb4;',
      "SET time_zone = '+00:00';",
      'SET autocommit = 0;',

      ...(this.opts.drop ? dropAllTables(!!this.opts.dropPrivate, this.names) : []),
      ...createAllTables(this.names),
      '',
    ];
    await write(this.out, lines.join('\n'));
  }

  async startSource(source: Source): Promise<void> {
    if (!this.started) await this.preamble();
    await write(this.out, `\n-- source: ${source.loadFile.replace(/[\r\n]/g, ' ')}\nSTART TRANSACTION;\n`);
  }

  write(row: Row): Promise<void> | void {
    const table = row.table;
    if (table.partitionedByQuarter) {
      const quarter = row.values[columnIndex(table).quarter] as string;
      if (!this.quarters.has(quarter)) {
        this.quarters.add(quarter);
        const p = this.partition(table, quarter);
        return p.then(() => this.add(table, row));
      }
    }
    return this.add(table, row);
  }

  private async partition(table: TableDef, quarter: string): Promise<void> {
    // The ALTER commits implicitly; rows already written for this source are complete statements.
    await this.flush(table);
    await write(this.out, ensureQuarterPartition(table, quarter, this.names) + '\n');
  }

  private add(table: TableDef, row: Row): Promise<void> | void {
    const p = this.pending.get(table) ?? this.startStatements(table);
    p.add(p.tupleText.of(row.values));
    if (p.length >= MAX_STATEMENT_BYTES) return this.flush(table);
  }

  private startStatements(table: TableDef): PendingStatement {
    const cols = table.columns.map((c) => c.name).join(',');
    const key = table.primaryKey[0];
    const p = new PendingStatement(
      new TupleText(table),
      `INSERT INTO ${qualifiedName(table, this.names)} (${cols}) VALUES\n(`,
      `)\nON DUPLICATE KEY UPDATE ${key}=${key};\n`,
    );
    this.pending.set(table, p);
    return p;
  }

  private flush(table: TableDef): Promise<void> | void {
    const p = this.pending.get(table);
    if (!p || p.tuples === 0) return;
    const chunks = p.take();
    // Backpressure is waited for once, after the last chunk of the statement.
    for (let i = 0; i < chunks.length - 1; i++) this.out.write(chunks[i]);
    return write(this.out, chunks[chunks.length - 1]);
  }

  private async flushAll(): Promise<void> {
    for (const table of this.pending.keys()) await this.flush(table);
  }

  async endSource(): Promise<void> {
    await this.flushAll();
    await write(this.out, 'COMMIT;\n');
  }

  async abortSource(source: Source, error: Error): Promise<void> {
    for (const p of this.pending.values()) p.discard();
    await write(this.out, `-- ${source.name} failed: ${error.message.replace(/[\r\n]/g, ' ')}\nROLLBACK;\n`);
  }

  async close(): Promise<void> {
    if (!this.started) await this.preamble();
    await this.flushAll();
    await write(this.out, 'SET autocommit = 1;\nSET sql_notes = @edx_pipes_sql_notes;\n');
  }
}
