// A loader whose connection is killed mid-run (KILL CONNECTION from another session, as a DBA or a
// server restart does) says the cause once, stops, says which sources are loaded and which are not,
// and exits 1; no later source fails with "Can't add new command when connection is in closed
// state"; a rerun loads the rest. The loader's connection is the one holding the source's lock.
import t, { type Test } from 'tap';
import { readdirSync } from 'node:fs';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { CsvCollectionWriter } from '../src/csv/collection.js';
import { sourceLockName } from '../src/mysql/load.js';
import type { Source } from '../src/schema/rows.js';
import { testConnection, testServer } from './helpers/mariadb.js';
import { waitFor } from './helpers/wait.js';
import { tempDir } from './helpers/tmp.js';
import {
  CSVLOAD, HANG_GUARD_MS, count, exited, loadInfoIds, loadingConnection, makeRows, makeSource, run, start, streamOf, throwawayWarehouse, writeSources,
} from './csvload-helpers.js';

const server = await testServer();
const LOST = `lost connection to the server at ${server.host}:${server.port}: `;

const sourcesOf = (tag: string, n: number, events: number) =>
  Array.from({ length: n }, (_, i) => {
    const source = makeSource(`/logs/${tag}/tracking.log-2014020${i + 1}.gz`);
    return { source, rows: makeRows(source, { count: events, start: new Date(`2014-02-0${i + 1}T00:00:00Z`) }) };
  });

// Gates, not speed: every kill below waits for a state the loader cannot leave until the test lets
// it (input held back, a lock the test holds), so the test is the same on a fast or a slow machine.

const GUARD_MS = HANG_GUARD_MS; // a hang fails, it never hangs the test

/**
 * Kill the connection that holds `source`'s named lock once its open transaction holds rows of it
 * (the gate keeps it from committing); its id. `idle`: only while it waits between statements.
 * Returns once the server has ended that connection.
 */
async function killWhileLoading(p: ChildProcessWithoutNullStreams, wh: Awaited<ReturnType<typeof throwawayWarehouse>>, source: Source, idle = false) {
  const c = await testConnection();
  try {
    const command = async (id: number) => {
      const [pl] = await c.query('SELECT USER AS user, COMMAND AS command FROM information_schema.PROCESSLIST WHERE ID = ?', [id]);
      return (pl as { user: string; command: string }[])[0];
    };
    const id = await waitFor(async () => {
      const id = await loadingConnection(c, wh.names, source);
      if (id === undefined) return undefined;
      // The loader's connection, as the process list shows it: our user, running or between statements.
      const row = await command(id);
      return row?.user === server.user && (idle ? row.command === 'Sleep' : ['Query', 'Sleep'].includes(row.command)) ? id : undefined;
    }, { child: p, timeoutMs: GUARD_MS });
    if (id === undefined) return undefined;
    await c.query(`KILL CONNECTION ${Number(id)}`);
    await waitFor(async () => (await command(id)) === undefined, { timeoutMs: GUARD_MS });
    return id;
  } finally {
    await c.end();
  }
}

/** A second session that holds LoadInfo READ-locked: a loader loads a source's rows, then waits before recording it. */
async function loadInfoGate(t: Test, wh: Awaited<ReturnType<typeof throwawayWarehouse>>) {
  const c = await testConnection();
  t.teardown(() => c.end());
  return {
    close: () => c.query(`LOCK TABLES \`${wh.names.Edx}\`.LoadInfo READ`),
    open: () => c.query('UNLOCK TABLES'),
  };
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

/** After the kill: the gate opened, the loader's end, which it reaches by itself with exit 1. */
async function endOfKilledRun(t: Test, gate: { open(): Promise<unknown> }, done: ReturnType<typeof exited>) {
  await gate.open();
  const r = await done;
  t.notOk(r.timedOut, 'it exits by itself');
  t.equal(r.code, 1, 'exit 1');
  return r;
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
  const [first, second] = sources.map((s) => s.source);
  // The second source's named lock, held by the test: the loader commits the first and waits.
  const holder = await testConnection();
  t.teardown(() => holder.end());
  const [got] = await holder.query('SELECT GET_LOCK(?, 0) AS ok', [sourceLockName(wh.names, second.loadInfoId)]);
  t.equal(Number((got as { ok: number }[])[0].ok), 1, 'the test holds the second source\'s lock');
  const gate = await loadInfoGate(t, wh);

  const p = await start(CSVLOAD, [...wh.args, dir]);
  p.stdin.end();
  const done = exited(p, GUARD_MS);
  const firstIn = await waitFor(async () => {
    const [r] = await holder.query(`SELECT 1 FROM \`${wh.names.Edx}\`.LoadInfo WHERE load_info_id = ?`, [first.loadInfoId]);
    return (r as unknown[]).length > 0;
  }, { child: p, timeoutMs: GUARD_MS });
  t.ok(firstIn, 'the first source committed');
  // Then the second may load its rows but not record them; the test lets go of its lock.
  await gate.close();
  await holder.query('DO RELEASE_LOCK(?)', [sourceLockName(wh.names, second.loadInfoId)]);
  t.ok(await killWhileLoading(p, wh, second), 'killed the loader\'s connection while it loaded the second source');
  const r = await endOfKilledRun(t, gate, done);
  t.same(await consistent(t, wh, sources, 6000), [first], 'the first source is loaded, none after');
  saysLost(t, r.stderr, [first], second);
  t.match(r.stderr, `not started: ${sources.slice(2).map((s) => s.source.name).join(', ')}`, 'the sources after it are named as not started');

  const rerun = await run(CSVLOAD, [...wh.args, dir]);
  t.equal(rerun.code, 0, rerun.stderr);
  t.match(rerun.stderr, '3 loaded, 1 skipped, 0 failed');
  t.equal((await consistent(t, wh, sources, 6000)).length, 4, 'all four loaded once');
});

