// A log read while its writer is half-way through its last line (docs/decisions.md §8, issue 14 item 4):
// the cut line must not become a rescued row, whose id would come from the cut text and stay beside
// the complete line's row forever. It goes to the reject report as incomplete; the complete line
// loads once, on the next run, and the table then holds each event once.
import t from 'tap';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runTool } from './helpers/tools.js';
import { loadSqlScript, testConnection, throwawayDatabases } from './helpers/mariadb.js';

const dir = mkdtempSync(join(tmpdir(), 'edx-pipes-growing-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const event = (n: number) => JSON.stringify({ username: `learner${n}`, event_type: 'seq_goto', event_source: 'browser', ip: '10.1.1.1',
  event: JSON.stringify({ old: n, new: n + 1, id: 'i4x://A/B/sequential/s' }), page: 'https://lms/courses/A/B/C/courseware/', time: `2014-03-03T08:00:0${n}.000000+00:00` });

t.test('a plain log cut in its last line by its writer, read, then read again once complete', async (t) => {
  const { edx, priv } = throwawayDatabases(t, 'edx_grow');
  const log = join(dir, 'tracking.log');
  const last = event(3);
  // The writer has written two lines and half of the third (one write() cut by the reader's read).
  writeFileSync(log, `${event(1)}\n${event(2)}\n${last.slice(0, 90)}`);
  const rejects = join(dir, 'rejects.jsonl');
  const first = await runTool('edx-json2sql', ['--quiet', '--edx-db', edx, '--private-db', priv, '--rejects', rejects, log]);
  t.equal(first.code, 0, first.stderr);
  const reported = readFileSync(rejects, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.equal(reported.length, 1, 'the cut line is reported');
  t.match(reported[0], { file: log, line: 3, raw: last.slice(0, 90), reason: /incomplete last line/ }, 'as incomplete, with its place and text');
  t.equal(await loadSqlScript(first.stdout), 0);

  // The writer finishes the line; the next run (forced or not, by name) reads the whole file.
  appendFileSync(log, `${last.slice(90)}\n`);
  const second = await runTool('edx-json2sql', ['--quiet', '--edx-db', edx, '--private-db', priv, log]);
  t.equal(second.code, 0, second.stderr);
  t.equal(await loadSqlScript(second.stdout), 0);
  const c = await testConnection();
  const [rows] = await c.query(`SELECT goto_from, COUNT(*) AS n FROM ${edx}.EdxTrackEvent GROUP BY goto_from ORDER BY goto_from`);
  t.same(rows, [{ goto_from: 1, n: 1 }, { goto_from: 2, n: 1 }, { goto_from: 3, n: 1 }], 'each event once: no phantom of the cut line');
  const [bad] = await c.query(`SELECT COUNT(*) AS n FROM ${edx}.EdxTrackEvent WHERE badly_formatted <> ''`);
  t.same(bad, [{ n: 0 }], 'no rescued row');
  await c.end();
});

t.test('what is not a growing file keeps its last line', async (t) => {
  // A complete JSON line without a newline is the whole line: transformed, with the id it has once ended.
  const whole = join(dir, 'whole.log');
  writeFileSync(whole, `${event(1)}\n${event(2)}`);
  const a = await runTool('edx-json2sql', ['--quiet', '--rows', whole]);
  const b = await runTool('edx-json2sql', ['--quiet', '--rows', whole], {});
  writeFileSync(whole, `${event(1)}\n${event(2)}\n`);
  const ended = await runTool('edx-json2sql', ['--quiet', '--rows', whole]);
  t.equal(a.code, 0, a.stderr);
  t.equal(a.stdout, ended.stdout, 'a whole last line gives the rows it gives once its newline is written');
  t.equal(a.stdout, b.stdout);
  // A gzip file is complete (a cut one fails as such), and stdin is a stream: their cut last line is rescued as before.
  const cutText = `${event(1)}\n${event(2).slice(0, 90)}`;
  const gz = join(dir, 'day.log.gz');
  writeFileSync(gz, gzipSync(cutText));
  for (const [what, args, input] of [['gzip', [gz], undefined], ['stdin', ['-'], cutText]] as const) {
    const r = await runTool('edx-json2sql', ['--quiet', '--rows', ...args], { input });
    t.equal(r.code, 0, `${what}: ${r.stderr}`);
    t.equal(r.stdout.split('\n').filter((l) => l.startsWith('EdxTrackEvent,')).length, 2, `${what}: the cut line is rescued, a row`);
  }
});
