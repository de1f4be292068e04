// Installing (issue 15 item 8): `make install PREFIX=…`, `npm install -g` of the clone and of a packed
// tarball put every tool on PATH, and each runs by name. Uses the dist/ the suite built (no rebuild:
// other test files read it meanwhile) and no network (npm --offline).
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, delimiter } from 'node:path';
import { promisify } from 'node:util';
import { REPO, toolEnv, runTool } from './helpers/tools.js';

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string>; files: string[]; scripts: Record<string, string> };
const TOOLS = Object.keys(pkg.bin).sort();
const tmp = mkdtempSync(join(tmpdir(), 'edx-install-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
const npmEnv = toolEnv({ ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' });

/** Every tool, by name from PREFIX/bin (and nothing of the clone on PATH), answers --help. */
async function runsByName(t: Test, prefix: string) {
  const env = { ...toolEnv(), PATH: [join(prefix, 'bin'), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter) };
  t.same(readdirSync(join(prefix, 'bin')).sort(), TOOLS, 'every tool, nothing else');
  for (const tool of TOOLS) {
    // env -u: tap puts its loader hooks into every child's NODE_OPTIONS (see helpers/tools.ts).
    const r = await run('/usr/bin/env', ['-u', 'NODE_OPTIONS', tool, '--help'], { env, cwd: tmp });
    t.match(r.stdout, new RegExp(`^Usage: ${tool} `), `${tool} --help by name`);
  }
}

t.test('package.json: every bin/ launcher, built before packing', async (t) => {
  t.same(TOOLS, readdirSync(join(REPO, 'bin')).filter((f) => f.startsWith('edx-')).sort(), 'bin lists every launcher');
  t.match(pkg.scripts.prepack, /tsc/, 'npm pack builds dist/');
  t.ok(pkg.files.includes('bin/') && pkg.files.includes('dist/'));
});

t.test('make install PREFIX=…', async (t) => {
  const prefix = join(tmp, 'make');
  // -o build: the suite has built dist/ already; rebuilding it now would disturb other test files.
  await run('make', ['--no-print-directory', '-o', 'build', 'install', `PREFIX=${prefix}`], { cwd: REPO, env: toolEnv() });
  await runsByName(t, prefix);
  await run('make', ['--no-print-directory', 'uninstall', `PREFIX=${prefix}`], { cwd: REPO, env: toolEnv() });
  t.same(readdirSync(join(prefix, 'bin')), [], 'make uninstall takes the links away');
});

t.test('npm install -g from the clone', async (t) => {
  const prefix = join(tmp, 'clone');
  await run('npm', ['install', '-g', '--offline', '--prefix', prefix, REPO], { cwd: tmp, env: npmEnv });
  await runsByName(t, prefix);
});

t.test('npm pack, then npm install -g of the tarball', async (t) => {
  // --ignore-scripts: dist/ is built already (prepack would rebuild it under the other test files).
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: REPO, env: npmEnv });
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  const paths = packed.files.map((f) => f.path);
  for (const tool of TOOLS) {
    t.ok(paths.includes(`bin/${tool}`) && paths.includes(`dist/cli/${tool}.js`), `${tool}: launcher and compiled tool packed`);
  }
  t.ok(paths.includes('bin/launch.mjs'));
  t.notOk(paths.some((p) => /^(src|test)\//.test(p)), 'no sources or tests in the package');
  const prefix = join(tmp, 'tarball');
  try {
    await run('npm', ['install', '-g', '--offline', '--prefix', prefix, join(tmp, packed.filename)], { cwd: tmp, env: npmEnv });
  } catch (e) {
    // Offline, the dependencies must be in npm's cache; a machine that installed with `npm ci` from
    // a registry mirror may not have them all there.
    if (/ENOTCACHED/.test(String((e as { stderr?: string }).stderr))) {
      t.comment('skipped: the dependencies are not all in npm\'s cache (offline)');
      return;
    }
    throw e;
  }
  await runsByName(t, prefix);
});

t.test('examples/pipeline/config.mk names throwaway databases only', async (t) => {
  const show = 'show:\n\t@echo $(EDX_DB) $(PRIVATE_DB) $(EDXPROD_DB) $(FORUM_DB)\n';
  const child = execFile('make', ['-s', '--no-print-directory', 'CONFIG=examples/pipeline/config.mk', '-f', 'Makefile', '-f', '-', 'show'], { cwd: REPO, env: toolEnv() });
  child.stdin!.end(show);
  const out = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (d) => (text += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`make exited ${code}`))));
  });
  const names = out.trim().split(/\s+/);
  t.equal(names.length, 4, 'Edx, EdxPrivate, edxprod and EdxForum all named');
  for (const n of names) t.match(n, /^edx_pipeline_demo/, `${n}: throwaway`);
});

t.test("the AWS SDK's Node-version notice is not printed on every command", async (t) => {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'us-east-1' };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  const ls = (e: NodeJS.ProcessEnv) => runTool('edx-s3-ls', ['--bucket', 'b', '--endpoint-url', 'http://127.0.0.1:1'], { env: e });
  const r = await ls(env);
  t.equal(r.code, 1, 'the listing fails (nothing listens there)');
  t.notMatch(r.stderr, /NodeVersionSupportWarning/, 'without the SDK notice');
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line: the failure');
  if (Number(process.versions.node.split('.')[0]) < 22) {
    const shown = await ls({ ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' });
    t.match(shown.stderr, /NodeVersionSupportWarning/, 'which the SDK prints on this Node when asked to');
  }
});
