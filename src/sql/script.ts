// The default output of edx-json2sql: a complete MySQL script that `mysql`/`mariadb` loads as it
// is (docs/decisions.md §10): databases and tables created if missing, multi-row REPLACEs, one
// transaction per source, partitions added as quarters appear. Loading it twice adds nothing:
// ids are derived, and a row whose key is there already replaces it without warnings: the later
// copy wins, as in edx-csvload's LOAD DATA … REPLACE, so both paths give the same warehouse even
// where copies of a line differ (downtime_for, load_info_fk of overlapping files).
import type { Writable } from 'node:stream';
import { columnList, createAllTables, createDatabases, dropAllTables, ensureQuarterPartition, qualifiedName } from '../schema/ddl.js';
import { initialQuarters } from '../schema/quarters.js';
import { LoadInfo } from '../schema/tables.js';
import { DEFAULT_DATABASES, type DatabaseNames, type TableDef } from '../schema/table.js';
import { RowText, type Literal } from '../schema/row-text.js';
import type { Row, RowWriter, Source } from '../schema/rows.js';
import { write } from '../io/write.js';
import { TextChunks } from '../io/text-chunks.js';
import { SQL_MODE, sqlLiteral } from '../schema/sql-escape.js';

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

/** Quarters whose partitions every EdxTrackEvent table has from its creation: no DDL for them. */
const INITIAL_QUARTERS = new Set(initialQuarters());

/** ASCII of the separator between tuples: `),\n(`. */
const TUPLE_SEPARATOR = [0x29, 0x2c, 0x0a, 0x28];

/** The literal of a value of column i of a table's tuples. */
function sqlLiteralIn(table: TableDef): Literal {
  return (v, i) => {
    if (v === '') return "''";
    if (typeof v === 'number') return String(v);
    // LoadInfo.load_date_time is the time of the load, not of the transform.
    return v === null && table === LoadInfo && i === 1 ? 'CURRENT_TIMESTAMP' : sqlLiteral(v);
  };
}

/**
 * A REPLACE statement being built, as UTF-8 bytes: each tuple is encoded as soon as it is made,
 * so its string dies young instead of waiting (and being moved by the GC, then joined and encoded
 * again) until the statement is complete.
 */
class PendingStatement {
  private readonly text = new TextChunks();
  /** Tuples so far. */
  tuples = 0;
  /** The tuples' length so far in UTF-16 units, parentheses and separators included (statements are cut by it). */
  length = 0;

  constructor(
    /** Makes the text of the table's tuples. */
    readonly tupleText: RowText,
    /** `REPLACE INTO … VALUES\n(`: the first tuple's opening parenthesis included. */
    private readonly head: string,
    /** The last tuple's closing parenthesis and the statement's end. */
    private readonly tail: string,
  ) {}

  /** Add a tuple: its values' literals joined by ',' (the parentheses come with the separators). */
  add(values: string): void {
    if (this.tuples === 0) this.text.append(this.head);
    else this.text.appendAscii(TUPLE_SEPARATOR);
    this.text.append(values);
    this.tuples++;
    this.length += values.length + 4; // with its parentheses and the separator
  }

  /** Write the complete statement; the statement starts over empty. */
  writeTo(out: Writable): Promise<void> | void {
    this.text.append(this.tail);
    this.tuples = 0;
    this.length = 0;
    return this.text.writeTo(out);
  }

  discard(): void {
    this.text.discard();
    this.tuples = 0;
    this.length = 0;
  }
}

export class SqlScriptWriter implements RowWriter {
  private pending = new Map<TableDef, PendingStatement>();
  private quarters = new Set<string>();
  private names: DatabaseNames;
  private started = false;
  /** Statements of the current source written so far (a partition added now commits them). */
  private statementsOfSource = 0;
  /** The first quarter whose partition, if the server lacked it, was added mid-source (committing the rows before it). */
  private committedBefore?: string;

  constructor(private out: Writable, private opts: SqlScriptOptions = {}) {
    this.names = opts.names ?? DEFAULT_DATABASES;
  }

