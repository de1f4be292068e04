// The course, country and forum jobs of edx-refresh (modulestore, usercountry, forum) against a real
// MariaDB: exact rows for our fixtures (test/fixtures/refresh-course), each fix of
// docs/original.md#bug-13, #bug-14, #bug-17 as its own assertion, re-runs that give the same tables, dry runs that
// change nothing, and failures that exit 1 with a clear message and leave last week's tables.
import t from 'tap';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseJsonRecords, type BrokenRecord } from '../src/mongo/json-records.js';
import { isTrueCourseName, isTrueCourseNameSql, TEST_COURSE_PATTERNS } from '../src/schema/test-courses.js';
import { academicQuarter } from '../src/refresh/jobs/modulestore.js';
import { countryOf } from '../src/refresh/jobs/usercountry.js';
import { scrubBody } from '../src/refresh/jobs/forum-scrub.js';
import { CountryLookup } from '../src/transform/geoip.js';
import { H } from '../src/core/values.js';
import { loadSqlScript, testConnection } from './helpers/mariadb.js';
import { shared } from './helpers/tools.js';
import { createUserGrade, FIXTURES, refresh, refreshDatabases, snapshot, tablesOf, tool } from './helpers/refresh-course.js';
import { tempDir } from './helpers/tmp.js';

const tmp = tempDir('refresh-course');
const c = await testConnection();
t.teardown(() => c.end());

const OLD = join(FIXTURES, 'old-modulestore.json');
const SPLIT = join(FIXTURES, 'split');
const FORUM = join(FIXTURES, 'forum-contents.json');
const C1 = 'Medicine/HRP258/Statistics_in_Medicine';
const S1 = 'course-v1:Medicine+HRP259+2015';
const i4x = (type: string, name: string) => `i4x://Medicine/HRP258/${type}/${name}`;
const blockV1 = (type: string, id: string) => `block-v1:Medicine+HRP259+2015+type@${type}+block@${id}`;

/** The three modulestore tables of a database, each in a fixed order. */
async function courseTables(db: string) {
  return {
    CourseInfo: await snapshot(c, db, 'CourseInfo', 'course_display_name'),
    EdxProblem: await snapshot(c, db, 'EdxProblem', 'course_display_name, problem_id'),
    EdxVideo: await snapshot(c, db, 'EdxVideo', 'course_display_name, video_id'),
  };
}

// ---------------------------------------------------------------------------------------------
// Pieces without a database

t.test('json-records: every form of a Mongo export, one document at a time with its line', async (t) => {
  const read = (text: string) => {
    const broken: BrokenRecord[] = [];
    const docs = parseJsonRecords(text, (b) => broken.push(b)).map((r) => ({ line: r.line, collection: r.collection, value: r.value }));
    return { docs, broken };
  };
  const ndjson = read('{"_id":{"$oid":"5a"},"t":{"$date":"2013-01-02T03:04:05Z"},"n":{"$numberLong":"7"}}\n{"cut": \n{"c":{"$date":{"$numberLong":"1000"}}}');
  t.same(ndjson.docs.map((d) => d.line), [1, 3], 'NDJSON: the documents around a broken line');
  t.equal(ndjson.docs[0].value._id, '5a', '$oid → its hex');
  t.same(ndjson.docs[0].value.t, new Date('2013-01-02T03:04:05Z'), '$date → a Date');
  t.equal(ndjson.docs[0].value.n, 7, '$numberLong → a number');
  t.same(ndjson.docs[1].value.c, new Date(1000), 'canonical $date');
  t.same(ndjson.broken.map((b) => b.line), [2], 'the broken line, by number');
  t.match(ndjson.broken[0].reason, /^not valid JSON/);

  const array = read('# exported 2014-01-01\n[\n {"a": 1,\n  "b": [1, 2]},\n {"a": tru},\n {"c": "}{ ]["}\n]');
  t.same(array.docs.map((d) => [d.line, d.value]), [[3, { a: 1, b: [1, 2] }], [6, { c: '}{ ][' }]], 'array: brackets inside strings do not count');
  t.same(array.broken.map((b) => [b.line, b.cut]), [[5, undefined]], 'a broken element, the rest read');

  const all = read('{"all" : [\n{"a":1},\n{"b":2}\n]}');
  t.same(all.docs.map((d) => [d.line, d.collection]), [[2, 'all'], [3, 'all']], '{"all": […]}');
  const collections = read('{\n "active_versions": [{"a":1}],\n "structures": [\n  {"s":1}, {"s":2}\n ],\n "definitions": []\n}');
  t.same(collections.docs.map((d) => [d.line, d.collection]), [[2, 'active_versions'], [4, 'structures'], [4, 'structures']], 'an object of collections');

  t.same(read('[\n{"a":1},\n{"b":').broken.map((b) => [b.line, b.cut]), [[3, true]], 'cut inside a document: said, marked cut');
  t.same(read('[\n{"a":1}').broken.map((b) => b.cut), [true], 'cut before the closing bracket: said, marked cut');
  t.same(read('[{"a":1} x {"b":2}]').docs.length, 2, 'stray text between documents is reported, the documents read');
});

t.test('one test-course rule: TypeScript and the SQL function agree, for old and new-style ids', async (t) => {
  const names = [
    C1, S1, 'sandbox/x/y', 'Stanford/Sandbox/2013', '1abc', 'Stanford/xxxx/yyyy', 'Engineering/Demo/2014', 'Org/zzzCourse/r',
    'course-v1:MonX+AB123+Fall2015', 'course-v1:Stanford+Test+2015', 'Stanford/Test/2015', 'course-v1:1org+x+y', 'GSB/AF1/Alfresco_testing', '',
  ];
  const want = [true, true, false, false, false, false, false, false, false, false, false, false, false, true];
  t.same(names.map(isTrueCourseName), want, 'TypeScript');
  for (const name of names) {
    const [rows] = await c.query(`SELECT ${isTrueCourseNameSql(c.escape(name))} AS v`);
    t.equal(Number((rows as { v: number }[])[0].v) === 1, isTrueCourseName(name), `SQL agrees on '${name}'`);
  }
  t.ok(TEST_COURSE_PATTERNS.includes('monx/'), 'the list is the original isTrueCourseName list');
});

