// Loading many sources over several connections at once (edx-csvload --jobs N), through the
// per-source Loader: each source still loads in its own transaction with its LoadInfo row, so what
// the guarantees say of one loader holds for each connection. What parallel loading adds:
//   - partitions: ADD PARTITION commits and waits for every open transaction on the table, so the
//     quarters of all sources are added up front, under a named lock (two runs never race on them),
//     before any worker starts; the workers' loaders then find their partitions present;
//   - tasks: a task is one or more sources that succeed or fail together (a collection directory),
//     with an action once all of them are loaded or skipped (stamp, keep rejects, delete).
import { createHash } from 'node:crypto';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { LoadableSource } from '../csv/collection.js';
import { ensureQuarterPartition } from '../schema/ddl.js';
import { partitionName } from '../schema/quarters.js';
import { EdxTrackEvent } from '../schema/tables.js';
import type { DatabaseNames } from '../schema/table.js';
import { connect, type ConnectionSettings } from './connection.js';
import { Loader, Progress, formatSummary, type LoadReport, type SourceReport } from './load.js';
import { connectionLost, failureLines, type LoadSession } from './session.js';

export interface LoadTask {
  /** For messages: the collection directory or manifest. */
  label: string;
  sources: LoadableSource[];
  /** Whether to load sources LoadInfo has already (asked on the worker's connection, just before). */
  force?: (conn: Connection) => Promise<boolean>;
  /** After every source of the task is loaded or skipped. */
  done?: () => Promise<void>;
}

export interface ParallelOptions {
  settings: ConnectionSettings;
  /** Connections at once (at most one per task). */
  jobs: number;
  names: DatabaseNames;
  /** Reload sources LoadInfo has already (--force), for every task. */
  force?: boolean;
  quiet?: boolean;
  progressEveryMs?: number;
  say: (msg: string) => void;
  /** The run: its connections are watched; a lost one or a signal stops workers taking tasks. */
  session?: LoadSession;
}

/** The named lock of partition changes of one warehouse (GET_LOCK names: 64 characters at most). */
const partitionLock = (names: DatabaseNames) => 'edx-pipes-partitions:' + createHash('sha1').update(names.Edx).digest('hex').slice(0, 32);

/** Add the partitions of these quarters that EdxTrackEvent lacks, holding the partition lock. */
export async function addPartitions(conn: Connection, names: DatabaseNames, quarters: Iterable<string>): Promise<string[]> {
  const wanted = [...new Set(quarters)].sort();
  if (!wanted.length) return [];
  const lock = partitionLock(names);
  const [got] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, 3600) AS ok', [lock]);
  if (Number(got[0]?.ok) !== 1) throw new Error('another loader has held the partition lock for more than an hour');
  try {
    const [rows] = await conn.query<RowDataPacket[]>(
      'SELECT PARTITION_NAME AS p FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      [names[EdxTrackEvent.database], EdxTrackEvent.name],
    );
    const known = new Set(rows.map((r) => String(r.p)));
    const added: string[] = [];
    for (const q of wanted) {
      if (known.has(partitionName(q))) continue;
      for (const stmt of ensureQuarterPartition(EdxTrackEvent, q, names).split(/;\n?/)) if (stmt.trim()) await conn.query(stmt);
      added.push(partitionName(q));
    }
    return added;
  } finally {
    await conn.query('DO RELEASE_LOCK(?)', [lock]).catch(() => undefined);
  }
}

/** Session settings of a loading connection: those of the Loader. */
async function prepared(conn: Connection, names: DatabaseNames): Promise<Connection> {
  await new Loader(conn, { names }).prepare();
  return conn;
}

/**
 * Load the tasks over up to `jobs` connections, tasks taken in order; prints the summary (unless
 * quiet) and says which sources and tasks failed. Returns the exit status: 1 when anything failed.
 */
export async function loadTasks(tasks: LoadTask[], o: ParallelOptions): Promise<number> {
  const progress = new Progress(o.say, o.quiet ? 0 : o.progressEveryMs ?? 2000);
  progress.sourcesTotal = tasks.reduce((n, t) => n + t.sources.length, 0);
  const started = Date.now();
  const perTask: SourceReport[][] = tasks.map(() => []);
  const tables = new Map<string, number>();
  const failedTasks: string[] = [];
  const conns: Connection[] = [];
  const connected = async () => {
    const c = await connect(o.settings, { flags: ['+LOCAL_FILES'] });
    return o.session ? o.session.watch(c) : c;
  };
  try {
    const first = await connected();
    conns.push(first);
    const added = await addPartitions(first, o.names, tasks.flatMap((t) => t.sources.flatMap((s) => s.quarters)));
    if (added.length) o.say(`added partitions ${added.join(', ')}`);
    await prepared(first, o.names);
    const workers = Math.max(1, Math.min(o.jobs, tasks.length));
    for (let i = 1; i < workers; i++) conns.push(await prepared(await connected(), o.names));
    let next = 0;
    await Promise.all(conns.map(async (conn) => {
      for (let i = next++; i < tasks.length && !o.session?.stopped; i = next++) {
        const task = tasks[i];
        let ok = true;
        try {
          const force = o.force || (task.force ? await task.force(conn) : false);
          const loader = new Loader(conn, { names: o.names, force, progress, session: o.session });
          for (const src of task.sources) {
            if (o.session?.stopped) {
              ok = false;
              break;
            }
            const rep = await loader.load(src);
            if (rep.outcome === 'failed') ok = false;
          }
          const r = loader.finish();
          perTask[i] = r.sources;
          for (const [t, n] of r.tables) tables.set(t, (tables.get(t) ?? 0) + n);
          if (ok && task.done) await task.done();
        } catch (e) {
          ok = false;
          const lost = connectionLost(e);
          if (lost) o.session?.connectionLost(lost); // said once, at the end
          else o.say(`${task.label}: ${(e as Error).message}`);
        }
        if (!ok) failedTasks.push(task.label);
      }
    }));
  } finally {
    await Promise.all(conns.map((c) => c.end().catch(() => undefined)));
  }
  if (o.session?.halted) return 1; // the signal's handler says what was done
  const report: LoadReport = { sources: perTask.flat(), tables, seconds: (Date.now() - started) / 1000 };
  if (!o.quiet) process.stderr.write(formatSummary(report));
  const failures = failureLines(report.sources);
  for (const line of failures) o.say(line);
  return failures.length || failedTasks.length || o.session?.lost ? 1 : 0;
}

/** One task per source: `edx-csvload --jobs N COLLECTION...`. */
export const taskPerSource = (sources: LoadableSource[]): LoadTask[] => sources.map((s) => ({ label: s.origin, sources: [s] }));
