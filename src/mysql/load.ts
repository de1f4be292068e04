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
import { crc32 } from 'node:zlib';
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { ensureQuarterPartition } from '../schema/ddl.js';
import { partitionName } from '../schema/quarters.js';
import { EdxTrackEvent, LoadInfo, qualifiedName, type DatabaseNames, type TableDef } from '../schema/tables.js';
import { loadStatement } from '../csv/encode.js';
import type { LoadableSource } from '../csv/collection.js';
import { StreamFormatError, type Segment, type SourceEvent, type StreamedSource } from '../csv/stream.js';
import type { Source } from '../schema/rows.js';

export class LoadError extends Error {}

const SEASONS = ['winter', 'spring', 'summer', 'fall'] as const;

/** A quarter and the quarters just before and after it (`fall2013` → winter2014 follows). */
export function withNeighbours(quarter: string): string[] {
  const m = /^(winter|spring|summer|fall)(\d{4})$/.exec(quarter);
  if (!m) return [quarter];
  const index = Number(m[2]) * 4 + SEASONS.indexOf(m[1] as (typeof SEASONS)[number]);
  const at = (i: number) => `${SEASONS[i % 4]}${Math.floor(i / 4)}`;
  return [at(index - 1), quarter, at(index + 1)];
}

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

/**
 * Counts rows ('\n') of the bytes passing through, for progress, and sums their CRC-32 (what the
 * server read, to compare with what the transform wrote); passes Buffers on unchanged.
 */
class LineCounter extends Transform {
  crc32 = 0;
  constructor(private readonly onLines: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let n = 0;
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) n++;
    this.onLines(n);
    this.crc32 = crc32(chunk, this.crc32);
    cb(null, chunk);
  }
}

