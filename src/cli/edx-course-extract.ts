// edx-course-extract: the events of some courses, with their answers, in a table of their own
// (the original's makeCourseExtract).
import { runTool, databaseName, numberOption, say, UsageError, ToolError, type OptionSpec } from './common.js';
import { connectTool } from '../mysql/connection.js';
import { CONNECTION_OPTIONS, connectionUsage, resolveConnection } from './db-options.js';
import { progressClock } from '../io/progress.js';
import { CHUNK_ROWS, DEFAULT_COLUMNS, ExtractError, makeExtract, planExtract, tableNameOf } from '../research/course-extract.js';
import { noun } from '../core/plural.js';

const TOOL = 'edx-course-extract';
const USAGE = `\
Usage: edx-course-extract [options] PATTERN

Copy the events of the courses whose course_display_name matches PATTERN, a MySQL regular
expression (REGEXP: unanchored, case-insensitive as the column's collation), into the table
Extracts.<name>, each event joined with its answer (Answer.answer, NULL for events without one):
  default          ${DEFAULT_COLUMNS.join(', ')}, answer
  --all-columns    every column of EdxTrackEvent, then answer
The extract gets indexes on anon_screen_name, event_type, ip_country, course_display_name,
resource_display_name, success, time, answer and video_seek_type (those it has).

Everything runs on the server, in chunks of --chunk-rows events of one course at a time, so no
clickstream row stays locked for long while loads go on. The table is built under a building name
and renamed at the end: a failed or interrupted extract leaves nothing under the name. An
existing table is not replaced unless --replace is given (then it is swapped out at the end).

Options:
  --table NAME           the extract's table name (default: PATTERN's letters, digits and _,
                         other runs as one _, e.g. 'Medicine/HRP258/.*' → Medicine_HRP258)
  --all-columns          every EdxTrackEvent column instead of the default selection
  --replace              replace an existing table of that name
  --chunk-rows N         events copied per statement (default 10000): smaller holds each lock
                         for less time on a busy server, larger is quicker in all
  --dry-run              only count: the matching courses and their events; nothing is changed
  --edx-db NAME          database of the clickstream (default: Edx)
  --extracts-db NAME     database of the extracts (default: Extracts; created when missing)
  --quiet                no progress and no summary on stderr

${connectionUsage()}
Examples:
  edx-course-extract --dry-run 'Medicine/HRP258'
  edx-course-extract --table hrp258_all --all-columns '^Medicine/HRP258/'

Exit status: 0 done, 1 failure (no connection, table exists, bad pattern, nothing matched), 2 usage error.
`;

const OPTIONS = {
  table: { type: 'string' },
  ...CONNECTION_OPTIONS,
  'edx-db': { type: 'string' },
  'extracts-db': { type: 'string' },
  'chunk-rows': { type: 'string' },
  'all-columns': { type: 'boolean' },
  replace: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const satisfies OptionSpec;

export async function main(argv: string[]): Promise<number> {
  return runTool(TOOL, USAGE, argv, OPTIONS, async ({ values, positionals }) => {
    if (positionals.length !== 1) throw new UsageError(positionals.length ? `one PATTERN, not ${positionals.length} arguments` : 'PATTERN is missing');
    const pattern = positionals[0];
    if (pattern === '') throw new UsageError('PATTERN is empty');
    const table = values.table ? values.table : tableNameOf(pattern);
    if (table === undefined) throw new UsageError(`no table name can be made of '${pattern}': give --table NAME`);
    if (!/^[A-Za-z0-9_$]{1,56}$/.test(table)) throw new UsageError(`--table: '${table}' is not a plain table name (letters, digits, _ and $, at most 56)`);
    const edxDb = databaseName(values['edx-db'], 'edx-db', 'Edx');
    const extractsDb = databaseName(values['extracts-db'], 'extracts-db', 'Extracts');
    const quiet = Boolean(values.quiet);
    const chunkRows = numberOption(values['chunk-rows'], 'chunk-rows', CHUNK_ROWS);
    if (!Number.isInteger(chunkRows) || chunkRows < 1) throw new UsageError(`--chunk-rows takes a whole number above 0, not ${values['chunk-rows']}`);
    const conn = await connectTool(await resolveConnection(values, (m) => say(TOOL, m)));
    try {
      const plural = (n: number, what: string) => `${n.toLocaleString('en')} ${what}${n === 1 ? '' : 's'}`;
      if (values['dry-run']) {
        const plan = await planExtract(conn, { pattern, edxDb });
        for (const c of plan.courses) process.stdout.write(`${c.name}\t${c.events}\n`);
        if (plan.courses.length === 0) throw new ToolError(`no course_display_name matches '${pattern}'`);
        say(TOOL, `dry run: ${plural(plan.events, 'event')} of ${plural(plan.courses.length, 'course')} would go to ${extractsDb}.${table}`);
        return 0;
      }
      const tick = progressClock(10_000);
      const plan = await makeExtract(conn, {
        pattern, edxDb, extractsDb, table,
        allColumns: Boolean(values['all-columns']),
        replace: Boolean(values.replace),
        chunkRows,
        onProgress: quiet ? undefined : (copied, course) => tick() && say(TOOL, `${copied.toLocaleString('en')} ${noun(copied, 'row')} copied (now ${course})`),
      });
      if (!quiet) say(TOOL, `${extractsDb}.${table}: ${plural(plan.events, 'row')} of ${plural(plan.courses.length, 'course')}`);
    } catch (e) {
      if (e instanceof ExtractError) throw new ToolError(e.message);
      const code = (e as { code?: string }).code;
      if (code === 'ER_NO_SUCH_TABLE' || code === 'ER_BAD_DB_ERROR') throw new ToolError(`${(e as Error).message} (is the warehouse in ${edxDb}?)`);
      throw e;
    } finally {
      await conn.end().catch(() => undefined);
    }
  });
}
