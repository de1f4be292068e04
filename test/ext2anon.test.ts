// edx-ext2anon on a real MariaDB: external ids on stdin → CSV in input order from the Lti2Anon
// table edx-refresh builds (created here from the one table definition), unknown ids counted,
// a missing table named with what to run.
import t from 'tap';
import { runTool } from './helpers/tools.js';
import { testConnection, testServer, uniqueName } from './helpers/mariadb.js';
import { Lti2Anon } from '../src/schema/derived/platform.js';
import { createTable } from '../src/schema/ddl.js';
import { DEFAULT_DATABASES } from '../src/schema/table.js';

const TOOL = 'edx-ext2anon';
const server = await testServer();
const db = uniqueName('edx_ext2anon');
const c = await testConnection();
t.teardown(async () => {
  await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await c.end();
});
await c.query(`CREATE DATABASE \`${db}\``);
await c.query(createTable(Lti2Anon, { ...DEFAULT_DATABASES, edxprod: db }, { quoted: true }));
// 2,500 ids: more than one batch of the tool's queries; every third has no learner (NULL).
const ids = Array.from({ length: 2500 }, (_, i) => `${i.toString(16).padStart(8, '0')}${'a'.repeat(24)}`);
const anonOf = (i: number) => (i % 3 === 0 ? null : `anon${i}`.padEnd(40, '0'));
for (let i = 0; i < ids.length; i += 500) {
  const part = ids.slice(i, i + 500);
  await c.query(`INSERT INTO \`${db}\`.Lti2Anon (lti_id, anon_screen_name) VALUES ${part.map(() => '(?,?)').join(',')}`,
    part.flatMap((id, j) => [id, anonOf(i + j)]));
}

t.test('ids in, CSV out in input order; unknown ids kept with an empty anon id and counted', async (t) => {
  // Input order differs from the table's; a header, CR line ends, blanks and a repeated id.
  const asked = ['ext_id', ids[7], '', ids[3], 'not-an-id', ids[7], ...ids.slice(1000, 2200)];
  const r = await runTool(TOOL, ['--edxprod-db', db], { input: asked.join('\r\n') + '\r\n', env: server.env });
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  t.equal(lines[0], 'ext_id,anon_screen_name');
  const expected = [
    `${ids[7]},${anonOf(7)}`,
    `${ids[3]},`,
    'not-an-id,',
    `${ids[7]},${anonOf(7)}`,
    ...ids.slice(1000, 2200).map((id, j) => `${id},${anonOf(1000 + j) ?? ''}`),
  ];
  t.same(lines.slice(1), expected);
  const unknown = expected.filter((l) => l.endsWith(',')).length;
  t.match(r.stderr, new RegExp(`${expected.length} ids, ${unknown} without a learner`));
});

t.test('no Lti2Anon: one line saying what to run, exit 1', async (t) => {
  const r = await runTool(TOOL, ['--edxprod-db', `${db}_none`], { input: `${ids[0]}\n`, env: server.env });
  t.equal(r.code, 1);
  t.match(r.stderr, /Lti2Anon does not exist: run 'edx-refresh usergrade' first/);
  t.notMatch(r.stderr, /\n\s+at /);
});
