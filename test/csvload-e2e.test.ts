// End to end with the real transform: a small log of our own, through a collection and through
// the row stream pipe, gives the same warehouse; 2026 and 2031 events load.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_TABLES, TABLES } from '../src/schema/tables.js';
import { testServer, testConnection } from './helpers/mariadb.js';
import { CSVLOAD, ROOT, run, throwawayWarehouse, tableDigest } from './csvload-helpers.js';
import { runShell, shellQuote as q } from './helpers/tools.js';
import { tempDir } from './helpers/tmp.js';

const JSON2SQL = `${ROOT}bin/edx-json2sql`;
const tmp = tempDir('csvload-e2e');

const log = join(tmp, 'tracking.log-20130609');
const lines = [
  { username: 'alice', event_source: 'server', event_type: '/courses/Org/C1/Run/courseware', ip: '10.0.0.1', agent: 'Mozilla "quoted" \\ back', page: null, time: '2013-06-09T10:00:00.123456+00:00', host: 'h', event: '{"POST": {}, "GET": {}}', context: { course_id: 'Org/C1/Run' } },
  { username: 'bob', event_source: 'browser', event_type: 'play_video', ip: '2001:db8::1', agent: 'A,B\nC', page: 'https://x/courses/Org/C1/Run/courseware', time: '2026-03-01T00:00:00+00:00', event: '{"id":"i4x-Org-C1-video-abc","code":"xyz","currentTime":12.5,"speed":"1.0"}', context: { course_id: 'Org/C1/Run' } },
  { username: 'carol', event_source: 'browser', event_type: 'seq_goto', ip: '10.0.0.3', agent: 'émoji 😀', page: 'https://x/courses/Org/C1/Run/courseware', time: '2031-12-24T08:00:00.5+00:00', event: '{"old":1,"new":2,"id":"i4x://Org/C1/sequential/s1"}', context: { course_id: 'Org/C1/Run' } },
];
writeFileSync(log, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');

/** `edx-json2sql LOG --rows | edx-csvload ARGS`, without tap's loader hooks in the children. */
async function pipe(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const s = await testServer();
  const node = q(process.execPath);
  const r = await runShell(`${node} ${q(JSON2SQL)} ${q(log)} --rows | ${node} ${q(CSVLOAD)} ${args.map(q).join(' ')}`, { env: s.env });
  return { code: r.code, stderr: r.stderr };
}

t.test('collection and pipe load the same rows', async (t) => {
  const viaFiles = await throwawayWarehouse('e2ef');
  const viaPipe = await throwawayWarehouse('e2ep');
  t.teardown(viaFiles.drop);
  t.teardown(viaPipe.drop);
  for (const w of [viaFiles, viaPipe]) t.equal((await run(CSVLOAD, ['--init', ...w.args])).code, 0);

  const dir = join(tmp, 'csv');
  const tr = await run(JSON2SQL, ['--csv', dir, ...viaFiles.args, log]);
  t.equal(tr.code, 0, tr.stderr);
  const load = await run(CSVLOAD, [...viaFiles.args, dir]);
  t.equal(load.code, 0, load.stderr);
  t.match(load.stderr, /1 loaded, 0 skipped, 0 failed/);

  const p = await pipe(viaPipe.args);
  t.equal(p.code, 0, p.stderr);
  t.match(p.stderr, /1 loaded, 0 skipped, 0 failed/);

  for (const table of ALL_TABLES.filter((x) => x !== TABLES.LoadInfo)) {
    const a = await tableDigest(viaFiles.names[table.database], table);
    t.same(await tableDigest(viaPipe.names[table.database], table), a, `${table.name}: same rows`);
  }
  const c = await testConnection();
  const [rows] = await c.query(`SELECT quarter, agent FROM \`${viaPipe.names.Edx}\`.EdxTrackEvent ORDER BY time`);
  await c.end();
  t.same((rows as { quarter: string }[]).map((r) => r.quarter), ['summer2013', 'spring2026', 'fall2031']);
  t.match((rows as { agent: string }[])[0].agent, /^Mozilla "quoted"/, 'quotes survive');

  // Again through the pipe: skipped.
  const again = await pipe(viaPipe.args);
  t.equal(again.code, 0, again.stderr);
  t.match(again.stderr, /0 loaded, 1 skipped, 0 failed/);
});
