// Shared by the csvload/csv/routines tests: rows built from the schema (not from the transform),
// throwaway warehouses, and running bin/edx-csvload against the test server.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { REPO } from './helpers/tools.js';
import { TABLES } from '../src/schema/tables.js';
import { emptyRow, columnIndex, type TableDef, type DatabaseNames, type Value } from '../src/schema/table.js';
import { fitRow, newFitCounters } from '../src/schema/fit.js';
import { quarterOf } from '../src/schema/quarters.js';
import type { Row, RowWriter, Source } from '../src/schema/rows.js';
import { RowStreamWriter } from '../src/csv/rowstream-writer.js';
import { sourceLockName } from '../src/mysql/load.js';
import type { Connection } from 'mysql2/promise';
import { testServer, testConnection, uniqueName } from './helpers/mariadb.js';
import { runTool, spawnTool } from './helpers/tools.js';

export const ROOT = REPO + '/';
export const CSVLOAD = `${ROOT}bin/edx-csvload`;

const hex = (s: string) => createHash('sha1').update(s).digest('hex');

export function makeSource(name: string): Source {
  const loadFile = `file://${name}`;
  return { name, loadFile, loadInfoId: hex(loadFile) };
}

/** A 36-character id with '_' like the transform's (derived, so overlapping sources share them). */
export const idOf = (key: string) => {
  const h = hex(key);
  return `${h.slice(0, 8)}_${h.slice(8, 12)}_${h.slice(12, 16)}_${h.slice(16, 20)}_${h.slice(20, 32)}`;
};

function row(table: TableDef, set: Record<string, Value>): Row {
  const values = emptyRow(table);
  const idx = columnIndex(table);
  for (const [k, v] of Object.entries(set)) {
    if (!(k in idx)) throw new Error(`${table.name} has no column ${k}`);
    values[idx[k]] = v;
  }
  return { table, values: fitRow(table, values, newFitCounters()) };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
export const sqlTime = (d: Date) =>
  `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}000`;

/** Text that exercises every escape of the CSV dialect. */
export const NASTY = [
  'plain',
  '',
  'quote " and \'single\'',
  'back\\slash at end\\',
  'new\nline and\r\nCRLF',
  'tab\there',
  'nul\0byte and ctrl-z \x1a',
  '\\N',
  'NULL',
  ',comma,',
  'emoji 😀 and ümlaut',
];

export interface EventsOptions {
  /** Key of event i is `${idSpace}:${i}`; two sources with the same idSpace overlap where i does. */
  idSpace?: string;
  from?: number;
  count: number;
  start?: Date;
  stepMs?: number;
}

/** count events: EdxTrackEvent + EventIp for each, an Answer for every 5th, a LoadInfo row. */
export function makeRows(source: Source, o: EventsOptions): Row[] {
  const out: Row[] = [];
  const space = o.idSpace ?? source.name;
  const start = (o.start ?? new Date('2013-06-09T00:00:00Z')).getTime();
  for (let i = o.from ?? 0; i < (o.from ?? 0) + o.count; i++) {
    const t = new Date(start + i * (o.stepMs ?? 1000));
    const id = idOf(`${space}:${i}`);
    const answer = i % 5 === 0 ? idOf(`${space}:${i}:answer`) : '';
    out.push(
      row(TABLES.EdxTrackEvent, {
        _id: id,
        event_id: idOf(`${space}:${i}:event`),
        event_type: i % 5 === 0 ? 'problem_check' : i % 3 === 0 ? 'play_video' : '/courseware',
        agent: NASTY[i % NASTY.length],
        time: sqlTime(t),
        quarter: quarterOf(t.getUTCFullYear(), t.getUTCMonth() + 1),
        anon_screen_name: hex(`user${i % 17}`),
        course_display_name: `Org/Course${i % 3}/Run`,
        downtime_for: i % 2 ? '0:00:01' : null,
        attempts: i % 4,
        video_current_time: i % 3 === 0 ? String(i) : '',
        answer_fk: answer,
        load_info_fk: source.loadInfoId,
      }),
      row(TABLES.EventIp, { event_table_id: id, event_ip: `10.0.${i % 256}.${i % 7}` }),
    );
    if (answer) out.push(row(TABLES.Answer, { answer_id: answer, problem_id: `p${i % 4}`, answer: `answer ${i} two words`, course_id: `Org/Course${i % 3}/Run` }));
  }
  out.push(row(TABLES.LoadInfo, { load_info_id: source.loadInfoId, load_date_time: null, load_file: source.loadFile }));
  return out;
}

/** Feed sources through a writer, as the transform does. */
export async function writeSources(w: RowWriter, sources: { source: Source; rows: Row[] }[]): Promise<void> {
  for (const { source, rows } of sources) {
    await w.startSource(source);
    const counts: Record<string, number> = {};
    for (const r of rows) {
      counts[r.table.name] = (counts[r.table.name] ?? 0) + 1;
      await w.write(r);
    }
    await w.endSource(source, { rows: counts });
  }
  await w.close();
}

/** The row stream of these sources, as edx-json2sql --rows writes it. */
export async function streamOf(sources: { source: Source; rows: Row[] }[]): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeSources(new RowStreamWriter(out), sources);
  return Buffer.concat(chunks);
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Start a bin/ tool with the test server's environment (stdin, stdout and stderr are pipes). */
export async function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildProcessWithoutNullStreams> {
  const s = await testServer();
  return spawnTool(cmd, args, { env: { ...s.env, ...env } }) as ChildProcessWithoutNullStreams;
}

/** A guard against a hanging tool, never a wait: a run the tests start takes seconds. */
export const HANG_GUARD_MS = 300_000;

/**
 * A started tool's end: its exit code or signal, and what it said on stderr (stdout is drained).
 * A tool still running after `timeoutMs` is killed (SIGKILL) and `timedOut` is set: a hang fails
 * the test's assertions instead of hanging the test.
 */
export function exited(p: ChildProcessWithoutNullStreams, timeoutMs = HANG_GUARD_MS): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; timedOut: boolean }> {
  let stderr = '';
  let timedOut = false;
  p.stderr.on('data', (d) => (stderr += d));
  p.stdout.resume();
  const timer = setTimeout(() => {
    timedOut = true;
    p.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolve) => p.on('close', (code, signal) => {
    clearTimeout(timer);
    resolve({ code, signal, stderr, timedOut });
  }));
}

