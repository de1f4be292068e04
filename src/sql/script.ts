// The default output of edx-json2sql: a complete MySQL script that `mysql`/`mariadb` loads as it
// is (decisions.md §3): databases and tables created if missing, multi-row INSERTs, one
// transaction per source, partitions added as quarters appear. Loading it twice adds nothing:
// ids are derived, and duplicates are ignored by primary key without warnings.
import type { Writable } from 'node:stream';
import { createAllTables, createDatabases, dropAllTables, ensureQuarterPartition } from '../schema/ddl.js';
import { columnIndex, qualifiedName, DEFAULT_DATABASES, LoadInfo, type DatabaseNames, type TableDef } from '../schema/tables.js';
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

interface Pending {
  head: string;
  tail: string;
  tuples: string[];
  bytes: number;
}

export class SqlScriptWriter implements RowWriter {
  private pending = new Map<TableDef, Pending>();
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

  /** Reused for every tuple: joining one array makes a flat string (no rope of 65 pieces to collect). */
  private parts: string[] = [];

  private add(table: TableDef, row: Row): Promise<void> | void {
    const values = row.values;
    const parts = this.parts;
    parts.length = values.length;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === '') parts[i] = "''";
      else if (typeof v === 'number') parts[i] = String(v);
      // LoadInfo.load_date_time is the time of the load, not of the transform.
      else parts[i] = v === null && table === LoadInfo && i === 1 ? 'CURRENT_TIMESTAMP' : sqlLiteral(v);
    }
    const tuple = `(${parts.join(',')})`;
    let p = this.pending.get(table);
    if (!p) {
      const cols = table.columns.map((c) => c.name).join(',');
      const key = table.primaryKey[0];
      p = {
        head: `INSERT INTO ${qualifiedName(table, this.names)} (${cols}) VALUES\n`,
        tail: `\nON DUPLICATE KEY UPDATE ${key}=${key};\n`,
        tuples: [],
        bytes: 0,
      };
      this.pending.set(table, p);
    }
    p.tuples.push(tuple);
    p.bytes += tuple.length + 2;
    if (p.bytes >= MAX_STATEMENT_BYTES) return this.flush(table);
  }

  private flush(table: TableDef): Promise<void> | void {
    const p = this.pending.get(table);
    if (!p || p.tuples.length === 0) return;
    const statement = p.head + p.tuples.join(',\n') + p.tail;
    p.tuples = [];
    p.bytes = 0;
    return write(this.out, statement);
  }

  private async flushAll(): Promise<void> {
    for (const table of this.pending.keys()) await this.flush(table);
  }

  async endSource(): Promise<void> {
    await this.flushAll();
    await write(this.out, 'COMMIT;\n');
  }

  async abortSource(source: Source, error: Error): Promise<void> {
    for (const p of this.pending.values()) {
      p.tuples = [];
      p.bytes = 0;
    }
    await write(this.out, `-- ${source.name} failed: ${error.message.replace(/[\r\n]/g, ' ')}\nROLLBACK;\n`);
  }

  async close(): Promise<void> {
    if (!this.started) await this.preamble();
    await this.flushAll();
    await write(this.out, 'SET autocommit = 1;\nSET sql_notes = @edx_pipes_sql_notes;\n');
  }
}
