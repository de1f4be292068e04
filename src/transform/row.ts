// Building a row of one table by column name, with the reference's rule that an absent value
// (null/undefined) stores the column's empty value (transform.md §3.1).
import { TYPES, columnIndex, emptyRow, type TableDef } from '../schema/tables.js';
import type { Value } from '../schema/fit.js';

export class RowBuilder {
  readonly values: Value[];
  private readonly index: Readonly<Record<string, number>>;

  constructor(readonly table: TableDef, values?: Value[]) {
    this.index = columnIndex(table);
    this.values = values ? values.slice() : emptyRow(table);
  }

  set(column: string, v: Value | undefined): this {
    const i = this.index[column];
    if (i === undefined) throw new Error(`${this.table.name} has no column ${column}`);
    this.values[i] = v === undefined || v === null ? TYPES[this.table.columns[i].type].empty : v;
    return this;
  }

  get(column: string): Value {
    return this.values[this.index[column]];
  }

  clone(): RowBuilder {
    return new RowBuilder(this.table, this.values);
  }
}
