// An interrupted stream load (edx-json2sql --rows LOG | edx-csvload) leaves no personal data
// behind: SIGTERM, SIGINT and SIGHUP remove the spool, say what was committed and exit 128+n;
// what a SIGKILL left is removed by the next load, and nothing a live load or another user owns;
// spools are the user's alone whatever the umask. The loader is caught mid-load by what the server
// shows (the source's lock held, its transaction holding rows), never by a sleep.
import t from 'tap';
import { chownSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { thisProcess } from '../src/io/owner.js';
import { OWNER_FILE } from '../src/csv/spool.js';
import { testConnection } from './helpers/mariadb.js';
import { waitFor } from './helpers/wait.js';
import { tempDir } from './helpers/tmp.js';
import {
  CSVLOAD, count, exited, loadInfoIds, loadingConnection, makeRows, makeSource, run, start, streamOf, throwawayWarehouse,
} from './csvload-helpers.js';

const wh = await throwawayWarehouse('csvsig');
t.teardown(wh.drop);
t.equal((await run(CSVLOAD, ['--init', ...wh.args])).code, 0);

const spools = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('edx-csvload-')).sort();
const mode = (path: string) => statSync(path).mode & 0o777;

/** Two sources as a row stream, cut before the second's end line: the loader keeps loading it while it waits. */
async function twoSources(tag: string, events = 3000) {
  const first = makeSource(`/logs/${tag}/tracking.log-20140101.gz`);
  const second = makeSource(`/logs/${tag}/tracking.log-20140102.gz`);
  const bytes = await streamOf([
    { source: first, rows: makeRows(first, { count: 300, start: new Date('2014-01-01T00:00:00Z') }) },
    { source: second, rows: makeRows(second, { count: events, start: new Date('2014-01-02T00:00:00Z') }) },
  ]);
  const cut = bytes.lastIndexOf('\n#end ') + 1;
  return { first, second, head: bytes.subarray(0, cut), tail: bytes.subarray(cut) };
}

/** A loader of the row stream with TMPDIR `tmp`, under umask 0 (the spool must be private anyway). */
async function loader(tmp: string, extra: string[] = []): Promise<ChildProcessWithoutNullStreams> {
  const p = await start('bash', ['-c', 'umask 0; exec "$0" "$@"', CSVLOAD, ...wh.args, '--segment-size', '64k', ...extra], { TMPDIR: tmp });
  p.stdin.on('error', () => undefined); // it may be gone before all is written
  return p;
}

/** Waits until `source` is mid-load with its spool on disk: the connection's id, or undefined if the loader ended first. */
async function midLoad(p: ChildProcessWithoutNullStreams, tmp: string, source: ReturnType<typeof makeSource>, committedBefore: string[]) {
  const c = await testConnection();
  try {
    return await waitFor(async () => {
      if (!spools(tmp).length) return undefined;
      const ids = await loadInfoIds(wh.names.Edx);
      if (!committedBefore.every((id) => ids.includes(id))) return undefined;
      return loadingConnection(c, wh.names, source);
    }, { child: p });
  } finally {
    await c.end();
  }
}

for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130], ['SIGHUP', 129]] as const) {
  t.test(`${signal} mid-load: spool removed, committed sources said, exit ${code}, the open source rolled back`, async (t) => {
    const tmp = tempDir(`sig-${signal}`, t);
    const { first, second, head } = await twoSources(signal);
    const p = await loader(tmp);
    const done = exited(p);
    p.stdin.write(head);
    t.ok(await midLoad(p, tmp, second, [first.loadInfoId]), 'caught with the first source committed and the second loading');

    // The spool is the user's alone (created under umask 0).
    const [dir] = spools(tmp);
    t.equal(mode(join(tmp, dir)), 0o700, 'spool directory 0700');
    const files = readdirSync(join(tmp, dir));
    t.ok(files.some((f) => f.endsWith('.csv')), 'segments on disk');
    for (const f of files) t.equal(mode(join(tmp, dir, f)), 0o600, `${f} 0600`);

    p.kill(signal);
    const r = await done;
    t.equal(r.code, code, `exit ${code}`);
    t.same(spools(tmp), [], 'no spool left');
    t.match(r.stderr, new RegExp(`stopped by ${signal} \\(exit ${code}\\); the spooled rows are removed`));
    t.match(r.stderr, `committed, in LoadInfo: ${first.name}`);
    t.match(r.stderr, `rolled back, not in LoadInfo: ${second.name}`);
    t.match(r.stderr, new RegExp(`${second.name}\\s+failed .*stopped by ${signal}: rolled back, not recorded`), 'the summary says it too');
    t.notMatch(r.stderr, /Error|at .*\.js:\d+/, 'no stack');
    // The database: the first source whole and recorded, the second absent.
    const ids = await loadInfoIds(wh.names.Edx);
    t.ok(ids.includes(first.loadInfoId) && !ids.includes(second.loadInfoId), 'LoadInfo: the first source only');
    t.equal(await count(wh.names.Edx, 'EdxTrackEvent', `load_info_fk = '${first.loadInfoId}'`), 300);
    t.equal(await count(wh.names.Edx, 'EdxTrackEvent', `load_info_fk = '${second.loadInfoId}'`), 0);
  });
}

