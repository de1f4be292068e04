// The nightly job (mk/pipeline.mk) under conditions test/pipeline.test.ts does not try: -j4 against
// -j1 over every table, runs killed (SIGTERM in the middle of transform, SIGKILL in the middle of a
// load) and run again, every dry-run form against a half-done state, logs that grow or appear, corrupt
// and cut .gz objects, odd characters in keys, LoadInfo names that are suffixes of one another, and
// credentials on command lines. Real s3rver, real MariaDB, throwaway directories and databases.
import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startS3, type S3Test } from './helpers/s3server.js';
import { REPO, runTool } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';
import { gz, logFor, logLines } from './helpers/pipeline-logs.js';
import { testServer, testConnection, uniqueName } from './helpers/mariadb.js';
import { fingerprint as warehouseFingerprint } from './helpers/warehouse.js';
import { tempDir } from './helpers/tmp.js';

const BUCKET = 'edx-adversarial';
const FLAT_BUCKET = 'edx-flat';


// The main bucket content for the reference and the kill/dry-run scenarios: three small logs and one
// big enough that its transform is still running when we kill the run.
const BIG_EVENTS = 8000;
const MAIN: [string, Buffer, number][] = [
  ['main/app1/tracking.log-20140301.gz', logFor('20140301', 1, 40), 40],
  ['main/app1/tracking.log-20140302.gz', logFor('20140302', 2, 33), 33],
  ['main/app2/tracking.log-20140302.gz', logFor('20140302', 3, 27), 27],
  ['main/app2/tracking.log-20140415.gz', logFor('20140415', 4, BIG_EVENTS), BIG_EVENTS],
];
const BIG_KEY = MAIN[3][0];
const MAIN_EVENTS = MAIN.reduce((a, [, , n]) => a + n, 0);

let s3: S3Test;
const tmp = tempDir('adversarial');
const spool = join(tmp, 'tmp');
mkdirSync(spool);
const databases: string[] = [];
const users: string[] = [];

interface Setup { dir: string; config: string; edx: string; priv: string; logRoot: string; out: string; logs: string; bucket: string; prefix: string }

/** A throwaway setup: LOG_ROOT, OUT and LOGS under tmp, databases of their own, a config file. */
function setup(name: string, opts: { bucket?: string; prefix?: string; extra?: string[] } = {}): Setup {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const edx = uniqueName('adv_edx');
  const priv = uniqueName('adv_priv');
  databases.push(edx, priv);
  const bucket = opts.bucket ?? BUCKET;
  const prefix = opts.prefix ?? `${name}/`;
  const s: Setup = { dir, config: join(dir, 'config.mk'), edx, priv, logRoot: join(dir, 'tracking'), out: join(dir, 'CSV'), logs: join(dir, 'NonTransformLogs'), bucket, prefix };
  writeFileSync(s.config, [
    `BUCKET = ${bucket}`,
    `PREFIX = ${prefix}`,
    `S3_ENDPOINT = ${s3.endpoint}`,
    'S3_REGION = us-east-1',
    `LOG_ROOT = ${s.logRoot}`,
    `OUT = ${s.out}`,
    `LOGS = ${s.logs}`,
    `EDX_DB = ${edx}`,
    `PRIVATE_DB = ${priv}`,
    ...(opts.extra ?? []),
    '',
  ].join('\n'));
  return s;
}

/** Back to nothing: the setup's files (but its config) and databases gone. */
async function reset(s: Setup): Promise<void> {
  for (const f of readdirSync(s.dir)) if (f !== 'config.mk') rmSync(join(s.dir, f), { recursive: true, force: true });
  const c = await testConnection();
  try {
    await c.query(`DROP DATABASE IF EXISTS \`${s.edx}\`; DROP DATABASE IF EXISTS \`${s.priv}\``);
  } finally {
    await c.end();
  }
}

