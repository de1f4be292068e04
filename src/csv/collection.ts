// A CSV collection: per source (input log), one CSV file per table that has rows, plus a manifest
// `<base>.manifest.json` naming the source, its LoadInfo id, the quarters it needs, each file's row
// count and the LOAD statements that read it. `<base>` is derived from the input name only, so a
// re-run overwrites the same files.
//
// Crash safety: data files are written under temporary names (`.<name>.partial`) and renamed when
// the source ends; the manifest is removed before and written (temp + rename) after them. A
// collection is complete exactly when its manifest exists; the loader only reads manifests.
// The partial files hold personal data too (Account, EventIp): a signal removes them
// (io/interrupt.ts), and a rerun of the same log removes what a killed run left of it.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ALL_TABLES, TABLES, type TableName } from '../schema/tables.js';
import { databaseName, DEFAULT_DATABASES, type DatabaseNames, type TableDef } from '../schema/table.js';
import { isQuarter } from '../schema/quarters.js';
import type { Row, RowWriter, Source, SourceCounts } from '../schema/rows.js';
import { finish } from '../io/write.js';
import { readFailure } from '../io/input.js';
import { encodeRow, loadStatement, QuarterSet, DIALECT_CLAUSE, ROW_END } from './encode.js';
import { TextChunks } from '../io/text-chunks.js';
import { removeOnSignal } from '../io/interrupt.js';

export const MANIFEST_FORMAT = 'edx-pipes-collection/1';
export const MANIFEST_SUFFIX = '.manifest.json';

/** What the loader needs to load one source, from a manifest or from the row stream. */
export interface LoadableSource {
  source: Source;
  /**
   * One entry per table file; `rows` is what the file holds (checked against the server's count),
   * `crc32` the CRC-32 of its bytes as written (checked against the bytes sent; older manifests have none).
   */
  files: { table: TableDef; path: string; rows: number; crc32?: number }[];
  /** Quarters of its EdxTrackEvent rows (partitions to add before loading). */
  quarters: string[];
  /** Where it came from, for messages: the manifest path or `stdin`. */
  origin: string;
}

export interface Manifest {
  format: string;
  source: Source;
  dialect: string;
  quarters: string[];
  files: { table: TableName; database: string; file: string; rows: number; crc32?: number }[];
  /** Statements that load the files with the mysql/mariadb client, run from the manifest's directory. */
  load: string[];
}

/** `/logs/app1/tracking.log-20130609.gz` → `tracking.log-20130609.<first 8 of load_info_id>` */
export function collectionBase(source: Source): string {
  const raw = source.name === '-' ? 'stdin' : basename(source.name.replace(/[?#].*$/, '').replace(/\/+$/, '')) || 'source';
  const stem = raw.replace(/\.(gz|bz2|xz|json|log\.gz)$/i, '').replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  // The id part keeps two logs of the same base name (app1/…, app2/…) apart.
  return `${stem || 'source'}.${source.loadInfoId.slice(0, 8)}`;
}

const fileName = (base: string, t: TableDef) => `${base}.${t.name}.csv`;
const partialName = (base: string, t: TableDef) => `.${fileName(base, t)}.partial`;
const FLUSH_AT = 1 << 16;

interface OpenFile {
  table: TableDef;
  stream: WriteStream;
  tmp: string;
  /** Stop removing it at a signal (renamed or removed). */
  forget: () => void;
  rows: number;
  pending: TextChunks;
  /** The CRC-32 of the file's bytes, once all are appended. */
  crc32: number;
  error?: Error;
}

export class CsvCollectionWriter implements RowWriter {
  private readonly dir: string;
  private readonly names: DatabaseNames;
  private files = new Map<TableDef, OpenFile>();
  private quarters = new QuarterSet();
  private current?: Source;
  private ready?: Promise<void>;

  constructor(opts: { dir: string; names?: DatabaseNames }) {
    this.dir = opts.dir;
    this.names = opts.names ?? DEFAULT_DATABASES;
  }

  async startSource(source: Source): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true }).then(() => undefined);
    await this.ready;
    this.current = source;
    this.files = new Map();
    this.quarters = new QuarterSet();
    // What a killed run (SIGKILL) left of this source, also of tables it may not write this time.
    const base = collectionBase(source);
    await Promise.all(ALL_TABLES.map((t) => rm(join(this.dir, partialName(base, t)), { force: true })));
  }

  write(row: Row): Promise<void> | void {
    if (!this.current) throw new Error('CsvCollectionWriter: write() outside a source');
    let f = this.files.get(row.table);
    if (!f) {
      const tmp = join(this.dir, partialName(collectionBase(this.current), row.table));
      const forget = removeOnSignal(tmp);
      f = { table: row.table, stream: createWriteStream(tmp), tmp, forget, rows: 0, pending: new TextChunks(), crc32: 0 };
      f.pending.startChecksum();
      const opened = f;
      f.stream.on('error', (e) => (opened.error ??= e));
      this.files.set(row.table, f);
    }
    if (f.error) throw f.error;
    this.quarters.add(row.table, row.values);
    f.rows++;
    f.pending.append(encodeRow(row.table, row.values));
    f.pending.appendAscii(ROW_END);
    if (f.pending.bytes >= FLUSH_AT) return f.pending.writeTo(f.stream);
  }

  async endSource(source: Source, _counts: SourceCounts): Promise<void> {
    const base = collectionBase(source);
    const manifestPath = join(this.dir, base + MANIFEST_SUFFIX);
    const written = ALL_TABLES.map((t) => this.files.get(t)).filter((f): f is OpenFile => !!f);
    for (const f of written) {
      f.crc32 = f.pending.endChecksum();
      await f.pending.writeTo(f.stream);
      await finish(f.stream);
      if (f.error) throw f.error;
    }
    // The old manifest goes first: between here and the new one, the collection is incomplete.
    await rm(manifestPath, { force: true });
    for (const f of written) {
      await rename(f.tmp, join(this.dir, fileName(base, f.table)));
      f.forget();
    }
    for (const t of ALL_TABLES) {
      if (!this.files.has(t)) await rm(join(this.dir, fileName(base, t)), { force: true });
    }
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      source: { name: source.name, loadFile: source.loadFile, loadInfoId: source.loadInfoId },
      dialect: DIALECT_CLAUSE,
      quarters: this.quarters.list(),
      files: written.map((f) => ({
        table: f.table.name as TableName, // rows are of the warehouse's tables
        database: databaseName(this.names, f.table.database),
        file: fileName(base, f.table),
        rows: f.rows,
        crc32: f.crc32,
      })),
      load: written.map((f) => loadStatement(f.table, fileName(base, f.table), this.names) + ';'),
    };
    const tmp = join(this.dir, `.${base}${MANIFEST_SUFFIX}.partial`);
    await writeFile(tmp, JSON.stringify(manifest, null, 2) + '\n');
    await rename(tmp, manifestPath);
    this.current = undefined;
    this.files = new Map();
  }

  async close(): Promise<void> {
    // A source that never ended (the transform failed) leaves only its .partial files: remove them.
    for (const f of this.files.values()) {
      f.stream.destroy();
      await rm(f.tmp, { force: true });
      f.forget();
    }
    this.files = new Map();
  }
}

