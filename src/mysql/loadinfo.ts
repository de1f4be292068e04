// The files LoadInfo records as loaded (docs/original.md#logs-and-the-mirror), read with the project's usual MySQL
// settings (option file, then MYSQL_* environment; no password on the command line).
import { connect, connectionSettings, describeSettings } from './connection.js';
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
  names: DatabaseNames, opts: { defaultsFile?: string; note: (msg: string) => void },
): Promise<string[]> {
  let settings;
  try {
    settings = connectionSettings({ defaultsFile: opts.defaultsFile });
  } catch (e) {
    throw new ToolError((e as Error).message);
  }
  const table = qualifiedName(LoadInfo, names);
  let conn;
  try {
    conn = await connect(settings);
  } catch (e) {
    throw new ToolError(`cannot connect to MySQL as ${describeSettings(settings)}: ${(e as Error).message}`);
  }
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
