// The weekly run as make rules (mk/refresh.mk with mk/pipeline.mk): `make weekly` against a real
// S3-protocol server (s3rver) and the real MariaDB, from logs in the bucket, an edxapp dump, a
// modulestore export and a forum export of our own; `make refresh` with inputs missing; dry runs;
// a failing job. Every database is a throwaway one.
import t from 'tap';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startS3, type S3Test } from './helpers/s3server.js';
import { REPO, runTool } from './helpers/tools.js';
import { testServer, testConnection, uniqueName } from './helpers/mariadb.js';
import { logFor } from './helpers/pipeline-logs.js';
import { createEdxapp, dumpEdxapp, makeData, MARIADB_DUMP } from './helpers/edxapp.js';
import { FIXTURES } from './helpers/refresh-course.js';
import { tempDir } from './helpers/tmp.js';

const BUCKET = 'edx-weekly';
const LOGS: [string, Buffer, number][] = [
  ['tracking/app1/tracking.log-20140301.gz', logFor('20140301', 1, 20), 20],
  ['tracking/app2/tracking.log-20140302.gz', logFor('20140302', 2, 16), 16],
];
const EVENTS = LOGS.reduce((a, [, , n]) => a + n, 0);

if (!MARIADB_DUMP) {
  t.comment('skipped: mariadb-dump/mysqldump is not installed (the edxapp dump of this test is made with it)');
  process.exit(0);
}

const tmp = tempDir('weekly');
const databases: string[] = [];
let s3: S3Test;

// One edxapp platform database of our own, dumped with the real mariadb-dump; a cut copy of it.
const platform = uniqueName('weekly_edxapp');
databases.push(platform);
const dump = join(tmp, 'edxapp-latest.sql');
const cutDump = join(tmp, 'edxapp-cut.sql');
const keyFile = join(tmp, 'forum-passphrase');

t.before(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  for (const [k, b] of LOGS) await s3.put(BUCKET, k, b);
  await createEdxapp(platform, makeData());
  await dumpEdxapp(platform, dump);
  const text = readFileSync(dump);
  writeFileSync(cutDump, text.subarray(0, Math.floor(text.length * 0.6)));
  writeFileSync(keyFile, 'a passphrase of our own\n', { mode: 0o600 });
});
t.teardown(async () => {
  await s3?.stop();
  const c = await testConnection();
  for (const d of databases) await c.query(`DROP DATABASE IF EXISTS \`${d}\``);
  await c.end();
  rmSync(tmp, { recursive: true, force: true });
});

interface Setup { dir: string; config: string; edx: string; priv: string; prod: string; forum: string; logs: string }

function setup(name: string, settings: Record<string, string>): Setup {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const [edx, priv, prod, forum] = ['e', 'p', 'x', 'f'].map((k) => uniqueName(`weekly_${k}`));
  databases.push(edx, priv, prod, forum);
  const s: Setup = { dir, config: join(dir, 'config.mk'), edx, priv, prod, forum, logs: join(dir, 'NonTransformLogs') };
  const lines = {
    BUCKET, PREFIX: 'tracking/', S3_ENDPOINT: s3.endpoint, S3_REGION: 'us-east-1',
    LOG_ROOT: join(dir, 'tracking'), OUT: join(dir, 'CSV'), LOGS: s.logs,
    EDX_DB: edx, PRIVATE_DB: priv, EDXPROD_DB: prod, FORUM_DB: forum, FORUM_KEY_FILE: keyFile,
    ...settings,
  };
  writeFileSync(s.config, Object.entries(lines).map(([k, v]) => `${k} = ${v}`).join('\n') + '\n');
  return s;
}

