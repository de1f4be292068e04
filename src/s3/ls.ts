// edx-s3-ls: print the tracking-log keys of a bucket, optionally leaving out what is already done.
import { UsageError, ToolError, databaseNames, say, write, type ParsedArgs } from '../cli/common.js';
import { localRoot, makeClient, s3Config, describeS3Error } from './client.js';
import { keyPattern, dayOption, inDayRange } from './keys.js';
import { listLogs, localCopy, LoadedFiles, type ObjectInfo } from './list.js';
import { loadedFiles } from '../mysql/loadinfo.js';

export const LS_TOOL = 'edx-s3-ls';

/** One output line: the key, or with --long key, size, ETag, last-modified (ISO 8601 UTC). */
export const formatObject = (o: ObjectInfo, long: boolean): string =>
  long ? `${o.key}\t${o.size}\t${o.etag}\t${o.lastModified ? o.lastModified.toISOString() : ''}\n` : `${o.key}\n`;

export async function runLs(args: ParsedArgs): Promise<number> {
  if (args._.length > 0) throw new UsageError(`unexpected argument '${args._[0]}'`);
  const config = s3Config(args);
  const pattern = keyPattern(args.match);
  const root = localRoot(args);
  const useDb = Boolean(args.db);
  if (useDb && !args.new) throw new UsageError('--db only goes with --new');
  if (args.new && !root && !useDb) throw new UsageError('--new needs --local-root DIR (or EDX_PIPES_LOCAL_ROOT) and/or --db');
  const names = databaseNames(args);
  const from = dayOption('from', args.from);
  const to = dayOption('to', args.to);
  if (from && to && from > to) throw new UsageError(`--from ${from} is after --to ${to}`);

  // Read LoadInfo first: a database problem should fail before a long listing.
  const loaded = useDb
    ? new LoadedFiles(await loadedFiles(names, { defaultsFile: args['defaults-file'] || undefined, note: (m) => say(LS_TOOL, m) }))
    : undefined;

  const client = makeClient(config);
  let objects: ObjectInfo[];
  try {
    objects = await listLogs(client, config.bucket, config.prefix, pattern,
      (key, why) => say(LS_TOOL, `skipping key ${JSON.stringify(key)}: it ${why}`), (msg) => say(LS_TOOL, `warning: ${msg}`));
  } catch (e) {
    throw new ToolError(`listing s3://${config.bucket}/${config.prefix}: ${describeS3Error(e).message}`);
  } finally {
    client.destroy();
  }

  const loadedKeys = loaded?.among(objects.map((o) => o.key), root);
  for (const o of objects) {
    if (!inDayRange(o.key, from, to)) continue;
    if (args.new) {
      const local = root ? await localCopy(root, o) : 'missing';
      if (local === 'same') continue;
      // A local copy of another size: the object changed since it was pulled (a log replaced by a
      // longer one) or the download was cut; fetched again even when LoadInfo has the key.
      if (local === 'missing' && loadedKeys?.has(o.key)) continue;
    }
    await write(process.stdout, formatObject(o, Boolean(args.long)));
  }
  return 0;
}
