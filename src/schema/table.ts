// What a table is: the one model of every table edx-pipes creates, the warehouse's (tables.ts) and
// those the refresh jobs rebuild (derived/*.ts). Their DDL, names and column lists (ddl.ts), the
// fitting of values (fit.ts), row building (transform/row.ts) and the writers all work from it.
//
// A table is written as data: each column in the compact form `name TYPE [NULL] [DEFAULT value]`
// with the MySQL type as created (`VARCHAR(255)`, `DATETIME(6) NULL`, `INT DEFAULT -1`), in an
// `as const` list, so that the column names are a type too: building a row by a name the table
// lacks is a build error.

/** A stored value as rows carry it: text (dates too), a number, or NULL. */
export type Value = string | number | null;

/** Logical databases: the warehouse's two, the platform copy (edx-refresh), the forum. */
export type Database = 'Edx' | 'EdxPrivate' | 'edxprod' | 'EdxForum';

/**
 * The real names behind the logical databases (tests and side-by-side warehouses use other names:
 * --edx-db, --private-db, --edxprod-db, --forum-db). A tool that only touches the warehouse names
 * the first two; the others keep their defaults.
 */
export type DatabaseNames = Readonly<{ Edx: string; EdxPrivate: string; edxprod?: string; EdxForum?: string }>;
export const DEFAULT_DATABASES: Required<DatabaseNames> = { Edx: 'Edx', EdxPrivate: 'EdxPrivate', edxprod: 'edxprod', EdxForum: 'EdxForum' };

/** The real name of a logical database. */
export const databaseName = (names: DatabaseNames, db: Database): string => names[db] ?? DEFAULT_DATABASES[db];

/** What the values of a column are, for fitting them (fit.ts); `other`: left as they are. */
export type ValueKind = 'text' | 'int' | 'float' | 'datetime' | 'time' | 'other';

/** A column type: as created, and what its values may be. */
export interface ColumnType {
  /** The MySQL type as created: `VARCHAR(255)`, `DATETIME(6)`, `INT UNSIGNED`. */
  sql: string;
  kind: ValueKind;
  /** For text: the most a value may hold, and whether that limit counts characters or UTF-8 bytes. */
  limit?: { max: number; unit: 'chars' | 'bytes' };
  /** For integers and floats: the range the type holds. */
  range?: readonly [number, number];
}

const TEXT_BYTES: Readonly<Record<string, number>> = { TINYTEXT: 255, TEXT: 65_535, MEDIUMTEXT: 16_777_215, LONGTEXT: 4_294_967_295 };
const INT_BITS: Readonly<Record<string, number>> = { TINYINT: 8, SMALLINT: 16, MEDIUMINT: 24, INT: 32, BIGINT: 64 };

/** The type of a MySQL type text (upper case, as in a column spec). */
export function columnType(sql: string): ColumnType {
  const m = /^([A-Z]+)(?:\((\d+)(?:, *\d+)?\))?( UNSIGNED)?$/.exec(sql);
  if (!m) throw new Error(`cannot read column type ${JSON.stringify(sql)}`);
  const [, base, size, unsigned] = m;
  if ((base === 'VARCHAR' || base === 'CHAR') && size) return { sql, kind: 'text', limit: { max: Number(size), unit: 'chars' } };
  if (base in TEXT_BYTES) return { sql, kind: 'text', limit: { max: TEXT_BYTES[base], unit: 'bytes' } };
  if (base in INT_BITS) {
    const bits = INT_BITS[base];
    return { sql, kind: 'int', range: unsigned ? [0, 2 ** bits - 1] : [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] };
  }
  if (base === 'DOUBLE') return { sql, kind: 'float', range: [-Number.MAX_VALUE, Number.MAX_VALUE] };
  if (base === 'DATETIME') return { sql, kind: 'datetime' };
  if (base === 'TIME') return { sql, kind: 'time' };
  return { sql, kind: 'other' };
}

export interface Column<N extends string = string> {
  readonly name: N;
  readonly type: ColumnType;
  /** NULL allowed (a column is NOT NULL unless its spec says NULL). */
  readonly nullable: boolean;
  /** The DEFAULT clause's value as SQL text (`''`, `0`, `-1`), when the column has one. */
  readonly default?: string;
  /**
   * What the column holds when a row has no value for it: NULL where allowed, else its default,
   * else '' for text and -1 for numbers (the reference's empty values, docs/tables.md#types-and-empty-values,
   * docs/decisions.md §10).
   */
  readonly empty: Value;
}

