// edx-fetch: keys in (arguments or stdin), local paths out, as each download finishes.
import { createInterface } from 'node:readline';
import { runTool, numberOption, write, UsageError, ToolError, type OptionSpec, type ParsedArgs } from './common.js';
import { S3_OPTIONS, S3_OPTIONS_USAGE, s3Location } from './s3-options.js';
import { checkOutputDir } from '../io/paths.js';
import { checkBucket, describeS3Error, keyIn, localRoot, makeClient, parseS3Url, s3Config } from '../s3/client.js';
import { download, fetchAllToMirror, removePartialsOnSignal, FetchFailure, type RetryPolicy, type Sink } from '../s3/fetch.js';
import { progressTicker } from '../io/progress.js';
import { plural } from '../core/plural.js';

const TOOL = 'edx-fetch';

const USAGE = `\
Usage: edx-fetch --bucket NAME --local-root DIR [--jobs N] [--retries N] [KEY ...]   (or keys on stdin)
       edx-fetch --bucket NAME --stdout KEY

Download S3 objects into a local mirror of the bucket: KEY goes to <local-root>/<KEY>. Keys come
from the arguments, or else from stdin, one per line (only the first tab-separated field is used, so
the output of 'edx-s3-ls --long' works too); a key may be written s3://NAME/KEY (NAME the bucket;
without --bucket, the bucket of the first KEY). A bucket that does not exist, or credentials that
cannot be had (--profile), fail once before any download. Each finished file's absolute path is printed on stdout
as soon as it is done, so the next stage can start on it.

Each object is written to a temporary name in the same directory (.<name>.partial-<pid>) and renamed
only after its size, and its MD5 when the ETag is a plain MD5, have been checked: a half-written file
never carries the final name; a signal (SIGINT, SIGTERM, SIGHUP) removes it, and a later run removes
one a killed run left (its pid gone). A local file that already has the object's size is not downloaded
again (its path is still printed). Network resets, 5xx answers, throttling and short or corrupt
bodies are retried with exponential back-off (an interrupted body resumes where it stopped). A
missing key or denied access fails that key at once (message on stderr naming it); the other keys
are still fetched and the exit status is 1.

On stderr: a progress line when stderr is a terminal, then a one-line summary (fetched, already
present, failed, bytes, seconds).

Options:
  --local-root DIR       root of the local mirror (env EDX_PIPES_LOCAL_ROOT; required without --stdout)
  --jobs N               downloads at once (default: 4)
  --retries N            retries of a transient failure per object (default: 5)
  --retry-delay MS       first back-off in milliseconds, doubling each retry, at most 30 s (default: 500)
  --stdout               stream exactly one object's bytes to stdout instead (checked the same way;
                         exit 1 if the bytes sent were not the whole, correct object)
  -h, --help             print this help
${S3_OPTIONS_USAGE}
Examples:
  edx-s3-ls --bucket B --new --local-root DIR | edx-fetch --bucket B --local-root DIR
  edx-fetch --bucket B --local-root DIR tracking/app10/tracking.log-20130609.gz
  edx-fetch --bucket B --stdout tracking/app10/tracking.log-20130609.gz | edx-json2sql ...

Exit status: 0 every key fetched or already present, 1 some key failed (or --stdout failed),
2 usage error.
`;

const OPTIONS = {
  ...S3_OPTIONS,
  jobs: { type: 'string' },
  retries: { type: 'string' },
  'retry-delay': { type: 'string' },
  stdout: { type: 'boolean' },
} as const satisfies OptionSpec;
type Args = ParsedArgs<typeof OPTIONS>;

/** A key from an input line: the first tab-separated field (so `edx-s3-ls --long` output works too). */
export const keyFromLine = (line: string): string => line.replace(/\r$/, '').split('\t')[0];

/** The keys to fetch, each once, from the arguments or else from stdin as it arrives. */
async function* inputKeys(operands: string[], bucket: string): AsyncGenerator<string> {
  const seen = new Set<string>();
  const lines: AsyncIterable<string> = operands.length > 0
    ? (async function* () { yield* operands; })()
    : createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    const key = keyIn(bucket, keyFromLine(line));
    if (key === '' || seen.has(key)) continue;
    seen.add(key);
    yield key;
  }
}

/** Messages and the progress line share stderr; a message first clears the progress line. */
class Reporter {
  fetched = 0;
  present = 0;
  failed = 0;
  bytes = 0;
  active = 0;
  private readonly started = Date.now();
  private stopTicking?: () => void;
  private shown = false;

