// Slips of the finger and wrong files (issue 15 items 1, 2, 4): an output option naming an input
// or something that looks like one is refused before anything is opened for writing; bad paths
// fail at once with one line naming the option and the path; a file with no tracking event
// (a picture, a CSV) fails and is never recorded as loaded.
import t from 'tap';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import type { RowDataPacket } from 'mysql2/promise';
import { runTool, EXAMPLE_LOG } from './helpers/tools.js';
import { testConnection, testServer } from './helpers/mariadb.js';
import { warehouseOf } from './helpers/warehouse.js';

const dir = mkdtempSync(join(tmpdir(), 'edx-pipes-slips-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const log = join(dir, 't1.gz');
copyFileSync(EXAMPLE_LOG, log);
const original = readFileSync(log);
const plain = join(dir, 'tracking.log');
writeFileSync(plain, '{"username": "a", "event_type": "/x", "time": "2014-03-03T08:00:00+00:00"}\n');
const noStack = (t: { notMatch(s: string, re: RegExp, m: string): void }, stderr: string) => t.notMatch(stderr, /\n\s+at /, 'no stack trace');

t.test('an output option never overwrites an input or what looks like one', async (t) => {
  for (const [args, input, why] of [
    [['--rejects', log], '', /--rejects .*t1\.gz: exists and looks like a tracking log or a gzip file/],
    [['--stats', log, log], undefined, /--stats .*t1\.gz: that is one of the inputs/],
    [['--rejects', plain, EXAMPLE_LOG], undefined, /--rejects .*tracking\.log: exists and looks like a tracking log/],
  ] as const) {
    const r = await runTool('edx-json2sql', [...args], input === undefined ? {} : { input });
    t.equal(r.code, 2, `${args.join(' ')}: usage error`);
    t.match(r.stderr, why);
    t.equal(r.stdout, '', 'nothing written');
    noStack(t, r.stderr);
  }
  t.same(readFileSync(log), original, 'the log is untouched');
  t.ok(statSync(plain).size > 0);
});

t.test('bad paths fail before the work, in one line naming the option and the path', async (t) => {
  writeFileSync(join(dir, 'notadir'), 'x');
  for (const [args, code, why] of [
    [['--rejects', '/nonexistent/dir/r.jsonl', EXAMPLE_LOG], 1, /--rejects \/nonexistent\/dir\/r\.jsonl: the directory \/nonexistent\/dir does not exist/],
    [['--stats', '/nonexistent/dir/s.json', EXAMPLE_LOG], 1, /--stats \/nonexistent\/dir\/s\.json: the directory/],
    [['--csv', join(dir, 'notadir'), EXAMPLE_LOG], 2, /--csv .*notadir: exists and is not a directory/],
    [['--stats', dir, EXAMPLE_LOG], 2, /--stats .*: is a directory, not a file/],
    [[join(dir, 'nope.gz'), EXAMPLE_LOG], 1, /nope\.gz: no such file/],
    [[dir], 1, /is a directory, not a log/],
  ] as const) {
    const r = await runTool('edx-json2sql', [...args]);
    t.equal(r.code, code, `${args.join(' ')}: exit ${code}`);
    t.match(r.stderr, why);
    t.equal(r.stdout, '', 'nothing written, not even the databases of a script');
    noStack(t, r.stderr);
  }
});

t.test('a picture or a CSV is no tracking log: exit 1, and it is never recorded as loaded', async (t) => {
  const png = join(dir, 'pic.png');
  writeFileSync(png, Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), deflateSync(Buffer.alloc(4096, 7))]));
  const csv = join(dir, 'table.csv');
  writeFileSync(csv, 'a,b,c\n1,2,3\n');
  const server = await testServer();
  const wh = await warehouseOf(t, [], 'edx_slip', { init: true });
  for (const file of [png, csv]) {
    const rows = await runTool('edx-json2sql', ['--rows', '--quiet', ...wh.args, file]);
    t.equal(rows.code, 1, `${file}: edx-json2sql fails`);
    t.match(rows.stderr, /not a tracking log: none of its \d+ lines? (is|are) a tracking event/);
    const load = await runTool('edx-csvload', [...wh.args], { input: rows.stdout, env: server.env });
    t.equal(load.code, 1, 'edx-csvload fails the source');
    noStack(t, rows.stderr + load.stderr);
  }
  const c = await testConnection(wh.edx);
  const [loaded] = await c.query<RowDataPacket[]>('SELECT load_file FROM LoadInfo');
  const [events] = await c.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM EdxTrackEvent');
  await c.end();
  t.same(loaded.map((r) => r.load_file).filter((f) => /pic\.png|table\.csv/.test(f)), [], 'not in LoadInfo');
  t.same(events, [{ n: 0 }], 'no junk row');
});
