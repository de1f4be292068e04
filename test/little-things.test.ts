// Little things users hit (issue 15 item 7), each as the user met it: --quiet that still talked
// during --init, a missing warehouse told once per source, a dry run of the refresh that said a
// job would fail and exited 0, and "1 lines".
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testServer, uniqueName } from './helpers/mariadb.js';
import { runShell, runTool, shellQuote, REPO } from './helpers/tools.js';
import { gz, logLines } from './helpers/pipeline-logs.js';
import { throwawayWarehouse } from './csvload-helpers.js';
import { tempDir } from './helpers/tmp.js';

const tmp = tempDir('little');
const env = (await testServer()).env;
const logs = [1, 2, 3].map((seed) => {
  const path = join(tmp, `tracking.log-2014030${seed}.gz`);
  writeFileSync(path, gz(logLines(`2014030${seed}`, seed, 4)));
  return path;
});
const pipeline = (script: string) => runShell(`PATH=${shellQuote(join(REPO, 'bin'))}:"$PATH"; ${script}`, { env });

t.test('edx-csvload --init --quiet says nothing; a dry run still says what it would do', async (t) => {
  const wh = await throwawayWarehouse('little_quiet');
  t.teardown(wh.drop);
  const first = await runTool('edx-csvload', ['--init', '--quiet', ...wh.args], { env });
  t.equal(first.code, 0, first.stderr);
  t.equal(first.stderr, '', 'no "ready", no "no forum key yet"');
  const again = await runTool('edx-csvload', ['--init', '--quiet', ...wh.args], { env });
  t.equal(again.stderr, '', 'nor "11 of 11 tables exist already"');
  const dry = await runTool('edx-csvload', ['--init', '--quiet', '--dry-run', ...wh.args], { env });
  t.equal(dry.code, 0);
  t.match(dry.stderr, /^edx-csvload: dry run: would run \d+ statements/m);
  const loud = await runTool('edx-csvload', ['--init', ...wh.args], { env });
  t.match(loud.stderr, /are ready: /, 'without --quiet it says so');
});

t.test('no warehouse (no --init yet): one line, before any source, not one per source', async (t) => {
  const edx = uniqueName('little_none');
  const args = ['--edx-db', edx, '--private-db', `${edx}_p`];
  const stream = await pipeline(`edx-json2sql --quiet --rows ${logs.map(shellQuote).join(' ')} | edx-csvload ${args.join(' ')}`);
  t.equal(stream.code, 1);
  t.equal(stream.stderr, `edx-csvload: ${edx}.LoadInfo does not exist: create the warehouse first with edx-csvload --init\n`);
  // The same with collections.
  const out = join(tmp, 'csv');
  t.equal((await runTool('edx-json2sql', ['--quiet', '--csv', out, ...logs], { env })).code, 0);
  const coll = await runTool('edx-csvload', [...args, out], { env });
  t.equal(coll.code, 1);
  t.equal(coll.stderr, `edx-csvload: ${edx}.LoadInfo does not exist: create the warehouse first with edx-csvload --init\n`);
  const jobs = await runTool('edx-csvload', [...args, '--jobs', '2', out], { env });
  t.equal(jobs.stderr, coll.stderr, 'and with --jobs');
});

t.test('edx-refresh --dry-run exits 1 when a job would fail, having said why', async (t) => {
  const names = ['--edx-db', uniqueName('little_rx'), '--private-db', uniqueName('little_rp'), '--edxprod-db', uniqueName('little_prod'), '--forum-db', uniqueName('little_rf')];
  const missing = await runTool('edx-refresh', [...names, '--dry-run', '--dump', join(tmp, 'nope.sql.gz'), 'edxprod'], { env });
  // An input that is not there is refused before any job starts, in a dry run as in a run.
  t.equal(missing.code, 1, 'an input that is not there');
  t.equal(missing.stderr, `edx-refresh: --dump ${join(tmp, 'nope.sql.gz')}: no such file\n`);
  const partial = join(tmp, 'partial.sql');
  writeFileSync(partial, 'CREATE TABLE `auth_user` (`id` int NOT NULL);\n');
  const notJson = join(tmp, 'not-json.json');
  writeFileSync(notJson, 'not json\n');
  const lacking = await runTool('edx-refresh', [...names, '--dry-run', '--dump', partial, '--modulestore', notJson, 'edxprod', 'modulestore'], { env });
  t.equal(lacking.code, 1, 'a dump without tables later jobs read');
  t.match(lacking.stderr, /edxprod: would FAIL: .*partial\.sql lacks .*auth_userprofile, .*which later jobs read/);
  t.match(lacking.stderr, /modulestore: would FAIL: no course in .*not-json\.json/, 'the next job is still looked at');
  t.notMatch(lacking.stderr, /\n\s+at /);
  t.match(lacking.stderr, 'dry run: 2 jobs would fail: edxprod, modulestore');
  const fine = await runTool('edx-refresh', [...names, '--dry-run', 'run-start'], { env });
  t.equal(fine.code, 0, 'a dry run that would succeed exits 0');
});

t.test('counts in messages: one line, one event', async (t) => {
  const one = join(tmp, 'one.log');
  writeFileSync(one, logLines('20140303', 9, 1)[0] + '\n');
  const r = await runTool('edx-json2sql', ['--rows', one], { env });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /: 1 line read; 1 event; 0 filtered \(0 heartbeats, 0 pings, 0 blank, 0 comments\);/);
  const names = await runTool('edx-screennames', [one], { env });
  t.match(names.stderr, /1 line read; 1 event \(.*\); 1 distinct name; 0 lines skipped/);
  const wh = await throwawayWarehouse('little_plural');
  t.teardown(wh.drop);
  const dir = join(tmp, 'one-collection');
  t.equal((await runTool('edx-json2sql', ['--quiet', '--csv', join(dir, 'one.csv'), one], { env })).code, 0);
  const load = await runTool('edx-csvload', ['--init', ...wh.args, '--collections', dir], { env });
  t.equal(load.code, 0, load.stderr);
  t.match(load.stderr, 'edx-csvload: 1 collection into');
});
