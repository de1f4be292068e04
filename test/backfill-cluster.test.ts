// A backfill on the engines clusters have (docs/scale.md), run as written in examples/: a Slurm job
// array of shards with a dependent load job (a real single-node Slurm, test/helpers/slurm.ts), and
// GNU parallel over two "hosts". Logs of several days are served by s3rver; each run must give
// exactly the warehouse one `make all` gives from the same bucket (same rows, same ids: the same
// log paths, so the site directory is reused and emptied between runs, databases of their own).
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3, putMany, type S3Test } from './helpers/s3server.js';
import { REPO } from './helpers/tools.js';
import { testServer, testConnection, uniqueName } from './helpers/mariadb.js';
import { logFor } from './helpers/pipeline-logs.js';
import { fingerprint, databaseExists } from './helpers/warehouse.js';
import { startSlurm, type Slurm } from './helpers/slurm.js';
import { waitFor } from './helpers/wait.js';

const BUCKET = 'edx-backfill';
const DAYS = ['20140301', '20140302', '20140303', '20140304', '20140305', '20140306', '20140307', '20140308'];
// One or two servers a day, different sizes: 14 logs over 8 days.
const LOGS: [string, Buffer][] = DAYS.flatMap((d, i) => [
  [`tracking/app1/tracking.log-${d}.gz`, logFor(d, 10 + i, 12 + i)] as [string, Buffer],
  ...(i % 3 === 2 ? [] : [[`tracking/app2/tracking.log-${d}.gz`, logFor(d, 30 + i, 8 + 2 * i)] as [string, Buffer]]),
]);
const FROM = '2014-03-01';
const TO = '2014-03-08';

const tmp = mkdtempSync(join(tmpdir(), 'edx-pipes-backfill-'));
const site = join(tmp, 'site');
const databases: string[] = [];
let s3: S3Test;

interface Warehouse { edx: string; priv: string; config: string }

/** Databases of their own and a config.mk whose paths are always those of `site` (and more lines). */
function warehouse(name: string, more: string[] = []): Warehouse {
  const edx = uniqueName('bf_edx');
  const priv = uniqueName('bf_priv');
  databases.push(edx, priv);
  const config = join(tmp, `${name}.mk`);
  writeFileSync(config, [
    `BUCKET = ${BUCKET}`, 'PREFIX = tracking/', `S3_ENDPOINT = ${s3.endpoint}`, 'S3_REGION = us-east-1',
    `LOG_ROOT = ${site}/tracking`, `OUT = ${site}/CSV`, `LOGS = ${site}/logs`, `EDX_DB = ${edx}`, `PRIVATE_DB = ${priv}`, ...more, '',
  ].join('\n'));
  return { edx, priv, config };
}

/** An empty site: no mirror, no collections, no stamps. */
function freshSite(): void {
  rmSync(site, { recursive: true, force: true });
  mkdirSync(site);
}

async function env(extra: NodeJS.ProcessEnv = {}): Promise<NodeJS.ProcessEnv> {
  const db = await testServer();
  const e: NodeJS.ProcessEnv = { ...s3.env, EDX_PIPES_NO_DEFAULTS: '1' };
  for (const k of ['MYSQL_HOST', 'MYSQL_TCP_PORT', 'MYSQL_USER', 'MYSQL_PWD', 'MYSQL_UNIX_PORT']) {
    if (db.env[k] === undefined) delete e[k];
    else e[k] = db.env[k];
  }
  // No test-runner hooks (they break bin/), no outer make, no settings of the developer.
  for (const k of ['NODE_OPTIONS', 'MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES', 'DRY_RUN', 'JOBS', 'CONFIG', 'BUCKET', 'PREFIX',
    'LOG_ROOT', 'OUT', 'LOGS', 'MANIFEST', 'SHARD', 'SHARDS', 'FROM', 'TO', 'LOAD_JOBS', 'EDX_DB', 'PRIVATE_DB']) delete e[k];
  e.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  return { ...e, ...extra };
}

