// Shared launcher for the thin scripts in bin/: load the compiled tool and run it.
// Exit codes: 0 ok, 1 failure, 2 usage (set by the tool's main).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function launch(tool) {
  const url = new URL(`../dist/cli/${tool}.js`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    process.stderr.write(`${tool}: not built yet; run 'make build' (npm ci && npx tsc) in ${fileURLToPath(new URL('..', import.meta.url))}\n`);
    process.exit(1);
  }
  const { main } = await import(url.href);
  process.exitCode = await main(process.argv.slice(2));
}
