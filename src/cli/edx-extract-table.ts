// edx-extract-table: one table of a mysqldump/mariadb-dump file as a SQL script of its own.
import { runTool, finish, say, UsageError, type OptionSpec } from './common.js';
import { extractFromDump } from '../dump/extract.js';

const TOOL = 'edx-extract-table';
const USAGE = `\
Usage: edx-extract-table [--database DB] [DUMP] TABLE
       edx-extract-table --list [--database DB] [DUMP]

Print a SQL script that loads just one table of a mysqldump/mariadb-dump file: the dump's
session settings (character set, time zone, no unique/foreign-key checks, SQL mode
NO_AUTO_VALUE_ON_ZERO), the table's section of the dump as it is there (DROP TABLE, CREATE
TABLE, LOCK TABLES, INSERTs, UNLOCK TABLES), and the restoring of the settings at the end.
The section's statements load it as TABLE__edx_new, which one atomic RENAME swaps in only at the
end of a whole section: a truncated dump never replaces the table, whatever runs the script (what
it held stays in TABLE__edx_new). A dump made with --no-create-info adds its rows to the table.
DUMP is plain or gzip (recognised by content, not by name); without DUMP, or with '-', the dump
is read from stdin. Reading stops at the end of the table's section; memory stays the same
whatever the size of the dump.

    edx-extract-table backup.sql.gz EdxTrackEvent | mariadb Edx
    zcat backup.sql.gz | edx-extract-table Account > Account.sql

The section starts at the dump's '-- Table structure for table \`TABLE\`' comment (or its
'-- Dumping data for table' comment in a dump made with --no-create-info) and ends with its
UNLOCK TABLES, or where the next section begins in a dump without LOCK TABLES
(--skip-add-locks) or without data (--no-data). The table's triggers are not copied. TABLE is
compared exactly (case and all; in a dump whose SET NAMES is latin1, as that character set
writes it). A view is not a table and is not extracted. The dump needs its comments (not made
with --compact or --skip-comments); a table whose name holds a line break cannot be found, as
the break cuts the dump's comment line. Lines inside trigger, routine and event bodies are never
taken for section comments. With --no-autocommit dumps, the script commits the table's rows and
restores autocommit as the dump does.

Options:
  --database DB        in a dump of several databases (--databases, --all-databases), the
                       table of database DB (default: the first table called TABLE)
  --list               print the names of the tables in the dump, one per line, instead
  -h, --help           print this help

Exit status: 0 done, 1 the table is not in the dump, or the dump could not be read or ends
inside the table's section (truncated), or --list found no table (not a dump) or not the
database, 2 usage error.
`;

const OPTIONS = {
  database: { type: 'string' },
  list: { type: 'boolean' },
} as const satisfies OptionSpec;

export async function main(argv: string[]): Promise<number> {
  return runTool(TOOL, USAGE, argv, OPTIONS, async ({ values, positionals: positional }) => {
    const database = values.database;
    if (database === '') throw new UsageError('--database needs a name');
    let path = '-';
    let table: string | undefined;
    if (values.list) {
      if (positional.length > 1) throw new UsageError('--list takes at most one DUMP');
      path = positional[0] ?? '-';
    } else {
      if (positional.length < 1 || positional.length > 2) throw new UsageError('give the DUMP (or - for stdin) and the TABLE');
      table = positional[positional.length - 1];
      if (positional.length === 2) path = positional[0];
      if (table === '') throw new UsageError('the TABLE name is empty');
    }
    if (path === '-' && process.stdin.isTTY) throw new UsageError('no DUMP given and stdin is a terminal');
    const name = path === '-' ? 'stdin' : path;

    // A dump that cannot be read is an InputError (said plainly); EPIPE on stdout ends quietly.
    const result = await extractFromDump(path, { table, database, source: name }, process.stdout);
    await finish(process.stdout);

    const noComments = `no '-- Table structure for table' comments in ${name} (not a dump, or made with --compact or --skip-comments?)`;
    const where = database === undefined ? '' : ` of database \`${database}\``;
    if (values.list) {
      // Nothing to list is a failure: a script (`--list | while read t`) must not take a file that
      // is no dump for an empty one.
      if (result.tablesSeen === 0) {
        say(TOOL, noComments);
        return 1;
      }
      if (database !== undefined && !result.databaseSeen) {
        say(TOOL, `database \`${database}\` is not in ${name}`);
        return 1;
      }
      return 0;
    }
    if (result.truncated) {
      say(TOOL, `${name} ends inside the section of table \`${table}\`: the dump is truncated, the script incomplete`);
      return 1;
    }
    if (!result.found) {
      if (result.tablesSeen === 0) say(TOOL, noComments);
      else if (database !== undefined && !result.databaseSeen) say(TOOL, `database \`${database}\` is not in ${name}`);
      else if (result.isView) say(TOOL, `\`${table}\`${where} is a view in ${name}, not a table; views are not extracted`);
      else say(TOOL, `table \`${table}\`${where} is not in ${name}`);
      return 1;
    }
    return 0;
  });
}
