// mongodump's BSON, the form the original's refresh consumed (contents.bson of the forum, the
// modulestore collections): the modulestore and forum jobs, and edx-json2sql --modulestore, read
// it and make exactly what they make of the same documents as mongoexport JSON. The BSON files are
// made here from our JSON fixtures with the official bson package, as mongodump would write them.
import t from 'tap';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { EJSON, serialize } from 'bson';
import { parseBsonRecords } from '../src/mongo/bson-records.js';
import { testConnection } from './helpers/mariadb.js';
import { runTool } from './helpers/tools.js';
import { createUserGrade, FIXTURES, refresh, refreshDatabases, snapshot, tool } from './helpers/refresh-course.js';
import { H } from '../src/core/values.js';
import { tempDir } from './helpers/tmp.js';

const tmp = tempDir('refresh-bson');
const c = await testConnection();
t.teardown(() => c.end());

/** The documents of a JSON export (array or NDJSON), as Extended JSON read by the bson package. */
function documentsOf(file: string): Record<string, unknown>[] {
  const text = readFileSync(file, 'utf8').trim();
  if (text.startsWith('[')) return (EJSON.parse(text, { relaxed: false }) as Record<string, unknown>[]);
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    try {
      out.push(EJSON.parse(line, { relaxed: false }) as Record<string, unknown>);
    } catch {
      /* the fixture's deliberately broken line has no BSON form */
    }
  }
  return out;
}
const bsonOf = (docs: Record<string, unknown>[]) => Buffer.concat(docs.map((d) => serialize(d)));

t.test('parseBsonRecords: documents with Extended JSON values read back, and a cut or corrupt file said', async (t) => {
  const docs = [{ _id: { $oid: '52a0c1f0e4b0a1b2c3d4e501' }, n: { $numberLong: '7' }, at: { $date: '2014-03-01T10:00:00Z' }, x: 1.5, s: 'é' }, { a: [1, { b: null }] }]
    .map((d) => EJSON.deserialize(d, { relaxed: false }) as Record<string, unknown>);
  const bytes = bsonOf(docs);
  const broken: unknown[] = [];
  const read = parseBsonRecords(bytes, (b) => broken.push(b));
  t.same(read.map((r) => r.line), [1, 2], 'lines are document positions');
  t.same(read[0].value, { _id: '52a0c1f0e4b0a1b2c3d4e501', n: 7, at: new Date('2014-03-01T10:00:00Z'), x: 1.5, s: 'é' }, 'as mongoexport JSON reads');
  t.same(read[1].value, { a: [1, { b: null }] });
  t.same(broken, []);
  const cut: { line: number; reason: string; cut?: true }[] = [];
  t.equal(parseBsonRecords(bytes.subarray(0, bytes.length - 3), (b) => cut.push(b)).length, 1);
  t.match(cut, [{ line: 2, reason: /ends inside a document/, cut: true }], 'a cut file: where');
  const garbage: { reason: string; cut?: true }[] = [];
  parseBsonRecords(Buffer.from('this is text, not BSON'), (b) => garbage.push(b));
  t.match(garbage, [{ reason: /not a BSON document/, cut: true }]);
});

