// Building a row of one table by column name, with the reference's rule that an absent value
// (null/undefined) stores the column's empty value (docs/tables.md#types-and-empty-values).
import { TYPES, type TableDef } from '../schema/tables.js';
import type { Value } from '../schema/fit.js';

/** What building rows of a table needs, worked out once per table. */
interface Layout {
  /** Column name → position. */
  index: ReadonlyMap<string, number>;
  /** Each column's empty value, in column order. */
  empty: readonly Value[];
}

const layouts = new Map<TableDef, Layout>();
function layoutOf(t: TableDef): Layout {
  let layout = layouts.get(t);
  if (!layout) {
    layout = { index: new Map(t.columns.map((c, i) => [c.name, i])), empty: t.columns.map((c) => TYPES[c.type].empty) };
    layouts.set(t, layout);
  }
  return layout;
}

export class RowBuilder {
  readonly values: Value[];

  constructor(readonly table: TableDef, values?: Value[], private readonly layout: Layout = layoutOf(table)) {
    this.values = values ? values.slice() : layout.empty.slice();
  }

  set(column: string, v: Value | undefined): this {
    const i = this.layout.index.get(column);
    if (i === undefined) throw new Error(`${this.table.name} has no column ${column}`);
    this.values[i] = v === undefined || v === null ? this.layout.empty[i] : v;
    return this;
  }

  get(column: string): Value {
    return this.values[this.layout.index.get(column)!];
  }

  clone(): RowBuilder {
    return new RowBuilder(this.table, this.values, this.layout);
  }
}