/** The value a DEFAULT clause's SQL text stands for. */
function defaultValue(sql: string): Value {
  if (/^NULL$/i.test(sql)) return null;
  const text = /^'((?:[^']|'')*)'$/.exec(sql);
  if (text) return text[1].replace(/''/g, "'");
  if (/^-?\d+(\.\d+)?$/.test(sql)) return Number(sql);
  throw new Error(`cannot read DEFAULT ${sql}`);
}

/** One column from its compact form, `name TYPE [NULL] [DEFAULT value]`. */
export function column(spec: string): Column {
  const m = /^(\w+)\s+([A-Za-z]+(?:\([\d, ]+\))?(?:\s+UNSIGNED)?)(\s+NULL)?(?:\s+DEFAULT\s+(.+))?$/i.exec(spec.trim());
  if (!m) throw new Error(`cannot read column ${JSON.stringify(spec)}`);
  const [, name, sql, nullable, dflt] = m;
  const type = columnType(sql.toUpperCase().replace(/\s+/g, ' '));
  const empty = nullable ? null : dflt !== undefined ? defaultValue(dflt) : type.kind === 'text' ? '' : type.kind === 'int' || type.kind === 'float' ? -1 : null;
  return { name, type, nullable: Boolean(nullable), ...(dflt !== undefined ? { default: dflt } : {}), empty };
}

/** A table whose columns are named N, in database D. */
export interface TableDef<N extends string = string, D extends Database = Database> {
  readonly name: string;
  readonly database: D;
  readonly columns: readonly Column<N>[];
  /** Primary key columns; none for a table the original kept without one. */
  readonly primaryKey: readonly N[];
  /** Secondary indexes: [name, column spec]. */
  readonly indexes: readonly (readonly [string, string])[];
  /** Partitioned by LIST COLUMNS(quarter); partitions are added as quarters appear (docs/decisions.md §12). */
  readonly partitionedByQuarter?: boolean;
  /** Columns that name a row of another table (for link checks; no FK is declared, loads come in any order). */
  readonly links?: Partial<Readonly<Record<N, readonly [string, string]>>>;
  /** Column name → position. */
  readonly position: Readonly<Record<N, number>>;
  /** Each column's empty value, in column order. */
  readonly empty: readonly Value[];
}

/** The name of a column in its compact form (any name when the specs are not literal types). */
export type ColumnName<Spec extends string> = string extends Spec ? string : Spec extends `${infer Name} ${string}` ? Name : never;

/** The column names of a table, as a type. */
export type ColumnOf<T> = T extends TableDef<infer N> ? N : never;

export interface TableSpec<C extends readonly string[], D extends Database> {
  name: string;
  database: D;
  /** The columns in order, each `name TYPE [NULL] [DEFAULT value]`. */
  columns: C;
  primaryKey?: readonly ColumnName<C[number]>[];
  indexes?: readonly (readonly [string, string])[];
  partitionedByQuarter?: boolean;
  links?: Partial<Readonly<Record<ColumnName<C[number]>, readonly [string, string]>>>;
}

/** A table from its spec; its keys and links must name its columns. */
export function defineTable<const C extends readonly string[], D extends Database>(spec: TableSpec<C, D>): TableDef<ColumnName<C[number]>, D> {
  type N = ColumnName<C[number]>;
  const columns = spec.columns.map((c) => column(c) as Column<N>);
  const position = Object.create(null) as Record<N, number>;
  columns.forEach((c, i) => (position[c.name] = i));
  for (const name of [...(spec.primaryKey ?? []), ...Object.keys(spec.links ?? {})]) {
    if (!(name in position)) throw new Error(`${spec.name} has no column ${name}`);
  }
  return {
    name: spec.name,
    database: spec.database,
    columns,
    primaryKey: spec.primaryKey ?? [],
    indexes: spec.indexes ?? [],
    ...(spec.partitionedByQuarter ? { partitionedByQuarter: true } : {}),
    ...(spec.links ? { links: spec.links } : {}),
    position,
    empty: columns.map((c) => c.empty),
  };
}

/** Map from column name to its position. */
export const columnIndex = <N extends string>(t: TableDef<N>): Readonly<Record<N, number>> => t.position;

/** A row with every column at its empty value (a fresh copy each call). */
export const emptyRow = (t: TableDef): Value[] => t.empty.slice();

/** A row given by column name (every column, none other), as its values in column order. */
export function valuesOf<N extends string>(t: TableDef<N>, row: Readonly<Record<N, Value>>): Value[] {
  return t.columns.map((c) => row[c.name]);
}
