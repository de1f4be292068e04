// The documents of a mongodump file (`.bson`, plain or gzip), one at a time: the form the original
// refresh jobs consumed (contents.bson of the forum, the modulestore collections), read without a
// MongoDB server. Each document is decoded with the official `bson` package and read back through
// canonical Extended JSON with the same reviver as mongoexport's JSON (json-records.ts), so the two
// forms of an export give the same values. A BSON file has no lines: `line` is the document's
// position (1 for the first).
import { EJSON, deserialize } from 'bson';
import { openInput } from '../io/input.js';
import { extendedJson, type BrokenRecord, type JsonRecord } from './json-records.js';
import { plural } from '../core/plural.js';

/** MongoDB's largest document is 16 MiB; a length far beyond is no document but corrupt bytes. */
const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

/**
 * Decode the whole documents in `bytes` from `at` into `out` (`seen` counts documents across
 * calls). Returns where the undecoded rest starts, or -1 when a length is no document's: without it
 * there is no finding the next one, so the rest of the file is lost (said as a cut).
 */
function decodeDocuments(bytes: Buffer, at: number, seen: { documents: number }, onBroken: (b: BrokenRecord) => void, out: JsonRecord[]): number {
  while (bytes.length - at >= 4) {
    const size = bytes.readInt32LE(at);
    if (size < 5 || size > MAX_DOCUMENT_BYTES) {
      onBroken({ line: seen.documents + 1, reason: `not a BSON document (length ${size}); the rest of the file cannot be read`, cut: true });
      return -1;
    }
    if (bytes.length - at < size) break;
    const line = ++seen.documents;
    const doc = bytes.subarray(at, at + size);
    at += size;
    let value: unknown;
    try {
      value = JSON.parse(EJSON.stringify(deserialize(doc), { relaxed: false }), extendedJson);
    } catch (e) {
      onBroken({ line, reason: `unreadable BSON document: ${(e as Error).message}` });
      continue;
    }
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) out.push({ value: value as Record<string, unknown>, line });
    else onBroken({ line, reason: 'a BSON value that is not a document' });
  }
  return at;
}

const cutAt = (seen: { documents: number }, rest: number): BrokenRecord =>
  ({ line: seen.documents + 1, reason: `the file ends inside a document (${plural(rest, 'byte')} of it)`, cut: true });

/** The documents of a BSON file, as they are read (memory: the largest document). */
export async function* readBsonRecords(path: string, onBroken: (b: BrokenRecord) => void): AsyncGenerator<JsonRecord> {
  const input = await openInput(path);
  const seen = { documents: 0 };
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of input as AsyncIterable<Buffer>) {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    const out: JsonRecord[] = [];
    const at = decodeDocuments(pending, 0, seen, onBroken, out);
    yield* out;
    if (at < 0) return;
    pending = pending.subarray(at);
  }
  if (pending.length) onBroken(cutAt(seen, pending.length));
}

/** The documents of BSON bytes held whole (edx-json2sql reads its --modulestore at start). */
export function parseBsonRecords(bytes: Buffer, onBroken: (b: BrokenRecord) => void): JsonRecord[] {
  const seen = { documents: 0 };
  const out: JsonRecord[] = [];
  const at = decodeDocuments(bytes, 0, seen, onBroken, out);
  if (at >= 0 && at < bytes.length) onBroken(cutAt(seen, bytes.length - at));
  return out;
}
