// edx-screennames as users run it: the CSV of screen names and hashes, the line variants it
// reads, its reports and exit codes, and (above all) that its hashes are the ones edx-json2sql
// stores in EdxTrackEvent.anon_screen_name for the same events.
import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { runShell, runTool, EXAMPLE_LOG } from './helpers/tools.js';
import { transform, event } from './helpers/transform.js';
import { decodeLine } from '../src/tracklog/decode.js';
import { tempDir } from './helpers/tmp.js';

const TOOL = 'edx-screennames';
const dir = tempDir('screennames');
const ripemd = (s: string) => createHash('ripemd160').update(s, 'utf8').digest('hex');

/** RFC 4180 CSV → rows of fields (the test's own reader, independent of the tool's writer). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else field += c;
  }
  if (field !== '' || row.length) throw new Error(`CSV does not end with a line end: ${JSON.stringify(text.slice(-40))}`);
  return rows;
}

/** The CSV body as a Map name → hash, after checking the header. */
function csvMap(t: Test, stdout: string): Map<string, string> {
  const rows = parseCsv(stdout);
  t.same(rows[0], ['screen_name', 'anon_screen_name'], 'header line');
  for (const r of rows.slice(1)) t.equal(r.length, 2, `two fields: ${JSON.stringify(r)}`);
  return new Map(rows.slice(1).map((r) => [r[0], r[1]] as [string, string]));
}

const CS101 = 'Demo/CS101/Spring2014';
const OTHER = 'Other/X/2014';
const page = (course: string) => `https://lms.example.edu/courses/${course}/courseware/`;
const json = (fields: Record<string, unknown>) => JSON.stringify(event({ event_type: 'page_close', event: '', page: page(CS101), ...fields }));

// Each fixture line with the username it is about (undefined: no name expected from it).
const QUOTED = 'o\'hara, "jr"';
const NON_ASCII = 'José_李';
const FIXTURE: { line: string; name?: string; note: string }[] = [
  { line: JSON.stringify({ username: 'bob', event_type: 'page_close', event: '', page: page(CS101), time: '2014-03-03T08:00:00+00:00', ip: '10.0.0.1' }), name: 'bob', note: 'username first' },
  { line: JSON.stringify({ event_type: 'seq_goto', event: '{"old":1,"new":2,"id":"x"}', page: page(OTHER), time: '2014-03-03T08:00:01+00:00', ip: '10.0.0.2', username: 'alice' }), name: 'alice', note: 'username last' },
  { line: json({ username: 'alice', ip: '10.0.0.3' }), name: 'alice', note: 'a duplicate' },
  { line: json({ username: QUOTED, ip: '10.0.0.4' }), name: QUOTED, note: 'comma and quotes' },
  { line: json({ username: NON_ASCII, ip: '10.0.0.5' }), name: NON_ASCII, note: 'non-ASCII: hashed as it is (docs/decisions.md §15)' },
  { line: json({ username: 'multi\nline', ip: '10.0.0.6' }), name: 'multi\nline', note: 'a newline in the name' },
  { line: `2014-03-03 08:01:05,123 INFO 20 [tracking] logger.py:41 - ${json({ username: 'carol', ip: '10.0.0.7' })}`, name: 'carol', note: 'logger prefix' },
  { line: `\0\0\0\0${json({ username: 'dave', ip: '10.0.0.8' })}`, name: 'dave', note: 'NUL padding' },
  { line: json({ username: 'erin', ip: '10.0.0.9', event_type: 'seq_goto', event: '{"old":1,"new":2,"id":"x"}' }).slice(0, 150), name: 'erin', note: 'truncated, closed' },
  { line: `{"username": "frank", "event_type": "problem_check", "page": "${page(CS101)}" "ip": "10.0.0.10", "time": "2014-03-03T08:00:02+00:00"}`, name: 'frank', note: 'broken JSON, fields rescued' },
  { line: json({ ip: '10.0.0.11', username: undefined }), note: 'no username key' },
  { line: json({ username: '', ip: '10.0.0.12' }), note: 'empty username' },
  { line: json({ username: 42, ip: '10.0.0.13' }), note: 'username not text' },
  { line: json({ username: 'gina', ip: '10.0.0.14', event_type: '/login_ajax', event: '{"POST": {"email": ["gina@example.edu"], "password": "********"}, "GET": {}}', page: null }), note: '/login_ajax with an e-mail' },
  { line: json({ username: 'hank', ip: '10.0.0.15', event_type: '/login_ajax', event: '{"POST": {}, "GET": {}}', page: null }), name: 'hank', note: '/login_ajax without e-mail: the username is hashed' },
  { line: '', note: 'blank' },
  { line: '# a comment', note: 'comment' },
  { line: '\u0001\u0002garbage\ufffd\ufffd binary', note: 'garbage' },
  { line: json({ username: 'alice', ip: '10.0.0.16', page: page(OTHER) }), name: 'alice', note: 'alice again, other course' },
];
const GARBAGE_LINE = FIXTURE.findIndex((f) => f.note === 'garbage') + 1;
const TEXT = FIXTURE.map((f) => f.line).join('\n') + '\n';
const plain = join(dir, 'tracking.log');
writeFileSync(plain, TEXT);
const EXPECTED = [...new Set(FIXTURE.flatMap((f) => (f.name ? [f.name] : [])))];

