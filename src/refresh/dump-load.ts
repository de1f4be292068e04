// Several tables of a mysqldump/mariadb-dump file into a database, in one pass over the dump
// (many GB, gzip): each table's section is found by the library behind edx-extract-table
// (dump/extract.ts) and run as the dump wrote it, CREATE TABLE included: no table definition is
// rewritten (docs/original.md#bug-15: the original's awk cut every line at its first comma,
// breaking DECIMAL(5,2), enums and multi-column keys).
//
// The statements go through the job's connection, so every one is checked (a warning is a
// failure, docs/decisions.md §17) and no password or client program is involved. Their text is
// decoded from the dump's character set and sent as UTF-8, so the server reads the same
// characters the dump holds.
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { TextDecoder } from 'node:util';
import { DumpTableFilter } from '../dump/extract.js';
import { openInput } from '../io/input.js';
import { RefreshError } from './sql.js';
import { checkedQuery } from '../mysql/checked.js';
import { quoteIdent } from '../schema/sql-escape.js';
import { progressClock } from '../io/progress.js';
import { plural } from '../core/plural.js';

const LF = 0x0a;

/** A section's bytes as the statements they hold: a statement ends with the line that ends in `;`. */
class StatementSplitter {
  private statement: Buffer[] = [];
  private line: Buffer[] = [];

  /** Pieces of the section in order; the statements they complete. */
  push(piece: Buffer): Buffer[] {
    const done: Buffer[] = [];
    let pos = 0;
    while (pos < piece.length) {
      const lf = piece.indexOf(LF, pos);
      const end = lf === -1 ? piece.length : lf + 1;
      this.line.push(piece.subarray(pos, end));
      pos = end;
      if (lf !== -1) this.endLine(done);
    }
    return done;
  }

  private endLine(done: Buffer[]): void {
    const line = this.line.length === 1 ? this.line[0] : Buffer.concat(this.line);
    this.line = [];
    let end = line.length;
    while (end > 0 && (line[end - 1] === LF || line[end - 1] === 0x0d || line[end - 1] === 0x20 || line[end - 1] === 0x09)) end--;
    // Blank and `--` comment lines between statements (mysqldump never puts them inside one).
    if (this.statement.length === 0 && (end === 0 || (line[0] === 0x2d && line[1] === 0x2d))) return;
    this.statement.push(line);
    // Rows never hold a raw line break (dumps write it as \n), so only a statement's last line ends in `;`.
    if (line[end - 1] === 0x3b) {
      done.push(this.statement.length === 1 ? this.statement[0] : Buffer.concat(this.statement));
      this.statement = [];
    }
  }
}

/** The decoder of a dump character set (its SET NAMES), or undefined when we cannot read it. */
function decoderFor(charset: string): TextDecoder | undefined {
  if (/^utf8(mb[34])?$/i.test(charset)) return new TextDecoder('utf-8', { fatal: true });
  // MySQL's latin1 is Windows-1252 (with the five unassigned bytes kept as U+0081 …, as WHATWG does).
  if (/^latin1$/i.test(charset)) return new TextDecoder('windows-1252');
  return undefined;
}

const SET_NAMES = /^\/\*!40101 SET NAMES (\w+) \*\/;\s*$/;
const INSERT = /^\s*(INSERT|REPLACE)\b/i;
/** What a statement is, for a message: its first two words (the rest may be personal data). */
const kind = (sql: string) => sql.trimStart().split(/\s+/, 2).join(' ');

/** One table being copied. */
interface Copy {
  table: string;
  filter: DumpTableFilter;
  statements: StatementSplitter;
  rows: number;
}

export interface DumpLoadResult {
  /** Rows loaded per table found, in the order of the dump. */
  rows: Map<string, number>;
  /** Tables asked for that the dump does not hold. */
  missing: string[];
  /**
   * Not cut short: every table asked for was found whole (reading stopped there), or the dump
   * was read to its end and ends with mysqldump's `-- Dump completed` line. A table missing from
   * a dump that is not complete may only be missing because the dump was cut.
   */
  complete: boolean;
}

