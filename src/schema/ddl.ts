// SQL text derived from the table model (table.ts), for every table the project creates: their
// names, column lists, databases, CREATE TABLE with partitions and indexes, DROP.
//
// Names are written in one of two forms: plain (`Edx.EdxTrackEvent`), as the SQL script and the
// loader always wrote the warehouse's names (database names are checked to be plain names, and
// no table or column name of the warehouse is a keyword), or quoted (`` `Edx`.`EdxTrackEvent` ``),
// which is safe for any name.
import { ALL_TABLES } from './tables.js';
import { databaseName, DEFAULT_DATABASES, type DatabaseNames, type TableDef } from './table.js';
import { initialQuarters, partitionName } from './quarters.js';
import { quoteIdent, sqlString } from './sql-escape.js';
import { CHARSET, COLLATION } from './charset.js';

export interface NameForm {
  /** Backquote every name. */
  quoted?: boolean;
  /** Another name for the table in its database (one being built beside it). */
  as?: string;
}

const identIn = (form: NameForm) => (form.quoted ? quoteIdent : (s: string) => s);

/** `Edx.EdxTrackEvent`, or `` `Edx`.`EdxTrackEvent` `` quoted. */
export function qualifiedName(t: TableDef, names: DatabaseNames = DEFAULT_DATABASES, form: NameForm = {}): string {
  const ident = identIn(form);
  return `${ident(databaseName(names, t.database))}.${ident(form.as ?? t.name)}`;
}

/** The table's columns in order, comma separated, for INSERT, SELECT and LOAD DATA. */
export const columnList = (t: TableDef, form: Pick<NameForm, 'quoted'> = {}): string => t.columns.map((c) => identIn(form)(c.name)).join(',');

/** Every table is InnoDB, in the one character set and collation of the warehouse. */
export const TABLE_OPTIONS = `ENGINE=InnoDB DEFAULT CHARSET=${CHARSET} COLLATE=${COLLATION}`;

/** CREATE DATABASE IF NOT EXISTS of a name as it is to appear in SQL (plain or quoted), without ';'. */
export const createDatabase = (name: string): string =>
  `CREATE DATABASE IF NOT EXISTS ${name} CHARACTER SET ${CHARSET} COLLATE ${COLLATION}`;

/** The warehouse's two databases, plain names, each with its ';'. */
export function createDatabases(names: DatabaseNames = DEFAULT_DATABASES): string[] {
  return [names.Edx, names.EdxPrivate].map((d) => `${createDatabase(d)};`);
}

/** CREATE DATABASE IF NOT EXISTS for the databases of these tables, quoted. */
export function createDatabasesOf(tables: readonly TableDef[], names: DatabaseNames = DEFAULT_DATABASES): string[] {
  const dbs = [...new Set(tables.map((t) => databaseName(names, t.database)))];
  return dbs.map((d) => createDatabase(quoteIdent(d)));
}

const partitionClause = (quarter: string) => `PARTITION ${partitionName(quarter)} VALUES IN ('${quarter}')`;

export interface CreateForm extends NameForm {
  /** CREATE TABLE IF NOT EXISTS. */
  ifNotExists?: boolean;
}

/** CREATE TABLE of a table (under its name or `as`), with its keys, indexes and initial partitions; no ';'. */
export function createTable(t: TableDef, names: DatabaseNames = DEFAULT_DATABASES, form: CreateForm = {}): string {
  const ident = identIn(form);
  const lines = t.columns.map((c) => {
    const dflt = c.default !== undefined ? ` DEFAULT ${c.default}` : '';
    return `    ${ident(c.name)} ${c.type.sql} ${c.nullable ? 'NULL' : 'NOT NULL'}${dflt}`;
  });
  if (t.primaryKey.length) lines.push(`    PRIMARY KEY (${t.primaryKey.map(ident).join(',')})`);
  for (const [name, spec] of t.indexes) lines.push(`    KEY ${ident(name)} (${spec})`);
  const create = form.ifNotExists ? 'CREATE TABLE IF NOT EXISTS' : 'CREATE TABLE';
  let sql = `${create} ${qualifiedName(t, names, form)} (\n${lines.join(',\n')}\n    ) ${TABLE_OPTIONS}`;
  if (t.partitionedByQuarter) {
    sql += `\nPARTITION BY LIST COLUMNS(quarter) (\n${initialQuarters().map((q) => `    ${partitionClause(q)}`).join(',\n')})`;
  }
  return sql;
}

/** The warehouse's tables, as the SQL script and --init create them (plain names, IF NOT EXISTS), each with its ';'. */
export function createAllTables(names: DatabaseNames = DEFAULT_DATABASES): string[] {
  return ALL_TABLES.map((t) => `${createTable(t, names, { ifNotExists: true })};`);
}

export function dropAllTables(includePrivate: boolean, names: DatabaseNames = DEFAULT_DATABASES): string[] {
  return ALL_TABLES.filter((t) => includePrivate || t.database !== 'EdxPrivate').map(
    (t) => `DROP TABLE IF EXISTS ${qualifiedName(t, names)};`,
  );
}

/**
 * Adds the partition a quarter needs unless it exists. Written as a prepared statement so that it
 * runs unchanged on MariaDB and MySQL (MySQL has no ADD PARTITION IF NOT EXISTS). The statement is
 * a '…' string with its quotes doubled, which reads the same under every sql_mode ("…" would be
 * an identifier under ANSI_QUOTES).
 */
export function ensureQuarterPartition(t: TableDef, quarter: string, names: DatabaseNames = DEFAULT_DATABASES): string {
  const name = partitionName(quarter);
  const alter = `ALTER TABLE ${qualifiedName(t, names)} ADD PARTITION (${partitionClause(quarter)})`;
  return (
    `SET @edx_pipes_ddl = IF((SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA=${sqlString(databaseName(names, t.database))} ` +
    `AND TABLE_NAME='${t.name}' AND PARTITION_NAME='${name}') = 0, '${alter.replace(/'/g, "''")}', 'DO 0');\n` +
    'PREPARE edx_pipes_stmt FROM @edx_pipes_ddl;\nEXECUTE edx_pipes_stmt;\nDEALLOCATE PREPARE edx_pipes_stmt;'
  );
}
