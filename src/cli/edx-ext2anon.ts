// edx-ext2anon: external (LTI) ids → anon_screen_name (the original's makeExtToAnonTable).
import { runTool, databaseName, say, UsageError, ToolError, type OptionSpec } from './common.js';
import { write, finish } from '../io/write.js';
import { readLines } from '../io/input.js';
import { checkInputs } from '../io/paths.js';
import { connectTool } from '../mysql/connection.js';
import { CONNECTION_OPTIONS, connectionUsage, resolveConnection } from './db-options.js';
import { extToAnon } from '../research/ext-to-anon.js';
import { csvField } from '../screennames/csv.js';

const TOOL = 'edx-ext2anon';
const USAGE = `\
Usage: edx-ext2anon [options] [FILE...]

Map external ids — the anonymous_user_id an LTI tool or a Qualtrics survey gets from the
platform — to the learners' anon_screen_name, the id of the clickstream tables. Reads ids one per
line from the FILEs, or stdin when none (or '-') is given; blank lines, a header line 'ext_id' and
CR line ends are skipped. Writes CSV on stdout: the header ext_id,anon_screen_name, then one line
per id in input order; an id with no learner gets an empty anon_screen_name and is counted on
stderr.

The mapping is the table Lti2Anon that 'edx-refresh usergrade' builds in the platform copy
(edxprod): run the weekly refresh first. Nothing is written to the server and no file is needed
on it (the original loaded the ids through server-side files).

Options:
  --edxprod-db NAME      the platform copy holding Lti2Anon (default: edxprod)
  --quiet                no summary on stderr

${connectionUsage()}
Example:
  edx-ext2anon < survey-ids.txt > survey-anon.csv

Exit status: 0 done (unknown ids do not make it fail), 1 no connection, no Lti2Anon, an unreadable
input or output failed, 2 usage error.
`;

const OPTIONS = {
  ...CONNECTION_OPTIONS,
  'edxprod-db': { type: 'string' },
  quiet: { type: 'boolean' },
} as const satisfies OptionSpec;

async function* idsOf(inputs: string[]): AsyncGenerator<string> {
  for (const input of inputs) {
    let first = true;
    for await (const line of readLines(input)) {
      const id = line.text.trim();
      if (first && /^"?ext_id"?$/i.test(id)) continue;
      first = false;
      if (id !== '') yield id;
    }
  }
}

export async function main(argv: string[]): Promise<number> {
  return runTool(TOOL, USAGE, argv, OPTIONS, async ({ values, positionals }) => {
    const inputs = positionals.length ? positionals : ['-'];
    if (inputs.filter((i) => i === '-').length > 1) throw new UsageError("'-' (stdin) given more than once");
    checkInputs(inputs);
    const edxprod = databaseName(values['edxprod-db'], 'edxprod-db', 'edxprod');
    const conn = await connectTool(await resolveConnection(values, (m) => say(TOOL, m)));
    const counts = { ids: 0, unknown: 0 };
    try {
      await write(process.stdout, 'ext_id,anon_screen_name\n');
      for await (const [id, anon] of extToAnon(conn, edxprod, idsOf(inputs))) {
        counts.ids++;
        if (anon === undefined) counts.unknown++;
        await write(process.stdout, `${csvField(id)},${anon ?? ''}\n`);
      }
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ER_NO_SUCH_TABLE' || code === 'ER_BAD_DB_ERROR') {
        throw new ToolError(`${edxprod}.Lti2Anon does not exist: run 'edx-refresh usergrade' first`);
      }
      throw e;
    } finally {
      await conn.end().catch(() => undefined);
    }
    await finish(process.stdout);
    if (!values.quiet) say(TOOL, `${counts.ids} ${counts.ids === 1 ? 'id' : 'ids'}, ${counts.unknown} without a learner`);
  });
}
