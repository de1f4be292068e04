// edx-fetch against a real S3-protocol server (s3rver), directly and through a small HTTP proxy in
// this test that forwards to s3rver but cuts, shortens, corrupts, stalls or refuses GET bodies.
import t, { type Test } from 'tap';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { startS3, putMany, type S3Test } from './helpers/s3server.js';
import { REPO, runTool, spawnTool, shellQuote } from './helpers/tools.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

const BUCKET = 'edx-logs';
const OBJECTS = new Map<string, Buffer>([
  ['tracking/app10/tracking.log-20130609.gz', randomBytes(300_000)],
  ['tracking/app10/tracking.log-20130610.gz', randomBytes(120_000)],
  ['tracking/app2/tracking/tracking.log-20141008-1412767021.gz', randomBytes(250_000)],
  ['tracking/app2/tracking/tracking.log-20141009-1412853421.gz', randomBytes(1_000)],
  ['tracking/app3/tracking/tracking.log-20141010-1412939821.gz', randomBytes(64_000)],
  ['tracking/app3/tracking/tracking.log-20141011-1413026221.gz', Buffer.alloc(0)],
]);
const KEYS = [...OBJECTS.keys()];
const BIG = KEYS[0];
const TOTAL = [...OBJECTS.values()].reduce((n, b) => n + b.length, 0);
const lines = (s: string) => s.split('\n').filter((l) => l !== '');

let s3: S3Test;
const tmp = tempDir('s3-fetch');
let rootCount = 0;
const newRoot = () => join(tmp, `root${++rootCount}`);

t.before(async () => {
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  await putMany(s3, BUCKET, [...OBJECTS]);
});
t.teardown(async () => {
  await s3?.stop();
});

const fetch = (args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}) =>
  runTool('edx-fetch', ['--bucket', BUCKET, '--retry-delay', '20', ...args], { env: opts.env ?? s3.env, input: opts.input });

/** Every file under a directory, relative. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((p) => statSync(join(dir, p)).isFile()).sort();
}
const partials = (dir: string) => tree(dir).filter((p) => /\.partial-\d+$/.test(basename(p)));

function checkMirror(t: Test, root: string, keys: string[]) {
  for (const k of keys) t.ok(readFileSync(join(root, k)).equals(OBJECTS.get(k)!), `${k} is complete and correct`);
  t.same(partials(root), [], 'no partial files left');
}

// ---------- a proxy that misbehaves on GETs of chosen keys ----------
type Mode = 'cut' | 'short' | 'corrupt' | 'stall' | '503';
interface Proxy {
  endpoint: string;
  /** Misbehave on the next `times` GETs of `key`. */
  tamper(key: string, mode: Mode, times?: number): void;
  /** Range headers of the GETs seen, per key. */
  ranges: Map<string, (string | undefined)[]>;
  /** Resolves the stalled responses. */
  release(): void;
  /** How many responses are stalled now, waiting for release(). */
  stalled(): number;
  close(): Promise<void>;
}