interface Run { code: number | null; out: string; stdout: string }

function run(cmd: string, args: string[], e: NodeJS.ProcessEnv, timeoutMs = 240000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', cmd, ...args], { env: e, cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stdout = '';
    child.stdout.on('data', (d) => { out += d; stdout += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, stdout }); });
  });
}

/** Files under dir, relative, sorted ([] when it does not exist). */
const tree = (dir: string) => (existsSync(dir) ? (readdirSync(dir, { recursive: true }) as string[]).map(String).sort() : []);

let reference: Record<string, string>;

// A cluster run is many short jobs, each starting node a few times: on a loaded 2-core machine the
// file needs more than the suite's 300 s.
t.setTimeout(900000);

t.before(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  await putMany(s3, BUCKET, LOGS);
});

t.teardown(async () => {
  await s3?.stop();
  if (databases.length) {
    const c = await testConnection();
    await c.query(databases.map((d) => `DROP DATABASE IF EXISTS \`${d}\``).join('; '));
    await c.end();
  }
  rmSync(tmp, { recursive: true, force: true });
});

t.test('the reference: one make all', async (t) => {
  freshSite();
  const w = warehouse('reference');
  const r = await run('make', ['--no-print-directory', '-C', REPO, `CONFIG=${w.config}`, 'all'], await env());
  t.equal(r.code, 0, r.out);
  reference = await fingerprint(w.edx, w.priv);
  t.equal(reference['Edx.LoadInfo']?.split(':')[0], String(LOGS.length), 'every log loaded');
  t.ok(Number(reference['Edx.Answer']?.split(':')[0]) > 0, 'child tables filled');
});

t.test('the manifest: edx-s3-ls --from/--to, sorted and the same every time', async (t) => {
  const e = await env();
  const args = ['--bucket', BUCKET, '--prefix', 'tracking/', '--from', '2014-03-02', '--to', '2014-03-04'];
  const a = await run(join(REPO, 'bin', 'edx-s3-ls'), args, e);
  const b = await run(join(REPO, 'bin', 'edx-s3-ls'), args, e);
  t.equal(a.code, 0, a.out);
  const expected = LOGS.map(([k]) => k).filter((k) => /2014030[234]/.test(k)).sort();
  t.same(a.stdout.trim().split('\n'), expected, 'the keys dated within the range, sorted');
  t.equal(b.stdout, a.stdout, 'the same manifest again');
  const bad = await run(join(REPO, 'bin', 'edx-s3-ls'), ['--bucket', BUCKET, '--from', '2014-13-01'], e);
  t.equal(bad.code, 2, 'a date that is not one is a usage error');
});

