// One table out of a mysqldump/mariadb-dump file: a streaming line filter over the raw bytes.
// Dumps are many GB and their INSERT lines long and not necessarily valid UTF-8 (binary columns
// are written as escaped bytes), so lines are never decoded or rebuilt: only the first bytes of a
// line are looked at, and the line goes out as the bytes it came in.
import type { Writable } from 'node:stream';
import { inputError, openInput } from '../io/input.js';
import { write } from '../io/write.js';

const LF = 0x0a;
const CR = 0x0d;
/**
 * Lines up to this long are looked at whole; a longer line cannot be one of the dump's section
 * comments (an identifier is at most 64 characters), so it is data and streams through (or is
 * skipped) without being held: memory stays constant whatever the line lengths.
 */
const HEAD_MAX = 4096;
/** The first bytes of every line the filter cares about: `-- `, `/*!`, `UNLOCK`, `DELIMITER`, `SET`, blank. */
const INTERESTING_FIRST = new Set([0x2d, 0x2f, 0x55, 0x44, 0x53, LF, CR]);

/** What a line of the dump is, as far as sections go. */
type Line =
  | { kind: 'structure' | 'data' | 'view' | 'database' | 'host-database'; name: string }
  | { kind: 'other-section' | 'unlock' | 'filler' | 'names' | 'utc' | 'saved' | 'autocommit-off' | 'plain'; charset?: string }
  | { kind: 'delimiter'; delimiter: string };

// Lines that start something other than a table: section comments (`--\n-- Title\n--`), the
// dump's epilogue, a table's triggers. They are matched at the start of a line, and rows never
// start a line with them (rows start with `(` or INSERT; mysqldump writes their newlines as `\n`).
const OTHER_SECTIONS = [
  '-- Sequence structure for ', // MariaDB sequences
  '-- Dumping routines',
  '-- Dumping events',
  '-- Dump completed',
  '-- Flush Grant Tables',
  '-- The deferred gtid setting',
  '-- start slave statement',
  // The dump's epilogue (SQL_MODE is restored even with --skip-tz-utc).
  '/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;',
  '/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;',
  // A table's triggers follow its data; they are not part of the copy with or without LOCK TABLES
  // (nor is their `DELIMITER ;;`, a kind of its own).
  '/*!50003 ',
];

/** A name as the dump writes it in a comment: `name` with `` for `, or bare with --skip-quote-names. */
function unquote(text: string): string {
  const m = /^`((?:[^`]|``)*)`$/.exec(text);
  return m ? m[1].replace(/``/g, '`') : text;
}

/**
 * The kind of a line given as latin1 text (one char per byte: ASCII prefixes compare as they
 * are, and names keep their bytes, whatever the dump's character set).
 */
function classify(text: string): Line {
  if (text === '' || text === '--') return { kind: 'filler' };
  if (text.startsWith('DELIMITER ')) return { kind: 'delimiter', delimiter: text.slice(10).trim() };
  if (text === 'UNLOCK TABLES;') return { kind: 'unlock' };
  let m = /^-- (Table structure for table|Dumping data for table|Temporary table structure for view|Temporary view structure for view|Final view structure for view|Current Database:) (.*)$/.exec(text);
  if (m) {
    const kind = m[1] === 'Current Database:' ? 'database' : m[1] === 'Table structure for table' ? 'structure' : m[1] === 'Dumping data for table' ? 'data' : 'view';
    return { kind, name: unquote(m[2]) };
  }
  if (OTHER_SECTIONS.some((p) => text.startsWith(p))) return { kind: 'other-section' };
  if ((m = /^\/\*!40101 SET NAMES (\w+) \*\/;$/.exec(text))) return { kind: 'names', charset: m[1] };
  if (text === "/*!40103 SET TIME_ZONE='+00:00' */;") return { kind: 'utc' };
  if (/^\/\*!40\d\d\d SET @OLD_/.test(text)) return { kind: 'saved' };
  // --no-autocommit: each table's data runs in a transaction of its own, committed after UNLOCK TABLES.
  if (text.startsWith('SET @OLD_AUTOCOMMIT=')) return { kind: 'autocommit-off' };
  // The header of a one-database dump names it here (`-- Current Database:` only comes with
  // --databases / --all-databases).
  if ((m = /^-- Host: .* {4}Database: (.*)$/.exec(text))) return { kind: 'host-database', name: m[1] };
  return { kind: 'plain' };
}

