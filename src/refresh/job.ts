// The shape of a refresh job (docs/original.md#the-weekly-refresh, in the order of docs/original.md#refresh-order): what it reads, what it
// rebuilds, and the jobs whose tables it reads (which therefore run before it, this week).
//
// Each job (jobs/*.ts) is written as the same named steps, as far as it has them: `check` (the
// tables it reads from other jobs are there and fresh), `read` (its input: an export, a dump, a
// page of the platform copy), `rows` (the rows of its tables from what it read), `rebuild` (the
// tables built aside and swapped in, sql.ts's rebuildTables) and `plan` (a dry run: what would be
// done). run() only puts them in order.
import type { Connection } from 'mysql2/promise';
import type { DatabaseNames, TableDef } from '../schema/table.js';

/** Files a job reads, from the command line (--dump, --modulestore, --forum). */
export interface JobInputs {
  /** An edxapp platform database dump (mysqldump / mariadb-dump, plain or gzip). */
  dump?: string;
  /** A modulestore export: a file, or a directory of collection exports (docs/refresh-course.md). */
  modulestore?: string;
  /** A forum contents export (mongoexport's JSON, one document per line). */
  forum?: string;
}

export interface JobContext {
  conn: Connection;
  /**
   * Another connection to the same server, for a job that streams one query's rows while it
   * loads them on `conn` (one connection cannot do both at once). The job ends it.
   */
  connect: () => Promise<Connection>;
  /** Every database named: the refresh reads and writes all four. */
  names: Required<DatabaseNames>;
  inputs: JobInputs;
  /** Say what would be done; change nothing (reading is allowed). */
  dryRun: boolean;
  /** Progress and notes, on stderr. */
  say: (msg: string) => void;
}

export interface JobResult {
  /** Rows of each table the job (re)built, in the order it built them. */
  tables: { name: string; rows: number }[];
  /** Anything the user should know about this run (rows left out and why, …). */
  notes?: string[];
}

/** The result's table list: each table rebuilt with its row count, in the order given. */
export const builtTables = (tables: readonly TableDef[], counts: readonly number[]): JobResult['tables'] =>
  tables.map((t, i) => ({ name: t.name, rows: counts[i] }));

export interface RefreshJob {
  name: string;
  /** One line for --help and --list. */
  summary: string;
  /** Jobs whose tables this one reads: they run first (make's order, edx-refresh's order). */
  after: readonly string[];
  /** The input file the job cannot run without. */
  input?: keyof JobInputs;
  /** The tables it (re)builds. */
  builds: readonly TableDef[];
  run(ctx: JobContext): Promise<JobResult>;
}
