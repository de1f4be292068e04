// A throwaway warehouse loaded from events written in a test: the events go through the real
// edx-json2sql (SQL script) into databases of unique names on the test server, dropped at the end.
import { runTool } from './tools.js';
import { loadSqlScript, testConnection, uniqueName } from './mariadb.js';

export interface EventWarehouse {
  edx: string;
  priv: string;
  /** Tool arguments naming the two databases. */
  args: string[];
}

/** Transform `events` (objects or raw lines) and load them; the databases go at teardown. */
export async function warehouseOf(
  t: { teardown(fn: () => Promise<void>): void },
  events: (object | string)[],
  prefix = 'edx_wh',
): Promise<EventWarehouse> {
  const edx = uniqueName(`${prefix}_edx`);
  const priv = uniqueName(`${prefix}_priv`);
  t.teardown(async () => {
    const c = await testConnection();
    await c.query(`DROP DATABASE IF EXISTS \`${edx}\`; DROP DATABASE IF EXISTS \`${priv}\``);
    await c.end();
  });
  const args = ['--edx-db', edx, '--private-db', priv];
  const log = events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n') + '\n';
  const r = await runTool('edx-json2sql', ['--quiet', ...args], { input: log });
  if (r.code !== 0) throw new Error(`edx-json2sql failed: ${r.stderr}`);
  const warnings = await loadSqlScript(r.stdout);
  if (warnings !== 0) throw new Error(`loading the events gave ${warnings} warnings`);
  return { edx, priv, args };
}
