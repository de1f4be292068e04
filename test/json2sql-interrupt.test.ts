// edx-json2sql --csv stopped mid-source: the partial table files (Account, EventIp: personal
// data) are removed at SIGTERM/SIGINT/SIGHUP, and what a SIGKILL left is removed when the same
// log is transformed again. The run is caught by the partial files appearing, never by a sleep.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { ChildProcess } from 'node:child_process';
import { EXAMPLE_LOG, runTool, spawnTool } from './helpers/tools.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

const log = gunzipSync(readFileSync(EXAMPLE_LOG));
const partials = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.partial'));

/** edx-json2sql --csv DIR reading stdin, given the whole log but no end of input: it stays inside the source. */
async function midSource(dir: string): Promise<{ child: ChildProcess; ended: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> }> {
  const child = spawnTool('edx-json2sql', ['--csv', dir]);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdout!.resume();
  child.stdin!.on('error', () => undefined);
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((r) =>
    child.on('close', (code, signal) => r({ code, signal, stderr })));
  child.stdin!.write(log);
  await waitFor(() => partials(dir).length > 0, { child });
  return { child, ended };
}

for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130], ['SIGHUP', 129]] as const) {
  t.test(`${signal}: the partial files are removed, exit ${code}`, async (t) => {
    const dir = tempDir(`j2s-${signal}`, t);
    const { child, ended } = await midSource(dir);
    t.ok(partials(dir).length > 0, 'partial table files while the source is open');
    child.kill(signal);
    const r = await ended;
    t.equal(r.code, code);
    t.same(readdirSync(dir), [], 'nothing left');
    t.match(r.stderr, new RegExp(`stopped by ${signal}: the unfinished files in .* are removed`));
  });
}

t.test('SIGKILL leaves partial files; transforming the same log again removes them', async (t) => {
  const dir = tempDir('j2s-kill', t);
  const { child, ended } = await midSource(dir);
  child.kill('SIGKILL');
  t.equal((await ended).signal, 'SIGKILL');
  const left = partials(dir);
  t.ok(left.length > 0, 'SIGKILL left partial files');
  const r = await runTool('edx-json2sql', ['--csv', dir], { input: log });
  t.equal(r.code, 0, r.stderr);
  t.same(partials(dir), [], 'the rerun removed them');
  t.ok(readdirSync(dir).some((n) => n.endsWith('.manifest.json')), 'and wrote the complete collection');
});