/** Session settings the dump's sections change, put back whatever happens. */
const SESSION = ['sql_mode', 'time_zone', 'unique_checks', 'foreign_key_checks', 'sql_notes', 'autocommit',
  'character_set_client', 'character_set_results', 'collation_connection'];

/**
 * Copy `tables` from the dump at `path` into `database` (which must exist, and should be empty:
 * each section drops and creates its own table). Fails, naming the table, when a statement fails
 * or warns, when the dump ends inside a table's section (cut), or when it cannot be read. Tables
 * not in the dump are listed in the result. Leaves the connection's default database at
 * `database`; its other session settings are as they were.
 */
export async function loadDumpTables(
  conn: Connection,
  path: string,
  tables: readonly string[],
  database: string,
  say: (m: string) => void,
): Promise<DumpLoadResult> {
  const copy = new DumpCopy(conn, path, tables, say);
  const complete = await inDatabase(conn, database, async () => copy.read(await openDump(path)));
  return copy.result(complete);
}

/**
 * `use` run with `database` as the connection's default one (the dump's statements are
 * unqualified); the session settings a dump's sections change are put back after it, whatever
 * happens.
 */
async function inDatabase<T>(conn: Connection, database: string, use: () => Promise<T>): Promise<T> {
  const [saved] = await conn.query<RowDataPacket[]>(`SELECT ${SESSION.map((v) => `@@SESSION.${v} AS ${v}`).join(', ')}`);
  await conn.query(`USE ${quoteIdent(database)}`);
  try {
    return await use();
  } finally {
    // After a failure inside a section: its LOCK TABLES, transaction and settings are still on.
    await conn.query('UNLOCK TABLES').catch(() => undefined);
    await conn.query('ROLLBACK').catch(() => undefined);
    await conn.query(`SET ${SESSION.map((v) => `SESSION ${v} = ?`).join(', ')}`, SESSION.map((v) => saved[0][v])).catch(() => undefined);
  }
}

/** The dump's bytes (plain or gzip); a missing file said as such. */
async function openDump(path: string): Promise<AsyncIterable<Buffer>> {
  try {
    return (await openInput(path)) as AsyncIterable<Buffer>;
  } catch (e) {
    throw new RefreshError((e as NodeJS.ErrnoException).code === 'ENOENT' ? `${path}: no such file` : (e as Error).message);
  }
}

/** The bytes at the end of the dump kept to find mysqldump's closing line. */
const TAIL = 256;

/** One pass over a dump: every line goes to each table's filter, and the statements they give run on the connection. */
class DumpCopy {
  private readonly copies: Copy[];
  /** The tables found, in the order of the dump. */
  private readonly order: string[] = [];
  private decoder = decoderFor('utf8mb4')!;
  private bytes = 0;
  private readonly due = progressClock();

  constructor(
    private readonly conn: Connection,
    private readonly path: string,
    tables: readonly string[],
    private readonly say: (m: string) => void,
  ) {
    this.copies = tables.map((table) => ({ table, filter: new DumpTableFilter({ table, source: path, stage: false }), statements: new StatementSplitter(), rows: 0 }));
  }

  /** Read the dump; true when it was not cut short (DumpLoadResult.complete). */
  async read(input: AsyncIterable<Buffer>): Promise<boolean> {
    let tail = Buffer.alloc(0);
    try {
      for await (const chunk of input) {
        tail = Buffer.concat([tail, chunk.subarray(Math.max(0, chunk.length - TAIL))]).subarray(-TAIL);
        await this.lines(chunk);
        this.progress(chunk.length);
        // Every table was found whole: the rest of the dump holds no table of ours and does not matter.
        if (this.copies.every((c) => c.filter.done)) return true;
      }
    } catch (e) {
      if (e instanceof RefreshError) throw e;
      throw new RefreshError(`${(e as Error).message} (the dump is cut or damaged)`);
    }
    return this.end(tail);
  }

