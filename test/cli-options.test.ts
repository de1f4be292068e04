// The command line every tool shares: --version, --help and -h (-? in the tools that talk to the
// database, where -h is the host as in the mysql client: test/client-options.test.ts), and usage
// errors as one line and a pointer to --help (exit 2, nothing on stdout), among them an option's
// forgotten value.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTool, REPO } from './helpers/tools.js';
import { parseCommandLine, UsageError } from '../src/cli/common.js';

const VERSION = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

/** Each tool with one of its value-taking options, one of its flags, and its short help option. */
const TOOLS: [tool: string, valued: string, flag: string, help: string][] = [
  ['edx-json2sql', '--csv', '--rows', '-h'],
  ['edx-csvload', '--tmpdir', '--quiet', '-?'],
  ['edx-s3-ls', '--prefix', '--long', '-?'],
  ['edx-fetch', '--jobs', '--stdout', '-h'],
  ['edx-screennames', '--match', '--quiet', '-h'],
  ['edx-extract-table', '--database', '--list', '-h'],
  ['edx-refresh', '--dump', '--list', '-?'],
];

const tryHelp = (tool: string) => `Try '${tool} --help' for more information.\n`;

for (const [tool, valued, flag, short] of TOOLS) {
  t.test(tool, async (t) => {
    const [version, help, missing, taken] = await Promise.all([
      runTool(tool, ['--version']),
      runTool(tool, [short]),
      runTool(tool, [valued]),
      runTool(tool, [valued, flag]),
    ]);
    t.equal(version.code, 0);
    t.equal(version.stdout, `${tool} ${VERSION}\n`, '--version: the tool and the package version');
    t.equal(version.stderr, '');
    t.equal(help.code, 0, short);
    t.match(help.stdout, new RegExp(`^Usage: ${tool} `), `${short}: the usage on stdout`);
    t.equal(help.stderr, '');
    for (const [r, args, message] of [
      [missing, [valued], `${valued} needs a value`],
      [taken, [valued, flag], `${valued} needs a value, not the option ${flag} (a value starting with '-' is written ${valued}=VALUE)`],
    ] as const) {
      t.equal(r.code, 2, `${args.join(' ')}: usage error`);
      t.equal(r.stderr, `${tool}: ${message}\n${tryHelp(tool)}`, `${args.join(' ')}: one line, then where the help is`);
      t.equal(r.stdout, '', 'nothing on stdout');
    }
  });
}

t.test('parseCommandLine: typed values, operands as typed, usage errors naming the option', async (t) => {
  const spec = {
    csv: { type: 'string' },
    tag: { type: 'string', multiple: true },
    rows: { type: 'boolean' },
  } as const;
  const ok = parseCommandLine(['--csv', 'dir', '007', '--rows', '--tag=a', '--tag', 'b', '--', '--csv', '-'], spec);
  t.same(ok.values, { csv: 'dir', rows: true, tag: ['a', 'b'] });
  t.same(ok.positionals, ['007', '--csv', '-'], "operands stay text; after '--' everything is one");
  t.same(parseCommandLine(['--csv=-x', '-'], spec).values, { csv: '-x' }, "a value starting with '-' written --csv=VALUE");
  t.same(parseCommandLine(['-h'], spec).values, { help: true });
  t.same(parseCommandLine(['--rows', '--rows'], spec).values, { rows: true }, 'a flag twice is still the flag');
  for (const [args, message] of [
    [['--csv'], '--csv needs a value'],
    [['--csv', '--rows'], "--csv needs a value, not the option --rows (a value starting with '-' is written --csv=VALUE)"],
    [['--csv', '-1'], "--csv needs a value, not the option -1 (a value starting with '-' is written --csv=VALUE)"],
    [['--csv=a', '--csv', 'b'], '--csv given more than once'],
    [['--rows=yes'], '--rows takes no value'],
    [['--no-such-option'], 'unknown option --no-such-option'],
    [['-x'], 'unknown option -x'],
  ] as const) {
    t.throws(() => parseCommandLine([...args], spec), new UsageError(message), args.join(' '));
  }
});

t.test('parseCommandLine: a flag whose value is refused (the password), whatever form the value takes', async (t) => {
  const spec = {
    password: { type: 'boolean', short: 'p', refuseValue: 'not here' },
    user: { type: 'string', short: 'u' },
    verbose: { type: 'boolean', short: 'v' },
  } as const;
  t.same(parseCommandLine(['-p', 'db'], spec), { values: { password: true }, positionals: ['db'] }, '-p alone: a flag; the next word is an operand');
  t.same(parseCommandLine(['--password', '-vp'], spec).values, { password: true, verbose: true }, '-vp: two flags');
  for (const [args, message] of [
    [['--password=x'], '--password with a value: not here'],
    [['-px'], '-p with a value: not here'],
    [['-puroot'], '-p with a value: not here'],
    [['--no-such', '-psecret'], '-p with a value: not here'],
  ] as const) {
    t.throws(() => parseCommandLine([...args], spec), new UsageError(message), `${args.join(' ')}: refused before anything else`);
  }
});
