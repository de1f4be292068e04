// SQL literals. Every value is escaped when written (docs/decisions.md §10): quotes, backslashes, NUL,
// newlines, carriage returns and Ctrl-Z, as mysqldump does. That reads back only under a sql_mode
// that keeps backslash escapes, so the SQL script and every connection of the tools set SQL_MODE
// below for their session (docs/decisions.md §10) whatever the server's: a value can never end its
// string (NO_BACKSLASH_ESCAPES), "…" is always a string (ANSI_QUOTES), and statements and routines
// parse as MariaDB and MySQL read them by default (not ORACLE's dialect).
import type { Value } from './table.js';

/**
 * The session sql_mode our SQL text relies on: strict (a value that does not fit is an error, not
 * a cut), and nothing that changes the meaning of a quote or a backslash. Only modes that MariaDB
 * 10.11 and MySQL 8 both know; both have them in their default.
 */
export const SQL_MODE = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';

const NEEDS_ESCAPE = /[\0\n\r\\'"\x1a]/;
const ESCAPES: Record<string, string> = {
  '\0': '\\0',
  '\n': '\\n',
  '\r': '\\r',
  '\\': '\\\\',
  "'": "\\'",
  '"': '\\"',
  '\x1a': '\\Z',
};

/** An identifier (database, table, column) in backquotes, a backquote in it doubled. */
export const quoteIdent = (s: string): string => '`' + s.replace(/`/g, '``') + '`';

export function sqlString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `'${s}'`;
  return `'${s.replace(/[\0\n\r\\'"\x1a]/g, (c) => ESCAPES[c])}'`;
}

export function sqlLiteral(v: Value): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number') return String(v);
  return sqlString(v);
}