/** `Records: 3  Deleted: 0  Skipped: 0  Warnings: 0` → numbers. */
export function loadInfo(info: string): { records: number; skipped: number; warnings: number } {
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
    try {
      const [rows] = await this.conn!.query<RowDataPacket[]>(
        `SELECT 1 FROM ${qualifiedName(LoadInfo, this.opts.names)} WHERE load_info_id = ?`,
        [loadInfoId],
      );
      return rows.length > 0;
    } catch (e) {
      if ((e as { code?: string }).code !== 'ER_NO_SUCH_TABLE' && (e as { code?: string }).code !== 'ER_BAD_DB_ERROR') throw e;
      // A warehouse that does not exist yet has loaded nothing; a load then needs --init first.
      if (this.opts.dryRun) return false;
      throw new LoadError(`${qualifiedName(LoadInfo, this.opts.names)} does not exist: create the warehouse first with edx-csvload --init`);
    }
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

  /** A source's line in the report (failed until it succeeds), and the progress line's current source. */
  private startReport(src: { source: { name: string }; origin: SourceReport['origin'] }): SourceReport {
    const rep: SourceReport = { name: src.source.name, origin: src.origin, outcome: 'failed', rows: 0, seconds: 0 };
    this.report.sources.push(rep);
    if (this.opts.progress) this.opts.progress.current = src.source.name;
    return rep;
  }

  private finishReport(rep: SourceReport, startedMs: number): void {
    rep.seconds = (Date.now() - startedMs) / 1000;
    const progress = this.opts.progress;
    if (progress) {
      progress.sourcesDone++;
      progress.current = '';
    }
  }

  /** Load one source; records the outcome in the report. Never throws for a failed source. */
  async load(src: LoadableSource): Promise<SourceReport> {
    const t0 = Date.now();
    const rows = src.files.filter((f) => f.table !== LoadInfo).reduce((a, f) => a + f.rows, 0);
    const rep = this.startReport(src);
    try {
      if (this.opts.dryRun) {
        const perTable = src.files.filter((f) => f.table !== LoadInfo).map((f): [string, number] => [f.table.name, f.rows]);
        return await this.dryRun(rep, src.source.loadInfoId, perTable, src.quarters);
      }
      await this.withSourceLock(src.source.loadInfoId, async () => {
        if (!this.opts.force && (await this.isLoaded(src.source.loadInfoId))) {
          rep.outcome = 'skipped';
          rep.message = alreadyLoaded(src.source.loadFile);
          return;
        }
        const added = await this.ensurePartitions(src.quarters);
        if (added.length) rep.message = `added partitions ${added.join(', ')}`;
        const loadedPerTable = await this.transaction(src);
        for (const [t, n] of loadedPerTable) this.report.tables.set(t, (this.report.tables.get(t) ?? 0) + n);
        rep.outcome = 'loaded';
        rep.rows = rows;
      });
    } catch (e) {
      rep.outcome = 'failed';
      rep.message = (e as Error).message;
    } finally {
      this.finishReport(rep, t0);
    }
    return rep;
  }

  private async transaction(src: LoadableSource): Promise<Map<string, number>> {
    const conn = this.conn!;
    const per = new Map<string, number>();
    await conn.query('START TRANSACTION');
    try {
      for (const f of src.files) {
        if (f.table === LoadInfo) continue; // recorded below, with the time of this load
        await this.loadFile(f.table, f.path, f.rows, f.crc32);
        per.set(f.table.name, (per.get(f.table.name) ?? 0) + f.rows);
      }
      await this.recordAndCommit(src.source);
      per.set(LoadInfo.name, 1);
      return per;
    } catch (e) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  /**
   * LOAD DATA LOCAL INFILE of one file in the CSV dialect; the server must read `rows` rows,
   * without warnings, and (when the writer gave one) bytes of the CRC-32 the writer summed.
   */
  private async loadFile(table: TableDef, path: string, rows: number, expectedCrc32?: number): Promise<void> {
    const conn = this.conn!;
    const progress = this.opts.progress;
    const before = progress?.rows ?? 0;
    let res: ResultSetHeader;
    let read: LineCounter | undefined;
    try {
      [res] = await conn.query<ResultSetHeader>({
        sql: loadStatement(table, path, this.opts.names),
        infileStreamFactory: () => createReadStream(path).pipe((read = new LineCounter((n) => progress && (progress.rows += n)))),
      });
    } catch (e) {
      throw new LoadError(`${table.name}: ${(e as Error).message}`);
    }
    const info = loadInfo(res.info ?? '');
    if (res.warningStatus > 0 || info.warnings > 0 || info.skipped > 0) {
      const [warnings] = await conn.query<RowDataPacket[]>('SHOW WARNINGS LIMIT 5');
      const text = warnings.map((w) => `${w.Level} ${w.Code}: ${w.Message}`).join('; ');
      throw new LoadError(`${table.name}: ${res.warningStatus || info.warnings} warning(s), ${info.skipped || 0} skipped: ${text}`);
    }
    if (info.records !== rows) {
      throw new LoadError(`${table.name}: the server read ${info.records} rows, the file should hold ${rows}`);
    }
    // Counts catch lost lines, not a changed byte that still reads as CSV (a lost opening quote).
    if (expectedCrc32 !== undefined && read?.crc32 !== expectedCrc32) {
      throw new LoadError(`${table.name}: ${path} is not the file the transform wrote (CRC-32 ${read?.crc32}, the manifest's ${expectedCrc32})`);
    }
    if (progress) progress.rows = before + rows;
  }

  /** LoadInfo last: a source is recorded only together with all of its rows. Then COMMIT. */
  private async recordAndCommit(source: Source): Promise<void> {
    const conn = this.conn!;
    const [res] = await conn.query<ResultSetHeader>(
      `REPLACE INTO ${qualifiedName(LoadInfo, this.opts.names)} (load_info_id, load_date_time, load_file) VALUES (?, UTC_TIMESTAMP(6), ?)`,
      [source.loadInfoId, source.loadFile],
    );
    if (res.warningStatus > 0) throw new LoadError('LoadInfo: the server warned');
    await conn.query('COMMIT');
  }

  /**
   * Load a source of the row stream while it still arrives. The source's rows come as segments
   * (files of one table's rows, in stream order); each is loaded as soon as it is full, inside the
   * source's one transaction, so the database works while the writer is still writing.
   *
   * Partitions: ADD PARTITION commits implicitly, so every partition the source needs must exist
   * before its transaction starts. The writer announces each quarter before its first row; the
   * transaction starts at the first segment, after adding the partitions of the quarters seen by
   * then and of their neighbouring quarters (a daily log spans one or two adjacent quarters). When
   * a quarter without a partition turns up later (a client with a broken clock), the transaction is
   * rolled back, the partition added, and the segments loaded so far are loaded again from the
   * spool; then loading goes on. Streams that do not announce quarters load at their end line.
   */
  async loadStream(src: StreamedSource): Promise<SourceReport> {
    const t0 = Date.now();
    const rep = this.startReport(src);
    try {
      if (this.opts.dryRun) {
        const end = await this.untilEnd(src);
        const perTable = Object.entries(end.rows).filter(([t]) => t !== LoadInfo.name);
        return await this.dryRun(rep, src.source.loadInfoId, perTable, end.quarters);
      }
      await this.withSourceLock(src.source.loadInfoId, async () => {
        if (!this.opts.force && (await this.isLoaded(src.source.loadInfoId))) {
          src.stopSpooling();
          await this.untilEnd(src);
          rep.outcome = 'skipped';
          rep.message = alreadyLoaded(src.source.loadFile);
          return;
        }
        const loaded = src.announcesQuarters ? await this.streamingTransaction(src, rep) : await this.transactionAtEnd(src, rep);
        for (const [t, n] of loaded) this.report.tables.set(t, (this.report.tables.get(t) ?? 0) + n);
        rep.outcome = 'loaded';
      });
    } catch (e) {
      rep.outcome = 'failed';
      rep.message = e instanceof StreamFormatError ? 'the row stream broke inside this source' : (e as Error).message;
    } finally {
      // Whatever happened, read the source to its end (or break) so that the reader moves on.
      src.stopSpooling();
      await this.untilEnd(src).catch(() => undefined);
      await src.cleanup();
      this.finishReport(rep, t0);
    }
    return rep;
  }

  /** What a dry run says of a source: would it load or be skipped, its rows, the partitions it would add. */
  private async dryRun(rep: SourceReport, loadInfoId: string, perTable: [string, number][], quarters: string[]): Promise<SourceReport> {
    const loaded = this.conn ? await this.isLoaded(loadInfoId) : false;
    rep.outcome = loaded && !this.opts.force ? 'would skip' : 'would load';
    rep.rows = perTable.reduce((a, [, n]) => a + n, 0);
    const parts = this.conn ? await this.knownPartitions() : new Set<string>();
    const missing = [...new Set(quarters.map(partitionName))].filter((p) => !parts.has(p));
    rep.message =
      rep.outcome === 'would skip'
        ? 'already in LoadInfo'
        : perTable.map(([t, n]) => `${t} ${fmt(n)}`).join(', ') + (missing.length && this.conn ? `; would add partitions ${missing.join(', ')}` : '');
    return rep;
  }

  /** Run `fn` holding the source's named lock, so that two loaders never interleave on one source. */
  private async withSourceLock(loadInfoId: string, fn: () => Promise<void>): Promise<void> {
    const conn = this.conn!;
    const lock = this.lockName(loadInfoId);
    const [got] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, 3600) AS ok', [lock]);
    if (Number(got[0]?.ok) !== 1) throw new LoadError('another loader holds this source for more than an hour');
    try {
      await fn();
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => undefined);
    }
  }

  /** Consume a source's remaining events (releasing segments); its end, or the stream's error. */
  private async untilEnd(src: StreamedSource): Promise<Extract<SourceEvent, { kind: 'end' }>> {
    let end: Extract<SourceEvent, { kind: 'end' }> | undefined;
    for await (const ev of src.events) {
      if (ev.kind === 'segment') src.release(ev.segment);
      else if (ev.kind === 'end') end = ev;
    }
    if (!end) throw new LoadError('the source has already been read');
    return end;
  }

  private async streamingTransaction(src: StreamedSource, rep: SourceReport): Promise<Map<string, number>> {
    const conn = this.conn!;
    const quarters = new Set<string>();
    const loaded: Segment[] = [];
    let per = new Map<string, number>();
    const notes: string[] = [];
    let open = false;
    /** Rows whose LOAD began before the reader had the source's end line. */
    let streamedRows = 0;

    const begin = async (needed: Iterable<string>) => {
      const added = await this.ensurePartitions([...needed].flatMap(withNeighbours));
      if (added.length) notes.push(`added partitions ${added.join(', ')}`);
      await conn.query('START TRANSACTION');
      open = true;
    };
    const load = async (seg: Segment) => {
      await this.loadFile(seg.table, seg.path, seg.rows);
      per.set(seg.table.name, (per.get(seg.table.name) ?? 0) + seg.rows);
    };
    /** Quarters whose partition is missing: start over (see loadStream). */
    const restartFor = async (missing: string[]) => {
      await conn.query('ROLLBACK');
      open = false;
      per = new Map();
      const added = await this.ensurePartitions(missing);
      await conn.query('START TRANSACTION');
      open = true;
      const again = loaded.filter((s) => s.table !== LoadInfo).reduce((a, s) => a + s.rows, 0);
      notes.push(`quarter ${missing.join(', ')} arrived mid-load: rolled back, added partitions ${added.join(', ')}, reloaded ${fmt(again)} rows`);
      for (const seg of loaded) await load(seg);
    };
    const missingOf = async (qs: Iterable<string>) => {
      const known = await this.knownPartitions();
      return [...qs].filter((q) => !known.has(partitionName(q)));
    };

    try {
      for await (const ev of src.events) {
        if (ev.kind === 'quarter') {
          quarters.add(ev.quarter);
          if (open && (await missingOf([ev.quarter])).length) await restartFor([ev.quarter]);
        } else if (ev.kind === 'segment') {
          if (!open) await begin(quarters);
          if (ev.segment.table !== LoadInfo) {
            if (!src.ended) streamedRows += ev.segment.rows;
            await load(ev.segment);
          }
          loaded.push(ev.segment);
          src.release(ev.segment);
        } else {
          // The end line: every segment has come. Quarters the writer did not announce get their partitions too.
          const total = Object.entries(ev.rows).filter(([t]) => t !== LoadInfo.name).reduce((a, [, n]) => a + n, 0);
          if (!open) await begin([...quarters, ...ev.quarters]);
          const missing = await missingOf(ev.quarters);
          if (missing.length) await restartFor(missing);
          await this.recordAndCommit(src.source);
          open = false;
          per.set(LoadInfo.name, 1);
          rep.rows = total;
          notes.push(`${fmt(streamedRows)} of ${fmt(total)} rows loaded while the source streamed`);
          rep.message = notes.join('; ');
          return per;
        }
      }
      throw new LoadError('the row stream ended inside this source');
    } catch (e) {
      if (open) await conn.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  /** A stream without quarter announcements: its partitions are known at its end; load it then. */
  private async transactionAtEnd(src: StreamedSource, rep: SourceReport): Promise<Map<string, number>> {
    const segments: Segment[] = [];
    let end: Extract<SourceEvent, { kind: 'end' }> | undefined;
    for await (const ev of src.events) {
      if (ev.kind === 'segment') {
        segments.push(ev.segment);
        src.release(ev.segment); // stays on disk; nothing to hold the reader back for
      } else if (ev.kind === 'end') end = ev;
    }
    if (!end) throw new LoadError('the row stream ended inside this source');
    const added = await this.ensurePartitions(end.quarters);
    if (added.length) rep.message = `added partitions ${added.join(', ')}`;
    const rows = segments.filter((s) => s.table !== LoadInfo).reduce((a, s) => a + s.rows, 0);
    const per = await this.transaction({
      source: src.source,
      files: segments.map((s) => ({ table: s.table, path: s.path, rows: s.rows })),
      quarters: end.quarters,
      origin: src.origin,
    });
    rep.rows = rows;
    return per;
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

/**
 * Why a source is skipped. Stdin is known by its first line (transform/run.ts), so a log piped in
 * again after it grew is the same source: say how its new lines are loaded (issue 14 item 11).
 */
function alreadyLoaded(loadFile: string): string {
  return loadFile.startsWith('stdin:')
    ? 'already in LoadInfo (stdin is known by its first line: if the log has grown since, load the file by name, or again with --force; the rows already loaded are not duplicated)'
    : 'already in LoadInfo';
}
