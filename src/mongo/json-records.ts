// Records of a MongoDB export, whatever form the export took, one at a time with the line each
// starts on, so that one broken record is reported (file, line, reason) and the rest still read:
//
//   - one document per line (mongoexport's default; NDJSON);
//   - a JSON array of documents (mongoexport --jsonArray, the original's modulestore_latest.json);
//   - an object of collections, each an array of documents: {"all": […]} (the original's form) or
//     {"active_versions": […], "structures": […], "definitions": […]} (a split modulestore);
//
// plain or gzip, after optional leading '#' comment lines. Array and object forms are read element
// by element as the bytes arrive, never as one string, so a large export needs no more memory than
// its largest document. MongoDB Extended JSON is read back into plain values: {"$oid": h} → h,
// {"$date": …} → a Date, {"$numberLong": "7"} → 7 (relaxed, canonical and the old mongoexport
// forms alike).
import { readLines } from '../io/input.js';

export interface JsonRecord {
  value: Record<string, unknown>;
  /** 1-based line of the input on which the document starts. */
  line: number;
  /** For the object-of-collections form: the key of the array the document is in. */
  collection?: string;
}

export interface BrokenRecord {
  line: number;
  reason: string;
  /** The input ends inside a document or an array: documents after it may be missing. */
  cut?: true;
}

/** Keys that make a top-level object a set of collections rather than one document. */
export const COLLECTION_KEYS: ReadonlySet<string> = new Set(['all', 'modulestore', 'active_versions', 'structures', 'definitions', 'contents']);

/** JSON.parse reviver for MongoDB Extended JSON (v1 and v2, relaxed and canonical). */
export function extendedJson(_key: string, v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const keys = Object.keys(v);
  if (keys.length !== 1 || keys[0][0] !== '$') return v;
  const inner = (v as Record<string, unknown>)[keys[0]];
  switch (keys[0]) {
    case '$oid':
      return typeof inner === 'string' ? inner : v;
    case '$date': {
      // Revived bottom-up: a canonical {"$date": {"$numberLong": "…"}} arrives here as a number.
      const d = typeof inner === 'string' || typeof inner === 'number' ? new Date(inner) : undefined;
      return d && !Number.isNaN(d.getTime()) ? d : v;
    }
    case '$numberLong':
    case '$numberInt':
    case '$numberDouble':
    case '$numberDecimal': {
      const n = typeof inner === 'string' ? Number(inner) : NaN;
      return Number.isNaN(n) && inner !== 'NaN' ? v : n;
    }
    default:
      return v;
  }
}

const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d; // }
const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

type Mode = 'undecided' | 'lines' | 'array' | 'collections';

/** Text of a JSON.parse failure, with the line inside the input where it happened. */
function parseFailure(e: unknown, text: string, firstLine: number): BrokenRecord {
  const message = (e as Error).message;
  const at = /position (\d+)/.exec(message);
  let line = firstLine;
  if (at) for (let i = 0, end = Math.min(Number(at[1]), text.length); i < end; i++) if (text.charCodeAt(i) === 0x0a) line++;
  // Node quotes the whole text in some messages: the line says where, the reason says what.
  const what = message.replace(/ in JSON at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, '');
  return { line, reason: `not valid JSON: ${what.slice(0, 200)}` };
}

/**
 * Reads an export line by line (push), handing each complete document to `onRecord` and each
 * one that cannot be read to `onBroken`. Synchronous, so that it serves both a streamed file and
 * a string already in memory.
 */
export class RecordScanner {
  private mode: Mode = 'undecided';
  /** Lines read before the form was known (an object's first key decides). */
  private pending: { text: string; line: number }[] = [];
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Depth at which documents start: 1 inside the top array, 2 inside a collection's array. */
  private recordDepth = 1;
  /** The document being read: its text so far and its first line; undefined between documents. */
  private record?: { pieces: string[]; line: number };
  /** Collections form: the last string met at depth 1 (a key), and the array being read. */
  private key = '';
  private keyStart = -1;
  private collection?: string;
  private collectionLine = 0;
  private lastLine = 0;
  private strayReported = -1;

  constructor(
    private readonly onRecord: (r: JsonRecord) => void,
    private readonly onBroken: (b: BrokenRecord) => void,
  ) {}

