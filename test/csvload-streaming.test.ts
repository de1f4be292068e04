// The row stream's fast path: edx-csvload loads a source while its rows still arrive. The tests
// hold the rest of the stream back until another connection (READ UNCOMMITTED) sees rows of the
// source's open transaction, so "loaded while streaming" is shown by the server, not by timing.
import t from 'tap';
import { TABLES, ALL_TABLES } from '../src/schema/tables.js';
import { testConnection } from './helpers/mariadb.js';
import { waitFor } from './helpers/wait.js';
import { tempDir } from './helpers/tmp.js';
import { CSVLOAD, count, exited, makeRows, makeSource, run, start, streamOf, throwawayWarehouse, tableDigest } from './csvload-helpers.js';

/** The stream cut after the first line that ends past `fraction` of it. */
function firstPart(bytes: Buffer, fraction: number): [Buffer, Buffer] {
  const cut = bytes.indexOf(10, Math.floor(bytes.length * fraction)) + 1;
  return [bytes.subarray(0, cut), bytes.subarray(cut)];
}

/** Waits until another session sees uncommitted EdxTrackEvent rows of the source (0 if it never does). */
async function uncommittedRows(db: string, loadInfoId: string): Promise<number> {
  const c = await testConnection();
  await c.query('SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED');
  try {
    return await waitFor(async () => {
      const [r] = await c.query(`SELECT COUNT(*) AS n FROM \`${db}\`.EdxTrackEvent WHERE load_info_fk = ?`, [loadInfoId]);
      return Number((r as { n: number }[])[0].n) || undefined;
    }, { everyMs: 50 }) ?? 0;
  } finally {
    await c.end();
  }
}

const SEGMENTS = ['--segment-size', '4096'];
const big = makeSource('/logs/stream/tracking.log-20140310.gz');
const bigRows = makeRows(big, { count: 3000, start: new Date('2014-03-10T00:00:00Z'), stepMs: 20e3 });
const small = makeSource('/logs/stream/tracking.log-20140309.gz');
const smallRows = makeRows(small, { count: 30, start: new Date('2014-03-09T00:00:00Z') });

t.test('a source loads while it streams: rows are in its transaction before the end line', async (t) => {
  const wh = await throwawayWarehouse('csvf');
  t.teardown(wh.drop);
  t.equal((await run(CSVLOAD, ['--init', ...wh.args])).code, 0);
  const [head, tail] = firstPart(await streamOf([{ source: big, rows: bigRows }]), 0.5);
  const p = await start(CSVLOAD, [...wh.args, ...SEGMENTS]);
  const done = exited(p);
  p.stdin.write(head);
  t.ok((await uncommittedRows(wh.names.Edx, big.loadInfoId)) > 0, 'EdxTrackEvent rows loaded before the rest of the stream was written');
  t.equal(await count(wh.names.Edx, 'LoadInfo'), 0, 'not recorded yet');
  p.stdin.end(tail);
  const r = await done;
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /1 loaded, 0 skipped, 0 failed/);
  const note = /([\d,]+) of ([\d,]+) rows loaded while the source streamed/.exec(r.stderr);
  t.ok(note && Number(note[1].replace(/,/g, '')) > 0, 'the report says rows loaded while the source streamed');
  t.equal(await count(wh.names.Edx, 'EdxTrackEvent'), 3000);
  t.equal(await count(wh.names.EdxPrivate, 'EventIp'), 3000);
  t.equal(await count(wh.names.Edx, 'Answer'), 600);
  t.equal(await count(wh.names.Edx, 'LoadInfo'), 1);

  // The same stream again is skipped as a whole; --force replaces, never duplicates.
  const bytes = Buffer.concat([head, tail]);
  t.match((await run(CSVLOAD, [...wh.args, ...SEGMENTS], { input: bytes })).stderr, /0 loaded, 1 skipped, 0 failed/);
  const forced = await run(CSVLOAD, [...wh.args, ...SEGMENTS, '--force'], { input: bytes });
  t.equal(forced.code, 0, forced.stderr);
  t.equal(await count(wh.names.Edx, 'EdxTrackEvent'), 3000);
});

t.test('a quarter without a partition mid-stream: rolled back, partition added, loaded again, once', async (t) => {
  const wh = await throwawayWarehouse('csvq');
  t.teardown(wh.drop);
  t.equal((await run(CSVLOAD, ['--init', ...wh.args])).code, 0);
  const source = makeSource('/logs/clock/tracking.log-20140310.gz');
  // 1,500 events of March 2014, then 1,500 from a client whose clock says July 2033 (no partition).
  const march = makeRows(source, { count: 1500, start: new Date('2014-03-10T00:00:00Z'), stepMs: 20e3 });
  const broken = makeRows(source, { from: 1500, count: 1500, start: new Date(Date.parse('2033-07-01T00:00:00Z') - 1500 * 1000) });
  const rows = [...march.filter((r) => r.table !== TABLES.LoadInfo), ...broken];
  const r = await run(CSVLOAD, [...wh.args, ...SEGMENTS], { input: await streamOf([{ source, rows }]) });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /quarter summer2033 arrived mid-load: rolled back, added partitions pAY2032_Summer, reloaded [\d,]+ rows/);
  t.match(r.stderr, /1 loaded, 0 skipped, 0 failed/);
  t.equal(await count(wh.names.Edx, 'EdxTrackEvent'), 3000, 'every row arrived');
  t.equal(await count(wh.names.Edx, 'EdxTrackEvent', "quarter = 'summer2033'"), 1500);
  t.equal(await count(wh.names.EdxPrivate, 'EventIp'), 3000, 'no duplicates from the reload');
  t.equal(await count(wh.names.Edx, 'LoadInfo', `load_info_id = '${source.loadInfoId}'`), 1, 'recorded once');
});

