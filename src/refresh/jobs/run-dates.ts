// The first and last step of a weekly run: Edx.FullLoadDates gets the run's start, and its end
// only when every step before succeeded (docs/original.md#the-weekly-refresh; the original stamped an end even
// when steps had failed silently, docs/original.md#bug-6).
import type { RowDataPacket } from 'mysql2/promise';
import { createTable, qualifiedName } from '../../schema/ddl.js';
import { FullLoadDates } from '../../schema/derived/run.js';
import type { RefreshJob } from '../job.js';
import { checkedQuery, ensureDatabases, RefreshError, tableExists } from '../sql.js';

export const runStart: RefreshJob = {
  name: 'run-start',
  summary: 'record the start of a weekly run in Edx.FullLoadDates',
  after: [],
  builds: [FullLoadDates],
  async run({ conn, names, dryRun, say }) {
    if (dryRun) {
      say(`dry run: would add a row to ${qualifiedName(FullLoadDates, names, { quoted: true })} with load_start now`);
      return { tables: [] };
    }
    await ensureDatabases(conn, [FullLoadDates], names);
    if (!(await tableExists(conn, names.Edx, FullLoadDates.name))) await checkedQuery(conn, createTable(FullLoadDates, names, { quoted: true }));
    await checkedQuery(conn, `INSERT INTO ${qualifiedName(FullLoadDates, names, { quoted: true })} (load_start) VALUES (UTC_TIMESTAMP(6))`);
    return { tables: [{ name: FullLoadDates.name, rows: 1 }] };
  },
};

export const runEnd: RefreshJob = {
  name: 'run-end',
  summary: 'record the end of the weekly run started last (after every step succeeded)',
  after: [],
  builds: [FullLoadDates],
  async run({ conn, names, dryRun, say }) {
    const table = qualifiedName(FullLoadDates, names, { quoted: true });
    // A dry run of a whole weekly run has not really started one: it only says what it would do.
    if (dryRun) {
      say(`dry run: would set load_end of the newest run without one in ${table}`);
      return { tables: [] };
    }
    if (!(await tableExists(conn, names.Edx, FullLoadDates.name))) throw new RefreshError(`${table} does not exist: no run was started (run-start)`);
    const [open] = await conn.query<RowDataPacket[]>(`SELECT MAX(load_start) AS s FROM ${table} WHERE load_end IS NULL`);
    if (open[0].s === null) throw new RefreshError(`no run without an end in ${table}: nothing to end`);
    await checkedQuery(conn, `UPDATE ${table} SET load_end = UTC_TIMESTAMP(6) WHERE load_end IS NULL ORDER BY load_start DESC LIMIT 1`);
    return { tables: [{ name: FullLoadDates.name, rows: 1 }] };
  },
};
