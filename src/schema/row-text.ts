// The text of a table's rows in a writer's format (SQL tuples, CSV lines): each value's literal,
// joined by ','. Shared by the writers so that both get the same shortcut.
import type { TableDef, Value } from './table.js';

/** The literal of value v of column `column` in a format. */
export type Literal = (v: Value, column: number) => string;

/**
 * Most columns of a row hold their empty value (an EdxTrackEvent row sets about a dozen of its 65),
 * so each run of them is one piece, made once per (first, end) column pair and reused: far fewer
 * literals to make and pieces to link.
 */
export class RowText {
  private readonly empty: readonly Value[];
  private readonly emptyLiterals: readonly string[];
  /** Runs of empty values by first column * 1024 + end column. */
  private readonly runs = new Map<number, string>();

  constructor(table: TableDef, private readonly literal: Literal) {
    this.empty = table.empty;
    this.emptyLiterals = this.empty.map((v, i) => literal(v, i));
  }

  /**
   * The row's text. Built by concatenation: V8 links the pieces (no copy) and the writer's
   * encoder reads them in one pass; measured 10% faster than collecting pieces to join().
   */
  of(values: readonly Value[]): string {
    let text = '';
    let runStart = 0; // first column of the current run of empty values
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === this.empty[i]) continue;
      if (runStart < i) text = runStart === 0 ? this.run(0, i) : `${text},${this.run(runStart, i)}`;
      text = i === 0 ? this.literal(v, i) : `${text},${this.literal(v, i)}`;
      runStart = i + 1;
    }
    if (runStart < values.length) text = runStart === 0 ? this.run(0, values.length) : `${text},${this.run(runStart, values.length)}`;
    return text;
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
