// Reading tracking logs: files or stdin, gzip recognised by its magic bytes (not the name),
// one line at a time with its number, as a stream (constant memory whatever the input size).
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

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

/** At least `want` bytes from the start of a stream (fewer only when it ends first), or null when empty. */
async function firstBytes(raw: Readable, want: number): Promise<Buffer | null> {
  const got: Buffer[] = [];
  let length = 0;
  while (length < want && !raw.readableEnded) {
    const chunk = await new Promise<Buffer | null | 'end'>((resolve, reject) => {
      const onReadable = () => { cleanup(); resolve(raw.read() as Buffer | null); };
      const onEnd = () => { cleanup(); resolve('end'); };
      const onError = (e: Error) => { cleanup(); reject(e); };
      const cleanup = () => { raw.off('readable', onReadable); raw.off('end', onEnd); raw.off('error', onError); };
      raw.once('readable', onReadable);
      raw.once('end', onEnd);
      raw.once('error', onError);
    });
    if (chunk === 'end') break;
    if (chunk) {
      got.push(chunk);
      length += chunk.length;
    }
  }
  return length ? Buffer.concat(got) : null;
}

/** Open a path (`-` = stdin) as a stream of decompressed bytes. */
export async function openInput(path: string): Promise<Readable> {
  const raw: Readable = path === '-' ? process.stdin : createReadStream(path);
  const name = path === '-' ? 'stdin' : path;
  // The magic is two bytes, and a slow pipe may deliver one first: read until two are here.
  const first = await firstBytes(raw, 2);
  if (first) raw.unshift(first);
  if (first && first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) {
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
 */
export async function* readLineBatches(path: string): AsyncGenerator<string[]> {
  const input = await openInput(path);
  // The start of a line not ended yet, in pieces (a long line must not be copied once per chunk).
  const partial: Buffer[] = [];
  let partialLength = 0;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    const lines: string[] = [];
    let start = 0;
    for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, start)) {
      if (partial.length > 0) {
        partial.push(chunk.subarray(0, lf));
        lines.push(lineText(Buffer.concat(partial), 0, partialLength + lf));
        partial.length = 0;
        partialLength = 0;
      } else {
        lines.push(lineText(chunk, start, lf));
      }
      start = lf + 1;
    }
    if (start < chunk.length) {
      partial.push(chunk.subarray(start));
      partialLength += chunk.length - start;
      if (partialLength > MAX_LINE_BYTES) throw new Error(`${path}: a line longer than ${MAX_LINE_BYTES} bytes`);
    }
    if (lines.length > 0) yield lines;
  }
  if (partialLength > 0) yield [Buffer.concat(partial).toString('utf8')];
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
