// DDL derived from tables.ts: databases, tables, partitions and indexes.
import { ALL_TABLES, TYPES, DEFAULT_DATABASES, qualifiedName, type DatabaseNames, type TableDef } from './tables.js';
import { initialQuarters, partitionName } from './quarters.js';
import { sqlString } from './sql-escape.js';

/** The warehouse's text: any character (utf8mb4), one collation for every table and database. */
export const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

/** CREATE DATABASE IF NOT EXISTS of a name as it is to appear in SQL (plain or quoted), without ';'. */
export const createDatabase = (name: string): string =>
  `CREATE DATABASE IF NOT EXISTS ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`;

export function createDatabases(names: DatabaseNames = DEFAULT_DATABASES): string[] {
  return [names.Edx, names.EdxPrivate].map((d) => `${createDatabase(d)};`);
}

const partitionClause = (quarter: string) => `PARTITION ${partitionName(quarter)} VALUES IN ('${quarter}')`;

export function createTable(t: TableDef, names: DatabaseNames = DEFAULT_DATABASES): string {
  const lines = t.columns.map((c) => {
    const type = TYPES[c.type];
    const nullable = type.kind === 'datetime' || type.kind === 'time';
    return `    ${c.name} ${type.sql} ${nullable ? 'NULL' : 'NOT NULL'}`;
  });
  lines.push(`    PRIMARY KEY (${t.primaryKey.join(',')})`);
  for (const [name, spec] of t.indexes) lines.push(`    KEY ${name} (${spec})`);
  let sql = `CREATE TABLE IF NOT EXISTS ${qualifiedName(t, names)} (\n${lines.join(',\n')}\n    ) ${TABLE_OPTIONS}`;
  if (t.partitionedByQuarter) {
    sql += `\nPARTITION BY LIST COLUMNS(quarter) (\n${initialQuarters().map((q) => `    ${partitionClause(q)}`).join(',\n')})`;
  }
  return sql + ';';
}

export function createAllTables(names: DatabaseNames = DEFAULT_DATABASES): string[] {
  return ALL_TABLES.map((t) => createTable(t, names));
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
    `SET @edx_pipes_ddl = IF((SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA=${sqlString(names[t.database])} ` +
    `AND TABLE_NAME='${t.name}' AND PARTITION_NAME='${name}') = 0, '${alter.replace(/'/g, "''")}', 'DO 0');\n` +
    'PREPARE edx_pipes_stmt FROM @edx_pipes_ddl;\nEXECUTE edx_pipes_stmt;\nDEALLOCATE PREPARE edx_pipes_stmt;'
  );
}
