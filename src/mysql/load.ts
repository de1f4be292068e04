// Loading sources (a collection's manifest, or a source of the row stream) into the warehouse.
//
// Per source, in this order:
//   1. a named lock for the source (two loaders of the same file never interleave);
//   2. skip it if LoadInfo already records it (unless --force);
//   3. add the quarter partitions its EdxTrackEvent rows need (DDL commits, so before the transaction);
//   4. one transaction: LOAD DATA LOCAL INFILE ... REPLACE of each table file, streamed by mysql2;
//      after each, the server's counts must match the file's and there must be no warning;
//   5. the LoadInfo row, last, in the same transaction, with load_date_time = now (UTC);
//   6. COMMIT. Anything else → ROLLBACK, and the source is reported failed and not recorded.
// A killed loader leaves an open transaction that the server rolls back when the connection drops.
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { ensureQuarterPartition } from '../schema/ddl.js';
import { partitionName } from '../schema/quarters.js';
import { EdxTrackEvent, LoadInfo, qualifiedName, type DatabaseNames } from '../schema/tables.js';
import { loadStatement } from '../csv/encode.js';
import type { LoadableSource } from '../csv/collection.js';

export class LoadError extends Error {}

export type Outcome = 'loaded' | 'skipped' | 'failed' | 'would load' | 'would skip';

export interface SourceReport {
  name: string;
  origin: string;
  outcome: Outcome;
  rows: number;
  seconds: number;
  message?: string;
}

export interface LoadReport {
  sources: SourceReport[];
  /** Rows loaded (committed) per table name. */
  tables: Map<string, number>;
  seconds: number;
}

/** Live counters for progress lines. */
export class Progress {
  rows = 0;
  sourcesDone = 0;
  sourcesTotal?: number;
  current = '';
  private readonly started = Date.now();
  private timer?: NodeJS.Timeout;
  private lastRows = 0;
  private lastAt = Date.now();

  constructor(private readonly say: (msg: string) => void, private readonly everyMs = 2000) {}

  start(): void {
    if (this.everyMs <= 0) return;
    this.timer = setInterval(() => this.tick(), this.everyMs);
    this.timer.unref();
  }

