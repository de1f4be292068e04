// The load step of a backfill (edx-csvload --collections, --jobs): every complete collection of a
// directory, several at once over several connections, gives the warehouse of loading them one
// after the other; collections still being written wait; stamps, kept rejects, deletion; a rerun
// adds nothing.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runTool } from './helpers/tools.js';
import { testServer, testConnection, uniqueName } from './helpers/mariadb.js';
import { gz, logFor, logLines } from './helpers/pipeline-logs.js';
import { fingerprint } from './helpers/warehouse.js';

// Logs over three quarters, so that the loaders need partitions added.
const LOGS: [string, Buffer][] = [
  ['app1/tracking.log-20140301.gz', logFor('20140301', 1, 20)],
  ['app2/tracking.log-20140301.gz', logFor('20140301', 2, 16)],
  ['app1/tracking.log-20140415.gz', logFor('20140415', 3, 24)],
  ['app1/tracking.log-20140716.gz', logFor('20140716', 4, 12)],
  ['app2/tracking.log-20140717.gz', gz([...logLines('20140717', 5, 8), 'not json at all'])],
];

const tmp = mkdtempSync(join(tmpdir(), 'edx-pipes-backfill-load-'));
const root = join(tmp, 'tracking');
const databases: string[] = [];
t.teardown(async () => {
  const c = await testConnection();
  await c.query(databases.map((d) => `DROP DATABASE IF EXISTS \`${d}\``).join('; '));
  await c.end();
  rmSync(tmp, { recursive: true, force: true });
});

async function env(): Promise<NodeJS.ProcessEnv> {
  return { ...process.env, ...(await testServer()).env, EDX_PIPES_NO_DEFAULTS: '1' };
}

/** The collections of every log under out, as make transform writes them. */
async function transformAll(out: string): Promise<void> {
  for (const [key] of LOGS) {
    const c = join(out, `${key}.csv`);
    mkdirSync(dirname(c), { recursive: true });
    const r = await runTool('edx-json2sql', ['--quiet', '--csv', c, '--rejects', join(c, 'rejects.jsonl'), join(root, key)], { env: await env() });
    if (r.code !== 0) throw new Error(r.stderr);
  }
}

function names() {
  const edx = uniqueName('bfl_edx');
  const priv = uniqueName('bfl_priv');
  databases.push(edx, priv);
  return ['--edx-db', edx, '--private-db', priv];
}

for (const [key, body] of LOGS) {
  mkdirSync(dirname(join(root, key)), { recursive: true });
  writeFileSync(join(root, key), body);
}

t.test('--jobs 2 over a directory gives the warehouse of one collection after the other', async (t) => {
  // One after the other: edx-csvload of each collection alone, as the old load loop did.
  const one = names();
  const seqOut = join(tmp, 'seq');
  await transformAll(seqOut);
  t.equal((await runTool('edx-csvload', ['--init', '--quiet', ...one], { env: await env() })).code, 0);
  for (const [key] of LOGS) {
    const r = await runTool('edx-csvload', ['--quiet', ...one, join(seqOut, `${key}.csv`)], { env: await env() });
    t.equal(r.code, 0, r.stderr);
  }
  const reference = await fingerprint(one[1], one[3]);

  const two = names();
  const out = join(tmp, 'CSV');
  const stamps = join(tmp, 'loaded');
  const rejects = join(tmp, 'rejects');
  await transformAll(out);
  // A collection still being written, as a shard leaves it until it renames it.
  const held = join(out, `${LOGS[0][0]}.csv`);
  renameSync(held, `${held}.partial`);
  const load = ['--init', '--jobs', '2', ...two, '--collections', out, '--log-root', root, '--stamps', stamps, '--rejects', rejects];
  const r = await runTool('edx-csvload', load, { env: await env() });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, `${LOGS.length - 1} collections into`, 'the complete collections only');
  t.match(r.stderr, `1 line of ${LOGS[4][0]} was rejected`, 'the rejected line is said');
  t.ok(existsSync(join(rejects, `${LOGS[4][0]}.jsonl`)), 'and kept');
  t.ok(existsSync(`${held}.partial`), 'a collection being written is left alone');
  for (const [key] of LOGS.slice(1)) {
    t.notOk(existsSync(join(out, `${key}.csv`)), `${key}: deleted after its load`);
    const apart = Math.abs(statSync(join(stamps, key)).mtimeMs - statSync(join(root, key)).mtimeMs);
    t.ok(apart < 0.01, `${key}: stamped with its log's time (${apart} ms apart)`);
  }

  // The held-back collection is complete now: the next load takes it, and adds nothing else.
  renameSync(`${held}.partial`, held);
  const again = await runTool('edx-csvload', load, { env: await env() });
  t.equal(again.code, 0, again.stderr);
  t.match(again.stderr, '1 collection into');
  t.same(await fingerprint(two[1], two[3]), reference, 'same tables, rows and ids');
  t.same(readdirSync(out, { recursive: true }), [], 'nothing left to load, no empty directories');

  const none = await runTool('edx-csvload', load, { env: await env() });
  t.equal(none.code, 0, none.stderr);
  t.match(none.stderr, 'nothing to load');
  t.same(await fingerprint(two[1], two[3]), reference, 'a rerun adds nothing');
});

t.test('--jobs is a count, and takes collections', async (t) => {
  for (const bad of [['--jobs', '0', 'x'], ['--jobs', 'two', 'x'], ['--jobs', '2'], ['--stamps', 'x', 'y']]) {
    const r = await runTool('edx-csvload', bad, { env: await env(), input: '' });
    t.equal(r.code, 2, `${bad.join(' ')}: a usage error (${r.stderr.split('\n')[0]})`);
  }
});
