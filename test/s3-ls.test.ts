// edx-s3-ls against a real S3-protocol server (s3rver) and, for --new --db, a real MariaDB.
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { startS3, putMany, type S3Test } from './helpers/s3server.js';
import { runTool } from './helpers/tools.js';
import { testConnection, testServer, uniqueName } from './helpers/mariadb.js';
import { tempDir } from './helpers/tmp.js';

const BUCKET = 'edx-logs';
const LOGS: [string, string][] = [];
for (let i = 0; i < 1100; i++) {
  const day = new Date(Date.UTC(2013, 5, 9) + i * 86400000).toISOString().slice(0, 10).replace(/-/g, '');
  // Both layouts of docs/original.md#logs-and-the-mirror, in different app folders here: s3rver (not S3) pages a
  // folder that has both `tracking/` and `tracking.log-*` out of key order and then skips keys;
  // the 'mixed' bucket below has that layout, small enough for one page.
  const app = i % 7;
  const key = app < 4
    ? `tracking/app${app}/tracking.log-${day}.gz`
    : `tracking/app${app}/tracking/tracking.log-${day}-${1370736000 + i}.gz`;
  LOGS.push([key, `log ${i} `.repeat(1 + (i % 5))]);
}
const NOT_LOGS: [string, string][] = [
  ['tracking/app1/tracking.log-20130610-errors', 'errors'],
  ['tracking/app1/trackingXlog-20130610.gz', 'unescaped dot would match'],
  ['tracking/app1/tracking.log-20130610Xgz', 'unescaped dot would match'],
  ['tracking/app1/tracking.log-2013061.gz', 'seven digits'],
  ['tracking/app1/tracking.log-20130610.gz.bak', 'not at the end'],
  ['notes/readme.txt', 'hello'],
];
const ALL_LOG_KEYS = LOGS.map(([k]) => k).sort();
const lines = (s: string) => s.split('\n').filter((l) => l !== '');

let s3: S3Test;
const tmp = tempDir('s3-ls');

