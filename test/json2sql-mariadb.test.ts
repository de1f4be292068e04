// The SQL script of edx-json2sql loads into a real MariaDB/MySQL with zero errors and zero
// warnings, row counts equal to the summary, and loading it again adds nothing.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTool, EXAMPLE_LOG, shared } from './helpers/tools.js';
import { loadSqlScript, testConnection, throwawayDatabases } from './helpers/mariadb.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('sql');

async function counts(edx: string, priv: string): Promise<Record<string, number>> {
  const c = await testConnection();
  const out: Record<string, number> = {};
  try {
    for (const [db, tables] of [[edx, ['EdxTrackEvent', 'Answer', 'CorrectMap', 'InputState', 'State', 'ABExperiment', 'OpenAssessment', 'LoadInfo']], [priv, ['Account', 'EventIp']]] as const) {
      for (const table of tables) {
        const [rows] = await c.query(`SELECT COUNT(*) AS n FROM ${db}.${table}`);
        out[table] = Number((rows as { n: number }[])[0].n);
      }
    }
  } finally {
    await c.end();
  }
  return out;
}

async function roundTrip(t: Test, log: string) {
  const { edx, priv } = throwawayDatabases(t, 'edx_t');
  const stats = join(dir, `${edx}.json`);
  const r = await runTool('edx-json2sql', ['--quiet', '--edx-db', edx, '--private-db', priv, '--stats', stats, log]);
  t.equal(r.code, 0, 'transform succeeds');
  const summary = JSON.parse(readFileSync(stats, 'utf8'));
  t.equal(await loadSqlScript(r.stdout), 0, 'no warnings on the first load');
  const loaded = await counts(edx, priv);
  for (const [table, n] of Object.entries(loaded)) t.equal(n, summary.rows[table], `${table}: rows in the database = rows in the summary`);
  t.equal(await loadSqlScript(r.stdout), 0, 'no warnings loading it again');
  t.same(await counts(edx, priv), loaded, 'loading it again adds no rows');
  return { summary, edx, priv };
}

t.test('the bundled example', async (t) => {
  const { edx } = await roundTrip(t, EXAMPLE_LOG);
  const c = await testConnection();
  const [rows] = await c.query(`SELECT quarter, COUNT(*) AS n FROM ${edx}.EdxTrackEvent GROUP BY quarter ORDER BY quarter`);
  t.same(rows, [{ quarter: 'spring2014', n: 19 }, { quarter: 'spring2026', n: 1 }], 'an event of 2026 loads (partition added)');
  const [loadInfo] = await c.query(`SELECT load_date_time IS NOT NULL AS stamped FROM ${edx}.LoadInfo`);
  t.same(loadInfo, [{ stamped: 1 }], 'LoadInfo gets the time of the load');
  await c.end();
});

const corpus = shared('corpus/tracking.log-20130609.gz');
t.test('the real 2013 day', { skip: corpus.skip }, async (t) => {
  const { summary } = await roundTrip(t, corpus.path);
  t.equal(summary.lines, 6460);
  t.equal(summary.lines, summary.events + summary.filteredTotal + summary.rejected);
});
