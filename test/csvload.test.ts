// edx-csvload against the real MariaDB: --init, loading collections, skipping, overlaps, values
// that round-trip byte for byte, partitions for any date, and failing loads that leave nothing.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsvCollectionWriter, collectionBase } from '../src/csv/collection.js';
import { ALL_TABLES, TABLES } from '../src/schema/tables.js';
import { columnIndex } from '../src/schema/table.js';
import { testConnection } from './helpers/mariadb.js';
import { CSVLOAD, makeRows, makeSource, run, throwawayWarehouse, writeSources, tableDigest, NASTY } from './csvload-helpers.js';
import { tempDir } from './helpers/tmp.js';

const tmp = tempDir('csvload-test');

const wh = await throwawayWarehouse('csvl');
t.teardown(wh.drop);

const count = async (table: string, where = '1') => {
  const c = await testConnection();
  const db = TABLES[table as keyof typeof TABLES].database === 'Edx' ? wh.names.Edx : wh.names.EdxPrivate;
  const [r] = await c.query(`SELECT COUNT(*) AS n FROM \`${db}\`.\`${table}\` WHERE ${where}`);
  await c.end();
  return Number((r as { n: number }[])[0].n);
};

async function collection(name: string, rowsOf: Parameters<typeof makeRows>[1]) {
  const dir = join(tmp, name);
  const source = makeSource(`/logs/${name}/tracking.log-20130609.gz`);
  const rows = makeRows(source, rowsOf);
  await writeSources(new CsvCollectionWriter({ dir, names: wh.names }), [{ source, rows }]);
  return { dir, source, rows, manifest: join(dir, collectionBase(source) + '.manifest.json') };
}

t.test('--init creates the warehouse, twice is harmless', async (t) => {
  for (let i = 0; i < 2; i++) {
    const r = await run(CSVLOAD, ['--init', ...wh.args]);
    t.equal(r.code, 0, r.stderr);
  }
  const c = await testConnection();
  const [tables] = await c.query('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?, ?) ORDER BY 1', [wh.names.Edx, wh.names.EdxPrivate]);
  await c.end();
  const names = (tables as { t: string }[]).map((x) => x.t);
  for (const table of Object.keys(TABLES)) t.ok(names.includes(table), `${table} exists`);
  t.ok(names.includes('Keys'), 'Keys exists');
});

t.test('a collection loads; values round-trip exactly; warnings none', async (t) => {
  const col = await collection('first', { count: 300 });
  const r = await run(CSVLOAD, [...wh.args, col.dir]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /EdxTrackEvent\s+300/, 'summary names rows per table');
  t.match(r.stderr, /1 loaded, 0 skipped, 0 failed/);
  t.equal(await count('EdxTrackEvent'), 300);
  t.equal(await count('EventIp'), 300);
  t.equal(await count('Answer'), 60);
  t.equal(await count('LoadInfo', `load_info_id = '${col.source.loadInfoId}' AND load_date_time IS NOT NULL`), 1, 'LoadInfo recorded with the load time');

  // Every value comes back as it was written, including every escape of the dialect.
  const c = await testConnection();
  const [back] = await c.query({ sql: `SELECT * FROM \`${wh.names.Edx}\`.EdxTrackEvent ORDER BY _id`, rowsAsArray: true });
  await c.end();
  const want = col.rows.filter((r) => r.table === TABLES.EdxTrackEvent).map((r) => r.values.map((v) => (v === null ? null : String(v))));
  want.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  const got = (back as unknown[][]).map((r) => r.map((v) => (v === null ? null : String(v))));
  // DATETIME(6)/TIME(6) come back with the server's formatting; compare them normalised.
  const idx = columnIndex(TABLES.EdxTrackEvent);
  for (const r of got) r[idx.downtime_for] = r[idx.downtime_for] === null ? null : r[idx.downtime_for]!.replace(/^00:/, '0:').replace(/\.000000$/, '');
  t.same(got, want);
  t.same(new Set(got.map((r) => r[idx.agent])), new Set(NASTY), 'every nasty text value arrives');
});

t.test('loading the same collection again: skipped, no new rows; --force reloads without duplicates', async (t) => {
  const col = await collection('first', { count: 300 });
  const before = await tableDigest(wh.names.Edx, TABLES.EdxTrackEvent);
  const again = await run(CSVLOAD, [...wh.args, col.manifest]);
  t.equal(again.code, 0, again.stderr);
  t.match(again.stderr, /skipped\s+0\s+[\d.]+\s+already in LoadInfo/);
  t.match(again.stderr, /0 loaded, 1 skipped, 0 failed/);
  const forced = await run(CSVLOAD, [...wh.args, '--force', col.dir]);
  t.equal(forced.code, 0, forced.stderr);
  t.match(forced.stderr, /1 loaded, 0 skipped, 0 failed/);
  t.same(await tableDigest(wh.names.Edx, TABLES.EdxTrackEvent), before, 'same rows after a forced reload');
  t.equal(await count('LoadInfo'), 1);
});

