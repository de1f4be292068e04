// An output that fails (a full disk: /dev/full; a reader that goes away: | head) stops a tool at
// once with one line naming the output, blames no input line for it (no line reported as
// rejected), and never prints a stack trace; a reader that goes away ends the tool quietly.
import t from 'tap';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, EXAMPLE_LOG, toolEnv } from './helpers/tools.js';
import { event } from './helpers/transform.js';

/** 5,000 good events: more than any buffer holds, none of them a reject of its own. */
const LOG = Array.from({ length: 5000 }, (_, i) => JSON.stringify(event({ event_type: '/courseware', username: `u${i}` }))).join('\n') + '\n';

const FULL = '/dev/full';

/** Run a tool with stdout going to `stdout` (a file descriptor) or a pipe read `keep` bytes of. */
function run(tool: string, args: string[], stdout: number | 'head', input = ''): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', join(REPO, 'bin', tool), ...args],
      { env: toolEnv(), stdio: ['pipe', stdout === 'head' ? 'pipe' : stdout, 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    if (stdout === 'head') {
      // Read the first chunk, then go away as `head -1` does.
      child.stdout!.once('data', () => child.stdout!.destroy());
    }
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(input);
  });
}

t.test('stdout on a full disk: exit 1, one line naming stdout and the reason, no rejected lines', { skip: !existsSync(FULL) && 'no /dev/full' }, async (t) => {
  for (const args of [[], ['--rows']]) {
    const fd = openSync(FULL, 'w');
    const r = await run('edx-json2sql', args, fd, LOG);
    closeSync(fd);
    t.equal(r.code, 1, `${args.join(' ')}: exit 1`);
    t.match(r.stderr, /^edx-json2sql: writing stdout: ENOSPC/m);
    t.notMatch(r.stderr, /rejected \(|\n\s+at /, 'no line blamed, no stack trace');
    t.ok(r.stderr.trim().split('\n').length <= 2, `one line (and at most the summary): ${r.stderr}`);
  }
});

t.test('the reject report on a full disk: the run stops with its name', { skip: !existsSync(FULL) && 'no /dev/full' }, async (t) => {
  const fd = openSync('/dev/null', 'w');
  const r = await run('edx-json2sql', ['--rejects', FULL], fd, 'not json at all\n{"username": "x", "event_type": "a"}\n');
  closeSync(fd);
  t.equal(r.code, 1);
  t.match(r.stderr, /writing \/dev\/full: ENOSPC/);
  t.notMatch(r.stderr, /\n\s+at /);
});

t.test('a reader that goes away (| head) ends every tool that writes stdout quietly', async (t) => {
  for (const [tool, args] of [
    ['edx-json2sql', [EXAMPLE_LOG]],
    ['edx-json2sql', ['--rows', EXAMPLE_LOG]],
    ['edx-screennames', [EXAMPLE_LOG]],
  ] as const) {
    const r = await run(tool, [...args], 'head');
    t.equal(r.code, 0, `${tool} ${args.join(' ')}: exit 0`);
    t.notMatch(r.stderr, /EPIPE|\n\s+at |Unhandled/, `${tool}: nothing about the pipe on stderr`);
  }
});
