// The shard contract (src/shard/manifest.ts, docs/scale.md): manifests, contiguous day shards, the
// schedulers' environments, and the dates of log names.
import t from 'tap';
import { parseManifest, parseShard, shardFromEnv, shardOf } from '../src/shard/manifest.js';
import { dayOption, inDayRange, logDay } from '../src/s3/keys.js';
import { UsageError } from '../src/core/errors.js';

/** Whether f throws a UsageError (a mistake of the user: exit 2). */
function usageError(f: () => unknown): boolean {
  try {
    f();
  } catch (e) {
    return e instanceof UsageError;
  }
  return false;
}

const key = (day: string, app = 'app1') => `tracking/${app}/tracking.log-${day}.gz`;

t.test('the day of a log comes from its name', async (t) => {
  t.equal(logDay('tracking/app1/tracking.log-20140301.gz'), '2014-03-01');
  t.equal(logDay('tracking.log-20140301-1393718401.gz'), '2014-03-01', 'a rotation suffix is not part of the date');
  t.equal(logDay('2013/tracking.log-2013-06-09.gz'), '2013-06-09');
  t.equal(logDay('app20140301/tracking.log.gz'), undefined, 'only the file name counts');
  t.equal(logDay('tracking.log-20141301.gz'), undefined, 'no month 13');
  t.equal(dayOption('from', '20140301'), '2014-03-01');
  t.equal(dayOption('to', undefined), undefined);
  t.ok(usageError(() => dayOption('from', '2014-02-30')));
  t.ok(inDayRange(key('20140301'), '2014-03-01', '2014-03-01'), 'both ends included');
  t.notOk(inDayRange(key('20140302'), undefined, '2014-03-01'));
  t.notOk(inDayRange('tracking/app1/tracking.log.gz', '2014-01-01'), 'no date: outside any range');
  t.ok(inDayRange('tracking/app1/tracking.log.gz'), 'but inside no range at all');
});

t.test('manifests: keys, --long lines and local paths, sorted by day then key', async (t) => {
  const text = [
    `${key('20140303')}\t120\tetag\t2014-03-04T00:00:00.000Z`,
    key('20140301', 'app2'),
    '',
    '# a comment',
    `/data/tracking/${key('20140301')}`,
    key('20140302'),
    `/elsewhere/tracking.log-20140302.gz`,
    key('20140302'),
    'tracking/app1/tracking.log.gz',
  ].join('\n');
  const m = parseManifest(text, '/data/tracking');
  t.same(m.map((e) => e.key), [
    key('20140301'), key('20140301', 'app2'),
    'elsewhere/tracking.log-20140302.gz', key('20140302'),
    key('20140303'),
    'tracking/app1/tracking.log.gz',
  ], 'local paths below the root are keys there, duplicates go, undated logs last');
  t.equal(m.find((e) => e.key === key('20140303'))?.size, 120, 'the size of a --long line');
  t.same(parseManifest(text.split('\n').reverse().join('\n'), '/data/tracking'), m, 'the order of the lines does not matter');
});

t.test('shards: contiguous whole days, each log in exactly one shard', async (t) => {
  const days = Array.from({ length: 30 }, (_, i) => `201403${String(i + 1).padStart(2, '0')}`);
  const m = parseManifest(days.flatMap((d, i) => (i % 4 === 0 ? [key(d), key(d, 'app2')] : [key(d)])).join('\n'));
  for (const n of [1, 2, 3, 7, 30, 50]) {
    const shards = Array.from({ length: n }, (_, i) => shardOf(m, { index: i, count: n }));
    t.same(shards.flat().map((e) => e.key), m.map((e) => e.key), `${n} shards: all logs, in order, once`);
    const daysOf = shards.map((s) => [...new Set(s.map((e) => e.day))]);
    const all = daysOf.flat();
    t.equal(new Set(all).size, all.length, `${n} shards: no day in two shards`);
    const sizes = shards.map((s) => s.length).filter((x) => x > 0);
    if (n <= 7) t.ok(Math.max(...sizes) - Math.min(...sizes) <= 3, `${n} shards: balanced by logs (${sizes.join(', ')})`);
  }
  t.same(shardOf([], { index: 0, count: 3 }), [], 'an empty manifest gives empty shards');
});

t.test('the shard from --shard or the scheduler', async (t) => {
  t.same(parseShard('2/8'), { index: 2, count: 8 });
  t.ok(usageError(() => parseShard('8/8')), 'the index counts from 0');
  t.ok(usageError(() => parseShard('1-8')));
  t.same(shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' }), { index: 3, count: 4 });
  t.same(shardFromEnv({ SLURM_ARRAY_TASK_ID: '12', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_MAX: '13' }), { index: 2, count: 4 }, 'MIN/MAX');
  t.ok(usageError(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '1' })), 'no size: said, never guessed');
  const alone = { SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_MAX: '5', SLURM_ARRAY_TASK_COUNT: '1' };
  t.same(shardFromEnv(alone, 8), { index: 5, count: 8 }, 'with the count given, a task resubmitted alone (sbatch --array=5) keeps its shard');
  t.same(shardFromEnv(alone), { index: 0, count: 1 }, 'without it, the array is all there is');
  t.ok(usageError(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '8', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '8' }, 8)), 'with the count given, the index counts from 0');
  t.same(shardFromEnv({ JOB_COMPLETION_INDEX: '5' }, 16), { index: 5, count: 16 }, 'Kubernetes Indexed Job');
  t.ok(usageError(() => shardFromEnv({ JOB_COMPLETION_INDEX: '5' })), 'Kubernetes: the count must be given');
  t.same(shardFromEnv({ AWS_BATCH_JOB_ARRAY_INDEX: '0' }, 2), { index: 0, count: 2 }, 'AWS Batch');
  t.ok(usageError(() => shardFromEnv({ AWS_BATCH_JOB_ARRAY_INDEX: '2' }, 2)), 'an index out of range');
  t.equal(shardFromEnv({}), undefined, 'no scheduler');
});
