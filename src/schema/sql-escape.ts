// SQL literals. Every value is escaped when written (docs/decisions.md §10): quotes, backslashes, NUL,
// newlines, carriage returns and Ctrl-Z, as mysqldump does, so any text loads under any sql_mode
// that keeps backslash escapes (the default).
import type { Value } from './fit.js';

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