async function env(withDb = true): Promise<NodeJS.ProcessEnv> {
  const db = await testServer();
  const e: NodeJS.ProcessEnv = { ...s3.env, EDX_PIPES_NO_DEFAULTS: '1' };
  for (const k of ['MYSQL_HOST', 'MYSQL_TCP_PORT', 'MYSQL_USER', 'MYSQL_PWD', 'MYSQL_UNIX_PORT']) {
    if (!withDb || db.env[k] === undefined) delete e[k];
    else e[k] = db.env[k];
  }
  for (const k of ['NODE_OPTIONS', 'MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'DRY_RUN', 'JOBS', 'CONFIG', 'BUCKET', 'PREFIX', 'MATCH', 'LOG_ROOT', 'OUT', 'LOGS', 'LOCK', 'MY_CNF', 'EDX_DB', 'PRIVATE_DB', 'MODULESTORE', 'GEOIP', 'S3_ENDPOINT', 'S3_REGION', 'S3_PROFILE', 'PULL_CHECK_DB', 'INIT']) delete e[k];
  e.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  e.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  e.TMPDIR = spool; // the spools of killed loaders (edx-csvload-*) go away with the test's folder
  return e;
}

interface Run { code: number | null; signal: NodeJS.Signals | null; out: string }
interface MakeOpts { env?: NodeJS.ProcessEnv; withDb?: boolean; onStart?: (child: ChildProcess) => void }

/** make … in the repository, as the leader of a process group of its own (so the group can be killed). */
async function make(s: Setup, args: string[], opts: MakeOpts = {}): Promise<Run> {
  const e = { ...(await env(opts.withDb ?? true)), ...(opts.env ?? {}) };
  const r = await runTool('make', ['--no-print-directory', '-C', REPO, `CONFIG=${s.config}`, ...args],
    { env: e, detached: true, timeoutMs: 600_000, onStart: opts.onStart });
  return { code: r.code, signal: r.signal, out: r.output };
}

/** Look at cond until it holds (true), or the child has exited (false). */
async function until(child: ChildProcess, cond: () => boolean | Promise<boolean>): Promise<boolean> {
  return (await waitFor(cond, { child, everyMs: 15, timeoutMs: 600_000 })) === true;
}

function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).map(String).sort();
}

/** Every path under dir with its type, size and mtime: any change on disk shows. */
function snapshotFiles(dir: string): string[] {
  return tree(dir).map((f) => {
    const st = lstatSync(join(dir, f));
    return `${f}|${st.isDirectory() ? 'd' : 'f'}|${st.isDirectory() ? '' : st.size}|${st.mtimeMs}`;
  });
}

async function snapshotBucket(bucket: string): Promise<string[]> {
  const r = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (r.Contents ?? []).map((o) => `${o.Key}|${o.Size}|${o.ETag}|${o.LastModified?.toISOString()}`).sort();
}

/** Every base table of both databases (test/helpers/warehouse.ts). */
const fingerprint = (s: Setup) => warehouseFingerprint(s.edx, s.priv);

async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = await testConnection();
  try {
    const [rows] = await c.query(sql, params);
    return rows as T[];
  } finally {
    await c.end();
  }
}

async function rowCount(db: string, table: string): Promise<number> {
  try {
    return Number((await query<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${db}\`.\`${table}\``))[0].n);
  } catch (e) {
    if ((e as { code?: string }).code === 'ER_NO_SUCH_TABLE' || (e as { code?: string }).code === 'ER_BAD_DB_ERROR') return 0;
    throw e;
  }
}

async function loadFiles(s: Setup): Promise<string[]> {
  try {
    return (await query<{ f: string }>(`SELECT load_file AS f FROM \`${s.edx}\`.LoadInfo ORDER BY load_file`)).map((r) => r.f);
  } catch (e) {
    if ((e as { code?: string }).code === 'ER_NO_SUCH_TABLE' || (e as { code?: string }).code === 'ER_BAD_DB_ERROR') return [];
    throw e;
  }
}