async function startProxy(target: number): Promise<Proxy> {
  const rules = new Map<string, { mode: Mode; times: number }>();
  const ranges = new Map<string, (string | undefined)[]>();
  let release: () => void = () => undefined;
  let released = new Promise<void>((r) => { release = r; });
  let stalled = 0;
  const server: Server = createServer((req, res) => {
    const key = decodeURIComponent((req.url ?? '').split('?')[0]).replace(`/${BUCKET}/`, '');
    if (req.method === 'GET') ranges.set(key, [...(ranges.get(key) ?? []), req.headers.range as string | undefined]);
    const rule = req.method === 'GET' ? rules.get(key) : undefined;
    const mode = rule && rule.times > 0 ? rule.mode : undefined;
    if (rule && mode) rule.times--;
    if (mode === '503') {
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      return;
    }
    const up = request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      const chunks: Buffer[] = [];
      upRes.on('data', (c) => chunks.push(c));
      upRes.on('end', async () => {
        const body = Buffer.concat(chunks);
        const headers: IncomingHttpHeaders = { ...upRes.headers };
        const half = body.subarray(0, Math.floor(body.length / 2));
        if (!mode || upRes.statusCode! >= 300) {
          res.writeHead(upRes.statusCode!, headers);
          res.end(body);
        } else if (mode === 'cut' || mode === 'stall') {
          res.writeHead(upRes.statusCode!, headers); // the full Content-Length, then only half of it
          if (mode === 'stall') {
            res.write(half);
            await released;
            stalled--;
            res.end(body.subarray(half.length));
          } else {
            res.write(half, () => res.socket?.destroy()); // cut once the half is handed to the kernel
          }
        } else if (mode === 'short') {
          headers['content-length'] = String(half.length); // lies about the length
          res.writeHead(upRes.statusCode!, headers);
          res.end(half);
        } else if (mode === 'corrupt') {
          const bad = Buffer.from(body);
          bad[bad.length >> 1] ^= 0xff;
          res.writeHead(upRes.statusCode!, headers);
          res.end(bad);
        }
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    tamper(key, mode, times = Infinity) { rules.set(key, { mode, times }); },
    ranges,
    release() { release(); released = new Promise<void>((r) => { release = r; }); },
    stalled: () => stalled,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const viaProxy = (p: Proxy) => ({ ...s3.env, AWS_ENDPOINT_URL_S3: p.endpoint });

// ---------- tests ----------

t.test('fetches several objects into the mirror, prints each path; a second run fetches nothing', async (t) => {
  const root = newRoot();
  const r = await fetch(['--local-root', root, '--jobs', '3'], { input: KEYS.join('\n') + '\n' });
  t.equal(r.code, 0, r.stderr);
  t.same(lines(r.stdout).sort(), KEYS.map((k) => join(root, k)).sort(), 'one absolute path per object');
  checkMirror(t, root, KEYS);
  t.same(tree(root), KEYS.slice().sort(), 'nothing else in the mirror');
  t.match(r.stderr, new RegExp(`^edx-fetch: fetched 6, already present 0, failed 0, ${TOTAL} bytes, \\d+\\.\\d s\\n$`));
  const before = KEYS.map((k) => statSync(join(root, k)).mtimeMs);

  const again = await fetch(['--local-root', root], { input: KEYS.join('\n') });
  t.equal(again.code, 0, again.stderr);
  t.same(lines(again.stdout).sort(), KEYS.map((k) => join(root, k)).sort(), 'already present files are still printed');
  t.match(again.stderr, /fetched 0, already present 6, failed 0, 0 bytes/);
  t.same(KEYS.map((k) => statSync(join(root, k)).mtimeMs), before, 'not written again');

  // a half-written copy from an older tool (wrong size) is not taken for a finished one
  truncateSync(join(root, BIG), 1000);
  const third = await fetch(['--local-root', root, ...KEYS]);
  t.equal(third.code, 0, third.stderr);
  t.match(third.stderr, new RegExp(`fetched 1, already present 5, failed 0, ${OBJECTS.get(BIG)!.length} bytes`));
  checkMirror(t, root, KEYS);
});

t.test('keys as arguments or as edx-s3-ls --long lines; duplicates fetched once', async (t) => {
  const root = newRoot();
  const r = await fetch(['--local-root', root], {
    input: `${KEYS[1]}\t120000\tetag\t2013-06-10T00:00:00.000Z\r\n\n${KEYS[1]}\n${KEYS[3]}\n`,
  });
  t.equal(r.code, 0, r.stderr);
  t.same(lines(r.stdout).sort(), [join(root, KEYS[1]), join(root, KEYS[3])].sort());
  checkMirror(t, root, [KEYS[1], KEYS[3]]);
  const usage = await fetch([KEYS[1]]);
  t.equal(usage.code, 2, 'no --local-root: usage error');
  t.match(usage.stderr, /no local root/);
  const bad = await fetch(['--local-root', root, '--jobs', '0', KEYS[1]]);
  t.equal(bad.code, 2);
});

t.test('the pipeline example: edx-s3-ls --new | edx-fetch', async (t) => {
  const root = newRoot();
  mkdirSync(dirname(join(root, KEYS[1])), { recursive: true });
  writeFileSync(join(root, KEYS[1]), OBJECTS.get(KEYS[1])!);
  const run = async (args: string[]) => {
    const r = await runTool('bash', [join(REPO, 'examples', 's3-pull.sh'), ...args], { env: { ...s3.env, PATH: `${join(REPO, 'bin')}:${process.env.PATH}` } });
    return { code: r.code, out: r.stdout, err: r.stderr };
  };
  const r = await run([BUCKET, root]);
  t.equal(r.code, 0, r.err);
  t.same(lines(r.out).sort(), KEYS.filter((k) => k !== KEYS[1]).map((k) => join(root, k)).sort(), 'only the new ones');
  checkMirror(t, root, KEYS);
  const again = await run([BUCKET, root]);
  t.equal(again.code, 0, again.err);
  t.equal(again.out, '', 'nothing new the second time');
});

t.test('a connection cut in the middle: no file under the final name; the rerun completes it', async (t) => {
  const proxy = await startProxy(s3.port);
  t.teardown(() => proxy.close());
  const root = newRoot();
  proxy.tamper(BIG, 'cut');
  const r = await fetch(['--local-root', root, '--retries', '0', BIG, KEYS[1]], { env: viaProxy(proxy) });
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`edx-fetch: ${BIG}: `));
  t.match(r.stderr, /fetched 1, already present 0, failed 1/);
  t.same(lines(r.stdout), [join(root, KEYS[1])], 'the other key is still fetched');
  t.notOk(existsSync(join(root, BIG)), 'no file under the final name');
  t.same(partials(root), [], 'and no partial left behind');

  const rerun = await fetch(['--local-root', root, BIG, KEYS[1]]);
  t.equal(rerun.code, 0, rerun.stderr);
  t.match(rerun.stderr, /fetched 1, already present 1, failed 0/);
  checkMirror(t, root, [BIG, KEYS[1]]);
});

t.test('a cut is retried and resumed where it stopped (Range)', async (t) => {
  const proxy = await startProxy(s3.port);
  t.teardown(() => proxy.close());
  const root = newRoot();
  proxy.tamper(BIG, 'cut', 1);
  const r = await fetch(['--local-root', root, '--retries', '3', BIG], { env: viaProxy(proxy) });
  t.equal(r.code, 0, r.stderr);
  checkMirror(t, root, [BIG]);
  const seen = proxy.ranges.get(BIG)!;
  t.equal(seen.length, 2);
  t.equal(seen[0], undefined);
  t.match(seen[1], /^bytes=[1-9]\d*-$/, 'the second request asks only for the rest');
});

t.test('a body shorter than announced (lying Content-Length) is a size mismatch, never renamed', async (t) => {
  const proxy = await startProxy(s3.port);
  t.teardown(() => proxy.close());
  const root = newRoot();
  proxy.tamper(KEYS[2], 'short');
  const r = await fetch(['--local-root', root, '--retries', '0', KEYS[2]], { env: viaProxy(proxy) });
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`edx-fetch: ${KEYS[2]}: size mismatch: body ended after 125000 of 250000 bytes`));
  t.same(tree(root), [], 'neither the final name nor a partial');
  const rerun = await fetch(['--local-root', root, KEYS[2]]);
  t.equal(rerun.code, 0, rerun.stderr);
  checkMirror(t, root, [KEYS[2]]);
});

t.test('a corrupt body fails the MD5 check against the ETag', async (t) => {
  const proxy = await startProxy(s3.port);
  t.teardown(() => proxy.close());
  const root = newRoot();
  proxy.tamper(KEYS[4], 'corrupt');
  const r = await fetch(['--local-root', root, '--retries', '1', KEYS[4]], { env: viaProxy(proxy) });
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`${KEYS[4]}: checksum mismatch: MD5 [0-9a-f]{32}, ETag [0-9a-f]{32} \\(after 2 attempts\\)`));
  t.same(tree(root), []);
  t.equal(proxy.ranges.get(KEYS[4])!.length, 2, 'retried from the start');
});