/** Rows of a table (that match `where`). */
export async function count(db: string, table: string, where = '1'): Promise<number> {
  const c = await testConnection();
  const [r] = await c.query(`SELECT COUNT(*) AS n FROM \`${db}\`.\`${table}\` WHERE ${where}`);
  await c.end();
  return Number((r as { n: number }[])[0].n);
}

/**
 * The connection loading `source` into the warehouse right now, while its transaction holds rows:
 * the one holding the source's named lock (what every loader takes first), once a dirty read
 * (READ UNCOMMITTED, for the next statement only) sees EdxTrackEvent rows of the source. The
 * sources the tests load are new, so such rows are the open transaction's. Undefined while there is none.
 *
 * Not information_schema.INNODB_TRX: InnoDB refills that table's cache only after it has gone
 * 0.1 s unread, so a probe polling faster (or two test files polling at once) reads the same
 * stale rows for ever. That made the lost-connection and signal tests wait out their guard.
 */
export async function loadingConnection(c: Connection, names: DatabaseNames, source: Source): Promise<number | undefined> {
  const [lock] = await c.query('SELECT IS_USED_LOCK(?) AS id', [sourceLockName(names, source.loadInfoId)]);
  const id = (lock as { id: number | null }[])[0].id;
  if (id === null) return undefined;
  await c.query('SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED');
  const [rows] = await c.query(`SELECT 1 FROM \`${names.Edx}\`.EdxTrackEvent WHERE load_info_fk = ? LIMIT 1`, [source.loadInfoId]);
  return (rows as unknown[]).length > 0 ? Number(id) : undefined;
}

/** The LoadInfo ids a warehouse records. */
export async function loadInfoIds(db: string): Promise<string[]> {
  const c = await testConnection();
  const [r] = await c.query(`SELECT load_info_id AS id FROM \`${db}\`.LoadInfo ORDER BY load_info_id`);
  await c.end();
  return (r as { id: string }[]).map((x) => x.id);
}

/** Run a tool with the test server's environment; `input` is piped to stdin. */
export async function run(cmd: string, args: string[], opts: { input?: Buffer | string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const s = await testServer();
  const r = await runTool(cmd, args, { input: opts.input, env: { ...s.env, ...opts.env }, timeoutMs: HANG_GUARD_MS });
  return { code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** A throwaway warehouse (unique database names); `drop()` removes it. */
export async function throwawayWarehouse(prefix: string): Promise<{ names: DatabaseNames; args: string[]; drop: () => Promise<void> }> {
  const names = { Edx: uniqueName(`${prefix}_edx`), EdxPrivate: uniqueName(`${prefix}_priv`) };
  return {
    names,
    args: ['--edx-db', names.Edx, '--private-db', names.EdxPrivate],
    drop: async () => {
      const c = await testConnection();
      await c.query(`DROP DATABASE IF EXISTS \`${names.Edx}\``);
      await c.query(`DROP DATABASE IF EXISTS \`${names.EdxPrivate}\``);
      await c.end();
    },
  };
}

/** Row count and an order-independent checksum of a table's content. */
export async function tableDigest(db: string, table: TableDef): Promise<{ rows: number; sum: string }> {
  const c = await testConnection();
  const cols = table.columns.map((col) => `COALESCE(\`${col.name}\`, '<null>')`).join(', ');
  const [r] = await c.query(`SELECT COUNT(*) AS n, COALESCE(SUM(CRC32(CONCAT_WS('|', ${cols}))), 0) AS s FROM \`${db}\`.\`${table.name}\``);
  await c.end();
  const first = (r as { n: number; s: string }[])[0];
  return { rows: Number(first.n), sum: String(first.s) };
}
