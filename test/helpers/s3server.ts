// A real S3-protocol server for tests: s3rver on 127.0.0.1 at a free port, in a child process run
// with `node --openssl-legacy-provider` (its continuation tokens use DES, which OpenSSL 3 refuses
// otherwise), with its data in a temporary directory that goes away with it. Nothing is mocked and
// nothing talks to the internet. Also: running our tools as child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

/** s3rver's default credentials; fixed and fake. */
export const DUMMY_KEY_ID = 'S3RVER';
export const DUMMY_SECRET = 'S3RVER';

export interface S3Test {
  endpoint: string;
  port: number;
  client: S3Client;
  /** Environment for spawned tools: dummy credentials, region, no developer profile or option file. */
  env: NodeJS.ProcessEnv;
  createBucket(name: string): Promise<void>;
  put(bucket: string, key: string, body: string | Buffer): Promise<void>;
  stop(): Promise<void>;
}

/** Environment in which the AWS SDK finds only our dummy credentials (never ~/.aws of the developer). */
export function s3Env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (/^(AWS_|EDX_PIPES_BUCKET|EDX_PIPES_PREFIX|EDX_PIPES_LOCAL_ROOT)/.test(k)) delete env[k];
  return {
    ...env,
    AWS_ACCESS_KEY_ID: DUMMY_KEY_ID,
    AWS_SECRET_ACCESS_KEY: DUMMY_SECRET,
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

export async function startS3(): Promise<S3Test> {
  const dir = mkdtempSync(join(tmpdir(), 'edx-pipes-s3rver-'));
  const bin = join(dirname(require.resolve('s3rver/package.json')), 'bin', 's3rver.js');
  const child: ChildProcess = spawn(process.execPath,
    ['--openssl-legacy-provider', bin, '-d', dir, '-a', '127.0.0.1', '-p', '0', '--silent'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`s3rver did not start: ${stderr}`)), 20000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on [^:\s]+:(\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`s3rver exited (${code}): ${stderr}`)); });
  });
  child.stdout!.resume();
  const endpoint = `http://127.0.0.1:${port}`;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const client = new S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: DUMMY_KEY_ID, secretAccessKey: DUMMY_SECRET },
  });
  const kill = () => { child.kill(); rmSync(dir, { recursive: true, force: true }); };
  process.once('exit', kill);
  return {
    endpoint, port, client,
    env: s3Env({ AWS_ENDPOINT_URL_S3: endpoint }),
    async createBucket(name) { await client.send(new CreateBucketCommand({ Bucket: name })); },
    async put(bucket, key, body) { await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })); },
    async stop() {
      client.destroy();
      process.off('exit', kill);
      if (child.exitCode === null) {
        await new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.kill(); });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RunResult { code: number | null; stdout: string; stderr: string; stdoutBytes: Buffer }

/** Run `bin/<tool>` with arguments, an environment and optional stdin; collect everything. */
export function runTool(tool: string, args: string[], opts: { env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // Without the test runner's loader hooks: tap's process tracking puts them into NODE_OPTIONS of
    // every child it sees spawned, and they load the extensionless bin/ scripts as CommonJS. env(1)
    // removes them just before node starts.
    const child = spawn('/usr/bin/env', ['-u', 'NODE_OPTIONS', process.execPath, join(REPO, 'bin', tool), ...args],
      { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Put many objects, a few at a time. */
export async function putMany(s3: S3Test, bucket: string, items: [string, string | Buffer][], parallel = 16): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < items.length) {
      const [key, body] = items[next++];
      await s3.put(bucket, key, body);
    }
  }));
}