/** Read and check one manifest. */
export async function readManifest(path: string): Promise<LoadableSource> {
  let m: Manifest;
  try {
    m = JSON.parse(await readFile(path, 'utf8')) as Manifest;
  } catch (e) {
    // JSON.parse quotes the text it choked on, line breaks and all: the reason is kept to one line.
    const reason = e instanceof SyntaxError ? 'not valid JSON' : readFailure(e);
    throw new Error(`${path}: not a readable manifest (${reason})`);
  }
  const bad = (what: string) => new Error(`${path}: ${what}`);
  if (m.format !== MANIFEST_FORMAT) throw bad(`unknown manifest format ${JSON.stringify(m.format)}`);
  const s = m.source;
  if (!s || typeof s.loadFile !== 'string' || !/^[0-9a-f]{40}$/.test(s.loadInfoId ?? '')) throw bad('source is missing or has no valid loadInfoId');
  if (!Array.isArray(m.quarters) || !m.quarters.every(isQuarter)) throw bad('quarters must be a list of quarter names');
  const dir = dirname(resolve(path));
  const files = (m.files ?? []).map((f) => {
    const table = TABLES[f.table];
    if (!table) throw bad(`unknown table ${JSON.stringify(f.table)}`);
    if (!Number.isInteger(f.rows) || f.rows < 0) throw bad(`row count of ${f.file} is not a count`);
    if (typeof f.file !== 'string' || f.file.includes('/') || f.file.startsWith('.')) throw bad(`file name ${JSON.stringify(f.file)} is not a plain name`);
    if (f.crc32 !== undefined && !(Number.isInteger(f.crc32) && f.crc32 >= 0 && f.crc32 < 2 ** 32)) throw bad(`crc32 of ${f.file} is not a CRC-32`);
    return { table, path: join(dir, f.file), rows: f.rows, crc32: f.crc32 };
  });
  return { source: { name: s.name, loadFile: s.loadFile, loadInfoId: s.loadInfoId }, files, quarters: m.quarters, origin: path };
}

/** Manifests named by the arguments: a manifest file, or every manifest in a directory (sorted). */
export async function findManifests(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const st = await stat(p).catch(() => undefined);
    if (!st) throw new Error(`${p}: no such file or directory`);
    if (st.isDirectory()) {
      const names = (await readdir(p)).filter((n) => n.endsWith(MANIFEST_SUFFIX) && !n.startsWith('.')).sort();
      if (!names.length) throw new Error(`${p}: no *${MANIFEST_SUFFIX} in this directory (not a CSV collection, or the transform did not finish)`);
      out.push(...names.map((n) => join(p, n)));
    } else {
      out.push(p);
    }
  }
  return out;
}
