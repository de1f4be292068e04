// The views over the weekly refresh's tables (Performance, FinalGrade, Demographics): --init
// leaves them waiting while their tables are missing and makes them once they exist; the rows
// are checked against numbers worked out by hand.
import t from 'tap';
import type { RowDataPacket } from 'mysql2/promise';
import { runTool } from './helpers/tools.js';
import { testConnection, testServer, uniqueName } from './helpers/mariadb.js';
import { ActivityGrade, UserGrade } from '../src/schema/derived/platform.js';
import { UserCountry } from '../src/schema/derived/course.js';
import { createTable } from '../src/schema/ddl.js';
import { DEFAULT_DATABASES } from '../src/schema/table.js';

const server = await testServer();
const names = { ...DEFAULT_DATABASES, Edx: uniqueName('edx_pv_edx'), EdxPrivate: uniqueName('edx_pv_priv'), edxprod: uniqueName('edx_pv_prod') };
const args = ['--edx-db', names.Edx, '--private-db', names.EdxPrivate, '--edxprod-db', names.edxprod];
const c = await testConnection();
t.teardown(async () => {
  for (const db of [names.Edx, names.EdxPrivate, names.edxprod]) await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await c.end();
});
const views = async () => {
  const [rows] = await c.query<RowDataPacket[]>(
    "SELECT TABLE_NAME AS v FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN ('Performance', 'FinalGrade', 'Demographics') ORDER BY v", [names.Edx]);
  return rows.map((r) => String(r.v));
};

t.test('--init before the first refresh: the platform views wait for their tables', async (t) => {
  const r = await runTool('edx-csvload', ['--init', ...args], { env: server.env });
  t.equal(r.code, 0, r.stderr);
  t.same(await views(), []);
});

t.test('once the refresh tables exist, --init makes the views, and they answer', async (t) => {
  await c.query(`CREATE DATABASE \`${names.edxprod}\``);
  for (const table of [UserGrade, ActivityGrade, UserCountry]) await c.query(createTable(table, names, { quoted: true }));
  await c.query(`CREATE TABLE \`${names.edxprod}\`.auth_userprofile (id INT PRIMARY KEY, user_id INT UNIQUE, gender VARCHAR(6) NULL,
    year_of_birth INT NULL, level_of_education VARCHAR(6) NULL)`);
  // Two learners; ann has two certificates (two UserGrade rows) and two countries.
  await c.query(`INSERT INTO \`${names.EdxPrivate}\`.UserGrade (name, screen_name, grade, course_id, distinction, status, user_int_id, anon_screen_name) VALUES
    ('Ann', 'ann', 0.9, 'A/B/C', 1, 'downloadable', 1, 'anon1'), ('Ann', 'ann', 0.4, 'A/B/D', 0, 'notpassing', 1, 'anon1'),
    ('Bob', 'bob', 0.7, 'A/B/C', 0, 'downloadable', 2, 'anon2')`);
  await c.query(`INSERT INTO \`${names.edxprod}\`.auth_userprofile VALUES (10, 1, 'f', 1990, 'm'), (11, 2, NULL, NULL, '')`);
  await c.query(`INSERT INTO \`${names.Edx}\`.UserCountry VALUES ('anon1', 'US', 'USA', 'United States'), ('anon1', 'FR', 'FRA', 'France')`);
  await c.query(`INSERT INTO \`${names.Edx}\`.ActivityGrade (activity_grade_id, student_id, course_display_name, grade, max_grade, percent_grade,
    num_attempts, module_type, anon_screen_name) VALUES (1, 1, 'A/B/C', 1, 2, 50, 1, 'problem', 'anon1'),
    (2, 1, 'A/B/C', 2, 2, 100, 1, 'problem', 'anon1'), (3, 2, 'A/B/C', 0, 2, 0, 1, 'problem', 'anon2')`);

  const r = await runTool('edx-csvload', ['--init', ...args], { env: server.env });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /and the views Performance, FinalGrade, Demographics/);
  t.same(await views(), ['Demographics', 'FinalGrade', 'Performance']);
  const q = async (sql: string) => (await c.query<RowDataPacket[]>(sql))[0].map((x) => ({ ...x }));
  t.same(await q(`SELECT anon_screen_name AS a, avg_percent_grade AS g FROM \`${names.Edx}\`.Performance ORDER BY a`),
    [{ a: 'anon1', g: 75 }, { a: 'anon2', g: 0 }]);
  t.same(await q(`SELECT anon_screen_name AS a, course_id, grade, distinction FROM \`${names.Edx}\`.FinalGrade ORDER BY a, course_id`), [
    { a: 'anon1', course_id: 'A/B/C', grade: 0.9, distinction: 1 }, { a: 'anon1', course_id: 'A/B/D', grade: 0.4, distinction: 0 },
    { a: 'anon2', course_id: 'A/B/C', grade: 0.7, distinction: 0 },
  ]);
  const year = new Date().getUTCFullYear();
  t.same(await q(`SELECT anon_screen_name AS a, gender, year_of_birth, curr_age, level_of_education AS edu, country_three_letters AS c3
    FROM \`${names.Edx}\`.Demographics ORDER BY a, c3`), [
    { a: 'anon1', gender: 'f', year_of_birth: 1990, curr_age: year - 1990, edu: "Master's or professional degree", c3: 'FRA' },
    { a: 'anon1', gender: 'f', year_of_birth: 1990, curr_age: year - 1990, edu: "Master's or professional degree", c3: 'USA' },
    { a: 'anon2', gender: null, year_of_birth: null, curr_age: null, edu: 'User withheld', c3: null },
  ], 'one row per learner and country, not per certificate');
});
