// edx-refresh's platform jobs (edxprod, usergrade, activitygrade) against a real MariaDB: an
// edxapp platform database of our own (helpers/edxapp.ts) dumped by the real mariadb-dump, loaded
// by the tool as users run it, into throwaway databases. Asserted: the copied tables are the
// dump's (definition and rows), the exact rows of every derived table, each fix of
// docs/original.md#bug-10, #bug-9, #bug-11, #bug-12, #bug-15, #bug-18, re-runs that change nothing, incremental ActivityGrade,
// failures (cut dumps, missing tables, a warning, jobs run out of order) that leave every table as
// it was, dry runs that change nothing, and no password on any command line.
import t, { type Test } from 'tap';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { RowDataPacket } from 'mysql2/promise';
import { isTrueCourseName, isTrueCourseNameSql } from '../src/schema/test-courses.js';
import { COURSES, createEdxapp, dumpEdxapp, fixtureName, makeData, MARIADB_DUMP, modulestoreExport, TEST_COURSES, type EdxappData } from './helpers/edxapp.js';
import { testConnection, testServer, uniqueName } from './helpers/mariadb.js';
import { runTool, spawnTool, toolEnv } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';
import { tempDir } from './helpers/tmp.js';

const PLATFORM = [
  'auth_user', 'auth_userprofile', 'certificates_generatedcertificate', 'courseware_studentmodule', 'external_auth_externalauthmap',
  'student_anonymoususerid', 'student_courseenrollment', 'submissions_score', 'submissions_scoresummary', 'submissions_studentitem',
  'submissions_submission',
];

if (!MARIADB_DUMP) t.plan(0, 'mariadb-dump is not installed: no dump to load');
else await suite();

