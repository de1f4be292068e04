// A cut dump never replaces a table (docs/decisions.md §8, issue 14 item 5): `edx-extract-table cut.sql T |
// mariadb DB`, the README's own example, with a dump cut between statements, inside a row, inside
// the structure: the mariadb client runs whatever it is given, and the table keeps last week's rows.
// The whole dump replaces it.
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, runBytes, toolEnv } from './helpers/tools.js';
import { testConnection, testServer, uniqueName } from './helpers/mariadb.js';

const MARIADB_DUMP = ['/usr/bin/mariadb-dump', '/usr/bin/mysqldump'].find(existsSync);
const MARIADB = ['/usr/bin/mariadb', '/usr/bin/mysql'].find(existsSync);
const dir = mkdtempSync(join(tmpdir(), 'edx-pipes-xt-cut-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('a cut dump piped into mariadb leaves the table as it was', { timeout: 600_000, skip: !MARIADB_DUMP || !MARIADB ? 'no mariadb-dump or mariadb client' : false }, async (t) => {
  const s = await testServer();
  const clientArgs = ['--no-defaults', '-h', s.host, '-P', String(s.port), '-u', s.user];
  const env = { ...toolEnv(), ...(s.password ? { MYSQL_PWD: s.password } : {}) };
  const c = await testConnection();
  const src = uniqueName('xtc_src');
  const dst = uniqueName('xtc_dst');
  t.teardown(async () => {
    await c.query(`DROP DATABASE IF EXISTS ${src}; DROP DATABASE IF EXISTS ${dst}`);
    await c.end();
  });
  // This week's dump: 600 rows, a row per INSERT so that cuts fall between statements too.
  await c.query(`CREATE DATABASE ${src}; CREATE DATABASE ${dst}`);
  await c.query(`CREATE TABLE ${src}.EdxTrackEvent (id INT PRIMARY KEY, v VARCHAR(40)); CREATE TABLE ${src}.Other (id INT)`);
  await c.query(`INSERT INTO ${src}.EdxTrackEvent SELECT seq, CONCAT('new ', seq) FROM ${src}.seq_1_to_600`);
  const d = await runBytes(MARIADB_DUMP!, [...clientArgs, '--skip-extended-insert', src], undefined, env);
  t.equal(d.code, 0, d.stderr.toString());
  const dump = d.stdout;
  writeFileSync(join(dir, 'whole.sql'), dump);
  const text = dump.toString('latin1');

  const lastWeek = async () => {
    await c.query(`DROP TABLE IF EXISTS ${dst}.EdxTrackEvent; CREATE TABLE ${dst}.EdxTrackEvent (id INT PRIMARY KEY, v VARCHAR(40))`);
    await c.query(`INSERT INTO ${dst}.EdxTrackEvent SELECT seq, CONCAT('old ', seq) FROM ${src}.seq_1_to_900`);
  };
  const state = async () => {
    const [rows] = await c.query(`SELECT COUNT(*) AS n, MIN(v) AS v FROM ${dst}.EdxTrackEvent`);
    const [tables] = await c.query('SELECT table_name AS n FROM information_schema.tables WHERE table_schema = ? ORDER BY 1', [dst]);
    return { ...(rows as { n: number; v: string }[])[0], tables: (tables as { n: string }[]).map((r) => r.n) };
  };
  const pipeline = async (bytes: Buffer) => {
    const file = join(dir, 'cut.sql');
    writeFileSync(file, bytes);
    return runBytes('/bin/bash', ['-c', `env -u NODE_OPTIONS '${join(REPO, 'bin', 'edx-extract-table')}' '${file}' EdxTrackEvent | '${MARIADB}' ${clientArgs.join(' ')} ${dst}`], undefined, env);
  };

  const structure = text.indexOf('CREATE TABLE `EdxTrackEvent`');
  const firstInsert = text.indexOf('INSERT INTO `EdxTrackEvent`');
  const row300 = text.indexOf("INSERT INTO `EdxTrackEvent` VALUES (300,");
  const cuts: [string, number][] = [
    ['after the DROP TABLE', text.indexOf('\n', text.indexOf('DROP TABLE IF EXISTS `EdxTrackEvent`')) + 1],
    ['inside the CREATE TABLE', structure + 30],
    ['between two INSERTs (299 rows read)', row300],
    ['inside a row', row300 + 35],
    ['after the last INSERT, before UNLOCK TABLES', text.indexOf('UNLOCK TABLES', firstInsert)],
  ];
  for (const [where, at] of cuts) {
    await lastWeek();
    const r = await pipeline(dump.subarray(0, at));
    t.equal((await state()).n, 900, `${where}: last week's 900 rows stay (mariadb exit ${r.code})`);
    t.equal((await state()).v, 'old 1', `${where}: last week's rows`);
  }
  await lastWeek();
  const whole = await pipeline(dump);
  t.equal(whole.code, 0, whole.stderr.toString());
  t.same(await state(), { n: 600, v: 'new 1', tables: ['EdxTrackEvent'] }, 'the whole dump replaces the table, and nothing is left aside');
  // A table that is not there yet is created by the whole section.
  await c.query(`DROP TABLE ${dst}.EdxTrackEvent`);
  const fresh = await pipeline(readFileSync(join(dir, 'whole.sql')));
  t.equal(fresh.code, 0, fresh.stderr.toString());
  t.same(await state(), { n: 600, v: 'new 1', tables: ['EdxTrackEvent'] }, 'into a database without the table');
});