t.before(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  // Put them in a shuffled order: the listing must come out sorted anyway.
  const items = [...LOGS, ...NOT_LOGS].sort(() => Math.random() - 0.5);
  await putMany(s3, BUCKET, items);
});
t.teardown(async () => {
  await s3?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const ls = (args: string[], env: NodeJS.ProcessEnv = s3.env) => runTool('edx-s3-ls', ['--bucket', BUCKET, ...args], { env });

t.test('lists every tracking log of a bucket of more than 1,000 objects, sorted, and nothing else', async (t) => {
  const r = await ls([]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '');
  const keys = lines(r.stdout);
  t.equal(keys.length, 1100, 'all pages were read');
  t.same(keys, ALL_LOG_KEYS, 'exactly the tracking logs, sorted by key');
  for (const [k] of NOT_LOGS) t.notOk(keys.includes(k), `${k} is not a tracking log`);
});

t.test('keys come out sorted by key whatever order the store lists them in', async (t) => {
  await s3.createBucket('mixed');
  const keys = ['tracking/app2/tracking.log-20130609.gz', 'tracking/app2/tracking/tracking.log-20141008-1412767021.gz',
    'tracking/app2/tracking.log-20130610.gz', 'tracking/app10/tracking/tracking.log-20141008-1412767022.gz',
    'tracking/app10/tracking.log-20130609.gz', 'tracking/app2/tracking.log-20130609-1.gz'];
  await putMany(s3, 'mixed', keys.map((k) => [k, k]));
  const r = await runTool('edx-s3-ls', ['--bucket', 'mixed'], { env: s3.env });
  t.equal(r.code, 0, r.stderr);
  t.same(lines(r.stdout), [
    'tracking/app10/tracking.log-20130609.gz',
    'tracking/app10/tracking/tracking.log-20141008-1412767022.gz',
    'tracking/app2/tracking.log-20130609-1.gz',
    'tracking/app2/tracking.log-20130609.gz',
    'tracking/app2/tracking.log-20130610.gz',
    'tracking/app2/tracking/tracking.log-20141008-1412767021.gz',
  ]);
});

t.test('a store that pages out of key order gets a warning', async (t) => {
  await s3.createBucket('mixed-big');
  const items: [string, string][] = [];
  for (let i = 0; i < 1010; i++) items.push([i % 2 ? `a/tracking/tracking.log-2013${String(1000 + i).padStart(4, '0')}.gz` : `a/tracking.log-2013${String(1000 + i).padStart(4, '0')}.gz`, 'x']);
  await putMany(s3, 'mixed-big', items);
  const r = await runTool('edx-s3-ls', ['--bucket', 'mixed-big'], { env: s3.env });
  t.equal(r.code, 0);
  t.match(r.stderr, /warning: the store lists keys out of order across pages; it may have left some out/);
});

t.test('--prefix limits the listing; configuration from the environment works too', async (t) => {
  const r = await runTool('edx-s3-ls', ['--prefix', 'tracking/app3/'], { env: { ...s3.env, EDX_PIPES_BUCKET: BUCKET } });
  t.equal(r.code, 0, r.stderr);
  t.same(lines(r.stdout), ALL_LOG_KEYS.filter((k) => k.startsWith('tracking/app3/')));
  // --endpoint-url on the command line instead of AWS_ENDPOINT_URL_S3
  const env = { ...s3.env };
  delete env.AWS_ENDPOINT_URL_S3;
  const r2 = await runTool('edx-s3-ls', ['--bucket', BUCKET, '--endpoint-url', s3.endpoint, '--prefix', 'tracking/app3/'], { env });
  t.equal(r2.code, 0, r2.stderr);
  t.same(lines(r2.stdout), lines(r.stdout));
});

t.test('--match takes another pattern', async (t) => {
  const r = await ls([String.raw`--match=-errors$`]);
  t.equal(r.code, 0, r.stderr);
  t.same(lines(r.stdout), ['tracking/app1/tracking.log-20130610-errors']);
  const bad = await ls(['--match', '(']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--match: not a valid regular expression/);
});

t.test('--long prints key, size, ETag and date as TSV', async (t) => {
  const r = await ls(['--long', '--prefix', 'tracking/app0/']);
  t.equal(r.code, 0, r.stderr);
  const rows = lines(r.stdout).map((l) => l.split('\t'));
  const expected = LOGS.filter(([k]) => k.startsWith('tracking/app0/')).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  t.equal(rows.length, expected.length);
  rows.forEach((row, i) => {
    const [key, body] = expected[i];
    t.equal(row.length, 4);
    t.equal(row[0], key);
    t.equal(row[1], String(Buffer.byteLength(body)));
    t.equal(row[2], createHash('md5').update(body).digest('hex'), 'ETag without quotes');
    t.match(row[3], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    t.ok(Math.abs(Date.parse(row[3]) - Date.now()) < 3600_000);
  });
});

/** Make a local mirror: some keys complete, one cut short, one leftover partial. */
function mirror(name: string) {
  const root = join(tmp, name);
  const [complete1, complete2, short] = [LOGS[10], LOGS[11], LOGS[12]];
  for (const [key, body] of [complete1, complete2]) {
    mkdirSync(dirname(join(root, key)), { recursive: true });
    writeFileSync(join(root, key), body);
  }
  mkdirSync(dirname(join(root, short[0])), { recursive: true });
  writeFileSync(join(root, short[0]), short[1].slice(0, 3)); // a half-written download
  const k13 = LOGS[13][0];
  mkdirSync(dirname(join(root, k13)), { recursive: true });
  writeFileSync(join(dirname(join(root, k13)), `.${k13.split('/').pop()}.partial-4242`), LOGS[13][1]);
  return { root, done: [complete1[0], complete2[0]], notDone: [short[0], k13] };
}

t.test('--new leaves out logs with a local copy of the same size', async (t) => {
  const m = mirror('mirror-local');
  const r = await ls(['--new', '--local-root', m.root]);
  t.equal(r.code, 0, r.stderr);
  const keys = lines(r.stdout);
  t.same(keys, ALL_LOG_KEYS.filter((k) => !m.done.includes(k)));
  for (const k of m.notDone) t.ok(keys.includes(k), `${k} (short copy or only a partial) is still new`);
  // from the environment
  const r2 = await runTool('edx-s3-ls', ['--bucket', BUCKET, '--new'], { env: { ...s3.env, EDX_PIPES_LOCAL_ROOT: m.root } });
  t.same(lines(r2.stdout), keys);
  const usage = await ls(['--new']);
  t.equal(usage.code, 2, '--new without --local-root or --db is a usage error');
  t.match(usage.stderr, /--new needs --local-root/);
});

t.test('--new --db leaves out logs that LoadInfo records as loaded', async (t) => {
  const server = await testServer();
  const db = uniqueName('s3ls');
  const conn = await testConnection();
  t.teardown(async () => {
    await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await conn.end();
  });
  await conn.query(`CREATE DATABASE \`${db}\`; CREATE TABLE \`${db}\`.LoadInfo (load_info_id VARCHAR(40) NOT NULL PRIMARY KEY, `
    + 'load_date_time DATETIME(6), load_file TEXT)');
  const m = mirror('mirror-db');
  const viaRoot = LOGS[20][0]; // transformed from this mirror
  const viaOther = LOGS[21][0]; // transformed from another copy of the bucket
  const rows = [
    [`file://${m.root}/${viaRoot}`],
    [`file:///home/dataman/Data/EdX/tracking/${viaOther}`],
    ['file:///somewhere/else/tracking.log-19990101.gz'],
    [`file:///x/${LOGS[22][0]}.bak`], // not the same file
  ];
  for (const [i, [f]] of rows.entries()) {
    await conn.query(`INSERT INTO \`${db}\`.LoadInfo VALUES (?, NOW(6), ?)`, [String(i), f]);
  }
  const dbEnv: NodeJS.ProcessEnv = { ...s3.env };
  for (const k of Object.keys(dbEnv)) if (k.startsWith('MYSQL_')) delete dbEnv[k];
  for (const [k, v] of Object.entries(server.env)) if (k.startsWith('MYSQL_') || k.startsWith('EDX_PIPES_')) dbEnv[k] = v;

  const r = await ls(['--new', '--db', '--edx-db', db], dbEnv);
  t.equal(r.code, 0, r.stderr);
  t.same(lines(r.stdout), ALL_LOG_KEYS.filter((k) => k !== viaRoot && k !== viaOther), 'only LoadInfo is checked without --local-root');

  const both = await ls(['--new', '--db', '--edx-db', db, '--local-root', m.root], dbEnv);
  t.equal(both.code, 0, both.stderr);
  t.same(lines(both.stdout), ALL_LOG_KEYS.filter((k) => ![viaRoot, viaOther, ...m.done].includes(k)));
  t.ok(lines(both.stdout).includes(LOGS[22][0]));

  // no LoadInfo yet: nothing is loaded, said on stderr
  const empty = uniqueName('s3ls_empty');
  const r3 = await ls(['--new', '--db', '--edx-db', empty, '--local-root', m.root], dbEnv);
  t.equal(r3.code, 0, r3.stderr);
  t.match(r3.stderr, new RegExp(`${empty}\\.LoadInfo does not exist yet`));
  t.same(lines(r3.stdout), ALL_LOG_KEYS.filter((k) => !m.done.includes(k)));

  // an unreachable database is a failure, not an empty set
  const r4 = await ls(['--new', '--db', '--edx-db', db], { ...dbEnv, MYSQL_HOST: '127.0.0.1', MYSQL_TCP_PORT: '1' });
  t.equal(r4.code, 1);
  t.match(r4.stderr, /cannot connect to \S+@127\.0\.0\.1:1 /, 'names where it tried');
  t.equal(r4.stdout, '');

  const bad = await ls(['--new', '--db', '--edx-db', 'no;such'], dbEnv);
  t.equal(bad.code, 2, 'database names are checked');
});

t.test('credentials from a profile (--profile or AWS_PROFILE), nothing else', async (t) => {
  const file = join(tmp, 'aws-credentials');
  writeFileSync(file, '[default]\naws_access_key_id = NOT-KNOWN-HERE\naws_secret_access_key = x\n\n'
    + '[edx]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n');
  const env: NodeJS.ProcessEnv = { ...s3.env, AWS_SHARED_CREDENTIALS_FILE: file };
  delete env.AWS_ACCESS_KEY_ID;
  delete env.AWS_SECRET_ACCESS_KEY;
  const args = ['--bucket', BUCKET, '--prefix', 'tracking/app3/'];
  const byOption = await runTool('edx-s3-ls', [...args, '--profile', 'edx'], { env });
  t.equal(byOption.code, 0, byOption.stderr);
  t.equal(lines(byOption.stdout).length, ALL_LOG_KEYS.filter((k) => k.startsWith('tracking/app3/')).length);
  const byEnv = await runTool('edx-s3-ls', args, { env: { ...env, AWS_PROFILE: 'edx' } });
  t.equal(byEnv.code, 0, byEnv.stderr);
  t.same(byEnv.stdout, byOption.stdout);
  const byDefault = await runTool('edx-s3-ls', args, { env });
  t.equal(byDefault.code, 1, 'the default profile has a key the store does not know');
  t.match(byDefault.stderr, /access denied/);
});

t.test('failures: usage, missing bucket, wrong credentials (never printed)', async (t) => {
  const noBucket = await runTool('edx-s3-ls', [], { env: s3.env });
  t.equal(noBucket.code, 2);
  t.match(noBucket.stderr, /no bucket/);
  const missing = await runTool('edx-s3-ls', ['--bucket', 'no-such-bucket'], { env: s3.env });
  t.equal(missing.code, 1);
  t.equal(missing.stderr, 'edx-s3-ls: no such bucket: no-such-bucket\n');
  const secret = 'wrong-secret-7f3a9c';
  const denied = await runTool('edx-s3-ls', ['--bucket', BUCKET], { env: { ...s3.env, AWS_ACCESS_KEY_ID: 'NOT-KNOWN-HERE', AWS_SECRET_ACCESS_KEY: secret } });
  t.equal(denied.code, 1);
  t.match(denied.stderr, /access denied/);
  t.notMatch(denied.stderr + denied.stdout, secret);
  const help = await runTool('edx-s3-ls', ['--help'], { env: s3.env });
  t.equal(help.code, 0);
  t.match(help.stdout, /--long/);
  t.match(help.stdout, /AWS_ENDPOINT_URL_S3/);
  const unknown = await runTool('edx-s3-ls', ['--bucket', BUCKET, '--secret-access-key', 'x'], { env: s3.env });
  t.equal(unknown.code, 2, 'no option for secrets');
});

t.test('LoadedFiles: which listed key a load_file records', async (t) => {
  const { LoadedFiles } = await import('../src/s3/list.js');
  const keys = ['app1/tracking.log-20140325.gz', 'tracking.log-20140325.gz', 'app2/tracking.log-20140326.gz', 'tracking.log-20140327.gz'];
  const loaded = new LoadedFiles([
    'file:///mirror/app1/tracking.log-20140325.gz', // ends with both app1/… and the root key: app1/…'s
    'file:///home/dataman/Data/EdX/tracking/app2/tracking.log-20140326.gz', // the old setup's mirror
    'file:///mirror/tracking.log-20140327.gz',
  ]);
  t.same([...loaded.among(keys).keys()].sort(), ['app1/tracking.log-20140325.gz', 'app2/tracking.log-20140326.gz', 'tracking.log-20140327.gz'],
    'a load_file is the log of the longest key it ends with, not of every key it ends with');
  // Under the local root, the key is what follows the root, even if a longer listed key would match.
  const rooted = new LoadedFiles(['file:///data/logs/app1/tracking.log-20140325.gz']);
  t.same([...rooted.among(['logs/app1/tracking.log-20140325.gz', 'app1/tracking.log-20140325.gz'], '/data/logs').keys()],
    ['app1/tracking.log-20140325.gz'], 'under --local-root: exactly the key below the root');
  t.same([...rooted.among(['logs/app1/tracking.log-20140325.gz', 'app1/tracking.log-20140325.gz']).keys()],
    ['logs/app1/tracking.log-20140325.gz'], 'without it: the longest key');
  t.equal(loaded.among(keys).get('app1/tracking.log-20140325.gz'), 'file:///mirror/app1/tracking.log-20140325.gz', 'with the load_file that records it');
});
