#!/usr/bin/env node
// A multi-day backfill from gzipped logs to loaded rows (docs/scale.md), measured in one run on the
// same rows (this machine is shared and noisy: compare ratios):
//   - 1 shard, then the load; 2 shards at once, then the load with --jobs 2 (edx-shard, edx-csvload
//     --collections, as make shard / make load run them), in events/s;
//   - the mariadb client's own LOAD DATA LOCAL INFILE of the same CSV files on one connection (the
//     server's limit), against edx-csvload --jobs 1 and --jobs 2 of the same collections;
//   - the transform's CPU-seconds per million events, and the peak memory of every process.
//
//   node bench/backfill.mjs [--events N] [--days D] [--runs R]     (make bench-backfill)
//
// The logs are made with ../shared/bench/make-corpus.mjs (N events in all, D days, a seed per day).
// Connection: as the tools (MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_USER, MYSQL_PWD or ~/.my.cnf); the
// benchmark creates and drops its own databases and removes its files.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip, gzipSync } from 'node:zlib';
import { pipeline } from 'node:stream/promises';

import { benchDatabases } from './mariadb-client.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const opt = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const EVENTS = opt('events', 200000);
const DAYS = opt('days', 4);
const RUNS = opt('runs', 1);
const say = (m) => process.stderr.write(`bench/backfill: ${m}\n`);
const maker = join(resolve(ROOT, process.env.SHARED ?? '../shared'), 'bench', 'make-corpus.mjs');
if (!existsSync(maker)) {
  say(`${maker} is not there (set up ../shared); skipped`);
  process.exit(0);
}

const bench = await benchDatabases(ROOT, 'bench_bf');
const { env, edx, priv, dbArgs, bin, client } = bench;
const dir = mkdtempSync(join(tmpdir(), 'bench-backfill-'));
const mirror = join(dir, 'tracking');
const out = join(dir, 'CSV');
const kept = join(dir, 'CSV-kept');


