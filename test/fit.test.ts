// Values that do not fit their column (docs/decisions.md §10): text is cut when written, at a character
// boundary, and counted; integer columns never receive text; the server has nothing to truncate.
import t from 'tap';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { event, transform } from './helpers/transform.js';
import { runTool } from './helpers/tools.js';
import { fitRow, newFitCounters } from '../src/schema/fit.js';
import { EdxTrackEvent, OpenAssessment } from '../src/schema/tables.js';
import { emptyRow as emptyRowOf, type TableDef } from '../src/schema/table.js';
import { runSqlScript, testConnection, throwawayDatabases } from './helpers/mariadb.js';
import { withoutPersonalValues } from '../src/transform/personal.js';
import { tempDir } from './helpers/tmp.js';

const longSource = 'x'.repeat(300); // event_source: VARCHAR(255)
const longAgent = 'A'.repeat(70_000); // agent: TEXT, 65,535 bytes
const gotoPosition = (position: string) =>
  event({
    event_source: 'server',
    event_type: '/courses/Demo/CS101/Spring2014/modx/i4x://Demo/CS101/sequential/0123456789abcdef0123456789abcdef/goto_position',
    event: JSON.stringify({ POST: { position: [position] }, GET: {} }),
  });

t.test('long text is cut to its column and counted; integers never receive text', async (t) => {
  const { rows, stats } = await transform([
    event({ event_type: 'play_video', event_source: longSource, agent: longAgent }),
    gotoPosition('7'),
    gotoPosition('seven'),
    gotoPosition('99999999999'),
  ]);
  const main = rows.EdxTrackEvent;
  t.equal(main.length, 4, 'every event still gives its row');
  t.equal(main[0].event_source, 'x'.repeat(255), 'VARCHAR(255) text cut to 255 characters');
  t.equal(main[0].agent, 'A'.repeat(65_535), 'TEXT cut to 65,535 bytes');
  t.equal(main[1].position, 7, 'a number written as text becomes the number');
  t.equal(main[2].position, -1, 'text in an integer column becomes the empty value');
  t.equal(main[3].position, -1, 'so does a number out of the column type range');
  t.same(Object.fromEntries(stats.fit.cut), { 'EdxTrackEvent.event_source': 1, 'EdxTrackEvent.agent': 1 }, 'each cut counted by column');
  t.same(Object.fromEntries(stats.fit.coerced), { 'EdxTrackEvent.position': 2 }, 'each replaced integer counted');
});

t.test('a cut never splits a character', async (t) => {
  // badly_formatted keeps the raw line as it is, non-ASCII included: 3-byte characters across the limit.
  const broken = `{"username":"ada","event_type":"play_video","time":"2014-03-03T08:00:00.000001+00:00","ip":"171.64.10.20","agent":"${'€'.repeat(30_000)}`;
  const { rows, stats } = await transform([broken]);
  const kept = rows.EdxTrackEvent[0].badly_formatted as string;
  t.ok(Buffer.byteLength(kept) <= 65_535 && Buffer.byteLength(kept) > 65_535 - 3, `cut to the last whole character (${Buffer.byteLength(kept)} bytes)`);
  t.ok(withoutPersonalValues(broken).startsWith(kept), 'what is kept is the start of the line, unchanged but for its personal values');
  t.equal(stats.fit.cut.get('EdxTrackEvent.badly_formatted'), 1);
});

t.test('the cut values load without a warning', async (t) => {
  const dir = tempDir('fit', t);
  const log = join(dir, 'long.log');
  writeFileSync(log, [event({ event_type: 'play_video', event_source: longSource, agent: longAgent }), gotoPosition('seven')].map((e) => JSON.stringify(e)).join('\n') + '\n');
  const { edx, priv } = throwawayDatabases(t, 'edx_fit');
  const stats = join(dir, 'stats.json');
  const r = await runTool('edx-json2sql', ['--quiet', '--edx-db', edx, '--private-db', priv, '--stats', stats, log]);
  t.equal(r.code, 0, 'transform succeeds');
  t.same(JSON.parse(readFileSync(stats, 'utf8')).fit.cut, { 'EdxTrackEvent.event_source': 1, 'EdxTrackEvent.agent': 1 }, '--stats lists the cuts');
  const c = await testConnection();
  try {
    t.equal(await runSqlScript(c, r.stdout), 0, 'no statement of the script left a warning');
    const [stored] = await c.query(`SELECT CHAR_LENGTH(event_source) AS source, LENGTH(agent) AS agent FROM ${edx}.EdxTrackEvent WHERE event_type = 'play_video'`);
    t.same(stored, [{ source: 255, agent: 65_535 }], 'the server stored the cut values as they were sent');
  } finally {
    await c.end();
  }
});

t.test('a date column receives a date or NULL, never other text', async (t) => {
  const fit = (table: TableDef, column: string, v: string) => {
    const values = table.columns.map(() => null as string | number | null);
    const i = table.columns.findIndex((c) => c.name === column);
    values[i] = v;
    return fitRow(table, values, newFitCounters())[i];
  };
  t.equal(fit(EdxTrackEvent, 'time', '2014-03-03 08:00:00.000001'), '2014-03-03 08:00:00.000001');
  t.equal(fit(EdxTrackEvent, 'time', ''), null, 'an empty string is no date');
  t.equal(fit(OpenAssessment, 'time_aux', 'yesterday'), null);
  t.equal(fit(EdxTrackEvent, 'downtime_for', '1:02:05'), '1:02:05', 'a gap in a TIME column');
  t.equal(fit(EdxTrackEvent, 'downtime_for', ''), null);
});

t.test('scores and points (DOUBLE columns) keep fractions; what is no number is the default, counted', async (t) => {
  const counters = newFitCounters();
  const values = [...emptyRowOf(EdxTrackEvent)];
  const col = (name: string) => EdxTrackEvent.columns.findIndex((c) => c.name === name);
  values[col('new_score')] = 0.5;
  values[col('new_total')] = '1.25';
  values[col('orig_score')] = 'many';
  fitRow(EdxTrackEvent, values, counters);
  t.same([values[col('new_score')], values[col('new_total')], values[col('orig_score')], values[col('orig_total')]], [0.5, 1.25, -1, -1]);
  t.same([...counters.coerced], [['EdxTrackEvent.orig_score', 1]]);
});
