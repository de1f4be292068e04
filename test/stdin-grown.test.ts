// A log piped in on stdin is known by its first line; piped in again after it grew, it is skipped
// as loaded, and the message says how its new lines load (issue 14 item 11).
import t from 'tap';
import { CSVLOAD, throwawayWarehouse } from './csvload-helpers.js';
import { REPO, runBytes, toolEnv } from './helpers/tools.js';
import { testServer } from './helpers/mariadb.js';
import { join } from 'node:path';

const line = (n: number) => JSON.stringify({ username: `u${n}`, event_type: 'page_close', event: '', ip: '10.0.0.1', time: `2014-03-03T08:00:0${n}.000000+00:00` });

t.test('a grown log on stdin: skipped, with the hint', async (t) => {
  const wh = await throwawayWarehouse('stdin_grown');
  t.teardown(wh.drop);
  const env = toolEnv((await testServer()).env);
  const load = (text: string) => runBytes('/bin/bash', ['-c', `env -u NODE_OPTIONS '${join(REPO, 'bin', 'edx-json2sql')}' --quiet --rows | env -u NODE_OPTIONS '${CSVLOAD}' ${wh.args.join(' ')} -`], text, env);
  const init = await runBytes('/usr/bin/env', ['-u', 'NODE_OPTIONS', CSVLOAD, '--init', ...wh.args], undefined, env);
  t.equal(init.code, 0, init.stderr);
  const first = await load(`${line(1)}\n${line(2)}\n`);
  t.equal(first.code, 0, first.stderr);
  const grown = await load(`${line(1)}\n${line(2)}\n${line(3)}\n`);
  t.equal(grown.code, 0, grown.stderr);
  t.match(grown.stderr, /already in LoadInfo \(stdin is known by its first line: if the log has grown since, load the file by name, or again with --force/, 'the skip says how the new lines load');
});
