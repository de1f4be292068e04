// edx-json2sql: Open edX tracking-log lines → rows of the warehouse tables.
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { runTool, finish, say, databaseNames, UsageError, ToolError, DATABASE_OPTIONS, type OptionSpec, type ParsedArgs } from './common.js';
import { onStopSignal } from '../io/interrupt.js';
import { SqlScriptWriter } from '../sql/script.js';
import { runTransform } from '../transform/run.js';
import { summaryLine, statsJson } from '../transform/stats.js';
import type { RowWriter } from '../schema/rows.js';
import type { Reject } from '../transform/source.js';
import { write } from '../io/write.js';
import { checkInputs, checkOutputDir, checkOutputFile, sameFile } from '../io/paths.js';
import { openPathList } from '../io/path-list.js';
import { CappedReport } from '../io/capped-report.js';
import { inputError } from '../io/input.js';
import { noun, plural } from '../core/plural.js';

const TOOL = 'edx-json2sql';
const USAGE = `Usage: edx-json2sql [options] [FILE...]
       edx-json2sql [options] --files-from LIST

Transform Open edX tracking logs (one JSON event per line; plain or gzip, recognised by
content) into the rows of the Edx/EdxPrivate warehouse. Reads the FILEs, or stdin when none
(or '-') is given. By default writes a complete MySQL script on stdout:

    zcat tracking.log-20130609.gz | edx-json2sql | mariadb
    edx-json2sql --rejects rejects.jsonl tracking.log-*.gz > day.sql
    edx-fetch ... | edx-json2sql --rows --files-from - | edx-csvload

Every line ends as rows or in the reject report: broken lines are repaired or their fields
rescued (badly_formatted holds the raw line); only lines with nothing recoverable are
rejected. A summary goes to stderr at the end (lines = events + filtered + rejected).

Output (one of):
  (default)            MySQL script: CREATE DATABASE/TABLE IF NOT EXISTS, then REPLACEs,
                       one transaction per input file; loading it twice adds nothing
  --csv DIR            one CSV per table and a manifest per input file, for edx-csvload
  --rows               a row stream on stdout for 'edx-csvload' (no files in between)

Input:
  --files-from LIST    read the paths of the logs from file LIST ('-': stdin), one per line (a CR
                       before the newline is dropped; empty lines are skipped; no quoting), as it
                       comes: any number of files, the first worked on while the list still
                       grows (edx-fetch's output). Each path is checked just before it is read:
                       one missing or unreadable is reported by name and left out, the others go
                       on, and the exit status is 1. Not with FILE operands
  -0, --null           with --files-from: the paths end with NUL, not newline (find -print0)

Options:
  --modulestore PATH   modulestore export giving resource_display_name and course names for
                       hashes: old store (JSON array, {"all": [...]}, NDJSON or .bson) or split
                       store (a directory of mongoexport/mongodump files, or one object of
                       collections), as edx-refresh --modulestore reads (docs/refresh-course.md);
                       default: none, names stay ''
  --geoip FILE         MaxMind-format country database (default: the bundled
                       ip-location-db geo-whois-asn-country, CC BY 4.0)
  --rejects FILE       write rejected lines as JSON lines {file, line, reason, raw}
                       (default: report them on stderr)
  --stats FILE         write the summary as JSON
  --source-name NAME   LoadInfo.load_file for stdin, e.g. s3://bucket/key (default 'stdin:' and
                       the SHA-1 of its first line: two logs piped in are two sources)
  --edx-db NAME        database for the public tables (default Edx)
  --private-db NAME    database for Account and EventIp (default EdxPrivate)
  --drop               script starts with DROP TABLE IF EXISTS for the Edx tables
  --drop-private       with --drop, drop the EdxPrivate tables too (their data is gone!)
  --verbose            report per-event warnings (missing fields, unknown types) on stderr
  --quiet              no progress and no summary on stderr
  -h, --help           this text

Exit status: 0 done (rejected lines do not make it fail), 1 an input could not be read
to its end or output failed, 2 usage error.
`;