t.test('academic year and quarter: by month, no gap at 00:00 (docs/original.md#bug-13)', async (t) => {
  const cases: [string, number, string][] = [
    ['2013-09-01 00:00:00', 2013, 'fall'],
    ['2013-11-30 15:00:00', 2013, 'fall'], // between the original's ranges: quarter False
    ['2013-12-01 00:00:00', 2013, 'fall'], // December is fall in the warehouse's one convention
    ['2014-01-01 00:00:00', 2013, 'winter'],
    ['2014-02-28 18:00:00', 2013, 'winter'], // between the original's ranges: quarter False
    ['2016-02-29 23:59:59', 2015, 'winter'],
    ['2014-03-01 00:00:00', 2013, 'spring'],
    ['2014-05-31 23:59:59', 2013, 'spring'],
    ['2014-06-01 00:00:00', 2013, 'summer'],
    ['2014-08-31 23:59:59', 2013, 'summer'],
  ];
  for (const [start, year, quarter] of cases) t.same(academicQuarter(start), { year, quarter }, start);
  t.same(academicQuarter(null), { year: null, quarter: null }, 'no start: NULL, not (0, NA)');
});

t.test('country codes: alpha-3 to alpha-2 and name; zzz, ZZZ and unknown codes as the original', async (t) => {
  t.same(countryOf('USA'), { two: 'US', three: 'USA', name: 'United States of America' });
  t.same(countryOf('GBR'), { two: 'GB', three: 'GBR', name: 'United Kingdom' });
  for (const code of ['zzz', 'ZZZ', '', 'EUR', 'US', 'A1']) t.same(countryOf(code), { two: 'XX', three: 'XXX', name: 'Not in lookup tbl' }, `'${code}'`);
});

t.test('forum body scrubbing (docs/original.md#job-forum, #bug-17)', async (t) => {
  const poster = { screenNames: ['bob.smith+1'], fullName: 'Robert Mary-Jo Smith', anon: 'ANON' };
  const scrub = (s: string) => scrubBody(s, poster);
  t.equal(scrub('write to a@b.edu or Rob.S@mail.example.co.uk today'), 'write to <emailRedac> or <emailRedac> today', 'every e-mail address, not only a body that is one');
  t.equal(scrub('zip 94305, or 94305-1234.'), 'zip <zipRedac>, or <zipRedac>.', 'a zip code is replaced whole');
  t.equal(scrub('10,000 students, pi 3.14159, 123456 and a12345 stay'), '10,000 students, pi 3.14159, 123456 and a12345 stay', 'digits inside other numbers and words are no zip code');
  t.equal(scrub('call 650-723-2300, (650) 723 2300, +1 650.723.2300 or +44 20 7946 0958'), 'call <phoneRedac>, <phoneRedac>, <phoneRedac> or <phoneRedac>', 'phone numbers');
  t.equal(scrub('I am bob.smith+1; bobXsmithh1 is someone else'), 'I am <nameRedac_ANON>; bobXsmithh1 is someone else', 'the screen name is text, not a regular expression');
  t.equal(scrub('robert SMITH, Mary and Jo'), '<nameRedac_ANON> <nameRedac_ANON>, <nameRedac_ANON> and Jo', 'parts of the full name of 3 characters or more, any case');
  t.equal(scrub('Roberta stays'), 'Roberta stays', 'whole words only');
  const omer = (text: string) => scrubBody(text, { screenNames: ['x_1'], fullName: 'Ömer İnce', anon: 'A' });
  t.equal(omer('ÖMER, ömer and Ömers; 😀x_1😀 but x_1_ and ξx_1 stay'), '<nameRedac_A>, <nameRedac_A> and Ömers; 😀<nameRedac_A>😀 but x_1_ and ξx_1 stay',
    'non-ASCII names in any case, word edges of any script');
  t.equal(scrub('two\nlines "quoted"'), "two lines 'quoted'", 'line breaks → spaces, " → \' as the original stored bodies');
});

// ---------------------------------------------------------------------------------------------
// modulestore

