#!/usr/bin/env node
// What makes InnoDB take edx-csvload's rows faster within its guarantees (docs/scale.md, "InnoDB
// settings"): the same collections loaded by the real loader (dist/mysql/load.js: one transaction
// per source, counts and warnings checked) in variants, interleaved, several repetitions:
//   base       the loader as it is (rows in file order: nearly by primary key, docs/decisions.md §11)
//   session    SET SESSION unique_checks = 0, foreign_key_checks = 0 first
//   sorted     every file sorted by its primary key first (exactly in key order)
//   batch10k   every file cut into LOAD DATA statements of 10,000 rows
// Each repetition starts from empty tables (partitions kept) and loads D sources one after the
// other: the first source goes into empty tables, the others into tables that hold rows (the
// steady state of a backfill), reported apart. Per variant: medians of wall time, the CPU time
// of the server thread serving the loader's connection (/proc, when the server runs here: less
// disturbed by the other load of a shared machine than wall time) and the loader's own CPU.
//
//   node bench/load-settings.mjs [--events N] [--days D] [--runs R]     (make bench-load-settings)
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { crc32 } from 'node:zlib';
import { pipeline } from 'node:stream/promises';

import { benchDatabases } from './mariadb-client.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const opt = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const EVENTS = opt('events', 40000);
const DAYS = opt('days', 4);
const RUNS = opt('runs', 5);
const say = (m) => process.stderr.write(`bench/load-settings: ${m}\n`);
const maker = join(resolve(ROOT, process.env.SHARED ?? '../shared'), 'bench', 'make-corpus.mjs');
if (!existsSync(maker)) {
  say(`${maker} is not there (set up ../shared); skipped`);
  process.exit(0);
}
const dist = (p) => import(pathToFileURL(join(ROOT, 'dist', p)).href);
const { connect } = await dist('mysql/connection.js');
const { Loader } = await dist('mysql/load.js');
const { readManifest } = await dist('csv/collection.js');

const bench = await benchDatabases(ROOT, 'bench_ls');
const { env, edx, priv, dbArgs, bin, client, settings } = bench;
const names = { Edx: edx, EdxPrivate: priv };
const dir = mkdtempSync(join(tmpdir(), 'bench-load-settings-'));