/** Run commands at once under /usr/bin/time; wall seconds, and per command its peak RSS (MB) and CPU-s. */
async function timed(what, commands, opts = {}) {
  const t0 = process.hrtime.bigint();
  const results = await Promise.all(commands.map(([cmd, args]) => new Promise((done, fail) => {
    const child = spawn('/usr/bin/time', ['-f', '@@time %M %U %S', cmd, ...args], { env, cwd: opts.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', fail);
    child.on('close', (code) => {
      const m = /@@time (\d+) ([\d.]+) ([\d.]+)/.exec(err);
      if (code !== 0) return fail(new Error(`${cmd} ${args.join(' ')}: exit ${code}\n${err.slice(-2000)}`));
      done({ rssMb: m ? Number(m[1]) / 1024 : NaN, cpu: m ? Number(m[2]) + Number(m[3]) : NaN, err });
    });
  })));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  say(`${what}: ${seconds.toFixed(2)} s`);
  return { seconds, results };
}

const FEW = opt('files', 20);
const SMALL = opt('file-events', 500);

/**
 * Peak RSS (MB) of each tool over FEW and 4*FEW small gzipped logs (the lines of one generated
 * corpus, cut into logs of SMALL events, a day each): [label, few, many] per tool.
 */
async function memoryByFiles(empty, load) {
  const base = join(dir, 'memory');
  const all = join(base, 'corpus.log');
  mkdirSync(base, { recursive: true });
  const gen = spawn(process.execPath, [maker, '--events', String(4 * FEW * SMALL), '--seed', '11'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await pipeline(gen.stdout, createWriteStream(all));
  const lines = readFileSync(all, 'utf8').split('\n').filter(Boolean);
  rmSync(all);
  const logsOf = (count) => {
    const root = join(base, `mirror-${count}`);
    mkdirSync(join(root, 'app1'), { recursive: true });
    const files = [];
    for (let i = 0; i < count; i++) {
      const day = new Date(Date.UTC(2014, 0, 1 + i)).toISOString().slice(0, 10).replace(/-/g, '');
      const file = join(root, 'app1', `tracking.log-${day}.gz`);
      writeFileSync(file, gzipSync(lines.slice(i * SMALL, (i + 1) * SMALL).join('\n') + '\n'));
      files.push(file);
    }
    writeFileSync(join(root, 'manifest'), files.join('\n') + '\n');
    return { root, files, manifest: join(root, 'manifest') };
  };
  const sets = { few: logsOf(FEW), many: logsOf(4 * FEW) };
  const rss = { shard: {}, json2sql: {}, load1: {}, load2: {} };
  for (const [size, set] of Object.entries(sets)) {
    const csv = join(base, `csv-${size}`);
    const collections = join(base, `collections-${size}`);
    const n = set.files.length;
    rss.shard[size] = (await timed(`memory: edx-shard, ${n} logs`, [[bin('edx-shard'), [set.manifest, '--shard', '0/1', '--local-root', set.root, '--out', csv, ...dbArgs]]])).results[0].rssMb;
    rss.json2sql[size] = (await timed(`memory: edx-json2sql --csv, ${n} logs`, [[bin('edx-json2sql'), ['--quiet', '--csv', collections, ...dbArgs, ...set.files]]])).results[0].rssMb;
    for (const jobs of [1, 2]) {
      empty();
      rss[`load${jobs}`][size] = (await timed(`memory: edx-csvload --jobs ${jobs}, ${n} sources`, [load(jobs, [collections])])).results[0].rssMb;
    }
    rmSync(csv, { recursive: true, force: true });
    rmSync(collections, { recursive: true, force: true });
  }
  rmSync(base, { recursive: true, force: true });
  return [['edx-shard', rss.shard], ['edx-json2sql --csv', rss.json2sql], ['edx-csvload --jobs 1', rss.load1], ['edx-csvload --jobs 2', rss.load2]]
    .map(([label, r]) => [label, r.few, r.many]);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const peaks = new Map();
const peak = (tool, r) => peaks.set(tool, Math.max(peaks.get(tool) ?? 0, ...r.results.map((x) => x.rssMb)));

try {
  // The logs: D days of N/D events each, gzipped, in a mirror; the manifest lists their paths.
  mkdirSync(join(mirror, 'app1'), { recursive: true });
  const logs = [];
  for (let d = 0; d < DAYS; d++) {
    const file = join(mirror, 'app1', `tracking.log-201403${String(d + 1).padStart(2, '0')}.gz`);
    const gen = spawn(process.execPath, [maker, '--events', String(Math.ceil(EVENTS / DAYS)), '--seed', String(7 + d)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await pipeline(gen.stdout, createGzip(), createWriteStream(file));
    logs.push(file);
  }
  const manifest = join(dir, 'backfill.manifest');
  writeFileSync(manifest, logs.join('\n') + '\n');
  say(`${DAYS} days of gzipped logs, ${fmt(EVENTS)} events, in ${mirror}`);

  spawnSync(bin('edx-csvload'), ['--quiet', '--init', ...dbArgs], { env, stdio: 'inherit' });
  const tables = client(['-N', '-e', `SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('${edx}', '${priv}') AND TABLE_TYPE = 'BASE TABLE'`])
    .split('\n').filter(Boolean);
  const empty = () => client(['-e', tables.map((t) => `TRUNCATE TABLE ${t};`).join(' ')]);
  const shard = (i, n) => [bin('edx-shard'), [manifest, '--shard', `${i}/${n}`, '--local-root', mirror, '--out', out, ...dbArgs]];
  const load = (jobs, inputs) => [bin('edx-csvload'), ['--quiet', '--jobs', String(jobs), ...dbArgs, ...inputs]];

  const runs = { b1: [], b2: [], client: [], j1: [], j2: [], cpu: [] };
  let events = 0;
  let rows = 0;
  for (let run = 1; run <= RUNS; run++) {
    // 1 shard, then the load of its collections (kept aside first for the load-only runs).
    rmSync(out, { recursive: true, force: true });
    empty();
    const s1 = await timed(`run ${run}: 1 shard`, [shard(0, 1)]);
    peak('edx-shard', s1);
    runs.cpu.push(s1.results[0].cpu);
    events = Number(/\((\d+) events/.exec(s1.results[0].err)?.[1] ?? 0);
    rmSync(kept, { recursive: true, force: true });
    cpSync(out, kept, { recursive: true });
    const l1 = await timed(`run ${run}: load (--jobs 1)`, [load(1, ['--collections', out])]);
    peak('edx-csvload', l1);
    runs.b1.push(s1.seconds + l1.seconds);

    // 2 shards at once, then the load with --jobs 2.
    rmSync(out, { recursive: true, force: true });
    empty();
    const s2 = await timed(`run ${run}: 2 shards at once`, [shard(0, 2), shard(1, 2)]);
    peak('edx-shard', s2);
    const l2 = await timed(`run ${run}: load (--jobs 2)`, [load(2, ['--collections', out])]);
    peak('edx-csvload', l2);
    runs.b2.push(s2.seconds + l2.seconds);

    // Load only, the same rows: the mariadb client on one connection, edx-csvload --jobs 1 and 2.
    const collections = readdirSync(kept, { recursive: true }).map(String).filter((p) => p.endsWith('.manifest.json')).map((p) => join(kept, p));
    if (!rows) {
      rows = collections.reduce((a, m) => a + JSON.parse(readFileSync(m, 'utf8')).files.filter((f) => f.table !== 'LoadInfo').reduce((b, f) => b + f.rows, 0), 0);
    }
    empty();
    const t0 = process.hrtime.bigint();
    for (const m of collections) client(['-e', JSON.parse(readFileSync(m, 'utf8')).load.join('\n')], { cwd: dirname(m) });
    const c = Number(process.hrtime.bigint() - t0) / 1e9;
    say(`run ${run}: mariadb client LOAD DATA LOCAL INFILE: ${c.toFixed(2)} s`);
    runs.client.push(c);
    empty();
    runs.j1.push((await timed(`run ${run}: edx-csvload --jobs 1`, [load(1, collections)])).seconds);
    empty();
    runs.j2.push((await timed(`run ${run}: edx-csvload --jobs 2`, [load(2, collections)])).seconds);
  }
  // Peak memory in the number of files: the same small logs, FEW of them and 4x as many, through
  // edx-shard, edx-json2sql --csv (all files in one run) and edx-csvload (--jobs 1 and 2). A tool
  // that kept something per file would grow with the count; the ratios should stay near 1.
  const memory = await memoryByFiles(empty, load);
  const [b1, b2, c, j1, j2, cpu] = Object.values(runs).map(median);
  const perCore = events / cpu;
  const serverEvents = events / Math.min(c, j2);
  const lines = [
    `backfill benchmark: ${DAYS} days, ${fmt(events)} events, ${fmt(rows)} rows; ${RUNS === 1 ? 'one run' : `medians of ${RUNS} runs`}`,
    `  1 shard + load:                      ${b1.toFixed(2)} s  ${fmt(events / b1)} events/s`,
    `  2 shards at once + load --jobs 2:    ${b2.toFixed(2)} s  ${fmt(events / b2)} events/s  (${(b1 / b2).toFixed(2)}x 1 shard)`,
    `  mariadb client LOAD DATA (1 conn.):  ${c.toFixed(2)} s  ${fmt(rows / c)} rows/s  (load only)`,
    `  edx-csvload --jobs 1:                ${j1.toFixed(2)} s  ${fmt(rows / j1)} rows/s  (${(c / j1).toFixed(2)} of the client)`,
    `  edx-csvload --jobs 2:                ${j2.toFixed(2)} s  ${fmt(rows / j2)} rows/s  (${(c / j2).toFixed(2)} of the client, target >= 1.1; ${(j1 / j2).toFixed(2)}x --jobs 1)`,
    `  backfill, client load-only / whole:  1 shard ${(c / b1).toFixed(2)}, 2 shards ${(c / b2).toFixed(2)}  (target >= 0.9)`,
    `  transform CPU per million events:    ${(cpu / (events / 1e6)).toFixed(1)} CPU-s (edx-shard, pull-free, 1 shard)`,
    // What a cluster gets (docs/scale.md, "Where the time goes"): shards scale with cores, each
    // transforming at one core's rate, until they outrun the server, whose rate is the client's.
    `  one shard (one core) transforms:     ${fmt(perCore)} events/s`,
    `  the server takes:                    ${fmt(serverEvents)} events/s  (${(rows / events).toFixed(2)} rows per event; the faster of the client and edx-csvload --jobs 2)`,
    `  shards to reach the server's limit:  ${Math.ceil(serverEvents / perCore)} (on cores of their own; then load while they run: make load at intervals)`,
    `  peak memory:                         ${[...peaks].map(([t, mb]) => `${t} ${mb.toFixed(0)} MB`).join(', ')}`,
    `  peak memory, ${FEW} vs ${4 * FEW} files of ${fmt(SMALL)} events (ratio; flat is 1.00):`,
    ...memory.map(([tool, few, many]) => `    ${tool.padEnd(33)} ${few.toFixed(0).padStart(4)} MB  ${many.toFixed(0).padStart(4)} MB  ${(many / few).toFixed(2)}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
} finally {
  bench.drop(say);
  rmSync(dir, { recursive: true, force: true });
}