  push(text: string, line: number): void {
    this.lastLine = line;
    // A JSON string never holds a raw line break, so a line starting with '#' is always a comment.
    const trimmed = text.trimStart();
    if (trimmed.startsWith('#')) return;
    if (this.mode === 'undecided') {
      if (this.pending.length === 0 && trimmed === '') return; // before the export
      this.pending.push({ text, line });
      const first = this.pending[0].text.trimStart()[0];
      if (first === '[') this.mode = 'array';
      else if (first !== '{') this.mode = 'lines';
      else {
        const head = this.pending.map((p) => p.text).join('\n');
        const m = /^\s*\{\s*"([^"\\]*)"\s*(:\s*(.))?/.exec(head);
        if (m && m[3] !== undefined) this.mode = COLLECTION_KEYS.has(m[1]) && m[3] === '[' ? 'collections' : 'lines';
        else if (head.length > 4096 || /^\s*\{\s*[^\s"]/.test(head)) this.mode = 'lines';
        else return; // the first key is on a later line
      }
      this.recordDepth = this.mode === 'collections' ? 2 : 1;
      const lines = this.pending;
      this.pending = [];
      for (const p of lines) this.take(p.text, p.line);
      return;
    }
    this.take(text, line);
  }

  private take(text: string, line: number): void {
    if (this.mode === 'lines') this.oneLine(text, line);
    else this.scan(text, line);
  }

  /** One document per line: each line is read on its own, so a broken one costs only itself. */
  private oneLine(text: string, line: number): void {
    const trimmed = text.trim();
    if (trimmed !== '') this.parse(trimmed, line);
  }

  private parse(text: string, line: number, collection?: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text, extendedJson);
    } catch (e) {
      this.onBroken(parseFailure(e, text, line));
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.onBroken({ line, reason: `not a document but ${Array.isArray(value) ? 'an array' : JSON.stringify(value)?.slice(0, 40)}` });
      return;
    }
    this.onRecord({ value: value as Record<string, unknown>, line, collection });
  }

  /** Array and collections forms: follow brackets and strings, cut out each document. */
  private scan(text: string, line: number): void {
    let start = this.record ? 0 : -1;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (this.keyStart >= 0) {
            this.key = text.slice(this.keyStart, i);
            this.keyStart = -1;
          }
        }
        continue;
      }
      if (c === QUOTE) {
        this.inString = true;
        if (this.mode === 'collections' && this.depth === 1) this.keyStart = i + 1;
        else if (!this.record && this.depth === this.recordDepth) this.stray(line, 'a string between documents');
      } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (this.depth === this.recordDepth && !this.record && this.inCollection()) {
          this.record = { pieces: [], line };
          start = i;
        } else if (this.mode === 'collections' && this.depth === 1) {
          if (c === OPEN_ARRAY) {
            this.collection = this.key;
            this.collectionLine = line;
          } else this.stray(line, `"${this.key}" holds an object, not an array of documents`);
        }
        this.depth++;
      } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        this.depth--;
        if (this.depth < 0) {
          this.stray(line, 'a closing bracket with nothing open');
          this.depth = 0;
        } else if (this.depth === this.recordDepth && this.record) {
          this.record.pieces.push(text.slice(start, i + 1));
          const { pieces, line: first } = this.record;
          this.record = undefined;
          start = -1;
          this.parse(pieces.join('\n'), first, this.collection);
        } else if (this.mode === 'collections' && this.depth === 1) {
          this.collection = undefined;
        }
      } else if (!this.record && c !== 0x2c && c !== 0x3a && c > 0x20 && this.depth === this.recordDepth) {
        this.stray(line, `'${text[i]}' between documents`);
      } else if (!this.record && this.depth === 0 && c > 0x20) {
        this.stray(line, `'${text[i]}' after the end of the export`);
      }
    }
    // A string open at the end of a line is broken JSON (strings hold no raw line break): the
    // document fails to parse, and the scan goes on in step with the next line.
    this.inString = this.escaped = false;
    this.keyStart = -1;
    if (this.record) this.record.pieces.push(start >= 0 ? text.slice(start) : text);
  }

  /** Documents are read from arrays: the top array, or a collection's array. */
  private inCollection(): boolean {
    return this.mode === 'array' || this.collection !== undefined;
  }

  /** Text that belongs to no document: reported once per line. */
  private stray(line: number, what: string): void {
    if (this.strayReported === line) return;
    this.strayReported = line;
    this.onBroken({ line, reason: `unexpected text: ${what}` });
  }

  /** The input ended: a document or array left open is reported (the export was cut short). */
  end(): void {
    if (this.mode === 'undecided' && this.pending.length) {
      this.mode = 'lines';
      for (const p of this.pending) this.take(p.text, p.line);
    }
    if (this.record) {
      this.onBroken({ line: this.record.line, reason: `the export ends inside this document (at line ${this.lastLine}): cut short?`, cut: true });
    } else if (this.mode !== 'lines' && this.depth > 0) {
      const where = this.collection !== undefined ? ` (in "${this.collection}", opened at line ${this.collectionLine})` : '';
      this.onBroken({ line: this.lastLine, reason: `the export ends before its closing bracket${where}: cut short?`, cut: true });
    }
  }
}

/** The documents of an export file (plain or gzip), one at a time; broken ones go to `onBroken`. */
export async function* readJsonRecords(path: string, onBroken: (b: BrokenRecord) => void): AsyncGenerator<JsonRecord> {
  let ready: JsonRecord[] = [];
  const scanner = new RecordScanner((r) => ready.push(r), onBroken);
  for await (const { text, lineNo } of readLines(path)) {
    scanner.push(text, lineNo);
    if (ready.length) {
      const out = ready;
      ready = [];
      yield* out;
    }
  }
  scanner.end();
  yield* ready;
}

/** The documents of an export held in a string. */
export function parseJsonRecords(text: string, onBroken: (b: BrokenRecord) => void): JsonRecord[] {
  const out: JsonRecord[] = [];
  const scanner = new RecordScanner((r) => out.push(r), onBroken);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) scanner.push(lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i], i + 1);
  scanner.end();
  return out;
}
