// The README's S3 pipeline with thousands of files (issue 15 item 3): `xargs -r edx-json2sql
// --rows | edx-csvload` when xargs splits the list and runs edx-json2sql several times (each run
// writes a whole row stream, and edx-csvload reads them one after the other), and `edx-json2sql
// --rows --files-from - | edx-csvload` (one run, the list read as it comes). Every file is loaded
// once, in its own transaction recorded in LoadInfo; nothing dies of EPIPE. Then streams that
// break: a run cut in the middle of a source fails that source only.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, testConnection, testServer } from './helpers/mariadb.js';
import { REPO, runShell, runTool, shellQuote } from './helpers/tools.js';
import { gz, logLines } from './helpers/pipeline-logs.js';
import { throwawayWarehouse } from './csvload-helpers.js';
import { tempDir } from './helpers/tmp.js';

const tmp = tempDir('pipes-many');
/** Files read through both forms (and checked, not loaded). */
const MANY = 3000;
/** Files loaded through each form (each source is a transaction of its own: 25 to 80 ms apiece here). */
const LOADED = 150;
const EVENTS = 3;

/** `n` small gzipped logs of EVENTS events each in a directory of their own; their paths. */
function logs(name: string, n: number, seedFrom: number): string[] {
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const path = join(tmp, `${name}-tracking.log-${String(i).padStart(5, '0')}.gz`);
    writeFileSync(path, gz(logLines('20140303', seedFrom + i, EVENTS)));
    paths.push(path);
  }
  return paths;
}

const wh = await throwawayWarehouse('pipes_many');
t.teardown(wh.drop);
const db = wh.args.map(shellQuote).join(' ');
/** A pipeline of the tools by name, as a user types it (bash -o pipefail), reaching the test server. */
const pipeline = async (script: string, env: NodeJS.ProcessEnv = {}) =>
  runShell(`PATH=${shellQuote(join(REPO, 'bin'))}:"$PATH"; ${script}`, { env: { ...(await testServer()).env, ...env }, timeoutMs: 600_000 });
/** The summary lines of edx-json2sql's runs. */
const summaries = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('edx-json2sql: ') && l.includes(' lines read'));

/** Every path loaded exactly once: one LoadInfo row naming it, EVENTS events with its load_info_fk. */
async function assertLoaded(t: Test, paths: string[]): Promise<void> {
  const c = await testConnection(wh.names.Edx);
  try {
    const [info] = await c.query<import('mysql2').RowDataPacket[]>('SELECT load_info_id, load_file FROM LoadInfo');
    const recorded = new Set(info.map((r) => String(r.load_file)));
    const missing = paths.filter((p) => !recorded.has(`file://${p}`));
    t.same(missing.slice(0, 5), [], `every file is in LoadInfo (${missing.length} missing)`);
    const [perSource] = await c.query<import('mysql2').RowDataPacket[]>(
      `SELECT l.load_file AS f, COUNT(e._id) AS n FROM LoadInfo l LEFT JOIN EdxTrackEvent e ON e.load_info_fk = l.load_info_id
       GROUP BY l.load_info_id, l.load_file`);
    const wrong = perSource.filter((r) => paths.includes(String(r.f).slice('file://'.length)) && Number(r.n) !== EVENTS);
    t.same(wrong.slice(0, 5), [], `every file's ${EVENTS} events loaded once`);
  } finally {
    await c.end();
  }
}

t.test('set up the warehouse', async (t) => {
  const r = await pipeline(`edx-csvload --init --quiet ${db}`);
  t.equal(r.code, 0, r.stderr);
});

