// MySQL/MariaDB option files (my.cnf) read the way the mysql client reads them (docs/connection.md):
// `[group]` lines, `name=value` and bare `name` lines, `#` and `;` comment lines (and a `#` outside
// quotes ending any line), values in single or double quotes, the escapes \b \t \n \r \\ \s, dashes
// and underscores the same in names, a `loose-` prefix dropped, and `!include FILE` /
// `!includedir DIR` (its *.cnf files in name order). Options of the groups asked for are kept in
// the order they come, so a later line wins, whichever of those groups it is in.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** One line of an option file, as parsed. */
export type OptionFileEntry =
  | { kind: 'option'; group: string; name: string; value: string | undefined; line: number }
  | { kind: 'include' | 'includedir'; path: string; line: number };

/** A mistake in an option file: names the file and line, as the client does. */
export class OptionFileError extends Error {}

/** `ssl_ca`, `SSL-CA` and `loose-ssl-ca` are all `ssl-ca`. */
export const optionName = (name: string) => name.trim().toLowerCase().replace(/_/g, '-').replace(/^loose-/, '');

/** The text before a `#` that is outside quotes (a `#` in a quoted value is part of it). */
function withoutComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#') return line.slice(0, i);
  }
  return line;
}

const ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', r: '\r', s: ' ', '\\': '\\', '"': '"', "'": "'" };

/** A value as written after `=`: outer quotes taken off, escapes turned into their characters. */
export function optionValue(raw: string): string {
  let v = raw.trim();
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.endsWith(v[0])) v = v.slice(1, -1);
  // An unknown escape keeps its backslash (as the client does).
  return v.replace(/\\(.)/g, (all, c: string) => ESCAPES[c] ?? all);
}

/**
 * The entries of an option file's text, in order: options of every group (named in lower case) and
 * the include directives (which apply wherever they stand). `where` names the file in errors.
 */
export function parseOptionText(text: string, where: string): OptionFileEntry[] {
  const out: OptionFileEntry[] = [];
  let group: string | undefined;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const trimmed = lines[i].trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    const fail = (why: string) => new OptionFileError(`${where}:${line}: ${why}`);
    if (trimmed.startsWith('!')) {
      const m = /^!(includedir|include)\s+(.+)$/.exec(trimmed);
      if (!m) throw fail(`unknown directive ${JSON.stringify(trimmed)} (only !include FILE and !includedir DIR)`);
      out.push({ kind: m[1] as 'include' | 'includedir', path: m[2].trim(), line });
      continue;
    }
    const text = withoutComment(trimmed).trim();
    if (text === '') continue;
    if (text.startsWith('[')) {
      const m = /^\[([^\]]*)\]$/.exec(text);
      if (!m || m[1].trim() === '') throw fail(`not a group line: ${JSON.stringify(trimmed)}`);
      group = m[1].trim().toLowerCase();
      continue;
    }
    if (group === undefined) throw fail('an option before any [group]');
    const eq = text.indexOf('=');
    const name = optionName(eq < 0 ? text : text.slice(0, eq));
    if (name === '' || /\s/.test(name)) throw fail(`not an option line: ${JSON.stringify(trimmed)}`);
    out.push({ kind: 'option', group, name, value: eq < 0 ? undefined : optionValue(text.slice(eq + 1)), line });
  }
  return out;
}

/** An option as read: its value (undefined for a bare name) and the file it came from. */
export interface ReadOption {
  value: string | undefined;
  file: string;
}

export interface ReadResult {
  /** The options of the groups asked for, a later one replacing an earlier one of the same name. */
  options: Map<string, ReadOption>;
  /** Every file read, in order (included ones too). */
  files: string[];
  /** Files left out, with why (a world-writable file, as the client leaves it out). */
  warnings: string[];
}

/** Nested includes beyond this are taken for a loop. */
const MAX_DEPTH = 10;

/**
 * Read option files in order, following their includes, keeping the options of `groups`. A file
 * that is `required` (one the user named) must exist; the others are read when they exist. An
 * included file must exist; an included directory that does not is skipped.
 */
export function readOptionFiles(files: { path: string; required: boolean; named?: string }[], groups: Iterable<string>): ReadResult {
  const wanted = new Set([...groups].map((g) => g.toLowerCase()));
  const result: ReadResult = { options: new Map(), files: [], warnings: [] };
  const readOne = (path: string, depth: number, required: boolean, named: string) => {
    if (depth > MAX_DEPTH) throw new OptionFileError(`${path}: includes nested more than ${MAX_DEPTH} deep (a loop?)`);
    let text: string;
    try {
      const st = statSync(path);
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTFILE' });
      // A file anyone may write could point the client at another server: the client ignores it.
      if (st.mode & 0o002) {
        result.warnings.push(`${path}: world-writable option file ignored`);
        return;
      }
      text = readFileSync(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (!required && (code === 'ENOENT' || code === 'ENOTDIR')) return;
      const why = code === 'ENOENT' ? 'no such file' : (e as Error).message.replace(/^[A-Z]+: /, '');
      throw new OptionFileError(`option file ${path}${named ? ` (${named})` : ''}: ${why}`);
    }
    result.files.push(path);
    for (const entry of parseOptionText(text, path)) {
      if (entry.kind === 'option') {
        if (wanted.has(entry.group)) result.options.set(entry.name, { value: entry.value, file: path });
        continue;
      }
      const target = resolve(dirname(path), entry.path);
      if (entry.kind === 'include') {
        readOne(target, depth + 1, true, `!include in ${path}:${entry.line}`);
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(target);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new OptionFileError(`${path}:${entry.line}: !includedir ${target}: ${(e as Error).message}`);
      }
      for (const name of names.filter((n) => n.endsWith('.cnf')).sort()) readOne(join(target, name), depth + 1, false, '');
    }
  };
  for (const f of files) readOne(f.path, 0, f.required, f.named ?? '');
  return result;
}
