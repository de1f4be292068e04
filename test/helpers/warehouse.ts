// A throwaway warehouse loaded from events written in a test: the events go through the real
// edx-json2sql (SQL script) into databases of unique names on the test server, dropped at the end.
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