const OLD_COURSES = [
  ['Education/EDUC115N/How_to_Learn_Math', 'How to Learn Math', 2013, 'fall', 0, null, '2013-11-30 15:00:00', null, null, null, null],
  ['Engineering/CS101/Fall2013', 'Computer Science 101', 2013, 'fall', 1, null, '2013-09-01 00:00:00', null, null, null, null],
  ['Law/Privacy/Spring2014', 'Privacy Law', 2013, 'spring', 1, null, '2014-03-01 00:00:00', null, null, null, null],
  [C1, 'Statistics in Medicine', 2012, 'summer', 0, '2013-05-01 00:00:00', '2013-06-24 07:00:00', '2013-07-01 00:00:00', '2013-09-15 07:00:00',
    '[{"type":"Homework","min_count":8,"drop_count":2,"weight":0.5},{"type":"Final Exam","min_count":1,"drop_count":0,"weight":0.5}]',
    'minimum_grade_credit: 0.8 certificate_policy: {"Pass":0.6}'],
  ['Medicine/MedStats/Winter2013', 'MedStats', 2013, 'fall', 0, null, '2013-12-01 00:00:00', null, null, null, null],
  ['Medicine/SciWrite/Run', 'SciWrite', null, null, 1, null, null, null, null, null, null],
  ['OHSx/Nutrition/Winter2014', 'Nutrition', 2013, 'winter', 1, null, '2014-02-28 18:00:00', null, null, null, null],
];
const CH1 = i4x('chapter', 'a1b2c3d4e5f60718293a4b5c6d7e8f90');
const SEQ1 = i4x('sequential', '53b0357680d24191a60156e74e184be3');
const OLD_PROBLEMS = [
  ['0c6cf38317be42e0829d10cc68e7451b', 'Quiz', C1, '<problem><multiplechoiceresponse><choicegroup><choice correct="true">Mean</choice></choicegroup></multiplechoiceresponse></problem>',
    '2013-05-07 20:29:50', null, null, null, i4x('problem', '0c6cf38317be42e0829d10cc68e7451b'), i4x('vertical', '0d6e5f3139e74c88adfdf4c90773f87f'), 3, SEQ1, 1, CH1, 1, 1, 0],
  ['4cd4e0bb39af4d36ba54b1a677e350b4', 'Unit 6 Homework', C1, '<problem>AB</problem>', null, 2, null, null, i4x('problem', '4cd4e0bb39af4d36ba54b1a677e350b4'),
    i4x('vertical', '4cd47ea861f542488a20691ac424a002'), 2, i4x('sequential', '9e93ebd9af7d40c2817b69aa0b597a99'), 1, i4x('chapter', 'de472d1448a74e639a41fa584c49b91e'), 1, 2, 1],
  ['7451f8fe15a642e1820767db411a4a3e', 'Quiz draft', C1, '<problem>draft</problem>', null, null, 'draft', null, i4x('problem', '7451f8fe15a642e1820767db411a4a3e'),
    i4x('vertical', 'e9ef4bdae8874030b2321a7699f03a82'), 2, SEQ1, 2, CH1, 1, 1, 0],
  ['84bc6d2be34545eeaf4aa5f67efc965d', 'Old quiz', C1, '<problem>old</problem>', null, null, null, null, i4x('problem', '84bc6d2be34545eeaf4aa5f67efc965d'),
    null, null, null, null, null, null, null, 0],
  ['e252cc0b13b146c1805a90cf45aa376b', 'Homework 1', C1, '<problem><numericalresponse answer="3.14"/></problem>', null, 0.5, null, 3, i4x('problem', 'e252cc0b13b146c1805a90cf45aa376b'),
    i4x('vertical', 'e9ef4bdae8874030b2321a7699f03a82'), 1, SEQ1, 2, CH1, 1, 1, 0],
];
const OLD_VIDEOS = [
  ['c89417444f4443f9a34039be3054962e', 'Module One video', C1, '["https://video.example.edu/hrp258/m1.mp4"]', 'Kq8mb9tWbXw',
    'i4x-Medicine-HRP258-videoalpha-c89417444f4443f9a34039be3054962e', i4x('vertical', '0d6e5f3139e74c88adfdf4c90773f87f'), 1, SEQ1, 1, CH1, 1, 1],
];
const SPLIT_COURSES = [
  [S1, 'Statistics in Medicine II', 2014, 'spring', 1, '2015-04-01 00:00:00', '2015-05-31 23:59:59', null, '2015-08-31 00:00:00',
    '[{"type":"Homework","min_count":3,"drop_count":0,"weight":1}]', 'minimum_grade_credit: 0.7 certificate_policy: {"Pass":0.7}'],
];
const SPLIT_PROBLEMS = [
  ['f0b292c175f54714b41a1b05d905dbd3', 'Check your understanding', S1,
    '<problem><choiceresponse><checkboxgroup><choice correct="true">p &lt; 0.05</choice></checkboxgroup></choiceresponse></problem>',
    '2015-04-01 10:00:00', 1, null, 2, blockV1('problem', 'f0b292c175f54714b41a1b05d905dbd3'), blockV1('vertical', 'v1'), 3, blockV1('sequential', 'seq1'), 1,
    blockV1('chapter', 'ch1'), 1, 1, 0],
  ['quiz_2', null, S1, '<problem>Staff quiz</problem>', '2015-04-01 11:30:00', null, null, null, blockV1('problem', 'quiz_2'), blockV1('vertical', 'v2'), 1,
    blockV1('sequential', 'seq1'), 2, blockV1('chapter', 'ch1'), 1, 1, 1],
];
const SPLIT_VIDEOS = [
  ['9f73ff5f71564b25856ec67ec52786b3', 'Welcome', S1, '[]', '3_yD_cEKoCk', '9f73ff5f71564b25856ec67ec52786b3', blockV1('vertical', 'v1'), 1,
    blockV1('sequential', 'seq1'), 1, blockV1('chapter', 'ch1'), 1, 1],
];

t.test('modulestore: an old-store export', async (t) => {
  const dbs = refreshDatabases(t, 'rcm');
  const r = await refresh(dbs, ['--modulestore', OLD, 'modulestore']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /modulestore: done: CourseInfo 7, EdxProblem 5, EdxVideo 1/, 'rows per table');
  t.match(r.stderr, /1 test course\(s\) left out \(schema\/test-courses\.ts\): Stanford\/Sandbox\/2013/);
  const tables = await courseTables(dbs.edx);
  t.same(tables.CourseInfo, OLD_COURSES, 'CourseInfo, exactly');
  t.same(tables.EdxProblem, OLD_PROBLEMS, 'EdxProblem, exactly');
  t.same(tables.EdxVideo, OLD_VIDEOS, 'EdxVideo, exactly');

  // Each fix of docs/original.md#bug-13 on its own:
  const [names] = await c.query(`SELECT DISTINCT course_display_name AS n FROM \`${dbs.edx}\`.EdxProblem UNION SELECT DISTINCT course_display_name FROM \`${dbs.edx}\`.EdxVideo`);
  const courses = new Set(OLD_COURSES.map((row) => row[0]));
  t.ok((names as { n: string }[]).every((x) => courses.has(x.n)), 'one course-name format: every problem and video names a CourseInfo course');
  const [texts] = await c.query(
    `SELECT (SELECT COUNT(*) FROM \`${dbs.edx}\`.CourseInfo WHERE 'None' IN (course_catalog_name, quarter, grade_policy, certs_policy) OR 'False' IN (quarter, grade_policy, certs_policy)) +
            (SELECT COUNT(*) FROM \`${dbs.edx}\`.EdxProblem WHERE 'None' IN (problem_display_name, date, revision, vertical_uri, trackevent_hook) OR 'False' IN (date, revision, trackevent_hook)) AS n`,
  );
  t.equal(Number((texts as { n: number }[])[0].n), 0, "no 'None' or 'False' text: NULL where the export has nothing");
  t.same(tables.CourseInfo?.find((row) => row[0] === 'Medicine/SciWrite/Run')?.slice(2, 4), [null, null], 'no start: academic year and quarter NULL');
  t.same(tables.CourseInfo?.filter((row) => row[3] === null || row[3] === false).length, 1, 'every course with a start has a quarter (none fell between ranges)');
  const internal = Object.fromEntries((tables.CourseInfo ?? []).map((row) => [row[0], row[4]]));
  t.same([internal['Engineering/CS101/Fall2013'], internal['OHSx/Nutrition/Winter2014'], internal['Law/Privacy/Spring2014'], internal['Medicine/SciWrite/Run'], internal[C1]],
    [1, 1, 1, 1, 0], 'is_internal from metadata.enrollment_domain, _id.org, invitation_only, ispublic (where the old store keeps them)');
  t.notOk(JSON.stringify(tables).includes('Sandbox'), 'the test course and its problem are left out');
  t.notOk(JSON.stringify(tables).includes('Homework 1 (editing)'), 'a draft copy of a published problem gives no second row');
});