  private async preamble(): Promise<void> {
    this.started = true;
    const lines = [
      `-- ${this.opts.banner ?? 'edx-pipes edx-json2sql'}`,
      '-- Load with: mysql < this-file (or mariadb). Loading it again adds no duplicate rows.',
      // First, before any value or quote: the sql_mode the text is written for, whatever the
      // server's or the client's (docs/decisions.md §10); the old one comes back at the end.
      `SET @edx_pipes_sql_mode = @@SESSION.sql_mode, SESSION sql_mode = '${SQL_MODE}';`,
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
    this.statementsOfSource = 0;
    this.committedBefore = undefined;
    await write(this.out, `\n-- source: ${source.loadFile.replace(/[\r\n]/g, ' ')}\nSTART TRANSACTION;\n`);
  }

  write(row: Row): Promise<void> | void {
    const table = row.table;
    if (table.partitionedByQuarter) {
      const quarter = row.values[table.position.quarter] as string;
      if (!this.quarters.has(quarter)) {
        this.quarters.add(quarter);
        if (INITIAL_QUARTERS.has(quarter)) return this.add(table, row); // the table is created with it
        const p = this.partition(table, quarter);
        return p.then(() => this.add(table, row));
      }
    }
    return this.add(table, row);
  }

  private async partition(table: TableDef, quarter: string): Promise<void> {
    // The ALTER commits implicitly (MySQL DDL): the rows of the events so far go first, all of
    // them, so that what it commits is whole events with their links; LoadInfo stays pending,
    // so that a source that fails later is not recorded as loaded.
    for (const t of this.pending.keys()) if (t !== LoadInfo) await this.flush(t);
    if (this.statementsOfSource > 0) this.committedBefore ??= quarter;
    await write(this.out, ensureQuarterPartition(table, quarter, this.names) + '\n');
  }

  private add(table: TableDef, row: Row): Promise<void> | void {
    const p = this.pending.get(table) ?? this.startStatements(table);
    p.add(p.tupleText.of(row.values));
    if (p.length >= MAX_STATEMENT_BYTES) return this.flush(table);
  }

  private startStatements(table: TableDef): PendingStatement {
    const p = new PendingStatement(
      new RowText(table, sqlLiteralIn(table)),
      `REPLACE INTO ${qualifiedName(table, this.names)} (${columnList(table)}) VALUES\n(`,
      ');\n',
    );
    this.pending.set(table, p);
    return p;
  }

  private flush(table: TableDef): Promise<void> | void {
    const p = this.pending.get(table);
    if (!p || p.tuples === 0) return;
    this.statementsOfSource++;
    return p.writeTo(this.out);
  }

  private async flushAll(): Promise<void> {
    for (const table of this.pending.keys()) await this.flush(table);
  }

  async endSource(): Promise<void> {
    await this.flushAll();
    await write(this.out, 'COMMIT;\n');
  }

  async abortSource(source: Source, error: Error): Promise<string | void> {
    for (const p of this.pending.values()) p.discard();
    await write(this.out, `-- ${source.name} failed: ${error.message.replace(/[\r\n]/g, ' ')}\nROLLBACK;\n`);
    if (this.committedBefore === undefined) return;
    // Nothing can take back what a DDL statement committed; LoadInfo does not name the source,
    // so the next load of it (whole) loads it again, and REPLACE makes that exact.
    const kept =
      `its rows before the first event of ${this.committedBefore} stay loaded if that quarter's partition had to be added ` +
      '(DDL commits); the rest were rolled back, and the file is not recorded as loaded: load it again when it is whole';
    await write(this.out, `-- ${kept}\n`);
    return kept;
  }

  async close(): Promise<void> {
    if (!this.started) await this.preamble();
    await this.flushAll();
    await write(this.out, 'SET autocommit = 1;\nSET sql_notes = @edx_pipes_sql_notes;\nSET SESSION sql_mode = @edx_pipes_sql_mode;\n');
  }
}
