// A real single-node Slurm for tests: munged, slurmctld and slurmd from Debian's slurm-wlm and
// munge, started from a temporary directory (configuration, key, state, spool, logs) on 127.0.0.1
// at free ports, and stopped with everything removed. Needs root (slurmd runs jobs as their user)
// and the packages; when either is missing or a daemon does not come up, `startSlurm` says why
// instead of returning a cluster, so that tests can skip plainly.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface Slurm {
  dir: string;
  /** Environment for sbatch, squeue, ...: SLURM_CONF and the munge socket. */
  env: NodeJS.ProcessEnv;
  /** Run a Slurm command; stdout, stderr and status. */
  run(cmd: string, args: string[], extraEnv?: NodeJS.ProcessEnv): { code: number | null; stdout: string; stderr: string };
  /** Wait until the jobs have left the queue (ended in any way); their final states from sacct-less scontrol. */
  waitFor(jobIds: string[], timeoutMs?: number): Promise<void>;
  /** The job's state as scontrol shows it while Slurm remembers it (MinJobAge), e.g. COMPLETED, FAILED, CANCELLED. */
  state(jobId: string): string;
  stop(): Promise<void>;
}

const freePort = () => new Promise<number>((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => {
    const port = (s.address() as { port: number }).port;
    s.close(() => resolve(port));
  });
});

const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Poll `ok` every 100 ms until it holds or the time is up. */
async function until(ok: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (ok()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return ok();
}

/** A running single-node cluster, or the reason there is none. */
export async function startSlurm(): Promise<Slurm | string> {
  if (process.getuid?.() !== 0) return 'not root: slurmd must run as root to start jobs';
  for (const cmd of ['munged', 'slurmctld', 'slurmd', 'sbatch', 'scontrol', 'sinfo', 'squeue']) {
    if (!which(cmd)) return `${cmd} is not installed (apt-get install -y slurm-wlm munge)`;
  }
  const munge = spawnSync('id', ['-u', 'munge'], { encoding: 'utf8' });
  if (munge.status !== 0) return 'there is no munge user (apt-get install -y munge)';
  const mungeUid = Number(munge.stdout.trim());
  const mungeGid = Number(spawnSync('id', ['-g', 'munge'], { encoding: 'utf8' }).stdout.trim());

  const dir = mkdtempSync(join(tmpdir(), 'edx-pipes-slurm-'));
  chmodSync(dir, 0o755);
  const mdir = join(dir, 'munge');
  mkdirSync(mdir, { mode: 0o700 });
  const key = join(mdir, 'munge.key');
  writeFileSync(key, randomBytes(1024), { mode: 0o400 });
  chownSync(key, mungeUid, mungeGid);
  chownSync(mdir, mungeUid, mungeGid);
  const socket = join(mdir, 'munge.socket');
  const children: ChildProcess[] = [];
  // Should the test process end without stop() (a timeout), no daemon and no file outlives it.
  const killNow = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killNow);
  const stopAll = async () => {
    process.off('exit', killNow);
    for (const c of children.reverse()) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => c.kill('SIGKILL'), 10000);
        c.once('exit', () => { clearTimeout(timer); resolve(); });
        c.kill('SIGTERM');
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const host = hostname().split('.')[0];
  const [ctldPort, dPort] = [await freePort(), await freePort()];
  for (const d of ['state', 'spool', 'log']) mkdirSync(join(dir, d));
  const conf = join(dir, 'slurm.conf');
  writeFileSync(conf, [
    'ClusterName=edxpipes',
    `SlurmctldHost=${host}(127.0.0.1)`,
    `SlurmctldPort=${ctldPort}`,
    `SlurmdPort=${dPort}`,
    'SlurmUser=root',
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `AuthInfo=socket=${socket}`,
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    'MpiDefault=none',
    'ReturnToService=2',
    'MinJobAge=600',
    `StateSaveLocation=${join(dir, 'state')}`,
    `SlurmdSpoolDir=${join(dir, 'spool')}`,
    `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
    `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
    `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
    `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
    `NodeName=${host} NodeAddr=127.0.0.1 CPUs=2 RealMemory=4000 State=UNKNOWN`,
    'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
    '',
  ].join('\n'));
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf };
  delete env.NODE_OPTIONS;

  const start = (cmd: string, args: string[], as?: { uid: number; gid: number }) => {
    const c = spawn(cmd, args, { env, stdio: 'ignore', ...as });
    children.push(c);
    return c;
  };
  const log = (name: string) => (existsSync(join(dir, 'log', name)) ? readFileSync(join(dir, 'log', name), 'utf8').split('\n').slice(-8).join('\n') : '');
  const fail = async (why: string) => { await stopAll(); return why; };

  start('munged', ['--foreground', `--key-file=${key}`, `--socket=${socket}`,
    `--pid-file=${join(mdir, 'munged.pid')}`, `--log-file=${join(mdir, 'munged.log')}`, `--seed-file=${join(mdir, 'munged.seed')}`, '--force'], { uid: mungeUid, gid: mungeGid });
  if (!(await until(() => existsSync(socket), 15000))) return fail(`munged did not start: ${existsSync(join(mdir, 'munged.log')) ? readFileSync(join(mdir, 'munged.log'), 'utf8') : `no log in ${mdir} (can the munge user reach it? every folder above it must be traversable by others)`}`);
  start('slurmctld', ['-D', '-f', conf]);
  start('slurmd', ['-D', '-f', conf, '-N', host]);

  const run: Slurm['run'] = (cmd, args, extraEnv = {}) => {
    const r = spawnSync(cmd, args, { env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 60000 });
    return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const idle = await until(() => /idle/.test(run('sinfo', ['-h', '-o', '%T']).stdout), 30000);
  if (!idle) return fail(`the node did not become idle: ${run('sinfo', ['-h']).stdout}${run('sinfo', []).stderr}\n${log('slurmctld.log')}\n${log('slurmd.log')}`);

  const state = (id: string) => /JobState=(\S+)/.exec(run('scontrol', ['show', 'job', '-o', id]).stdout)?.[1] ?? 'UNKNOWN';
  return {
    dir,
    env,
    run,
    state,
    async waitFor(ids, timeoutMs = 240000) {
      const gone = await until(() => {
        const q = run('squeue', ['-h', '-o', '%i', '-j', ids.join(',')]);
        return q.code === 0 ? q.stdout.trim() === '' : true;
      }, timeoutMs);
      if (!gone) throw new Error(`jobs ${ids.join(',')} still queued after ${timeoutMs} ms`);
    },
    stop: stopAll,
  };
}