t.test('the fixture exercises the decoder paths it is meant to', async (t) => {
  const kind = (note: string) => decodeLine(FIXTURE.find((f) => f.note === note)!.line);
  t.match(kind('truncated, closed'), { kind: 'record', repaired: 'truncated line closed', record: { username: 'erin' } });
  t.match(kind('broken JSON, fields rescued'), { kind: 'rescued', record: { username: 'frank' } });
  t.match(kind('garbage'), { kind: 'reject' });
});

t.test('a log file: distinct names, sorted, hashed, quoted, reports on stderr', async (t) => {
  const r = await runTool(TOOL, [plain]);
  t.equal(r.code, 0, r.stderr);
  const map = csvMap(t, r.stdout);
  t.same([...map.keys()], [...EXPECTED].sort(), 'every name once, whatever its key position; sorted');
  t.notOk(map.has('') || map.has('42') || map.has('gina'), 'no empty, non-text or /login_ajax-with-e-mail names');
  t.notOk([...map.keys()].some((k) => k.includes('{')), 'never a whole line');
  for (const [name, anon] of map) t.match(anon, /^[0-9a-f]{40}$/, `${name}: 40 lowercase hex`);
  t.equal(map.get('alice'), '9dbc9c9243df91d578390b6675387ddd08c1e422', 'alice as in the spec');
  t.equal(map.get('bob'), ripemd('bob'));
  // docs/decisions.md §15: a name the cleaner would change is hashed as it is, so that two learners never share a hash.
  t.equal(map.get(NON_ASCII), ripemd(NON_ASCII), 'non-ASCII: the hash of the name as it is, as the transform');
  t.not(map.get(NON_ASCII), ripemd('Jose_Li '), 'not the transliterated name\'s (a learner called Jose_Li has that one)');
  t.equal(map.get('multi\nline'), ripemd('multi\nline'));
  t.match(r.stdout, /^"o'hara, ""jr""",[0-9a-f]{40}$/m, 'comma and quote: RFC 4180 quoting');
  t.match(r.stdout, /^"multi\nline",/m, 'a newline stays inside one quoted field');
  t.match(r.stderr, new RegExp(`^${TOOL}: ${plain.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${GARBAGE_LINE}: not a JSON object$`, 'm'), 'file:line: reason');
  t.match(r.stderr, /19 lines read; 16 events \(12 with a username, 3 without, 1 \/login_ajax keyed by e-mail\); 10 distinct names; 3 lines skipped \(2 blank or comment, 1 unreadable\)/, 'summary');
  const quiet = await runTool(TOOL, ['--quiet', plain]);
  t.equal(quiet.stdout, r.stdout);
  t.notMatch(quiet.stderr, /lines read/, '--quiet: no summary');
});

t.test('gzip recognised by content, stdin, several inputs', async (t) => {
  const gz = join(dir, 'tracking.data');
  writeFileSync(gz, gzipSync(TEXT));
  const ref = await runTool(TOOL, ['--quiet', plain]);
  const a = await runTool(TOOL, ['--quiet', gz]);
  t.equal(a.code, 0, a.stderr);
  t.equal(a.stdout, ref.stdout, 'gzip file not named .gz');
  const b = await runTool(TOOL, ['--quiet'], { input: gzipSync(TEXT) });
  t.equal(b.stdout, ref.stdout, 'gzip on stdin');
  const c = await runTool(TOOL, [], { input: TEXT });
  t.equal(c.stdout, ref.stdout, 'plain stdin');
  t.match(c.stderr, new RegExp(`^${TOOL}: -:${GARBAGE_LINE}: not a JSON object$`, 'm'), 'stdin is - in reports');
  const d = await runTool(TOOL, ['--quiet', plain, '-', gz], { input: json({ username: 'zed' }) });
  t.equal(d.code, 0);
  t.same([...csvMap(t, d.stdout).keys()], [...EXPECTED, 'zed'].sort(), 'files and stdin merged');
  const twice = await runTool(TOOL, ['-', '-']);
  t.equal(twice.code, 2, 'stdin twice is a usage error');
});

