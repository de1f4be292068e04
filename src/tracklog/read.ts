// Reading tracking logs: files or stdin, gzip recognised by its magic bytes (not the name),
// one line at a time with its number, as a stream (constant memory whatever the input size).
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { PassThrough, type Readable } from 'node:stream';
import split2 from 'split2';

export interface InputLine {
  /** 1-based line number in the (decompressed) input. */
  lineNo: number;
  /** The line without its terminator (LF or CRLF); invalid UTF-8 decoded as U+FFFD. */
  text: string;
}

/** Open a path (`-` = stdin) as a stream of decompressed bytes. */
export function openInput(path: string): Readable {
  const raw: Readable = path === '-' ? process.stdin : createReadStream(path);
  const out = new PassThrough();
  let decided = false;
  const decide = (chunk: Buffer | null) => {
    decided = true;
    if (chunk && chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b) {
      const gunzip = createGunzip();
      gunzip.on('error', (e) => out.destroy(new Error(`${path}: not a valid gzip stream (${e.message})`)));
      raw.unshift(chunk);
      raw.pipe(gunzip).pipe(out);
    } else {
      if (chunk) raw.unshift(chunk);
      raw.pipe(out);
    }
  };
  raw.on('error', (e) => out.destroy(e));
  raw.once('readable', () => {
    if (decided) return;
    const chunk = raw.read() as Buffer | null;
    decide(chunk);
  });
  raw.once('end', () => {
    if (!decided) decide(null);
  });
  return out;
}

/** The lines of an input, numbered. */
export async function* readLines(path: string): AsyncGenerator<InputLine> {
  const lines = openInput(path).pipe(split2(/\r?\n/, { maxLength: 64 * 1024 * 1024 }));
  let lineNo = 0;
  for await (const text of lines as AsyncIterable<string>) {
    lineNo++;
    yield { lineNo, text };
  }
}
