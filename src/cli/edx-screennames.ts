// edx-screennames: screen names of tracking logs → their anon_screen_name, as CSV
// (replaces listCourseScreenNames.sh, makeAnonScreenName.py and makeScreenNameToAnonTable.sh).
import { runTool, write, finish, say, UsageError, type OptionSpec, type ParsedArgs } from './common.js';
import { ScreenNameCollector, namesFrom, summaryLine } from '../screennames/collect.js';
import { CappedReport } from '../io/capped-report.js';
import { anonScreenName } from '../core/values.js';
import { H } from '../core/values.js';
import { HEADER, csvLine } from '../screennames/csv.js';

const TOOL = 'edx-screennames';
const USAGE = `\
Usage: edx-screennames [--match TEXT | --regex RE] [--login-emails] [--quiet] [FILE...]
       edx-screennames --hash NAME...      (--hash -: the names on stdin, one per line)

Map the screen names (usernames) of Open edX tracking logs to their anon_screen_name, as CSV on
stdout: the header screen_name,anon_screen_name, then one line per distinct name, sorted by code
point (as LC_ALL=C sort); fields with a comma, quote or line break are quoted as RFC 4180 says.
Reads the FILEs, or stdin when none (or '-') is given; plain or gzip, recognised by content.

The hash is the one edx-json2sql stores in EdxTrackEvent.anon_screen_name for the user's events:
lowercase hex RIPEMD-160, no salt, of the name as it is (the reference hashed the name after its
cleaning, which changes no name of its era; a name it would change, non-ASCII, emoji, a backslash
or a line break, is hashed as it is so that two learners never share a hash).
Lines are read as edx-json2sql reads them (logger prefixes, NUL padding, broken or truncated lines
whose username can be rescued), and the username is taken from every event, wherever its key is.
Events without a username, or with an empty one, give nothing. Lines nothing can be read from
are reported on stderr as FILE:LINE: reason (the first 20, then a count); a summary line follows.
Names seen only in events the transform drops as noise (heartbeats, '/' pings) are listed too.

/login_ajax events: edx-json2sql keys their row by the hash of the posted e-mail, not of the
username, so no name is taken from them; --login-emails lists that e-mail (several joined by
'; ') with the hash stored for it: the hash of the e-mail as it is, which is also the hash of a
username of that text (--hash gives it too). E-mail addresses are personal data: keep the output private.

Options:
  --match TEXT     only lines containing TEXT (a plain string, as grep -F), e.g. a course id
  --regex RE       only lines a JavaScript regular expression finds (a search, not anchored)
  --login-emails   also list the e-mail of each /login_ajax event with the hash of its row
  --hash           no log is read: the same CSV for the NAMEs given, in their order; '-'
                   reads names from stdin, one per line, the line end not part of the name.
                   Empty names are skipped; names starting with '-' go after '--'. With
                   --login-emails, each NAME is an e-mail, hashed as /login_ajax rows are.
  --quiet          no summary on stderr
  -h, --help       this text

Examples:
  edx-screennames --match Demo/CS101/Spring2014 tracking.log-2014*.gz > cs101-names.csv
  edx-screennames --hash alice bob
  edx-screennames --hash - < names.txt

Exit status: 0 done (unreadable lines do not make it fail), 1 an input could not be read to its
end (then no CSV is printed from logs) or output failed, 2 usage error.
`;

const OPTIONS = {
  match: { type: 'string' },
  regex: { type: 'string' },
  hash: { type: 'boolean' },
  'login-emails': { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const satisfies OptionSpec;
type Values = ParsedArgs<typeof OPTIONS>['values'];

/** Output is gathered into pieces of about this size: one write per name would be slow. */
const CHUNK = 64 * 1024;

/**
 * CSV lines to stdout with backpressure, a chunk at a time. An error of stdout (EPIPE when the
 * reader went away, as with | head) is thrown by the next call, and runTool then ends quietly;
 * the listener stays, or an error reported after the last write would end the process with a
 * stack trace.
 */
class Output {
  private buffer = '';
  private error: Error | undefined;

  constructor() {
    process.stdout.on('error', (e) => { this.error ??= e; });
  }

  async line(text: string): Promise<void> {
    this.buffer += text;
    if (this.buffer.length >= CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    const chunk = this.buffer;
    this.buffer = '';
    if (chunk) await write(process.stdout, chunk);
    if (this.error) throw this.error;
  }

  async close(): Promise<void> {
    await this.flush();
    await finish(process.stdout);
    if (this.error) throw this.error;
  }
}

function matcher(values: Values): ((line: string) => boolean) | undefined {
  const text = values.match;
  const re = values.regex;
  if (text !== undefined && re !== undefined) throw new UsageError('--match and --regex exclude each other');
  if (text !== undefined) {
    if (text === '') throw new UsageError('--match needs a text');
    return (line) => line.includes(text);
  }
  if (re !== undefined) {
    let regex: RegExp;
    try {
      regex = new RegExp(re);
    } catch (e) {
      throw new UsageError(`--regex: ${(e as Error).message}`);
    }
    return (line) => regex.test(line);
  }
  return undefined;
}

async function hashNames(values: Values, names: string[]): Promise<number> {
  for (const o of ['match', 'regex'] as const) if (values[o] !== undefined) throw new UsageError(`--${o} does not go with --hash`);
  if (names.length === 0) throw new UsageError("--hash needs names (or '-' for names on stdin)");
  if (names.filter((n) => n === '-').length > 1) throw new UsageError("'-' (stdin) given more than once");
  // --login-emails: e-mails as /login_ajax rows are keyed, by the hash of the text as it is.
  const hashOf = values['login-emails'] ? H : anonScreenName;
  const out = new Output();
  try {
    await out.line(HEADER);
    for (const name of names) {
      const list: AsyncIterable<string> | string[] = name === '-' ? namesFrom('-') : [name];
      for await (const n of list) if (n !== '') await out.line(csvLine(n, hashOf(n)));
    }
    await out.close();
  } finally {
    // When stdout failed before stdin's end: a gunzip in front of stdin does not close it.
    if (names.includes('-')) process.stdin.destroy();
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  return runTool(TOOL, USAGE, argv, OPTIONS, async ({ values, positionals: positional }) => {
    if (values.hash) return hashNames(values, positional);
    const inputs = positional.length ? positional : ['-'];
    if (positional.length === 0 && process.stdin.isTTY) throw new UsageError("no FILE given and stdin is a terminal (use '-' to read it anyway)");
    if (inputs.filter((n) => n === '-').length > 1) throw new UsageError("'-' (stdin) given more than once");
    const unreadable = new CappedReport((m) => say(TOOL, m));
    const collector = new ScreenNameCollector({
      match: matcher(values),
      loginEmails: values['login-emails'],
      onUnreadable: (file, line, reason) => unreadable.add(() => `${file}:${line}: ${reason}`),
    });
    // An input that cannot be read to its end is an InputError (a ToolError): said plainly.
    for (const input of inputs) await collector.addInput(input);
    if (unreadable.unsaid > 0) say(TOOL, `… ${unreadable.unsaid} more unreadable lines`);
    const out = new Output();
    await out.line(HEADER);
    for (const [name, anon] of collector.sorted()) await out.line(csvLine(name, anon));
    await out.close();
    if (!values.quiet) say(TOOL, summaryLine(collector.stats, collector.names.size, Boolean(values.match || values.regex)));
    return 0;
  });
}
