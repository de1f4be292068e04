// The nightly job (mk/pipeline.mk) end to end: `make all` against a real S3-protocol server
// (s3rver) holding logs made here, and the real MariaDB with throwaway databases.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { startS3, type S3Test } from './helpers/s3server.js';
import { testServer, testConnection, uniqueName } from './helpers/mariadb.js';
import { REPO, parseSummary, runTool } from './helpers/tools.js';
import { logFor } from './helpers/pipeline-logs.js';
import { databaseExists } from './helpers/warehouse.js';
import { tempDir } from './helpers/tmp.js';

const BUCKET = 'edx-nightly';

const LOGS: [string, Buffer][] = [
  ['tracking/app1/tracking.log-20140301.gz', logFor('20140301', 1)],
  ['tracking/app1/tracking.log-20140302.gz', logFor('20140302', 2)],
  ['tracking/app2/tracking.log-20140302.gz', logFor('20140302', 3, 9)],
];
const LATE: [string, Buffer] = ['tracking/app2/tracking.log-20140303.gz', logFor('20140303', 4, 7)];

let s3: S3Test;
const tmp = tempDir('pipeline');
const databases: string[] = [];
const holders: ChildProcess[] = [];

interface Setup { dir: string; config: string; edx: string; priv: string; logRoot: string; out: string; logs: string }

/** A throwaway setup: LOG_ROOT, OUT and LOGS under tmp, databases of their own, a config file. */
function setup(name: string): Setup {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const edx = uniqueName('pipe_edx');
  const priv = uniqueName('pipe_priv');
  databases.push(edx, priv);
  const s: Setup = { dir, config: join(dir, 'config.mk'), edx, priv, logRoot: join(dir, 'tracking'), out: join(dir, 'CSV'), logs: join(dir, 'NonTransformLogs') };
  writeFileSync(s.config, [
    `BUCKET = ${BUCKET}`,
    'PREFIX = tracking/',
    `S3_ENDPOINT = ${s3.endpoint}`,
    'S3_REGION = us-east-1',
    `LOG_ROOT = ${s.logRoot}`,
    `OUT = ${s.out}`,
    `LOGS = ${s.logs}`,
    `EDX_DB = ${edx}`,
    `PRIVATE_DB = ${priv}`,
    '',
  ].join('\n'));
  return s;
}

