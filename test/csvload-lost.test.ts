// A loader whose connection is killed mid-run (KILL CONNECTION from another session, as a DBA or a
// server restart does) says the cause once, stops, says which sources are loaded and which are not,
// and exits 1; no later source fails with "Can't add new command when connection is in closed
// state"; a rerun loads the rest. The loader's connection is the one holding the source's lock.
import t, { type Test } from 'tap';
import { readdirSync } from 'node:fs';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { CsvCollectionWriter } from '../src/csv/collection.js';
import type { Source } from '../src/schema/rows.js';
import { testConnection, testServer } from './helpers/mariadb.js';
import { waitFor } from './helpers/wait.js';
import { tempDir } from './helpers/tmp.js';
import {
  CSVLOAD, count, exited, loadInfoIds, loadingConnection, makeRows, makeSource, run, start, streamOf, throwawayWarehouse, writeSources,
} from './csvload-helpers.js';

const server = await testServer();
const LOST = `lost connection to the server at ${server.host}:${server.port}: `;

const sourcesOf = (tag: string, n: number, events: number) =>
  Array.from({ length: n }, (_, i) => {
    const source = makeSource(`/logs/${tag}/tracking.log-2014020${i + 1}.gz`);
    return { source, rows: makeRows(source, { count: events, start: new Date(`2014-02-0${i + 1}T00:00:00Z`) }) };
  });

/**
 * Kill the connection loading one of `candidates` once it holds rows of that source, after the
 * sources before it are committed; the source it was loading.
 */
async function killWhileLoading(p: ChildProcessWithoutNullStreams, wh: Awaited<ReturnType<typeof throwawayWarehouse>>, candidates: Source[]) {
  const c = await testConnection();
  try {
    const hit = await waitFor(async () => {
      for (const s of candidates) {
        const id = await loadingConnection(c, wh.names, s);
        if (id !== undefined) return { id, source: s };
      }
      return undefined;
    }, { child: p });
    if (!hit) return undefined;
    // The loader's connection, as the process list shows it: our user, running or between statements.
    const [pl] = await c.query('SELECT USER AS user, COMMAND AS command FROM information_schema.PROCESSLIST WHERE ID = ?', [hit.id]);
    const row = (pl as { user: string; command: string }[])[0];
    if (!row || row.user !== server.user || !['Query', 'Sleep'].includes(row.command)) return undefined;
    await c.query(`KILL CONNECTION ${Number(hit.id)}`);
    return hit.source;
  } finally {
    await c.end();
  }
}

/** The database agrees with what the loader said: each source whole and in LoadInfo, or absent. */
async function consistent(t: Test, wh: Awaited<ReturnType<typeof throwawayWarehouse>>, sources: { source: Source; rows: unknown[] }[], events: number) {
  const ids = await loadInfoIds(wh.names.Edx);
  const loaded: Source[] = [];
  for (const { source } of sources) {
    const rows = await count(wh.names.Edx, 'EdxTrackEvent', `load_info_fk = '${source.loadInfoId}'`);
    if (ids.includes(source.loadInfoId)) {
      loaded.push(source);
      t.equal(rows, events, `${source.name}: in LoadInfo, with all of its rows`);
    } else t.equal(rows, 0, `${source.name}: not in LoadInfo, none of its rows`);
  }
  return loaded;
}

/** What every lost-connection run says: the cause once, no closed-state noise, who is loaded and who not. */
function saysLost(t: Test, stderr: string, loaded: Source[], killed: Source) {
  t.equal(stderr.split(LOST).length - 1, 1, 'the cause, once');
  t.match(stderr, new RegExp(`${LOST}\\S`), 'with the server\'s address and the cause');
  t.notMatch(stderr, /closed state/, 'no "Can\'t add new command when connection is in closed state"');
  t.notMatch(stderr, /at .*\.js:\d+/, 'no stack');
  for (const s of loaded) t.match(stderr, new RegExp(`committed, in LoadInfo: .*${s.name}`));
  t.match(stderr, new RegExp(`rolled back, not in LoadInfo: .*${killed.name}`), 'the killed source is named as not loaded');
  t.match(stderr, /a rerun loads what is not in LoadInfo/);
}