/** No source in LoadInfo without its rows: every LoadInfo row has EdxTrackEvent rows, as many as its log has events. */
async function loadInfoHonest(s: Setup, expected: Map<string, number>): Promise<string[]> {
  const problems: string[] = [];
  let rows: { f: string; n: number }[] = [];
  try {
    rows = await query<{ f: string; n: number }>(
      `SELECT l.load_file AS f, (SELECT COUNT(*) FROM \`${s.edx}\`.EdxTrackEvent e WHERE e.load_info_fk = l.load_info_id) AS n FROM \`${s.edx}\`.LoadInfo l`);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ER_NO_SUCH_TABLE' && (e as { code?: string }).code !== 'ER_BAD_DB_ERROR') throw e;
  }
  for (const r of rows) {
    const key = [...expected.keys()].find((k) => r.f.endsWith(`/${k}`));
    if (key === undefined) problems.push(`unexpected LoadInfo ${r.f}`);
    else if (Number(r.n) !== expected.get(key)) problems.push(`${key}: ${r.n} rows, expected ${expected.get(key)}`);
  }
  return problems;
}

/** Complete collections (not .partial) under OUT without a manifest would be taken as complete by nobody, but by make as made. */
function collectionsWithoutManifest(s: Setup): string[] {
  return tree(s.out).filter((f) => f.endsWith('.csv') && statSync(join(s.out, f)).isDirectory())
    .filter((f) => !readdirSync(join(s.out, f)).some((x) => x.endsWith('.manifest.json')));
}

const transformed = (out: string) => out.split('\n').filter((l) => /bin\/edx-json2sql .*--csv/.test(l));

t.before(async () => {
  await testServer();
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  await s3.createBucket(FLAT_BUCKET);
  for (const [k, b] of MAIN) await s3.put(BUCKET, k, b);
});

