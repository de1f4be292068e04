// edx-json2sql as users run it: options, exit codes, summary, reports, determinism.
import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runTool, parseSummary, EXAMPLE_LOG } from './helpers/tools.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('cli');
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
  t.equal(missing.stdout, '', 'inputs are checked before anything is written: not even the databases are created');
});

t.test('a bad --geoip or --modulestore: one line naming the path and the reason, exit 1, no stack', async (t) => {
  const png = join(dir, 'pic.png');
  writeFileSync(png, Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'));
  const brokenExport = join(dir, 'broken-modulestore.json');
  writeFileSync(brokenExport, '[{"_id": {"category": "course"}, ');
  const emptyDir = join(dir, 'no-exports');
  mkdirSync(emptyDir);
  const cases: [args: string[], message: RegExp][] = [
    [['--geoip', png], /^edx-json2sql: .*pic\.png is not a MaxMind-format country database \(.*\)\n$/],
    [['--geoip', join(dir, 'nope.mmdb')], /^edx-json2sql: cannot read the country database .*nope\.mmdb: no such file\n$/],
    [['--geoip', dir], /^edx-json2sql: cannot read the country database .*: is a directory\n$/],
    [['--modulestore', join(dir, 'nope.json')], /^edx-json2sql: cannot read the modulestore export .*nope\.json: no such file\n$/],
    [['--modulestore', emptyDir], /^edx-json2sql: .*no-exports: no \.json or \.bson export in the directory\n$/],
    [['--modulestore', brokenExport], /^edx-json2sql: modulestore export: .*broken-modulestore\.json:1: .*\n$/],
  ];
  for (const [args, message] of cases) {
    const r = await runTool('edx-json2sql', [...args, EXAMPLE_LOG]);
    t.equal(r.code, 1, args.join(' '));
    t.match(r.stderr, message, `${args.join(' ')}: one line`);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
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

t.test('stdin is a source of its own per log: named by its first line, or by --source-name', async (t) => {
  const day1 = [line({ event_type: 'page_close', event: '' }), line({ event_type: 'seq_goto', event: '{}' })].join('\n') + '\n';
  const day2 = [line({ event_type: 'play_video', event: '{}' })].join('\n') + '\n';
  const loadFile = (sql: string) => /REPLACE INTO Edx\.LoadInfo \([^)]*\) VALUES\n\('[0-9a-f]+',CURRENT_TIMESTAMP,'([^']*)'\)/.exec(sql)?.[1];
  const a = await runTool('edx-json2sql', [], { input: day1 });
  const b = await runTool('edx-json2sql', [], { input: day2 });
  const again = await runTool('edx-json2sql', [], { input: '\0\0\n\n' + day1 });
  t.match(loadFile(a.stdout), /^stdin:[0-9a-f]{16}$/, 'stdin: and a hash of its first line');
  t.not(loadFile(a.stdout), loadFile(b.stdout), 'two logs piped in are two sources (one name made the second be skipped as loaded)');
  t.equal(loadFile(again.stdout), loadFile(a.stdout), 'the same log piped in again is the same source (blank and NUL lines before it do not count)');
  const named = await runTool('edx-json2sql', ['--source-name', 's3://b/tracking.log-20140303.gz'], { input: day1 });
  t.equal(loadFile(named.stdout), 's3://b/tracking.log-20140303.gz');
  const empty = await runTool('edx-json2sql', [], { input: '' });
  t.equal(empty.code, 0);
  t.equal(loadFile(empty.stdout), 'stdin:empty');
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
