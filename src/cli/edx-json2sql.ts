// edx-json2sql: Open edX tracking-log lines → rows of the warehouse tables.
import { createWriteStream, writeFileSync } from 'node:fs';
import { runTool, finish, say, databaseNames, UsageError, ToolError, type ParsedArgs } from './common.js';
import { SqlScriptWriter } from '../sql/script.js';
import { runTransform } from '../transform/run.js';
import { summaryLine, statsJson } from '../transform/stats.js';
import type { RowWriter } from '../schema/rows.js';
import type { Reject } from '../transform/source.js';
import { write } from '../io/write.js';

const TOOL = 'edx-json2sql';
const USAGE = `Usage: edx-json2sql [options] [FILE...]

Transform Open edX tracking logs (one JSON event per line; plain or gzip, recognised by
content) into the rows of the Edx/EdxPrivate warehouse. Reads the FILEs, or stdin when none
(or '-') is given. By default writes a complete MySQL script on stdout:

    zcat tracking.log-20130609.gz | edx-json2sql | mariadb
    edx-json2sql --rejects rejects.jsonl tracking.log-*.gz > day.sql

Every line ends as rows or in the reject report: broken lines are repaired or their fields
rescued (badly_formatted holds the raw line); only lines with nothing recoverable are
rejected. A summary goes to stderr at the end (lines = events + filtered + rejected).

Output (one of):
  (default)            MySQL script: CREATE DATABASE/TABLE IF NOT EXISTS, then REPLACEs,
                       one transaction per input file; loading it twice adds nothing
  --csv DIR            one CSV per table and a manifest per input file, for edx-csvload
  --rows               a row stream on stdout for 'edx-csvload' (no files in between)

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

const SPEC = {
  string: ['modulestore', 'geoip', 'rejects', 'stats', 'csv', 'source-name', 'edx-db', 'private-db'],
  boolean: ['rows', 'drop', 'drop-private', 'verbose', 'quiet'],
};

/** Rejected lines reported on stderr before the rest are only counted. */
const REJECTS_ON_STDERR = 20;

async function makeWriter(args: ParsedArgs, inputs: string[]): Promise<RowWriter> {
  const names = databaseNames(args);
  if (args.csv && args.rows) throw new UsageError('--csv and --rows exclude each other');
  if (args.csv) {
    const { CsvCollectionWriter } = await import('../csv/collection.js');
    return new CsvCollectionWriter({ dir: args.csv, names });
  }
  if (args.rows) {
    const { RowStreamWriter } = await import('../csv/rowstream-writer.js');
    return new RowStreamWriter(process.stdout);
  }
  return new SqlScriptWriter(process.stdout, {
    names,
    drop: args.drop,
    dropPrivate: args['drop-private'],
    banner: `edx-pipes edx-json2sql: ${inputs.join(' ')}`,
  });
}

export async function main(argv: string[]): Promise<number> {
  return runTool(TOOL, USAGE, argv, SPEC, async (args) => {
    const inputs = args._.length ? args._.map(String) : ['-'];
    if (args['drop-private'] && !args.drop) throw new UsageError('--drop-private goes with --drop');
    const writer = await makeWriter(args, inputs);
    const rejectsFile = args.rejects ? createWriteStream(args.rejects) : undefined;
    let rejectsShown = 0;
    let failed = false;
    const onReject = (r: Reject) => {
      if (rejectsFile) return write(rejectsFile, JSON.stringify(r) + '\n');
      // The text as a JSON string: control characters and binary garbage stay readable on a terminal.
      if (rejectsShown++ < REJECTS_ON_STDERR) say(TOOL, `${r.file}:${r.line}: rejected (${r.reason}): ${JSON.stringify(r.raw.slice(0, 120))}`);
    };
    const stats = await runTransform({
      inputs,
      writer,
      geoipFile: args.geoip,
      modulestoreFile: args.modulestore,
      stdinName: args['source-name'],
      onReject,
      onWarning: args.verbose ? (file, line, msg) => say(TOOL, `${file}:${line}: ${msg}`) : undefined,
      onSourceError: (name, e, kept) => {
        failed = true;
        const what = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : e.message.startsWith(`${name}: `) ? e.message.slice(name.length + 2) : e.message;
        say(TOOL, `${name}: ${what}; ${kept ?? 'its rows were rolled back'}`);
      },
      onProgress: args.quiet || !process.stderr.isTTY ? undefined : (s) => process.stderr.write(`\r${TOOL}: ${s.lines} lines, ${s.events} events`),
    }).catch((e: Error) => {
      if (/modulestore|mmdb|ENOENT/.test(e.message)) throw new ToolError(e.message);
      throw e;
    });
    if (rejectsFile) await finish(rejectsFile);
    if (!rejectsFile && rejectsShown > REJECTS_ON_STDERR) say(TOOL, `… ${rejectsShown - REJECTS_ON_STDERR} more rejected lines (use --rejects FILE)`);
    if (args.stats) writeFileSync(args.stats, JSON.stringify(statsJson(stats), null, 2) + '\n');
    if (!args.quiet) {
      if (process.stderr.isTTY) process.stderr.write('\r');
      say(TOOL, summaryLine(stats));
    }
    await finish(process.stdout);
    return failed ? 1 : 0;
  });
}
