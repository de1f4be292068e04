// Building a row of one table by column name, with the reference's rule that an absent value
// (null/undefined) stores the column's empty value (docs/tables.md#types-and-empty-values). The names a builder takes
// are its table's columns, as a type: a name the table lacks is a build error.
import type { TableDef, Value } from '../schema/table.js';

export class RowBuilder<N extends string = string> {
  readonly values: Value[];

  constructor(readonly table: TableDef<N>, values?: readonly Value[]) {
    this.values = (values ?? table.empty).slice();
  }

  set(column: N, v: Value | undefined): this {
    const i = this.table.position[column];
    if (i === undefined) throw new Error(`${this.table.name} has no column ${column}`);
    this.values[i] = v === undefined || v === null ? this.table.empty[i] : v;
    return this;
  }

  get(column: N): Value {
    return this.values[this.table.position[column]];
  }

  clone(): RowBuilder<N> {
    return new RowBuilder(this.table, this.values);
  }
}
