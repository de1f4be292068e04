#!/usr/bin/env node
// make demo's last step: a few queries on the demo warehouse, printed as tables. Connects as the
// tools do ($EDX_PIPES_MY_CNF, else the usual option files such as ~/.my.cnf, over MYSQL_HOST,
// MYSQL_TCP_PORT, MYSQL_USER, MYSQL_PWD), through the built package's connection module.
//   node examples/demo-show.mjs EDX_DB
import { connectionSettings, connect, describeSettings } from '../dist/mysql/connection.js';

const [edxDb = 'edx_demo'] = process.argv.slice(2);
const settings = connectionSettings();
let c;
try {
  c = await connect({ ...settings, database: undefined }, { connectTimeout: 3000 });
} catch (e) {
  console.error(`demo: no database reachable at ${describeSettings(settings)}: ${e.message}`);
  process.exit(1);
}
const db = c.escapeId(edxDb);

async function show(title, sql) {
  const [rows, fields] = await c.query(sql);
  const names = fields.map((f) => f.name);
  const cells = rows.map((r) => names.map((n) => String(r[n] ?? 'NULL').replace(/\s+/g, ' ').slice(0, 60)));
  const widths = names.map((n, i) => Math.max(n.length, ...cells.map((r) => r[i].length)));
  const line = (r) => '  ' + r.map((v, i) => v.padEnd(widths[i])).join('  ');
  console.log(`\n${title}\n${line(names)}\n${line(widths.map((w) => '-'.repeat(w)))}`);
  for (const r of cells) console.log(line(r));
}

try {
  await show(`Events per type (${edxDb}.EdxTrackEvent)`,
    `SELECT event_type, COUNT(*) AS events FROM ${db}.EdxTrackEvent GROUP BY event_type ORDER BY events DESC, event_type LIMIT 12`);
  await show('Answers with their event (EdxTrackEvent JOIN Answer on answer_fk)',
    `SELECT e.time, e.anon_screen_name, a.problem_id, a.answer FROM ${db}.EdxTrackEvent e JOIN ${db}.Answer a ON a.answer_id = e.answer_fk ORDER BY e.time, a.answer LIMIT 8`);
} finally {
  await c.end();
}
