// Running the real tools (bin/…) as child processes, the way users and pipelines do.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED = process.env.EDX_PIPES_SHARED ?? join(REPO, '..', 'shared');
export const EXAMPLE_LOG = join(REPO, 'examples', 'tracking.log-20140303.gz');

/** The shared reference material, or a reason to skip the test that needs it. */
export function shared(path: string): { path: string; skip: string | false } {
  const full = join(SHARED, path);
  return { path: full, skip: existsSync(full) ? false : `${full} is missing (set EDX_PIPES_SHARED to the shared/ folder)` };
}

/**
 * The environment for a spawned tool: tap puts its loader hooks into NODE_OPTIONS for every child
 * process, and they break our extensionless bin/ scripts, so they are taken out.
 */
export function toolEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  delete out.NODE_OPTIONS;
  return out;
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runTool(
  tool: string,
  args: string[],
  opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    // tap's process tracking injects its hooks into NODE_OPTIONS of every spawned child, even
    // when the env given says otherwise; env -u takes them out inside the child.
    const child = spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', join(REPO, 'bin', tool), ...args], { env: toolEnv(opts.env), cwd: opts.cwd ?? REPO });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.on('error', () => {}); // a tool may exit before reading all of its input
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** The summary line edx-json2sql prints on stderr, as numbers. */
export function parseSummary(stderr: string) {
  const line = stderr.split('\n').find((l) => l.includes('lines read')) ?? '';
  const num = (re: RegExp) => Number(re.exec(line)?.[1] ?? NaN);
  const rows: Record<string, number> = {};
  const rowsText = /rows: ([^;]*)/.exec(line)?.[1] ?? '';
  for (const m of rowsText.matchAll(/(\w+) (\d+)/g)) rows[m[1]] = Number(m[2]);
  return {
    line,
    lines: num(/(\d+) lines read/),
    events: num(/(\d+) events/),
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

/** Run a program with bytes in and bytes out (runTool's stdout is text: no good for binary dumps). */
export function runBytes(cmd: string, args: string[], input?: Buffer | string, env: NodeJS.ProcessEnv = toolEnv()): Promise<BytesResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd: REPO });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }));
    child.stdin.on('error', () => {}); // a program may stop reading early (the table is out)
    child.stdin.end(input ?? '');
  });
}