  /** The rows loaded per table found, and the tables missing. */
  result(complete: boolean): DumpLoadResult {
    const rows = new Map(this.order.map((t) => [t, this.copies.find((c) => c.table === t)!.rows]));
    return { rows, missing: this.copies.map((c) => c.table).filter((t) => !rows.has(t)), complete };
  }

  /**
   * Each line of a chunk to every filter not done, the one inside its section first: one line
   * can end a section and begin the next, and the statements must run in the dump's order (each
   * section saves and restores the session).
   */
  private async lines(chunk: Buffer): Promise<void> {
    const inside = (c: Copy) => c.filter.result.found && !c.filter.done;
    let pos = 0;
    while (pos < chunk.length) {
      const lf = chunk.indexOf(LF, pos);
      const end = lf === -1 ? chunk.length : lf + 1;
      const line = chunk.subarray(pos, end);
      pos = end;
      const pending = this.copies.filter((c) => !c.filter.done);
      for (const c of [...pending.filter(inside), ...pending.filter((x) => !inside(x))]) await this.push(c, line);
    }
  }

  /** The end of the dump read whole: a section still open is cut; true when mysqldump's closing line ends it. */
  private async end(tail: Buffer): Promise<boolean> {
    for (const c of this.copies.filter((x) => !x.filter.done)) await this.push(c, undefined);
    if (this.copies.every((c) => c.filter.result.tablesSeen === 0)) {
      throw new RefreshError(`${this.path}: no '-- Table structure for table' comments: not a dump, or made with --compact or --skip-comments`);
    }
    return /\n-- Dump completed/.test(tail.toString('latin1'));
  }

  /** One line (undefined: the end of the dump) to a table's filter; the statements it completes run. */
  private async push(c: Copy, line: Buffer | undefined): Promise<void> {
    const was = { found: c.filter.result.found, done: c.filter.done };
    const out: Buffer[] = [];
    if (line) c.filter.push(line, out);
    else c.filter.end(out);
    if (!line && c.filter.result.truncated) throw new RefreshError(`${this.path} ends inside the section of table ${c.table}: the dump is cut`);
    for (const piece of out) for (const statement of c.statements.push(piece)) await this.execute(c, statement);
    if (!was.found && c.filter.result.found) this.order.push(c.table);
    if (!was.done && c.filter.done) this.say(`${c.table}: ${plural(c.rows, 'row')}`);
  }

  /** Run one statement of a table's section, checked; SET NAMES changes how the next ones are decoded. */
  private async execute(c: Copy, statement: Buffer): Promise<void> {
    let text: string;
    try {
      text = this.decoder.decode(statement);
    } catch {
      throw new RefreshError(`${c.table}: the dump holds bytes that are not text in its character set (binary data outside --hex-blob?)`);
    }
    const names = SET_NAMES.exec(text);
    if (names) {
      // The connection stays utf8mb4: the text is decoded here, the server gets UTF-8.
      const d = decoderFor(names[1]);
      if (!d) throw new RefreshError(`${this.path}: character set ${names[1]}: only utf8, utf8mb4 and latin1 dumps are read`);
      this.decoder = d;
      return;
    }
    // The label, not the statement itself: its rows are personal data.
    const res = await checkedQuery(this.conn, text, undefined, { label: `${c.table}: ${kind(text)}…`, error: RefreshError });
    if (INSERT.test(text)) c.rows += res.affectedRows;
  }

  /** Now and then, how far the dump has been read. */
  private progress(bytes: number): void {
    this.bytes += bytes;
    if (!this.due()) return;
    const now = this.copies.find((c) => c.filter.result.found && !c.filter.done);
    this.say(`${(this.bytes / 2 ** 20).toFixed(0)} MiB of the dump read${now ? `; ${now.table}: ${plural(now.rows, 'row')} so far` : ''}`);
  }
}
