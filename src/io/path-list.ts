// A list of paths read as a stream (`--files-from FILE`, `-` for stdin), like tar's -T and rsync's
// --files-from: one path per line, or NUL-terminated with `null` (as `find -print0` writes them).
// Read lazily, one chunk at a time: a list of 100,000 paths costs no more memory than one of ten,
// and the first path is worked on while its producer (edx-fetch) still downloads the next.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { ToolError } from '../core/errors.js';

/** Longer than any path a system takes (PATH_MAX is 4096 on Linux): the list is not what it seems. */
const MAX_PATH_BYTES = 64 * 1024;

export interface PathListOptions {
  /** Paths end with NUL instead of a newline. */
  null?: boolean;
}

/**
 * The paths of a list, in order. Every byte of a path counts (no quoting, no trimming: a name may
 * start or end with a space); empty entries are skipped. In a newline list a CR before the newline
 * is dropped (a list written on Windows). The last path needs no terminator.
 */
export async function* readPathList(input: Readable, name: string, opts: PathListOptions = {}): AsyncGenerator<string> {
  const end = opts.null ? 0 : 0x0a;
  const entry = (bytes: Buffer): string => {
    const text = bytes.toString('utf8');
    return !opts.null && text.endsWith('\r') ? text.slice(0, -1) : text;
  };
  let carry: Buffer | undefined;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let i = buf.indexOf(end, start); i !== -1; i = buf.indexOf(end, start)) {
      const path = entry(buf.subarray(start, i));
      start = i + 1;
      if (path) yield path;
    }
    carry = start < buf.length ? buf.subarray(start) : undefined;
    if (carry && carry.length > MAX_PATH_BYTES) {
      throw new ToolError(`${name}: an entry longer than ${MAX_PATH_BYTES / 1024} KiB: not a list of paths${opts.null ? ' ending with NUL (is it one per line? then without --null)' : ''}`);
    }
  }
  if (carry) {
    const path = entry(carry);
    if (path) yield path;
  }
}

/** The list in file `path` (`-`: stdin); `name` says which in messages. */
export function openPathList(path: string, name: string, opts: PathListOptions = {}): AsyncGenerator<string> {
  return readPathList(path === '-' ? process.stdin : createReadStream(path), name, opts);
}
