const USAGE = `Usage: edx-csvload [options] [COLLECTION ...]
       edx-json2sql LOG.gz --rows | edx-csvload [options]
       edx-csvload --init [--forum-key-file FILE] [--replace] [COLLECTION ...]
       edx-csvload --collections DIR [--log-root DIR] [--stamps DIR] [--rejects DIR] [--jobs N]

Loads CSV collections written by 'edx-json2sql --csv DIR' (a directory: every *.manifest.json in
it; or one manifest file), or the row stream of 'edx-json2sql --rows' on stdin (no COLLECTION, or
'-'; several streams one after another too, as 'xargs edx-json2sql --rows' writes them), into the warehouse with LOAD DATA LOCAL INFILE. Each source (input log) loads in one
transaction and is recorded in LoadInfo last, in that transaction; any warning or error rolls the
source back, leaves it unrecorded and makes the exit status 1. Sources already in LoadInfo are
skipped. Rows already present (same derived ids) are replaced, never duplicated. Quarter partitions
of EdxTrackEvent are added as needed. Progress goes to stderr every few seconds, and a summary
(rows per table, outcome per source, time) at the end.

Options:
  --init                 create the databases, every table, the forum key table, the stored
                         routines and views (idempotent; existing tables and data are kept)
  --replace              with --init: drop existing warehouse tables and recreate them empty,
                         and allow changing the forum key (default: off)
  --forum-key-file FILE  with --init: file holding the forum passphrase (trailing newlines are
                         dropped); its SHA2-224 goes to EdxPrivate.Keys (default: key unchanged)
  --force                reload sources already recorded in LoadInfo (default: skip them)
  --dry-run              say what would be done; change nothing (reads LoadInfo if it can connect)
  --edx-db NAME          database for Edx tables (default: Edx)
  --private-db NAME      database for EdxPrivate tables (default: EdxPrivate)
  --edxprod-db NAME      with --init: the database of edx-refresh's platform copy, which the
                         routines over it name (default: edxprod)
  --tmpdir DIR           where the row stream is spooled per source, privately (default: $TMPDIR
                         or /tmp)
  --segment-size BYTES   row stream: each table's rows are loaded in pieces of about this size
                         while the stream still arrives; k/M suffixes (default: 4M)
  --jobs N               load N sources at once over N connections, each still in its own
                         transaction with its LoadInfo row; the partitions all of them need are
                         added first (default: 1)
  --collections DIR      load every complete collection under DIR (<key>.csv/ directories, as the
                         pipeline's transform names them; <key>.csv.partial/ ones are still being
                         written and left alone); each is deleted once it loaded or LoadInfo had it,
                         kept when its load failed. With --dry-run: name them, connect to nothing
  --log-root DIR         with --collections: the mirror the logs came from; a log newer than its
                         stamp (or without one, than its LoadInfo time) changed and is reloaded
  --stamps DIR           with --collections: after a load, <DIR>/<key> gets the log's time
  --rejects DIR          with --collections: a collection's non-empty rejects.jsonl is kept as
                         <DIR>/<key>.jsonl before the collection is deleted
  --quiet                no progress lines, no summary, and none of --init's messages (a dry
                         run still says what it would do; errors are always said)

%CONNECTION%
Examples:
  edx-csvload --init --forum-key-file ~/.edx-forum-passphrase
  edx-json2sql --csv /data/csv /data/logs/tracking.log-2014*.gz && edx-csvload /data/csv
  edx-json2sql /data/logs/tracking.log-20140101.gz --rows | edx-csvload
  edx-csvload --dry-run --defaults-file ~/.my.cnf.warehouse /data/csv
  edx-csvload -h db.example.org -u loader -p --ssl-ca ~/db-ca.pem --init
  edx-csvload --jobs 2 --collections /data/CSV --log-root /data/tracking --stamps /data/loaded

Interrupted: SIGINT, SIGTERM or SIGHUP removes the spool, waits for a COMMIT under way, leaves
the source being loaded to the server's rollback, says which sources are committed and exits
128 + the signal's number. A lost connection is said once with its cause; no further source
starts. Spool directories (edx-csvload-*, 0700, files 0600) that a killed run left are removed
by the next run, when the process that made them is gone.

Exit status: 0 everything loaded or skipped; 1 a source failed, the connection was lost, or no
connection; 2 usage error; 129/130/143 stopped by SIGHUP/SIGINT/SIGTERM.
`.replace('%CONNECTION%', connectionUsage());

