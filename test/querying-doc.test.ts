// Every SQL block of docs/querying.md runs as written (without warnings) on the warehouse of the
// bundled example log, made as `make demo` makes it (--init, then the log), so the guide and the
// views cannot drift apart.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { REPO, EXAMPLE_LOG } from './helpers/tools.js';
import { testConnection } from './helpers/mariadb.js';
import { warehouseOf } from './helpers/warehouse.js';

const doc = readFileSync(join(REPO, 'docs', 'querying.md'), 'utf8');
const blocks = [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1].trim());
t.ok(blocks.length >= 5, `docs/querying.md has SQL examples (${blocks.length})`);

const lines = gunzipSync(readFileSync(EXAMPLE_LOG)).toString('utf8').split('\n').filter((l) => l !== '');
const wh = await warehouseOf(t, lines, 'edx_qdoc', { init: true });
const c = await testConnection(wh.edx);
t.teardown(() => c.end());

for (const sql of blocks) {
  t.test(sql.split('\n')[0].slice(0, 70), async (t) => {
    const [rows] = await c.query(sql);
    t.ok(Array.isArray(rows), 'runs and returns rows');
    const [warnings] = await c.query('SHOW WARNINGS');
    t.same(warnings, [], 'without a warning');
  });
}
