// What edx-csvload does, apart from option parsing: connect, optionally --init, then load every
// source of the named collections (or of the row stream on stdin), then print the summary. A
// signal or a lost connection ends the run early, saying what is committed (session.ts).
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import type { Connection } from 'mysql2/promise';
import { ToolError } from '../core/errors.js';
import type { DatabaseNames } from '../schema/table.js';
import { findManifests, readManifest } from '../csv/collection.js';
import { readRowStream } from '../csv/rowstream-reader.js';
import { StreamProblems } from '../csv/rowstream-format.js';
import { sweepSpools } from '../csv/spool.js';
import { onStopSignal, signalExitCode } from '../io/interrupt.js';
import { connect, connectFailure, type ConnectionSettings } from './connection.js';
import { initWarehouse, InitError } from './init.js';
import { DryRun, Loader, Progress, fmt, formatSummary, noWarehouse, warehouseExists } from './load.js';
import { loadTasks, taskPerSource, type LoadTask } from './parallel.js';
import { collectionTasks } from './collection-dir.js';
import { LoadSession, failureLines, someNames } from './session.js';
import { plural } from '../core/plural.js';

export interface CsvloadOptions {
  names: DatabaseNames;
  init?: boolean;
  replace?: boolean;
  forumKeyFile?: string;
  force?: boolean;
  dryRun?: boolean;
  /** The connection's settings (none: a dry run of --collections, which connects to nothing). */
  settings?: ConnectionSettings;
  tmpdir?: string;
  /** Row stream: load a table's rows in pieces of about this many bytes while they arrive. */
  segmentBytes?: number;
  quiet?: boolean;
  collections: string[];
  stdin: boolean;
  say: (msg: string) => void;
  /** Progress interval in ms (0: none). */
  progressEveryMs?: number;
  /** Sources loaded at once, over as many connections (default 1). */
  jobs?: number;
  /** Load every complete collection under this directory (the pipeline's load step). */
  collectionsDir?: { out: string; logRoot?: string; stamps?: string; rejects?: string };
}

/** What the main course of a run awaits once a signal stopped it: the signal's handler ends the process. */
const parked = () => new Promise<never>(() => undefined);

export async function runCsvload(o: CsvloadOptions): Promise<number> {
  let session: LoadSession | undefined;
  /** The sources a run means to load (by origin), when known before it starts: what a stop names as not started. */
  let planned: { name: string; origin: string }[] = [];
  const notStarted = () => {
    const begun = new Set(session?.sources.map((s) => s.origin));
    const rest = planned.filter((p) => !begun.has(p.origin)).map((p) => p.name);
    return o.stdin ? 'the rest of the row stream' : rest.length ? someNames(rest) : '';
  };
  const offSignal = onStopSignal(async (signal) => {
    if (!session) return;
    await session.halt(signal);
    if (!o.quiet) process.stderr.write(formatSummary(session.finish()));
    o.say(`stopped by ${signal} (exit ${signalExitCode(signal)})${o.stdin ? '; the spooled rows are removed' : ''}`);
    for (const line of session.outcomeLines(notStarted())) o.say(line);
  });
  try {
    const status = await load(o, (s) => (session = s), (p) => (planned = p), notStarted);
    if (session?.halted) return await parked();
    return status;
  } catch (e) {
    if (session?.halted) return await parked(); // what failed was the connection the signal dropped
    throw e;
  } finally {
    offSignal();
  }
}