import { runTool, databaseName, databaseNames, say, UsageError, ToolError, DATABASE_OPTIONS, type OptionSpec } from './common.js';
import { checkInputPath } from '../io/paths.js';
import { runCsvload } from '../mysql/csvload.js';
import { CONNECTION_OPTIONS, connectionUsage, resolveConnection } from './db-options.js';
import { resolve } from 'node:path';

const TOOL = 'edx-csvload';

/** `4096`, `64k`, `4M` → bytes. */
function byteSize(text: string): number {
  const m = /^(\d+)([kKmM]?)$/.exec(text);
  if (!m || Number(m[1]) <= 0) throw new UsageError(`--segment-size: not a size: ${JSON.stringify(text)}`);
  return Number(m[1]) * (m[2] ? (m[2].toLowerCase() === 'k' ? 1024 : 1 << 20) : 1);
}

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  'forum-key-file': { type: 'string' },
  ...DATABASE_OPTIONS,
  'edxprod-db': { type: 'string' },
  tmpdir: { type: 'string' },
  'segment-size': { type: 'string' },
  jobs: { type: 'string' },
  collections: { type: 'string' },
  'log-root': { type: 'string' },
  stamps: { type: 'string' },
  rejects: { type: 'string' },
  init: { type: 'boolean' },
  replace: { type: 'boolean' },
  force: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const satisfies OptionSpec;

export async function main(argv: string[]): Promise<number> {
  return runTool(TOOL, USAGE, argv, OPTIONS, async ({ values, positionals: inputs }) => {
    if (values.replace && !values.init) throw new UsageError('--replace goes with --init');
    if (values['forum-key-file'] && !values.init) throw new UsageError('--forum-key-file goes with --init');
    if (values['edxprod-db'] && !values.init) throw new UsageError('--edxprod-db goes with --init');
    const segmentBytes = values['segment-size'] === undefined ? undefined : byteSize(values['segment-size']);
    const jobs = values.jobs === undefined ? 1 : Number(values.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`--jobs: not a positive count: ${JSON.stringify(values.jobs)}`);
    const dir = values.collections;
    for (const name of ['log-root', 'stamps', 'rejects'] as const) if (values[name] !== undefined && dir === undefined) throw new UsageError(`--${name} goes with --collections`);
    if (dir !== undefined && inputs.length) throw new UsageError('--collections DIR takes no other COLLECTION');
    const stdin = inputs.length === 0 ? !values.init && dir === undefined : inputs.includes('-');
    if (stdin && jobs > 1) throw new UsageError('--jobs loads collections; the row stream on stdin is one source after the other');
    if (stdin && inputs.length > 1) throw new UsageError("'-' (stdin) cannot be mixed with collections");
    if (stdin && process.stdin.isTTY) throw new UsageError('no COLLECTION given and stdin is a terminal (pipe a row stream, or name a collection)');
    if (values.tmpdir !== undefined) checkInputPath('--tmpdir', values.tmpdir, 'directory');
    if (values['forum-key-file'] !== undefined) checkInputPath('--forum-key-file', values['forum-key-file'], 'file');
    if (dir !== undefined) checkInputPath('--collections', dir, 'directory');
    // A dry run of --collections connects to nothing; everything else needs the connection's settings.
    const connects = !(dir !== undefined && values['dry-run']);
    const settings = connects ? await resolveConnection(values, (m) => say(TOOL, m)) : undefined;
    try {
      return await runCsvload({
        names: { ...databaseNames(values), edxprod: databaseName(values['edxprod-db'], 'edxprod-db', 'edxprod') },
        init: values.init,
        replace: values.replace,
        forumKeyFile: values['forum-key-file'],
        force: values.force,
        dryRun: values['dry-run'],
        settings,
        tmpdir: values.tmpdir,
        segmentBytes,
        quiet: values.quiet,
        collections: stdin ? [] : inputs,
        stdin,
        jobs,
        collectionsDir: dir === undefined ? undefined : {
          out: resolve(dir),
          logRoot: values['log-root'] === undefined ? undefined : resolve(values['log-root']),
          stamps: values.stamps === undefined ? undefined : resolve(values.stamps),
          rejects: values.rejects === undefined ? undefined : resolve(values.rejects),
        },
        say: (m) => say(TOOL, m),
      });
    } catch (e) {
      if (e instanceof ToolError) throw e;
      // The server or the files named failing (not a bug): said plainly, by the system's code.
      const code = (e as NodeJS.ErrnoException).code;
      if (code && /^(ECONNREFUSED|ENOTFOUND|ER_|ENOENT|EACCES|PROTOCOL_)/.test(code)) throw new ToolError((e as Error).message);
      throw e;
    }
  });
}