t.test('modulestore: a mongodump directory of the split store gives the tables the mongoexport directory gives', async (t) => {
  const json = refreshDatabases(t, 'rbj');
  const bson = refreshDatabases(t, 'rbb');
  const split = join(FIXTURES, 'split');
  const dump = join(tmp, 'modulestore-dump');
  mkdirSync(dump);
  for (const f of readdirSync(split)) {
    const name = f.replace(/\.json$/, '');
    writeFileSync(join(dump, `${name}.bson`), bsonOf(documentsOf(join(split, f))));
    writeFileSync(join(dump, `${name}.metadata.json`), '{"indexes":[{"v":2,"key":{"_id":1},"name":"_id_"}]}\n'); // as mongodump writes
  }
  const a = await refresh(json, ['--modulestore', split, 'modulestore']);
  t.equal(a.code, 0, a.stderr);
  const b = await refresh(bson, ['--modulestore', dump, 'modulestore']);
  t.equal(b.code, 0, b.stderr);
  for (const [table, order] of [['CourseInfo', 'course_display_name'], ['EdxProblem', 'problem_id'], ['EdxVideo', 'video_id']]) {
    const want = await snapshot(c, json.edx, table, order);
    t.ok(want && want.length > 0, `${table} has rows`);
    t.same(await snapshot(c, bson.edx, table, order), want, `${table}: the same rows from BSON`);
  }

  // The transform reads the same files for display names.
  const block = 'block-v1:Medicine+HRP259+2015+type@problem+block@f0b292c175f54714b41a1b05d905dbd3';
  const line = JSON.stringify({ username: 'ada', event_type: 'problem_check', event_source: 'server', time: '2015-06-01T10:00:00Z', ip: '1.2.3.4', page: 'x',
    context: { course_id: 'course-v1:Medicine+HRP259+2015' }, event: { problem_id: block, answers: { [`${block}_2_1`]: 'a' }, correct_map: {}, state: {} } });
  const viaJson = await runTool('edx-json2sql', ['--modulestore', split], { input: line });
  const viaBson = await runTool('edx-json2sql', ['--modulestore', dump], { input: line });
  t.equal(viaBson.code, 0, viaBson.stderr);
  t.match(viaJson.stdout, "'Check your understanding'", 'the display name of a split-store block');
  t.equal(viaBson.stdout, viaJson.stdout, 'edx-json2sql --modulestore: the same output from the BSON directory');

  const cutDir = join(tmp, 'cut-dump');
  mkdirSync(cutDir);
  for (const f of readdirSync(dump)) writeFileSync(join(cutDir, f), readFileSync(join(dump, f)));
  const structures = join(cutDir, 'modulestore.structures.bson');
  const whole = readFileSync(structures);
  writeFileSync(structures, whole.subarray(0, whole.length - 10));
  const before = await snapshot(c, bson.edx, 'CourseInfo', 'course_display_name');
  const cut = await refresh(bson, ['--modulestore', cutDir, 'modulestore']);
  t.equal(cut.code, 1, 'a cut .bson fails the job');
  t.match(cut.stderr, /modulestore\.structures\.bson:\d+: the file ends inside a document/);
  t.same(await snapshot(c, bson.edx, 'CourseInfo', 'course_display_name'), before, 'and leaves the tables as they were');
});

t.test('forum: contents.bson (plain and gzip) gives the table contents.json gives', async (t) => {
  const dbs = refreshDatabases(t, 'rbf');
  const keyFile = join(tmp, 'passphrase');
  writeFileSync(keyFile, 'Your forum uid passphrase here. Any text will do.\n');
  await createUserGrade(c, dbs.priv, [
    { name: 'Alice Mary-Jane Wong', screenName: 'alice', userId: 12345, anon: H('alice') },
    { name: 'Robert Smith', screenName: 'bob.smith+1', userId: 1002, anon: H('bob.smith+1') },
  ]);
  const init = await tool('edx-csvload', ['--init', '--forum-key-file', keyFile, '--edx-db', dbs.edx, '--private-db', dbs.priv]);
  t.equal(init.code, 0, init.stderr);
  const json = join(FIXTURES, 'forum-contents.json');
  const bson = join(tmp, 'contents.bson');
  writeFileSync(bson, bsonOf(documentsOf(json)));
  writeFileSync(`${bson}.gz`, gzipSync(readFileSync(bson)));

  const a = await refresh(dbs, ['--forum', json, 'forum']);
  t.equal(a.code, 0, a.stderr);
  const want = await snapshot(c, dbs.forum, 'contents', 'forum_post_id');
  t.ok(want && want.length > 0);
  for (const file of [bson, `${bson}.gz`]) {
    const b = await refresh(dbs, ['--forum', file, 'forum']);
    t.equal(b.code, 0, b.stderr);
    t.same(await snapshot(c, dbs.forum, 'contents', 'forum_post_id'), want, `${file.endsWith('.gz') ? 'contents.bson.gz' : 'contents.bson'}: the same rows`);
  }
});