t.teardown(async () => {
  const c = await testConnection().catch(() => undefined);
  if (c) {
    for (const db of databases) await c.query(`DROP DATABASE IF EXISTS \`${db}\``).catch(() => undefined);
    for (const u of users) await c.query(`DROP USER IF EXISTS ${u}`).catch(() => undefined);
    await c.end();
  }
  await s3?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

t.test('one warehouse whatever happens: -j, reruns, kills, dry runs', async (t) => {
  const m = setup('main');
  const expected = new Map(MAIN.map(([k, , n]) => [k, n]));
  let reference: Record<string, string> = {};

  t.test('reference: make -j1 all', async (t) => {
    const r = await make(m, ['-j1', 'all']);
    t.equal(r.code, 0, r.out);
    t.equal(await rowCount(m.edx, 'EdxTrackEvent'), MAIN_EVENTS, 'every event arrived');
    t.same(await loadInfoHonest(m, expected), []);
    reference = await fingerprint(m);
    t.ok(Number(reference['Edx.Answer']?.split(':')[0]) > 0 && Number(reference['Private.EventIp']?.split(':')[0]) > 0, 'child and private tables filled');
  });

  t.test('the whole job run again, with -j1 and -j4, adds nothing', async (t) => {
    for (const j of ['-j1', '-j4']) {
      const r = await make(m, [j, 'all']);
      t.equal(r.code, 0, r.out);
      t.same(transformed(r.out), [], `${j}: nothing transformed`);
      t.same(await fingerprint(m), reference, `${j}: every table unchanged`);
    }
  });

  t.test('make -j4 all from nothing gives the same warehouse as -j1, table for table', async (t) => {
    await reset(m);
    const r = await make(m, ['-j4', 'all']);
    t.equal(r.code, 0, r.out);
    t.equal(transformed(r.out).length, MAIN.length);
    t.same(await fingerprint(m), reference);
    t.same(tree(m.out), [], 'no collection left');
  });

  t.test('SIGTERM to the process group in the middle of transform, then a rerun: the warehouse of an uninterrupted run', async (t) => {
    await reset(m);
    const partial = join(m.out, `${BIG_KEY}.csv.partial`);
    let killedAt = '';
    const r = await make(m, ['-j4', 'all'], {
      onStart: (child) => {
        void until(child, () => existsSync(partial) && readdirSync(partial).length > 0).then((ok) => {
          killedAt = ok ? 'transform' : 'never';
          if (ok) try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* gone */ }
        });
      },
    });
    t.equal(killedAt, 'transform', 'killed while the big log was being transformed');
    t.not(r.code, 0, 'the killed run does not report success');
    t.comment(existsSync(partial) ? 'the kill left a half-written collection (.partial)' : 'the big transform had finished when the kill landed');
    t.same(collectionsWithoutManifest(m), [], 'no collection without its manifest under a complete name');
    t.same(await loadInfoHonest(m, expected), [], 'nothing recorded in LoadInfo without its rows');
    const again = await make(m, ['-j4', 'all']);
    t.equal(again.code, 0, again.out);
    t.same(await fingerprint(m), reference, 'same warehouse as the uninterrupted run');
    t.same(tree(m.out), [], 'no partial collection left behind');
  });

  t.test('SIGKILL to the process group in the middle of a load, then a rerun: the warehouse of an uninterrupted run', async (t) => {
    await reset(m);
    // The warehouse exists and is empty; a transaction of ours holds LoadInfo so the first load stops
    // right before it records its source: all of its rows are in, uncommitted.
    t.equal((await runTool('edx-csvload', ['--init', '--quiet', '--edx-db', m.edx, '--private-db', m.priv], { env: await env() })).code, 0, 'edx-csvload --init');
    const holder = await testConnection();
    await holder.query('START TRANSACTION');
    await holder.query(`SELECT * FROM \`${m.edx}\`.LoadInfo FOR UPDATE`);
    let blockedId: number | undefined;
    const r = await make(m, ['-j4', 'all'], {
      onStart: (child) => {
        void until(child, async () => {
          const rows = await query<{ id: number }>(`SELECT ID AS id FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND INFO LIKE '%LoadInfo%' AND ID <> CONNECTION_ID()`, [`REPLACE INTO %${m.edx}%`]);
          blockedId = rows[0]?.id;
          return blockedId !== undefined;
        }).then((ok) => { if (ok) try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } });
      },
    });
    t.ok(blockedId !== undefined, 'killed while a load was inside its transaction');
    t.equal(r.signal, 'SIGKILL');
    await holder.query('ROLLBACK');
    await holder.end();
    // The server rolls the dead loader's transaction back once it notices the connection is gone.
    await waitFor(async () => (await query(`SELECT ID FROM information_schema.PROCESSLIST WHERE ID = ?`, [blockedId ?? -1])).length === 0);
    t.same(await loadInfoHonest(m, expected), [], 'nothing recorded in LoadInfo without its rows');
    t.equal(await rowCount(m.edx, 'LoadInfo'), 0, 'the interrupted source is not recorded');
    t.equal(await rowCount(m.edx, 'EdxTrackEvent'), 0, 'and none of its rows stayed');
    t.equal(tree(m.out).filter((f) => f.endsWith('.csv') && statSync(join(m.out, f)).isDirectory()).length, MAIN.length, 'every collection kept for the next run');

    t.test('dry runs on this half-done state change nothing on disk, in S3 or in the database', async (t) => {
      // One more complete collection whose log is not in the mirror any more, a leftover .partial, a new object in S3.
      await s3.put(BUCKET, 'main/app3/tracking.log-20140303.gz', logFor('20140303', 9, 5));
      const before = { files: snapshotFiles(m.dir), bucket: await snapshotBucket(BUCKET), db: await fingerprint(m), parts: await query(`SELECT PARTITION_NAME FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? ORDER BY 1`, [m.edx]), schemas: await query(`SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?, ?) ORDER BY 1`, [m.edx, m.priv]) };
      const forms: [string, string[], NodeJS.ProcessEnv][] = [
        ['make -n all', ['-n', 'all'], {}],
        ['make --dry-run all', ['--dry-run', 'all'], {}],
        ['make -j4 -n all', ['-j4', '-n', 'all'], {}],
        ['make -nk all', ['-nk', 'all'], {}],
        ['DRY_RUN=1 make all', ['all'], { DRY_RUN: '1' }],
        ['make DRY_RUN=yes all', ['DRY_RUN=yes', 'all'], {}],
        ['make -n pull', ['-n', 'pull'], {}],
        ['make -n transform', ['-n', 'transform'], {}],
        ['make -n load', ['-n', 'load'], {}],
        ['DRY_RUN=1 make load', ['load'], { DRY_RUN: '1' }],
        ['DRY_RUN=1 make -j4 transform', ['-j4', 'transform'], { DRY_RUN: '1' }],
      ];
      for (const [label, args, extra] of forms) {
        const r = await make(m, args, { env: extra });
        t.equal(r.code, 0, `${label}: ${r.out}`);
        t.match(r.out, 'dry run', `${label} says it is a dry run`);
        if (args.includes('all') || args.includes('load')) t.match(r.out, `load: would load ${m.out}/${MAIN[0][0]}.csv`, `${label} names a collection it would load`);
        if (args.includes('all') || args.includes('pull')) t.match(r.out, 'would fetch main/app3/tracking.log-20140303.gz', `${label} names the new object`);
        t.same(snapshotFiles(m.dir), before.files, `${label}: nothing on disk changed (no lock, no run log, no fetch, no collection)`);
        t.same(await snapshotBucket(BUCKET), before.bucket, `${label}: bucket unchanged`);
        t.same(await fingerprint(m), before.db, `${label}: every table unchanged`);
        t.same(await query(`SELECT PARTITION_NAME FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? ORDER BY 1`, [m.edx]), before.parts, `${label}: no partition added`);
        t.same(await query(`SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?, ?) ORDER BY 1`, [m.edx, m.priv]), before.schemas, `${label}: no database created`);
      }
      await s3.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'main/app3/tracking.log-20140303.gz' }));
    });

    t.test('the rerun after the kill', async (t) => {
      const again = await make(m, ['-j4', 'all']);
      t.equal(again.code, 0, again.out);
      t.same(await fingerprint(m), reference, 'same warehouse as the uninterrupted run');
      t.same(tree(m.out), [], 'collections removed once loaded');
    });
  });
});