  private tick(): void {
    const now = Date.now();
    const rate = ((this.rows - this.lastRows) * 1000) / Math.max(1, now - this.lastAt);
    this.lastRows = this.rows;
    this.lastAt = now;
    const of = this.sourcesTotal !== undefined ? `/${this.sourcesTotal}` : '';
    this.say(
      `${fmt(this.rows)} rows, ${fmt(Math.round(rate))} rows/s, ${this.sourcesDone}${of} sources done, ` +
        `${((now - this.started) / 1000).toFixed(0)} s${this.current ? `; loading ${this.current}` : ''}`,
    );
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

export const fmt = (n: number) => n.toLocaleString('en-US');

/** Counts rows ('\n') of the bytes passing through, for progress; passes Buffers on unchanged. */
class LineCounter extends Transform {
  constructor(private readonly onLines: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let n = 0;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n++;
    this.onLines(n);
    cb(null, chunk);
  }
}

/** `Records: 3  Deleted: 0  Skipped: 0  Warnings: 0` → numbers. */
function loadInfo(info: string): { records: number; skipped: number; warnings: number } {
  const num = (k: string) => Number(new RegExp(`${k}:\\s*(\\d+)`).exec(info)?.[1] ?? NaN);
  return { records: num('Records'), skipped: num('Skipped'), warnings: num('Warnings') };
}

export interface LoaderOptions {
  names: DatabaseNames;
  force?: boolean;
  dryRun?: boolean;
  progress?: Progress;
}

export class Loader {
  private partitions?: Set<string>;
  readonly report: LoadReport = { sources: [], tables: new Map(), seconds: 0 };
  private readonly started = Date.now();

  constructor(private readonly conn: Connection | undefined, private readonly opts: LoaderOptions) {}

  /** Session settings for loading: UTC, backslash escapes on (the dialect relies on them). */
  async prepare(): Promise<void> {
    if (!this.conn) return;
    await this.conn.query("SET SESSION time_zone = '+00:00'");
    await this.conn.query("SET SESSION sql_mode = REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', '')");
  }

  private async isLoaded(loadInfoId: string): Promise<boolean> {
    const [rows] = await this.conn!.query<RowDataPacket[]>(
      `SELECT 1 FROM ${qualifiedName(LoadInfo, this.opts.names)} WHERE load_info_id = ?`,
      [loadInfoId],
    );
    return rows.length > 0;
  }

  private async knownPartitions(): Promise<Set<string>> {
    if (!this.partitions) {
      const [rows] = await this.conn!.query<RowDataPacket[]>(
        'SELECT PARTITION_NAME AS p FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
        [this.opts.names[EdxTrackEvent.database], EdxTrackEvent.name],
      );
      this.partitions = new Set(rows.map((r) => String(r.p)));
    }
    return this.partitions;
  }

  private async ensurePartitions(quarters: string[]): Promise<string[]> {
    const known = await this.knownPartitions();
    const added: string[] = [];
    for (const q of quarters) {
      const p = partitionName(q);
      if (known.has(p)) continue;
      for (const stmt of ensureQuarterPartition(EdxTrackEvent, q, this.opts.names).split(/;\n?/)) {
        if (stmt.trim()) await this.conn!.query(stmt);
      }
      known.add(p);
      added.push(p);
    }
    return added;
  }

  private lockName(loadInfoId: string): string {
    // GET_LOCK names are limited to 64 characters.
    return 'edx-pipes:' + createHash('sha1').update(`${this.opts.names.Edx}\0${loadInfoId}`).digest('hex');
  }

  /** Load one source; records the outcome in the report. Never throws for a failed source. */
  async load(src: LoadableSource): Promise<SourceReport> {
    const t0 = Date.now();
    const rows = src.files.filter((f) => f.table !== LoadInfo).reduce((a, f) => a + f.rows, 0);
    const rep: SourceReport = { name: src.source.name, origin: src.origin, outcome: 'failed', rows: 0, seconds: 0 };
    this.report.sources.push(rep);
    const progress = this.opts.progress;
    if (progress) progress.current = src.source.name;
    try {
      if (this.opts.dryRun) {
        const loaded = this.conn ? await this.isLoaded(src.source.loadInfoId) : false;
        rep.outcome = loaded && !this.opts.force ? 'would skip' : 'would load';
        rep.rows = rows;
        const parts = this.conn ? [...(await this.knownPartitions())] : [];
        const missing = [...new Set(src.quarters.map(partitionName))].filter((p) => !parts.includes(p));
        rep.message =
          rep.outcome === 'would skip'
            ? 'already in LoadInfo'
            : `${src.files.map((f) => `${f.table.name} ${fmt(f.rows)}`).join(', ')}` +
              (missing.length && this.conn ? `; would add partitions ${missing.join(', ')}` : '');
        return rep;
      }
      const conn = this.conn!;
      const lock = this.lockName(src.source.loadInfoId);
      const [got] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, 3600) AS ok', [lock]);
      if (Number(got[0]?.ok) !== 1) throw new LoadError('another loader holds this source for more than an hour');
      try {
        if (!this.opts.force && (await this.isLoaded(src.source.loadInfoId))) {
          rep.outcome = 'skipped';
          rep.message = 'already in LoadInfo';
          return rep;
        }
        const added = await this.ensurePartitions(src.quarters);
        if (added.length) rep.message = `added partitions ${added.join(', ')}`;
        const loadedPerTable = await this.transaction(src);
        for (const [t, n] of loadedPerTable) this.report.tables.set(t, (this.report.tables.get(t) ?? 0) + n);
        rep.outcome = 'loaded';
        rep.rows = rows;
      } finally {
        await conn.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => undefined);
      }
    } catch (e) {
      rep.outcome = 'failed';
      rep.message = (e as Error).message;
    } finally {
      rep.seconds = (Date.now() - t0) / 1000;
      if (progress) {
        progress.sourcesDone++;
        progress.current = '';
      }
    }
    return rep;
  }

