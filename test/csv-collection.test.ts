// The CSV dialect and the collection writer: escaping, deterministic names, overwrite on re-run,
// and no complete-looking collection after a crash.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeRow, loadStatement } from '../src/csv/encode.js';
import { CsvCollectionWriter, collectionBase, readManifest, findManifests } from '../src/csv/collection.js';
import { TABLES } from '../src/schema/tables.js';
import { defineTable, type TableDef } from '../src/schema/table.js';
import { makeRows, makeSource, writeSources } from './csvload-helpers.js';
import { tempDir } from './helpers/tmp.js';

const tmp = tempDir('csv-collection');

/** A table of the given column types (as created: `TEXT`, `DATETIME(6) NULL`), for encoding tests. */
const tableOf = (...types: string[]): TableDef =>
  defineTable({ name: 'Answer', database: 'Edx', columns: types.map((type, i) => `c${i} ${type}`), primaryKey: ['c0'] });

t.test('every value is escaped; NULL is \\N; one line per row', async (t) => {
  const mixed = tableOf('TEXT', 'TEXT', 'DATETIME(6) NULL', 'INT', 'INT');
  t.equal(encodeRow(mixed, ['a', '', null, 5, -1]), '"a","",\\N,5,-1');
  t.equal(encodeRow(mixed, ['', '', null, -1, -1]), '"","",\\N,-1,-1', 'a row of empty values');
  t.equal(encodeRow(mixed, ['', 'b', '2014-03-01 00:00:00.000000', -1, 7]), '"","b","2014-03-01 00:00:00.000000",-1,7');
  const text4 = tableOf('TEXT', 'TEXT', 'TEXT', 'TEXT');
  t.equal(encodeRow(text4, ['q"b\\s', 'l1\nl2\r', 'n\0z\x1a', 'tab\t,']), '"q\\"b\\\\s","l1\\nl2\\r","n\\0z\\Z","tab\t,"');
  t.equal(encodeRow(tableOf('TEXT', 'TEXT'), ['\\N', 'NULL']), '"\\\\N","NULL"', 'the text \\N is not NULL');
  t.match(loadStatement(TABLES.LoadInfo, "it's.csv", { Edx: 'E', EdxPrivate: 'P' }),
    /^LOAD DATA LOCAL INFILE 'it\\'s.csv' REPLACE INTO TABLE `E`.`LoadInfo` CHARACTER SET utf8mb4 .* \(`load_info_id`,`load_date_time`,`load_file`\)$/);
});

t.test('names come from the input name; a re-run overwrites with identical bytes', async (t) => {
  const dir = join(tmp, 'c');
  const s1 = makeSource('/logs/app1/tracking.log-20130609.gz');
  const s2 = makeSource('/logs/app2/tracking.log-20130609.gz');
  const sources = [{ source: s1, rows: makeRows(s1, { count: 30 }) }, { source: s2, rows: makeRows(s2, { count: 10 }) }];
  t.not(collectionBase(s1), collectionBase(s2), 'same base name in two folders: two collections');
  t.match(collectionBase(s1), /^tracking\.log-20130609\.[0-9a-f]{8}$/);
  await writeSources(new CsvCollectionWriter({ dir }), sources);
  const first = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
  t.equal(Object.keys(first).length, 2 * 5, '4 tables + manifest per source');
  await writeSources(new CsvCollectionWriter({ dir }), sources);
  const second = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
  t.same(second, first, 'same files, same bytes');

  const m = await readManifest(join(dir, collectionBase(s1) + '.manifest.json'));
  t.same(m.source, s1);
  t.same(m.quarters, ['summer2013']);
  t.same(m.files.map((f) => [f.table.name, f.rows]), [['Answer', 6], ['EventIp', 30], ['LoadInfo', 1], ['EdxTrackEvent', 30]]);
  for (const f of m.files) t.equal(readFileSync(f.path, 'utf8').split('\n').length - 1, f.rows, `${f.table.name}: lines = rows`);
  t.equal((await findManifests([dir])).length, 2);
});

t.test('a source that never ends leaves no manifest and no files', async (t) => {
  const dir = join(tmp, 'crash');
  const s = makeSource('/logs/crash/tracking.log-20130609.gz');
  const w = new CsvCollectionWriter({ dir });
  await w.startSource(s);
  for (const r of makeRows(s, { count: 5000 })) await w.write(r);
  t.ok(readdirSync(dir).every((f) => f.startsWith('.') && f.endsWith('.partial')), 'only temporary names while writing');
  await w.close(); // the transform failed: no endSource
  t.same(readdirSync(dir), []);
  await t.rejects(findManifests([dir]), /no \*\.manifest\.json/);
});
