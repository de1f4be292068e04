// The shard contract of a backfill (docs/scale.md): a manifest lists the logs (the output of
// edx-s3-ls, plain or --long, or local log paths); shard I of N is a contiguous run of days of it,
// the same for every reader of the same manifest, so any scheduler can hand out indexes.
import { isAbsolute, relative, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { compareKeys, logDay } from '../s3/keys.js';

export interface ManifestEntry {
  /** The log's key: its path below the local root (and in the bucket). */
  key: string;
  /** The size the bucket gave (edx-s3-ls --long): a local copy of another size is pulled again. */
  size?: number;
  /** YYYY-MM-DD from the name; logs without a date sort after every day, as one group. */
  day?: string;
}

/**
 * Manifest lines → entries, sorted by day then key, duplicates dropped. A line is a key, a key
 * with tab-separated size and more (--long), or a local path: an absolute one below `root`
 * becomes its key there; an absolute one elsewhere keeps its whole path as key (below `/`).
 */
export function parseManifest(text: string, root?: string): ManifestEntry[] {
  const byKey = new Map<string, ManifestEntry>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!line.trim() || line.startsWith('#')) continue;
    const [first, size] = line.split('\t');
    let key = first;
    if (isAbsolute(first)) {
      const below = root ? relative(resolve(root), first) : '';
      key = below && !below.startsWith('..') && !isAbsolute(below) ? below : first.replace(/^\/+/, '');
    }
    const entry: ManifestEntry = { key, day: logDay(key) };
    if (size !== undefined && /^\d+$/.test(size)) entry.size = Number(size);
    byKey.set(key, entry);
  }
  return [...byKey.values()].sort((a, b) => dayOrder(a, b) || compareKeys(a.key, b.key));
}

const dayOrder = (a: ManifestEntry, b: ManifestEntry) =>
  a.day === b.day ? 0 : a.day === undefined ? 1 : b.day === undefined ? -1 : a.day < b.day ? -1 : 1;

export interface Shard { index: number; count: number }

/** `I/N` with 0 ≤ I < N. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new UsageError(`--shard: not I/N: ${JSON.stringify(text)}`);
  return checkShard(Number(m[1]), Number(m[2]), '--shard');
}

function checkShard(index: number, count: number, from: string): Shard {
  if (!Number.isInteger(count) || count < 1) throw new UsageError(`${from}: the shard count must be at least 1`);
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new UsageError(`${from}: shard index ${index} is not within 0..${count - 1}`);
  return { index, count };
}

/**
 * The shard from a scheduler's environment: Slurm job arrays (SLURM_ARRAY_TASK_ID with
 * SLURM_ARRAY_TASK_COUNT, or MIN/MAX), Kubernetes Indexed Jobs (JOB_COMPLETION_INDEX) and AWS Batch
 * array jobs (AWS_BATCH_JOB_ARRAY_INDEX), the last two with the count given (`count`, from
 * --shards or SHARDS). Undefined when none is there.
 *
 * With the count given, a Slurm task's index is its SLURM_ARRAY_TASK_ID itself: a task submitted
 * again alone (`sbatch --array=5`, an array of one whose MIN is 5) is still shard 5 of the
 * backfill's N, where the array's own extent would make it shard 0 of 1, the whole manifest.
 */
export function shardFromEnv(env: NodeJS.ProcessEnv, count?: number): Shard | undefined {
  const num = (name: string) => (env[name] !== undefined && env[name] !== '' ? Number(env[name]) : undefined);
  const slurm = num('SLURM_ARRAY_TASK_ID');
  if (slurm !== undefined) {
    if (count !== undefined) return checkShard(slurm, count, 'SLURM_ARRAY_TASK_ID');
    const min = num('SLURM_ARRAY_TASK_MIN') ?? 0;
    const max = num('SLURM_ARRAY_TASK_MAX');
    const n = num('SLURM_ARRAY_TASK_COUNT') ?? (max !== undefined ? max - min + 1 : undefined);
    if (n === undefined) throw new UsageError('SLURM_ARRAY_TASK_ID is set but not the array size (SLURM_ARRAY_TASK_COUNT or MIN/MAX); give --shard I/N');
    return checkShard(slurm - min, n, 'SLURM_ARRAY_TASK_ID');
  }
  for (const name of ['JOB_COMPLETION_INDEX', 'AWS_BATCH_JOB_ARRAY_INDEX']) {
    const index = num(name);
    if (index === undefined) continue;
    if (count === undefined) throw new UsageError(`${name} is set; give the number of shards too (--shards N, or SHARDS)`);
    return checkShard(index, count, name);
  }
  return undefined;
}

/**
 * Shard I of N: whole days, contiguous, balanced by number of logs. Day d goes to shard
 * floor(logs before d × N / all logs), so every day is in exactly one shard and the shards follow
 * each other in day order (a shard may be empty when there are fewer days than shards).
 */
export function shardOf(entries: ManifestEntry[], s: Shard): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  let i = 0;
  while (i < entries.length) {
    let j = i;
    while (j < entries.length && entries[j].day === entries[i].day) j++;
    if (Math.floor((i * s.count) / entries.length) === s.index) out.push(...entries.slice(i, j));
    i = j;
  }
  return out;
}
