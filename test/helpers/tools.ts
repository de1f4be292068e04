// Running the real tools (bin/…) and other programs as child processes, the way users and pipelines
// do: the one place that spawns them for every test file.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository: the first folder above this file holding package.json (the tests also run compiled, from .test-build/). */
export const REPO = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();
export const SHARED = process.env.EDX_PIPES_SHARED ?? join(REPO, '..', 'shared');
export const EXAMPLE_LOG = join(REPO, 'examples', 'tracking.log-20140303.gz');

/** The shared reference material, or a reason to skip the test that needs it. */
export function shared(path: string): { path: string; skip: string | false } {
  const full = join(SHARED, path);
  return { path: full, skip: existsSync(full) ? false : `${full} is missing (set EDX_PIPES_SHARED to the shared/ folder)` };
}

/**
 * The environment for a spawned tool: tap puts its loader hooks into NODE_OPTIONS for every child
 * process, and they break our extensionless bin/ scripts, so they are taken out. The developer's
 * own MySQL option files are not the test's: the usual ones are not read (EDX_PIPES_NO_DEFAULTS),
 * and an EDX_PIPES_MY_CNF of the developer's shell is dropped (one a test sets is kept).
 */
export function toolEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  delete out.NODE_OPTIONS;
  out.EDX_PIPES_NO_DEFAULTS ??= '1';
  if (out.EDX_PIPES_MY_CNF !== undefined && out.EDX_PIPES_MY_CNF === DEVELOPER_MY_CNF) delete out.EDX_PIPES_MY_CNF;
  return out;
}

/** The option file the developer's shell names, if any (never one of a test's). */
const DEVELOPER_MY_CNF = process.env.EDX_PIPES_MY_CNF;

/** A tool of ours by its name (`edx-fetch` is bin/edx-fetch); anything else as given (a path, `make`, `bash`). */
const program = (cmd: string) => (/^edx-[\w-]+$/.test(cmd) ? join(REPO, 'bin', cmd) : cmd);

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdio?: StdioOptions;
  /** The leader of a process group of its own, so that the whole group can be killed. */
  detached?: boolean;
}

/**
 * Start a program. tap's process tracking injects its loader hooks into NODE_OPTIONS of every child
 * it sees spawned, even when the env given says otherwise, and they load the extensionless bin/
 * scripts as CommonJS: env(1) takes them out just before the program starts.
 */
export function spawnTool(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', program(cmd), ...args],
    { env: toolEnv(opts.env), cwd: opts.cwd ?? REPO, stdio: opts.stdio ?? 'pipe', detached: opts.detached });
}

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
  /** stdout and stderr as they arrived, interleaved (as a terminal or a log file shows them). */
  output: string;
}

export interface RunOptions extends Omit<SpawnOptions, 'stdio'> {
  input?: string | Buffer;
  /** Killed (its group when detached) after this long: a guard against a hang, never a wait. */
  timeoutMs?: number;
  onStart?: (child: ChildProcess) => void;
}

/** Run a program to its end with `input` on stdin; everything it wrote. */
export function runTool(cmd: string, args: string[], opts: RunOptions = {}): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawnTool(cmd, args, opts);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const both: Buffer[] = [];
    child.stdout!.on('data', (d) => { out.push(d); both.push(d); });
    child.stderr!.on('data', (d) => { err.push(d); both.push(d); });
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
      try {
        if (opts.detached) process.kill(-child.pid!, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch { /* gone */ }
    }, opts.timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes,
        output: Buffer.concat(both).toString('utf8') });
    });
    child.stdin!.on('error', () => {}); // a program may exit (or stop reading) before all of its input
    child.stdin!.end(opts.input ?? '');
    opts.onStart?.(child);
  });
}

/** A bash script with pipefail (a pipeline of tools), run like runTool. */
export function runShell(script: string, opts: RunOptions = {}): Promise<ToolResult> {
  return runTool('bash', ['-o', 'pipefail', '-c', script], opts);
}

/** A word for a bash script. */
export const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The summary line edx-json2sql prints on stderr, as numbers. */
export function parseSummary(stderr: string) {
  const line = stderr.split('\n').find((l) => l.includes('lines read')) ?? '';
  const num = (re: RegExp) => Number(re.exec(line)?.[1] ?? NaN);
  const rows: Record<string, number> = {};
  const rowsText = /rows: ([^;]*)/.exec(line)?.[1] ?? '';
  for (const m of rowsText.matchAll(/(\w+) (\d+)/g)) rows[m[1]] = Number(m[2]);
  return {
    line,
    lines: num(/(\d+) lines? read/),
    events: num(/(\d+) events?\b/),
    filtered: num(/(\d+) filtered/),
    rejected: num(/(\d+) rejected/),
    rescued: num(/(\d+) rescued/),
    rows,
  };
}

export interface BytesResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** runTool with stdout as bytes (no good as text for binary dumps). */
export async function runBytes(cmd: string, args: string[], input?: Buffer | string, env?: NodeJS.ProcessEnv): Promise<BytesResult> {
  const r = await runTool(cmd, args, { input, env });
  return { code: r.code, stdout: r.stdoutBytes, stderr: r.stderr };
}
