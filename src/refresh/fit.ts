// Values made to fit a derived table's columns before they are sent (docs/decisions.md §10): text longer
// than its column is cut here, at a character boundary, and counted, so that the server never
// truncates (which loadRows would rightly take for a failure) and the job can say what it cut.
import { cutBytes, cutChars, type Value } from '../schema/fit.js';
import type { DerivedTable } from '../schema/derived.js';

/** Longest text of a column: characters for VARCHAR(n), bytes for the TEXT types; none for others. */
function limitOf(sql: string): { chars?: number; bytes?: number } {
  const varchar = /^VARCHAR\((\d+)\)$/.exec(sql);
  if (varchar) return { chars: Number(varchar[1]) };
  if (sql === 'TINYTEXT') return { bytes: 255 };
  if (sql === 'TEXT') return { bytes: 65_535 };
  if (sql === 'MEDIUMTEXT') return { bytes: 16_777_215 };
  return {};
}

export class RowFitter {
  private readonly limits: { chars?: number; bytes?: number }[];
  /** Values cut, per column name. */
  readonly cut = new Map<string, number>();

  constructor(private readonly table: DerivedTable) {
    this.limits = table.columns.map((c) => limitOf(c.sql));
  }

  /** The row with every text value cut to its column (the same array, changed in place). */
  fit(row: Value[]): Value[] {
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      if (typeof v !== 'string') continue;
      const { chars, bytes } = this.limits[i];
      const fitted = chars !== undefined ? cutChars(v, chars) : bytes !== undefined ? cutBytes(v, bytes) : v;
      if (fitted !== v) {
        row[i] = fitted;
        const name = this.table.columns[i].name;
        this.cut.set(name, (this.cut.get(name) ?? 0) + 1);
      }
    }
    return row;
  }

  /** What was cut, for the job's notes. */
  notes(): string[] {
    return [...this.cut].map(([col, n]) => `${n} values of ${col} cut to fit the column of ${this.table.name}`);
  }
}
