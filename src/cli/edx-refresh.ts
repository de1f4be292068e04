const USAGE = `Usage: edx-refresh [options] JOB ...
       edx-refresh --list

Rebuilds the platform-derived tables of the warehouse (the original's weekly cronRefresh* jobs).
Each job rebuilds its tables under a temporary name and swaps them in at the end, so a reader never
sees a half-built table and a job that fails leaves last week's tables as they were. Jobs run in
the order of the list below (each after the jobs whose tables it reads); the first failure stops
the run. 'make refresh' runs them all (see docs/refresh.md).

Jobs:
%JOBS%
Options:
  --dump FILE            edxapp platform database dump (mysqldump/mariadb-dump, plain or gzip)
  --modulestore PATH     modulestore export: a JSON or .bson file (as edx-json2sql --modulestore
                         takes), or a directory of mongoexport/mongodump files of the split store
                         (docs/refresh-course.md)
  --forum FILE           forum contents: mongoexport JSON (one document per line) or mongodump's
                         contents.bson, plain or gzip
  --edx-db NAME          database for Edx tables (default: Edx)
  --private-db NAME      database for EdxPrivate tables (default: EdxPrivate)
  --edxprod-db NAME      database for the copy of the platform tables (default: edxprod)
  --forum-db NAME        database for forum tables (default: EdxForum)
  --dry-run              say what each job would do; change nothing. Exit status 1 when a job
                         would fail (each such job says why; the others are still looked at)
  --list                 the jobs, what they read and rebuild, and their order
  --quiet                no progress lines

%CONNECTION%
Exit status: 0 every job done; 1 a job failed (the jobs after it did not run); 2 usage error.
`;

import { runTool, databaseName, databaseNames, say, UsageError, ToolError, write, DATABASE_OPTIONS, type OptionSpec } from './common.js';
import { checkInputPath } from '../io/paths.js';
import { connect, connectTool } from '../mysql/connection.js';
import { CONNECTION_OPTIONS, connectionUsage, resolveConnection } from './db-options.js';
import { createPlatformViews } from '../mysql/init.js';
import { JOBS, inRunOrder, jobNamed } from '../refresh/jobs.js';
import type { JobInputs } from '../refresh/job.js';
import { plural } from '../core/plural.js';
import type { DatabaseNames } from '../schema/table.js';

const TOOL = 'edx-refresh';

const jobLines = () =>
  JOBS.map((j) => `  ${j.name.padEnd(22)} ${j.summary}${j.input ? ` (needs --${j.input})` : ''}\n`).join('');

const OPTIONS = {
  dump: { type: 'string' },
  modulestore: { type: 'string' },
  forum: { type: 'string' },
  ...CONNECTION_OPTIONS,
  ...DATABASE_OPTIONS,
  'edxprod-db': { type: 'string' },
  'forum-db': { type: 'string' },
  'dry-run': { type: 'boolean' },
  list: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const satisfies OptionSpec;

export async function main(argv: string[]): Promise<number> {
  const usage = USAGE.replace('%JOBS%', jobLines()).replace('%CONNECTION%', connectionUsage());
  return runTool(
    TOOL,
    usage,
    argv,
    OPTIONS,
    async ({ values, positionals: wanted }) => {
      const names: Required<DatabaseNames> = {
        ...databaseNames(values),
        edxprod: databaseName(values['edxprod-db'], 'edxprod-db', 'edxprod'),
        EdxForum: databaseName(values['forum-db'], 'forum-db', 'EdxForum'),
      };
      if (values.list) {
        for (const j of JOBS) {
          const tables = j.builds.map((t) => `${names[t.database]}.${t.name}`).join(' ');
          await write(process.stdout, `${j.name}\tafter: ${j.after.join(' ') || '-'}\tinput: ${j.input ?? '-'}\tbuilds: ${tables}\n`);
        }
        return;
      }
      if (wanted.length === 0) throw new UsageError('name at least one job (or --list)');
      for (const name of wanted) if (!jobNamed(name)) throw new UsageError(`no job named '${name}'`);
      const inputs: JobInputs = { dump: values.dump, modulestore: values.modulestore, forum: values.forum };
      const jobs = inRunOrder(wanted);
      for (const j of jobs) if (j.input && !inputs[j.input]) throw new UsageError(`job ${j.name} needs --${j.input}`);
      // Every input exists before any job starts (a typo must not cost a half-done weekly run).
      for (const [name, path] of Object.entries(inputs)) if (path !== undefined) checkInputPath(`--${name}`, path, name === 'modulestore' ? 'either' : 'file');

      const settings = await resolveConnection(values, (m) => say(TOOL, m));
      const conn = await connectTool(settings, { flags: ['+LOCAL_FILES'] });
      const quiet = Boolean(values.quiet);
      const dryRun = Boolean(values['dry-run']);
      /** Dry run: the jobs that would fail (each said as it comes; the others are still looked at). */
      const wouldFail: string[] = [];
      try {
        for (const job of jobs) {
          const started = Date.now();
          if (!quiet) say(TOOL, `${job.name}: started`);
          try {
            const result = await job.run({
              conn,
              connect: () => connect(settings, { flags: ['+LOCAL_FILES'] }),
              names,
              inputs,
              dryRun,
              say: (m) => quiet || say(TOOL, `${job.name}: ${m}`),
            });
            const rows = result.tables.map((t) => `${t.name} ${t.rows}`).join(', ');
            for (const note of result.notes ?? []) say(TOOL, `${job.name}: ${note}`);
            if (!quiet) say(TOOL, `${job.name}: done${rows ? `: ${rows}` : ''} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
          } catch (e) {
            const later = jobs.slice(jobs.indexOf(job) + 1).map((j) => j.name);
            // A RefreshError or an input that cannot be read (ToolErrors) and the system's errors (the
            // server, files) are said plainly; anything else is a bug, said with its stack.
            const why = e instanceof ToolError || (e as NodeJS.ErrnoException).code ? (e as Error).message : ((e as Error).stack ?? String(e));
            if (dryRun) {
              say(TOOL, `${job.name}: would FAIL: ${why}`);
              wouldFail.push(job.name);
              continue;
            }
            throw new ToolError(`${job.name}: FAILED: ${why}${later.length ? ` (not run: ${later.join(', ')})` : ''}`);
          }
        }
        // The views over the refreshed tables (a view cannot exist before its tables, --init may
        // have run before the first refresh).
        if (wouldFail.length) throw new ToolError(`dry run: ${plural(wouldFail.length, 'job')} would fail: ${wouldFail.join(', ')}`);
        if (!dryRun) {
          const views = await createPlatformViews(conn, names);
          if (!quiet && views.made.length) say(TOOL, `views ${views.made.join(', ')} are up to date`);
        }
      } finally {
        await conn.end().catch(() => undefined);
      }
    },
  );
}
