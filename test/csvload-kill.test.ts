// SIGKILL the loader in the middle of a file, rerun it, and find exactly the rows of one clean load.
import t from 'tap';
import { CsvCollectionWriter } from '../src/csv/collection.js';
import { TABLES, ALL_TABLES } from '../src/schema/tables.js';
import { testConnection } from './helpers/mariadb.js';
import { waitFor } from './helpers/wait.js';
import { CSVLOAD, makeRows, makeSource, run, start, throwawayWarehouse, writeSources, tableDigest } from './csvload-helpers.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('csvkill');

const killed = await throwawayWarehouse('csvk');
const clean = await throwawayWarehouse('csvc');
t.teardown(killed.drop);
t.teardown(clean.drop);

const source = makeSource('/logs/big/tracking.log-20140505.gz');
// Big enough that the EdxTrackEvent load takes a while.
await writeSources(new CsvCollectionWriter({ dir }), [{ source, rows: makeRows(source, { count: 80_000, start: new Date('2014-05-05T00:00:00Z'), stepMs: 50 }) }]);

t.test('kill -9 during LOAD DATA, rerun, same rows as a clean load', async (t) => {
  for (const w of [killed, clean]) t.equal((await run(CSVLOAD, ['--init', ...w.args])).code, 0);

  const p = await start(CSVLOAD, [...killed.args, dir]);
  p.stdin.end();
  // Wait until the server is executing the LOAD of EdxTrackEvent (the last table of the source).
  const c = await testConnection();
  const seen = await waitFor(async () => {
    const [rows] = await c.query("SELECT INFO FROM information_schema.PROCESSLIST WHERE INFO LIKE 'LOAD DATA LOCAL INFILE%EdxTrackEvent%'");
    return (rows as unknown[]).length > 0;
  }, { child: p }) ?? false;
  t.ok(seen, 'caught the loader inside LOAD DATA');
  const exited = new Promise((r) => p.on('close', (_code, signal) => r(signal)));
  p.kill('SIGKILL');
  t.equal(await exited, 'SIGKILL');
  // The server rolls the transaction back when it notices the connection is gone.
  const [li] = await c.query(`SELECT COUNT(*) AS n FROM \`${killed.names.Edx}\`.LoadInfo`);
  t.equal(Number((li as { n: number }[])[0].n), 0, 'the killed load is not recorded');
  await c.end();

  const rerun = await run(CSVLOAD, [...killed.args, dir]);
  t.equal(rerun.code, 0, rerun.stderr);
  t.match(rerun.stderr, /1 loaded, 0 skipped, 0 failed/);
  t.equal((await run(CSVLOAD, [...clean.args, dir])).code, 0);

  for (const table of ALL_TABLES.filter((x) => x !== TABLES.LoadInfo)) {
    const db = (w: typeof killed) => w.names[table.database];
    t.same(await tableDigest(db(killed), table), await tableDigest(db(clean), table), `${table.name}: same rows as a clean load`);
  }
  t.equal((await tableDigest(killed.names.Edx, TABLES.EdxTrackEvent)).rows, 80_000);
});
