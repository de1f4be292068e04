// Processing one shard: each log pulled into the mirror if it is not there (or has another size
// than the manifest says), then transformed into its collection `<out>/<key>.csv/`, written as
// `<key>.csv.partial/` and renamed when complete (as make transform does). A log is done, and left
// alone, when its collection is complete or its stamp says it was loaded since the log last
// changed; so a shard run again redoes only what is not complete, and touches only its own logs.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { CsvCollectionWriter } from '../csv/collection.js';
import { finish, write } from '../io/write.js';
import type { DatabaseNames } from '../schema/table.js';
import { fetchToMirror, type RetryPolicy } from '../s3/fetch.js';
import { localPathFor } from '../s3/keys.js';
import { runTransform } from '../transform/run.js';
import { statsJson, summaryLine } from '../transform/stats.js';
import type { ManifestEntry } from './manifest.js';
import { newerThan } from '../io/stamps.js';
import { plural } from '../core/plural.js';

export interface ShardOptions {
  root: string;
  out: string;
  stamps?: string;
  /** Where to pull missing logs from; without it a missing log fails. */
  s3?: { client: S3Client; bucket: string; policy: RetryPolicy };
  names: DatabaseNames;
  modulestore?: string;
  geoip?: string;
  say: (msg: string) => void;
}

export interface ShardResult { done: number; transformed: number; pulled: number; failed: string[]; events: number }

const statOf = (path: string) => stat(path).catch(() => undefined);

/** Whether the log needs no work: its collection is complete, or its stamp is at least as new as it. */
export async function isDone(o: Pick<ShardOptions, 'root' | 'out' | 'stamps'>, key: string): Promise<boolean> {
  if ((await statOf(join(o.out, `${key}.csv`)))?.isDirectory()) return true;
  if (!o.stamps) return false;
  const stamp = await statOf(join(o.stamps, key));
  if (!stamp) return false;
  const log = await statOf(localPathFor(o.root, key));
  return !log || !newerThan(log.mtimeMs, stamp.mtimeMs);
}

/** Transform one local log into its collection, atomically; the number of events, or an error. */
async function transformLog(o: ShardOptions, key: string, log: string): Promise<number> {
  const final = join(o.out, `${key}.csv`);
  const partial = `${final}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  const rejects = createWriteStream(join(partial, 'rejects.jsonl'));
  let failure: Error | undefined;
  const stats = await runTransform({
    inputs: [log],
    writer: new CsvCollectionWriter({ dir: partial, names: o.names }),
    geoipFile: o.geoip,
    modulestoreFile: o.modulestore,
    onReject: (r) => write(rejects, JSON.stringify(r) + '\n'),
    onSourceError: (_name, e) => { failure = e; },
  });
  await finish(rejects);
  if (failure) {
    await rm(partial, { recursive: true, force: true });
    throw failure;
  }
  await writeFile(join(partial, 'stats.json'), JSON.stringify(statsJson(stats), null, 2) + '\n');
  await rm(final, { recursive: true, force: true });
  await rename(partial, final);
  o.say(`${key}: ${summaryLine(stats)}`);
  return stats.events;
}

/** Process the shard's logs one after the other; a log that fails is named and the others go on. */
export async function runShard(entries: ManifestEntry[], o: ShardOptions): Promise<ShardResult> {
  const result: ShardResult = { done: 0, transformed: 0, pulled: 0, failed: [], events: 0 };
  for (const e of entries) {
    try {
      if (await isDone(o, e.key)) {
        result.done++;
        continue;
      }
      const log = localPathFor(o.root, e.key);
      const local = await statOf(log);
      if (!local?.isFile() || (e.size !== undefined && local.size !== e.size)) {
        if (!o.s3) throw new Error(local ? `the local copy has ${plural(local.size, 'byte')}, the manifest says ${e.size}; no --bucket to pull it from` : 'not in the mirror, and no --bucket to pull it from');
        const got = await fetchToMirror(o.s3.client, o.s3.bucket, o.root, e.key, o.s3.policy);
        if (got.status === 'failed') throw new Error(`pull failed: ${got.message}`);
        if (got.status === 'fetched') result.pulled++;
      }
      result.events += await transformLog(o, e.key, log);
      result.transformed++;
    } catch (err) {
      o.say(`${e.key}: FAILED: ${(err as Error).message}`);
      result.failed.push(e.key);
    }
  }
  return result;
}