async function load(
  o: CsvloadOptions,
  started: (s: LoadSession) => void,
  plan: (sources: { name: string; origin: string }[]) => void,
  notStarted: () => string,
): Promise<number> {
  const { say } = o;
  // Read everything local first: a wrong path fails before any connection is made.
  const manifests = o.collections.length ? await findManifests(o.collections).catch((e: Error) => { throw new ToolError(e.message); }) : [];
  const sources = await Promise.all(manifests.map((m) => readManifest(m).catch((e: Error) => { throw new ToolError(e.message); })));
  // Several at once, or a directory's collections: tasks for the parallel loader (a dry run is the Loader's).
  let tasks: LoadTask[] | undefined = (o.jobs ?? 1) > 1 && !o.dryRun ? taskPerSource(sources) : undefined;
  if (o.collectionsDir) {
    const dir = o.collectionsDir;
    tasks = await collectionTasks({ ...dir, names: o.names, say }).catch((e: Error) => { throw new ToolError(e.message); });
    if (!tasks.length) {
      say(`nothing to load in ${dir.out}`);
      return 0;
    }
    if (o.dryRun) {
      for (const t of tasks) say(`would load ${t.label}`);
      return 0;
    }
    say(`${plural(tasks.length, 'collection')} into ${o.names.Edx}/${o.names.EdxPrivate}`);
  }
  const passphrase = o.forumKeyFile
    ? (await readFile(o.forumKeyFile, 'utf8').catch((e: Error) => { throw new ToolError(`--forum-key-file: ${e.message}`); })).replace(/[\r\n]+$/, '')
    : undefined;

  const settings = o.settings;
  if (!settings) throw new Error('runCsvload: no connection settings to connect with');
  const session = new LoadSession(settings.socketPath ?? `${settings.host}:${settings.port}`);
  started(session);
  /** A lost connection: the cause once, then what is committed and what is not. */
  const sayLost = () => {
    if (session.lost) for (const line of [session.lostMessage!, ...session.outcomeLines(notStarted())]) say(line);
  };
  plan((tasks ? tasks.flatMap((t) => t.sources) : sources).map((s) => ({ name: s.source.name, origin: s.origin })));
  if (!o.dryRun) {
    // What killed loads left behind (a signal's run removes its own; SIGKILL gives it no chance).
    const spoolParent = o.tmpdir ?? tmpdir();
    const swept = await sweepSpools(spoolParent);
    if (swept.removed.length) {
      say(`removed ${plural(swept.removed.length, 'spool directory', 'spool directories')} (${fmt(Math.round(swept.bytes / 1024))} KiB) that killed loads left in ${spoolParent}`);
    }
    if (swept.unowned.length) {
      say(`left alone in ${spoolParent}: ${someNames(swept.unowned.map((d) => basename(d)))} (no owner file: an older edx-csvload's, or one starting; remove them by hand once no load runs)`);
    }
  }
  let conn: Connection | undefined;
  try {
    conn = session.watch(await connect(settings, { flags: ['+LOCAL_FILES'] }));
  } catch (e) {
    if (!o.dryRun) throw new ToolError(connectFailure(settings, e));
    say(`dry run: ${connectFailure(settings, e)}; not checking LoadInfo`);
  }
  try {
    if (o.init) {
      if (!conn) throw new ToolError('--init needs a connection');
      try {
        // --quiet silences init's messages too, but not a dry run's account of what it would do.
        const initSay = o.quiet && !o.dryRun ? () => undefined : say;
        await initWarehouse(conn, { names: o.names, replace: o.replace, forumPassphrase: passphrase, dryRun: o.dryRun, say: initSay });
      } catch (e) {
        if (e instanceof InitError) throw new ToolError(e.message);
        throw e;
      }
      if (!o.stdin && !sources.length && !tasks) return 0;
    }
    // No warehouse: said once, before any source is read (not once per source).
    if (conn && !o.dryRun && !(await warehouseExists(conn, o.names))) throw new ToolError(noWarehouse(o.names));
    if (tasks) {
      const status = await loadTasks(tasks, { settings, jobs: o.jobs ?? 1, names: o.names, force: o.force, quiet: o.quiet, progressEveryMs: o.progressEveryMs, say, session });
      if (session.halted) return status;
      if (status && o.collectionsDir) say(`some collections failed and are kept in ${o.collectionsDir.out}`);
      sayLost();
      return status;
    }
    const progress = new Progress(say, o.quiet ? 0 : o.progressEveryMs ?? 2000);
    const opts = { names: o.names, force: o.force, progress, session };
    let loader: Loader | DryRun;
    if (o.dryRun || !conn) loader = new DryRun(conn, opts);
    else {
      loader = new Loader(conn, opts);
      await loader.prepare();
    }
    let streamError: Error | undefined;
    if (o.stdin) {
      try {
        // A lost connection stops the reading: the loader may be waiting for rows that never come.
        const sources = readRowStream(process.stdin, { spool: !o.dryRun, tmp: o.tmpdir, segmentBytes: o.segmentBytes, signal: session.lostSignal });
        for await (const src of sources) {
          await loader.loadStream(src);
          if (session.stopped) break;
        }
      } catch (e) {
        streamError = e as Error;
      }
    } else {
      progress.sourcesTotal = sources.length;
      for (const src of sources) {
        if (session.stopped) break;
        await loader.load(src);
      }
    }
    if (session.halted) return 1;
    const report = loader.finish();
    if (!o.quiet) process.stderr.write(formatSummary(report));
    const failures = failureLines(report.sources);
    for (const line of failures) say(line);
    if (streamError && !session.lost) for (const m of streamError instanceof StreamProblems ? streamError.problems : [streamError.message]) say(m);
    sayLost();
    return failures.length || streamError || session.lost ? 1 : 0;
  } finally {
    await conn?.end().catch(() => undefined);
  }
}