t.test('--match and --regex', async (t) => {
  const m = await runTool(TOOL, ['--match', OTHER, plain]);
  t.equal(m.code, 0);
  t.same([...csvMap(t, m.stdout).keys()], ['alice'], 'only lines containing the text');
  t.match(m.stderr, /19 lines read; 2 events .*; 1 distinct name; 17 lines skipped \(17 not matching, 0 blank or comment, 0 unreadable\)/);
  const cs = await runTool(TOOL, ['--quiet', '--match', CS101, plain]);
  const names = [...csvMap(t, cs.stdout).keys()];
  t.ok(names.includes('bob') && names.includes('alice') && names.includes('frank'));
  const re = await runTool(TOOL, ['--quiet', '--regex', '"username": ?"(bob|carol)"', plain]);
  t.same([...csvMap(t, re.stdout).keys()], ['bob', 'carol']);
  t.equal((await runTool(TOOL, ['--match', 'x', '--regex', 'y', plain])).code, 2, '--match and --regex exclude each other');
  t.equal((await runTool(TOOL, ['--regex', '(', plain])).code, 2, 'bad regex: usage error');
  t.equal((await runTool(TOOL, ['--match', 'a', '--match', 'b', plain])).code, 2, 'given twice');
});

t.test('consistency: the hashes are those edx-json2sql stores for the same events', async (t) => {
  const r = await runTool(TOOL, ['--quiet', '--login-emails', plain]);
  t.equal(r.code, 0);
  const map = csvMap(t, r.stdout);
  t.equal(map.get('gina@example.edu'), ripemd('gina@example.edu'), '--login-emails: the e-mail of /login_ajax');
  t.notOk(map.has('gina'));

  // In-process, line by line (each line its own source, so no event is dropped as noise): every
  // EdxTrackEvent row of a line about a listed name carries that name's hash.
  const seen = new Set<string>();
  for (const f of FIXTURE) {
    const { rows } = await transform([f.line]);
    const anons = (rows.EdxTrackEvent ?? []).map((row) => row.anon_screen_name);
    if (f.name !== undefined) {
      t.ok(anons.length > 0, `${f.note}: the transform made a row`);
      for (const a of anons) t.equal(a, map.get(f.name), `${f.note}: ${JSON.stringify(f.name)}`);
      seen.add(f.name);
    } else if (f.note.startsWith('/login_ajax')) {
      t.same(anons, [map.get('gina@example.edu')], 'the /login_ajax row holds the hash of the listed e-mail');
      seen.add('gina@example.edu');
    } else {
      for (const a of anons) t.notOk([...map.values()].includes(a as string), `${f.note}: its row's hash is not listed`);
    }
  }
  t.same([...seen].sort(), [...map.keys()].sort(), 'every listed name comes from a row with its hash');

  // And through the tool itself: every listed hash is in the MySQL script, quoted as a value.
  const sql = await runTool('edx-json2sql', ['--quiet', plain]);
  t.equal(sql.code, 0, sql.stderr);
  for (const [name, anon] of map) t.ok(sql.stdout.includes(`'${anon}'`), `edx-json2sql wrote ${anon} (${JSON.stringify(name)})`);
});

t.test('the bundled example log', async (t) => {
  const r = await runTool(TOOL, [EXAMPLE_LOG]);
  t.equal(r.code, 0, r.stderr);
  const map = csvMap(t, r.stdout);
  t.same([...map.keys()], ['ada', 'grace_h', 'linus']);
  t.match(r.stderr, /:16: JSON array, not an event object/);
  const text = gunzipSync(readFileSync(EXAMPLE_LOG)).toString();
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  t.match(r.stderr, new RegExp(`: ${lines} lines read`), 'every line counted');
  const sql = await runTool('edx-json2sql', ['--quiet', EXAMPLE_LOG]);
  for (const [name, anon] of map) {
    t.equal(anon, ripemd(name));
    t.ok(sql.stdout.includes(`'${anon}'`), `${name}'s hash is in edx-json2sql's output`);
  }
});

