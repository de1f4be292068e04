#!/usr/bin/env node
// Load throughput of edx-csvload, against the mariadb client's own LOAD DATA LOCAL INFILE of the same
// files into the same empty tables, and of the streaming pipe `edx-json2sql --rows | edx-csvload`,
// all in one run (this machine is shared and noisy: compare ratios, medians of several runs).
//
//   node bench/load.mjs CORPUS [--runs N]      (make bench passes the corpus path)
//
// CORPUS is a tracking log (plain or .gz), e.g. from
//   node ../shared/bench/make-corpus.mjs --events 200000 --seed 7 > /tmp/corpus.log
// and is made that way when it does not exist and ../shared is there.
// Connection: the same as the tools (MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_USER, MYSQL_PWD or ~/.my.cnf);
// the benchmark creates and drops its own databases.
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { benchDatabases } from './mariadb-client.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const RUNS = runsAt >= 0 ? Number(args.splice(runsAt, 2)[1]) : 3;
const corpus = args[0];
if (!corpus) {
  process.stderr.write('usage: node bench/load.mjs CORPUS [--runs N]\n');
  process.exit(2);
}
const say = (m) => process.stderr.write(`bench/load: ${m}\n`);

if (!existsSync(corpus)) {
  const maker = join(resolve(ROOT, process.env.SHARED ?? '../shared'), 'bench', 'make-corpus.mjs');
  if (!existsSync(maker)) throw new Error(`${corpus} does not exist and ${maker} is not there to make it`);
  say(`making ${corpus} (200,000 events, seed 7)`);
  const fd = openSync(corpus, 'w');
  execFileSync(process.execPath, [maker, '--events', '200000', '--seed', '7'], { stdio: ['ignore', fd, 'inherit'] });
  closeSync(fd);
}

const bench = await benchDatabases(ROOT, 'bench');
const { env, edx, priv, dbArgs, bin, client } = bench;


function timed(what, f) {
  const t0 = process.hrtime.bigint();
  f();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  say(`${what}: ${s.toFixed(2)} s`);
  return s;
}

function sh(cmd) {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const dir = mkdtempSync(join(tmpdir(), 'bench-load-'));
const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

try {
  const transform = timed('transform to a CSV collection', () =>
    sh(`${q(bin('edx-json2sql'))} --quiet --csv ${q(dir)} ${dbArgs.join(' ')} ${q(corpus)}`));
  const manifests = readdirSync(dir).filter((f) => f.endsWith('.manifest.json')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
  const rows = manifests.reduce((a, m) => a + m.files.filter((f) => f.table !== 'LoadInfo').reduce((b, f) => b + f.rows, 0), 0);
  const events = manifests.reduce((a, m) => a + (m.files.find((f) => f.table === 'EdxTrackEvent')?.rows ?? 0), 0);
  say(`${manifests.length} source(s), ${events} EdxTrackEvent rows, ${rows} rows in all`);

  sh(`${q(bin('edx-csvload'))} --quiet --init ${dbArgs.join(' ')}`);
  // One load first, so that every quarter partition exists for all timed runs alike.
  sh(`${q(bin('edx-csvload'))} --quiet ${dbArgs.join(' ')} ${q(dir)}`);
  const tables = client(['-N', '-e', `SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('${edx}', '${priv}') AND TABLE_TYPE = 'BASE TABLE'`])
    .split('\n').filter(Boolean);
  const empty = () => client(['-e', tables.map((t) => `TRUNCATE TABLE ${t};`).join(' ')]);

  const baseline = [];
  const ours = [];
  const pipe = [];
  for (let i = 1; i <= RUNS; i++) {
    empty();
    baseline.push(timed(`run ${i}: mariadb client LOAD DATA LOCAL INFILE`, () => {
      for (const m of manifests) client(['-e', m.load.join('\n')], { cwd: dir });
    }));
    empty();
    ours.push(timed(`run ${i}: edx-csvload (collection)`, () => sh(`${q(bin('edx-csvload'))} --quiet ${dbArgs.join(' ')} ${q(dir)}`)));
    empty();
    pipe.push(timed(`run ${i}: edx-json2sql --rows | edx-csvload`, () =>
      sh(`${q(bin('edx-json2sql'))} --quiet --rows ${dbArgs.join(' ')} ${q(corpus)} | ${q(bin('edx-csvload'))} --quiet ${dbArgs.join(' ')}`)));
  }
  const [b, o, p] = [median(baseline), median(ours), median(pipe)];
  const rate = (s) => Math.round(rows / s).toLocaleString('en-US');
  const out = [
    `load benchmark: ${events} events, ${rows} rows, medians of ${RUNS} runs`,
    `  transform (json2sql --csv, once):     ${transform.toFixed(2)} s`,
    `  mariadb client LOAD DATA (baseline):  ${b.toFixed(2)} s  ${rate(b)} rows/s`,
    `  edx-csvload of the collection:        ${o.toFixed(2)} s  ${rate(o)} rows/s`,
    `  edx-json2sql --rows | edx-csvload:    ${p.toFixed(2)} s  ${rate(p)} rows/s`,
    `  edx-csvload / mariadb client:         ${(b / o).toFixed(2)}  (target >= 0.9)`,
    `  pipe / edx-csvload load-only:         ${(o / p).toFixed(2)}  (target >= 0.8)`,
  ];
  process.stdout.write(out.join('\n') + '\n');
} finally {
  bench.drop(say);
  rmSync(dir, { recursive: true, force: true });
}
