// Every stored routine and view of --init, on loaded rows in the real MariaDB; no call warns.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsvCollectionWriter } from '../src/csv/collection.js';
import { TABLES } from '../src/schema/tables.js';
import { columnIndex } from '../src/schema/table.js';
import { ROUTINES } from '../src/schema/routines.js';
import { testConnection } from './helpers/mariadb.js';
import { CSVLOAD, makeRows, makeSource, run, throwawayWarehouse, writeSources } from './csvload-helpers.js';
import { tempDir } from './helpers/tmp.js';

const tmp = tempDir('routines');
const wh = await throwawayWarehouse('rout');
t.teardown(wh.drop);

const keyFile = join(tmp, 'passphrase');
writeFileSync(keyFile, 'Your forum uid passphrase here. Any text will do.\n');
const must = (r: { code: number | null; stderr: string }) => {
  if (r.code !== 0) throw new Error(`edx-csvload failed: ${r.stderr}`);
};
must(await run(CSVLOAD, ['--init', '--forum-key-file', keyFile, ...wh.args]));

// Two logs: a June 2013 day, loaded first, and an older one (Nov 2012 onwards, one event a day
// across several quarters), loaded second.
const newer = makeSource('/logs/app1/tracking.log-20130609.gz');
const older = makeSource('/logs/app1/tracking.log-20121120.gz');
const newerRows = makeRows(newer, { count: 50 });
const olderRows = makeRows(older, { count: 500, start: new Date('2012-11-20T12:00:00Z'), stepMs: 86400e3 });
for (const [s, rows] of [[newer, newerRows], [older, olderRows]] as const) {
  const dir = join(tmp, s.loadInfoId);
  await writeSources(new CsvCollectionWriter({ dir, names: wh.names }), [{ source: s, rows }]);
  must(await run(CSVLOAD, [...wh.args, dir]));
}
const events = [...newerRows, ...olderRows].filter((r) => r.table === TABLES.EdxTrackEvent);
const col = columnIndex(TABLES.EdxTrackEvent);

const c = await testConnection(wh.names.Edx);
t.teardown(() => c.end());
/** Run a query on the Edx database; asserts that it left no warning. */
async function q<T = Record<string, unknown>>(tt: Test, sql: string, params: unknown[] = []): Promise<T[]> {
  const [rows] = await c.query(sql, params);
  const [w] = await c.query('SHOW WARNINGS');
  tt.same(w, [], `no warnings: ${sql.slice(0, 60)}`);
  return (Array.isArray(rows) && Array.isArray(rows[0]) ? rows[0] : rows) as T[];
}
const one = async (tt: Test, sql: string, params: unknown[] = []) => Object.values((await q(tt, sql, params))[0])[0];

const tested = new Set<string>();
const covers = (...names: string[]) => names.forEach((n) => tested.add(n));

t.test('forum key and forum ids (EdxPrivate)', async (t) => {
  covers('idInt2Forum', 'idForum2Int');
  const p = `\`${wh.names.EdxPrivate}\``;
  t.equal(await one(t, `SELECT forumKey FROM ${p}.\`Keys\``), '72d389f514caa1670eee6788c3aae22205d5f8acb59410786c0141b2');
  t.equal(await one(t, `SELECT ${p}.idInt2Forum(12345)`), 'A588DE709CE13D906B4FD1061BEDA175');
  t.equal(await one(t, `SELECT ${p}.idForum2Int('A588DE709CE13D906B4FD1061BEDA175')`), '12345');
  // No stale answers: an unknown id after a known one is NULL.
  t.equal(await one(t, `SELECT ${p}.idForum2Int('00000000000000000000000000000000')`), null);
  t.equal(await one(t, `SELECT ${p}.idInt2Forum(NULL)`), null);
  // Round trip over the numbers of real rows (attempts, 0..3) and more.
  const ids = await q<{ ok: number }>(t, `SELECT COUNT(*) AS n, SUM(${p}.idForum2Int(${p}.idInt2Forum(attempts * 1000 + 7)) = attempts * 1000 + 7) AS ok FROM EdxTrackEvent`);
  t.same(ids[0], { n: events.length, ok: String(events.length) });
  t.equal(await one(t, 'SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME LIKE ?', [wh.names.Edx, 'id%Forum%']), 0,
    'forum functions only beside the key');

  // The key is not replaced silently; --replace does it.
  const other = join(tmp, 'other');
  writeFileSync(other, 'another passphrase');
  const refused = await run(CSVLOAD, ['--init', '--forum-key-file', other, ...wh.args]);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /different forum key.*--replace/);
  const same = await run(CSVLOAD, ['--init', '--forum-key-file', keyFile, ...wh.args]);
  t.equal(same.code, 0);
  t.match(same.stderr, /forum key unchanged/);
  t.notMatch(same.stderr + refused.stderr, /Your forum uid passphrase/, 'the passphrase is never printed');
});

