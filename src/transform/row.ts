// Building a row of one table by column name, with the reference's rule that an absent value
// (null/undefined) stores the column's empty value (transform.md §3.1).
import { TYPES, emptyRow, type TableDef } from '../schema/tables.js';

const maps = new Map<TableDef, Map<string, number>>();
function columnMap(t: TableDef): Map<string, number> {
  let m = maps.get(t);
  if (!m) maps.set(t, (m = new Map(t.columns.map((c, i) => [c.name, i]))));
  return m;
}
import type { Value } from '../schema/fit.js';

export class RowBuilder {
  readonly values: Value[];
  private readonly index: ReadonlyMap<string, number>;

  constructor(readonly table: TableDef, values?: Value[]) {
    this.index = columnMap(table);
    this.values = values ? values.slice() : emptyRow(table);
  }

  set(column: string, v: Value | undefined): this {
    const i = this.index.get(column);
    if (i === undefined) throw new Error(`${this.table.name} has no column ${column}`);
    this.values[i] = v === undefined || v === null ? TYPES[this.table.columns[i].type].empty : v;
    return this;
  }

  get(column: string): Value {
    return this.values[this.index.get(column)!];
  }

  clone(): RowBuilder {
    return new RowBuilder(this.table, this.values);
  }
}