  private async transaction(src: LoadableSource): Promise<Map<string, number>> {
    const conn = this.conn!;
    const per = new Map<string, number>();
    const progress = this.opts.progress;
    await conn.query('START TRANSACTION');
    try {
      for (const f of src.files) {
        if (f.table === LoadInfo) continue; // recorded below, with the time of this load
        const before = progress?.rows ?? 0;
        let res: ResultSetHeader;
        try {
          [res] = await conn.query<ResultSetHeader>({
            sql: loadStatement(f.table, f.path, this.opts.names),
            infileStreamFactory: () =>
              createReadStream(f.path).pipe(new LineCounter((n) => progress && (progress.rows += n))),
          });
        } catch (e) {
          throw new LoadError(`${f.table.name}: ${(e as Error).message}`);
        }
        const info = loadInfo(res.info ?? '');
        if (res.warningStatus > 0 || info.warnings > 0 || info.skipped > 0) {
          const [warnings] = await conn.query<RowDataPacket[]>('SHOW WARNINGS LIMIT 5');
          const text = warnings.map((w) => `${w.Level} ${w.Code}: ${w.Message}`).join('; ');
          throw new LoadError(`${f.table.name}: ${res.warningStatus || info.warnings} warning(s), ${info.skipped || 0} skipped: ${text}`);
        }
        if (info.records !== f.rows) {
          throw new LoadError(`${f.table.name}: the server read ${info.records} rows, the file should hold ${f.rows}`);
        }
        if (progress) progress.rows = before + f.rows;
        per.set(f.table.name, f.rows);
      }
      // LoadInfo last: a source is recorded only together with all of its rows.
      const [res] = await conn.query<ResultSetHeader>(
        `REPLACE INTO ${qualifiedName(LoadInfo, this.opts.names)} (load_info_id, load_date_time, load_file) VALUES (?, UTC_TIMESTAMP(6), ?)`,
        [src.source.loadInfoId, src.source.loadFile],
      );
      if (res.warningStatus > 0) throw new LoadError('LoadInfo: the server warned');
      await conn.query('COMMIT');
      per.set(LoadInfo.name, 1);
      return per;
    } catch (e) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  finish(): LoadReport {
    this.report.seconds = (Date.now() - this.started) / 1000;
    return this.report;
  }
}

/** The end-of-run summary: rows per table, outcome per source, time. */
export function formatSummary(r: LoadReport): string {
  const lines: string[] = [];
  const tables = [...r.tables.entries()];
  const total = tables.filter(([t]) => t !== LoadInfo.name).reduce((a, [, n]) => a + n, 0);
  if (tables.length) {
    const w = Math.max(...tables.map(([t]) => t.length), 5);
    lines.push(`${'table'.padEnd(w)}  rows loaded`);
    for (const [t, n] of tables) lines.push(`${t.padEnd(w)}  ${fmt(n).padStart(11)}`);
  }
  if (r.sources.length) {
    const w = Math.max(...r.sources.map((s) => s.name.length), 6);
    lines.push('', `${'source'.padEnd(w)}  ${'outcome'.padEnd(10)}  ${'rows'.padStart(11)}  ${'seconds'.padStart(8)}  note`);
    for (const s of r.sources) {
      lines.push(
        `${s.name.padEnd(w)}  ${s.outcome.padEnd(10)}  ${fmt(s.rows).padStart(11)}  ${s.seconds.toFixed(2).padStart(8)}  ${s.message ?? ''}`.trimEnd(),
      );
    }
  }
  const count = (o: Outcome) => r.sources.filter((s) => s.outcome === o).length;
  lines.push(
    '',
    `${count('loaded')} loaded, ${count('skipped')} skipped, ${count('failed')} failed` +
      (count('would load') + count('would skip') ? `; dry run: ${count('would load')} would load, ${count('would skip')} would skip` : '') +
      `; ${fmt(total)} rows in ${r.seconds.toFixed(2)} s` +
      (r.seconds > 0 && total ? ` (${fmt(Math.round(total / r.seconds))} rows/s)` : ''),
  );
  return lines.join('\n') + '\n';
}