t.test('a stream cut during the fast path loads nothing of the unfinished source', async (t) => {
  const wh = await throwawayWarehouse('csvx');
  t.teardown(wh.drop);
  t.equal((await run(CSVLOAD, ['--init', ...wh.args])).code, 0);
  const [head] = firstPart(await streamOf([{ source: small, rows: smallRows }, { source: big, rows: bigRows }]), 0.5);
  const p = await start(CSVLOAD, [...wh.args, ...SEGMENTS]);
  const done = exited(p);
  p.stdin.write(head);
  t.ok((await uncommittedRows(wh.names.Edx, big.loadInfoId)) > 0, 'the cut source was loading');
  p.stdin.end(); // the writer died here
  const r = await done;
  t.equal(r.code, 1);
  t.match(r.stderr, /ended inside source \/logs\/stream\/tracking.log-20140310/);
  t.match(r.stderr, /1 loaded, 0 skipped, 1 failed/);
  t.equal(await count(wh.names.Edx, 'EdxTrackEvent', `load_info_fk = '${big.loadInfoId}'`), 0, 'nothing of the cut source');
  t.equal(await count(wh.names.EdxPrivate, 'EventIp'), 30, 'only the finished source');
  t.same(await count(wh.names.Edx, 'LoadInfo'), 1);
});

t.test('kill -9 during a streaming load, rerun: the rows of one clean load', async (t) => {
  const killed = await throwawayWarehouse('csvsk');
  const clean = await throwawayWarehouse('csvsc');
  t.teardown(killed.drop);
  t.teardown(clean.drop);
  for (const w of [killed, clean]) t.equal((await run(CSVLOAD, ['--init', ...w.args])).code, 0);
  const bytes = await streamOf([{ source: big, rows: bigRows }]);
  const [head] = firstPart(bytes, 0.6);
  // A killed loader cannot remove its spool (edx-csvload-*): it goes into a folder of this test's.
  const p = await start(CSVLOAD, [...killed.args, ...SEGMENTS], { TMPDIR: tempDir('spool', t) });
  const done = exited(p);
  p.stdin.on('error', () => undefined);
  p.stdin.write(head);
  t.ok((await uncommittedRows(killed.names.Edx, big.loadInfoId)) > 0, 'caught the loader inside the streaming transaction');
  p.kill('SIGKILL');
  t.equal((await done).signal, 'SIGKILL');
  t.equal(await count(killed.names.Edx, 'LoadInfo'), 0, 'the killed load is not recorded');

  const rerun = await run(CSVLOAD, [...killed.args, ...SEGMENTS], { input: bytes });
  t.equal(rerun.code, 0, rerun.stderr);
  t.match(rerun.stderr, /1 loaded, 0 skipped, 0 failed/);
  t.equal((await run(CSVLOAD, [...clean.args, ...SEGMENTS], { input: bytes })).code, 0);
  for (const table of ALL_TABLES.filter((x) => x !== TABLES.LoadInfo)) {
    const db = (w: typeof killed) => w.names[table.database];
    t.same(await tableDigest(db(killed), table), await tableDigest(db(clean), table), `${table.name}: same rows as a clean load`);
  }
  t.equal(await count(killed.names.Edx, 'EdxTrackEvent'), 3000);
});

t.test('a stream of an older writer (no quarter announcements) still loads, at its end line', async (t) => {
  const wh = await throwawayWarehouse('csvo');
  t.teardown(wh.drop);
  t.equal((await run(CSVLOAD, ['--init', ...wh.args])).code, 0);
  const future = makeSource('/logs/old/tracking.log-20290101.gz');
  const rows = makeRows(future, { count: 200, start: new Date('2029-01-01T00:00:00Z'), stepMs: 60e3 });
  // As version 1 wrote it: no quarter lines, no checksum, no #done line.
  const old = (await streamOf([{ source: future, rows }])).toString()
    .split('\n').filter((l) => !l.startsWith('#quarter ') && !l.startsWith('#done ')).join('\n')
    .replace(/^#edx-pipes-rows\/\d+/, '#edx-pipes-rows/1')
    .replace(',"announcesQuarters":true', '')
    .replace(/,"crc32":\d+/, '');
  t.notMatch(old, /#quarter|announcesQuarters|crc32|#done/);
  const r = await run(CSVLOAD, [...wh.args, ...SEGMENTS], { input: old });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /added partitions pAY2028_Winter/);
  t.notMatch(r.stderr, /while the source streamed/);
  t.equal(await count(wh.names.Edx, 'EdxTrackEvent'), 200);
});