interface Staging {
  table: RegExp;
  aside: string;
  /** In a latin1 dump, the UTF-8 form of the name and of the staging name (CREATE TABLE's). */
  asideUtf8?: { name: string; aside: string };
  old: string;
  target: string;
}

/** The longest identifier MySQL and MariaDB take. */
const MAX_IDENTIFIER = 64;

/**
 * The names a section that creates `table` (latin1 bytes) is loaded and swapped under: the table
 * `<name>__edx_new` (cut to fit), `<name>__edx_old` for the swap; and the pattern of a statement
 * naming the table at its start, quoted or bare (--skip-quote-names).
 */
function stagingNames(table: string, asGiven: string, latin1Names: boolean): Staging {
  const quote = (name: string) => `\`${name.replace(/`/g, '``')}\``;
  // Cut in characters (a name is at most 64 of them), then written as the dump's bytes.
  const chars = [...asGiven].slice(0, MAX_IDENTIFIER - 9).join('');
  const base = latin1Names ? chars : latin1(chars);
  const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // A latin1 dump writes its CREATE TABLE under `SET character_set_client = utf8`: the name there is UTF-8.
  const utf8Name = latin1Names ? quote(latin1(asGiven)) : undefined;
  const names = [esc(quote(table)), ...(utf8Name && utf8Name !== quote(table) ? [esc(utf8Name)] : []), `${esc(table)}(?=[\\s;(])`];
  return {
    table: new RegExp(`^((?:DROP TABLE IF EXISTS|CREATE TABLE|LOCK TABLES|INSERT INTO|INSERT IGNORE INTO|REPLACE INTO|/\\*!40000 ALTER TABLE) )(${names.join('|')})`),
    aside: quote(`${base}__edx_new`),
    asideUtf8: utf8Name === undefined ? undefined : { name: utf8Name, aside: quote(latin1(`${chars}__edx_new`)) },
    old: quote(`${base}__edx_old`),
    target: quote(table),
  };
}

/** Bytes as a one-char-per-byte string (the form names are compared and kept in). */
const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
/** Control characters out of text that goes into a SQL comment line. */
const commentSafe = (s: string) => s.replace(/[\x00-\x1f\x7f]/g, '?');

export interface ExtractOptions {
  /** The table to copy (compared exactly with the name in the dump). Without it: list mode. */
  table?: string;
  /** Only the table of this database, in a dump of several (`-- Current Database:`). */
  database?: string;
  /** Name of the input for the script's first comment. */
  source?: string;
  /**
   * Load a section that creates its table under a staging name and swap it in at its end (the
   * default, for a script piped into a client). Off for a caller that builds aside and swaps on its
   * own (the edxprod refresh): a RENAME of a table others point to would move their foreign keys.
   */
  stage?: boolean;
}

export interface ExtractResult {
  /** The table's section was found (list mode: tables were listed). */
  found: boolean;
  /** The dump ended inside the table's section: it is truncated. */
  truncated: boolean;
  /** Tables seen (by their section comments): 0 means a dump without comments, or not a dump. */
  tablesSeen: number;
  /** The name asked for is a view in the dump. */
  isView: boolean;
  /** With `database`: the dump holds that database. */
  databaseSeen: boolean;
}

/**
 * The filter: bytes in, the SQL script (or in list mode the table names) out. `push` takes the
 * input in chunks of any size; `done` says when the rest of the input does not matter any more.
 */
