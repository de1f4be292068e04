// edx-course-extract on a real MariaDB: the events of the matching courses with their answers,
// copied in chunks, indexed, never replacing a table unless told, a dry run that changes nothing.
import t from 'tap';
import type { RowDataPacket } from 'mysql2/promise';
import { runTool } from './helpers/tools.js';
import { testConnection, testServer, uniqueName } from './helpers/mariadb.js';
import { event } from './helpers/transform.js';
import { warehouseOf } from './helpers/warehouse.js';
import { tableNameOf } from '../src/research/course-extract.js';

const TOOL = 'edx-course-extract';
const server = await testServer();
const PROB = 'i4x-Medicine-HRP258-problem-0c6cf38317be42e0829d10cc68e7451b';
const page = (course: string) => `https://lms.example.edu/courses/${course}/courseware/x/y/`;
const at = (i: number) => new Date(Date.UTC(2014, 2, 3, 8, 0, i)).toISOString().replace('Z', '+00:00');

// Course A: 253 page events (more than two chunks of 100) and 3 answered problem_checks; course
// B: 4 events; a third course that the patterns below never match.
const CHUNK = 100;
const events: object[] = [];
for (let i = 0; i < 2 * CHUNK + 53; i++) {
  events.push(event({ event_type: '/courseware', page: page('Medicine/HRP258/Statistics_in_Medicine'), time: at(i), username: `u${i % 97}` }));
}
for (let i = 0; i < 3; i++) {
  events.push(event({ event_type: 'problem_check', page: page('Medicine/HRP258/Statistics_in_Medicine'), time: at(30000 + i),
    event: `"input_${PROB}_2_1=choice_${i}"` }));
}
for (let i = 0; i < 4; i++) events.push(event({ event_type: 'play_video', page: page('Medicine/HRP259/2015'), time: at(40000 + i), event: '{"id":"v1","currentTime":12,"code":"abc"}' }));
events.push(event({ event_type: '/courseware', page: page('Other/X1/2014'), time: at(50000) }));
const wh = await warehouseOf(t, events, 'edx_extract');
const extracts = uniqueName('edx_extracts');
const c = await testConnection();
t.teardown(async () => {
  await c.query(`DROP DATABASE IF EXISTS \`${extracts}\``);
  await c.end();
});
const args = ['--edx-db', wh.edx, '--extracts-db', extracts, '--chunk-rows', String(CHUNK)];
const count = async (table: string, where = '1') =>
  Number((await c.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${extracts}\`.\`${table}\` WHERE ${where}`))[0][0].n);

t.test('a table name is made of the pattern', async (t) => {
  t.equal(tableNameOf('Medicine/HRP258/.*'), 'Medicine_HRP258');
  t.equal(tableNameOf('^$'), undefined);
});

t.test('dry run: the matching courses and their counts, nothing created', async (t) => {
  const r = await runTool(TOOL, ['--dry-run', ...args, 'Medicine/HRP25[89]'], { env: server.env });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'Medicine/HRP258/Statistics_in_Medicine\t256\nMedicine/HRP259/2015\t4\n');
  t.match(r.stderr, /dry run: 260 events of 2 courses would go to/);
  const [dbs] = await c.query<RowDataPacket[]>('SHOW DATABASES LIKE ?', [extracts]);
  t.equal(dbs.length, 0, 'the extracts database was not even created');
});

t.test('the default extract: every event of the matching courses, answers joined, indexed', async (t) => {
  const r = await runTool(TOOL, [...args, 'Medicine/HRP25[89]'], { env: server.env });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /Medicine_HRP25_89: 260 rows of 2 courses/);
  const table = 'Medicine_HRP25_89';
  t.equal(await count(table), 260);
  t.equal(await count(table, "course_display_name = 'Other/X1/2014'"), 0);
  const [answers] = await c.query<RowDataPacket[]>(`SELECT answer FROM \`${extracts}\`.\`${table}\` WHERE answer IS NOT NULL ORDER BY answer`);
  t.same(answers.map((a) => a.answer), ['choice_0', 'choice_1', 'choice_2']);
  const [cols] = await c.query<RowDataPacket[]>(`SHOW COLUMNS FROM \`${extracts}\`.\`${table}\``);
  t.same(cols.map((col) => col.Field), [
    'anon_screen_name', 'event_type', 'ip_country', 'time', 'course_display_name', 'resource_display_name', 'success',
    'goto_from', 'goto_dest', 'attempts', 'video_code', 'video_current_time', 'video_new_speed', 'video_old_speed',
    'video_seek_type', 'answer',
  ]);
  const [idx] = await c.query<RowDataPacket[]>(`SHOW INDEX FROM \`${extracts}\`.\`${table}\``);
  t.same([...new Set(idx.map((i) => i.Column_name))].sort(), [
    'anon_screen_name', 'answer', 'course_display_name', 'event_type', 'ip_country', 'resource_display_name', 'success', 'time', 'video_seek_type',
  ]);
  const [tables] = await c.query<RowDataPacket[]>(`SHOW TABLES FROM \`${extracts}\``);
  t.same(tables.map((x) => Object.values(x)[0]), [table], 'no building table left behind');
});

t.test('an existing table is not replaced unless told; --replace swaps in the new extract', async (t) => {
  const again = await runTool(TOOL, [...args, '--table', 'Medicine_HRP25_89', 'HRP259'], { env: server.env });
  t.equal(again.code, 1);
  t.match(again.stderr, /exists already \(--replace replaces it\)/);
  t.equal(await count('Medicine_HRP25_89'), 260, 'the table is as it was');
  const replaced = await runTool(TOOL, [...args, '--table', 'Medicine_HRP25_89', '--replace', '--all-columns', 'HRP259'], { env: server.env });
  t.equal(replaced.code, 0, replaced.stderr);
  t.equal(await count('Medicine_HRP25_89'), 4);
  t.equal(await count('Medicine_HRP25_89', "video_code = 'abc' AND _id <> ''"), 4, 'all columns, _id among them');
});

t.test('failures say what is wrong, create nothing, and print no stack trace', async (t) => {
  const none = await runTool(TOOL, [...args, '--table', 'nothing', 'NoSuchCourse'], { env: server.env });
  t.equal(none.code, 1);
  t.match(none.stderr, /no course_display_name matches 'NoSuchCourse'/);
  t.equal((await c.query<RowDataPacket[]>(`SHOW TABLES FROM \`${extracts}\` LIKE 'nothing%'`))[0].length, 0);
  const bad = await runTool(TOOL, [...args, '--table', 'bad', 'HRP(258'], { env: server.env });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /is not a MySQL regular expression/);
  const usage = await runTool(TOOL, [...args], { env: server.env });
  t.equal(usage.code, 2);
  const name = await runTool(TOOL, [...args, '--table', 'a-b', 'x'], { env: server.env });
  t.equal(name.code, 2);
  for (const r of [none, bad, usage, name]) t.notMatch(r.stderr, /\n\s+at /);
});