t.test('modulestore: re-run, dry run, and failures that keep the tables', async (t) => {
  const dbs = refreshDatabases(t, 'rcr');
  const dryFirst = await refresh(dbs, ['--modulestore', OLD, '--dry-run', 'modulestore']);
  t.equal(dryFirst.code, 0, dryFirst.stderr);
  t.match(dryFirst.stderr, /dry run: would rebuild `[^`]+`\.`CourseInfo` \(7 rows\), `[^`]+`\.`EdxProblem` \(5 rows\), `[^`]+`\.`EdxVideo` \(1 row\)/, 'says what it would do');
  const [dbRows] = await c.query('SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [dbs.edx]);
  t.equal(Number((dbRows as { n: number }[])[0].n), 0, 'a dry run creates nothing, not even the database');

  t.equal((await refresh(dbs, ['--modulestore', OLD, 'modulestore'])).code, 0);
  const before = await courseTables(dbs.edx);
  const again = await refresh(dbs, ['--modulestore', OLD, 'modulestore']);
  t.equal(again.code, 0, again.stderr);
  t.same(await courseTables(dbs.edx), before, 'a re-run gives the same tables');
  t.same(await tablesOf(c, dbs.edx), ['CourseInfo', 'EdxProblem', 'EdxVideo'], 'no building or retired table left behind');

  const dry = await refresh(dbs, ['--modulestore', SPLIT, '--dry-run', 'modulestore']);
  t.equal(dry.code, 0, dry.stderr);
  t.match(dry.stderr, /CourseInfo` \(1 row\)/);
  t.same(await courseTables(dbs.edx), before, 'a dry run with another export changes nothing');

  const cutFile = join(tmp, 'cut-modulestore.json');
  const text = readFileSync(OLD, 'utf8');
  writeFileSync(cutFile, text.slice(0, Math.floor(text.length * 0.6)));
  const cut = await refresh(dbs, ['--modulestore', cutFile, 'modulestore']);
  t.equal(cut.code, 1, 'a cut export fails');
  t.match(cut.stderr, new RegExp(`modulestore: FAILED: ${cutFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: the export ends inside this document.*cut short\\?: the tables are left as they were`));
  t.same(await courseTables(dbs.edx), before, '… and leaves the tables as they were');

  const empty = join(tmp, 'empty.json');
  writeFileSync(empty, '[]\n');
  const none = await refresh(dbs, ['--modulestore', empty, 'modulestore']);
  t.equal(none.code, 1);
  t.match(none.stderr, /no course in .*empty\.json \(0 documents read\): the tables are left as they were/);
  t.same(await courseTables(dbs.edx), before, 'an export without courses leaves the tables');

  const missing = await refresh(dbs, ['--modulestore', join(tmp, 'nothing.json'), 'modulestore']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^edx-refresh: --modulestore .*nothing\.json: no such file or directory\n$/, 'a missing export: one line, before any job starts');
  const noInput = await refresh(dbs, ['modulestore']);
  t.equal(noInput.code, 2, 'no --modulestore: a usage error');
  t.match(noInput.stderr, /job modulestore needs --modulestore/);
  const bson = join(tmp, 'modulestore.bson');
  writeFileSync(bson, Buffer.from('not BSON at all'));
  const b = await refresh(dbs, ['--modulestore', bson, 'modulestore']);
  t.equal(b.code, 1);
  t.match(b.stderr, /modulestore\.bson:1: not a BSON document/, 'a .bson that is not BSON: where and why (refresh-bson.test.ts reads real ones)');
  t.same(await courseTables(dbs.edx), before);
});

t.test('modulestore: a split store, as a directory of mongoexport files', async (t) => {
  const dbs = refreshDatabases(t, 'rcs');
  const r = await refresh(dbs, ['--modulestore', SPLIT, 'modulestore']);
  t.equal(r.code, 0, r.stderr);
  const tables = await courseTables(dbs.edx);
  t.same(tables.CourseInfo, SPLIT_COURSES, 'CourseInfo, exactly: the published structure (not the draft or an older version)');
  t.same(tables.EdxProblem, SPLIT_PROBLEMS, 'EdxProblem: the text from the definition the published block uses');
  t.same(tables.EdxVideo, SPLIT_VIDEOS, 'EdxVideo: the hook is the block id new-style video events carry');
  t.equal(tables.CourseInfo?.[0][0], S1, 'course-v1:org+course+run (the original wrote course-V1:… in CourseInfo and org/course/run elsewhere)');
  t.equal(tables.CourseInfo?.[0][4], 1, 'is_internal from the course block\'s enrollment_domain, where the split store keeps it');
  t.match(r.stderr, /1 test course\(s\) left out \(schema\/test-courses\.ts\): course-v1:MonX\+AB123\+Fall2015/, 'a new-style test course found by the one rule');
  t.match(r.stderr, /1 split-store active version\(s\) without a published branch/, 'a library is said, not loaded');
});