export class DumpTableFilter {
  private state: 'seeking' | 'inside' | 'done' = 'seeking';
  /** The names asked for, as the dump's bytes (one char per byte). */
  private table?: string;
  private database?: string;
  /** The dump's names are latin1 (its SET NAMES), not UTF-8. */
  private latin1Names = false;
  private currentDb?: string;
  /** The first bytes of the current line, while it is at most HEAD_MAX long. */
  private head: Buffer[] = [];
  private headLength = 0;
  /** The current line is longer than HEAD_MAX: data, copied (inside) or skipped as it comes. */
  private longLine = false;
  /** Blank and `--` lines inside the section, kept until the next line shows whether the section goes on. */
  private held: Buffer[] = [];
  private lastOutByte = LF;
  /** The dump's own session settings, for the script's prologue. */
  private charset?: string;
  private utc = false;
  private sawPrologue = false;
  /** The table of the last structure or data comment (of the current database). */
  private lastTable?: string;
  /**
   * Inside a `DELIMITER ;;` block (triggers, routines, events): their bodies are raw lines, so a
   * line there that reads like a section comment is not one.
   */
  private inDelimiterBlock = false;
  /** The section turned autocommit off (--no-autocommit): the script commits and restores it. */
  private autocommitOff = false;
  /**
   * The section creates the table (it starts with its structure): it is loaded under this name
   * and swapped in only once the section is whole (docs/decisions.md §8). Quoted, as the dump's bytes.
   */
  private staging?: Staging;
  readonly result: ExtractResult = { found: false, truncated: false, tablesSeen: 0, isView: false, databaseSeen: false };

  constructor(private readonly opts: ExtractOptions) {
    this.table = opts.table === undefined ? undefined : latin1(opts.table);
    this.database = opts.database === undefined ? undefined : latin1(opts.database);
  }

  get done(): boolean {
    return this.state === 'done';
  }

  push(chunk: Buffer, out: Buffer[]): void {
    let pos = 0;
    while (pos < chunk.length && this.state !== 'done') {
      const lf = chunk.indexOf(LF, pos);
      const end = lf === -1 ? chunk.length : lf + 1;
      const piece = chunk.subarray(pos, end);
      pos = end;
      if (this.longLine) {
        if (this.state === 'inside') this.emit(piece, out);
        if (lf !== -1) this.longLine = false;
      } else if (this.headLength + piece.length <= HEAD_MAX) {
        if (lf === -1) {
          // Copied: a slice would keep the whole chunk alive for a few bytes.
          this.head.push(Buffer.from(piece));
          this.headLength += piece.length;
        } else {
          const line = this.headLength === 0 ? piece : Buffer.concat([...this.head, piece]);
          this.head = [];
          this.headLength = 0;
          this.line(line, out);
        }
      } else {
        // Too long to be a section comment: data of whatever section we are in.
        if (this.state === 'inside') {
          this.flushHeld(out);
          this.emit(this.staged(this.headLength === 0 ? piece : Buffer.concat([...this.head, piece])), out);
        }
        this.head = [];
        this.headLength = 0;
        this.longLine = lf === -1;
      }
    }
  }

  /** The input has ended: a last line without a newline, then the epilogue. */
  end(out: Buffer[]): void {
    if (this.headLength > 0 && this.state !== 'done') {
      const last = Buffer.concat(this.head);
      // The dump writes every line with its newline: a last line without one was cut short. Inside
      // the section only a whole `UNLOCK TABLES;` ends it (`-- Dumping data for table \`Acc` cut
      // from `Account2` must not read as the next table's comment); the rest is kept, truncated.
      if (this.state === 'inside' && this.kindOf(last).kind !== 'unlock') {
        this.flushHeld(out);
        this.emit(this.staged(last), out);
      } else {
        this.line(last, out);
      }
    }
    this.head = [];
    this.headLength = 0;
    if (this.state === 'inside') {
      // No UNLOCK TABLES and nothing after the table: a complete dump always ends with its epilogue.
      this.result.truncated = true;
      this.finishSection(out, false);
    }
  }

  private kindOf(bytes: Buffer): Line {
    // Most lines of a dump are rows; they need no decoding to be told apart.
    const first = bytes.length > 0 ? bytes[0] : LF;
    if (!INTERESTING_FIRST.has(first)) return { kind: 'plain' };
    let n = bytes.length;
    if (n > 0 && bytes[n - 1] === LF) n--;
    if (n > 0 && bytes[n - 1] === CR) n--;
    return classify(bytes.toString('latin1', 0, n));
  }