t.test('5xx / throttling answers are retried with back-off', async (t) => {
  const proxy = await startProxy(s3.port);
  t.teardown(() => proxy.close());
  const root = newRoot();
  proxy.tamper(KEYS[1], '503', 2);
  const r = await fetch(['--local-root', root, '--retries', '2', KEYS[1]], { env: viaProxy(proxy) });
  t.equal(r.code, 0, r.stderr);
  checkMirror(t, root, [KEYS[1]]);
  t.equal(proxy.ranges.get(KEYS[1])!.length, 3);
});

t.test('while downloading, the bytes are under .<name>.partial-<pid> only', async (t) => {
  const proxy = await startProxy(s3.port);
  t.teardown(() => proxy.close());
  const root = newRoot();
  proxy.tamper(BIG, 'stall', 1);
  const child = runTool('edx-fetch', ['--bucket', BUCKET, '--local-root', root, BIG], { env: viaProxy(proxy) });
  const dir = dirname(join(root, BIG));
  // Until the first half (all the stalled proxy gives) is in the temporary file.
  const partial = await waitFor(() => {
    const name = existsSync(dir) ? readdirSync(dir).find((n) => n.startsWith(`.${basename(BIG)}.partial-`)) : undefined;
    return name && statSync(join(dir, name)).size >= OBJECTS.get(BIG)!.length / 2 ? name : undefined;
  });
  t.match(partial, /^\.tracking\.log-20130609\.gz\.partial-\d+$/, 'the temporary name');
  t.notOk(existsSync(join(root, BIG)), 'nothing under the final name yet');
  proxy.release();
  const r = await child;
  t.equal(r.code, 0, r.stderr);
  checkMirror(t, root, [BIG]);
});

