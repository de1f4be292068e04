// Reading tracking logs: files or stdin, gzip recognised by its magic bytes (not the name),
// one line at a time with its number, as a stream (constant memory whatever the input size).
import { createReadStream } from 'node:fs';
import { createGunzip, Gunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { ToolError } from '../core/errors.js';
import { skipNul } from './nul-padding.js';

/** An input that could not be read to its end (missing, unreadable, not valid gzip, …): said plainly. */
export class InputError extends ToolError {}

const SYSTEM_REASONS: Record<string, string> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'is a directory' };

/** Why a file could not be read, in words ('no such file'), or the error's own message. */
export function readFailure(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return (err.code !== undefined ? SYSTEM_REASONS[err.code] : undefined) ?? err.message ?? String(e);
}

/** The error of reading input `name` as the user is told it: `name: reason` (an InputError as it is). */
export function inputError(name: string, e: unknown): InputError {
  if (e instanceof InputError) return e;
  const reason = readFailure(e);
  return new InputError(reason.startsWith(`${name}: `) ? reason : `${name}: ${reason}`);
}

export interface InputLine {
  /** 1-based line number in the (decompressed) input. */
  lineNo: number;
  /** The line without its terminator (LF or CRLF); invalid UTF-8 decoded as U+FFFD. */
  text: string;
}

/** A line longer than this (in bytes) fails the input: it is a corrupt or binary file, not a log. */
const MAX_LINE_BYTES = 64 * 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;
/**
 * Read files 256 KiB at a time. Measured on 200k events, interleaved: 64 KiB 4.17 s and 152 MiB
 * peak (the transform waited on the thread pool), 256 KiB 3.74 s and 165 MiB, 1 MiB no faster but
 * 200 MiB (bigger batches of lines grow the young heap).
 */
const READ_CHUNK_BYTES = 256 * 1024;

/**
 * At least `want` bytes from the start of a stream (fewer only when it ends first: `ended`), or
 * null when it is empty.
 */
async function firstBytes(raw: Readable, want: number): Promise<{ bytes: Buffer | null; ended: boolean }> {
  const got: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < want && !(ended ||= raw.readableEnded)) {
    const chunk = await new Promise<Buffer | null | 'end'>((resolve, reject) => {
      const onReadable = () => { cleanup(); resolve(raw.read() as Buffer | null); };
      const onEnd = () => { cleanup(); resolve('end'); };
      const onError = (e: Error) => { cleanup(); reject(e); };
      const cleanup = () => { raw.off('readable', onReadable); raw.off('end', onEnd); raw.off('error', onError); };
      raw.once('readable', onReadable);
      raw.once('end', onEnd);
      raw.once('error', onError);
    });
    if (chunk === 'end') ended = true;
    else if (chunk) {
      got.push(chunk);
      length += chunk.length;
    }
  }
  return { bytes: length ? Buffer.concat(got) : null, ended };
}

/** Open a path (`-` = stdin) as a stream of decompressed bytes. */
export async function openInput(path: string): Promise<Readable> {
  const input: Readable = path === '-' ? process.stdin : createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  const name = path === '-' ? 'stdin' : path;
  // The magic is two bytes, and a slow pipe may deliver one first: read until two are here.
  const { bytes: first, ended } = await firstBytes(input, 2);
  // An input that ended already (a byte or two) cannot take its bytes back: they go on from here.
  const raw = ended ? Readable.from(first ? [first] : []) : input;
  if (first && !ended) raw.unshift(first);
  const gzip = first !== null && first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
  // Gzip is known by its content (plain text under a .gz name is read as it is), but a .gz file
  // that is empty or only the first byte of the magic is an upload cut short, not an empty log:
  // taken for one, it would be recorded as loaded and the complete file never loaded.
  if (!gzip && path !== '-' && /\.gz$/i.test(path) && (first === null || (first.length === 1 && first[0] === 0x1f))) {
    raw.destroy();
    throw new InputError(`${name}: ${first === null ? 'empty' : 'one byte long'}, though named .gz: cut short (an interrupted upload or copy?)`);
  }
  if (gzip) {
    const gunzip = createGunzip();
    raw.on('error', (e) => gunzip.destroy(e));
    gunzip.on('error', (e) => { if (!/^.*: /.test(e.message)) e.message = `${name}: not a valid gzip stream (${e.message})`; });
    return raw.pipe(gunzip);
  }
  return raw;
}

/**
 * The lines of an input, in order, a batch per chunk read. Lines are found in the bytes and each
 * is decoded on its own: a line of ASCII becomes a one-byte string even when a neighbour holds
 * other characters, and everything that reads it later (JSON.parse, hashing, regexes) is faster
 * for that. (Decoding whole chunks made every line of a chunk two-byte as soon as one was; a
 * newline byte is never part of a multi-byte character, so the text is the same.)
 *
 * NUL bytes that start a line are dropped as they arrive (nul-padding.ts; decode drops NULs
 * inside a line too).
 * A line still longer than MAX_LINE_BYTES is cut there and the rest of it, up to its newline,
 * skipped: the cut line is repaired, rescued or rejected like any broken line, and the file goes on.
 */
export async function* readLineBatches(path: string, opts: LineOptions = {}): AsyncGenerator<string[]> {
  const input = await openInput(path);
  // The start of a line not ended yet, in pieces (a long line must not be copied once per chunk).
  const partial: Buffer[] = [];
  let partialLength = 0;
  /** The current line passed MAX_LINE_BYTES: its rest is skipped up to the newline. */
  let cut = false;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    const lines: string[] = [];
    let start = partialLength === 0 && !cut ? skipNul(chunk, 0) : 0;
    for (let lf = chunk.indexOf(LF, start); lf !== -1; lf = chunk.indexOf(LF, start)) {
      if (partial.length > 0) {
        if (!cut) partial.push(chunk.subarray(0, lf));
        const whole = Buffer.concat(partial);
        lines.push(lineText(whole, 0, cut ? whole.length : partialLength + lf));
        partial.length = 0;
        partialLength = 0;
        cut = false;
      } else {
        lines.push(lineText(chunk, start, lf));
      }
      start = skipNul(chunk, lf + 1);
    }
    if (start < chunk.length && !cut) {
      partial.push(chunk.subarray(start));
      partialLength += chunk.length - start;
      if (partialLength > MAX_LINE_BYTES) cut = true;
    }
    if (lines.length > 0) yield lines;
  }
  if (partialLength > 0) {
    const text = Buffer.concat(partial).toString('utf8');
    // A plain file may still be written to: its last line without a newline may be half a line.
    const growing = path !== '-' && !(input instanceof Gunzip);
    if (growing && opts.onUnterminated) opts.onUnterminated(text);
    else yield [text];
  }
}

export interface LineOptions {
  /**
   * Given: the last line of a plain file when no newline ends it (the file may still be growing,
   * docs/decisions.md §8) is handed here, after every other line, instead of being yielded.
   */
  onUnterminated?: (text: string) => void;
}

/** The text of bytes start..end-1 without a CR before the LF at `end` (invalid UTF-8 as U+FFFD). */
function lineText(bytes: Buffer, start: number, end: number): string {
  return bytes.toString('utf8', start, end > start && bytes[end - 1] === CR ? end - 1 : end);
}

/** The lines of an input, numbered. */
export async function* readLines(path: string): AsyncGenerator<InputLine> {
  let lineNo = 0;
  for await (const batch of readLineBatches(path)) {
    for (const text of batch) yield { lineNo: ++lineNo, text };
  }
}