const OPTIONS = {
  modulestore: { type: 'string' },
  geoip: { type: 'string' },
  rejects: { type: 'string' },
  stats: { type: 'string' },
  csv: { type: 'string' },
  'source-name': { type: 'string' },
  'files-from': { type: 'string' },
  null: { type: 'boolean', short: '0' },
  ...DATABASE_OPTIONS,
  rows: { type: 'boolean' },
  drop: { type: 'boolean' },
  'drop-private': { type: 'boolean' },
  verbose: { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const satisfies OptionSpec;
type Values = ParsedArgs<typeof OPTIONS>['values'];

async function makeWriter(values: Values, inputs: string[]): Promise<RowWriter> {
  const list = values['files-from'];
  const names = databaseNames(values);
  if (values.csv !== undefined && values.rows) throw new UsageError('--csv and --rows exclude each other');
  if (values.csv !== undefined) {
    if (values.csv === '') throw new UsageError('--csv needs a directory');
    const { CsvCollectionWriter } = await import('../csv/collection.js');
    // Its partial files hold personal data: a signal removes them, then the run exits 128+n.
    const dir = values.csv;
    onStopSignal((signal) => {
      say(TOOL, `stopped by ${signal}: the unfinished files in ${dir} are removed; sources completed before stay`);
    });
    return new CsvCollectionWriter({ dir: values.csv, names });
  }
  if (values.rows) {
    const { RowStreamWriter } = await import('../csv/rowstream-writer.js');
    return new RowStreamWriter(process.stdout);
  }
  return new SqlScriptWriter(process.stdout, {
    names,
    drop: values.drop,
    dropPrivate: values['drop-private'],
    banner: `edx-pipes edx-json2sql: ${list === undefined ? inputs.join(' ') : `--files-from ${list}`}`,
  });
}

export async function main(argv: string[]): Promise<number> {
  return runTool(TOOL, USAGE, argv, OPTIONS, async ({ values, positionals }) => {
    const list = values['files-from'];
    if (list !== undefined && positionals.length) throw new UsageError('--files-from LIST takes no FILE operands (put them in the list)');
    if (values.null && list === undefined) throw new UsageError('--null goes with --files-from');
    if (list === '') throw new UsageError('--files-from needs a file (or - for stdin)');
    // With --files-from the inputs are the list itself until its paths come.
    const inputs = list !== undefined ? [list] : positionals.length ? positionals : ['-'];
    if (values['drop-private'] && !values.drop) throw new UsageError('--drop-private goes with --drop');
    // Every path is checked before anything is opened for writing (a slip must not cost an input);
    // a list's paths are checked one by one as they come (accept below).
    if (list !== undefined && list !== '-') checkInputs([list]);
    else checkInputs(inputs);
    if (values.rejects) checkOutputFile('--rejects', values.rejects, inputs, values.csv);
    if (values.stats) checkOutputFile('--stats', values.stats, inputs, values.csv);
    if (values.csv) checkOutputDir('--csv', values.csv);
    const writer = await makeWriter(values, inputs);
    // A --rejects file may be inside the --csv directory, which the writer makes only at its first
    // row: made now, or the file's open races it (ENOENT, seen in test/backfill-load.test.ts).
    if (values.rejects) mkdirSync(dirname(values.rejects), { recursive: true });
    const rejectsFile = values.rejects ? createWriteStream(values.rejects) : undefined;
    const rejectsOnStderr = new CappedReport((m) => say(TOOL, m));
    let failed = false;
    const onReject = (r: Reject) => {
      if (rejectsFile) return write(rejectsFile, JSON.stringify(r) + '\n');
      // The text as a JSON string: control characters and binary garbage stay readable on a terminal.
      rejectsOnStderr.add(() => `${r.file}:${r.line}: rejected (${r.reason}): ${JSON.stringify(r.raw.slice(0, 120))}`);
    };
    const outputs = [values.rejects, values.stats].filter((p): p is string => Boolean(p));
    const stats = await runTransform({
      inputs: list === undefined ? inputs : openPathList(list, `--files-from ${list}`, { null: values.null }),
      // A listed path: checked as operands are, when its turn comes; a bad one is left out, said, and fails the run.
      accept: list === undefined ? undefined : (path) => {
        try {
          if (path === '-') throw new ToolError("-: a list names files; stdin is not one of them (write ./- for a file named '-')");
          checkInputs([path]);
          if (outputs.some((o) => sameFile(o, path))) throw new ToolError(`${path}: is an output of this run (--rejects or --stats), not a log`);
          return true;
        } catch (e) {
          failed = true;
          say(TOOL, `${(e as Error).message}; left out`);
          return false;
        }
      },
      writer,
      geoipFile: values.geoip,
      modulestoreFile: values.modulestore,
      stdinName: values['source-name'],
      onReject,
      onWarning: values.verbose ? (file, line, msg) => say(TOOL, `${file}:${line}: ${msg}`) : undefined,
      onSourceError: (name, e, kept) => {
        failed = true;
        say(TOOL, `${inputError(name, e).message}; ${kept ?? 'its rows were rolled back'}`);
      },
      onProgress: values.quiet || !process.stderr.isTTY ? undefined : (s) => process.stderr.write(`\r${TOOL}: ${plural(s.lines, 'line')}, ${plural(s.events, 'event')}`),
    });
    if (rejectsFile) await finish(rejectsFile);
    if (rejectsOnStderr.unsaid > 0) say(TOOL, `… ${rejectsOnStderr.unsaid} more rejected ${noun(rejectsOnStderr.unsaid, 'line')} (use --rejects FILE)`);
    if (values.stats) writeFileSync(values.stats, JSON.stringify(statsJson(stats), null, 2) + '\n');
    if (!values.quiet) {
      if (process.stderr.isTTY) process.stderr.write('\r');
      say(TOOL, summaryLine(stats));
    }
    await finish(process.stdout);
    return failed ? 1 : 0;
  });
}