t.test('a missing key fails with its name; the other keys are still fetched', async (t) => {
  const root = newRoot();
  const missing = 'tracking/app9/tracking.log-20990101.gz';
  const r = await fetch(['--local-root', root], { input: [KEYS[1], missing, KEYS[3]].join('\n') });
  t.equal(r.code, 1);
  t.match(r.stderr, `edx-fetch: ${missing}: no such key\n`);
  t.match(r.stderr, /fetched 2, already present 0, failed 1/);
  t.same(lines(r.stdout).sort(), [join(root, KEYS[1]), join(root, KEYS[3])].sort());
  checkMirror(t, root, [KEYS[1], KEYS[3]]);
  t.notOk(existsSync(join(root, missing)));
  t.notOk(existsSync(dirname(join(root, missing))), 'no folder made for it');

  const denied = await fetch(['--local-root', root, KEYS[0]], { env: { ...s3.env, AWS_ACCESS_KEY_ID: 'UNKNOWN-KEY' } });
  t.equal(denied.code, 1);
  t.match(denied.stderr, `edx-fetch: ${KEYS[0]}: access denied`);
  const nobucket = await runTool('edx-fetch', ['--bucket', 'no-such-bucket', '--local-root', root, KEYS[0]], { env: s3.env });
  t.equal(nobucket.code, 1);
  t.equal(nobucket.stderr, 'edx-fetch: no such bucket: no-such-bucket\n', 'the bucket, once, before any key');
});

t.test('--stdout streams one object without touching the disk', async (t) => {
  const r = await fetch(['--stdout', BIG]);
  t.equal(r.code, 0, r.stderr);
  t.ok(r.stdoutBytes.equals(OBJECTS.get(BIG)!), 'the exact bytes');
  const fromStdin = await fetch(['--stdout'], { input: `${KEYS[2]}\n` });
  t.ok(fromStdin.stdoutBytes.equals(OBJECTS.get(KEYS[2])!));

  const proxy = await startProxy(s3.port);
  t.teardown(() => proxy.close());
  proxy.tamper(BIG, 'cut', 1);
  const resumed = await fetch(['--stdout', '--retries', '2', BIG], { env: viaProxy(proxy) });
  t.equal(resumed.code, 0, resumed.stderr);
  t.ok(resumed.stdoutBytes.equals(OBJECTS.get(BIG)!), 'a cut stream is resumed, not repeated');

  const missing = await fetch(['--stdout', 'tracking/nope/tracking.log-20990101.gz']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, 'edx-fetch: tracking/nope/tracking.log-20990101.gz: no such key');
  t.equal(missing.stdout, '');
  const two = await fetch(['--stdout', KEYS[1], KEYS[2]]);
  t.equal(two.code, 2);
  t.match(two.stderr, /exactly one object/);
});