t.test('logs that appear or grow in the bucket between runs', async (t) => {
  const g = setup('grow');
  const first: [string, string[]][] = [
    ['grow/app1/tracking.log-20140310.gz', logLines('20140310', 11, 30)],
    ['grow/app1/tracking.log-20140311.gz', logLines('20140311', 12, 25)],
  ];
  for (const [k, l] of first) await s3.put(BUCKET, k, gz(l));
  let r = await make(g, ['-j4', 'all']);
  t.equal(r.code, 0, r.out);
  t.equal(await rowCount(g.edx, 'EdxTrackEvent'), 55);

  // A new log in a new folder whose key sorts before the loaded ones, and a loaded log replaced by a
  // longer version (the same lines and 12 more: a log that was still being written when first pulled).
  const late: [string, string[]] = ['grow/app0/tracking.log-20140309.gz', logLines('20140309', 13, 9)];
  await s3.put(BUCKET, late[0], gz(late[1]));
  const grown = logLines('20140310', 11, 42);
  t.same(grown.slice(0, 30), first[0][1], 'the longer version starts with the loaded lines');
  await s3.put(BUCKET, first[0][0], gz(grown));
  r = await make(g, ['-j4', 'all']);
  t.equal(r.code, 0, r.out);
  t.match(r.out, `pull: fetched ${g.logRoot}/${late[0]}`, 'the new log is pulled');
  t.ok(transformed(r.out).some((l) => l.includes(late[0])), 'and transformed');
  t.ok((await loadFiles(g)).includes(`file://${g.logRoot}/${late[0]}`), 'and recorded as loaded');
  t.same(readFileSync(join(g.logRoot, first[0][0])), gz(grown), 'the grown log is fetched again into the mirror');
  const n = await rowCount(g.edx, 'EdxTrackEvent');
  t.equal(n, 55 + 9 + 12, 'the 12 new lines of the grown log are loaded, nothing twice');
  t.ok(n >= 55 + 9, 'no loaded row lost');
  t.equal(await rowCount(g.edx, 'LoadInfo'), 3, 'one LoadInfo row per key');

  t.test('a run with PULL_CHECK_DB=0 after it: the grown log stays loaded once, with its new lines', async (t) => {
    const r2 = await make(g, ['PULL_CHECK_DB=0', 'all']);
    t.equal(r2.code, 0, r2.out);
    t.same(readFileSync(join(g.logRoot, first[0][0])), gz(grown), 'the mirror now holds the longer version');
    t.equal(await rowCount(g.edx, 'EdxTrackEvent'), 55 + 9 + 12, 'its new lines are loaded');
  });
});

