// A large realistic log with broken lines (../shared/bench/make-corpus.mjs, --bad 0.01): no crash,
// every line accounted for, the script loads cleanly, and every link names a loaded row.
// EDX_PIPES_CORPUS_EVENTS sets the size.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, runShell, shared } from './helpers/tools.js';
import { testConnection, testServer, throwawayDatabases } from './helpers/mariadb.js';
import { checkLinksInDatabase } from './helpers/links.js';
import { tempDir } from './helpers/tmp.js';

const generator = shared('bench/make-corpus.mjs');
const EVENTS = Number(process.env.EDX_PIPES_CORPUS_EVENTS ?? 200000);
const client = ['/usr/bin/mariadb', '/usr/bin/mysql'].find((p) => { try { readFileSync(p); return true; } catch { return false; } });

t.test(`${EVENTS} events with 1% broken lines`, { skip: generator.skip || (!client && 'no mariadb/mysql client installed'), timeout: 900_000 }, async (t) => {
  const server = await testServer();
  const { edx, priv } = throwawayDatabases(t, 'edx_big');
  const dir = tempDir('big', t);
  const stats = join(dir, 'stats.json');
  // make-corpus | edx-json2sql | mariadb --show-warnings: a warning would appear on its stdout.
  const corpusFile = join(dir, 'corpus.log');
  const script = `node ${generator.path} --events ${EVENTS} --seed 11 --bad 0.01 | tee ${corpusFile} ` +
    `| ${REPO}/bin/edx-json2sql --quiet --edx-db ${edx} --private-db ${priv} --stats ${stats} ` +
    `| ${client} --show-warnings --batch`;
  const r = await runShell(script, { env: server.env });
  const result = { code: r.code, out: r.stdout, err: r.stderr };
  t.equal(result.code, 0, `pipeline succeeds ${result.err.slice(0, 500)}`);
  t.equal(result.out.trim(), '', 'the client printed no warning');
  const s = JSON.parse(readFileSync(stats, 'utf8'));
  t.equal(s.lines, EVENTS, 'every generated line was read');
  t.equal(s.lines, s.events + s.filteredTotal + s.rejected, 'lines = events + filtered + rejected');
  t.ok(s.rejected > 0 && s.rescued > 0, 'broken lines were met and handled');
  const c = await testConnection();
  const [rows] = await c.query(`SELECT (SELECT COUNT(*) FROM ${edx}.EdxTrackEvent) AS main, (SELECT COUNT(*) FROM ${priv}.EventIp) AS ips`);
  await c.end();
  const { main, ips } = (rows as { main: number; ips: number }[])[0];
  await checkLinksInDatabase(t, edx, priv);
  // Ids derive from the raw line, so identical lines (here: broken fragments such as
  // '{"username":"learner7_') are one event in the database, as overlapping logs must be.
  const seen = new Set<string>();
  let repeats = 0;
  for (const l of readFileSync(corpusFile, 'utf8').split('\n')) {
    if (l.trim() === '') continue;
    if (seen.has(l)) repeats++;
    else seen.add(l);
  }
  t.ok(Number(ips) <= s.events && Number(ips) >= s.events - repeats, `one EventIp row per distinct event (${ips} of ${s.events}, ${repeats} repeated lines)`);
  t.ok(Number(main) <= s.rows.EdxTrackEvent && Number(main) >= s.rows.EdxTrackEvent - 3 * repeats, `main rows as summarised, less repeats (${main} of ${s.rows.EdxTrackEvent})`);
});