t.test('a Slurm job array of shards and a dependent load job', async (t) => {
  const slurm: Slurm | string = await startSlurm();
  if (typeof slurm === 'string') {
    t.comment(`Slurm cannot start on this machine, so the Slurm tests do not run: ${slurm}`);
    t.plan(0, `Slurm cannot start here: ${slurm}`);
    return;
  }
  t.teardown(() => slurm.stop());
  const logs = join(tmp, 'slurm-logs');
  mkdirSync(logs, { recursive: true });
  const submit = async (w: Warehouse, shards: number, extra: NodeJS.ProcessEnv = {}) => {
    const r = await run(join(REPO, 'examples', 'slurm', 'submit-backfill.sh'), [FROM, TO, String(shards)],
      await env({ SLURM_CONF: slurm.env.SLURM_CONF, CONFIG: w.config, MANIFEST: join(tmp, 'slurm.manifest'), SLURM_LOGS: logs, ...extra }));
    const [array, load] = r.stdout.trim().split(/\s+/);
    return { r, array, load };
  };
  const arrayStates = (id: string) => slurm.run('scontrol', ['show', 'job', '-o', id]).stdout.split('\n').filter(Boolean)
    .map((l) => `${/ArrayTaskId=(\S+)/.exec(l)?.[1]}:${/JobState=(\S+)/.exec(l)?.[1]}`).sort();
  const shardOutput = () => readdirSync(logs).filter((f) => f.startsWith('edx-shard-')).map((f) => readFileSync(join(logs, f), 'utf8')).join('\n');

  await t.test('3 shards give exactly the warehouse of make all', async (t) => {
    freshSite();
    const w = warehouse('slurm3');
    const { r, array, load } = await submit(w, 3);
    t.equal(r.code, 0, r.out);
    t.match(r.out, `${LOGS.length} logs dated ${FROM}..${TO} in 3 shards`);
    await slurm.waitFor([array, load]);
    t.same(arrayStates(array), ['0:COMPLETED', '1:COMPLETED', '2:COMPLETED'], 'every shard succeeded');
    t.equal(slurm.state(load), 'COMPLETED', `the load job ran: ${readdirSync(logs).map((f) => readFileSync(join(logs, f), 'utf8')).join('\n')}`);
    t.same(await fingerprint(w.edx, w.priv), reference, 'same tables, rows and ids as make all');
    t.same(tree(join(site, 'CSV')), [], 'every collection loaded and deleted');
    const shards = [...shardOutput().matchAll(/shard (\d)\/3: (\d+) logs/g)].map((m) => [Number(m[1]), Number(m[2])]).sort();
    t.same(shards.map(([i]) => i), [0, 1, 2], 'each shard said what it did');
    t.equal(shards.reduce((a, [, n]) => a + n, 0), LOGS.length, 'the shards cover every log once');
  });

  await t.test('a failing shard stops the load; fixed and submitted again, the same warehouse', async (t) => {
    freshSite();
    rmSync(logs, { recursive: true, force: true });
    mkdirSync(logs);
    const w = warehouse('slurmfail');
    const [brokenKey, goodBody] = LOGS[LOGS.length - 1]; // the last day: the last shard
    await s3.put(BUCKET, brokenKey, goodBody.subarray(0, 40));
    const first = await submit(w, 3);
    t.equal(first.r.code, 0, first.r.out);
    await slurm.waitFor([first.array, first.load]);
    t.same(arrayStates(first.array), ['0:COMPLETED', '1:COMPLETED', '2:FAILED'], 'the shard with the cut log failed');
    t.equal(slurm.state(first.load), 'CANCELLED', 'the load job never ran');
    t.notOk(await databaseExists(w.edx), 'nothing was loaded');
    t.notOk(existsSync(join(site, 'CSV', `${brokenKey}.csv`)), 'no collection for the cut log');

    await s3.put(BUCKET, brokenKey, goodBody);
    const again = await submit(w, 3);
    t.equal(again.r.code, 0, again.r.out);
    await slurm.waitFor([again.array, again.load]);
    t.equal(slurm.state(again.load), 'COMPLETED', 'the load ran this time');
    t.same(await fingerprint(w.edx, w.priv), reference, 'same tables, rows and ids as make all');
    const done = [...shardOutput().matchAll(/(\d+) transformed .*?, (\d+) already done/g)].map((m) => [Number(m[1]), Number(m[2])]);
    const second = done.slice(-3);
    t.equal(second.reduce((a, [n]) => a + n, 0), 1, 'the second submission transformed only the log that had failed');
    t.equal(second.reduce((a, [, n]) => a + n, 0), LOGS.length - 1, 'and found every other log done');
  });

  await t.test('a task killed while it writes, then resubmitted alone: the same warehouse', async (t) => {
    freshSite();
    rmSync(logs, { recursive: true, force: true });
    mkdirSync(logs);
    // A gate the test holds, so that the task is killed in the middle of its work whatever the
    // machine's speed: the transform reads its country database (GEOIP) afresh for each log,
    // after creating the log's .partial collection. Task KILLED's database is a FIFO fed once:
    // its first log is transformed whole, its second waits at the gate with its .partial
    // collection begun. The other tasks read the bundled database (what make all used) by a link.
    const KILLED = 1;
    const bundled = createRequire(join(REPO, 'package.json')).resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
    const gates = join(tmp, 'gates');
    rmSync(gates, { recursive: true, force: true });
    mkdirSync(gates);
    const gate = (i: number) => join(gates, `geoip-${i}.mmdb`);
    for (const i of [0, 1, 2]) {
      if (i !== KILLED) symlinkSync(bundled, gate(i));
      else if (spawnSync('mkfifo', [gate(i)]).status !== 0) throw new Error('mkfifo failed');
    }
    const w = warehouse('slurmkill', [`GEOIP = ${gates}/geoip-$(SLURM_ARRAY_TASK_ID).mmdb`]);
    const feeder = spawn('sh', ['-c', `cat '${bundled}' > '${gate(KILLED)}'`], { stdio: 'ignore' });
    t.teardown(() => { if (feeder.exitCode === null) feeder.kill('SIGKILL'); });

    const first = await submit(w, 3);
    t.equal(first.r.code, 0, first.r.out);
    const e = await env({ SLURM_CONF: slurm.env.SLURM_CONF });
    const manifest = join(tmp, 'slurm.manifest');
    const keys = (await run(join(REPO, 'bin', 'edx-shard'), [manifest, '--shard', `${KILLED}/3`, '--list'], e)).stdout.trim().split('\n');
    t.ok(keys.length >= 2, `task ${KILLED} has several logs: ${keys.join(' ')}`);
    const [done, cut] = keys;
    const csv = (key: string) => join(site, 'CSV', `${key}.csv`);
    const task = `${first.array}_${KILLED}`;
    const taskState = () => /JobState=(\S+)/.exec(slurm.run('scontrol', ['show', 'job', '-o', task]).stdout)?.[1];
    const caught = await waitFor(() => existsSync(csv(done)) && existsSync(`${csv(cut)}.partial`) && taskState() === 'RUNNING', { timeoutMs: 300000, everyMs: 100 });
    t.ok(caught, `task ${KILLED} running, its first log done and its second begun (state ${taskState()})`);
    const killed = slurm.run('scancel', ['--signal=KILL', task]);
    t.equal(killed.code, 0, `scancel --signal=KILL ${task}: ${killed.stderr}`);
    await slurm.waitFor([first.array, first.load]);
    const states = arrayStates(first.array);
    t.same([states[0], states[2]], ['0:COMPLETED', '2:COMPLETED'], 'the other tasks finished');
    t.match(states[KILLED], /^1:(FAILED|CANCELLED)$/, 'the killed task did not succeed');
    t.equal(slurm.state(first.load), 'CANCELLED', 'so the load job never ran');
    t.ok(existsSync(`${csv(cut)}.partial`) && !existsSync(csv(cut)), 'the log being transformed left only its .partial collection');

    // A load now (as one started while shards still write) takes what is complete, never the .partial.
    const early = await run('make', ['--no-print-directory', '-C', REPO, `CONFIG=${w.config}`, 'load'], await env());
    t.equal(early.code, 0, early.out);
    const c = await testConnection();
    const [loaded] = await c.query(`SELECT load_file FROM \`${w.edx}\`.LoadInfo`);
    await c.end();
    const files = (loaded as { load_file: string }[]).map((r) => r.load_file);
    t.ok(files.some((f) => f.endsWith(done)), 'the killed task\'s finished log loaded');
    t.notOk(files.some((f) => f.endsWith(cut)), 'its cut log not loaded');
    t.ok(existsSync(`${csv(cut)}.partial`), 'and its .partial collection left alone');

    // Submitted again alone (the gate open now), with a load after it, as docs/scale.md says:
    // TASKS=1 (sbatch --array=1); the task is still shard 1 of 3, not shard 0 of an array of one.
    unlinkSync(gate(KILLED));
    symlinkSync(bundled, gate(KILLED));
    const again = await submit(w, 3, { TASKS: String(KILLED) });
    t.equal(again.r.code, 0, again.r.out);
    await slurm.waitFor([again.array, again.load]);
    t.same(arrayStates(again.array), [`${KILLED}:COMPLETED`], 'the task submitted again succeeded');
    t.equal(slurm.state(again.load), 'COMPLETED', 'the load ran');
    const redo = readFileSync(join(logs, `edx-shard-${again.array}_${KILLED}.out`), 'utf8');
    t.match(redo, new RegExp(`shard ${KILLED}/3: ${keys.length} logs: ${keys.length - 1} transformed .*?, 1 already done, 0 failed`),
      'it was its own shard again: it redid the cut log and the ones after, not the finished one');
    t.same(await fingerprint(w.edx, w.priv), reference, 'same tables, rows and ids as make all');
    t.same(tree(join(site, 'CSV')), [], 'every collection loaded and deleted, no .partial left');
  });
});

