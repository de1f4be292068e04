// Reading tracking logs: files or stdin, gzip recognised by its magic bytes (not the name),
// one line at a time with its number, as a stream (constant memory whatever the input size).
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import split2 from 'split2';

export interface InputLine {
  /** 1-based line number in the (decompressed) input. */
  lineNo: number;
  /** The line without its terminator (LF or CRLF); invalid UTF-8 decoded as U+FFFD. */
  text: string;
}

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

/** The lines of an input, numbered. */
export async function* readLines(path: string): AsyncGenerator<InputLine> {
  const input = await openInput(path);
  const lines = input.pipe(split2(/\r?\n/, { maxLength: 64 * 1024 * 1024 }));
  input.on('error', (e) => lines.destroy(e));
  let lineNo = 0;
  for await (const text of lines as AsyncIterable<string>) {
    lineNo++;
    yield { lineNo, text };
  }
}
