// Shared launcher for the thin scripts in bin/: load the compiled tool and run it.
// Exit codes: 0 ok, 1 failure, 2 usage (set by the tool's main).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The AWS SDK warns on every command under Node < 22 that its releases after early 2027 will need
// Node 22. Our SDK is pinned by the lock file and our tools support Node 20, so the notice is for
// whoever upgrades the SDK (README, Installing), not for each run: the SDK's own switch turns off
// that one warning (set it to anything else to see it); every other warning still shows.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export async function launch(tool) {
  const url = new URL(`../dist/cli/${tool}.js`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    process.stderr.write(`${tool}: not built yet; run 'make build' (npm ci && npx tsc) in ${fileURLToPath(new URL('..', import.meta.url))}\n`);
    process.exit(1);
  }
  const { main } = await import(url.href);
  process.exitCode = await main(process.argv.slice(2));
}