t.test('latestLog / earliestLog name a log and its own load time', async (t) => {
  covers('latestLog', 'earliestLog');
  const times = Object.fromEntries(
    (await q<{ f: string; d: string }>(t, 'SELECT load_file AS f, load_date_time AS d FROM LoadInfo')).map((r) => [r.f, r.d]),
  );
  t.not(times[newer.loadFile], times[older.loadFile], 'two different load times');
  t.equal(await one(t, 'SELECT latestLog()'), `Loaded: ${times[newer.loadFile]}; collected: 20130609`);
  t.equal(await one(t, 'SELECT earliestLog()'), `Loaded: ${times[older.loadFile]}; collected: 20121120`);
});

t.test('isUserEvent / isEngagementEvent', async (t) => {
  covers('isUserEvent', 'isEngagementEvent');
  const types = events.map((e) => e.values[col.event_type]);
  const user = types.filter((x) => x === 'problem_check' || x === 'play_video').length;
  t.equal(Number(await one(t, 'SELECT SUM(isUserEvent(event_type)) FROM EdxTrackEvent')), user);
  t.equal(Number(await one(t, 'SELECT SUM(isEngagementEvent(event_type)) FROM EdxTrackEvent')), user);
  t.equal(await one(t, "SELECT isUserEvent('seq_goto') + 10 * isEngagementEvent('seq_goto')"), 1);
  t.equal(await one(t, 'SELECT isUserEvent(NULL)'), 0);
});

t.test('wordcount counts every word', async (t) => {
  covers('wordcount');
  t.equal(Number(await one(t, "SELECT COUNT(*) FROM Answer WHERE wordcount(answer) <> 4")), 0, "'answer N two words' is 4 words");
  t.same(await q(t, "SELECT wordcount('a') AS a, wordcount('') AS e, wordcount(NULL) AS n, wordcount('  Hello, world!  x1 ') AS h"),
    [{ a: 1, e: 0, n: 0, h: 3 }]);
});