async function suite(): Promise<void> {
  const srv = await testServer();
  const tmp = tempDir('refresh-platform', t);
  const c = await testConnection();
  t.teardown(() => c.end());

  const data = makeData();
  const source = fixtureName();
  t.teardown(async () => { await c.query(`DROP DATABASE IF EXISTS \`${source}\``); });
  await createEdxapp(source, data);
  const dump = join(tmp, 'edxapp.sql');
  await dumpEdxapp(source, dump);
  const dumpGz = join(tmp, 'edxapp.sql.gz');
  writeFileSync(dumpGz, gzipSync(readFileSync(dump)));
  const modulestore = join(tmp, 'modulestore.json');
  writeFileSync(modulestore, modulestoreExport());

  interface Dbs { edx: string; priv: string; prod: string }
  /** Throwaway names for the three databases (the tools create them), dropped at the end. */
  function dbs(tt: Test): Dbs {
    const d = { edx: uniqueName('rp_edx'), priv: uniqueName('rp_priv'), prod: uniqueName('rp_prod') };
    tt.teardown(async () => {
      await c.query('SET SESSION foreign_key_checks = 0');
      for (const db of [d.edx, d.priv, d.prod, `${d.prod}__load`, `${d.prod}__retired`]) await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
      await c.query('SET SESSION foreign_key_checks = 1');
    });
    return d;
  }
  const dbArgs = (d: Dbs) => ['--edx-db', d.edx, '--private-db', d.priv, '--edxprod-db', d.prod];
  const refresh = (d: Dbs, args: string[], env = srv.env) => runTool('edx-refresh', [...dbArgs(d), ...args], { env });
  /** The run succeeded; its messages are shown only when it did not. */
  const exits0 = (tt: Test, r: { code: number | null; stderr: string }, what = 'exit 0') => tt.equal(r.code, 0, what, { stderr: r.stderr });
  const ALL = (file: string) => ['--dump', file, '--modulestore', modulestore, 'edxprod', 'usergrade', 'activitygrade'];

  async function rows(sql: string, params: unknown[] = []): Promise<RowDataPacket[]> {
    const [r] = await c.query<RowDataPacket[]>(sql, params);
    return r;
  }
  /** Rows as arrays, sorted (the order of a table is not what is asserted). */
  const sorted = (xs: unknown[][]) => xs.map((x) => JSON.stringify(x)).sort();
  const arrays = async (sql: string) => sorted((await rows(sql)).map((r) => Object.values(r)));

  /** Every table of the three databases (rows, checksum, definition), and which databases exist. */
  async function state(d: Dbs): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const tables = await rows('SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?, ?, ?) ORDER BY 1, 2', [d.edx, d.priv, d.prod]);
    for (const { db, t: table } of tables) {
      const [sum] = await rows(`CHECKSUM TABLE \`${db}\`.\`${table}\``);
      const [n] = await rows(`SELECT COUNT(*) AS n FROM \`${db}\`.\`${table}\``);
      const [create] = await rows(`SHOW CREATE TABLE \`${db}\`.\`${table}\``);
      out[`${db}.${table}`] = `${n.n} rows, checksum ${sum.Checksum}\n${create['Create Table']}`;
    }
    const schemas = await rows('SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ? ORDER BY 1', [`${d.prod}%`]);
    out.databases = schemas.map((s) => s.s).join(' ');
    return out;
  }

  // --- what the jobs should make of the fixture, by the rules the tables are defined by ---

  /** anon_screen_name of every username, as edx-screennames says the clickstream stores it. */
  async function anonNames(names: string[]): Promise<Map<string, string>> {
    const r = await runTool('edx-screennames', ['--hash', ...names]);
    if (r.code !== 0) throw new Error(r.stderr);
    return new Map(r.stdout.trim().split('\n').slice(1).map((l) => l.split(',') as [string, string]));
  }
  const anon = await anonNames(data.users.map((u) => u.username));
  const anonOfUser = (d: EdxappData, id: number) => anon.get(d.users.find((u) => u.id === id)!.username)!;
  const sec = (s: string) => s.slice(0, 19);

  const expected = {
    trueEnrollments: (d: EdxappData) =>
      sorted(d.enrollments.filter((e) => e.active && !d.users.find((u) => u.id === e.user)!.nonregistered)
        .map((e) => [e.user, e.course, sec(e.created), e.user % 10 === 0 ? 'verified' : 'honor'])),
    lti2global: (d: EdxappData) =>
      sorted(d.anonIds.flatMap((a) => d.anonIds.filter((g) => g.user === a.user && g.course === '').map((g) => [a.anon, g.anon]))),
    userGrade: (d: EdxappData) =>
      sorted(d.users.flatMap((u) => {
        const certs = d.certificates.filter((x) => x.user === u.id);
        if (!certs.length) return [['', u.username, 0, '', 0, '', u.id, anon.get(u.username)]];
        return certs.map((x) => [x.name, u.username, /^[\d.]+$/.test(x.grade) ? Number(x.grade) : 0, x.course, x.distinction, x.status, u.id, anon.get(u.username)]);
      })),
    lti2anon: (d: EdxappData) => sorted(d.anonIds.map((a) => [a.anon, anonOfUser(d, a.user)])),
    learnerIds: (d: EdxappData) =>
      sorted(d.users.flatMap((u) => {
        const ids = d.anonIds.filter((a) => a.user === u.id);
        const global = ids.find((a) => a.course === '')?.anon ?? null;
        return ids.length ? ids.map((a) => [anon.get(u.username), u.id, global, a.anon, a.course]) : [[anon.get(u.username), u.id, null, null, null]];
      })),
    activityGrade: (d: EdxappData) =>
      sorted(d.modules.filter((m) => m.grade !== null && !TEST_COURSES.includes(m.course)).map((m) => [
        m.id, m.user, m.course, m.grade, m.maxGrade, m.maxGrade ? (m.grade! * 100) / m.maxGrade : null, m.parts, m.answers, m.attempts,
        sec(m.created), sec(m.modified), m.type, anonOfUser(d, m.user), m.display ?? '', m.moduleId,
      ])),
  };

  const select = {
    trueEnrollments: (d: Dbs) => arrays(`SELECT user_id, course_display_name, created, mode FROM \`${d.prod}\`.true_courseenrollment`),
    lti2global: (d: Dbs) => arrays(`SELECT course_dependent_lti_id, global_lti_id FROM \`${d.prod}\`.Lti2GlobalLti`),
    userGrade: (d: Dbs) => arrays(`SELECT name, screen_name, grade, course_id, distinction, status, user_int_id, anon_screen_name FROM \`${d.priv}\`.UserGrade`),
    lti2anon: (d: Dbs) => arrays(`SELECT lti_id, anon_screen_name FROM \`${d.prod}\`.Lti2Anon`),
    learnerIds: (d: Dbs) => arrays(`SELECT anon_screen_name, user_int_id, lti_global_id, lti_course_dependent_id, course_display_name FROM \`${d.priv}\`.LearnerIdXlation`),
    activityGrade: (d: Dbs) => arrays(`SELECT * FROM \`${d.edx}\`.ActivityGrade`),
  };

  /** The derived tables hold exactly what the fixture says. */
  async function derivedAreExact(tt: Test, d: Dbs, fixture: EdxappData): Promise<void> {
    for (const k of Object.keys(expected) as (keyof typeof expected)[]) {
      const want = expected[k](fixture);
      tt.same(await select[k](d), want, `${k}: the ${want.length} rows the fixture gives`);
    }
  }

  const main = dbs(t);
  const first = await refresh(main, ALL(dumpGz));
  exits0(t, first);

  t.test('edxprod: the tables are the dump\'s, definitions and rows (docs/original.md#bug-15)', async (t) => {
    for (const table of PLATFORM) {
      const [[mine], [theirs]] = [await rows(`SHOW CREATE TABLE \`${main.prod}\`.\`${table}\``), await rows(`SHOW CREATE TABLE \`${source}\`.\`${table}\``)];
      // Line by line: InnoDB lists a foreign key whose table is not copied (course_overviews_…) elsewhere.
      const lines = (x: RowDataPacket) => String(x['Create Table']).split('\n').map((l) => l.replace(/,$/, '')).sort();
      t.same(lines(mine), lines(theirs), `${table}: CREATE TABLE as in the dump`);
      const [[a], [b]] = [await rows(`CHECKSUM TABLE \`${main.prod}\`.\`${table}\``), await rows(`CHECKSUM TABLE \`${source}\`.\`${table}\``)];
      t.equal(a.Checksum, b.Checksum, `${table}: the same rows`);
    }
    const csm = (await rows(`SHOW CREATE TABLE \`${main.prod}\`.courseware_studentmodule`))[0]['Create Table'] as string;
    t.match(csm, "`done` enum('na','i','f') NOT NULL DEFAULT 'na'", 'the enum the awk cut at its first comma');
    t.match(csm, 'UNIQUE KEY `courseware_studentmodule_student_id_module_id_6b4e3d7b_uniq` (`student_id`,`module_id`,`course_id`)', 'the three-column key');
    t.match(csm, /PRIMARY KEY \(`id`\)[\s\S]*ENGINE=InnoDB AUTO_INCREMENT=\d+ DEFAULT CHARSET=utf8mb3/, 'key, AUTO_INCREMENT, engine and charset kept');
    t.match(csm, 'FOREIGN KEY (`student_id`) REFERENCES `auth_user` (`id`)', 'foreign keys kept');
    t.match(first.stderr, /edxprod: done: auth_user 40, auth_userprofile 39, .*true_courseenrollment \d+, Lti2GlobalLti \d+/, 'rows per table');
    t.notOk((await rows('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?, ?)', [`${main.prod}__load`, `${main.prod}__retired`])).length, 'no work database left');
    t.same(await rows(`SELECT COUNT(*) AS n FROM \`${main.prod}\`.waffle_flag`).catch(() => 'none'), 'none', 'tables not asked for are not copied');
    t.same(await rows('SELECT TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND REFERENCED_TABLE_SCHEMA <> TABLE_SCHEMA', [main.prod]), [],
      'every foreign key names a table of edxprod, as the dump wrote it (course_overviews_courseoverview too, which is not copied)');
  });

  t.test('the derived tables hold exactly the rows the fixture gives', async (t) => {
    await derivedAreExact(t, main, data);
  });

  t.test('true_courseenrollment leaves out nonregistered users (docs/original.md#bug-12)', async (t) => {
    const nonregistered = data.users.filter((u) => u.nonregistered).map((u) => u.id);
    const theirs = data.enrollments.filter((e) => e.active && nonregistered.includes(e.user));
    t.ok(theirs.length > 0, 'the fixture has active enrollments of nonregistered users');
    t.same(await rows(`SELECT * FROM \`${main.prod}\`.true_courseenrollment WHERE user_id IN (?)`, [nonregistered]), [], 'none of them');
    t.ok((await rows(`SELECT * FROM \`${main.prod}\`.true_courseenrollment WHERE user_id = 7`)).length, 'a learner without a profile row is kept');
    t.match(first.stderr, `true_courseenrollment: ${theirs.length} active enrollments of nonregistered users left out`);
  });

  t.test('UserGrade: the clickstream\'s hash, all screen names indexed, one row per certificate (docs/original.md#bug-18, #bug-8)', async (t) => {
    const [zoe] = await rows(`SELECT anon_screen_name FROM \`${main.priv}\`.UserGrade WHERE user_int_id = 12`);
    t.equal(zoe.anon_screen_name, anon.get('Zoë_Ünïcode'), 'a non-ASCII username hashes as edx-screennames (and the transform) hash it');
    const idx = await rows('SELECT INDEX_NAME AS i, COLUMN_NAME AS c FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY 1', [main.priv, 'UserGrade']);
    t.ok(idx.some((r) => r.c === 'screen_name'), 'screen_name has its index');
    t.match(first.stderr, 'usergrade: 1 certificate grades were not numbers: stored as 0');
    const [n] = await rows(`SELECT COUNT(*) AS n FROM \`${main.priv}\`.UserGrade`);
    t.equal(Number(n.n), data.certificates.length + data.users.filter((u) => !data.certificates.some((x) => x.user === u.id)).length);
  });

  t.test('Lti2Anon and LearnerIdXlation: one row per LTI id, no duplicates from UserGrade (docs/original.md#bug-11)', async (t) => {
    const many = data.users.filter((u) => data.certificates.filter((x) => x.user === u.id).length > 1);
    t.ok(many.length > 0, 'the fixture has learners with several certificates');
    const [dup] = await rows(`SELECT COUNT(*) AS n FROM (SELECT lti_id FROM \`${main.prod}\`.Lti2Anon GROUP BY lti_id HAVING COUNT(*) > 1) x`);
    t.equal(Number(dup.n), 0, 'no LTI id twice in Lti2Anon');
    const [x] = await rows(`SELECT COUNT(*) AS n, COUNT(DISTINCT lti_course_dependent_id) AS ids FROM \`${main.priv}\`.LearnerIdXlation`);
    t.equal(Number(x.n), data.anonIds.length, 'LearnerIdXlation: one row per LTI id');
    t.equal(Number(x.ids), data.anonIds.length);
  });

  t.test('ActivityGrade: the fixes of docs/original.md#bug-10 and #bug-9', async (t) => {
    const ag = `\`${main.edx}\`.ActivityGrade`;
    const modified = data.modules.filter((m) => m.grade !== null && m.modified !== m.created && isTrueCourseName(m.course));
    const [n] = await rows(`SELECT COUNT(*) AS n FROM ${ag} WHERE last_submit <> first_submit`);
    t.equal(Number(n.n), modified.length, 'rows modified after they were created are read (the original only saw rows never modified)');
    const [half] = await rows(`SELECT percent_grade FROM ${ag} WHERE grade = 0.5 AND max_grade = 1 LIMIT 1`);
    t.equal(half.percent_grade, 50, 'percent_grade of 0.5 of 1 is 50 (the original truncated the grades: 0)');
    t.same(await rows(`SELECT percent_grade FROM ${ag} WHERE max_grade = 0`), [{ percent_grade: null }], 'a problem worth nothing: NULL');
    t.ok((await rows(`SELECT 1 FROM ${ag} WHERE BINARY course_display_name = ?`, [COURSES.stats])).length, 'course names as the platform writes them');
    t.same(await rows(`SELECT 1 FROM ${ag} WHERE BINARY course_display_name <> course_display_name COLLATE utf8mb4_bin`), []);
    t.same(await rows(`SELECT 1 FROM ${ag} WHERE BINARY LOWER(course_display_name) = BINARY course_display_name`), [], 'none lower-cased');
    // Test courses: the stored function's rule, evaluated by the server, is the rule the job applied.
    const courses = await rows(`SELECT DISTINCT course_id AS c, ${isTrueCourseNameSql('course_id')} AS t FROM \`${main.prod}\`.courseware_studentmodule`);
    t.same(courses.filter((r) => r.t === 0).map((r) => r.c).sort(), [...TEST_COURSES].sort(), 'the SQL rule finds the test courses');
    t.same(courses.map((r) => [r.c, Boolean(r.t)]), courses.map((r) => [r.c, isTrueCourseName(r.c)]), 'SQL and JavaScript rule agree');
    t.same((await rows(`SELECT DISTINCT course_display_name AS c FROM ${ag}`)).map((r) => r.c).sort(), courses.filter((r) => r.t === 1).map((r) => r.c).sort(), 'exactly the real courses');
    t.match(first.stderr, `activitygrade: ${data.modules.filter((m) => m.grade !== null && !isTrueCourseName(m.course)).length} graded rows of test courses left out`);
    const big = await rows(`SELECT activity_grade_id AS id FROM ${ag} WHERE activity_grade_id > 2147483647`);
    t.ok(big.length > 0, 'ids beyond INT are kept');
    const [mismatch] = await rows(`SELECT COUNT(*) AS n FROM ${ag} a JOIN \`${main.priv}\`.LearnerIdXlation x ON x.user_int_id = a.student_id WHERE x.anon_screen_name <> a.anon_screen_name OR a.anon_screen_name = ''`);
    t.equal(Number(mismatch.n), 0, "every row's anon_screen_name is its learner's in this run's LearnerIdXlation");
    const [key] = await rows("SELECT GROUP_CONCAT(COLUMN_NAME) AS k FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'ActivityGrade' AND INDEX_NAME = 'PRIMARY'", [main.edx]);
    t.equal(key.k, 'activity_grade_id', 'keyed by the studentmodule row');
    t.match(first.stderr, 'activitygrade: 1 value of parts_correctness cut to fit the column');
    t.match(first.stderr, 'activitygrade: 1 row whose state is not JSON');
  });

  t.test('running again changes nothing (idempotent)', async (t) => {
    const before = await state(main);
    const again = await refresh(main, ALL(dump));
    exits0(t, again);
    t.same(await state(main), before, 'every table as it was');
    t.match(again.stderr, /activitygrade: \d+ rows? added or replaced \(modified since 2014-/, 'ActivityGrade was read incrementally');
    await derivedAreExact(t, main, data);
  });

  t.test('dry runs change nothing and say what they would do', async (t) => {
    const before = await state(main);
    const r = await refresh(main, ['--dry-run', ...ALL(dumpGz)]);
    exits0(t, r);
    t.match(r.stderr, /edxprod: dry run: would copy auth_user, auth_userprofile, .* into .*__load/);
    t.match(r.stderr, /usergrade: dry run: would read 40 users and \d+ certificates/);
    t.match(r.stderr, /activitygrade: dry run: .*ActivityGrade`: would add or replace the rows modified since 2014-\S+ \S+: \d+ graded studentmodule rows to read/);
    t.same(await state(main), before);

    const fresh = dbs(t);
    const r2 = await refresh(fresh, ['--dry-run', ...ALL(dump)]);
    exits0(t, r2);
    t.match(r2.stderr, `usergrade: dry run: ${fresh.prod}.auth_user does not exist yet (job 'edxprod' builds it)`);
    t.match(r2.stderr, /activitygrade: dry run: .*ActivityGrade`: would build it whole/);
    t.same(await rows('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?, ?, ?)', [fresh.edx, fresh.priv, fresh.prod]), [], 'no database created');
  });

  t.test('ActivityGrade is incremental: changed rows replace theirs, new rows are added (docs/original.md#bug-10)', async (t) => {
    const d = dbs(t);
    const r1 = await refresh(d, ALL(dump));
    exits0(t, r1);
    const [{ m: since }] = await rows(`SELECT MAX(last_submit) AS m FROM \`${d.edx}\`.ActivityGrade`);

    // The platform a week later: a module checked again (new grade, state, modified), a new one.
    const later = makeData();
    const changed = later.modules.find((m) => m.user === 1 && m.course === COURSES.stats && m.grade === 0.5)!;
    const state2 = JSON.parse(changed.state);
    for (const v of Object.values(state2.correct_map) as { correctness: string }[]) v.correctness = 'correct';
    state2.attempts = 4;
    Object.assign(changed, { grade: 1, state: JSON.stringify(state2), modified: '2015-01-05 10:00:00.250000', parts: '+', attempts: 4 });
    const added = { ...changed, id: 99_999, moduleId: changed.moduleId.replace(/[0-9a-f]{32}$/, 'f'.repeat(32)), display: undefined, created: '2015-01-06 09:00:00.000000', modified: '2015-01-06 09:30:00.000000' };
    later.modules.push(added);
    const db2 = fixtureName();
    t.teardown(async () => { await c.query(`DROP DATABASE IF EXISTS \`${db2}\``); });
    await createEdxapp(db2, later);
    const dump2 = join(tmp, 'later.sql');
    await dumpEdxapp(db2, dump2);

    const r2 = await refresh(d, ALL(dump2));
    exits0(t, r2);
    const reread = later.modules.filter((m) => m.grade !== null && isTrueCourseName(m.course) && sec(m.modified) >= since).length;
    t.match(r2.stderr, `activitygrade: ${reread} ${reread === 1 ? 'row' : 'rows'} added or replaced (modified since ${since})`, 'only the rows modified since the last run were read');
    t.same(await select.activityGrade(d), expected.activityGrade(later), 'the table is exactly the new platform\'s');
    const mine = await rows(`SELECT grade, percent_grade, parts_correctness, num_attempts, last_submit FROM \`${d.edx}\`.ActivityGrade WHERE activity_grade_id = ?`, [changed.id]);
    t.same(mine, [{ grade: 1, percent_grade: 100, parts_correctness: '+', num_attempts: 4, last_submit: '2015-01-05 10:00:00' }], 'the changed module replaced its row (not appended)');
  });

  t.test("a warehouse of the original: its ActivityGrade (no key, duplicates, lower-cased names) is rebuilt whole", async (t) => {
    const d = dbs(t);
    await c.query(`CREATE DATABASE \`${d.edx}\``);
    await c.query(`CREATE TABLE \`${d.edx}\`.ActivityGrade (activity_grade_id int NULL, student_id int, course_display_name varchar(255),
      grade double NULL, max_grade double NULL, percent_grade double NULL, parts_correctness varchar(50) NULL, answers varchar(255),
      num_attempts int, first_submit datetime NULL, last_submit datetime NULL, module_type varchar(32), anon_screen_name varchar(40) DEFAULT '',
      resource_display_name varchar(255) DEFAULT '', module_id varchar(255) NULL)`);
    const m = data.modules.find((x) => x.grade === 0.5)!;
    for (let i = 0; i < 2; i++) {
      await c.query(`INSERT INTO \`${d.edx}\`.ActivityGrade VALUES (?, ?, ?, ?, ?, 0, '', '', -1, ?, ?, 'problem', '', '', ?)`,
        [m.id, m.user, m.course.toLowerCase(), m.grade, m.maxGrade, m.created.slice(0, 19), m.created.slice(0, 19), m.moduleId]);
    }
    const r = await refresh(d, ALL(dump));
    exits0(t, r);
    t.match(r.stderr, "activitygrade: `" + d.edx + "`.`ActivityGrade`: replace the original's table (no key) by one built whole");
    t.same(await select.activityGrade(d), expected.activityGrade(data));
  });

  t.test('a failed copy leaves every table as it was', async (t) => {
    const before = await state(main);
    const bytes = readFileSync(dump);
    const text = bytes.toString('latin1');
    const cases: [string, Buffer, RegExp][] = [];
    const csmInsert = text.indexOf('INSERT INTO `courseware_studentmodule`');
    cases.push(['cut inside a table', bytes.subarray(0, csmInsert + 2000), /ends inside the section of table courseware_studentmodule: the dump is cut/]);
    const before5 = text.indexOf('-- Table structure for table `student_anonymoususerid`');
    cases.push(['cut between tables', bytes.subarray(0, before5), /ends before table student_anonymoususerid, without mysqldump's closing '-- Dump completed' line: the dump is cut/]);
    const gz = readFileSync(dumpGz);
    cases.push(['a gzip cut short', gz.subarray(0, Math.floor(gz.length * 0.6)), /edxapp-cut-3\.sql\.gz: .*\(the dump is cut or damaged\)|ends inside the section/]);
    // A value the column cannot hold: the server warns, and a warning is a failure.
    const us = text.indexOf("'US'", text.indexOf('INSERT INTO `auth_userprofile`'));
    cases.push(['a warning', Buffer.concat([bytes.subarray(0, us), Buffer.from("'USA'"), bytes.subarray(us + 4)]), /auth_userprofile: INSERT INTO… gave 1 warning\(s\): Warning 1265: Data truncated for column 'country'/]);
    cases.push(['not a dump', Buffer.from('hello\n'), /not a dump/]);
    // A byte that is not UTF-8 in a utf8mb4 dump (binary data dumped without --hex-blob).
    const zoe = bytes.indexOf(Buffer.from('Zoë'));
    cases.push(['not text', Buffer.concat([bytes.subarray(0, zoe + 2), Buffer.from([0xff]), bytes.subarray(zoe + 4)]), /auth_user: the dump holds bytes that are not text in its character set/]);
    const missing = await refresh(main, ALL(join(tmp, 'no-such-dump.sql.gz')));
    t.equal(missing.code, 1);
    t.match(missing.stderr, /^edx-refresh: --dump .*no-such-dump\.sql\.gz: no such file\n$/, 'refused before any job starts');
    let i = 0;
    for (const [what, content, message] of cases) {
      const file = join(tmp, `edxapp-cut-${++i}.sql${what.includes('gzip') ? '.gz' : ''}`);
      writeFileSync(file, content);
      const r = await refresh(main, ALL(file));
      t.equal(r.code, 1, `${what}: exit 1`);
      t.match(r.stderr, message, `${what}: says why`);
      t.match(r.stderr, 'edxprod: FAILED', `${what}: names the job`);
      t.match(r.stderr, 'not run: usergrade, activitygrade', `${what}: the jobs after it did not run`);
      t.notMatch(r.stderr, /pbkdf2|Main St/, `${what}: no row data in the message`);
      t.same(await state(main), before, `${what}: every table as it was, no work database left`);
    }
  });

  t.test('a dump in latin1 loads the same rows', async (t) => {
    const d = dbs(t);
    const latin1 = join(tmp, 'latin1.sql');
    await dumpEdxapp(source, latin1, ['--default-character-set=latin1']);
    t.match(readFileSync(latin1, 'latin1'), '/*!40101 SET NAMES latin1 */;', 'a latin1 dump');
    exits0(t, await refresh(d, ['--dump', latin1, 'edxprod']));
    for (const table of PLATFORM) {
      const [[a], [b]] = [await rows(`CHECKSUM TABLE \`${d.prod}\`.\`${table}\``), await rows(`CHECKSUM TABLE \`${source}\`.\`${table}\``)];
      t.equal(a.Checksum, b.Checksum, `${table}: the same rows`);
    }
    t.same(await rows(`SELECT username FROM \`${d.prod}\`.auth_user WHERE id = 12`), [{ username: 'Zoë_Ünïcode' }]);
  });

  t.test('two copies into one edxprod at once: the second fails', async (t) => {
    const before = await state(main);
    const lock = await testConnection();
    t.teardown(() => lock.end());
    await lock.query('SELECT GET_LOCK(?, 0)', [`edx-refresh edxprod ${main.prod}`]);
    const r = await refresh(main, ALL(dump));
    t.equal(r.code, 1);
    t.match(r.stderr, `edxprod: FAILED: another edx-refresh is copying into ${main.prod}`);
    t.same(await state(main), before);
  });

  t.test('a table missing from the dump', async (t) => {
    const before = await state(main);
    const noLti = join(tmp, 'no-anonymoususerid.sql');
    await dumpEdxapp(source, noLti, [`--ignore-table=${source}.student_anonymoususerid`]);
    const r = await refresh(main, ALL(noLti));
    t.equal(r.code, 1);
    t.match(r.stderr, `edxprod: FAILED: ${noLti} has no table student_anonymoususerid (read by later jobs): nothing was changed`);
    t.same(await state(main), before, 'a table a job reads: a failure, nothing changed');

    const noExternal = join(tmp, 'no-external-auth.sql');
    await dumpEdxapp(source, noExternal, [`--ignore-table=${source}.external_auth_externalauthmap`]);
    const r2 = await refresh(main, ALL(noExternal));
    exits0(t, r2);
    t.match(r2.stderr, "edxprod: external_auth_externalauthmap is not in the dump: last week's copy is kept");
    t.same(await state(main), before, "a table only copied: a note, last week's copy kept (the rest reloaded to the same rows)");
    const [[kept], [theirs]] = [await rows(`SHOW CREATE TABLE \`${main.prod}\`.external_auth_externalauthmap`), await rows(`SHOW CREATE TABLE \`${source}\`.external_auth_externalauthmap`)];
    t.equal(kept['Create Table'], theirs['Create Table'], "the kept copy's foreign key names auth_user of edxprod (not last week's, moved out and dropped)");
    t.same(await rows('SELECT TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND REFERENCED_TABLE_SCHEMA <> TABLE_SCHEMA', [main.prod]), [],
      'no foreign key points out of edxprod');
  });

  t.test('jobs run before the jobs they read from say which to run first', async (t) => {
    const d = dbs(t);
    let r = await refresh(d, ['usergrade']);
    t.equal(r.code, 1);
    t.match(r.stderr, `usergrade: FAILED: ${d.prod}.auth_user does not exist: run job 'edxprod' first`);
    r = await refresh(d, ['activitygrade']);
    t.match(r.stderr, `activitygrade: FAILED: ${d.prod}.courseware_studentmodule does not exist: run job 'edxprod' first`);
    r = await refresh(d, ['--dump', dump, 'edxprod']);
    exits0(t, r);
    r = await refresh(d, ['activitygrade']);
    t.equal(r.code, 1);
    t.match(r.stderr, `activitygrade: FAILED: ${d.priv}.LearnerIdXlation does not exist: run job 'usergrade' first`);
    // Named in any order, they run in the order of their dependencies.
    r = await refresh(d, ['activitygrade', 'usergrade']);
    exits0(t, r);
    t.ok(r.stderr.indexOf('usergrade: started') < r.stderr.indexOf('activitygrade: started'), 'usergrade ran first');
    // A new platform copy after LearnerIdXlation was built: ActivityGrade would take last week's ids (docs/original.md#bug-9).
    const before = await state(d);
    // Table times have whole seconds: the copy below must come in a later second of the server's clock.
    const [{ now }] = await rows('SELECT UNIX_TIMESTAMP() AS now');
    await waitFor(async () => (await rows('SELECT UNIX_TIMESTAMP() AS now'))[0].now > now);
    r = await refresh(d, ['--dump', dump, 'edxprod', 'activitygrade']);
    t.equal(r.code, 1);
    t.match(r.stderr, new RegExp(`activitygrade: FAILED: ${d.priv}\\.LearnerIdXlation \\(built .*\\) is older than ${d.prod}\\.courseware_studentmodule \\(copied .*\\): run job 'usergrade' first`));
    t.same((await state(d))[`${d.edx}.ActivityGrade`], before[`${d.edx}.ActivityGrade`], 'ActivityGrade untouched');
    r = await refresh(d, ['usergrade', 'activitygrade']);
    exits0(t, r);
  });

  t.test('no password on a command line or in the output; no FILE privilege needed', async (t) => {
    const user = `rp_${randomBytes(4).toString('hex')}`;
    const password = `Pw-${randomBytes(9).toString('hex')}`;
    await c.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
    t.teardown(async () => { await c.query(`DROP USER IF EXISTS '${user}'@'%'`); });
    // Rights on the test's databases only: no FILE privilege (docs/original.md#bug-8: no server-side files).
    await c.query(`GRANT ALL PRIVILEGES ON \`rp\\_%\`.* TO '${user}'@'%'`);
    const cnf = join(tmp, 'warehouse.cnf');
    writeFileSync(cnf, `[client]\nhost=${srv.host}\nport=${srv.port}\nuser=${user}\npassword=${password}\n`, { mode: 0o600 });
    const d = dbs(t);
    const env: NodeJS.ProcessEnv = { ...toolEnv(), EDX_PIPES_NO_DEFAULTS: '1' };
    for (const k of ['MYSQL_HOST', 'MYSQL_TCP_PORT', 'MYSQL_USER', 'MYSQL_PWD']) delete env[k];
    const seen = new Set<string>();
    const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawnTool('edx-refresh', ['--defaults-file', cnf, ...dbArgs(d), ...ALL(dumpGz)], { env, detached: true });
      let out = '';
      child.stdout!.on('data', (x) => (out += x));
      child.stderr!.on('data', (x) => (out += x));
      const scan = () => {
        for (const p of readdirSync('/proc')) {
          if (!/^\d+$/.test(p)) continue;
          try {
            const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
            if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== child.pid) continue;
            seen.add(readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' '));
          } catch { /* gone */ }
        }
      };
      const timer = setInterval(scan, 5);
      child.on('error', reject);
      child.on('close', (code) => { clearInterval(timer); resolve({ code, out }); });
    });
    t.equal(r.code, 0, 'exit 0', { out: r.out });
    t.ok([...seen].some((l) => l.includes('edx-refresh')), `saw the command lines of the run (${seen.size})`);
    t.same([...seen].filter((l) => l.includes(password)), [], 'the password is on no command line');
    t.notMatch(r.out, password, 'nor in the output');
    const u = await runTool('edx-refresh', ['--password', password, 'usergrade'], { env });
    t.equal(u.code, 2, 'there is no --password option');
  });

  t.test('stored routines over the platform tables (docs/original.md#stored-routines, #bug-19 fixed)', async (t) => {
    const d = dbs(t);
    exits0(t, await refresh(d, ALL(dump)), 'the refresh');
    exits0(t, await runTool('edx-csvload', ['--init', '--edx-db', d.edx, '--private-db', d.priv, '--edxprod-db', d.prod], { env: srv.env }), 'edx-csvload --init');
    const [P, E] = [`\`${d.priv}\``, `\`${d.edx}\``];
    // A connection of its own: MariaDB keeps the notes of an earlier statement (the teardowns'
    // DROP DATABASE IF EXISTS) until a statement that reads a table, and SHOW WARNINGS would show them.
    const rc = await testConnection();
    t.teardown(() => rc.end());
    /** One value of a query that must leave no warning. */
    const one = async (sql: string, params: unknown[] = []) => {
      const [r] = await rc.query<RowDataPacket[]>({ sql, rowsAsArray: true }, params);
      const [w] = await rc.query<RowDataPacket[]>('SHOW WARNINGS');
      t.same(w, [], `no warnings: ${sql}`);
      return r[0][0];
    };
    const anonOf = (id: number) => anonOfUser(data, id);
    const lti = (user: number, course: string) => data.anonIds.filter((a) => a.user === user && a.course === course).map((a) => a.anon);

    t.equal(await one(`SELECT ${P}.idAnon2Int(?)`, [anonOf(6)]), 6, 'idAnon2Int');
    t.equal(await one(`SELECT ${P}.idAnon2Int(?)`, ['f'.repeat(40)]), null, 'idAnon2Int of an unknown learner: NULL (the original answered the previous call)');
    t.equal(await one(`SELECT ${P}.idInt2Anon(6)`), anonOf(6), 'idInt2Anon of a learner with two UserGrade rows');
    t.equal(await one(`SELECT ${P}.idInt2Anon(999)`), null);
    t.equal(await one(`SELECT ${P}.idExt2Anon(?)`, [lti(3, COURSES.stats)[1]]), anonOf(3), 'idExt2Anon');
    t.equal(await one(`SELECT ${P}.idExt2Anon(?)`, ['0'.repeat(32)]), null, 'idExt2Anon of an unknown LTI id, after a known one: NULL');
    t.equal(await one(`SELECT ${P}.idExt2Anon('short')`), null);
    t.equal(await one(`SELECT ${P}.idAnon2Ext(?)`, [anonOf(3)]), lti(3, '')[0], 'idAnon2Ext: the global LTI id (the original failed)');
    t.equal(await one(`SELECT ${P}.idAnon2Ext(?)`, [anonOf(9)]), null, 'a learner without a global id: NULL');
    t.equal(await one(`SELECT ${P}.idAnon2ExtByCourse(?, ?)`, [anonOf(6), COURSES.stats]), lti(6, COURSES.stats)[0],
      'idAnon2ExtByCourse of a learner with several UserGrade rows (the original failed)');
    t.equal(await one(`SELECT ${P}.idAnon2ExtByCourse(?, ?)`, [anonOf(3), COURSES.stats]), lti(3, COURSES.stats)[1], 'of two ids in a course, the newer');
    t.equal(await one(`SELECT ${P}.idAnon2ExtByCourse(?, ?)`, [anonOf(6), 'No/Such/Course']), null);

    const [exts] = await c.query<RowDataPacket[][]>(`CALL ${P}.idAnon2Exts(?)`, [anonOf(6)]);
    t.same(sorted(exts[0].map((r) => [r.extId, r.course_display_name])),
      sorted(data.anonIds.filter((a) => a.user === 6 && a.course !== '').map((a) => [a.anon, a.course])), 'idAnon2Exts: the per-course LTI ids');
    await c.query(`CALL ${P}.createExtIdMapByCourse(?, ?)`, ['Medicine/%', 'ExtMap']);
    t.same(await arrays(`SELECT anon_screen_name, ext_anon_name FROM ${P}.ExtMap`),
      sorted(data.anonIds.filter((a) => a.course === COURSES.stats).map((a) => [anonOf(a.user), a.anon])), 'createExtIdMapByCourse: the course\'s own LTI ids');
    await c.query(`CALL ${P}.createExtIdMapByCourse(?, ?)`, ['course-v1:%', `${d.priv}.ExtMap2`]);
    t.equal((await rows(`SELECT * FROM ${P}.ExtMap2`)).length, data.anonIds.filter((a) => a.course === COURSES.v1).length, 'into db.table');

    t.equal(await one(`SELECT ${E}.isDirectAccessUser(?)`, [anonOf(40)]), 1, 'isDirectAccessUser: anon__ in the username');
    t.equal(await one(`SELECT ${E}.isDirectAccessUser(?)`, [anonOf(1)]), 0);
    t.equal(await one(`SELECT ${E}.isDirectAccessUser(?)`, ['f'.repeat(40)]), null, 'unknown learner: NULL (the original answered the previous call)');
    t.equal(await one(`SELECT ${E}.wasCertified(?, ?)`, [anonOf(6), COURSES.stats]), 1, 'wasCertified: downloadable');
    t.equal(await one(`SELECT ${E}.wasCertified(?, ?)`, [anonOf(3), COURSES.stats]), 0, 'notpassing');
    t.equal(await one(`SELECT ${E}.wasCertified(?, ?)`, [anonOf(7), COURSES.stats]), 0, 'no certificate');
    const enrolled = expected.trueEnrollments(data).filter((r) => JSON.parse(r)[1] === COURSES.stats).length;
    t.equal(await one(`SELECT ${E}.enrollment(?)`, [COURSES.stats]), enrolled, 'enrollment: true_courseenrollment rows of the course');
    t.equal(await one(`SELECT ${E}.enrollment(?)`, [COURSES.sandbox]), -1, 'of a test course: -1');

    // CourseInfo is the modulestore job's table; here its columns (docs/tables.md#courseinfo) with rows of ours.
    await c.query(`CREATE TABLE ${E}.CourseInfo (course_display_name varchar(255), course_catalog_name varchar(255), academic_year int,
      quarter varchar(7), is_internal tinyint, enrollment_start datetime, start_date datetime, enrollment_end datetime, end_date datetime,
      grade_policy text, certs_policy text) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`);
    await c.query(`INSERT INTO ${E}.CourseInfo (course_display_name, academic_year, quarter, is_internal) VALUES ?`,
      [[[COURSES.stats, 2013, 'summer', 0], [COURSES.v1, 2019, 'fall', 1], [COURSES.cs, 2014, 'fall', 0], [COURSES.sandbox, 2015, 'fall', 0]]]);
    await c.query(`INSERT INTO \`${d.prod}\`.true_courseenrollment (user_id, course_display_name, mode) VALUES ?`,
      [[COURSES.stats, COURSES.v1].flatMap((course, k) => Array.from({ length: 501 }, (_, i) => [100_000 * (k + 1) + i, course, 'honor']))]);
    t.equal(await one(`SELECT ${E}.isSharable(?)`, [COURSES.stats]), 1, 'isSharable: public, summer 2013, over 500 learners');
    t.equal(await one(`SELECT ${E}.isSharable(?)`, [COURSES.v1]), 0, 'an internal course of 2019 is not (the original\'s AND/OR said it was)');
    t.equal(await one(`SELECT ${E}.isSharable(?)`, [COURSES.cs]), 0, 'fall 2014 but few learners');
    t.equal(await one(`SELECT ${E}.isSharable(?)`, [COURSES.sandbox]), 0, 'a test course');
    t.equal(await one(`SELECT ${E}.isSharable('No/Such/Course')`), 0);
  });
}
