// The platform-derived tables that the refresh jobs rebuild (docs/original.md#the-weekly-refresh): their one
// definition, from which their DDL, column lists and LOAD statements are derived. Unlike the
// clickstream tables (tables.ts) they keep the production column types the original created, so
// that existing queries and joins keep working; each table lists its deliberate changes.
//
// The tables themselves are defined by family in ./derived/*.ts; this file holds the shape and
// the SQL derived from it.
import { DEFAULT_DATABASES, type DatabaseNames } from './tables.js';
import { quoteIdent } from './sql-escape.js';
import { createDatabase, TABLE_OPTIONS } from './ddl.js';

/** Logical databases of derived tables: the warehouse's two, the platform copy, the forum. */
export type DerivedDatabase = 'Edx' | 'EdxPrivate' | 'edxprod' | 'EdxForum';

/** Real names behind the logical databases (--edx-db, --private-db, --edxprod-db, --forum-db). */
export type RefreshNames = DatabaseNames & Readonly<{ edxprod: string; EdxForum: string }>;
export const DEFAULT_REFRESH_NAMES: RefreshNames = { ...DEFAULT_DATABASES, edxprod: 'edxprod', EdxForum: 'EdxForum' };

export interface DerivedColumn {
  name: string;
  /** The MySQL type as created, e.g. `VARCHAR(255)`, `DOUBLE`, `DATETIME`. */
  sql: string;
  /** NULL allowed (default: not null, with `default` or the type's zero). */
  nullable?: boolean;
  /** DEFAULT clause value as SQL text, e.g. `''`, `0`, `-1`. */
  default?: string;
}

export interface DerivedTable {
  name: string;
  database: DerivedDatabase;
  columns: readonly DerivedColumn[];
  /** Primary key columns; none for tables the original kept without one. */
  primaryKey?: readonly string[];
  /** Secondary indexes: [name, column spec]. */
  indexes?: readonly (readonly [string, string])[];
}

/** `db`.`table` of a derived table, or of another name in its database (a table being built). */
export function derivedName(t: DerivedTable, names: RefreshNames = DEFAULT_REFRESH_NAMES, as = t.name): string {
  return `${quoteIdent(names[t.database])}.${quoteIdent(as)}`;
}

/** Columns declared in a compact form: `name SQLTYPE [NULL] [DEFAULT x]`, comma separated. */
export function columns(spec: string): DerivedColumn[] {
  return spec
    .trim()
    .split(/\s*,\s*(?![^()]*\))/) // commas inside DECIMAL(10,2) do not split
    .map((part) => {
      const m = /^(\w+)\s+([A-Za-z]+(?:\([\d, ]+\))?(?:\s+UNSIGNED)?)(\s+NULL)?(?:\s+DEFAULT\s+(.+))?$/i.exec(part);
      if (!m) throw new Error(`cannot read column ${JSON.stringify(part)}`);
      return { name: m[1], sql: m[2].toUpperCase(), nullable: Boolean(m[3]), default: m[4] };
    });
}

/** CREATE TABLE for a derived table, under its name or another (`as`), InnoDB utf8mb4. */
export function createDerivedTable(t: DerivedTable, names: RefreshNames = DEFAULT_REFRESH_NAMES, as = t.name): string {
  const lines = t.columns.map((c) => {
    const dflt = c.default !== undefined ? ` DEFAULT ${c.default}` : '';
    return `    ${quoteIdent(c.name)} ${c.sql} ${c.nullable ? 'NULL' : 'NOT NULL'}${dflt}`;
  });
  if (t.primaryKey?.length) lines.push(`    PRIMARY KEY (${t.primaryKey.map(quoteIdent).join(',')})`);
  for (const [name, spec] of t.indexes ?? []) lines.push(`    KEY ${quoteIdent(name)} (${spec})`);
  return `CREATE TABLE ${derivedName(t, names, as)} (\n${lines.join(',\n')}\n) ${TABLE_OPTIONS}`;
}

/** CREATE DATABASE IF NOT EXISTS for the databases of these tables. */
export function createDerivedDatabases(tables: readonly DerivedTable[], names: RefreshNames = DEFAULT_REFRESH_NAMES): string[] {
  const dbs = [...new Set(tables.map((t) => names[t.database]))];
  return dbs.map((d) => createDatabase(quoteIdent(d)));
}

/** The column list of a derived table, quoted, for INSERT … SELECT and LOAD DATA. */
export const columnList = (t: DerivedTable): string => t.columns.map((c) => quoteIdent(c.name)).join(',');
