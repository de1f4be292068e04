// make bench (transform part): edx-json2sql's events/s beside the parse floor measured in the
// same run on the same corpus, and peak memory at two input sizes (it must stay flat). The work
// floor (parse the line and its event, hash it, look up its IP: nothing else) shows how far any
// design of this transform can go on this corpus.
// Usage: node bench/transform.mjs CORPUS_SMALL CORPUS_LARGE [runs]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const [small, large, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 3);
const child = fileURLToPath(new URL('./transform-child.mjs', import.meta.url));
const measure = (mode, file) => JSON.parse(execFileSync(process.execPath, [child, mode, file], { encoding: 'utf8' }));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const floor = [], work = [], ours = [];
for (let i = 0; i < runs; i++) {
  // Interleaved, so that a noisy neighbour hurts all alike.
  floor.push(measure('floor', large));
  work.push(measure('work', large));
  ours.push(measure('transform', large));
}
const lines = ours[0].lines;
const floorRate = lines / median(floor.map((r) => r.seconds));
const ourRate = lines / median(ours.map((r) => r.seconds));
const workRate = lines / median(work.map((r) => r.seconds));
const smallRun = measure('transform', small);
const rssLarge = median(ours.map((r) => r.maxRssMiB));
console.log(`transform: ${lines} events, median of ${runs} runs`);
console.log(`  parse floor (readline + JSON.parse)  ${floorRate.toFixed(0).padStart(8)} events/s`);
console.log(`  work floor (+ event text, SHA-1, IP)  ${workRate.toFixed(0).padStart(8)} events/s   ratio to floor ${(workRate / floorRate).toFixed(2)}`);
console.log(`  edx-json2sql → SQL                    ${ourRate.toFixed(0).padStart(8)} events/s   ratio to floor ${(ourRate / floorRate).toFixed(2)} (target ≥ 0.5, ≥ 100000 events/s)`);
console.log(`  peak memory: ${smallRun.lines} events ${smallRun.maxRssMiB.toFixed(0)} MiB, ${lines} events ${rssLarge.toFixed(0)} MiB   ratio ${(rssLarge / smallRun.maxRssMiB).toFixed(2)} (flat ≈ 1)`);
