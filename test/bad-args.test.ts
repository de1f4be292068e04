// Every tool given bad paths and bad values (issue 15 item 2): one line on stderr naming what was
// wrong (a usage error adds only the pointer to --help), exit 1 or 2, nothing on stdout, never a
// stack trace, and nothing done first. The paths are checked before any connection or download.
import t from 'tap';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTool, EXAMPLE_LOG } from './helpers/tools.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('badargs');
const notADir = join(dir, 'notadir');
writeFileSync(notADir, 'x\n');
const emptyDir = join(dir, 'empty');
mkdirSync(emptyDir);
const missing = join(dir, 'missing');

/** tool, arguments, exit status, what the one line says. */
const CASES: [string, string[], 1 | 2, RegExp][] = [
  ['edx-json2sql', [missing], 1, /missing: no such file/],
  ['edx-json2sql', [emptyDir], 1, /empty: is a directory, not a log/],
  ['edx-json2sql', ['--modulestore', missing, EXAMPLE_LOG], 1, /modulestore export .*missing: no such file/],
  ['edx-json2sql', ['--geoip', notADir, EXAMPLE_LOG], 1, /notadir is not a MaxMind-format country database/],
  ['edx-json2sql', ['--csv', notADir, EXAMPLE_LOG], 2, /--csv .*notadir: exists and is not a directory/],
  ['edx-json2sql', ['--rejects', join(missing, 'r.jsonl'), EXAMPLE_LOG], 1, /--rejects .*: the directory .*missing does not exist/],
  ['edx-json2sql', ['--edx-db', 'a`b', EXAMPLE_LOG], 2, /--edx-db/],
  ['edx-csvload', [missing], 1, /missing: no such file or directory/],
  ['edx-csvload', [notADir], 1, /notadir: not a readable manifest/],
  ['edx-csvload', ['--tmpdir', missing, '-'], 1, /--tmpdir .*missing: no such directory/],
  ['edx-csvload', ['--tmpdir', notADir, '-'], 2, /--tmpdir .*notadir: is not a directory/],
  ['edx-csvload', ['--collections', missing], 1, /--collections .*missing: no such directory/],
  ['edx-csvload', ['--init', '--forum-key-file', missing], 1, /--forum-key-file .*missing: no such file/],
  ['edx-csvload', ['--segment-size', 'lots', emptyDir], 2, /--segment-size: not a size: "lots"/],
  ['edx-csvload', ['--jobs', '0', emptyDir], 2, /--jobs: not a positive count: "0"/],
  ['edx-s3-ls', ['--bucket', 'b', '--from', '2014-13-45'], 2, /--from: not a date/],
  ['edx-s3-ls', ['--bucket', 'b', '--match', '('], 2, /--match: not a valid regular expression/],
  ['edx-s3-ls', ['--bucket', 'b', '--endpoint-url', 'notaurl'], 2, /--endpoint-url: 'notaurl' is not a URL/],
  ['edx-fetch', ['--bucket', 'b', '--local-root', notADir, 'k'], 2, /--local-root .*notadir: exists and is not a directory/],
  ['edx-fetch', ['--bucket', 'b', '--local-root', dir, '--jobs', '0', 'k'], 2, /--jobs takes a whole number >= 1/],
  ['edx-screennames', [missing], 1, /missing: no such file/],
  ['edx-screennames', [emptyDir], 1, /empty: is a directory/],
  ['edx-screennames', ['--regex', '('], 2, /--regex: Invalid regular expression/],
  ['edx-extract-table', [missing, 'T'], 1, /missing: no such file/],
  ['edx-extract-table', [emptyDir, 'T'], 1, /empty: is a directory/],
  ['edx-refresh', ['nosuchjob'], 2, /no job named 'nosuchjob'/],
  ['edx-refresh', ['--dump', missing, 'edxprod'], 1, /--dump .*missing: no such file/],
  ['edx-refresh', ['--forum', emptyDir, 'forum'], 2, /--forum .*empty: is a directory, not a file/],
  ['edx-refresh', ['--modulestore', missing, 'modulestore'], 1, /--modulestore .*missing: no such file or directory/],
  ['edx-shard', [missing, '--list'], 1, /missing: no such file/],
  ['edx-shard', [notADir, '--shard', '3/2', '--list'], 2, /--shard: shard index 3 is not within 0\.\.1/],
  ['edx-shard', [notADir, '--shard', 'x', '--list'], 2, /--shard: not I\/N: "x"/],
  ['edx-hash-lookup', ['--modulestore', missing, 'x'], 1, /--modulestore .*missing: .*no such file/],
  ['edx-hash-lookup', ['--modulestore', notADir, 'x'], 1, /--modulestore .*notadir: .*not valid JSON/],
  ['edx-ext2anon', [missing], 1, /missing: no such file/],
  ['edx-course-extract', ['--chunk-rows', '0', 'x'], 2, /--chunk-rows takes a whole number above 0/],
  ['edx-course-extract', ['--table', 'a`b', 'x'], 2, /--table: 'a`b' is not a plain table name/],
];

t.test('bad paths and values: one line, the right exit status, no stack trace', async (t) => {
  const results = await Promise.all(CASES.map(([tool, args]) => runTool(tool, args, { input: '' })));
  CASES.forEach(([tool, args, code, why], i) => {
    const r = results[i];
    const what = `${tool} ${args.join(' ')}`;
    t.equal(r.code, code, `${what}: exit ${code}`);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    t.match(lines[0] ?? '', new RegExp(`^${tool}: `), `${what}: the line names the tool`);
    t.match(lines[0] ?? '', why, `${what}: says why`);
    t.same(lines.slice(1), code === 2 ? [`Try '${tool} --help' for more information.`] : [], `${what}: nothing more`);
    t.notMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
    t.equal(r.stdout, '', `${what}: nothing on stdout`);
  });
  t.same(readdirSync(emptyDir), [], 'nothing written into a directory given as an input');
});
