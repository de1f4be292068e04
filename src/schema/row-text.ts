// The text of a table's rows in a writer's format (SQL tuples, CSV lines): each value's literal,
// joined by ','. Shared by the writers so that both get the same shortcut.
import { TYPES, type TableDef } from './tables.js';
import type { Value } from './fit.js';

/** The literal of value v of column `column` in a format. */
export type Literal = (v: Value, column: number) => string;

/**
 * Most columns of a row hold their empty value (an EdxTrackEvent row sets about a dozen of its 65),
 * so each run of them is one piece, made once per (first, end) column pair and reused: far fewer
 * literals to make and pieces to join.
 */
export class RowText {
  private readonly empty: readonly Value[];
  private readonly emptyLiterals: readonly string[];
  /** Runs of empty values by first column * 1024 + end column. */
  private readonly runs = new Map<number, string>();
  /** Reused for every row: joining one array makes a flat string (no rope to collect). */
  private readonly pieces: string[] = [];

  constructor(table: TableDef, private readonly literal: Literal) {
    this.empty = table.columns.map((c) => TYPES[c.type].empty);
    this.emptyLiterals = this.empty.map((v, i) => literal(v, i));
  }

  of(values: readonly Value[]): string {
    const pieces = this.pieces;
    let count = 0;
    let runStart = 0; // first column of the current run of empty values
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === this.empty[i]) continue;
      if (runStart < i) pieces[count++] = this.run(runStart, i);
      pieces[count++] = this.literal(v, i);
      runStart = i + 1;
    }
    if (runStart < values.length) pieces[count++] = this.run(runStart, values.length);
    pieces.length = count;
    return pieces.join(',');
  }

  /** The empty values' literals of columns from..end-1, joined by ','. */
  private run(from: number, end: number): string {
    const key = from * 1024 + end; // no table has 1024 columns
    let text = this.runs.get(key);
    if (text === undefined) {
      text = this.emptyLiterals.slice(from, end).join(',');
      this.runs.set(key, text);
    }
    return text;
  }
}
