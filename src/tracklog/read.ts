// Reading tracking logs: files or stdin, gzip recognised by its magic bytes (not the name),
// one line at a time with its number, as a stream (constant memory whatever the input size).
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

export interface InputLine {
  /** 1-based line number in the (decompressed) input. */
  lineNo: number;
  /** The line without its terminator (LF or CRLF); invalid UTF-8 decoded as U+FFFD. */
  text: string;
}

/** A line longer than this (UTF-16 units) fails the input: it is a corrupt or binary file, not a log. */
const MAX_LINE_LENGTH = 64 * 1024 * 1024;
const LINE_END = /\r?\n/;

/** Open a path (`-` = stdin) as a stream of decompressed bytes. */
export async function openInput(path: string): Promise<Readable> {
  const raw: Readable = path === '-' ? process.stdin : createReadStream(path);
  const first = await new Promise<Buffer | null>((resolve, reject) => {
    const onReadable = () => { cleanup(); resolve(raw.read() as Buffer | null); };
    const onEnd = () => { cleanup(); resolve(null); };
    const onError = (e: Error) => { cleanup(); reject(e); };
    const cleanup = () => { raw.off('readable', onReadable); raw.off('end', onEnd); raw.off('error', onError); };
    raw.once('readable', onReadable);
    raw.once('end', onEnd);
    raw.once('error', onError);
  });
  if (first) raw.unshift(first);
  if (first && first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) {
    const gunzip = createGunzip();
    raw.on('error', (e) => gunzip.destroy(e));
    gunzip.on('error', (e) => { if (!/^.*: /.test(e.message)) e.message = `${path}: not a valid gzip stream (${e.message})`; });
    return raw.pipe(gunzip);
  }
  return raw;
}

/**
 * The lines of an input, in order, a batch per chunk read. Whole chunks are split at once and
 * their lines handed on as an array: pushing each line through an object-mode stream (split2)
 * and an async iterator cost more than all the rest of reading.
 */
export async function* readLineBatches(path: string): AsyncGenerator<string[]> {
  const input = await openInput(path);
  const decoder = new StringDecoder('utf8');
  // The start of a line not ended yet, in pieces (a long line must not be copied once per chunk).
  const partial: string[] = [];
  let partialLength = 0;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    const text = decoder.write(chunk);
    if (!text.includes('\n')) {
      partial.push(text);
      partialLength += text.length;
      if (partialLength > MAX_LINE_LENGTH) throw new Error(`${path}: a line longer than ${MAX_LINE_LENGTH} characters`);
      continue;
    }
    const lines = (partial.length ? partial.join('') + text : text).split(LINE_END);
    const last = lines.pop()!;
    partial.length = 0;
    partial.push(last);
    partialLength = last.length;
    yield lines;
  }
  const last = partial.join('') + decoder.end();
  if (last !== '') yield [last];
}

/** The lines of an input, numbered. */
export async function* readLines(path: string): AsyncGenerator<InputLine> {
  let lineNo = 0;
  for await (const batch of readLineBatches(path)) {
    for (const text of batch) yield { lineNo: ++lineNo, text };
  }
}
