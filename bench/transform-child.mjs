// One measured run in a fresh process: the parse floor, the work floor, or the transform writing
// SQL to /dev/null.
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
} else if (mode === 'work') {
  // The work floor: what every event needs whatever the design, done in one loop with nothing
  // else: the line parsed, its event text parsed, the line hashed for the ids, its IP looked up.
  const { readLineBatches } = await import('../dist/io/input.js');
  const { CountryLookup } = await import('../dist/transform/geoip.js');
  const { hash } = await import('node:crypto');
  const geo = new CountryLookup();
  for await (const batch of readLineBatches(file)) {
    for (const line of batch) {
      lines++;
      let record;
      try { record = JSON.parse(line); } catch { continue; }
      if (typeof record?.event === 'string') { try { JSON.parse(record.event); } catch { /* text event */ } }
      hash('sha1', line, 'binary');
      geo.country(typeof record?.ip === 'string' ? record.ip : '');
    }
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