async function make(s: Setup, args: string[]): Promise<{ code: number | null; out: string }> {
  const db = await testServer();
  const env: NodeJS.ProcessEnv = { ...s3.env, EDX_PIPES_NO_DEFAULTS: '1', AWS_ENDPOINT_URL_S3: s3.endpoint };
  for (const k of ['MYSQL_HOST', 'MYSQL_TCP_PORT', 'MYSQL_USER', 'MYSQL_PWD', 'MYSQL_UNIX_PORT']) {
    if (db.env[k] === undefined) delete env[k];
    else env[k] = db.env[k];
  }
  // No test-runner hooks, no make of an outer `make test`, no settings of the developer.
  for (const k of ['NODE_OPTIONS', 'MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'DRY_RUN', 'JOBS', 'CONFIG', 'MODULESTORE', 'EDXAPP_DUMP', 'FORUM_EXPORT', 'REFRESH_JOBS']) delete env[k];
  const r = await runTool('make', ['--no-print-directory', '-C', REPO, `CONFIG=${s.config}`, ...args], { env, timeoutMs: 600_000 });
  return { code: r.code, out: r.output };
}

async function count(db: string, table: string): Promise<number | undefined> {
  const c = await testConnection();
  try {
    const [rows] = await c.query(`SELECT COUNT(*) AS n FROM \`${db}\`.\`${table}\``);
    return Number((rows as { n: number }[])[0].n);
  } catch {
    return undefined; // no such table (or database)
  } finally {
    await c.end();
  }
}

async function schemas(): Promise<string[]> {
  const c = await testConnection();
  try {
    const [rows] = await c.query('SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA');
    return (rows as { s: string }[]).map((r) => r.s);
  } finally {
    await c.end();
  }
}

const everything = {
  EDXAPP_DUMP: dump,
  MODULESTORE: join(FIXTURES, 'old-modulestore.json'),
  FORUM_EXPORT: join(FIXTURES, 'forum-contents.json'),
};

t.test('make weekly: run-start, pull, transform, load, every refresh job, run-end', async (t) => {
  const s = setup('all', everything);

  const dry = await make(s, ['-n', 'weekly']);
  t.equal(dry.code, 0, dry.out);
  t.match(dry.out, /pull: would fetch tracking\/app1\/tracking\.log-20140301\.gz/);
  for (const job of ['run-start', 'edxprod', 'usergrade', 'modulestore', 'activitygrade', 'usercountry', 'forum', 'run-end']) {
    t.match(dry.out, `${job}: dry run`, `the dry run says what ${job} would do`);
  }
  const after = await schemas();
  t.same([s.edx, s.priv, s.prod, s.forum].filter((d) => after.includes(d)), [], 'the dry run created no database');
  t.notOk(existsSync(join(s.dir, 'tracking')), 'and pulled nothing');

  const r = await make(s, ['-j3', 'weekly']);
  t.equal(r.code, 0, r.out);
  t.equal(await count(s.edx, 'EdxTrackEvent'), EVENTS, 'the clickstream is loaded');
  t.equal(await count(s.edx, 'LoadInfo'), LOGS.length);
  for (const [db, table] of [[s.prod, 'auth_user'], [s.prod, 'true_courseenrollment'], [s.priv, 'UserGrade'], [s.priv, 'LearnerIdXlation'],
    [s.edx, 'CourseInfo'], [s.edx, 'EdxProblem'], [s.edx, 'ActivityGrade'], [s.forum, 'contents']] as const) {
    t.ok(((await count(db, table)) ?? 0) > 0, `${db}.${table} is built`);
  }
  // usercountry runs after the load: its rows are this night's users (5 users, one country each here).
  t.ok(((await count(s.edx, 'UserCountry')) ?? 0) > 0, 'UserCountry is made from the clickstream just loaded');
  const c = await testConnection();
  const [runs] = await c.query(`SELECT load_start IS NOT NULL AS s, load_end IS NOT NULL AS e FROM \`${s.edx}\`.FullLoadDates`);
  await c.end();
  t.same(runs, [{ s: 1, e: 1 }], 'FullLoadDates: one run, started and ended');
  t.match(r.out, /refresh: 6 jobs done/);
  const log = readdirSync(s.logs).filter((f) => f.startsWith('pipeline_weekly_'));
  t.equal(log.length, 1, 'one run log for the weekly run');
  t.notMatch(r.out, /passphrase of our own/, 'the forum passphrase is never printed');

  const again = await make(s, ['weekly']);
  t.equal(again.code, 0, again.out);
  t.equal(await count(s.edx, 'EdxTrackEvent'), EVENTS, 'a second week with nothing new adds no clickstream row');
  t.equal(await count(s.edx, 'FullLoadDates'), 2, 'and is a run of its own');
});

t.test('make refresh without some inputs: those jobs and the jobs that read their tables are skipped, by name', async (t) => {
  const s = setup('partial', { MODULESTORE: everything.MODULESTORE });
  const night = await make(s, ['all']);
  t.equal(night.code, 0, night.out);
  const r = await make(s, ['refresh']);
  t.equal(r.code, 0, r.out);
  t.match(r.out, 'refresh: skipped edxprod: EDXAPP_DUMP is not set');
  t.match(r.out, 'refresh: skipped usergrade: it reads the tables of edxprod, skipped');
  t.match(r.out, 'refresh: skipped activitygrade: it reads the tables of usergrade, skipped');
  t.match(r.out, /refresh: skipped forum: (FORUM_EXPORT is not set|it reads the tables of usergrade, skipped)/);
  t.ok(((await count(s.edx, 'CourseInfo')) ?? 0) > 0, 'the modulestore job ran');
  t.equal(await count(s.priv, 'UserGrade'), undefined, 'UserGrade was not built');

  const one = await make(s, ['REFRESH_JOBS=modulestore', 'refresh-modulestore']);
  t.equal(one.code, 0, one.out);
  const nope = await make(s, ['REFRESH_JOBS=nosuchjob', 'refresh']);
  t.not(nope.code, 0);
  t.match(nope.out, "REFRESH_JOBS names 'nosuchjob', which is no job");
});

t.test('a failing job fails the weekly run, leaves its tables and stamps no end; independent jobs still run', async (t) => {
  const s = setup('failing', { ...everything, EDXAPP_DUMP: cutDump });
  const r = await make(s, ['weekly']);
  t.not(r.code, 0, 'the run fails');
  t.match(r.out, /edxprod: FAILED/);
  t.match(r.out, /pipeline: run-end: not stamped, steps failed: refresh/);
  t.equal(await count(s.edx, 'EdxTrackEvent'), EVENTS, 'the clickstream still loads');
  t.ok(((await count(s.edx, 'CourseInfo')) ?? 0) > 0, 'modulestore (independent of edxprod) still runs');
  t.equal(await count(s.priv, 'UserGrade'), undefined, 'usergrade (after edxprod) does not run');
  t.equal(await count(s.prod, 'auth_user'), undefined, 'no half-copied platform table');
  const c = await testConnection();
  const [runs] = await c.query(`SELECT load_end FROM \`${s.edx}\`.FullLoadDates`);
  await c.end();
  t.same(runs, [{ load_end: null }], 'the failed week has no end in FullLoadDates');
});
