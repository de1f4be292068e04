// The one CSV dialect of edx-pipes, and the LOAD DATA statement that reads it (docs/decisions.md §10).
//
//   - fields separated by ',', rows ended by '\n', one physical line per row;
//   - text (and dates) always enclosed in '"'; numbers bare; NULL is a bare \N;
//   - escape character '\': backslash → \\, '"' → \", newline → \n, carriage return → \r,
//     NUL → \0, Ctrl-Z → \Z. So every value is escaped and no row spans two lines, which lets
//     the row stream (rowstream-format.ts) frame rows by '\n' and lets line tools (wc -l, split) work.
//
// The LOAD statement below is the exact reader of this dialect:
//   CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '\\'
//   LINES TERMINATED BY '\n'
//
// Why not csv-stringify: it escapes by doubling quotes and leaves newlines/NUL raw, and it cannot
// write an unenclosed \N for NULL beside escaped backslashes in the same file; LOAD DATA with an
// escape character needs exactly the rules above. It would also be the slowest step of a load: this
// encoder is a regex test per value.
import { DEFAULT_DATABASES, type DatabaseNames, type TableDef, type Value } from '../schema/table.js';
import { EdxTrackEvent } from '../schema/tables.js';
import { columnList, qualifiedName } from '../schema/ddl.js';
import { CHARSET } from '../schema/charset.js';
import { RowText } from '../schema/row-text.js';

const SPECIAL = /[\\"\n\r\0\x1a]/;
const SPECIAL_ALL = /[\\"\n\r\0\x1a]/g;
const ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\0': '\\0',
  '\x1a': '\\Z',
};
const escapeChar = (c: string) => ESCAPES[c];

export function encodeValue(v: Value): string {
  if (v === null) return '\\N';
  if (typeof v === 'number') return String(v);
  return SPECIAL.test(v) ? `"${v.replace(SPECIAL_ALL, escapeChar)}"` : `"${v}"`;
}

const rowTexts = new Map<TableDef, RowText>();

/** One row of a table as one line, without its '\n'. */
export function encodeRow(table: TableDef, values: readonly Value[]): string {
  let text = rowTexts.get(table);
  if (text === undefined) rowTexts.set(table, (text = new RowText(table, encodeValue)));
  return text.of(values);
}

/** The byte that ends every row. */
export const ROW_END = [0x0a];

/** The clause that describes the dialect to LOAD DATA (written with SQL string escapes). */
export const DIALECT_CLAUSE =
  `CHARACTER SET ${CHARSET} FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'`;

/** A SQL string literal for a file name (backslash-escaped, as the default sql_mode reads it). */
const fileLiteral = (s: string) => `'${s.replace(/[\\']/g, (c) => '\\' + c)}'`;

/**
 * LOAD DATA LOCAL INFILE for one table file. REPLACE: primary keys are derived from the input
 * (docs/decisions.md §11), so a row that is already there is the same event; REPLACE overwrites it
 * without a warning (IGNORE would warn once per duplicate), the later copy winning as in the SQL
 * script's REPLACE INTO.
 */
export function loadStatement(table: TableDef, file: string, names: DatabaseNames = DEFAULT_DATABASES): string {
  const quoted = { quoted: true };
  return `LOAD DATA LOCAL INFILE ${fileLiteral(file)} REPLACE INTO TABLE ${qualifiedName(table, names, quoted)} ${DIALECT_CLAUSE} (${columnList(table, quoted)})`;
}

const QUARTER_COLUMN = EdxTrackEvent.position.quarter;

/** Collects the quarters of a source's EdxTrackEvent rows (the partitions its load needs). */
export class QuarterSet {
  private readonly seen = new Set<string>();
  /** Adds the row's quarter; returns it when this set had not seen it before (else undefined). */
  add(table: TableDef, values: readonly Value[]): string | undefined {
    if (table !== EdxTrackEvent) return undefined;
    const v = values[QUARTER_COLUMN];
    const q = typeof v === 'string' ? v : '';
    if (this.seen.has(q)) return undefined;
    this.seen.add(q);
    return q;
  }
  list(): string[] {
    return [...this.seen].sort();
  }
}