t.test('SIGKILL leaves a spool; the next load removes it, and nothing a live load, another machine or user owns', async (t) => {
  const tmp = tempDir('sigkill', t);
  const killed = await twoSources('killed');
  const a = await loader(tmp);
  const aDone = exited(a);
  a.stdin.write(killed.head);
  t.ok(await midLoad(a, tmp, killed.second, [killed.first.loadInfoId]), 'caught mid-load');
  a.kill('SIGKILL');
  t.equal((await aDone).signal, 'SIGKILL');
  const [left] = spools(tmp);
  t.ok(left && readdirSync(join(tmp, left)).includes(OWNER_FILE), 'SIGKILL left its spool, with its owner file');
  const deadOwner = readFileSync(join(tmp, left, OWNER_FILE), 'utf8');

  // Directories the next load must judge, beside the killed one's.
  const plant = (name: string, owner?: string) => {
    mkdirSync(join(tmp, name));
    writeFileSync(join(tmp, name, 'EventIp.1.csv'), 'personal\n');
    if (owner !== undefined) writeFileSync(join(tmp, name, OWNER_FILE), owner);
    return name;
  };
  const me = thisProcess('edx-csvload');
  const live = plant('edx-csvload-live01', JSON.stringify(me)); // this test process: running
  const reused = plant('edx-csvload-reuse1', JSON.stringify({ ...me, start: '1' })); // our pid, another start: gone
  const unowned = plant('edx-csvload-nownr1');
  const remote = plant('edx-csvload-remot1', JSON.stringify({ ...JSON.parse(deadOwner), host: 'another-machine' }));
  const oddName = plant('edx-csvload-toolong1', deadOwner);
  const target = plant('not-a-spool', deadOwner);
  const link = 'edx-csvload-link01';
  symlinkSync(join(tmp, target), join(tmp, link));
  let otherUser: string | undefined;
  if (process.getuid?.() === 0) {
    otherUser = plant('edx-csvload-other1', deadOwner);
    for (const p of [otherUser, join(otherUser, OWNER_FILE), join(otherUser, 'EventIp.1.csv')]) chownSync(join(tmp, p), 65534, 65534);
  }
  const planted = [live, reused, unowned, remote, oddName, link, ...(otherUser ? [otherUser] : [])];

  // A second loader (the rerun) starts and stays live, holding its own spool.
  const again = await twoSources('again');
  const b = await loader(tmp);
  const bDone = exited(b);
  b.stdin.write(again.head);
  t.ok(await midLoad(b, tmp, again.second, [again.first.loadInfoId]), 'the rerun is loading its second source');
  const ownSpool = spools(tmp).find((n) => n !== left && !planted.includes(n));
  t.ok(ownSpool, 'with its own spool');
  const after = spools(tmp);
  t.notOk(after.includes(left), 'the killed load\'s spool is removed');
  t.notOk(after.includes(reused), 'a spool whose pid now belongs to another process is removed');
  for (const kept of [live, unowned, remote, oddName, link]) t.ok(after.includes(kept), `${kept} kept`);
  if (otherUser) t.ok(after.includes(otherUser), 'another user\'s spool kept');
  else t.comment('not root: the other-user case needs chown');
  t.ok(lstatSync(join(tmp, link)).isSymbolicLink() && readdirSync(join(tmp, target)).includes(OWNER_FILE), 'a link is not followed');

  // A third load, complete, while the second still runs: the live loader's spool stays.
  const third = makeSource('/logs/third/tracking.log-20140103.gz');
  const c = await run(CSVLOAD, [...wh.args], { input: await streamOf([{ source: third, rows: makeRows(third, { count: 50 }) }]), env: { TMPDIR: tmp } });
  t.equal(c.code, 0, c.stderr);
  t.notMatch(c.stderr, /removed \d+ spool/, 'nothing of a killed load left for it');
  t.ok(spools(tmp).includes(ownSpool!), 'the live loader\'s spool survives another load');

  b.stdin.end(again.tail);
  const br = await bDone;
  t.equal(br.code, 0, br.stderr);
  t.match(br.stderr, /removed 2 spool directories \([\d,]+ KiB\) that killed loads left in /);
  t.match(br.stderr, /left alone in .*edx-csvload-nownr1 \(no owner file/);
  t.notOk(spools(tmp).includes(ownSpool!), 'a finished load removes its spool');
  const ids = await loadInfoIds(wh.names.Edx);
  t.notOk(ids.includes(killed.second.loadInfoId), 'the killed source is not recorded');
  for (const s of [killed.first, again.first, again.second, third]) t.ok(ids.includes(s.loadInfoId), `${s.name} recorded`);
  t.equal(await count(wh.names.Edx, 'EdxTrackEvent', `load_info_fk = '${killed.second.loadInfoId}'`), 0, 'and none of its rows');
});
