import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { runTool, databaseNames, numberOption, say, write, finish, UsageError, DATABASE_OPTIONS, type OptionSpec, type OptionValues } from './common.js';
import { S3_OPTIONS, S3_OPTIONS_USAGE, s3Location } from './s3-options.js';
import { inputError } from '../io/input.js';
import { makeClient, s3Config } from '../s3/client.js';
import { DEFAULT_KEY_PATTERN, keyPattern } from '../s3/keys.js';
import { parseManifest, parseShard, shardFromEnv, shardOf, type Shard } from '../shard/manifest.js';
import { runShard } from '../shard/run.js';
import { pendingLogs } from '../shard/pending.js';
import { plural } from '../core/plural.js';
import { CONNECTION_OPTIONS, connectionUsage, refuseConnectionOptions, resolveConnection } from './db-options.js';

const TOOL = 'edx-shard';
const USAGE = `\
Usage: edx-shard MANIFEST [--shard I/N | --shards N] --local-root DIR --out DIR [--stamps DIR]
                 [--bucket NAME ...] [--modulestore PATH] [--geoip FILE] [--edx-db NAME] [--private-db NAME]
       edx-shard MANIFEST [--shard I/N | --shards N] --list
       edx-shard --pending --local-root DIR [--match REGEX] [--stamps DIR] [--edx-db NAME] [CONNECTION OPTIONS]

Processes shard I of N of a backfill (I counts from 0, as array indexes do): the logs of MANIFEST
('-': stdin) are sorted by the date in their names and cut into N contiguous runs of whole days,
balanced by number of logs; shard I pulls each of its logs into the mirror when it is not there
(or has another size than an 'edx-s3-ls --long' manifest says) and transforms it into the
collection <out>/<key>.csv/ for 'edx-csvload --collections', written as <key>.csv.partial/ and
renamed when complete. A log whose collection is complete, or whose stamp (<stamps>/<key>, written
by the load step) is not older than the log, is done and left alone: a shard run again redoes only
what is not complete, and never touches another shard's logs.

A MANIFEST is the output of edx-s3-ls (keys, or --long lines: key, size, ...), or local log paths
(absolute paths below --local-root count as their key there). Without --shard, the index and count
come from the scheduler: SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT (or _MIN/_MAX) of a Slurm
job array, JOB_COMPLETION_INDEX of a Kubernetes Indexed Job, AWS_BATCH_JOB_ARRAY_INDEX of an AWS
Batch array job (these two with --shards N or SHARDS=N); with none of them: one shard of all.
With --shards N (or SHARDS=N) a Slurm task is shard SLURM_ARRAY_TASK_ID of N, whatever the array:
so a task submitted again alone (sbatch --array=5) is still shard 5 (submit-backfill.sh sets it).

--pending prints, instead, the logs of the mirror (keys below --local-root that --match finds)
still to transform and load: those LoadInfo does not record, and those changed since their load
(newer than their stamp, or without one than their LoadInfo time; their load replaces their old
rows). What 'make transform' makes.

Options:
  --shard I/N            this shard (default: from the scheduler's environment, see above)
  --shards N             the number of shards, with an index from the environment (env SHARDS)
  --list                 print the shard's keys, one per line, and do nothing else
  --local-root DIR       root of the local mirror (env EDX_PIPES_LOCAL_ROOT)
  --out DIR              where collections go
  --stamps DIR           the load step's stamps (<DIR>/<key>): a log loaded since it changed is done
  --modulestore PATH     as edx-json2sql --modulestore
  --geoip FILE           as edx-json2sql --geoip
  --edx-db NAME          database for Edx tables (default: Edx)
  --private-db NAME      database for EdxPrivate tables (default: EdxPrivate)
  --retries N            pulls: tries again after a failure, up to N times (default: 5)
  --pending              list the mirror's logs not loaded yet or changed since (see above)
  --match REGEX          with --pending: which files are tracking logs (default: ${DEFAULT_KEY_PATTERN})
  --dry-run              with --pending: when LoadInfo cannot be read, take no log as loaded
  --quiet                no line per transformed log
${S3_OPTIONS_USAGE.replace('; required)', '; without it a log missing from the mirror fails)')}
${connectionUsage('with --pending')}
Examples:
  edx-s3-ls --bucket B --from 2014-01-01 --to 2014-12-31 --long > 2014.manifest
  edx-shard 2014.manifest --shard 3/16 --bucket B --local-root /scratch/tracking --out /scratch/CSV
  sbatch --array=0-15 --wrap 'edx-shard 2014.manifest --bucket B --local-root … --out …'

Exit status: 0 every log of the shard done; 1 a log failed (the others are done); 2 usage error.
`;

