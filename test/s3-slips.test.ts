// The S3 tools and the slips users made with them (issue 15 item 7), against a real S3-protocol
// server (s3rver): `s3://bucket/prefix` where a bucket and prefix go, as the AWS CLI writes them;
// a bucket that is not there, said as such by edx-fetch too, once; a --profile that does not
// exist, named.
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startS3, type S3Test } from './helpers/s3server.js';
import { runTool } from './helpers/tools.js';
import { logFor } from './helpers/pipeline-logs.js';
import { tempDir } from './helpers/tmp.js';

const BUCKET = 'slips';
const KEYS = ['tracking/app1/tracking.log-20140301.gz', 'tracking/app1/tracking.log-20140302.gz', 'other/tracking.log-20140301.gz'];
const tmp = tempDir('s3-slips');
let s3: S3Test;

t.before(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  for (const [i, key] of KEYS.entries()) await s3.put(BUCKET, key, logFor(`2014030${i + 1}`, i + 1, 4));
});
t.teardown(async () => {
  await s3?.stop();
});

const run = (tool: string, args: string[], env: NodeJS.ProcessEnv = s3.env) => runTool(tool, args, { env });
const lines = (s: string) => s.split('\n').filter(Boolean);

t.test('s3://bucket/prefix as edx-s3-ls operand or --bucket value, as aws s3 ls takes it', async (t) => {
  const byOptions = await run('edx-s3-ls', ['--bucket', BUCKET, '--prefix', 'tracking/']);
  t.equal(byOptions.code, 0, byOptions.stderr);
  t.same(lines(byOptions.stdout), KEYS.slice(0, 2));
  for (const args of [[`s3://${BUCKET}/tracking/`], ['--bucket', `s3://${BUCKET}/tracking/`], ['--bucket', `s3://${BUCKET}`, '--prefix', 'tracking/']]) {
    const r = await run('edx-s3-ls', args);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, byOptions.stdout, `edx-s3-ls ${args.join(' ')}`);
  }
  const whole = await run('edx-s3-ls', [`s3://${BUCKET}`]);
  t.same(lines(whole.stdout), [...KEYS].sort(), 's3://bucket alone: the whole bucket');
  const both = await run('edx-s3-ls', ['--bucket', BUCKET, `s3://${BUCKET}/tracking/`]);
  t.equal(both.code, 2, 'a bucket given twice is a usage error');
  const clash = await run('edx-s3-ls', [`s3://${BUCKET}/tracking/`, '--prefix', 'other/']);
  t.equal(clash.code, 2);
  t.match(clash.stderr, /name two prefixes/);
});

t.test('edx-fetch takes s3://bucket/key keys, and the bucket from them', async (t) => {
  const root = join(tmp, 'mirror');
  const r = await run('edx-fetch', ['--local-root', root, `s3://${BUCKET}/${KEYS[0]}`]);
  t.equal(r.code, 0, r.stderr);
  t.same(lines(r.stdout), [join(root, KEYS[0])]);
  const listed = await runTool('edx-fetch', ['--bucket', `s3://${BUCKET}`, '--local-root', root], { env: s3.env, input: `s3://${BUCKET}/${KEYS[1]}\n${KEYS[2]}\n` });
  t.equal(listed.code, 0, listed.stderr);
  t.same(lines(listed.stdout).sort(), [join(root, KEYS[1]), join(root, KEYS[2])].sort(), 'on stdin too, with plain keys');
  const out = await run('edx-fetch', ['--stdout', `s3://${BUCKET}/${KEYS[0]}`]);
  t.equal(out.code, 0, out.stderr);
  t.same(out.stdoutBytes, readFileSync(join(root, KEYS[0])), '--stdout s3://bucket/key');
  const other = await run('edx-fetch', ['--bucket', BUCKET, '--local-root', root, `s3://another/${KEYS[0]}`]);
  t.equal(other.code, 2);
  t.equal(other.stderr.split('\n')[0], `edx-fetch: s3://another/${KEYS[0]}: not in the bucket ${BUCKET}`, 'before any download');
});

t.test('edx-shard takes --bucket s3://bucket', async (t) => {
  const manifest = join(tmp, 'shard.manifest');
  const listing = await run('edx-s3-ls', [`s3://${BUCKET}/tracking/`, '--long']);
  writeFileSync(manifest, listing.stdout);
  const root = join(tmp, 'shard-mirror');
  const out = join(tmp, 'shard-out');
  const r = await run('edx-shard', [manifest, '--shard', '0/1', '--bucket', `s3://${BUCKET}`, '--local-root', root, '--out', out]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, 'shard 0/1: 2 logs: 2 transformed');
  t.ok(existsSync(join(root, KEYS[0])), 'pulled from the bucket the URL names');
});

t.test('a bucket that is not there: "no such bucket: NAME", once, in edx-s3-ls and edx-fetch', async (t) => {
  const root = join(tmp, 'none');
  const cases: [string, string[], string?][] = [
    ['edx-s3-ls', ['--bucket', 'nosuchbucket']],
    ['edx-s3-ls', ['s3://nosuchbucket/tracking/']],
    ['edx-fetch', ['--bucket', 'nosuchbucket', '--local-root', root, KEYS[0], KEYS[1]]],
    ['edx-fetch', ['--bucket', 'nosuchbucket', '--local-root', root], `${KEYS[0]}\n${KEYS[1]}\n`],
    ['edx-fetch', ['--bucket', 'nosuchbucket', '--stdout', KEYS[0]]],
  ];
  for (const [tool, args, input] of cases) {
    const r = await runTool(tool, args, { env: s3.env, input });
    t.equal(r.code, 1, `${tool} ${args.join(' ')}`);
    t.equal(r.stderr, `${tool}: no such bucket: nosuchbucket\n`, 'one line, naming it');
    t.equal(r.stdout, '');
  }
  t.notOk(existsSync(root), 'nothing made in the mirror');
});

t.test('--profile nosuchprofile: the message names the profile', async (t) => {
  // Only the profile: no keys in the environment (with both, the SDK warns and takes the profile).
  const env = { ...s3.env };
  delete env.AWS_ACCESS_KEY_ID;
  delete env.AWS_SECRET_ACCESS_KEY;
  const root = join(tmp, 'profile');
  for (const [tool, args] of [
    ['edx-s3-ls', ['--bucket', BUCKET]],
    ['edx-fetch', ['--bucket', BUCKET, '--local-root', root, KEYS[0]]],
    ['edx-fetch', ['--bucket', BUCKET, '--stdout', KEYS[0]]],
  ] as [string, string[]][]) {
    const r = await run(tool, [...args, '--profile', 'nosuchprofile'], env);
    t.equal(r.code, 1, `${tool} ${args.join(' ')}`);
    t.match(r.stderr, new RegExp(`^${tool}: the AWS profile 'nosuchprofile' gives no credentials: is it in ~/\\.aws/config or ~/\\.aws/credentials`));
    t.equal(lines(r.stderr).length, 1, 'one line');
    const viaEnv = await run(tool, args, { ...env, AWS_PROFILE: 'nosuchprofile' });
    t.match(viaEnv.stderr, "the AWS profile 'nosuchprofile' gives no credentials", 'AWS_PROFILE too');
  }
});
