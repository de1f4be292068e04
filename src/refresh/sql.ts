// What every refresh job does with the server: statements whose warnings are failures
// (docs/decisions.md §17), rows streamed in with LOAD DATA LOCAL INFILE from the client
// (docs/original.md#bug-8: no server-side files, no FILE privilege), and tables rebuilt under another name and
// swapped in with one RENAME, so that a reader never sees a half-built table and a failed
// refresh leaves last week's table in place (the original dropped it first, docs/original.md#bug-6).
import { Readable } from 'node:stream';
import type { Connection as CallbackConnection } from 'mysql2';
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { encodeValue, DIALECT_CLAUSE } from '../csv/encode.js';
import type { Value } from '../schema/fit.js';
import { loadInfo } from '../mysql/load.js';
import { columnList, createDerivedDatabases, createDerivedTable, derivedName, type DerivedTable, type RefreshNames } from '../schema/derived.js';

/** A refresh step failed: said as `job: message`, the job's tables as they were before. */
export class RefreshError extends Error {}

/** The warnings and errors of the last statement, notes left out ('database exists' is no problem). */
async function problems(conn: Connection): Promise<RowDataPacket[]> {
  const [warnings] = await conn.query<RowDataPacket[]>('SHOW WARNINGS');
  return warnings.filter((w) => w.Level !== 'Note');
}

const describe = (warnings: RowDataPacket[]) =>
  warnings.slice(0, 5).map((w) => `${w.Level} ${w.Code}: ${w.Message}`).join('; ');

/**
 * Run one statement; any warning is a failure (strict as a load: docs/decisions.md §17). Notes are not
 * (CREATE … IF NOT EXISTS of something that exists leaves one).
 */
export async function checkedQuery(conn: Connection, sql: string, params?: unknown[]): Promise<ResultSetHeader> {
  const [res] = await conn.query<ResultSetHeader>(sql, params);
  if (res && typeof res === 'object' && 'warningStatus' in res && res.warningStatus > 0) {
    const found = await problems(conn);
    if (found.length) throw new RefreshError(`${sql.split('\n')[0].slice(0, 80)}…: ${found.length} warning(s): ${describe(found)}`);
  }
  return res;
}

/** Rows as the bytes of the CSV dialect LOAD DATA reads (csv/encode.ts), a batch of rows per chunk. */
function csvBytes(rows: AsyncIterable<readonly Value[]> | Iterable<readonly Value[]>, count: { rows: number }): Readable {
  async function* lines() {
    let batch = '';
    for await (const row of rows) {
      let line = '';
      for (let i = 0; i < row.length; i++) line += (i ? ',' : '') + encodeValue(row[i]);
      batch += line + '\n';
      count.rows++;
      if (batch.length >= 1 << 16) {
        yield Buffer.from(batch, 'utf8'); // mysql2's LOAD DATA LOCAL stream needs Buffers (a string fails: data.copy is not a function)
        batch = '';
      }
    }
    if (batch) yield Buffer.from(batch, 'utf8');
  }
  return Readable.from(lines(), { objectMode: false });
}

/**
 * Stream rows (values in the table's column order) into `as`, a table of the table's database
 * (default: the table itself; in a rebuild, the building name its fill gets) with LOAD DATA
 * LOCAL INFILE; the server must read every row, without a warning. Returns the count.
 */
export async function loadRows(
  conn: Connection,
  t: DerivedTable,
  names: RefreshNames,
  rows: AsyncIterable<readonly Value[]> | Iterable<readonly Value[]>,
  as = t.name,
): Promise<number> {
  const count = { rows: 0 };
  const sql = `LOAD DATA LOCAL INFILE 'rows' INTO TABLE ${derivedName(t, names, as)} ${DIALECT_CLAUSE} (${columnList(t)})`;
  let res: ResultSetHeader;
  try {
    [res] = await conn.query<ResultSetHeader>({ sql, infileStreamFactory: () => csvBytes(rows, count) });
  } catch (e) {
    throw new RefreshError(`${t.name}: ${(e as Error).message}`);
  }
  const info = loadInfo(res.info ?? '');
  if (res.warningStatus > 0 || info.warnings > 0 || info.skipped > 0) {
    const found = await problems(conn);
    throw new RefreshError(`${t.name}: ${res.warningStatus || info.warnings} warning(s), ${info.skipped || 0} skipped: ${describe(found)}`);
  }
  if (info.records !== count.rows) throw new RefreshError(`${t.name}: the server read ${info.records} rows of ${count.rows}`);
  return count.rows;
}

/**
 * Create the databases of these tables where missing. Not checked: IF NOT EXISTS leaves a note
 * (1007) for a database that exists, which is the usual case, not a failure.
 */
export async function ensureDatabases(conn: Connection, tables: readonly DerivedTable[], names: RefreshNames): Promise<void> {
  for (const sql of createDerivedDatabases(tables, names)) await conn.query(sql);
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

const BUILDING = '__building';
const RETIRED = '__retired';

/** The name a table is built under (what a rebuild's `fill` gets, for loadRows' `as`). */
const buildingName = (t: DerivedTable): string => t.name + BUILDING;

/**
 * Rebuild a table: create it empty as `<name>__building`, let `fill` write its rows there (it
 * gets that name, for loadRows' `as`), then swap it in with one atomic RENAME and drop the old
 * one. When `fill` fails the building table is dropped and the old one stays as it was.
 * Returns the new table's row count.
 */
export async function rebuildTable(
  conn: Connection,
  t: DerivedTable,
  names: RefreshNames,
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
  tables: readonly DerivedTable[],
  names: RefreshNames,
  fill: (building: (t: DerivedTable) => string) => Promise<void>,
): Promise<number[]> {
  await ensureDatabases(conn, tables, names);
  for (const t of tables) {
    await conn.query(`DROP TABLE IF EXISTS ${derivedName(t, names, buildingName(t))}, ${derivedName(t, names, t.name + RETIRED)}`);
    await checkedQuery(conn, createDerivedTable(t, names, buildingName(t)));
  }
  const dropBuilding = async () => {
    for (const t of tables) await conn.query(`DROP TABLE IF EXISTS ${derivedName(t, names, buildingName(t))}`).catch(() => undefined);
  };
  const counts: number[] = [];
  try {
    await fill(buildingName);
    for (const t of tables) {
      const [rows] = await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${derivedName(t, names, buildingName(t))}`);
      counts.push(Number(rows[0].n));
    }
  } catch (e) {
    await dropBuilding();
    throw e;
  }
  const renames: string[] = [];
  const retired: string[] = [];
  for (const t of tables) {
    if (await tableExists(conn, names[t.database], t.name)) {
      renames.push(`${derivedName(t, names)} TO ${derivedName(t, names, t.name + RETIRED)}`);
      retired.push(derivedName(t, names, t.name + RETIRED));
    }
    renames.push(`${derivedName(t, names, buildingName(t))} TO ${derivedName(t, names)}`);
  }
  await conn.query(`RENAME TABLE ${renames.join(', ')}`);
  if (retired.length) await conn.query(`DROP TABLE ${retired.join(', ')}`);
  return counts;
}

export async function tableExists(conn: Connection, db: string, table: string): Promise<boolean> {
  const [rows] = await conn.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [db, table],
  );
  return Number(rows[0].n) > 0;
}
