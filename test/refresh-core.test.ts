// What every refresh job stands on (src/refresh/sql.ts, jobs/run-dates.ts, the edx-refresh CLI), on
// the real MariaDB: a rebuilt table appears whole or not at all, a failed rebuild leaves the old
// table, streamed rows are checked, and the weekly run's stamps.
import t from 'tap';
import { testConnection, testServer, uniqueName } from './helpers/mariadb.js';
import { runTool } from './helpers/tools.js';
import { column, defineTable, DEFAULT_DATABASES, type DatabaseNames } from '../src/schema/table.js';
import { checkedQuery, loadRows, rebuildTable, RefreshError } from '../src/refresh/sql.js';
import { connect, connectionSettings } from '../src/mysql/connection.js';

const server = await testServer();
const edx = uniqueName('refresh_core');
const names: Required<DatabaseNames> = { ...DEFAULT_DATABASES, Edx: edx };
const admin = await testConnection();
t.teardown(async () => {
  await admin.query(`DROP DATABASE IF EXISTS \`${edx}\``);
  await admin.end();
});
// The tools' own connection (LOAD DATA LOCAL allowed), as edx-refresh opens it.
const conn = await connect(connectionSettings({}, server.env), { flags: ['+LOCAL_FILES'] });
t.teardown(() => conn.end());

const Scores = defineTable({
  name: 'Scores',
  database: 'Edx',
  columns: ["learner VARCHAR(40) DEFAULT ''", "course VARCHAR(255) DEFAULT ''", 'grade DECIMAL(5,2) NULL', 'note TEXT'],
  primaryKey: ['learner', 'course'],
  indexes: [['ScoresCourseIdx', 'course']],
});
const contents = async () => (await admin.query(`SELECT learner, course, grade, note FROM \`${edx}\`.Scores ORDER BY learner, course`))[0];

t.test('column(): the compact column form, commas inside types included', async (t) => {
  t.same(['a DECIMAL(10,2) NULL', "b VARCHAR(40) DEFAULT ''", 'c INT DEFAULT -1'].map((spec) => column(spec)), [
    { name: 'a', type: { sql: 'DECIMAL(10,2)', kind: 'other' }, nullable: true, empty: null },
    { name: 'b', type: { sql: 'VARCHAR(40)', kind: 'text', limit: { max: 40, unit: 'chars' } }, nullable: false, default: "''", empty: '' },
    { name: 'c', type: { sql: 'INT', kind: 'int', range: [-2147483648, 2147483647] }, nullable: false, default: '-1', empty: -1 },
  ]);
  t.throws(() => column('no type here at all'), /cannot read column/);
});

t.test('rebuildTable + loadRows: rows streamed in, the table swapped in whole', async (t) => {
  const rows = [
    ['ada', 'Demo/CS101/2014', 87.5, "quote ' backslash \\ newline \n tab \t"],
    ['grace', 'course-v1:Demo+CS101+2014', null, 'emoji 🎓 and NUL \0 end'],
  ];
  const n = await rebuildTable(conn, Scores, names, async (building) => {
    t.match(building, /Scores__building/, 'filled under the building name');
    const [seen] = await admin.query(`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'Scores'`, [edx]);
    t.equal(Number((seen as { n: number }[])[0].n), 0, 'the table is not there while it is built');
    await loadRows(conn, Scores, names, rows, building);
  });
  t.equal(n, 2, 'rows counted');
  t.same(await contents(), [
    { learner: 'ada', course: 'Demo/CS101/2014', grade: '87.50', note: rows[0][3] },
    { learner: 'grace', course: 'course-v1:Demo+CS101+2014', grade: null, note: rows[1][3] },
  ], 'every value arrives as it was, escapes and NULL included');
  const [tables] = await admin.query(`SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1`, [edx]);
  t.same(tables, [{ t: 'Scores' }], 'no building or retired table is left');
  const [keys] = await admin.query(`SHOW KEYS FROM \`${edx}\`.Scores WHERE Key_name = 'ScoresCourseIdx'`);
  t.equal((keys as unknown[]).length, 1, 'indexes come with the table');
});

