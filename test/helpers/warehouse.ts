// Throwaway warehouses for tests: one loaded from events written in a test (through the real
// edx-json2sql, into databases of unique names dropped at the end), and what a warehouse holds, to
// compare two of them: per table of the two databases, the row count and an order-free hash of
// every row's values (all columns but LoadInfo.load_date_time, the time of the load). Two
// warehouses loaded from the same log paths have the same fingerprint.
import { runTool } from './tools.js';
import { loadSqlScript, testConnection, testServer, uniqueName } from './mariadb.js';

export interface EventWarehouse {
  edx: string;
  priv: string;
  /** Tool arguments naming the two databases. */
  args: string[];
}

/** Transform `events` (objects or raw lines) and load them (after --init when asked); the databases go at teardown. */
export async function warehouseOf(
  t: { teardown(fn: () => Promise<void>): void },
  events: (object | string)[],
  prefix = 'edx_wh',
  opts: { init?: boolean } = {},
): Promise<EventWarehouse> {
  const edx = uniqueName(`${prefix}_edx`);
  const priv = uniqueName(`${prefix}_priv`);
  t.teardown(async () => {
    const c = await testConnection();
    await c.query(`DROP DATABASE IF EXISTS \`${edx}\`; DROP DATABASE IF EXISTS \`${priv}\``);
    await c.end();
  });
  const args = ['--edx-db', edx, '--private-db', priv];
  if (opts.init) {
    // The routines and views of --init, as a real warehouse has them.
    const init = await runTool('edx-csvload', ['--init', '--quiet', ...args], { env: (await testServer()).env });
    if (init.code !== 0) throw new Error(`edx-csvload --init failed: ${init.stderr}`);
  }
  const log = events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n') + '\n';
  const r = await runTool('edx-json2sql', ['--quiet', ...args], { input: log });
  if (r.code !== 0) throw new Error(`edx-json2sql failed: ${r.stderr}`);
  const warnings = await loadSqlScript(r.stdout);
  if (warnings !== 0) throw new Error(`loading the events gave ${warnings} warnings`);
  return { edx, priv, args };
}

export async function fingerprint(edx: string, priv: string): Promise<Record<string, string>> {
  const c = await testConnection();
  try {
    const [cols] = await c.query(
      `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS tbl, COLUMN_NAME AS col FROM information_schema.COLUMNS c
        WHERE TABLE_SCHEMA IN (?, ?) AND EXISTS (SELECT 1 FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME AND t.TABLE_TYPE = 'BASE TABLE')
        ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`, [edx, priv]);
    const tables = new Map<string, string[]>();
    for (const r of cols as { db: string; tbl: string; col: string }[]) {
      if (r.col === 'load_date_time') continue;
      const k = `${r.db}\0${r.tbl}`;
      tables.set(k, [...(tables.get(k) ?? []), r.col]);
    }
    const out: Record<string, string> = {};
    for (const [k, columns] of tables) {
      const [db, tbl] = k.split('\0');
      const row = `CONCAT_WS('|', ${columns.map((col) => `QUOTE(\`${col}\`)`).join(', ')})`;
      const [rows] = await c.query(`SELECT COUNT(*) AS n, COALESCE(BIT_XOR(CAST(CONV(LEFT(MD5(${row}), 16), 16, 10) AS UNSIGNED)), 0) AS h FROM \`${db}\`.\`${tbl}\``);
      const r = (rows as { n: number; h: string }[])[0];
      out[`${db === edx ? 'Edx' : 'Private'}.${tbl}`] = `${r.n}:${r.h}`;
    }
    return out;
  } finally {
    await c.end();
  }
}

/** Whether the server has a database of this name. */
export async function databaseExists(name: string): Promise<boolean> {
  const c = await testConnection();
  try {
    const [rows] = await c.query('SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]);
    return Number((rows as { n: number }[])[0].n) > 0;
  } finally {
    await c.end();
  }
}
