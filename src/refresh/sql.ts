// What every refresh job does with the server: statements whose warnings are failures
// (docs/decisions.md §17), rows streamed in with LOAD DATA LOCAL INFILE from the client
// (docs/original.md#bug-8: no server-side files, no FILE privilege), and tables rebuilt under another name and
// swapped in with one RENAME, so that a reader never sees a half-built table and a failed
// refresh leaves last week's table in place (the original dropped it first, docs/original.md#bug-6).
import type { Connection as CallbackConnection } from 'mysql2';
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { DIALECT_CLAUSE } from '../csv/encode.js';
import { databaseName, type DatabaseNames, type TableDef, type Value } from '../schema/table.js';
import { ToolError } from '../core/errors.js';
import * as checked from '../mysql/checked.js';
import { columnList, createDatabasesOf, createTable, qualifiedName } from '../schema/ddl.js';

/** A refresh step failed: said as `job: message`, the job's tables as they were before. */
export class RefreshError extends ToolError {}

/** Run one statement; any warning is a failure (mysql/checked.ts), a RefreshError. */
export const checkedQuery = (conn: Connection, sql: string, params?: unknown[]): Promise<ResultSetHeader> =>
  checked.checkedQuery(conn, sql, params, { error: RefreshError });

/**
 * Stream rows (values in the table's column order) into `as`, a table of the table's database
 * (default: the table itself; in a rebuild, the building name its fill gets) with LOAD DATA
 * LOCAL INFILE; the server must read every row, without a warning. Returns the count.
 */
export function loadRows(
  conn: Connection,
  t: TableDef,
  names: DatabaseNames,
  rows: AsyncIterable<readonly Value[]> | Iterable<readonly Value[]>,
  as = t.name,
): Promise<number> {
  const sql = `LOAD DATA LOCAL INFILE '${checked.ROWS_FILE}' INTO TABLE ${qualifiedName(t, names, { quoted: true, as })} ${DIALECT_CLAUSE} (${columnList(t, { quoted: true })})`;
  return checked.loadRows(conn, { sql, table: t.name, error: RefreshError }, rows);
}

/**
 * Create the databases of these tables where missing. Not checked: IF NOT EXISTS leaves a note
 * (1007) for a database that exists, which is the usual case, not a failure.
 */
export async function ensureDatabases(conn: Connection, tables: readonly TableDef[], names: DatabaseNames): Promise<void> {
  for (const sql of createDatabasesOf(tables, names)) await conn.query(sql);
}

/**
 * The rows of a query as they arrive (arrays of values), with backpressure: the connection pauses
 * while the reader is busy, so memory stays constant whatever the size of the result. The
 * connection can do nothing else until the rows are read.
 */
export function streamRows(conn: Connection, sql: string, params: unknown[] = []): AsyncIterable<unknown[]> {
  // mysql2's promise connection wraps a callback connection, whose queries stream (the typings
  // show the field on pool connections only).
  const callbackConnection = (conn as unknown as { connection: CallbackConnection }).connection;
  return callbackConnection.query({ sql, values: params, rowsAsArray: true }).stream({ highWaterMark: 1000 });
}

/**
 * `use` run with a second connection (JobContext.connect), ended after it. When `use` fails the
 * connection is destroyed instead: one stopped inside a result cannot be ended politely.
 */
export async function withSecondConnection<T>(connect: () => Promise<Connection>, use: (reader: Connection) => Promise<T>): Promise<T> {
  const reader = await connect();
  let result: T;
  try {
    result = await use(reader);
  } catch (e) {
    reader.destroy();
    throw e;
  }
  await reader.end().catch(() => reader.destroy());
  return result;
}

const BUILDING = '__building';
const RETIRED = '__retired';

/** The name a table is built under (what a rebuild's `fill` gets, for loadRows' `as`). */
const buildingName = (t: TableDef): string => t.name + BUILDING;

/**
 * Rebuild a table: create it empty as `<name>__building`, let `fill` write its rows there (it
 * gets that name, for loadRows' `as`), then swap it in with one atomic RENAME and drop the old
 * one. When `fill` fails the building table is dropped and the old one stays as it was.
 * Returns the new table's row count.
 */
export async function rebuildTable(
  conn: Connection,
  t: TableDef,
  names: DatabaseNames,
  fill: (building: string) => Promise<unknown>,
): Promise<number> {
  const [rows] = await rebuildTables(conn, [t], names, async (building) => {
    await fill(building(t));
  });
  return rows;
}

/**
 * Rebuild several tables as one: each is created empty as `<name>__building`, `fill` writes them
 * all (it gets each one's building name, unqualified, for loadRows and for reading one built
 * before another), and one RENAME swaps them all in, so a reader sees either all the old tables
 * or all the new ones and a failure leaves all the old ones. Returns the row counts, in order.
 */
export async function rebuildTables(
  conn: Connection,
  tables: readonly TableDef[],
  names: DatabaseNames,
  fill: (building: (t: TableDef) => string) => Promise<void>,
): Promise<number[]> {
  const name = (t: TableDef, as?: string) => qualifiedName(t, names, { quoted: true, as });
  await ensureDatabases(conn, tables, names);
  for (const t of tables) {
    await conn.query(`DROP TABLE IF EXISTS ${name(t, buildingName(t))}, ${name(t, t.name + RETIRED)}`);
    await checkedQuery(conn, createTable(t, names, { quoted: true, as: buildingName(t) }));
  }
  let counts: number[];
  try {
    await fill(buildingName);
    counts = await countBuilt(conn, tables, (t) => name(t, buildingName(t)));
  } catch (e) {
    for (const t of tables) await conn.query(`DROP TABLE IF EXISTS ${name(t, buildingName(t))}`).catch(() => undefined);
    throw e;
  }
  await swapIn(conn, tables, names, name);
  return counts;
}

/**
 * The row counts of the tables built. Nothing usable in the input (a tracking log given as the
 * forum export, documents without a course_id, an empty export) fails: last week's tables stay
 * (docs/decisions.md §8).
 */
async function countBuilt(conn: Connection, tables: readonly TableDef[], building: (t: TableDef) => string): Promise<number[]> {
  const counts: number[] = [];
  for (const t of tables) {
    const [rows] = await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${building(t)}`);
    counts.push(Number(rows[0].n));
  }
  if (counts.every((n) => n === 0)) {
    throw new RefreshError(`no usable input: ${tables.map((t) => t.name).join(', ')} would be empty; last week's ${tables.length > 1 ? 'tables stay' : 'table stays'} as ${tables.length > 1 ? 'they were' : 'it was'}`);
  }
  return counts;
}

/** One RENAME: the tables built in, last week's out under their retired names; then those dropped. */
async function swapIn(conn: Connection, tables: readonly TableDef[], names: DatabaseNames, name: (t: TableDef, as?: string) => string): Promise<void> {
  const renames: string[] = [];
  const retired: string[] = [];
  for (const t of tables) {
    if (await tableExists(conn, databaseName(names, t.database), t.name)) {
      renames.push(`${name(t)} TO ${name(t, t.name + RETIRED)}`);
      retired.push(name(t, t.name + RETIRED));
    }
    renames.push(`${name(t, buildingName(t))} TO ${name(t)}`);
  }
  await conn.query(`RENAME TABLE ${renames.join(', ')}`);
  if (retired.length) await conn.query(`DROP TABLE ${retired.join(', ')}`);
}

export async function tableExists(conn: Connection, db: string, table: string): Promise<boolean> {
  const [rows] = await conn.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [db, table],
  );
  return Number(rows[0].n) > 0;
}