t.test('a rebuild that fails leaves the old table as it was', async (t) => {
  const before = await contents();
  await t.rejects(
    rebuildTable(conn, Scores, names, async () => {
      throw new RefreshError('the source was cut');
    }),
    /the source was cut/,
  );
  t.same(await contents(), before, 'old rows untouched');
  // A value the column cannot hold is a warning in LOAD DATA, so a failure, not a cut value.
  await t.rejects(
    rebuildTable(conn, Scores, names, (b) => loadRows(conn, Scores, names, [['x'.repeat(41), 'c', 1, '']], b)),
    /Scores: 1 warning\(s\)|Data too long/,
    'a value too long for its column fails the rebuild',
  );
  t.same(await contents(), before, 'still the old rows');
  const [tables] = await admin.query(`SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1`, [edx]);
  t.same(tables, [{ t: 'Scores' }], 'the half-built table is dropped');
});

t.test('a second rebuild replaces the rows; readers during the swap see one table or the other', async (t) => {
  await rebuildTable(conn, Scores, names, (b) => loadRows(conn, Scores, names, [['alan', 'c', 1, 'new']], b));
  t.same(await contents(), [{ learner: 'alan', course: 'c', grade: '1.00', note: 'new' }]);
});

t.test('checkedQuery: a statement that warns is a failure', async (t) => {
  await t.rejects(checkedQuery(conn, `DO CAST('12abc' AS SIGNED)`), /1 warning\(s\): Warning 1292/);
  await checkedQuery(conn, `CREATE DATABASE IF NOT EXISTS \`${edx}\``); // a note only: no failure
  const res = await checkedQuery(conn, 'DO 1');
  t.equal(res.warningStatus, 0);
});

t.test('edx-refresh: usage, --list, the run stamps', async (t) => {
  const env = server.env;
  const none = await runTool('edx-refresh', [], { env });
  t.equal(none.code, 2, 'no job named: usage error');
  t.match(none.stderr, /name at least one job/);
  const unknown = await runTool('edx-refresh', ['no-such-job'], { env });
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /no job named 'no-such-job'/);
  const bad = await runTool('edx-refresh', ['--edx-db', 'x; DROP', 'run-start'], { env });
  t.equal(bad.code, 2, 'a database name that is not plain is refused');
  const help = await runTool('edx-refresh', ['--help'], { env });
  t.equal(help.code, 0);
  t.match(help.stdout, /run-start\s+record the start/, 'the jobs are listed in --help');
  const list = await runTool('edx-refresh', ['--list', '--edx-db', edx], { env });
  t.match(list.stdout, `run-start\tafter: -\tinput: -\tbuilds: ${edx}.FullLoadDates`);

  const endFirst = await runTool('edx-refresh', ['--edx-db', edx, 'run-end'], { env });
  t.equal(endFirst.code, 1, 'ending a run that never started fails');
  t.match(endFirst.stderr, /run-end: FAILED: .*does not exist: no run was started/);
  const dry = await runTool('edx-refresh', ['--edx-db', edx, '--dry-run', 'run-start'], { env });
  t.equal(dry.code, 0);
  t.match(dry.stderr, /dry run: would add a row/);
  const [missing] = await admin.query(`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'FullLoadDates'`, [edx]);
  t.equal(Number((missing as { n: number }[])[0].n), 0, 'the dry run created nothing');

  t.equal((await runTool('edx-refresh', ['--edx-db', edx, 'run-start'], { env })).code, 0);
  t.equal((await runTool('edx-refresh', ['--edx-db', edx, 'run-start'], { env })).code, 0, 'a second start (the first run failed)');
  const end = await runTool('edx-refresh', ['--edx-db', edx, 'run-end'], { env });
  t.equal(end.code, 0, end.stderr);
  const [runs] = await admin.query(`SELECT load_start IS NOT NULL AS s, load_end IS NOT NULL AS e FROM \`${edx}\`.FullLoadDates ORDER BY load_start, load_end`);
  t.same((runs as { s: number; e: number }[]).map((r) => [r.s, r.e]).sort(), [[1, 0], [1, 1]], 'the run that ended has its end; the other still has none');
  t.notMatch(end.stderr + end.stdout, /password/i);
});

t.test('the default names are the original databases', async (t) => {
  t.same(DEFAULT_DATABASES, { Edx: 'Edx', EdxPrivate: 'EdxPrivate', edxprod: 'edxprod', EdxForum: 'EdxForum' });
});