  start() {
    if (process.stderr.isTTY) this.stopTicking = progressTicker(250, () => this.progress());
  }
  say(msg: string) {
    this.clear();
    process.stderr.write(`${TOOL}: ${msg}\n`);
  }
  private clear() {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
  private progress() {
    process.stderr.write(`\r\x1b[K${TOOL}: ${this.fetched} fetched, ${this.present} already present, `
      + `${this.failed} failed, ${(this.bytes / 1e6).toFixed(1)} MB, ${this.active} in progress`);
    this.shown = true;
  }
  summary() {
    this.stopTicking?.();
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    this.say(`fetched ${this.fetched}, already present ${this.present}, failed ${this.failed}, `
      + `${plural(this.bytes, 'byte')}, ${seconds} s`);
  }
}

function retryPolicy(values: Args['values']): RetryPolicy {
  const retries = numberOption(values.retries, 'retries', 5);
  const baseDelayMs = numberOption(values['retry-delay'], 'retry-delay', 500);
  if (!Number.isInteger(retries) || retries < 0) throw new UsageError('--retries takes a whole number >= 0');
  if (baseDelayMs < 0) throw new UsageError('--retry-delay takes a number of milliseconds >= 0');
  return { retries, baseDelayMs };
}

async function fetchKeys({ values, positionals }: Args): Promise<number> {
  // `edx-fetch --stdout s3://B/KEY`: the bucket from the key's URL when no other is given.
  const fromUrl = values.bucket === undefined && !process.env.EDX_PIPES_BUCKET ? parseS3Url(positionals[0] ?? '')?.bucket : undefined;
  const config = s3Config(s3Location({ ...values, bucket: values.bucket ?? fromUrl }));
  for (const operand of positionals) keyIn(config.bucket, keyFromLine(operand)); // a key of another bucket: before any download
  const policy = retryPolicy(values);
  const jobs = numberOption(values.jobs, 'jobs', 4);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError('--jobs takes a whole number >= 1');
  // We retry ourselves (including bodies cut short), so the SDK does not.
  if (values.stdout) {
    const client = makeClient(config, { maxAttempts: 1 });
    await checkBucket(client, config).catch((e) => { client.destroy(); throw e; });
    return toStdout(positionals, config.bucket, client, policy);
  }

  const root = localRoot(values['local-root']);
  if (!root) throw new UsageError('no local root: give --local-root DIR or set EDX_PIPES_LOCAL_ROOT (or use --stdout)');
  checkOutputDir('--local-root', root);
  const client = makeClient(config, { maxAttempts: 1 });
  await checkBucket(client, config).catch((e) => { client.destroy(); throw e; });
  const report = new Reporter();
  removePartialsOnSignal();
  report.start();
  let output = Promise.resolve();
  try {
    await fetchAllToMirror(client, config.bucket, root, inputKeys(positionals, config.bucket), policy, jobs, {
      started: () => { report.active++; },
      onBytes: (n) => { report.bytes += n; },
      finished: async (key, outcome) => {
        report.active--;
        if (outcome.status === 'failed') {
          report.failed++;
          report.say(`${key}: ${outcome.message}`);
          return;
        }
        if (outcome.status === 'fetched') report.fetched++;
        else report.present++;
        // In the order finished, one path per line, without interleaving.
        output = output.then(() => write(process.stdout, `${outcome.path}\n`));
        await output;
      },
    });
  } finally {
    client.destroy();
    report.summary();
  }
  return report.failed > 0 ? 1 : 0;
}

/** --stdout: one object's bytes to stdout, checked like a file download. */
async function toStdout(operands: string[], bucket: string, client: ReturnType<typeof makeClient>, policy: RetryPolicy): Promise<number> {
  const keys: string[] = [];
  for await (const k of inputKeys(operands, bucket)) keys.push(k);
  if (keys.length !== 1) throw new UsageError(`--stdout streams exactly one object; got ${plural(keys.length, 'key')}`);
  const [key] = keys;
  let sent = 0;
  const sink: Sink = {
    async write(chunk) {
      await write(process.stdout, chunk);
      sent += chunk.length;
    },
    async restart() { return sent === 0; },
  };
  try {
    await download(client, bucket, key, sink, policy);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') throw e;
    throw new ToolError(`${key}: ${e instanceof FetchFailure ? e.message : describeS3Error(e).message}`);
  } finally {
    client.destroy();
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  return runTool(TOOL, USAGE, argv, OPTIONS, fetchKeys);
}
