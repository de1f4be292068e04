// edx-json2sql as users run it: options, exit codes, summary, reports, determinism.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runTool, parseSummary, EXAMPLE_LOG } from './helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'edx-pipes-cli-'));
const line = (fields: Record<string, unknown>) =>
  JSON.stringify({ username: 'ada', event_source: 'browser', ip: '171.64.10.20', agent: 'a', page: 'p', time: '2014-03-03T08:00:00.000001+00:00', ...fields });

t.test('--help, usage errors and missing files', async (t) => {
  const help = await runTool('edx-json2sql', ['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: edx-json2sql/);
  t.equal(help.stderr, '');
  const bad = await runTool('edx-json2sql', ['--no-such-option']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /unknown option --no-such-option/);
  t.equal(bad.stdout, '');
  const both = await runTool('edx-json2sql', ['--csv', dir, '--rows']);
  t.equal(both.code, 2);
  const missing = await runTool('edx-json2sql', [join(dir, 'nope.gz')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /nope\.gz: no such file/);
  t.match(missing.stdout, /ROLLBACK;/, 'what was written for it is rolled back');
});

t.test('stdin to stdout, summary on stderr, lines accounted for', async (t) => {
  const input = [
    line({ event_type: 'page_close', event: '' }),
    '',
    '# a comment',
    '[1,2]',
    line({ event_type: 'seq_goto', event: '{"old":1,"new":2,"id":"x"}' }).slice(0, 90),
    line({ event_type: '/', event_source: 'server', ip: '10.0.0.1', event: '{}' }),
  ].join('\n');
  const r = await runTool('edx-json2sql', [], { input });
  t.equal(r.code, 0);
  const s = parseSummary(r.stderr);
  t.equal(s.lines, 6);
  t.equal(s.events, 2);
  t.equal(s.filtered, 3);
  t.equal(s.rejected, 1);
  t.equal(s.rescued, 1);
  t.equal(s.lines, s.events + s.filtered + s.rejected, 'lines = events + filtered + rejected');
  t.match(r.stderr, /-:4: rejected \(JSON array, not an event object\): "\[1,2\]"/, 'file:line, reason and the text');
  t.match(r.stdout, /^-- edx-pipes/);
  t.match(r.stdout, /CREATE TABLE IF NOT EXISTS Edx\.EdxTrackEvent/);
  t.notMatch(r.stdout, /DROP TABLE/, 'nothing dropped unless asked');
  t.match(r.stdout, /REPLACE INTO EdxPrivate\.EventIp/);
  t.equal((r.stdout.match(/^START TRANSACTION;$/gm) ?? []).length, 1);
  t.match(r.stdout, /COMMIT;\n/);
});

t.test('--rejects and --stats files', async (t) => {
  const rejects = join(dir, 'rejects.jsonl');
  const stats = join(dir, 'stats.json');
  const r = await runTool('edx-json2sql', ['--rejects', rejects, '--stats', stats, EXAMPLE_LOG]);
  t.equal(r.code, 0);
  const rejected = readFileSync(rejects, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.same(rejected, [{ file: EXAMPLE_LOG, line: 16, reason: 'JSON array, not an event object', raw: '[1, 2, 3]' }]);
  const st = JSON.parse(readFileSync(stats, 'utf8'));
  t.equal(st.lines, st.events + st.filteredTotal + st.rejected);
  t.equal(st.rows.EdxTrackEvent, 20);
  t.equal(st.rows.EventIp, st.events);
  t.equal(st.rows.LoadInfo, 1);
});

t.test('the same log gives byte-identical output, gzip or not', async (t) => {
  const text = readFileSync(EXAMPLE_LOG); // gzip
  const plain = join(dir, 'example.log');
  const { gunzipSync } = await import('node:zlib');
  writeFileSync(plain, gunzipSync(text));
  const a = await runTool('edx-json2sql', ['--quiet', '--source-name', 's3://bucket/x.gz'], { input: text });
  const b = await runTool('edx-json2sql', ['--quiet', '--source-name', 's3://bucket/x.gz'], { input: readFileSync(plain) });
  t.equal(a.code, 0);
  t.equal(a.stdout, b.stdout);
  t.match(a.stdout, /'s3:\/\/bucket\/x\.gz'/, 'load_file is the name given');
});

t.test('several files: one LoadInfo and one transaction each', async (t) => {
  const f1 = join(dir, 'tracking.log-20140303-1.gz');
  const f2 = join(dir, 'tracking.log-20140304-2.gz');
  writeFileSync(f1, gzipSync(line({ event_type: 'page_close', event: '' }) + '\n'));
  writeFileSync(f2, gzipSync(line({ event_type: 'page_close', event: '', time: '2014-03-04T08:00:00.000001+00:00' }) + '\n'));
  const r = await runTool('edx-json2sql', ['--quiet', f1, f2]);
  t.equal(r.code, 0);
  t.equal((r.stdout.match(/^START TRANSACTION;$/gm) ?? []).length, 2);
  t.match(r.stdout, new RegExp(`'file://${f1}'`));
  t.match(r.stdout, new RegExp(`'file://${f2}'`));
});

t.test('values that would break SQL are escaped', async (t) => {
  const nasty = "it's \\ a \"test\"\n\r\0\x1a — ☃ 😀";
  const r = await runTool('edx-json2sql', ['--quiet'], { input: line({ event_type: 'edx.forum.searched', event_source: 'server', event: { query: nasty } }) });
  t.equal(r.code, 0);
  t.match(r.stdout, /'it\\'s \\\\ a \\"test\\"\\n\\r\\0\\Z — ☃ 😀'/);
});
