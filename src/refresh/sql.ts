// What every refresh job does with the server: statements whose warnings are failures
// (decisions.md §9), rows streamed in with LOAD DATA LOCAL INFILE from the client (operations.md
// §13 item 32: no server-side files, no FILE privilege), and tables rebuilt under another name and
// swapped in with one RENAME, so that a reader never sees a half-built table and a failed
// refresh leaves last week's table in place (the original dropped it first, §13 item 23).
import { Readable } from 'node:stream';
import type { Connection as CallbackConnection } from 'mysql2';
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { encodeValue, DIALECT_CLAUSE } from '../csv/encode.js';
import type { Value } from '../schema/fit.js';
import { loadInfo } from '../mysql/load.js';
import { columnList, createDerivedDatabases, createDerivedTable, derivedName, type DerivedTable, type RefreshNames } from '../schema/derived.js';

/** A refresh step failed: said as `job: message`, the job's tables as they were before. */
export class RefreshError extends Error {}

async function warningsText(conn: Connection): Promise<string> {
  const [warnings] = await conn.query<RowDataPacket[]>('SHOW WARNINGS LIMIT 5');
  return warnings.map((w) => `${w.Level} ${w.Code}: ${w.Message}`).join('; ');
}

/** Run one statement; any warning is a failure (strict as a load: decisions.md §9). */
export async function checkedQuery(conn: Connection, sql: string, params?: unknown[]): Promise<ResultSetHeader> {
  const [res] = await conn.query<ResultSetHeader>(sql, params);
  if (res && typeof res === 'object' && 'warningStatus' in res && res.warningStatus > 0) {
    throw new RefreshError(`${sql.split('\n')[0].slice(0, 80)}…: ${res.warningStatus} warning(s): ${await warningsText(conn)}`);
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
        yield Buffer.from(batch, 'utf8'); // mysql2 needs Buffers (../shared/README.md)
        batch = '';
      }
    }
    if (batch) yield Buffer.from(batch, 'utf8');
  }
  return Readable.from(lines(), { objectMode: false });
}

/**
 * Stream rows (values in the table's column order) into `as` (default: the table itself) with
 * LOAD DATA LOCAL INFILE; the server must read every row, without a warning. Returns the count.
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
    throw new RefreshError(`${t.name}: ${res.warningStatus || info.warnings} warning(s), ${info.skipped || 0} skipped: ${await warningsText(conn)}`);
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

/** The name a table is built under (for loadRows' `as`, inside a rebuild's `fill`). */
export const buildingName = (t: DerivedTable): string => t.name + BUILDING;

/**
 * Rebuild a table: create it empty as `<name>__building`, let `fill` write its rows there (by
 * the qualified name it gets), then swap it in with one atomic RENAME and drop the old one.
 * When `fill` fails the building table is dropped and the old one stays as it was.
 * Returns the new table's row count.
 */
export async function rebuildTable(
  conn: Connection,
  t: DerivedTable,
  names: RefreshNames,
  fill: (building: string) => Promise<void>,
): Promise<number> {
  const [rows] = await rebuildTables(conn, names, [{ table: t, fill }]);
  return rows;
}

/**
 * Rebuild several tables together: each is built as `<name>__building` in turn, and only when
 * all are built are they swapped in with one RENAME, so that tables made from one input (a
 * modulestore's CourseInfo, EdxProblem, EdxVideo) are never of different weeks. When any `fill`
 * fails, every building table is dropped and the old tables stay as they were. Returns the row
 * counts, in order.
 */
export async function rebuildTables(
  conn: Connection,
  names: RefreshNames,
  parts: readonly { table: DerivedTable; fill: (building: string) => Promise<void> }[],
): Promise<number[]> {
  const tables = parts.map((p) => p.table);
  await ensureDatabases(conn, tables, names);
  const building = (t: DerivedTable) => derivedName(t, names, t.name + BUILDING);
  const retired = (t: DerivedTable) => derivedName(t, names, t.name + RETIRED);
  const dropBuilding = () => conn.query(`DROP TABLE IF EXISTS ${tables.map(building).join(', ')}`);
  await conn.query(`DROP TABLE IF EXISTS ${[...tables.map(building), ...tables.map(retired)].join(', ')}`);
  const counts: number[] = [];
  try {
    for (const { table, fill } of parts) {
      await checkedQuery(conn, createDerivedTable(table, names, table.name + BUILDING));
      await fill(building(table));
      const [rows] = await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${building(table)}`);
      counts.push(Number(rows[0].n));
    }
  } catch (e) {
    await dropBuilding().catch(() => undefined);
    throw e;
  }
  const renames: string[] = [];
  const replaced: DerivedTable[] = [];
  for (const t of tables) {
    if (await tableExists(conn, names[t.database], t.name)) {
      renames.push(`${derivedName(t, names)} TO ${retired(t)}`);
      replaced.push(t);
    }
    renames.push(`${building(t)} TO ${derivedName(t, names)}`);
  }
  await conn.query(`RENAME TABLE ${renames.join(', ')}`);
  if (replaced.length) await conn.query(`DROP TABLE ${replaced.map(retired).join(', ')}`);
  return counts;
}

export async function tableExists(conn: Connection, db: string, table: string): Promise<boolean> {
  const [rows] = await conn.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [db, table],
  );
  return Number(rows[0].n) > 0;
}