/** The mariadbd process of this machine, when the server runs here (for its threads' CPU time). */
function serverPid() {
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim().match(/^(mariadbd|mysqld)$/)) return p;
    } catch { /* gone */ }
  }
  return undefined;
}
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
/** utime + stime of a thread of the server, in seconds (NaN when it cannot be read). */
function threadCpu(pid, tid) {
  try {
    const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK;
  } catch {
    return NaN;
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n) => Math.round(n).toLocaleString('en-US');

/** A copy of collection `from` in `to` with each data file rewritten by `rewrite(path) → [{file, rows}]`. */
function rewriteCollection(from, to, rewrite) {
  mkdirSync(to, { recursive: true });
  for (const m of readdirSync(from).filter((f) => f.endsWith('.manifest.json'))) {
    const manifest = JSON.parse(readFileSync(join(from, m), 'utf8'));
    const files = [];
    for (const f of manifest.files) {
      for (const part of rewrite(join(from, f.file), join(to, f.file), f.table)) {
        files.push({ ...f, file: part.file, rows: part.rows, crc32: crc32(readFileSync(join(to, part.file))) });
      }
    }
    writeFileSync(join(to, m), JSON.stringify({ ...manifest, files }, null, 2));
  }
}
const lines = (path) => { const t = readFileSync(path, 'utf8'); return t ? t.slice(0, -1).split('\n') : []; };

try {
  // D days of logs, transformed once into one directory of collections.
  const logs = [];
  for (let d = 0; d < DAYS; d++) {
    const file = join(dir, `tracking.log-201403${String(d + 1).padStart(2, '0')}`);
    const gen = spawn(process.execPath, [maker, '--events', String(Math.ceil(EVENTS / DAYS)), '--seed', String(7 + d)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await pipeline(gen.stdout, createWriteStream(file));
    logs.push(file);
  }
  const base = join(dir, 'base');
  const t = spawnSync(bin('edx-json2sql'), ['--quiet', '--csv', base, ...dbArgs, ...logs], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (t.status !== 0) throw new Error('edx-json2sql failed');
  for (const l of logs) rmSync(l);

  // The variants' collections: sorted by primary key (the key is each file's first column, a
  // fixed-width id, so a byte-wise sort of the lines is a sort by key), or cut in 10,000 rows.
  const sorted = join(dir, 'sorted');
  rewriteCollection(base, sorted, (src, dst) => {
    const r = spawnSync('sort', ['-o', dst, src], { env: { ...env, LC_ALL: 'C' } });
    if (r.status !== 0) throw new Error(`sort ${src}: ${r.stderr}`);
    return [{ file: dst.split('/').pop(), rows: lines(dst).length }];
  });
  const batched = join(dir, 'batch10k');
  rewriteCollection(base, batched, (src, dst) => {
    const all = lines(src);
    const parts = [];
    for (let i = 0; i * 10000 < Math.max(all.length, 1); i++) {
      const chunk = all.slice(i * 10000, (i + 1) * 10000);
      const file = `${dst.split('/').pop()}.${String(i).padStart(3, '0')}`;
      writeFileSync(join(dirname(dst), file), chunk.length ? chunk.join('\n') + '\n' : '');
      parts.push({ file, rows: chunk.length });
    }
    return parts;
  });
  const manifestsOf = (d) => readdirSync(d).filter((f) => f.endsWith('.manifest.json')).sort().map((f) => join(d, f));
  const rows = manifestsOf(base).reduce((a, m) => a + JSON.parse(readFileSync(m, 'utf8')).files.filter((f) => f.table !== 'LoadInfo').reduce((b, f) => b + f.rows, 0), 0);
  say(`${DAYS} sources, ${fmt(EVENTS)} generated events, ${fmt(rows)} rows`);

  spawnSync(bin('edx-csvload'), ['--quiet', '--init', ...dbArgs], { env, stdio: 'inherit' });
  // One load first, so that every quarter partition exists for all timed runs alike.
  spawnSync(bin('edx-csvload'), ['--quiet', ...dbArgs, base], { env, stdio: 'inherit' });
  const tables = client(['-N', '-e', `SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('${edx}', '${priv}') AND TABLE_TYPE = 'BASE TABLE'`])
    .split('\n').filter(Boolean);
  const empty = () => client(['-e', tables.map((x) => `TRUNCATE TABLE ${x};`).join(' ')]);
  const pid = serverPid();
  if (!pid) say('the server does not run on this machine: no server CPU times');

  const variants = {
    base: { dir: base },
    session: { dir: base, session: 'SET SESSION unique_checks = 0, foreign_key_checks = 0' },
    sorted: { dir: sorted },
    batch10k: { dir: batched },
  };
  const results = Object.fromEntries(Object.keys(variants).map((v) => [v, { first: [], rest: [], firstCpu: [], restCpu: [], client: [], total: [] }]));
  const order = Object.keys(variants);
  for (let run = 1; run <= RUNS; run++) {
    // Interleaved, and rotated so that no variant always follows the same one.
    const turn = order.map((_, i) => order[(i + run) % order.length]);
    for (const name of turn) {
      const v = variants[name];
      empty();
      const conn = await connect(settings, { flags: ['+LOCAL_FILES'] });
      const [[{ tid }]] = await conn.query('SELECT TID AS tid FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()');
      const loader = new Loader(conn, { names });
      await loader.prepare();
      if (v.session) await conn.query(v.session);
      const per = [];
      const c0 = process.cpuUsage();
      for (const m of manifestsOf(v.dir)) {
        const cpu0 = threadCpu(pid, tid);
        const t0 = process.hrtime.bigint();
        const rep = await loader.load(await readManifest(m));
        if (rep.outcome !== 'loaded') throw new Error(`${name}: ${rep.name}: ${rep.outcome}: ${rep.message}`);
        per.push({ wall: Number(process.hrtime.bigint() - t0) / 1e9, cpu: threadCpu(pid, tid) - cpu0 });
      }
      const cu = process.cpuUsage(c0);
      await conn.end();
      const r = results[name];
      r.first.push(per[0].wall);
      r.firstCpu.push(per[0].cpu);
      r.rest.push(per.slice(1).reduce((a, p) => a + p.wall, 0));
      r.restCpu.push(per.slice(1).reduce((a, p) => a + p.cpu, 0));
      r.total.push(per.reduce((a, p) => a + p.wall, 0));
      r.client.push((cu.user + cu.system) / 1e6);
      say(`run ${run}: ${name}: ${per.map((p) => `${p.wall.toFixed(2)} s/${p.cpu.toFixed(2)} CPU-s`).join(', ')}`);
    }
  }
  const b = Object.fromEntries(Object.entries(results.base).map(([k, xs]) => [k, median(xs)]));
  const restRows = rows * (DAYS - 1) / DAYS;
  const out = [
    `load settings benchmark: ${DAYS} sources, ${fmt(rows)} rows; medians of ${RUNS} interleaved runs (wall s / server-thread CPU-s; ratio to base, < 1 is faster)`,
    `  variant    first source (empty tables)      later sources (tables with rows)   whole load   loader CPU`,
  ];
  for (const [name, r] of Object.entries(results)) {
    const m = Object.fromEntries(Object.entries(r).map(([k, xs]) => [k, median(xs)]));
    const ratio = (k) => (name === 'base' ? '     ' : `${(m[k] / b[k]).toFixed(2)}x`);
    out.push(`  ${name.padEnd(9)}  ${m.first.toFixed(2).padStart(6)} s ${ratio('first')} ${m.firstCpu.toFixed(2).padStart(6)} CPU-s ${ratio('firstCpu')}` +
      `   ${m.rest.toFixed(2).padStart(6)} s ${ratio('rest')} ${m.restCpu.toFixed(2).padStart(6)} CPU-s ${ratio('restCpu')}` +
      `   ${fmt(rows / m.total).padStart(7)} rows/s   ${m.client.toFixed(2)} CPU-s`);
  }
  out.push(`  (later sources: ${fmt(restRows)} rows; ${fmt(restRows / b.rest)} rows/s for base)`);
  process.stdout.write(out.join('\n') + '\n');
} finally {
  bench.drop(say);
  rmSync(dir, { recursive: true, force: true });
}