t.test('a progress line on stderr when it is a terminal (and none otherwise)', async (t) => {
  const proxy = await startProxy(s3.port);
  t.teardown(() => proxy.close());
  const root = newRoot();
  proxy.tamper(BIG, 'stall', 1);
  // script(1) gives the tool a terminal; stdout goes to /dev/null so only stderr reaches it.
  const cmd = ['env', '-u', 'NODE_OPTIONS', process.execPath, join(REPO, 'bin', 'edx-fetch'), '--bucket', BUCKET,
    '--local-root', root, BIG, KEYS[1]].map(shellQuote).join(' ') + ' >/dev/null';
  const child = spawnTool('script', ['-qec', cmd, '/dev/null'], { env: viaProxy(proxy), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  const done = new Promise<void>((resolve) => child.on('close', () => resolve()));
  // The stalled download is released once the terminal has shown a progress line with it in progress.
  const progress = /\r\x1b\[Kedx-fetch: \d+ fetched, 0 already present, 0 failed, [\d.]+ MB, 1 in progress/;
  await waitFor(() => progress.test(out), { child });
  proxy.release();
  await done;
  t.match(out, progress);
  t.match(out, /edx-fetch: fetched 2, already present 0, failed 0/);
  checkMirror(t, root, [BIG, KEYS[1]]);
});

/** edx-fetch of BIG through a proxy that stalls it halfway: the run, once half is in its partial file. */
async function stalledDownload(t: Test) {
  const proxy = await startProxy(s3.port);
  t.teardown(() => { proxy.release(); return proxy.close(); });
  const root = newRoot();
  proxy.tamper(BIG, 'stall', 1);
  const child = spawnTool('edx-fetch', ['--bucket', BUCKET, '--local-root', root, BIG], { env: viaProxy(proxy), stdio: 'ignore' });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('close', (code, signal) => r({ code, signal })));
  const half = OBJECTS.get(BIG)!.length / 2;
  const stalled = () => partials(root).length === 1 && statSync(join(root, partials(root)[0])).size >= half;
  await waitFor(stalled, { child });
  t.ok(stalled(), 'half the object in a partial file while stalled');
  return { root, child, closed };
}

t.test('interrupted (SIGTERM) mid-download: the partial file is removed, no final name', async (t) => {
  const { root, child, closed } = await stalledDownload(t);
  const dir = dirname(join(root, BIG));
  child.kill('SIGTERM');
  t.equal((await closed).code, 143, 'exit status 128 + SIGTERM');
  t.same(tree(root), [], 'nothing left in the mirror');
  t.ok(existsSync(dir), 'the folder may stay');
});

t.test('killed outright (SIGKILL) mid-download: the next run removes the partial file, not a live run\'s', async (t) => {
  const { root, child, closed } = await stalledDownload(t);
  child.kill('SIGKILL');
  t.equal((await closed).signal, 'SIGKILL');
  const [left] = partials(root);
  t.ok(left, 'SIGKILL left the partial file (log lines: personal data)');
  // A partial of a run still going (this test's pid): never removed.
  const dir = dirname(join(root, BIG));
  const live = join(dir, `.${basename(KEYS[1])}.partial-${process.pid}`);
  writeFileSync(live, 'someone is writing this');

  const r = await fetch(['--local-root', root, BIG]);
  t.equal(r.code, 0, r.stderr);
  t.ok(readFileSync(join(root, BIG)).equals(OBJECTS.get(BIG)!), 'the object is fetched');
  t.notOk(existsSync(join(root, left)), 'the killed run\'s partial file is removed');
  t.ok(existsSync(live), 'a live run\'s partial file stays');
});