t.test('a corrupt or cut .gz fails the run loudly, with its name, while the other logs load', async (t) => {
  const c = setup('corrupt');
  const big = logFor('20140320', 21, 2500);
  const garbled = Buffer.from(big);
  for (let i = 4000; i < 4100; i++) garbled[i] ^= 0x55;
  // Plain text under a .gz name is read as text (gzip is known by content): a log, with one good
  // event and one line nothing can be made of, which must stay findable after the load.
  const textKey = 'corrupt/app3/tracking.log-20140320.gz';
  const junk = 'this is not gzip at all, but the name says .gz';
  const good: [string, number][] = [['corrupt/app1/tracking.log-20140321.gz', 14], ['corrupt/app2/tracking.log-20140321.gz', 11], [textKey, 1]];
  const bad: [string, Buffer][] = [
    ['corrupt/app1/tracking.log-20140320.gz', big.subarray(0, Math.floor(big.length * 0.7))], // cut in the middle
    ['corrupt/app2/tracking.log-20140320.gz', garbled], // bytes changed in the middle: CRC mismatch
  ];
  for (const [k, n] of good.slice(0, 2)) await s3.put(BUCKET, k, logFor(k.slice(-11, -3), n, n));
  await s3.put(BUCKET, textKey, Buffer.from(`${logLines('20140320', 25, 1)[0]}\n${junk}\n`));
  for (const [k, b] of bad) await s3.put(BUCKET, k, b);
  for (const run of ['first', 'second']) {
    const r = await make(c, ['-j4', 'all']);
    t.not(r.code, 0, `${run} run: exit status non-zero`);
    t.match(r.out, 'pipeline: transform: FAILED', `${run} run: the transform step fails`);
    for (const [k] of bad) t.match(r.out, k, `${run} run names ${k}`);
    const files = await loadFiles(c);
    t.same(files, good.map(([k]) => `file://${c.logRoot}/${k}`).sort(), `${run} run: the good logs, and only those, are loaded`);
    t.equal(await rowCount(c.edx, 'EdxTrackEvent'), good.reduce((a, [, n]) => a + n, 0), `${run} run: rows of the good logs only`);
    for (const [k] of bad) t.notOk(existsSync(join(c.out, `${k}.csv`)), `${run} run: no complete collection for ${k}`);
    if (run === 'first') t.match(r.out, `load: 1 line of ${textKey} was rejected`, 'the load says a line of the text log was rejected, and where it is');
  }
  const kept = join(c.logs, 'rejects', `${textKey}.jsonl`);
  const rejects = existsSync(kept) ? readFileSync(kept, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file: string; line: number; raw: string }) : [];
  t.same(rejects.map((r) => [r.file, r.line, r.raw]), [[join(c.logRoot, textKey), 2, junk]], 'its rejected line is kept with file and line after the collection is gone');
  t.notOk(existsSync(join(c.out, `${textKey}.csv`)), 'the loaded collection is gone');

  t.test('an empty or 1-byte .gz (an interrupted upload) is not taken for an empty log', async (t) => {
    const e = setup('zero');
    const goodKey = 'zero/app1/tracking.log-20140322.gz';
    const cut: [string, Buffer][] = [['zero/app1/tracking.log-20140323.gz', Buffer.alloc(0)], ['zero/app1/tracking.log-20140324.gz', logFor('20140324', 24, 10).subarray(0, 1)]];
    await s3.put(BUCKET, goodKey, logFor('20140322', 22, 9));
    for (const [k, b] of cut) await s3.put(BUCKET, k, b);
    const r = await make(e, ['all']);
    t.not(r.code, 0, 'exit status non-zero');
    for (const [k] of cut) t.match(r.out, new RegExp(`${k.replace(/\./g, '\\.')}(: |\\.csv\\] )[^\n]*(gzip|empty|corrupt|truncated|Error)`, 'i'), `${k} named as broken`);
    t.same(await loadFiles(e), [`file://${e.logRoot}/${goodKey}`], 'only the good log is recorded as loaded');
    t.equal(await rowCount(e.edx, 'EdxTrackEvent'), 9, 'the good log is loaded');
    // The complete object arrives: it must be loaded.
    await s3.put(BUCKET, cut[0][0], logFor('20140323', 23, 6));
    const again = await make(e, ['all']);
    t.equal(await rowCount(e.edx, 'EdxTrackEvent'), 9 + 6, 'the complete object is loaded once it is there');
    t.ok(again.code !== null);
  });
});