t.test('GNU parallel over two hosts', async (t) => {
  if (spawnSync('sh', ['-c', 'command -v parallel']).status !== 0) {
    t.plan(0, 'GNU parallel is not installed here (apt-get install -y parallel)');
    return;
  }
  freshSite();
  const w = warehouse('parallel');
  // No sshd here: the second host is reached through a stand-in for ssh that runs the command on
  // this machine with an environment as bare as a login's (PATH, HOME, and the host's own S3
  // credentials), so the remote path of parallel (quoting, --sshlogin, --joblog) is what runs.
  const hostEnv = join(tmp, 'otherhost.env');
  const e = await env();
  writeFileSync(hostEnv, ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_EC2_METADATA_DISABLED']
    .map((k) => `export ${k}='${e[k] ?? ''}'\n`).join(''));
  const ssh = join(tmp, 'fake-ssh');
  writeFileSync(ssh, [
    '#!/usr/bin/env bash',
    'while [ $# -gt 0 ] && [[ $1 == -* ]]; do shift; done',
    'host=$1; shift; [ "${1:-}" = -- ] && shift',
    `exec env -i PATH="$PATH" HOME="$HOME" SHELL=/bin/bash USER="$USER" LOGNAME="$USER" bash -c ". '${hostEnv}'; $*"`,
    '',
  ].join('\n'));
  chmodSync(ssh, 0o755);
  const joblog = join(tmp, 'parallel.joblog');
  const r = await run(join(REPO, 'examples', 'parallel', 'backfill.sh'), [FROM, TO, '4'],
    await env({ CONFIG: w.config, MANIFEST: join(tmp, 'parallel.manifest'), JOBLOG: joblog, HOSTS: '1/:,1/otherhost', PARALLEL_SSH: ssh }));
  t.equal(r.code, 0, r.out);
  const jobs = readFileSync(joblog, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  t.equal(jobs.length, 4, 'four shards');
  t.same([...new Set(jobs.map((j) => j[1]))].sort(), [':', 'otherhost'], 'both hosts ran shards');
  t.ok(jobs.every((j) => j[6] === '0'), 'every shard succeeded');
  t.same(await fingerprint(w.edx, w.priv), reference, 'same tables, rows and ids as make all');

  const resumed = await run(join(REPO, 'examples', 'parallel', 'backfill.sh'), [FROM, TO, '4'],
    await env({ CONFIG: w.config, MANIFEST: join(tmp, 'parallel.manifest'), JOBLOG: joblog, HOSTS: '1/:,1/otherhost', PARALLEL_SSH: ssh }));
  t.equal(resumed.code, 0, resumed.out);
  t.equal(readFileSync(joblog, 'utf8').trim().split('\n').length - 1, 4, '--resume-failed runs no shard that succeeded');
  t.same(await fingerprint(w.edx, w.priv), reference, 'and the warehouse is unchanged');
});
