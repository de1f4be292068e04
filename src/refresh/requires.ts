// What a job reads that another job builds: missing means the other job has not run (say which,
// instead of a bare "table doesn't exist"); older than the copy it was derived from means it was
// built from last week's platform copy (the stale mixtures of docs/original.md#bug-9).
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { RefreshError } from './sql.js';

/** A table another job builds. */
export interface Needed {
  db: string;
  table: string;
  /** The job that builds it. */
  job: string;
}

const name = (n: { db: string; table: string }) => `${n.db}.${n.table}`;

/** When the table became what it is (created, or swapped in by RENAME); undefined: no such table. */
async function madeAt(conn: Connection, n: { db: string; table: string }): Promise<string | undefined> {
  const [rows] = await conn.query<RowDataPacket[]>(
    'SELECT CREATE_TIME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [n.db, n.table],
  );
  return rows.length ? String(rows[0].t ?? '') : undefined;
}

/** Whether this is a dry run, and where to say things. */
export interface DryRunContext {
  dryRun: boolean;
  say: (m: string) => void;
}

/**
 * Every needed table exists. In a dry run a missing one is said and false returned (the job that
 * builds it may run before, in this run or in the make run that runs the jobs one by one);
 * otherwise it fails, naming the job to run first.
 */
export async function requireTables(conn: Connection, needed: readonly Needed[], ctx: DryRunContext): Promise<boolean> {
  const { say } = ctx;
  let all = true;
  for (const n of needed) {
    if ((await madeAt(conn, n)) !== undefined) continue;
    if (!ctx.dryRun) throw new RefreshError(`${name(n)} does not exist: run job '${n.job}' first`);
    say(`dry run: ${name(n)} does not exist yet (job '${n.job}' builds it)`);
    all = false;
  }
  return all;
}

/**
 * `derived` was built no earlier than `source` was copied: else it holds last week's data beside
 * this week's copy, and the job that rebuilds it must run first. Times are the server's table
 * times (whole seconds; a table swapped in by RENAME counts from the swap).
 */
export async function requireFresh(conn: Connection, derived: Needed, source: { db: string; table: string }): Promise<void> {
  const [d, s] = [await madeAt(conn, derived), await madeAt(conn, source)];
  if (d !== undefined && s !== undefined && d < s) {
    throw new RefreshError(
      `${name(derived)} (built ${d}) is older than ${name(source)} (copied ${s}): run job '${derived.job}' first`,
    );
  }
}
