// One measured run in a fresh process: the parse floor, or the transform writing SQL to /dev/null.
// Prints {mode, seconds, lines, maxRssMiB} as JSON.
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
const [mode, file] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
let lines = 0;
if (mode === 'floor') {
  // readline + JSON.parse of each line, nothing else (bench/README's parse floor)
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    lines++;
    try { JSON.parse(line); } catch { /* broken lines cost the same to find */ }
  }
} else {
  const { runTransform } = await import('../dist/transform/run.js');
  const { SqlScriptWriter } = await import('../dist/sql/script.js');
  const writer = new SqlScriptWriter(createWriteStream('/dev/null'));
  const stats = await runTransform({ inputs: [file], writer, onReject() {}, onSourceError(n, e) { throw e; } });
  lines = stats.lines;
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ mode, seconds, lines, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
