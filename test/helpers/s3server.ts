// A real S3-protocol server for tests: s3rver on 127.0.0.1 at a free port, in a child process run
// with `node --openssl-legacy-provider` (its continuation tokens use DES, which OpenSSL 3 refuses
// otherwise), with its data in a temporary directory that goes away with it. Nothing is mocked and
// nothing talks to the internet.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { S3Client, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';

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