/** A new warehouse and a collection of `n` sources in a directory of the test. */
async function collection(t: Test, tag: string, n: number, events: number) {
  const wh = await throwawayWarehouse(`csvlost${tag}`);
  t.teardown(wh.drop);
  t.equal((await run(CSVLOAD, ['--init', ...wh.args])).code, 0);
  const dir = tempDir(`lost${tag}`, t);
  const sources = sourcesOf(tag, n, events);
  await writeSources(new CsvCollectionWriter({ dir, names: wh.names }), sources);
  return { wh, dir, sources };
}

t.test('collections: killed mid-run, it stops with the cause; a rerun loads the rest', async (t) => {
  const { wh, dir, sources } = await collection(t, 'coll', 4, 6000);

  const p = await start(CSVLOAD, [...wh.args, dir]);
  p.stdin.end();
  const done = exited(p);
  const killed = await killWhileLoading(p, wh, sources.slice(1).map((s) => s.source));
  t.ok(killed, 'killed the loader\'s connection while it loaded a source after the first');
  const r = await done;
  t.equal(r.code, 1, 'exit 1');
  const loaded = await consistent(t, wh, sources, 6000);
  const at = sources.findIndex((s) => s.source === killed);
  t.same(loaded, sources.slice(0, at).map((s) => s.source), 'the sources before the killed one are loaded, none after');
  saysLost(t, r.stderr, loaded, killed!);
  const rest = sources.slice(at + 1).map((s) => s.source.name);
  if (rest.length) t.match(r.stderr, `not started: ${rest.join(', ')}`, 'the sources after it are named as not started');

  const rerun = await run(CSVLOAD, [...wh.args, dir]);
  t.equal(rerun.code, 0, rerun.stderr);
  t.match(rerun.stderr, `${4 - at} loaded, ${at} skipped, 0 failed`);
  t.equal((await consistent(t, wh, sources, 6000)).length, 4, 'all four loaded once');
});

t.test('row stream: killed while a source streams, it stops reading; a rerun loads the rest', async (t) => {
  const wh = await throwawayWarehouse('csvlostr');
  t.teardown(wh.drop);
  t.equal((await run(CSVLOAD, ['--init', ...wh.args])).code, 0);
  const sources = sourcesOf('stream', 3, 3000);
  const bytes = await streamOf(sources);
  // Held back from the second source's end line on: the loader stays inside that source.
  const second = sources[1].source;
  const cut = bytes.indexOf('\n#end ', bytes.indexOf(second.loadInfoId)) + 1;
  const tmp = tempDir('lostspool', t);
  const p = await start(CSVLOAD, [...wh.args, '--segment-size', '64k'], { TMPDIR: tmp });
  p.stdin.on('error', () => undefined);
  const done = exited(p);
  p.stdin.write(bytes.subarray(0, cut));
  const killed = await killWhileLoading(p, wh, [second]);
  t.equal(killed, second, 'killed while the second source loaded');
  const r = await done;
  t.equal(r.code, 1, 'exit 1');
  t.same(await consistent(t, wh, sources, 3000), [sources[0].source]);
  saysLost(t, r.stderr, [sources[0].source], second);
  t.match(r.stderr, 'not started: the rest of the row stream');
  t.same(readdirSync(tmp), [], 'no spool left');

  const rerun = await run(CSVLOAD, [...wh.args], { input: bytes });
  t.equal(rerun.code, 0, rerun.stderr);
  t.match(rerun.stderr, '2 loaded, 1 skipped, 0 failed');
  t.equal((await consistent(t, wh, sources, 3000)).length, 3);
});

t.test('--jobs 2: one connection killed, no new source starts; a rerun loads the rest', async (t) => {
  const { wh, dir, sources } = await collection(t, 'jobs', 6, 4000);
  const p = await start(CSVLOAD, [...wh.args, '--jobs', '2', dir]);
  p.stdin.end();
  const done = exited(p);
  const killed = await killWhileLoading(p, wh, sources.slice(2).map((s) => s.source));
  t.ok(killed, 'killed a loading connection');
  const r = await done;
  t.equal(r.code, 1, 'exit 1');
  const loaded = await consistent(t, wh, sources, 4000);
  t.ok(loaded.length < 6 && !loaded.includes(killed!), 'the killed source is not loaded');
  saysLost(t, r.stderr, loaded, killed!);

  const rerun = await run(CSVLOAD, [...wh.args, '--jobs', '2', dir]);
  t.equal(rerun.code, 0, rerun.stderr);
  t.match(rerun.stderr, `${6 - loaded.length} loaded, ${loaded.length} skipped, 0 failed`);
  t.equal((await consistent(t, wh, sources, 4000)).length, 6);
});