t.test('modulestore: the same split store as one object of collections (gzip), and both stores in one NDJSON file', async (t) => {
  const ndjson = (name: string) => readFileSync(join(SPLIT, name), 'utf8').trim().split('\n');
  const [active, structures, definitions] = ['modulestore.active_versions.json', 'modulestore.structures.json', 'modulestore.definitions.json'].map(ndjson);
  // Definitions first: in one file the order of the collections does not matter.
  const object = `{\n "definitions": [\n${definitions.join(',\n')}\n ],\n "structures": [\n${structures.join(',\n')}\n ],\n "active_versions": [\n${active.join(',\n')}\n ]\n}\n`;
  const gz = join(tmp, 'split.json.gz');
  writeFileSync(gz, gzipSync(object));
  const dbs = refreshDatabases(t, 'rco');
  const r = await refresh(dbs, ['--modulestore', gz, 'modulestore']);
  t.equal(r.code, 0, r.stderr);
  t.same(await courseTables(dbs.edx), { CourseInfo: SPLIT_COURSES, EdxProblem: SPLIT_PROBLEMS, EdxVideo: SPLIT_VIDEOS }, 'the same tables as from the directory');

  const old = (JSON.parse(readFileSync(OLD, 'utf8')) as unknown[]).map((d) => JSON.stringify(d));
  const mixed = join(tmp, 'mixed.json');
  const lines = [...old.slice(0, 10), '{"_id": {"tag": "i4x", "org": "Medicine"', ...old.slice(10), ...active, ...structures, ...definitions];
  writeFileSync(mixed, lines.join('\n') + '\n');
  const m = await refresh(dbs, ['--modulestore', mixed, 'modulestore']);
  t.equal(m.code, 0, m.stderr);
  t.match(m.stderr, new RegExp(`${mixed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:11: not valid JSON`), 'the broken line is reported with its file and line');
  t.match(m.stderr, /1 modulestore documents left out, unreadable or unusable/);
  const sorted = (rows: unknown[][]) => [...rows].sort((a, b) => `${a[2] ?? a[0]}/${a[0]}`.localeCompare(`${b[2] ?? b[0]}/${b[0]}`));
  const tables = await courseTables(dbs.edx);
  t.same(tables.CourseInfo, [...OLD_COURSES, ...SPLIT_COURSES].sort((a, b) => String(a[0]).localeCompare(String(b[0]))), 'old and split courses side by side');
  t.same(sorted(tables.EdxProblem ?? []), sorted([...OLD_PROBLEMS, ...SPLIT_PROBLEMS]));
  t.same(sorted(tables.EdxVideo ?? []), sorted([...OLD_VIDEOS, ...SPLIT_VIDEOS]));
});

const conformance = shared('conformance/modulestore.json');
const sample = shared('corpus/modulestore/modulestore_sample.json');
const truth = shared('corpus/modulestore/modulestore_sampleTruth.csv');
t.test('modulestore: the shared sample exports', { skip: conformance.skip || sample.skip || truth.skip }, async (t) => {
  const dbs = refreshDatabases(t, 'rcx');
  const r = await refresh(dbs, ['--modulestore', conformance.path, 'modulestore']);
  t.equal(r.code, 0, r.stderr);
  const tables = await courseTables(dbs.edx);
  t.same(tables.CourseInfo?.map((row) => row[0]), ['Engineering/QMSE01/Run', 'HMC/MyCS/Run', 'Medicine/HRP258/Statistics_in_Medicine', 'Medicine/HRP259/Run', 'Medicine/MedStats/Summer2014', 'Medicine/SciWrite/Run']);
  t.equal(tables.EdxProblem?.length, 10);
  t.equal(tables.EdxVideo?.length, 5, 'videoalpha modules are videos');
  const problem = tables.EdxProblem?.find((row) => row[0] === 'f0b292c175f54714b41a1b05d905dbd3');
  t.same(problem?.slice(1, 3), ['Quiz', 'Medicine/MedStats/Summer2014'], 'the course of f0b292c1…, as docs/original.md#display-names says');

  const s = await refresh(dbs, ['--modulestore', sample.path, 'modulestore']);
  t.equal(s.code, 0, s.stderr);
  const names = await courseTables(dbs.edx);
  // Display names of the problems and videos, as the truth file of the sample gives them.
  const want = readFileSync(truth.path, 'utf8').trim().split(/\r?\n/).slice(1).map((l) => l.split(','))
    .filter(([, , , category]) => category === 'problem' || category === 'video').map(([hash, , , , , display]) => [hash, display]).sort();
  const got = [...(names.EdxProblem ?? []), ...(names.EdxVideo ?? [])].map((row) => [row[0], row[1]]).sort();
  t.same(got, want, 'display names as the sample truth');
});

// ---------------------------------------------------------------------------------------------
// usercountry