  private line(bytes: Buffer, out: Buffer[]): void {
    let kind = this.kindOf(bytes);
    if (kind.kind === 'delimiter') this.inDelimiterBlock = kind.delimiter !== ';';
    else if (this.inDelimiterBlock) kind = { kind: 'plain' };
    if (this.state === 'inside') return this.insideLine(kind, bytes, out);

    switch (kind.kind) {
      case 'database':
      case 'host-database':
        if (kind.name !== this.currentDb) this.lastTable = undefined; // `t` of the next database is another table
        this.currentDb = kind.name;
        if (kind.name === this.database) this.result.databaseSeen = true;
        return;
      case 'names':
        this.charset ??= kind.charset;
        this.sawPrologue = true;
        // Names in the dump are bytes of its character set: in a latin1 dump, `Ünï` is a byte a letter.
        if (/^latin1$/i.test(this.charset ?? '')) {
          this.latin1Names = true;
          const inLatin1 = (name?: string) => (name !== undefined && /^[\0-\xff]*$/.test(name) ? name : undefined);
          this.table = inLatin1(this.opts.table) ?? this.table;
          this.database = inLatin1(this.opts.database) ?? this.database;
        }
        return;
      case 'utc':
        this.utc = true;
        this.sawPrologue = true;
        return;
      case 'saved':
        this.sawPrologue = true;
        return;
      case 'view':
        if (kind.name === this.table && this.inDatabase()) this.result.isView = true;
        return;
      case 'structure':
      case 'data': {
        // A table has a structure comment, a data comment after it, or (--no-create-info) only that.
        const newTable = kind.kind === 'structure' || kind.name !== this.lastTable;
        this.lastTable = kind.name;
        if (newTable) this.result.tablesSeen++;
        if (!this.inDatabase()) return;
        if (this.table === undefined) {
          // Listed as UTF-8: a latin1 dump's names are its characters, any other's are its bytes.
          if (newTable) out.push(Buffer.from(kind.name + '\n', this.latin1Names ? 'utf8' : 'latin1'));
          this.result.found = true;
        } else if (kind.name === this.table) {
          if (kind.kind === 'structure' && this.opts.stage !== false) this.staging = stagingNames(this.table, this.opts.table ?? '', this.latin1Names);
          this.startSection(bytes, out);
        }
        return;
      }
    }
  }

  private inDatabase(): boolean {
    return this.database === undefined || this.currentDb === this.database;
  }

  private startSection(header: Buffer, out: Buffer[]): void {
    this.state = 'inside';
    this.result.found = true;
    // Without a recognisable prologue (not a standard dump header) the usual mysqldump settings.
    const utc = this.utc || !this.sawPrologue;
    const charset = this.charset ?? 'utf8mb4';
    const name = this.opts.table ?? '';
    out.push(Buffer.from(`-- edx-extract-table: table \`${commentSafe(name)}\` of ${commentSafe(this.opts.source ?? '-')}
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!40101 SET NAMES ${charset} */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
${utc ? "/*!40103 SET TIME_ZONE='+00:00' */;\n" : ''}\
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;

--
`));
    this.emit(header, out);
  }

  private insideLine(kind: Line, bytes: Buffer, out: Buffer[]): void {
    switch (kind.kind) {
      case 'autocommit-off':
        this.autocommitOff = true;
        break;
      case 'unlock':
        this.flushHeld(out);
        this.emit(bytes, out);
        return this.finishSection(out);
      case 'filler':
        this.held.push(bytes);
        return;
      case 'data':
        // Its own data comment goes on; another table's (--no-create-info dumps) ends it.
        if (kind.name === this.table) break;
        return this.finishSection(out);
      case 'structure':
      case 'view':
      case 'database':
      case 'other-section':
      case 'delimiter':
        // The next section begins: the table had no LOCK/UNLOCK (--skip-add-locks) or no data.
        return this.finishSection(out);
    }
    this.flushHeld(out);
    this.emit(this.staged(bytes), out);
  }