t.test('quarters: quarterOf, dateInQuarter and the quarter bounds agree with the quarter column', async (t) => {
  covers('quarterOf', 'dateInQuarter', 'makeLowQuarterDate', 'makeUpperQuarterDate');
  const quarters = new Set(events.map((e) => e.values[col.quarter]));
  t.ok(quarters.size >= 6, `the rows span ${quarters.size} quarters`);
  t.equal(Number(await one(t, 'SELECT COUNT(*) FROM EdxTrackEvent WHERE quarterOf(time) <> quarter')), 0);
  const season = "REGEXP_REPLACE(quarter, '[0-9]+$', '')";
  const ay = 'IF(MONTH(time) >= 9, YEAR(time), YEAR(time) - 1)';
  t.equal(Number(await one(t, `SELECT COUNT(*) FROM EdxTrackEvent WHERE NOT dateInQuarter(time, ${season}, '%') OR NOT dateInQuarter(time, ${season}, ${ay})`)), 0);
  t.equal(Number(await one(t, `SELECT COUNT(*) FROM EdxTrackEvent WHERE dateInQuarter(time, ${season}, ${ay} + 1)`)), 0);
  t.equal(Number(await one(t, `SELECT COUNT(*) FROM EdxTrackEvent WHERE DATE(time) NOT BETWEEN makeLowQuarterDate(${season}, ${ay}) AND makeUpperQuarterDate(${season}, ${ay})`)), 0);
  t.same(await q(t, "SELECT dateInQuarter('2013-12-15', 'fall', '2013') AS decm, dateInQuarter('2014-01-15', 'winter', '2013') AS jan, dateInQuarter('2014-01-15', 'winter', '2014') AS no"),
    [{ decm: 1, jan: 1, no: 0 }]);
  t.same(await q(t, "SELECT makeLowQuarterDate('fall', 2015) AS fl, makeUpperQuarterDate('fall', 2015) AS fu, makeLowQuarterDate('winter', 2015) AS wl, makeUpperQuarterDate('winter', 2015) AS wu, makeUpperQuarterDate('summer', 2015) AS su, makeLowQuarterDate('x', 2015) AS bad"),
    [{ fl: '2015-09-01', fu: '2015-12-31', wl: '2016-01-01', wu: '2016-02-29', su: '2016-08-31', bad: null }]);
});

t.test('course-name helpers', async (t) => {
  covers('isTrueCourseName', 'isEngineering');
  t.equal(Number(await one(t, 'SELECT COUNT(*) FROM EdxTrackEvent WHERE NOT isTrueCourseName(course_display_name)')), 0);
  t.same(await q(t, "SELECT isTrueCourseName('Medicine/HRP258/Statistics_in_Medicine') AS a, isTrueCourseName('sandbox/x/y') AS b, isTrueCourseName('1abc') AS c, isTrueCourseName('Stanford/xxxx/yyyy') AS d, isTrueCourseName('Engineering/Demo/2014') AS e"),
    [{ a: 1, b: 0, c: 0, d: 0, e: 0 }]);
  t.same(await q(t, "SELECT isEngineering('Engineering/EE101/Fall') AS a, isEngineering('DB/Indexes/SelfPaced') AS b, isEngineering('Medicine/HRP258/x') AS c, isEngineering(NULL) AS d"),
    [{ a: 1, b: 1, c: 0, d: 0 }]);
});

t.test('allHomeworkSubmissions joins events and answers', async (t) => {
  covers('allHomeworkSubmissions');
  const want = events.filter((e) => e.values[col.event_type] === 'problem_check' && e.values[col.course_display_name] === 'Org/Course0/Run' && e.values[col.answer_fk] !== '');
  const got = await q<{ answer: string; problem_id: string }>(t, 'CALL allHomeworkSubmissions(?)', ['Org/Course0/Run']);
  t.equal(got.length, want.length);
  t.ok(want.length > 10);
  t.ok(got.every((r) => /^answer \d+ two words$/.test(r.answer)));
});

t.test('views', async (t) => {
  covers('EventXtract', 'VideoInteraction');
  t.equal(Number(await one(t, 'SELECT COUNT(*) FROM EventXtract')), events.length);
  t.equal(Number(await one(t, 'SELECT COUNT(*) FROM VideoInteraction')), events.filter((e) => e.values[col.video_current_time] !== '').length);
});

// Tested on the tables of edx-refresh's platform jobs, in refresh-platform.test.ts.
covers('idAnon2Int', 'idInt2Anon', 'idExt2Anon', 'idAnon2Ext', 'idAnon2ExtByCourse', 'idAnon2Exts', 'createExtIdMapByCourse',
  'isDirectAccessUser', 'wasCertified', 'enrollment', 'isSharable');

t.test('every routine has a test', async (t) => {
  t.same([...tested].sort(), ROUTINES.map((r) => r.name).sort());
});