t.test('keys with spaces and odd characters', async (t) => {
  const o = setup('odd');
  const marker = join(tmp, 'INJECTED');
  const loadable: [string, number][] = [
    ['odd/app@host+1/tracking.log-20140330.gz', 6],
    ['odd/a-b_c.d/tracking.log-20140330-1.gz', 7],
  ];
  const unloadable = [
    'odd/app 1/tracking.log-20140331.gz',
    `odd/app'$(touch ${marker})/tracking.log-20140331.gz`,
    `odd/app\`touch ${marker}\`;x/tracking.log-20140331.gz`,
    'odd/app%1(x)/tracking.log-20140331.gz',
  ];
  for (const [k, n] of loadable) await s3.put(BUCKET, k, logFor('20140330', n, n));
  for (const [i, k] of unloadable.entries()) await s3.put(BUCKET, k, logFor('20140331', 40 + i, 3));

  const dry = await make(o, ['-n', 'all']);
  t.equal(dry.code, 0, dry.out);
  t.notOk(existsSync(marker), 'the dry run runs nothing a key says');
  t.same(tree(o.dir), ['config.mk'], 'the dry run writes nothing');

  const r = await make(o, ['-j4', 'all']);
  t.notOk(existsSync(marker), 'no key is ever run as a command');
  t.notOk(existsSync(join(REPO, 'INJECTED')), 'not even relative to the repository');
  for (const k of unloadable) {
    t.ok(existsSync(join(o.logRoot, k)), `${JSON.stringify(k)} is pulled into the mirror`);
    t.match(r.out, `skipping ${k}`, `${JSON.stringify(k)} is reported by name`);
  }
  const files = await loadFiles(o);
  t.same(files, loadable.map(([k]) => `file://${o.logRoot}/${k}`).sort(), 'the keys make can handle are loaded');
  t.equal(await rowCount(o.edx, 'EdxTrackEvent'), loadable.reduce((a, [, n]) => a + n, 0));
  t.not(r.code, 0, 'a log that is pulled but will never be loaded makes the run fail');
  const again = await make(o, ['all']);
  t.same(await loadFiles(o), files, 'a second run adds nothing');
  t.same(transformed(again.out), []);
});