  /**
   * A line of the section with the table's name in its statement (DROP, CREATE, LOCK, ALTER, INSERT,
   * REPLACE) replaced by the staging name; any other line, and the rest of the line, as it is.
   */
  private staged(line: Buffer): Buffer {
    if (!this.staging) return line;
    const first = line[0];
    // D(ROP) C(REATE) L(OCK) I(NSERT) R(EPLACE) /(*!40000 ALTER)
    if (first !== 0x44 && first !== 0x43 && first !== 0x4c && first !== 0x49 && first !== 0x52 && first !== 0x2f) return line;
    const head = line.toString('latin1', 0, Math.min(line.length, 400));
    const m = this.staging.table.exec(head);
    if (!m) return line;
    const at = m[1].length;
    const utf8 = this.staging.asideUtf8;
    const aside = utf8 && m[2] === utf8.name ? utf8.aside : this.staging.aside;
    return Buffer.concat([line.subarray(0, at), Buffer.from(aside, 'latin1'), line.subarray(at + m[2].length)]);
  }

  private finishSection(out: Buffer[], whole = true): void {
    this.held = []; // the blank and `--` lines that framed the next section's comment
    this.state = 'done';
    // --no-autocommit: the dump commits the table's rows and restores autocommit after UNLOCK
    // TABLES, that is after the section: so does the script.
    const commit = this.autocommitOff ? 'COMMIT;\nSET AUTOCOMMIT=@OLD_AUTOCOMMIT;\n' : '';
    // The section was loaded aside: a whole one replaces the table in one atomic RENAME (a table
    // of that name is made first when there is none, so that the RENAME always has one to move);
    // a cut one replaces nothing, whatever ran the script (docs/decisions.md §8).
    const st = this.staging;
    const swap = st === undefined ? '' : whole
      ? `-- edx-extract-table: the section is whole: it replaces the table\n` +
        `DROP TABLE IF EXISTS ${st.old};\nCREATE TABLE IF NOT EXISTS ${st.target} (edx_extract_table_placeholder INT);\n` +
        `RENAME TABLE ${st.target} TO ${st.old}, ${st.aside} TO ${st.target};\nDROP TABLE ${st.old};\n`
      : `-- edx-extract-table: the dump is truncated: the table is left as it was (what was read is in ${st.aside})\n`;
    // Names are the dump's bytes (one char per byte), the rest ASCII.
    out.push(Buffer.from(`${this.lastOutByte === LF ? '' : '\n'}${commit}
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;
/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
${swap}`, 'latin1'));
    out.push(Buffer.from(`/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;
`));
  }

  private flushHeld(out: Buffer[]): void {
    for (const h of this.held) this.emit(h, out);
    this.held = [];
  }

  private emit(bytes: Buffer, out: Buffer[]): void {
    if (bytes.length === 0) return;
    out.push(bytes);
    this.lastOutByte = bytes[bytes.length - 1];
  }
}

/**
 * Run the filter over a dump (a path, `-` for stdin; gzip recognised by content) into `out`,
 * with backpressure. Reading stops as soon as the table's section is over. An error on `out`
 * (EPIPE when the reader went away) is thrown, with the input closed.
 */
export async function extractFromDump(path: string, opts: ExtractOptions, out: Writable): Promise<ExtractResult> {
  const source = opts.source ?? (path === '-' ? 'stdin' : path);
  const filter = new DumpTableFilter({ ...opts, source });
  const input = await openInput(path).catch((e) => { throw inputError(source, e); });
  let outError: Error | undefined;
  const onError = (e: Error) => { outError ??= e; };
  out.on('error', onError);
  const flush = async (pieces: Buffer[]) => {
    // One write per input chunk: stdout on a pipe writes synchronously, a call per line would be slow.
    if (pieces.length > 0) await write(out, pieces.length === 1 ? pieces[0] : Buffer.concat(pieces));
    if (outError) throw outError;
  };
  // Errors of the input are the user's (a missing file, a broken gzip): said plainly, as an
  // InputError; errors of `out` go on as they are.
  let writing = false;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      const pieces: Buffer[] = [];
      filter.push(chunk, pieces);
      writing = true;
      await flush(pieces);
      writing = false;
      if (filter.done) break; // leaving the loop destroys the input stream
    }
    const pieces: Buffer[] = [];
    if (!filter.done) filter.end(pieces);
    writing = true;
    await flush(pieces);
  } catch (e) {
    throw writing ? e : inputError(source, e);
  } finally {
    // The error listener stays: an EPIPE of the last write is reported a tick later, and without
    // a listener it would end the process with a stack trace instead of quietly.
    if (path === '-') process.stdin.destroy(); // a gunzip in front of it does not close it
  }
  return filter.result;
}