t.test('row stream: killed while a source streams, it stops reading and exits with its stdin open; a rerun loads the rest', async (t) => {
  const wh = await throwawayWarehouse('csvlostr');
  t.teardown(wh.drop);
  t.equal((await run(CSVLOAD, ['--init', ...wh.args])).code, 0);
  const sources = sourcesOf('stream', 3, 3000);
  const bytes = await streamOf(sources);
  // Held back from the second source's end line on, stdin left open: the loader has loaded what it
  // was given of that source and waits for the rest, which never comes.
  const second = sources[1].source;
  const cut = bytes.indexOf('\n#end ', bytes.indexOf(second.loadInfoId)) + 1;
  const tmp = tempDir('lostspool', t);
  const p = await start(CSVLOAD, [...wh.args, '--segment-size', '64k'], { TMPDIR: tmp });
  p.stdin.on('error', () => undefined);
  const done = exited(p, GUARD_MS);
  p.stdin.write(bytes.subarray(0, cut));
  t.ok(await killWhileLoading(p, wh, second, true), 'killed the connection while the second source waited for more rows');
  const r = await done;
  t.notOk(r.timedOut, 'it exits by itself, without the end of its input');
  t.equal(p.stdin.writableEnded, false, 'its stdin was still open');
  t.equal(r.code, 1, 'exit 1');
  t.same(await consistent(t, wh, sources, 3000), [sources[0].source]);
  saysLost(t, r.stderr, [sources[0].source], second);
  t.match(r.stderr, 'not started: the rest of the row stream');
  t.same(readdirSync(tmp), [], 'no spool left');
  p.stdin.destroy();

  const rerun = await run(CSVLOAD, [...wh.args], { input: bytes });
  t.equal(rerun.code, 0, rerun.stderr);
  t.match(rerun.stderr, '2 loaded, 1 skipped, 0 failed');
  t.equal((await consistent(t, wh, sources, 3000)).length, 3);
});

t.test("--jobs 2: one connection killed, no new source starts, the other connection's source commits; a rerun loads the rest", async (t) => {
  const { wh, dir, sources } = await collection(t, 'jobs', 6, 4000);
  // Both connections load their first source's rows, then wait to record it. Which sources the
  // two take first is the loader's choice: the test finds them, and kills one.
  const gate = await loadInfoGate(t, wh);
  await gate.close();
  const p = await start(CSVLOAD, [...wh.args, '--jobs', '2', dir]);
  p.stdin.end();
  const done = exited(p, GUARD_MS);
  const probe = await testConnection();
  const pair = await waitFor(async () => {
    const loading: Source[] = [];
    for (const { source } of sources) if ((await loadingConnection(probe, wh.names, source)) !== undefined) loading.push(source);
    return loading.length === 2 ? loading : undefined;
  }, { child: p, timeoutMs: GUARD_MS });
  await probe.end();
  t.ok(pair, 'both connections hold rows of a source');
  const [killedSource, other] = pair ?? [sources[0].source, sources[1].source];
  t.ok(await killWhileLoading(p, wh, killedSource), 'killed the connection loading one of them');
  const r = await endOfKilledRun(t, gate, done);
  t.same(await consistent(t, wh, sources, 4000), [other], "the other connection's source committed; nothing else");
  saysLost(t, r.stderr, [other], killedSource);
  const notStarted = /not started: (.*)/.exec(r.stderr)?.[1] ?? '';
  t.same(notStarted.split(', ').sort(), sources.map((s) => s.source.name).filter((n) => n !== killedSource.name && n !== other.name).sort(), 'no new source started');

  const rerun = await run(CSVLOAD, [...wh.args, '--jobs', '2', dir]);
  t.equal(rerun.code, 0, rerun.stderr);
  t.match(rerun.stderr, '5 loaded, 1 skipped, 0 failed');
  t.equal((await consistent(t, wh, sources, 4000)).length, 6);
});