t.test(`${MANY} files: xargs splits the list into several runs, or --files-from reads it in one`, async (t) => {
  // The stream of every run is read and checked to its end (a dry run: no database, so no time
  // spent committing thousands of transactions; the loads themselves are the next test's).
  const paths = logs('many', MANY, 0);
  const list = join(tmp, 'many.list');
  writeFileSync(list, paths.join('\n') + '\n');
  const noServer = { MYSQL_HOST: '127.0.0.1', MYSQL_TCP_PORT: String(await freePort()) };
  // -s 32768: some 500 of these paths per run (xargs's usual limit makes about 1,800 of real ones).
  const split = await pipeline(`xargs -r -s 32768 edx-json2sql --rows < ${shellQuote(list)} | edx-csvload --dry-run`, noServer);
  t.equal(split.code, 0, split.stderr.slice(-2000));
  const runs = summaries(split.stderr);
  t.ok(runs.length >= 3, `xargs ran edx-json2sql ${runs.length} times`);
  t.equal(runs.reduce((n, l) => n + Number(/(\d+) events/.exec(l)?.[1]), 0), MANY * EVENTS, 'every event went through');
  t.match(split.stderr, `dry run: ${MANY} would load, 0 would skip`);
  t.notMatch(split.stderr, /EPIPE|after #done|row stream line|Error:|\n\s+at /);

  const listed = await pipeline(`edx-json2sql --rows --files-from - < ${shellQuote(list)} | edx-csvload --dry-run`, noServer);
  t.equal(listed.code, 0, listed.stderr.slice(-2000));
  t.equal(summaries(listed.stderr).length, 1, 'one run of edx-json2sql');
  t.match(listed.stderr, `${MANY * EVENTS} lines read; ${MANY * EVENTS} events`);
  t.match(listed.stderr, `dry run: ${MANY} would load, 0 would skip`);
  t.notMatch(listed.stderr, /EPIPE|row stream line|Error:|\n\s+at /);
});

t.test(`both forms load every file once, each in its own transaction recorded in LoadInfo`, async (t) => {
  const viaXargs = logs('xargs', LOADED, MANY);
  const viaList = logs('list', LOADED, MANY + LOADED);
  const list = join(tmp, 'xargs.list');
  writeFileSync(list, viaXargs.join('\n') + '\n');
  const split = await pipeline(`xargs -r -s 2048 edx-json2sql --rows ${db} < ${shellQuote(list)} | edx-csvload --quiet ${db}`);
  t.equal(split.code, 0, split.stderr.slice(-2000));
  t.ok(summaries(split.stderr).length >= 3, 'xargs ran edx-json2sql several times');
  t.notMatch(split.stderr, /EPIPE|after #done|row stream line|Error:|\n\s+at /);
  const listed = await pipeline(`printf '%s\\n' ${viaList.map(shellQuote).join(' ')} | edx-json2sql --rows --files-from - ${db} | edx-csvload --quiet ${db}`);
  t.equal(listed.code, 0, listed.stderr.slice(-2000));
  t.notMatch(listed.stderr, /EPIPE|row stream line|Error:|\n\s+at /);
  await assertLoaded(t, [...viaXargs, ...viaList]);
});

t.test('a list with a missing file: it is named and left out, the others load, exit 1', async (t) => {
  const paths = logs('gap', 3, MANY + 2 * LOADED);
  const gone = join(tmp, 'gone-tracking.log.gz');
  const r = await pipeline(
    `printf '%s\\0' ${[paths[0], gone, paths[1], paths[2]].map(shellQuote).join(' ')} | edx-json2sql -0 --rows --files-from - ${db} | edx-csvload --quiet ${db}`,
  );
  t.equal(r.code, 1, 'pipefail: edx-json2sql failed');
  t.match(r.stderr, `edx-json2sql: ${gone}: no such file; left out\n`);
  await assertLoaded(t, paths);
});

t.test('runs one after another, one cut inside a source: that source fails, the others load', async (t) => {
  const [a, b, c] = logs('cut', 3, MANY + 2 * LOADED + 3);
  const r = await pipeline(
    `{ edx-json2sql --quiet --rows ${db} ${shellQuote(a)}; edx-json2sql --quiet --rows ${db} ${shellQuote(b)} | head -c 600; ` +
      `edx-json2sql --quiet --rows ${db} ${shellQuote(c)}; } | edx-csvload --quiet ${db}`,
  );
  t.equal(r.code, 1, 'edx-csvload says something is missing');
  t.match(r.stderr, `${b}: failed, rolled back, not recorded: the row stream broke inside this source`);
  t.match(r.stderr, /row stream line \d+: source .* has no #end line before the next source|another stream began/);
  t.notMatch(r.stderr, /\n\s+at /);
  await assertLoaded(t, [a, c]);
  const conn = await testConnection(wh.names.Edx);
  const [rows] = await conn.query<import('mysql2').RowDataPacket[]>('SELECT COUNT(*) AS n FROM LoadInfo WHERE load_file = ?', [`file://${b}`]);
  await conn.end();
  t.equal(Number(rows[0].n), 0, 'the cut source is not recorded');
});

t.test('--files-from: usage, the list itself, and entries that are not logs', async (t) => {
  const [log] = logs('usage', 1, MANY + 2 * LOADED + 6);
  const usage: [string[], RegExp][] = [
    [['--files-from', '-', log], /--files-from LIST takes no FILE operands/],
    [['-0', log], /--null goes with --files-from/],
    [['--files-from'], /--files-from needs a value/],
  ];
  for (const [args, message] of usage) {
    const r = await runTool('edx-json2sql', args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr, message);
  }
  const noList = await runTool('edx-json2sql', ['--files-from', join(tmp, 'no.list')]);
  t.equal(noList.code, 1);
  t.match(noList.stderr, /no\.list: no such file/);
  t.equal(noList.stdout, '', 'a missing list: nothing written');
  // Entries: a CRLF line, an empty line, stdin, a directory, the --rejects output: the log alone is read.
  const rejects = join(tmp, 'usage-rejects.jsonl');
  const r = await runTool('edx-json2sql', ['--rows', '--rejects', rejects, '--files-from', '-'], { input: `${log}\r\n\n-\n${tmp}\n${rejects}\n` });
  t.equal(r.code, 1, 'entries left out fail the run');
  t.match(r.stderr, "edx-json2sql: -: a list names files; stdin is not one of them (write ./- for a file named '-'); left out");
  t.match(r.stderr, `edx-json2sql: ${tmp}: is a directory, not a log; left out`);
  t.match(r.stderr, `edx-json2sql: ${rejects}: is an output of this run (--rejects or --stats), not a log; left out`);
  t.match(r.stdout, `#source {"name":${JSON.stringify(log)}`);
  t.match(r.stdout, /#done \{"sources":1\}\n$/);
  // A NUL list read as lines is one long entry: said, not taken for a path.
  const long = await runTool('edx-json2sql', ['--rows', '--files-from', '-', '-0'], { input: 'x'.repeat(70_000) });
  t.equal(long.code, 1);
  t.match(long.stderr, /an entry longer than 64 KiB: not a list of paths ending with NUL/);
});