t.test('a key that is a path suffix of a loaded key is still pulled and loaded', async (t) => {
  const f = setup('flat', { bucket: FLAT_BUCKET, prefix: '' });
  const sub: [string, number] = ['app1/tracking.log-20140325.gz', 8];
  const root: [string, number] = ['tracking.log-20140325.gz', 5]; // another server's log of the same day, at the bucket's root
  await s3.put(FLAT_BUCKET, sub[0], logFor('20140325', 31, sub[1]));
  let r = await make(f, ['all']);
  t.equal(r.code, 0, r.out);
  t.equal(await rowCount(f.edx, 'EdxTrackEvent'), sub[1]);
  await s3.put(FLAT_BUCKET, root[0], logFor('20140325', 32, root[1]));
  r = await make(f, ['all']);
  t.equal(r.code, 0, r.out);
  t.ok(existsSync(join(f.logRoot, root[0])), `${root[0]} is pulled`);
  t.equal(await rowCount(f.edx, 'EdxTrackEvent'), sub[1] + root[1], 'and its events loaded');

  t.test('the same with the log already in the mirror: transform skips it too', async (t) => {
    mkdirSync(f.logRoot, { recursive: true });
    const other: [string, number] = ['tracking.log-20140326.gz', 4];
    await s3.put(FLAT_BUCKET, `app2/${other[0]}`, logFor('20140326', 33, 6));
    const r1 = await make(f, ['all']);
    t.equal(r1.code, 0, r1.out);
    writeFileSync(join(f.logRoot, other[0]), logFor('20140326', 34, other[1])); // e.g. copied in by hand, or pulled with PULL_CHECK_DB=0
    const before = await rowCount(f.edx, 'EdxTrackEvent');
    const r2 = await make(f, ['PULL_CHECK_DB=0', 'all']);
    t.equal(r2.code, 0, r2.out);
    t.equal(await rowCount(f.edx, 'EdxTrackEvent') - before, other[1], `${other[0]} is transformed and loaded`);
  });
});

t.test('credentials never appear on a command line or in the output', async (t) => {
  const user = `adv_${randomBytes(4).toString('hex')}`;
  const password = `Pw-${randomBytes(9).toString('hex')}`;
  const db = await testServer();
  const c = await testConnection();
  try {
    await c.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
    users.push(`'${user}'@'%'`);
    await c.query(`GRANT ALL PRIVILEGES ON *.* TO '${user}'@'%'`);
  } finally {
    await c.end();
  }
  const cnf = join(tmp, 'warehouse.cnf');
  writeFileSync(cnf, `[client]\nhost=${db.host}\nport=${db.port}\nuser=${user}\npassword=${password}\n`, { mode: 0o600 });
  const s = setup('creds', { extra: [`MY_CNF = ${cnf}`] });
  await s3.put(BUCKET, 'creds/app1/tracking.log-20140401.gz', logFor('20140401', 51, 12));
  await s3.put(BUCKET, 'creds/app2/tracking.log-20140401.gz', logFor('20140401', 52, 10));
  const secrets = [password, 'S3RVER']; // the DB password; s3rver's key id and secret (both S3RVER)

  for (const [label, args] of [['make -n all', ['-n', 'all']], ['make -j4 all', ['-j4', 'all']], ['make all again', ['all']]] as const) {
    const seen = new Set<string>();
    let pgid = 0;
    let timer: NodeJS.Timeout | undefined;
    const scan = () => {
      for (const p of readdirSync('/proc')) {
        if (!/^\d+$/.test(p)) continue;
        try {
          const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          if (Number(fields[2]) !== pgid) continue; // pgrp
          const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
          seen.add(cmd);
        } catch { /* gone */ }
      }
    };
    // The database is reached through MY_CNF only: no MYSQL_* in the environment.
    const r = await make(s, [...args], {
      withDb: false,
      onStart: (child) => { pgid = child.pid!; timer = setInterval(scan, 5); },
    });
    clearInterval(timer);
    t.equal(r.code, 0, `${label}: ${r.out}`);
    t.ok(seen.size > 3, `${label}: saw the command lines of the run (${seen.size})`);
    t.ok([...seen].some((l) => l.includes('--defaults-file')), `${label}: the tools were given the option file`);
    for (const secret of secrets) {
      t.same([...seen].filter((l) => l.includes(secret)), [], `${label}: ${secret === password ? 'the database password' : 'the AWS key'} is on no command line`);
      t.notMatch(r.out, secret, `${label}: nor in the output`);
    }
  }
  t.equal(await rowCount(s.edx, 'EdxTrackEvent'), 22, 'the run loaded through the option file');
  for (const f of tree(s.logs).filter((x) => x.endsWith('.log'))) {
    const log = readFileSync(join(s.logs, f), 'utf8');
    for (const secret of secrets) t.notMatch(log, secret, `run log ${f} holds no credential`);
  }
});