t.test('usercountry', async (t) => {
  const dbs = refreshDatabases(t, 'rcu');
  const early = await refresh(dbs, ['usercountry']);
  t.equal(early.code, 1, 'before the clickstream exists');
  t.match(early.stderr, /usercountry: FAILED: `[^`]+`\.`EdxTrackEvent` does not exist: create the warehouse and load the clickstream first/);

  const init = await tool('edx-csvload', ['--init', '--edx-db', dbs.edx, '--private-db', dbs.priv]);
  t.equal(init.code, 0, init.stderr);
  // A log of our own: alice from Stanford (twice) and the UK, bob from a private address and
  // without one, carol from Japan, and an event without a user; 2000 more users to stream.
  const event = (username: string | undefined, ip: string, minute: number) => JSON.stringify({
    ...(username === undefined ? {} : { username }), event_source: 'server', event_type: '/courses/Medicine/HRP258/Statistics_in_Medicine/courseware',
    time: `2014-03-03T10:${String(minute % 60).padStart(2, '0')}:00.000000+00:00`, ip, agent: 'Mozilla/5.0', host: 'class.stanford.edu',
    page: null, event: '{"POST": {}, "GET": {}}', context: { course_id: C1, org_id: 'Medicine', user_id: 1 },
  });
  const ips = { stanford: '171.64.10.20', uk: '81.2.69.160', japan: '133.11.0.1', private: '10.1.2.3' };
  const lines = [
    event('alice', ips.stanford, 1), event('alice', ips.stanford, 2), event('alice', ips.uk, 3),
    event('bob', ips.private, 4), event('bob', '', 5), event('carol', ips.japan, 6), event('carol', ips.japan, 7), event(undefined, ips.stanford, 8),
    ...Array.from({ length: 2000 }, (_, i) => event(`learner${i}`, ips.stanford, i)),
  ];
  const log = join(tmp, 'tracking.log-20140303');
  writeFileSync(log, lines.join('\n') + '\n');
  const sql = await tool('edx-json2sql', ['--quiet', '--edx-db', dbs.edx, '--private-db', dbs.priv, log]);
  t.equal(sql.code, 0, sql.stderr);
  t.equal(await loadSqlScript(sql.stdout), 0, 'the log loads without a warning');
  // One of carol's events as the original's country table could have left it: a code no ISO list has.
  await c.query(`UPDATE \`${dbs.edx}\`.EdxTrackEvent SET ip_country = 'EUR' WHERE anon_screen_name = ? AND time = '2014-03-03 10:07:00'`, [H('carol')]);

  const geo = new CountryLookup();
  t.same([geo.country(ips.stanford), geo.country(ips.uk), geo.country(ips.japan), geo.country(ips.private), geo.country('')], ['USA', 'GBR', 'JPN', 'ZZZ', 'zzz'],
    'the log\'s addresses, as the transform places them');

  const dry = await refresh(dbs, ['--dry-run', 'usercountry']);
  t.equal(dry.code, 0, dry.stderr);
  t.match(dry.stderr, /dry run: would rebuild `[^`]+`\.`UserCountry` from the distinct \(user, country\) pairs/);
  t.notOk((await tablesOf(c, dbs.edx)).includes('UserCountry'), 'a dry run creates nothing');

  const r = await refresh(dbs, ['usercountry']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /usercountry: done: UserCountry 2005/, 'rows in the result');
  const [rows] = await c.query({ sql: `SELECT * FROM \`${dbs.edx}\`.UserCountry WHERE anon_screen_name IN (?, ?, ?) ORDER BY anon_screen_name, three_letter_country`, rowsAsArray: true },
    [H('alice'), H('bob'), H('carol')]);
  const want = [
    [H('alice'), 'GB', 'GBR', 'United Kingdom'], [H('alice'), 'US', 'USA', 'United States of America'],
    [H('bob'), 'XX', 'XXX', 'Not in lookup tbl'],
    [H('carol'), 'JP', 'JPN', 'Japan'], [H('carol'), 'XX', 'XXX', 'Not in lookup tbl'],
  ].sort((a, b) => `${a[0]}${a[2]}`.localeCompare(`${b[0]}${b[2]}`));
  t.same(rows, want, 'one row per user per country; a private address and no address are one unknown country');
  const [others] = await c.query(`SELECT COUNT(*) AS n, SUM(three_letter_country = 'USA') AS us FROM \`${dbs.edx}\`.UserCountry WHERE anon_screen_name LIKE '%'`);
  t.same(others, [{ n: 2005, us: '2001' }], 'the 2000 streamed users, each once');
  const [blank] = await c.query(`SELECT COUNT(*) AS n FROM \`${dbs.edx}\`.UserCountry WHERE anon_screen_name = ''`);
  t.same(blank, [{ n: 0 }], 'events without a user give no row');

  const before = await snapshot(c, dbs.edx, 'UserCountry', 'anon_screen_name, three_letter_country');
  const again = await refresh(dbs, ['usercountry']);
  t.equal(again.code, 0, again.stderr);
  t.same(await snapshot(c, dbs.edx, 'UserCountry', 'anon_screen_name, three_letter_country'), before, 'a re-run gives the same table');
  const dryAfter = await refresh(dbs, ['--dry-run', 'usercountry']);
  t.equal(dryAfter.code, 0);
  t.same(await snapshot(c, dbs.edx, 'UserCountry', 'anon_screen_name, three_letter_country'), before, 'a dry run changes nothing');
});

// ---------------------------------------------------------------------------------------------
// forum

const PASSPHRASE = 'Your forum uid passphrase here. Any text will do.';
const UID_12345 = 'A588DE709CE13D906B4FD1061BEDA175'; // docs/original.md#anonymous-ids-and-the-forum-key, verified against MariaDB