async function env(): Promise<NodeJS.ProcessEnv> {
  const db = await testServer();
  const e: NodeJS.ProcessEnv = { ...s3.env, EDX_PIPES_NO_DEFAULTS: '1' };
  for (const k of ['MYSQL_HOST', 'MYSQL_TCP_PORT', 'MYSQL_USER', 'MYSQL_PWD', 'MYSQL_UNIX_PORT']) {
    if (db.env[k] === undefined) delete e[k];
    else e[k] = db.env[k];
  }
  // No test-runner hooks (they break bin/), no make of an outer `make test`, no settings of the developer.
  for (const k of ['NODE_OPTIONS', 'MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'DRY_RUN', 'JOBS', 'CONFIG', 'BUCKET', 'PREFIX', 'MATCH', 'LOG_ROOT', 'OUT', 'LOGS', 'LOCK', 'MY_CNF', 'EDX_DB', 'PRIVATE_DB', 'MODULESTORE', 'GEOIP', 'S3_ENDPOINT', 'S3_REGION', 'S3_PROFILE']) delete e[k];
  e.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  return e;
}

interface Run { code: number | null; out: string }

async function make(s: Setup, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  const e = { ...(await env()), ...extraEnv };
  const r = await runTool('make', ['--no-print-directory', '-C', REPO, `CONFIG=${s.config}`, ...args], { env: e, timeoutMs: 600_000 });
  return { code: r.code, out: r.output };
}

/** Every file and directory under dir (relative), or [] when it does not exist. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).map(String).sort();
}

async function counts(s: Setup): Promise<Record<string, number>> {
  const c = await testConnection();
  try {
    const out: Record<string, number> = {};
    for (const [db, tables] of [[s.edx, ['EdxTrackEvent', 'Answer', 'CorrectMap', 'State', 'InputState', 'LoadInfo']], [s.priv, ['Account', 'EventIp']]] as const) {
      for (const table of tables) {
        const [rows] = await c.query(`SELECT COUNT(*) AS n FROM \`${db}\`.\`${table}\``);
        out[table] = Number((rows as { n: number }[])[0].n);
      }
    }
    return out;
  } finally {
    await c.end();
  }
}

async function checksum(s: Setup): Promise<string> {
  const c = await testConnection();
  try {
    const [rows] = await c.query(`SELECT COUNT(*) AS n, SUM(CRC32(CONCAT_WS('|', _id, event_type, anon_screen_name, time, event_id))) AS crc FROM \`${s.edx}\`.EdxTrackEvent`);
    const r = (rows as { n: number; crc: string }[])[0];
    return `${r.n}:${r.crc}`;
  } finally {
    await c.end();
  }
}

/** EdxTrackEvent rows one log gives, from the transform's own summary. */
function expectedEvents(logs: [string, Buffer][]): Promise<number> {
  return Promise.all(logs.map(async ([key, body]) => {
    const file = join(tmp, key.replace(/\//g, '_'));
    writeFileSync(file, body);
    return parseSummary((await runTool('edx-json2sql', [file])).stderr).rows.EdxTrackEvent;
  })).then((n) => n.reduce((a, b) => a + b, 0));
}

const transformed = (out: string) => out.split('\n').filter((l) => /bin\/edx-json2sql .*--csv/.test(l));
const mtimes = (dir: string) => tree(dir).map((f) => `${f}@${statSync(join(dir, f)).mtimeMs}`);

t.before(async () => {
  await testServer();
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  for (const [k, b] of LOGS) await s3.put(BUCKET, k, b);
  await s3.put(BUCKET, 'tracking/app1/notes.txt', 'not a log');
});

t.teardown(async () => {
  for (const h of holders) if (h.exitCode === null) h.kill();
  const c = await testConnection().catch(() => undefined);
  if (c) {
    for (const db of databases) await c.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
    await c.end();
  }
  await s3?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

t.test('the nightly job', async (t) => {
  const a = setup('a');

  t.test('make -n all and DRY_RUN=1 make all show the work and change nothing', async (t) => {
    for (const [label, args, extra] of [['make -n all', ['-n', 'all'], {}], ['DRY_RUN=1 make all', ['all'], { DRY_RUN: '1' }]] as const) {
      const r = await make(a, [...args], { ...extra });
      t.equal(r.code, 0, `${label}: ${r.out}`);
      for (const [k] of LOGS) {
        t.match(r.out, `pull: would fetch ${k}`, `${label} names ${k} as to be pulled`);
        t.match(r.out, `load: would load ${a.out}/${k}.csv`, `${label} names its collection as to be loaded`);
      }
      t.equal(transformed(r.out).length, LOGS.length, `${label} shows one transform per log`);
      t.same(tree(a.dir), ['config.mk'], `${label}: no file or directory appeared`);
      t.notOk(await databaseExists(a.edx), `${label}: no database was created`);
    }
  });

  const first = await expectedEvents(LOGS);

  t.test('make all pulls, transforms and loads every log', async (t) => {
    const r = await make(a, ['all']);
    t.equal(r.code, 0, r.out);
    t.equal(transformed(r.out).length, LOGS.length, 'each log transformed once');
    const n = await counts(a);
    t.equal(n.EdxTrackEvent, first, 'every event row arrived');
    t.equal(n.LoadInfo, LOGS.length, 'one LoadInfo row per log');
    t.ok(n.Answer > 0 && n.EventIp > 0 && n.Account >= 0, 'child and private tables filled');
    const c = await testConnection();
    const [rows] = await c.query(`SELECT load_file FROM \`${a.edx}\`.LoadInfo ORDER BY load_file`);
    await c.end();
    t.same((rows as { load_file: string }[]).map((r) => r.load_file), LOGS.map(([k]) => `file://${a.logRoot}/${k}`).sort(), 'LoadInfo names the mirrored files');
    for (const [k, b] of LOGS) t.same(readFileSync(join(a.logRoot, k)), b, `${k} mirrored intact`);
    t.same(tree(a.out), [], 'transform outputs (personal data) removed after the successful load');
    const logs = tree(a.logs).filter((f) => f.endsWith('.log'));
    t.equal(logs.length, 1, 'one run log');
    const log = readFileSync(join(a.logs, logs[0]), 'utf8');
    t.match(log, /pipeline: pull: ok, [\d.]+ s/);
    t.match(log, /pipeline: transform: ok, [\d.]+ s/);
    t.match(log, /pipeline: load: ok, [\d.]+ s/);
    t.match(log, /pipeline: all done in [\d.]+ s/);
  });

  t.test('a second make all does nothing', async (t) => {
    const before = { counts: await counts(a), sum: await checksum(a), files: mtimes(a.logRoot) };
    const r = await make(a, ['all']);
    t.equal(r.code, 0, r.out);
    t.match(r.out, 'fetched 0, already present 0', 'nothing downloaded');
    t.same(transformed(r.out), [], 'nothing transformed');
    t.match(r.out, 'load: nothing to load');
    t.notMatch(r.out, 'edx-csvload', 'the loader is not even started');
    t.same(await counts(a), before.counts, 'no new rows');
    t.equal(await checksum(a), before.sum);
    t.same(mtimes(a.logRoot), before.files, 'mirror untouched');
    t.same(tree(a.out), []);
  });

  t.test('a new object is pulled, transformed and loaded alone', async (t) => {
    const before = await counts(a);
    await s3.put(BUCKET, LATE[0], LATE[1]);
    const r = await make(a, ['all']);
    t.equal(r.code, 0, r.out);
    t.match(r.out, `pull: fetched ${a.logRoot}/${LATE[0]}`);
    t.match(r.out, 'fetched 1, already present 0');
    const tr = transformed(r.out);
    t.equal(tr.length, 1, 'one transform');
    t.match(tr[0], LATE[0], 'of the new log');
    t.match(r.out, /1 loaded, 0 skipped, 0 failed/);
    const after = await counts(a);
    t.equal(after.EdxTrackEvent - before.EdxTrackEvent, await expectedEvents([LATE]), 'its rows, and only its rows, arrived');
    t.equal(after.LoadInfo, LOGS.length + 1);
  });

  t.test('make -j 2 gives the same tables as make -j 1', async (t) => {
    const b = setup('b');
    const r = await make(b, ['-j', '2', 'all']);
    t.equal(r.code, 0, r.out);
    const [na, nb] = [await counts(a), await counts(b)];
    t.same(nb, na, 'same row counts in every table');
    t.equal(await checksum(b), await checksum(a), 'same checksum of EdxTrackEvent');
  });

  t.test('two runs never overlap: the second says who holds the lock and fails', async (t) => {
    mkdirSync(a.logs, { recursive: true });
    const lock = join(a.logs, '.pipeline.lock');
    const holder = spawn('bash', ['-c', `exec 9>>'${lock}'; flock 9; echo "pid $$, test@here, since now: make all" > '${lock}'; echo locked; exec sleep 600 9>&9`], { stdio: ['ignore', 'pipe', 'inherit'] });
    holders.push(holder);
    await new Promise<void>((resolve) => holder.stdout!.on('data', (d) => { if (String(d).includes('locked')) resolve(); }));
    const before = await counts(a);
    const r = await make(a, ['all']);
    t.not(r.code, 0, 'exit status non-zero');
    t.match(r.out, `another run holds ${lock}: pid ${holder.pid}, test@here`, 'names the holder');
    t.notMatch(r.out, 'pipeline: pull: start', 'did nothing');
    t.same(await counts(a), before);
    holder.kill();
    await new Promise((r) => holder.once('exit', r));
    const again = await make(a, ['all']);
    t.equal(again.code, 0, `runs once the lock is free: ${again.out}`);
  });

  t.test('a failed load keeps its transform output and fails the run; the next run loads it', async (t) => {
    const extra: [string, Buffer] = ['tracking/app1/tracking.log-20140304.gz', logFor('20140304', 5, 8)];
    await s3.put(BUCKET, extra[0], extra[1]);
    let r = await make(a, ['pull', 'transform']);
    t.equal(r.code, 0, r.out);
    const coll = join(a.out, `${extra[0]}.csv`);
    t.ok(existsSync(coll), 'transformed, not loaded yet');
    const csv = readdirSync(coll).find((f) => f.endsWith('.EdxTrackEvent.csv'))!;
    const original = readFileSync(join(coll, csv));
    appendFileSync(join(coll, csv), original.subarray(0, original.indexOf('\n') + 1)); // one row more than the manifest says
    const before = await counts(a);
    r = await make(a, ['all']);
    t.not(r.code, 0, 'the run fails');
    t.match(r.out, 'pipeline: load: FAILED');
    t.ok(existsSync(join(coll, csv)), 'its collection is kept');
    t.same(await counts(a), before, 'nothing of it was loaded');
    writeFileSync(join(coll, csv), original);
    r = await make(a, ['load']);
    t.equal(r.code, 0, r.out);
    t.notOk(existsSync(coll), 'removed once loaded');
    t.equal((await counts(a)).EdxTrackEvent - before.EdxTrackEvent, await expectedEvents([extra]));
  });

  t.test('a log that cannot be transformed fails the run, the others are still loaded', async (t) => {
    const broken: [string, Buffer] = ['tracking/app3/tracking.log-20140305.gz', logFor('20140305', 6).subarray(0, 60)];
    const good: [string, Buffer] = ['tracking/app3/tracking.log-20140306.gz', logFor('20140306', 7, 5)];
    await s3.put(BUCKET, broken[0], broken[1]);
    await s3.put(BUCKET, good[0], good[1]);
    const before = await counts(a);
    const r = await make(a, ['-j', '2', 'all']);
    t.not(r.code, 0, 'the run fails');
    t.match(r.out, 'pipeline: transform: FAILED');
    t.match(r.out, 'pipeline: load: ok');
    t.notOk(existsSync(join(a.out, `${broken[0]}.csv`)), 'no collection for the broken log');
    const after = await counts(a);
    t.equal(after.EdxTrackEvent - before.EdxTrackEvent, await expectedEvents([good]), 'the good log was loaded');
    // The object is replaced by a good one: pulled again (other size), transformed, loaded.
    const fixed: [string, Buffer] = [broken[0], logFor('20140305', 6)];
    await s3.put(BUCKET, fixed[0], fixed[1]);
    const again = await make(a, ['all']);
    t.equal(again.code, 0, again.out);
    t.equal(transformed(again.out).length, 1);
    t.equal((await counts(a)).EdxTrackEvent - after.EdxTrackEvent, await expectedEvents([fixed]));
  });
});