t.test('an overlapping file adds only its new rows', async (t) => {
  // Same id space as 'first' (the rotated copy of a live log): events 200..499, of which 200..299 exist.
  const col = await collection('overlap', { idSpace: '/logs/first/tracking.log-20130609.gz', from: 200, count: 300 });
  const r = await run(CSVLOAD, [...wh.args, col.dir]);
  t.equal(r.code, 0, r.stderr);
  t.equal(await count('EdxTrackEvent'), 500);
  t.equal(await count('EventIp'), 500);
  t.equal(await count('Answer'), 100);
  t.equal(await count('LoadInfo'), 2);
});

t.test('events of any date load: partitions are added (2026, 2031)', async (t) => {
  const col = await collection('future', { count: 40, start: new Date('2026-02-27T00:00:00Z'), stepMs: 86400e3 * 60 });
  const r = await run(CSVLOAD, [...wh.args, col.dir]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /added partitions .*pAY2025_Winter/);
  t.equal(await count('EdxTrackEvent', "time >= '2026-01-01'"), 40);
  t.equal(await count('EdxTrackEvent', "quarter = 'summer2031'"), 2);
  const c = await testConnection();
  const [p] = await c.query("SELECT COUNT(*) AS n FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'EdxTrackEvent' AND PARTITION_NAME = 'pAY2030_Summer'", [wh.names.Edx]);
  await c.end();
  t.equal(Number((p as { n: number }[])[0].n), 1);
});

t.test('a value the table cannot hold fails the load and leaves nothing behind', async (t) => {
  const col = await collection('bad', { idSpace: 'bad', count: 50, start: new Date('2014-03-01T00:00:00Z') });
  // EdxTrackEvent loads after Answer and EventIp: put the bad value there, so that rows of the
  // earlier tables of this source are in the transaction when it fails.
  const file = join(col.dir, `${collectionBase(col.source)}.EdxTrackEvent.csv`);
  const lines = readFileSync(file, 'utf8').split('\n');
  const f = lines[30].split(',');
  const attempts = columnIndex(TABLES.EdxTrackEvent).attempts;
  f[attempts] = '99999999999'; // INT cannot hold it
  lines[30] = f.join(',');
  writeFileSync(file, lines.join('\n'));
  const before = await Promise.all(['EdxTrackEvent', 'EventIp', 'Answer', 'LoadInfo'].map((x) => count(x)));
  const r = await run(CSVLOAD, [...wh.args, col.dir]);
  t.equal(r.code, 1, 'exit 1');
  t.match(r.stderr, /failed, rolled back, not recorded: EdxTrackEvent: .*(warning|Out of range)/);
  t.match(r.stderr, /0 loaded, 0 skipped, 1 failed/);
  const after = await Promise.all(['EdxTrackEvent', 'EventIp', 'Answer', 'LoadInfo'].map((x) => count(x)));
  t.same(after, before, 'no table changed');
  t.equal(await count('LoadInfo', `load_info_id = '${col.source.loadInfoId}'`), 0, 'not recorded as loaded');
});

t.test('a file with fewer rows than its manifest says fails', async (t) => {
  const col = await collection('short', { idSpace: 'short', count: 20, start: new Date('2014-03-01T00:00:00Z') });
  const file = join(col.dir, `${collectionBase(col.source)}.EventIp.csv`);
  const lines = readFileSync(file, 'utf8').split('\n');
  writeFileSync(file, lines.slice(0, 10).join('\n') + '\n');
  const r = await run(CSVLOAD, [...wh.args, col.dir]);
  t.equal(r.code, 1);
  t.match(r.stderr, /EventIp: the server read 10 rows, the file should hold 20/);
  t.equal(await count('EdxTrackEvent', `load_info_fk = '${col.source.loadInfoId}'`), 0, 'nothing of it loaded');
});