t.test('many unreadable lines: the first 20 reported, then a count', async (t) => {
  const r = await runTool(TOOL, [], { input: Array.from({ length: 25 }, (_, i) => `junk ${i}`).join('\n') });
  t.equal(r.code, 0);
  t.equal(r.stdout, 'screen_name,anon_screen_name\n', 'just the header');
  t.equal((r.stderr.match(/^edx-screennames: -:\d+: not a JSON object$/gm) ?? []).length, 20);
  t.match(r.stderr, /… 5 more unreadable lines/);
  t.match(r.stderr, /25 lines read; 0 events/);
});

t.test('--hash', async (t) => {
  const a = await runTool(TOOL, ['--hash', 'alice', 'bob', '007', NON_ASCII, '--', '-x']);
  t.equal(a.code, 0, a.stderr);
  t.equal(a.stdout, [
    'screen_name,anon_screen_name',
    'alice,9dbc9c9243df91d578390b6675387ddd08c1e422',
    `bob,${ripemd('bob')}`,
    `007,${ripemd('007')}`, // not the number 7
    `${NON_ASCII},${ripemd(NON_ASCII)}`,
    `-x,${ripemd('-x')}`,
    '',
  ].join('\n'), 'in the given order, hashed as the transform hashes usernames');
  t.equal(a.stderr, '');
  const s = await runTool(TOOL, ['--hash', '-'], { input: 'alice\nbob\r\n\ncarol' });
  t.equal(s.code, 0);
  t.equal(s.stdout, `screen_name,anon_screen_name\nalice,9dbc9c9243df91d578390b6675387ddd08c1e422\nbob,${ripemd('bob')}\ncarol,${ripemd('carol')}\n`,
    'one name per line, LF and CRLF not part of it, empty lines skipped');
  t.not(s.stdout.split('\n')[1].split(',')[1], ripemd('alice\n'), 'not the hash of "alice\\n" (the original bug)');
  const q = await runTool(TOOL, ['--hash', 'a,b'], {});
  t.equal(q.stdout.split('\n')[1], `"a,b",${ripemd('a,b')}`, 'quoted like the log mode');
  // --login-emails: e-mails hashed as they are, as /login_ajax rows are keyed; usernames too, since docs/decisions.md §15.
  const e = await runTool(TOOL, ['--hash', '--login-emails', 'jürgen@example.edu']);
  t.equal(e.stdout.split('\n')[1], `jürgen@example.edu,${ripemd('jürgen@example.edu')}`, '--hash --login-emails: the e-mail as it is');
  const u = await runTool(TOOL, ['--hash', 'jürgen@example.edu']);
  t.equal(u.stdout.split('\n')[1], `jürgen@example.edu,${ripemd('jürgen@example.edu')}`, '--hash: as a username, as it is (not transliterated: jurgen is someone else)');
  for (const bad of [['--hash'], ['--hash', '--match', 'x', 'a'], ['--hash', '-', '-']]) {
    const r = await runTool(TOOL, bad);
    t.equal(r.code, 2, `${bad.join(' ')}: usage error`);
    t.equal(r.stdout, '');
  }
});

t.test('--help, usage errors, failures', async (t) => {
  const help = await runTool(TOOL, ['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: edx-screennames/);
  t.match(help.stdout, /login_ajax/);
  t.equal(help.stderr, '');
  const bad = await runTool(TOOL, ['--no-such-option']);
  t.equal(bad.code, 2);
  t.equal(bad.stderr, "edx-screennames: unknown option --no-such-option\nTry 'edx-screennames --help' for more information.\n");
  t.equal(bad.stdout, '');
  const missing = await runTool(TOOL, [plain, join(dir, 'nope.gz')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^edx-screennames: .*nope\.gz: no such file$/m);
  t.equal(missing.stdout, '', 'no partial CSV');
  const broken = join(dir, 'broken.gz');
  writeFileSync(broken, gzipSync(TEXT.repeat(50)).subarray(0, 300));
  const b = await runTool(TOOL, [broken]);
  t.equal(b.code, 1, 'a truncated gzip is a failure');
  t.match(b.stderr, /^edx-screennames: .*broken\.gz: /m);
  t.notMatch(b.stderr, /\n\s+at /, 'no stack trace');
  t.equal(b.stdout, '');
  const d = await runTool(TOOL, [dir]);
  t.equal(d.code, 1);
  t.match(d.stderr, /is a directory/);
});

t.test('a reader that goes away (| head) ends it quietly', async (t) => {
  const names = Array.from({ length: 200_000 }, (_, i) => `user${i}`).join('\n');
  const r = await runShell('bin/edx-screennames --hash - | head -2', { input: names });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, `screen_name,anon_screen_name\nuser0,${ripemd('user0')}\n`);
  t.equal(r.stderr, '', 'no stack trace');
});
