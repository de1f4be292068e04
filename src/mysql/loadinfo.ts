// The files LoadInfo records as loaded (docs/original.md#logs-and-the-mirror), read over a connection
// with the client's settings (mysql/connection.ts).
import { connectTool, type ConnectionSettings } from './connection.js';
import { LoadInfo } from '../schema/tables.js';
import { qualifiedName } from '../schema/ddl.js';
import type { DatabaseNames } from '../schema/table.js';
import { ToolError } from '../core/errors.js';

/**
 * Every LoadInfo.load_file. A LoadInfo table or database that does not exist yet means nothing is
 * loaded (reported through `note`); any other database trouble is a failure, never an empty set
 * (the original's silent empty answer made it pull and load everything again).
 */
export async function loadedFiles(
  names: DatabaseNames, opts: { settings: ConnectionSettings; note: (msg: string) => void },
): Promise<string[]> {
  const table = qualifiedName(LoadInfo, names);
  const conn = await connectTool(opts.settings);
  try {
    const [rows] = await conn.query({ sql: `SELECT load_file FROM ${table}`, rowsAsArray: true });
    return (rows as unknown[][]).map((r) => String(r[0] ?? ''));
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ER_NO_SUCH_TABLE' || code === 'ER_BAD_DB_ERROR') {
      opts.note(`${table} does not exist yet; nothing counts as loaded`);
      return [];
    }
    throw new ToolError(`cannot read ${table}: ${(e as Error).message}`);
  } finally {
    await conn.end().catch(() => undefined);
  }
}