t.test('a file changed after the transform wrote it fails, though it still reads as CSV with every count right', async (t) => {
  const col = await collection('changed', { idSpace: 'changed', count: 20, start: new Date('2014-03-01T00:00:00Z') });
  const manifest = JSON.parse(readFileSync(col.manifest, 'utf8')) as { files: { table: string; crc32?: number }[] };
  t.ok(manifest.files.every((f) => Number.isInteger(f.crc32)), 'the manifest gives each file its CRC-32');
  const file = join(col.dir, `${collectionBase(col.source)}.EdxTrackEvent.csv`);
  const original = readFileSync(file, 'utf8');
  // A lost opening quote: `x",` is a valid bare value for LOAD DATA (OPTIONALLY ENCLOSED BY '"').
  const at = original.indexOf(',"', original.indexOf('\n', original.length / 2));
  writeFileSync(file, original.slice(0, at + 1) + original.slice(at + 2));
  const r = await run(CSVLOAD, [...wh.args, col.dir]);
  t.equal(r.code, 1, 'exit 1');
  t.match(r.stderr, /failed, rolled back, not recorded: EdxTrackEvent: \S+EdxTrackEvent.csv is not the file the transform wrote \(CRC-32 \d+, the manifest's \d+\)/);
  t.equal(await count('EdxTrackEvent', `load_info_fk = '${col.source.loadInfoId}'`), 0, 'nothing of it loaded');
  t.equal(await count('LoadInfo', `load_info_id = '${col.source.loadInfoId}'`), 0, 'not recorded as loaded');

  // A manifest of an older writer has no checksums: its files load on counts alone.
  for (const f of manifest.files) delete f.crc32;
  writeFileSync(col.manifest, JSON.stringify(manifest));
  writeFileSync(file, original);
  const old = await run(CSVLOAD, [...wh.args, col.dir]);
  t.equal(old.code, 0, old.stderr);
  t.equal(await count('EdxTrackEvent', `load_info_fk = '${col.source.loadInfoId}'`), 20, 'loaded');
});

t.test('--dry-run says what it would do and changes nothing', async (t) => {
  const col = await collection('dry', { idSpace: 'dry', count: 10, start: new Date('2035-10-01T00:00:00Z') });
  const first = await collection('first', { count: 300 });
  const before = await count('EdxTrackEvent');
  const r = await run(CSVLOAD, [...wh.args, '--dry-run', col.dir, first.dir]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /would load .*EdxTrackEvent 10.*would add partitions pAY2035_Fall/);
  t.match(r.stderr, /would skip .*already in LoadInfo/);
  t.equal(await count('EdxTrackEvent'), before);
  const c = await testConnection();
  const [p] = await c.query("SELECT COUNT(*) AS n FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? AND PARTITION_NAME = 'pAY2035_Fall'", [wh.names.Edx]);
  await c.end();
  t.equal(Number((p as { n: number }[])[0].n), 0, 'no partition added');
});

t.test('a warehouse that does not exist yet: the load fails and says to run --init; a dry run says what would load', async (t) => {
  const col = await collection('noinit', { idSpace: 'noinit', count: 5 });
  const bare = await throwawayWarehouse('noinit');
  t.teardown(bare.drop);
  const dry = await run(CSVLOAD, [...bare.args, '--dry-run', col.dir]);
  t.equal(dry.code, 0, dry.stderr);
  t.match(dry.stderr, /would load .*EdxTrackEvent 5/);
  const r = await run(CSVLOAD, [...bare.args, col.dir]);
  t.equal(r.code, 1);
  t.match(r.stderr, /LoadInfo does not exist: create the warehouse first with edx-csvload --init/);
});

t.test('usage errors and missing inputs', async (t) => {
  const r = await run(CSVLOAD, ['--no-such-option']);
  t.equal(r.code, 2);
  t.match(r.stderr, /unknown option/);
  const h = await run(CSVLOAD, ['--help']);
  t.equal(h.code, 0);
  t.match(h.stdout, /^Usage: edx-csvload/);
  t.match(h.stdout, /Exit status/);
  const missing = await run(CSVLOAD, [...wh.args, join(tmp, 'nope')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /no such file or directory/);
  const r2 = await run(CSVLOAD, ['--replace']);
  t.equal(r2.code, 2);
});

t.test('--init --replace empties an existing warehouse and says so', async (t) => {
  const other = await throwawayWarehouse('csvlr');
  t.teardown(other.drop);
  t.equal((await run(CSVLOAD, ['--init', ...other.args])).code, 0);
  const col = join(tmp, 'replace');
  const source = makeSource('/logs/replace/tracking.log-20140101.gz');
  await writeSources(new CsvCollectionWriter({ dir: col, names: other.names }), [{ source, rows: makeRows(source, { count: 5 }) }]);
  t.equal((await run(CSVLOAD, [...other.args, col])).code, 0);
  const keep = await run(CSVLOAD, ['--init', ...other.args]);
  t.match(keep.stderr, /tables exist already and are kept/);
  t.equal((await tableDigest(other.names.Edx, TABLES.EdxTrackEvent)).rows, 5);
  const r = await run(CSVLOAD, ['--init', '--replace', ...other.args]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, new RegExp(`replacing the existing warehouse .*dropping ${ALL_TABLES.length} tables`));
  t.equal((await tableDigest(other.names.Edx, TABLES.EdxTrackEvent)).rows, 0);
});
