// edx-fetch: keys in (arguments or stdin), local paths out, as each download finishes.
import { createInterface } from 'node:readline';
import { UsageError, ToolError, numberOption, write, type ParsedArgs } from '../cli/common.js';
import { describeS3Error, localRoot, makeClient, s3Config } from './client.js';
import { download, fetchToMirror, removePartialsOnSignal, FetchFailure, type RetryPolicy, type Sink } from './fetch.js';

export const FETCH_TOOL = 'edx-fetch';

/** A key from an input line: the first tab-separated field (so `edx-s3-ls --long` output works too). */
export const keyFromLine = (line: string): string => line.replace(/\r$/, '').split('\t')[0];

/** The keys to fetch, each once, from the arguments or else from stdin as it arrives. */
async function* inputKeys(args: ParsedArgs): AsyncGenerator<string> {
  const seen = new Set<string>();
  const lines: AsyncIterable<string> = args._.length > 0
    ? (async function* () { yield* args._.map(String); })()
    : createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    const key = keyFromLine(line);
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
  private readonly tty = Boolean(process.stderr.isTTY);
  private timer?: NodeJS.Timeout;
  private shown = false;

  start() {
    if (!this.tty) return;
    this.progress();
    this.timer = setInterval(() => this.progress(), 250);
  }
  say(msg: string) {
    this.clear();
    process.stderr.write(`${FETCH_TOOL}: ${msg}\n`);
  }
  private clear() {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
  private progress() {
    process.stderr.write(`\r\x1b[K${FETCH_TOOL}: ${this.fetched} fetched, ${this.present} already present, `
      + `${this.failed} failed, ${(this.bytes / 1e6).toFixed(1)} MB, ${this.active} in progress`);
    this.shown = true;
  }
  summary() {
    if (this.timer) clearInterval(this.timer);
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    this.say(`fetched ${this.fetched}, already present ${this.present}, failed ${this.failed}, `
      + `${this.bytes} bytes, ${seconds} s`);
  }
}

function retryPolicy(args: ParsedArgs): RetryPolicy {
  const retries = numberOption(args, 'retries', 5);
  const baseDelayMs = numberOption(args, 'retry-delay', 500);
  if (!Number.isInteger(retries) || retries < 0) throw new UsageError('--retries takes a whole number >= 0');
  if (baseDelayMs < 0) throw new UsageError('--retry-delay takes a number of milliseconds >= 0');
  return { retries, baseDelayMs };
}

export async function runFetch(args: ParsedArgs): Promise<number> {
  const config = s3Config(args);
  const policy = retryPolicy(args);
  const jobs = numberOption(args, 'jobs', 4);
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError('--jobs takes a whole number >= 1');
  if (args.stdout) return toStdout(args, config.bucket, makeClient(config, { maxAttempts: 1 }), policy);

  const root = localRoot(args);
  if (!root) throw new UsageError('no local root: give --local-root DIR or set EDX_PIPES_LOCAL_ROOT (or use --stdout)');
  // We retry ourselves (including bodies cut short), so the SDK does not.
  const client = makeClient(config, { maxAttempts: 1 });
  const report = new Reporter();
  removePartialsOnSignal();
  report.start();
  const keys = inputKeys(args);
  let output = Promise.resolve();
  const worker = async () => {
    for (let next = await keys.next(); !next.done; next = await keys.next()) {
      const key = next.value;
      report.active++;
      const outcome = await fetchToMirror(client, config.bucket, root, key, policy, (n) => { report.bytes += n; });
      report.active--;
      if (outcome.status === 'failed') {
        report.failed++;
        report.say(`${key}: ${outcome.message}`);
        continue;
      }
      if (outcome.status === 'fetched') report.fetched++;
      else report.present++;
      // In the order finished, one path per line, without interleaving.
      output = output.then(() => write(process.stdout, `${outcome.path}\n`));
      await output;
    }
  };
  try {
    await Promise.all(Array.from({ length: jobs }, worker));
  } finally {
    client.destroy();
    report.summary();
  }
  return report.failed > 0 ? 1 : 0;
}

/** --stdout: one object's bytes to stdout, checked like a file download. */
async function toStdout(args: ParsedArgs, bucket: string, client: ReturnType<typeof makeClient>, policy: RetryPolicy): Promise<number> {
  const keys: string[] = [];
  for await (const k of inputKeys(args)) keys.push(k);
  if (keys.length !== 1) throw new UsageError(`--stdout streams exactly one object; got ${keys.length} keys`);
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
