// Checks of the paths a tool was given, made before anything is opened for writing: a slip of
// the finger (`--rejects day.gz` for `< day.gz`, a missing directory, an input named as an
// output) must never destroy an input or waste a night's run.
import { accessSync, closeSync, constants, openSync, readSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ToolError, UsageError } from '../core/errors.js';
import { withoutPadding } from './nul-padding.js';

const statOf = (path: string): Stats | undefined => {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
};

/** Whether two paths name one existing file (hard links and other spellings too). */
export function sameFile(a: string, b: string): boolean {
  const x = statOf(a);
  const y = x && statOf(b);
  return Boolean(x && y && x.dev === y.dev && x.ino === y.ino);
}

/** Every input that is a path (not '-') exists and can be read; else a failure naming it. */
export function checkInputs(inputs: readonly string[]): void {
  for (const input of inputs) {
    if (input === '-') continue;
    const st = statOf(input);
    if (!st) throw new ToolError(`${input}: no such file`);
    if (st.isDirectory()) throw new ToolError(`${input}: is a directory, not a log`);
    try {
      accessSync(input, constants.R_OK);
    } catch {
      throw new ToolError(`${input}: cannot be read (permission denied)`);
    }
  }
}

/**
 * An input option's value (`--dump FILE`, `--tmpdir DIR`, ...): exists, is a file or a directory as
 * `kind` asks ('either' for options that take both), and can be read; else one line naming the option.
 */
export function checkInputPath(option: string, path: string, kind: 'file' | 'directory' | 'either'): void {
  const st = statOf(path);
  if (!st) throw new ToolError(`${option} ${path}: no such ${kind === 'either' ? 'file or directory' : kind}`);
  if (kind === 'file' && st.isDirectory()) throw new UsageError(`${option} ${path}: is a directory, not a file`);
  if (kind === 'directory' && !st.isDirectory()) throw new UsageError(`${option} ${path}: is not a directory`);
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new ToolError(`${option} ${path}: cannot be read (permission denied)`);
  }
}

/** The first bytes of a file (at most `n`). */
function head(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/** Whether a file looks like an input of ours: gzip, or text whose first line is a tracking event. */
export function looksLikeInput(path: string): boolean {
  const bytes = head(path, 4096);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return true;
  const first = bytes.toString('utf8').split('\n').map(withoutPadding).find((line) => line !== '') ?? '';
  return /^\{.*"(event_type|username|event_source)"\s*:/.test(first) || /^[^{]{0,200}\{"(username|event_type|host|time)"/.test(first);
}

/**
 * An output file option's value: not one of the inputs, not an existing file that looks like an
 * input (a tracking log, any gzip), in a directory that exists and can be written (or inside
 * `madeDir`, a directory the tool makes, under one that can be written).
 */
export function checkOutputFile(option: string, path: string, inputs: readonly string[], madeDir?: string): void {
  const target = statOf(path);
  if (target?.isDirectory()) throw new UsageError(`${option} ${path}: is a directory, not a file`);
  if (target) {
    for (const input of inputs) {
      if (input !== '-' && sameFile(input, path)) {
        throw new UsageError(`${option} ${path}: that is one of the inputs; it would be overwritten`);
      }
    }
    if (target.isFile() && looksLikeInput(path)) {
      throw new UsageError(`${option} ${path}: exists and looks like a tracking log or a gzip file; not overwriting it (remove it first, or choose another name)`);
    }
  }
  const dir = dirname(resolve(path));
  // A file inside a directory the tool makes itself (--csv DIR) needs that directory's parent.
  if (madeDir !== undefined && (dir + '/').startsWith(resolve(madeDir) + '/')) return checkOutputDir(option, dir);
  const parent = statOf(dir);
  if (!parent?.isDirectory()) throw new ToolError(`${option} ${path}: the directory ${dir} does not exist`);
  try {
    accessSync(target ? path : dir, constants.W_OK);
  } catch {
    throw new ToolError(`${option} ${path}: cannot be written (permission denied)`);
  }
}

/** An output directory option's value: a directory, or a name a directory can be made under. */
export function checkOutputDir(option: string, path: string): void {
  const target = statOf(path);
  if (target && !target.isDirectory()) throw new UsageError(`${option} ${path}: exists and is not a directory`);
  let existing = resolve(path);
  while (!statOf(existing)) existing = dirname(existing);
  try {
    accessSync(existing, constants.W_OK);
  } catch {
    throw new ToolError(`${option} ${path}: cannot be written under ${existing} (permission denied)`);
  }
}
