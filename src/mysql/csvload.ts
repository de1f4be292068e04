// What edx-csvload does, apart from option parsing: connect, optionally --init, then load every
// source of the named collections (or of the row stream on stdin), then print the summary.
import { readFile } from 'node:fs/promises';
import type { Connection } from 'mysql2/promise';
import { ToolError } from '../core/errors.js';
import type { DatabaseNames } from '../schema/table.js';
import { findManifests, readManifest } from '../csv/collection.js';
import { readRowStream } from '../csv/rowstream-reader.js';
import { StreamProblems } from '../csv/rowstream-format.js';
import { connect, connectionSettings, describeSettings } from './connection.js';
import { initWarehouse, InitError } from './init.js';
import { DryRun, Loader, Progress, formatSummary, noWarehouse, warehouseExists } from './load.js';
import { loadTasks, taskPerSource, type LoadTask } from './parallel.js';
import { collectionTasks } from './collection-dir.js';
import { plural } from '../core/plural.js';

export interface CsvloadOptions {
  names: DatabaseNames;
  init?: boolean;
  replace?: boolean;
  forumKeyFile?: string;
  force?: boolean;
  dryRun?: boolean;
  defaultsFile?: string;
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

export async function runCsvload(o: CsvloadOptions): Promise<number> {
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

  let settings;
  try {
    settings = connectionSettings({ defaultsFile: o.defaultsFile });
  } catch (e) {
    throw new ToolError((e as Error).message);
  }
  let conn: Connection | undefined;
  try {
    conn = await connect(settings, { flags: ['+LOCAL_FILES'] });
  } catch (e) {
    if (!o.dryRun) throw new ToolError(`cannot connect to ${describeSettings(settings)}: ${(e as Error).message}`);
    say(`dry run: cannot connect to ${describeSettings(settings)} (${(e as Error).message}); not checking LoadInfo`);
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
      const status = await loadTasks(tasks, { settings, jobs: o.jobs ?? 1, names: o.names, force: o.force, quiet: o.quiet, progressEveryMs: o.progressEveryMs, say });
      if (status && o.collectionsDir) say(`some collections failed and are kept in ${o.collectionsDir.out}`);
      return status;
    }
    const progress = new Progress(say, o.quiet ? 0 : o.progressEveryMs ?? 2000);
    const opts = { names: o.names, force: o.force, progress };
    let loader: Loader | DryRun;
    if (o.dryRun || !conn) loader = new DryRun(conn, opts);
    else {
      loader = new Loader(conn, opts);
      await loader.prepare();
    }
    let streamError: Error | undefined;
    if (o.stdin) {
      try {
        const sources = readRowStream(process.stdin, { spool: !o.dryRun, tmp: o.tmpdir, segmentBytes: o.segmentBytes });
        for await (const src of sources) await loader.loadStream(src);
      } catch (e) {
        streamError = e as Error;
      }
    } else {
      progress.sourcesTotal = sources.length;
      for (const src of sources) await loader.load(src);
    }
    const report = loader.finish();
    if (!o.quiet) process.stderr.write(formatSummary(report));
    const failed = report.sources.filter((s) => s.outcome === 'failed');
    for (const f of failed) say(`${f.name}: failed, rolled back, not recorded: ${f.message}`);
    if (streamError) for (const m of streamError instanceof StreamProblems ? streamError.problems : [streamError.message]) say(m);
    return failed.length || streamError ? 1 : 0;
  } finally {
    await conn?.end().catch(() => undefined);
  }
}
