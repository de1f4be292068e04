// edx-s3-ls: print the tracking-log keys of a bucket, optionally leaving out what is already done.
import { runTool, databaseNames, say, write, UsageError, ToolError, type OptionSpec } from './common.js';
import { S3_OPTIONS, S3_OPTIONS_USAGE, s3Location } from './s3-options.js';
import { bucketProblem, describeS3Error, localRoot, makeClient, s3Config } from '../s3/client.js';
import { DEFAULT_KEY_PATTERN, keyPattern, dayOption, inDayRange } from '../s3/keys.js';
import { alreadyDone, formatObject, listLogs, LoadedFiles, type ObjectInfo } from '../s3/list.js';
import { loadedFiles } from '../mysql/loadinfo.js';
import { CONNECTION_OPTIONS, connectionUsage, refuseConnectionOptions, resolveConnection } from './db-options.js';

const TOOL = 'edx-s3-ls';

const USAGE = `\
Usage: edx-s3-ls {--bucket NAME [--prefix P] | s3://NAME/P} [--match REGEX] [--from DATE] [--to DATE] [--long]
                 [--new [--local-root DIR] [--db [--edx-db NAME] [CONNECTION OPTIONS]]]

List the tracking-log objects of an S3 bucket, one key per line, sorted by key. A key is a tracking
log when the regular expression of --match finds it (a search, not anchored at the start). Buckets
of any size are listed in full (1,000 keys per request).

Options:
  --prefix P             only keys starting with P (env EDX_PIPES_PREFIX; default: none)
  --match REGEX          which keys are tracking logs (default: ${DEFAULT_KEY_PATTERN})
  --from DATE, --to DATE only logs whose file name dates them within these days, both included
                         (YYYY-MM-DD; tracking.log-20140301.gz is 2014-03-01; a name without a
                         date is then left out). The same bucket and options always give the
                         same sorted list: a manifest for edx-shard (default: every day)
  --long                 print key, size in bytes, ETag and last-modified time (ISO 8601, UTC),
                         separated by tabs (default: the key only)
  --new                  leave out logs already done: those with a local copy of the same size at
                         <local-root>/<key>, and with --db those LoadInfo records as loaded (some
                         load_file ends with /<key>). Needs --local-root and/or --db.
  --local-root DIR       root of the local mirror of the bucket (env EDX_PIPES_LOCAL_ROOT; default: none)
  --db                   with --new: also leave out logs recorded in <edx-db>.LoadInfo
  --edx-db NAME          name of the Edx database (default: Edx)
${S3_OPTIONS_USAGE}
${connectionUsage('with --db')}
Examples:
  edx-s3-ls --bucket B --from 2014-01-01 --to 2016-12-31 > backfill.manifest
  edx-s3-ls --bucket stanford-edx-logs --prefix tracking/ --long
  edx-s3-ls --bucket B --new --local-root ~/Data/EdX/tracking --db | edx-fetch --bucket B --local-root ~/Data/EdX/tracking
  AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000 edx-s3-ls --bucket logs

Exit status: 0 listed, 1 failure (bucket, credentials, network, database), 2 usage error.
`;

const OPTIONS = {
  ...S3_OPTIONS,
  prefix: { type: 'string' },
  match: { type: 'string' },
  'edx-db': { type: 'string' },
  ...CONNECTION_OPTIONS,
  from: { type: 'string' },
  to: { type: 'string' },
  long: { type: 'boolean' },
  new: { type: 'boolean' },
  db: { type: 'boolean' },
} as const satisfies OptionSpec;

export async function main(argv: string[]): Promise<number> {
  return runTool(TOOL, USAGE, argv, OPTIONS, async ({ values, positionals }) => {
    // `edx-s3-ls s3://BUCKET/PREFIX`, as `aws s3 ls` takes it, for --bucket and --prefix.
    const [where, ...extra] = positionals;
    if (extra.length || (where !== undefined && (!where.startsWith('s3://') || values.bucket !== undefined))) {
      throw new UsageError(`unexpected argument '${extra[0] ?? where}'${where?.startsWith('s3://') ? ' (an s3:// location, or --bucket: one of them)' : ''}`);
    }
    const config = s3Config(s3Location({ ...values, bucket: where ?? values.bucket }));
    const pattern = keyPattern(values.match);
    const root = localRoot(values['local-root']);
    const useDb = Boolean(values.db);
    if (useDb && !values.new) throw new UsageError('--db only goes with --new');
    if (!useDb) refuseConnectionOptions(values, '--db');
    if (values.new && !root && !useDb) throw new UsageError('--new needs --local-root DIR (or EDX_PIPES_LOCAL_ROOT) and/or --db');
    const names = databaseNames(values);
    const from = dayOption('from', values.from);
    const to = dayOption('to', values.to);
    if (from && to && from > to) throw new UsageError(`--from ${from} is after --to ${to}`);

    // Read LoadInfo first: a database problem should fail before a long listing.
    const loaded = useDb
      ? new LoadedFiles(await loadedFiles(names, { settings: await resolveConnection(values, (m) => say(TOOL, m)), note: (m) => say(TOOL, m) }))
      : undefined;

    const client = makeClient(config);
    let objects: ObjectInfo[];
    try {
      objects = await listLogs(client, config.bucket, config.prefix, pattern,
        (key, why) => say(TOOL, `skipping key ${JSON.stringify(key)}: it ${why}`), (msg) => say(TOOL, `warning: ${msg}`));
    } catch (e) {
      throw new ToolError(bucketProblem(e, config, 'listing') ?? `listing s3://${config.bucket}/${config.prefix}: ${describeS3Error(e).message}`);
    } finally {
      client.destroy();
    }

    const loadedKeys = loaded?.among(objects.map((o) => o.key), root);
    for (const o of objects) {
      if (!inDayRange(o.key, from, to)) continue;
      if (values.new && await alreadyDone(o, root, loadedKeys)) continue;
      await write(process.stdout, formatObject(o, Boolean(values.long)));
    }
  });
}