t.test('forum', async (t) => {
  const dbs = refreshDatabases(t, 'rcf');
  const keyFile = join(tmp, 'forum-passphrase');
  writeFileSync(keyFile, PASSPHRASE + '\n');

  const noGrades = await refresh(dbs, ['--forum', FORUM, 'forum']);
  t.equal(noGrades.code, 1, 'before UserGrade exists');
  t.match(noGrades.stderr, /forum: FAILED: [^ ]+\.UserGrade does not exist: run job 'usergrade' first/);
  await createUserGrade(c, dbs.priv, [
    { name: 'Alice Mary-Jane Wong', screenName: 'alice', userId: 12345, anon: H('alice'), course: C1, grade: 0.9 },
    { name: 'Robert Smith', screenName: 'bob.smith+1', userId: 1002, anon: H('bob.smith+1') },
    // Carol has two certificates, so two rows (docs/original.md#bug-11): one post row all the same.
    { name: 'Carol Li', screenName: 'carol', userId: 1003, anon: H('carol'), course: C1, grade: 0.5 },
    { name: 'Carol Li', screenName: 'carol', userId: 1003, anon: H('carol'), course: S1, grade: 0.7 },
  ]);
  const noKey = await refresh(dbs, ['--forum', FORUM, 'forum']);
  t.equal(noKey.code, 1, 'before the forum key is stored');
  t.match(noKey.stderr, /no forum key in `[^`]+`\.`Keys` or no function idInt2Forum there: run edx-csvload --init --forum-key-file FILE first/);
  const init = await tool('edx-csvload', ['--init', '--forum-key-file', keyFile, '--edx-db', dbs.edx, '--private-db', dbs.priv]);
  t.equal(init.code, 0, init.stderr);

  const dryFirst = await refresh(dbs, ['--forum', FORUM, '--dry-run', 'forum']);
  t.equal(dryFirst.code, 0, dryFirst.stderr);
  t.match(dryFirst.stderr, /dry run: would rebuild `[^`]+`\.`contents` with 5 posts/);
  t.same(await tablesOf(c, dbs.forum), [], 'a dry run creates nothing');

  const r = await refresh(dbs, ['--forum', FORUM, 'forum']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /forum: done: contents 5/);
  t.match(r.stderr, new RegExp(`forum-contents\\.json:4: not valid JSON`), 'the broken line: file, line, reason');
  t.match(r.stderr, /forum-contents\.json:7: no _type \(CommentThread or Comment\): not a forum document/, 'a document that is no post: file, line, reason');
  t.match(r.stderr, /2 forum documents left out, unreadable or unusable/);
  t.match(r.stderr, /1 post\(s\) of test courses left out/);

  const rows = await snapshot(c, dbs.forum, 'contents', 'forum_post_id');
  const [uids] = await c.query({ sql: `SELECT \`${dbs.priv}\`.idInt2Forum(1002), \`${dbs.priv}\`.idInt2Forum(1003), \`${dbs.priv}\`.idInt2Forum(1004)`, rowsAsArray: true });
  const [uid1002, uid1003, uid1004] = (uids as string[][])[0];
  const mark = (name: string) => `<nameRedac_${H(name)}>`;
  const want = [
    ['52a0c1f0e4b0a1b2c3d4e501', H('alice'), 'CommentThread', 'False', 'False', '[]', UID_12345,
      `Hi all, I am ${mark('alice')} ${mark('alice')}. Mail me at <emailRedac> or <emailRedac>, or call <phoneRedac>; I live in <zipRedac>.`,
      C1, '2013-06-25 09:59:58', JSON.stringify({ up: [uid1002, uid1003], down: [], up_count: 2, down_count: 0, count: 2, point: 2 }), 2, 0, 2,
      JSON.stringify([uid1002, uid1003]), '[]', null, null, null, null, '', ''],
    ['52a0c2a0e4b0a1b2c3d4e502', H('bob.smith+1'), 'Comment', 'False', 'False', '[]', uid1002,
      `${mark('bob.smith+1')} here (${mark('bob.smith+1')} on the site). bobXsmithh1 is someone else. Ask Alice, not me.`,
      C1, '2013-06-25 11:00:00', JSON.stringify({ up: [], down: [UID_12345], up_count: 0, down_count: 1, count: 1, point: -1 }), 1, 1, 0,
      '[]', JSON.stringify([UID_12345]), '52a0c1f0e4b0a1b2c3d4e501', null, '[]', '52a0c2a0e4b0a1b2c3d4e502', '', ''],
    ['52a0c3b0e4b0a1b2c3d4e503', H('carol'), 'Comment', 'True', 'False', '[]', uid1003,
      `${mark('carol')} Li here: '10,000 students', pi 3.14159, zip <zipRedac>, phone <phoneRedac>.`,
      C1, '2013-06-26 08:00:00', JSON.stringify({ up: [], down: [], up_count: 0, down_count: 0, count: 0, point: 0 }), 0, 0, 0,
      '[]', '[]', '52a0c1f0e4b0a1b2c3d4e501', '52a0c2a0e4b0a1b2c3d4e502', '["52a0c2a0e4b0a1b2c3d4e502"]', '52a0c2a0e4b0a1b2c3d4e502-52a0c3b0e4b0a1b2c3d4e503', '', ''],
    ['52a0c7f0e4b0a1b2c3d4e508', 'anon_screen_name_redacted', 'CommentThread', 'False', 'False', '[]', '', "Posted by the course team's import script",
      C1, '2013-07-01 00:00:00', JSON.stringify({ up_count: 0, down_count: 0, count: 0 }), 0, 0, 0, null, null, null, null, null, null, '', ''],
    ['5501a2b3e4b0a1b2c3d4e505', H('dave_x'), 'CommentThread', 'False', 'True', '[]', uid1004,
      `Hello from ${mark('dave_x')}, email <emailRedac>`,
      S1, '2015-06-01 12:00:00', JSON.stringify({ up: [UID_12345], down: [], up_count: 1, down_count: 0, count: 1, point: 1 }), 1, 0, 1,
      JSON.stringify([UID_12345]), '[]', null, null, null, null, '', ''],
  ];
  t.same(rows, want, 'EdxForum.contents, exactly');

  // Each point of docs/original.md#job-forum and each fix of docs/original.md#bug-17 on its own:
  const byId = new Map((rows ?? []).map((row) => [row[0], row]));
  t.equal(byId.get('52a0c1f0e4b0a1b2c3d4e501')?.[6], UID_12345, 'forum_uid = idInt2Forum(author_id), the verified value of docs/original.md#anonymous-ids-and-the-forum-key');
  t.equal(byId.get('52a0c1f0e4b0a1b2c3d4e501')?.[1], H('alice'), 'relatable: the poster\'s anon_screen_name from UserGrade');
  t.equal(byId.get('5501a2b3e4b0a1b2c3d4e505')?.[1], H('dave_x'), 'a poster missing from UserGrade: the hash of the post\'s username (the same value)');
  const bodies = (rows ?? []).map((row) => String(row[7]).replace(/<[^>]*>/g, ''));
  t.notOk(bodies.some((b) => /@|650|94305|Wong|Robert|bob\.smith/.test(b)), 'no address, phone, zip or poster name is left in a body');
  t.match(String(byId.get('52a0c2a0e4b0a1b2c3d4e502')?.[7]), /bobXsmithh1 is someone else/, 'the screen name was matched as text, not as a regular expression');
  t.match(String(byId.get('52a0c3b0e4b0a1b2c3d4e503')?.[7]), /'10,000 students', pi 3\.14159, zip <zipRedac>/, 'zip codes replaced whole; other numbers kept');
  const voters = (rows ?? []).flatMap((row) => [row[10], row[14], row[15]].map(String));
  t.notOk(voters.some((v) => /"(1002|1003|12345)"/.test(v)), 'no voter\'s platform id is stored, only forum uids');
  t.notOk(byId.has('51a0c5d0e4b0a1b2c3d4e506'), 'the post of a test course is left out, by the test-course rule');
  t.ok(byId.has('52a0c1f0e4b0a1b2c3d4e501'), 'the oldest real posts stay (no DELETE … LIMIT 559)');

  const before = await snapshot(c, dbs.forum, 'contents', 'forum_post_id');
  const again = await refresh(dbs, ['--forum', FORUM, 'forum']);
  t.equal(again.code, 0, again.stderr);
  t.same(await snapshot(c, dbs.forum, 'contents', 'forum_post_id'), before, 'a re-run gives the same table');

  const other = join(tmp, 'forum-other.json');
  writeFileSync(other, readFileSync(FORUM, 'utf8').split('\n').slice(0, 1).join('\n') + '\n');
  const dry = await refresh(dbs, ['--forum', other, '--dry-run', 'forum']);
  t.equal(dry.code, 0, dry.stderr);
  t.match(dry.stderr, /with 1 post\b/);
  t.same(await snapshot(c, dbs.forum, 'contents', 'forum_post_id'), before, 'a dry run with another export changes nothing');

  const twice = join(tmp, 'forum-twice.json');
  writeFileSync(twice, readFileSync(FORUM, 'utf8').repeat(2));
  const dup = await refresh(dbs, ['--forum', twice, 'forum']);
  t.equal(dup.code, 1, 'an export holding a post twice fails while loading');
  t.match(dup.stderr, /forum: FAILED: contents: .*Duplicate entry '52a0c1f0e4b0a1b2c3d4e501'/);
  t.same(await snapshot(c, dbs.forum, 'contents', 'forum_post_id'), before, '… and leaves the table as it was');
  t.same(await tablesOf(c, dbs.forum), ['contents'], 'no building table left behind');

  const cutFile = join(tmp, 'forum-cut.json');
  const docs = readFileSync(FORUM, 'utf8').trim().split('\n').filter((l) => l.endsWith('}'));
  writeFileSync(cutFile, `[\n${docs.join(',\n').slice(0, -40)}`);
  const cut = await refresh(dbs, ['--forum', cutFile, 'forum']);
  t.equal(cut.code, 1, 'a cut export fails');
  t.match(cut.stderr, /forum-cut\.json:\d+: the export ends inside this document .*cut short\?: the table is left as it was/);
  t.same(await snapshot(c, dbs.forum, 'contents', 'forum_post_id'), before, '… and leaves the table as it was');

  // No usable document (docs/decisions.md §8): a tracking log given by mistake, posts without a course_id.
  const trackingLog = join(tmp, 'tracking.log');
  writeFileSync(trackingLog, `${JSON.stringify({ username: 'ann', event_type: 'page_close', event: '', time: '2014-03-03T08:00:00+00:00' })}\n`);
  const noCourse = join(tmp, 'forum-no-course.json');
  writeFileSync(noCourse, docs.map((d) => JSON.stringify({ ...JSON.parse(d), course_id: undefined })).join('\n') + '\n');
  for (const [what, file] of [['a tracking log', trackingLog], ['posts without a course_id', noCourse]]) {
    const none = await refresh(dbs, ['--forum', file, 'forum']);
    t.equal(none.code, 1, `${what}: the refresh fails`);
    t.match(none.stderr, /forum: FAILED: no usable input: contents would be empty; last week's table stays/, `${what}: and says why`);
    t.same(await snapshot(c, dbs.forum, 'contents', 'forum_post_id'), before, `${what}: last week's table stays`);
    t.same(await tablesOf(c, dbs.forum), ['contents'], `${what}: no building table left behind`);
  }

  const missing = await refresh(dbs, ['--forum', join(tmp, 'none.json'), 'forum']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^edx-refresh: --forum .*none\.json: no such file\n$/);

  const help = await refresh(dbs, ['--help']);
  t.notMatch(help.stdout, /passphrase|--forum-key/i, 'edx-refresh takes no passphrase: the key is read from EdxPrivate.Keys');
});

t.test('--list: the jobs, what they read and build, in an order that satisfies every after', async (t) => {
  const dbs = refreshDatabases(t, 'rcl');
  const r = await refresh(dbs, ['--list']);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const find = (job: string) => lines.find((l) => l.startsWith(`${job}\t`)) ?? '';
  t.match(find('modulestore'), new RegExp(`input: modulestore\\tbuilds: ${dbs.edx}\\.CourseInfo ${dbs.edx}\\.EdxProblem ${dbs.edx}\\.EdxVideo`));
  t.match(find('usercountry'), new RegExp(`builds: ${dbs.edx}\\.UserCountry`));
  t.match(find('forum'), new RegExp(`after: usergrade\\tinput: forum\\tbuilds: ${dbs.forum}\\.contents`));
  const names = lines.map((l) => l.split('\t')[0]);
  for (const [i, line] of lines.entries()) {
    const after = (/\tafter: ([^\t]*)/.exec(line)?.[1] ?? '-').split(' ').filter((a) => a !== '-');
    for (const a of after) if (names.includes(a)) t.ok(names.indexOf(a) < i, `${names[i]} runs after ${a}`);
  }
  t.equal(names[0], 'run-start');
  t.equal(names[names.length - 1], 'run-end');
});

// A copy of the fixture directory under another name still reads (files are known by name).
t.test('modulestore: a directory is read by its files\' names, whatever it is called', async (t) => {
  const dir = join(tmp, 'export-2015-06-01');
  mkdirSync(dir);
  for (const f of ['modulestore.active_versions.json', 'modulestore.structures.json', 'modulestore.definitions.json']) copyFileSync(join(SPLIT, f), join(dir, f.replace('modulestore.', '')));
  writeFileSync(join(dir, 'README.txt'), 'exported with mongoexport\n');
  const dbs = refreshDatabases(t, 'rcd');
  const r = await refresh(dbs, ['--modulestore', dir, 'modulestore']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /not read from the directory: README\.txt/);
  t.same((await courseTables(dbs.edx)).CourseInfo, SPLIT_COURSES);
});
