// Makes a value fit its column before it is written (docs/decisions.md §10): text longer than the column
// is cut (at a character boundary) and counted, integer columns never receive text, dates are
// either a valid literal or NULL. The one fitter of every table: the transform's rows, which every
// writer (SQL, CSV, row stream) receives fitted, and the rows of the refresh jobs. So what the
// server receives always fits and strict sql_mode never has to truncate or reject anything.
import type { Column, TableDef, Value } from './table.js';
import { plural } from '../core/plural.js';

export interface FitCounters {
  /** Values cut to fit, per `Table.column`. */
  cut: Map<string, number>;
  /** Values that were not numbers in a number column, or out of range, replaced by the column's empty value. */
  coerced: Map<string, number>;
}

export const newFitCounters = (): FitCounters => ({ cut: new Map(), coerced: new Map() });

const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);

const DATETIME_LITERAL = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$/;
const TIME_LITERAL = /^-?\d{1,3}:\d{2}:\d{2}(\.\d{1,6})?$/;

/** Cut a string to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function cutBytes(s: string, maxBytes: number): string {
  if (s.length * 3 <= maxBytes) return s; // at most 3 bytes per UTF-16 unit: surely short enough
  const buf = Buffer.from(s, 'utf8');
  if (buf.length <= maxBytes) return s;
  let end = maxBytes;
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--; // back off continuation bytes
  return buf.subarray(0, end).toString('utf8');
}

/** Cut a string to at most `max` characters (code points), never leaving half a surrogate pair. */
export function cutChars(s: string, max: number): string {
  if (s.length <= max) return s; // UTF-16 length ≥ code points, so this is exact when short
  const cps = Array.from(s);
  return cps.length <= max ? s : cps.slice(0, max).join('');
}

export function fitValue(table: TableDef, col: Column, v: Value, counters: FitCounters): Value {
  const type = col.type;
  switch (type.kind) {
    case 'text': {
      if (v === null) return col.empty;
      const s = typeof v === 'string' ? v : String(v);
      const limit = type.limit!;
      // Fast path: a UTF-16 length within a third of the byte limit cannot exceed it.
      if (limit.unit === 'bytes' ? s.length * 3 <= limit.max : s.length <= limit.max) return s;
      const cut = limit.unit === 'bytes' ? cutBytes(s, limit.max) : cutChars(s, limit.max);
      if (cut !== s) bump(counters.cut, `${table.name}.${col.name}`);
      return cut;
    }
    case 'int': {
      if (typeof v === 'number' && Number.isInteger(v) && v >= type.range![0] && v <= type.range![1]) return v;
      if (v === null || v === '') return col.empty;
      const n = typeof v === 'number' ? v : /^\s*-?\d+\s*$/.test(v) ? Number(v) : NaN;
      if (Number.isInteger(n) && n >= type.range![0] && n <= type.range![1]) return n;
      bump(counters.coerced, `${table.name}.${col.name}`);
      return col.empty;
    }
    case 'float': {
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      if (v === null || v === '') return col.empty;
      const n = typeof v === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(v) ? Number(v) : NaN;
      if (Number.isFinite(n)) return n;
      bump(counters.coerced, `${table.name}.${col.name}`);
      return col.empty;
    }
    case 'datetime':
      return typeof v === 'string' && DATETIME_LITERAL.test(v) ? v : null;
    case 'time':
      return typeof v === 'string' && TIME_LITERAL.test(v) ? v : null;
    case 'other':
      return v;
  }
}

/**
 * Per column, what surely fits without a closer look: for text, the longest string that cannot
 * exceed the limit (-1 for other columns); for integers, the range.
 */
interface FastLimits {
  textLength: Int32Array;
  intMin: Float64Array;
  intMax: Float64Array;
}

function fastLimits(table: TableDef): FastLimits {
  let limits = fastLimitCache.get(table);
  if (!limits) {
    const types = table.columns.map((c) => c.type);
    limits = {
      // -1 for columns that are not text: no string passes as it is ('' is no DATETIME either).
      textLength: Int32Array.from(types, ({ limit }) => (!limit ? -1 : limit.unit === 'bytes' ? Math.floor(limit.max / 3) : limit.max)),
      // NaN for columns that are not integers: no number is within that range.
      intMin: Float64Array.from(types, ({ range }) => (range ? range[0] : NaN)),
      intMax: Float64Array.from(types, ({ range }) => (range ? range[1] : NaN)),
    };
    fastLimitCache.set(table, limits);
  }
  return limits;
}
const fastLimitCache = new Map<TableDef, FastLimits>();

/** Fit every value of a row in place; returns the row. */
export function fitRow(table: TableDef, values: Value[], counters: FitCounters): Value[] {
  const columns = table.columns;
  const { textLength, intMin, intMax } = fastLimits(table);
  for (let i = 0; i < columns.length; i++) {
    const v = values[i];
    // The common cases need no work: short text in a text column, an integer in range in an
    // integer column.
    if (typeof v === 'string' ? v.length <= textLength[i] : typeof v === 'number' && Number.isInteger(v) && v >= intMin[i] && v <= intMax[i]) continue;
    values[i] = fitValue(table, columns[i], v, counters);
  }
  return values;
}

/** What was cut or replaced, one line per column, for a tool's notes. */
export function fitNotes(counters: FitCounters): string[] {
  const lines = (m: Map<string, number>, what: string) =>
    [...m].map(([key, n]) => {
      const dot = key.indexOf('.');
      return `${plural(n, 'value')} of ${key.slice(dot + 1)} ${what} the column of ${key.slice(0, dot)}`;
    });
  return [...lines(counters.cut, 'cut to fit'), ...lines(counters.coerced, 'replaced by the empty value of')];
}