const OPTIONS = {
  ...S3_OPTIONS,
  ...DATABASE_OPTIONS,
  shard: { type: 'string' },
  shards: { type: 'string' },
  out: { type: 'string' },
  stamps: { type: 'string' },
  modulestore: { type: 'string' },
  geoip: { type: 'string' },
  retries: { type: 'string' },
  match: { type: 'string' },
  ...CONNECTION_OPTIONS,
  list: { type: 'boolean' },
  pending: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  quiet: { type: 'boolean' },
} as const satisfies OptionSpec;
type Values = OptionValues<typeof OPTIONS>;

/** The shard: --shard, else the scheduler's environment, else one shard of all. */
function whichShard(args: Values): Shard {
  if (args.shard !== undefined) return parseShard(String(args.shard));
  const count = args.shards ?? process.env.SHARDS;
  const n = count === undefined || count === '' ? undefined : Number(count);
  if (n !== undefined && !(Number.isInteger(n) && n >= 1)) throw new UsageError(`--shards: not a count: ${JSON.stringify(count)}`);
  return shardFromEnv(process.env, n) ?? { index: 0, count: 1 };
}

const rootOf = (args: Values): string | undefined => {
  const r = args['local-root'] || process.env.EDX_PIPES_LOCAL_ROOT;
  return r ? resolve(String(r)) : undefined;
};

async function pending(args: Values, positionals: string[]): Promise<number> {
  if (positionals.length) throw new UsageError('--pending takes no MANIFEST');
  const root = rootOf(args);
  if (!root) throw new UsageError('--pending needs --local-root DIR');
  const logs = await pendingLogs({
    root,
    pattern: keyPattern(args.match),
    stamps: args.stamps ? resolve(String(args.stamps)) : undefined,
    names: databaseNames(args),
    settings: await resolveConnection(args, (m) => say(TOOL, m)),
    dryRun: args['dry-run'],
    say: (m) => say(TOOL, m),
  });
  for (const l of logs) {
    if (l.changed) say(TOOL, `${l.key} changed since it was loaded: transformed and loaded again (its rows replace the old ones)`);
    await write(process.stdout, `${l.key}\n`);
  }
  await finish(process.stdout);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  return runTool(TOOL, USAGE, argv, OPTIONS, async ({ values: args, positionals }) => {
    if (args.pending) return pending(args, positionals);
    refuseConnectionOptions(args, '--pending');
    if (positionals.length !== 1) throw new UsageError(positionals.length ? 'one MANIFEST only' : 'no MANIFEST given');
    const shard = whichShard(args);
    const root = rootOf(args);
    const manifestPath = positionals[0];
    const text = await (manifestPath === '-' ? readStdin() : readFile(manifestPath, 'utf8')).catch((e: unknown) => { throw inputError(manifestPath, e); });
    const mine = shardOf(parseManifest(text, root), shard);
    if (args.list) {
      for (const e of mine) await write(process.stdout, `${e.key}\n`);
      await finish(process.stdout);
      return 0;
    }
    if (!root) throw new UsageError('no --local-root DIR (or EDX_PIPES_LOCAL_ROOT): where the logs are, or go');
    if (!args.out) throw new UsageError('no --out DIR: where the collections go');
    const retries = numberOption(args.retries, 'retries', 5);
    if (!Number.isInteger(retries) || retries < 0) throw new UsageError('--retries takes a whole number >= 0');
    const config = args.bucket || process.env.EDX_PIPES_BUCKET ? s3Config(s3Location(args)) : undefined;
    const client = config ? makeClient(config, { maxAttempts: 1 }) : undefined;
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    try {
      const r = await runShard(mine, {
        root,
        out: resolve(String(args.out)),
        stamps: args.stamps ? resolve(String(args.stamps)) : undefined,
        s3: config && client ? { client, bucket: config.bucket, policy: { retries, baseDelayMs: 500 } } : undefined,
        names: databaseNames(args),
        modulestore: args.modulestore,
        geoip: args.geoip,
        say: args.quiet ? () => undefined : (m) => say(TOOL, m),
      });
      const used = process.cpuUsage(cpu);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      say(TOOL, `shard ${shard.index}/${shard.count}: ${plural(mine.length, 'log')}: ${r.transformed} transformed (${plural(r.events, 'event')}, ${r.pulled} pulled), ` +
        `${r.done} already done, ${r.failed.length} failed; ${seconds.toFixed(1)} s, ${((used.user + used.system) / 1e6).toFixed(1)} CPU-s`);
      return r.failed.length ? 1 : 0;
    } finally {
      client?.destroy();
    }
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}
