// edx-hash-lookup: what a module hash or usage key names (the original's lookupOpenEdxHash).
import { runTool, finish, say, UsageError, ToolError, type OptionSpec } from './common.js';
import { write } from '../io/write.js';
import { readLines } from '../io/input.js';
import { Modulestore } from '../modulestore/display-names.js';
import { findReference, resolveReference } from '../modulestore/lookup.js';

const TOOL = 'edx-hash-lookup';
const USAGE = `\
Usage: edx-hash-lookup --modulestore PATH [--no-header] [TEXT...]

For each TEXT (or each line of stdin when no TEXT is given, or '-'), find the module reference in
it and print what it names, as TSV on stdout: the header
input, display_name, category, course, key, then one line per input, in input order.

A reference is, first found first: a usage key block-v1:ORG+NUM+RUN+type@TYPE+block@ID, an old
location i4x://ORG/NUM/TYPE/ID, or the first run of 32 lower-case hex digits (a module hash, as
tracking logs write it inside URLs, event_type paths and input ids like <hash>_2_1). The names come
from the modulestore export given with --modulestore, in any form edx-json2sql --modulestore
reads (old store: JSON array, {"all": [...]}, NDJSON or .bson; split store: a directory of
mongoexport/mongodump files or one object of collections).

An input with no reference, or whose reference the export does not know, gets a line with empty
fields on stdout and a message on stderr; the exit status is then 1 (the others are still
printed). Tabs and line breaks inside an input are printed as spaces.

Options:
  --modulestore PATH   the modulestore export (required)
  --no-header          no header line
  --quiet              no message per unknown input, only the count
  -h, --help           this text

Examples:
  edx-hash-lookup --modulestore ms.json 1e89628b2a8c4f0e9d1a4b3c2d5e6f70_2_1
  mariadb -N -e 'SELECT DISTINCT problem_id FROM Edx.Answer' | edx-hash-lookup --modulestore ms/

Exit status: 0 every input named a known module, 1 some did not (or output failed), 2 usage error.
`;

const OPTIONS = {
  modulestore: { type: 'string' },
  'no-header': { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const satisfies OptionSpec;

/** One field of a TSV line: tabs and line breaks would break the line. */
const field = (s: string) => s.replace(/[\t\r\n]/g, ' ');

export async function main(argv: string[]): Promise<number> {
  return runTool(TOOL, USAGE, argv, OPTIONS, async ({ values, positionals: texts }) => {
    if (!values.modulestore) throw new UsageError('--modulestore PATH is required');
    if (texts.filter((t) => t === '-').length > 1) throw new UsageError("'-' (stdin) given more than once");
    let store: Modulestore;
    try {
      store = Modulestore.fromFile(values.modulestore);
    } catch (e) {
      throw new ToolError(`--modulestore ${values.modulestore}: ${(e as Error).message}`);
    }
    if (store.size === 0) throw new ToolError(`--modulestore ${values.modulestore}: the export names no module`);

    const out = process.stdout;
    if (!values['no-header']) await write(out, 'input\tdisplay_name\tcategory\tcourse\tkey\n');
    let unknown = 0;
    let looked = 0;
    const lookUp = async (text: string) => {
      looked++;
      const ref = findReference(text);
      const found = ref && resolveReference(store, ref);
      if (!found) {
        unknown++;
        if (!values.quiet) say(TOOL, `${JSON.stringify(text.slice(0, 200))}: ${ref ? `${ref.text} is not in the export` : 'no hash or usage key in it'}`);
        await write(out, `${field(text)}\t\t\t\t${ref ? field(ref.key) : ''}\n`);
        return;
      }
      const m = found.module;
      await write(out, `${field(text)}\t${field(m.displayName)}\t${field(m.category)}\t${field(found.course)}\t${field(ref.key)}\n`);
    };
    const inputs = texts.length ? texts : ['-'];
    for (const text of inputs) {
      if (text !== '-') {
        await lookUp(text);
        continue;
      }
      for await (const line of readLines('-')) if (line.text.trim() !== '') await lookUp(line.text.trim());
    }
    if (unknown > 0) say(TOOL, `${unknown} of ${looked} ${looked === 1 ? 'input' : 'inputs'} unknown`);
    await finish(out);
    return unknown > 0 ? 1 : 0;
  });
}
