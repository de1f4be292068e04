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
// A signal or a lost connection stops the run between sources (session.ts).
import { createHash } from 'node:crypto';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { progressClock } from '../io/progress.js';
import { checkedQuery, loadFile } from './checked.js';
import { ensureQuarterPartition, qualifiedName } from '../schema/ddl.js';
import { partitionName, withNeighbours } from '../schema/quarters.js';
import { EdxTrackEvent, LoadInfo } from '../schema/tables.js';
import type { DatabaseNames } from '../schema/table.js';
import { loadStatement } from '../csv/encode.js';
import type { LoadableSource } from '../csv/collection.js';
import { StreamFormatError, type Segment, type SourceEvent } from '../csv/rowstream-format.js';
import type { StreamedSource } from '../csv/rowstream-reader.js';
import type { Source } from '../schema/rows.js';
import { COMMIT_LOST, SOURCE_LOST, connectionLost, type LoadReport, type LoadSession, type Outcome, type SourceReport } from './session.js';
import { noun } from '../core/plural.js';

export type { LoadReport, Outcome, SourceReport };

export class LoadError extends Error {}

/** Live counters, and a progress line when the one clock (io/progress.ts) says one is due. */
export class Progress {
  rows = 0;
  sourcesDone = 0;
  sourcesTotal?: number;
  current = '';
  private readonly started = Date.now();
  private readonly due: () => boolean;
  private lastRows = 0;
  private lastAt = Date.now();

  constructor(private readonly say: (msg: string) => void, everyMs = 2000) {
    this.due = everyMs > 0 ? progressClock(everyMs) : () => false;
  }

  /** Rows on their way to the server. */
  add(n: number): void {
    this.rows += n;
    if (this.due()) this.tell();
  }

  /** A source is done. */
  sourceDone(): void {
    this.sourcesDone++;
    this.current = '';
    if (this.due()) this.tell();
  }

  private tell(): void {
    const now = Date.now();
    const rate = ((this.rows - this.lastRows) * 1000) / Math.max(1, now - this.lastAt);
    this.lastRows = this.rows;
    this.lastAt = now;
    const of = this.sourcesTotal !== undefined ? `/${this.sourcesTotal}` : '';
    this.say(
      `${fmt(this.rows)} ${noun(this.rows, 'row')}, ${fmt(Math.round(rate))} rows/s, ${this.sourcesDone}${of} ${noun(this.sourcesTotal ?? this.sourcesDone, 'source')} done, ` +
        `${((now - this.started) / 1000).toFixed(0)} s${this.current ? `; loading ${this.current}` : ''}`,
    );
  }
}

export const fmt = (n: number) => n.toLocaleString('en-US');

export interface LoaderOptions {
  names: DatabaseNames;
  force?: boolean;
  progress?: Progress;
  /** The run this loader belongs to: its connection lost or a signal stops it (session.ts). */
  session?: LoadSession;
}

/** The named lock a loader holds while it loads a source (GET_LOCK names: 64 characters at most). */
export const sourceLockName = (names: DatabaseNames, loadInfoId: string): string =>
  'edx-pipes:' + createHash('sha1').update(`${names.Edx}\0${loadInfoId}`).digest('hex');

/** Whether LoadInfo records the source; undefined when the warehouse does not exist yet. */
async function recorded(conn: Connection, names: DatabaseNames, loadInfoId: string): Promise<boolean | undefined> {
  try {
    const [rows] = await conn.query<RowDataPacket[]>(`SELECT 1 FROM ${qualifiedName(LoadInfo, names)} WHERE load_info_id = ?`, [loadInfoId]);
    return rows.length > 0;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ER_NO_SUCH_TABLE' || code === 'ER_BAD_DB_ERROR') return undefined;
    throw e;
  }
}

/** Whether the warehouse is there to load into (its LoadInfo table). */
export async function warehouseExists(conn: Connection, names: DatabaseNames): Promise<boolean> {
  return (await recorded(conn, names, '')) !== undefined;
}

/** What a load into a warehouse that does not exist says. */
export const noWarehouse = (names: DatabaseNames) =>
  `${qualifiedName(LoadInfo, names)} does not exist: create the warehouse first with edx-csvload --init`;

/** The partitions EdxTrackEvent has. */
async function partitionsOf(conn: Connection, names: DatabaseNames): Promise<Set<string>> {
  const [rows] = await conn.query<RowDataPacket[]>(
    'SELECT PARTITION_NAME AS p FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
    [names[EdxTrackEvent.database], EdxTrackEvent.name],
  );
  return new Set(rows.map((r) => String(r.p)));
}

/** The end line of a source. */
type SourceEnd = Extract<SourceEvent, { kind: 'end' }>;

/**
 * A source as the loader reads it, whether from a collection or from the row stream: its
 * quarters, its segments (table files) and its end, as events.
 */
interface LoadingSource {
  source: Source;
  origin: string;
  /** Load segments as they come (a row stream that announces its quarters), else all at the end. */
  whileStreaming: boolean;
  /** Whether every segment has come (for the report of a streaming load). */
  readonly ended: boolean;
  events: AsyncIterable<SourceEvent>;
  release(segment: Segment): void;
  /** Its rows are not needed (already loaded, or failed). */
  stopSpooling(): void;
  /**
   * Read it to its end, whatever happened, so that the reader moves on (unless `abandon`: the run
   * stops, nothing after it is read); then remove its files.
   */
  close(abandon?: boolean): Promise<void>;
}

/** Consume a source's remaining events (releasing segments); its end, or the stream's error. */
async function untilEnd(src: LoadingSource): Promise<SourceEnd> {
  let end: SourceEnd | undefined;
  for await (const ev of src.events) {
    if (ev.kind === 'segment') src.release(ev.segment);
    else if (ev.kind === 'end') end = ev;
  }
  if (!end) throw new LoadError('the source has already been read');
  return end;
}

/** A collection's source as events: its quarters, its files, and an end line with their counts. */
function collectionSource(src: LoadableSource): LoadingSource {
  const rows: Record<string, number> = {};
  for (const f of src.files) rows[f.table.name] = (rows[f.table.name] ?? 0) + f.rows;
  async function* events(): AsyncGenerator<SourceEvent> {
    for (const quarter of src.quarters) yield { kind: 'quarter', quarter };
    for (const f of src.files) yield { kind: 'segment', segment: { table: f.table, path: f.path, rows: f.rows, bytes: 0, crc32: f.crc32 } };
    yield { kind: 'end', rows, quarters: src.quarters };
  }
  return {
    source: src.source,
    origin: src.origin,
    whileStreaming: false,
    ended: true,
    events: events(),
    release: () => undefined,
    stopSpooling: () => undefined,
    close: async () => undefined,
  };
}

/** A source of the row stream. */
function streamedSource(src: StreamedSource): LoadingSource {
  const loading: LoadingSource = {
    source: src.source,
    origin: src.origin,
    whileStreaming: src.announcesQuarters,
    get ended() {
      return src.ended;
    },
    events: src.events,
    release: (segment) => src.release(segment),
    stopSpooling: () => src.stopSpooling(),
    close: async (abandon) => {
      src.stopSpooling();
      if (!abandon) await untilEnd(loading).catch(() => undefined);
      await src.cleanup();
    },
  };
  return loading;
}

/** What edx-csvload does with sources, for real or as a dry run: a report of their outcomes. */
abstract class SourceRunner {
  readonly report: LoadReport = { sources: [], tables: new Map(), seconds: 0 };
  private readonly started = Date.now();

  constructor(protected readonly opts: LoaderOptions) {}

  /** Load one source of a collection; records the outcome in the report. Never throws for a failed source. */
  load(src: LoadableSource): Promise<SourceReport> {
    return this.run(collectionSource(src));
  }

  /**
   * Load a source of the row stream while it still arrives. The source's rows come as segments
   * (files of one table's rows, in stream order); see Loader.transaction.
   */
  loadStream(src: StreamedSource): Promise<SourceReport> {
    return this.run(streamedSource(src));
  }

  private async run(src: LoadingSource): Promise<SourceReport> {
    const t0 = Date.now();
    const rep: SourceReport = { name: src.source.name, origin: src.origin, outcome: 'failed', rows: 0, seconds: 0 };
    const session = this.opts.session;
    this.report.sources.push(rep);
    session?.begin(rep);
    if (this.opts.progress) this.opts.progress.current = src.source.name;
    try {
      await this.loadSource(src, rep);
    } catch (e) {
      rep.outcome = 'failed';
      const lost = connectionLost(e);
      if (lost) session?.connectionLost(lost);
      if (session?.halted) {
        // session.halt() said why
      } else if (lost) {
        // The cause is said once for the run (session.lostMessage), not per source.
        rep.message = e instanceof LoadError && e.message.startsWith(COMMIT_LOST) ? e.message : SOURCE_LOST;
      } else {
        rep.message = e instanceof StreamFormatError ? 'the row stream broke inside this source' : (e as Error).message;
      }
    } finally {
      await src.close(session?.stopped);
      rep.seconds = (Date.now() - t0) / 1000;
      session?.end(rep);
      this.opts.progress?.sourceDone();
    }
    return rep;
  }

  protected abstract loadSource(src: LoadingSource, rep: SourceReport): Promise<void>;

  finish(): LoadReport {
    this.report.seconds = (Date.now() - this.started) / 1000;
    return this.report;
  }
}

/** A dry run: what would load or be skipped, the rows, the partitions it would add; with a connection if there is one. */
export class DryRun extends SourceRunner {
  constructor(private readonly conn: Connection | undefined, opts: LoaderOptions) {
    super(opts);
  }

  protected async loadSource(src: LoadingSource, rep: SourceReport): Promise<void> {
    const end = await untilEnd(src);
    const perTable = Object.entries(end.rows).filter(([t]) => t !== LoadInfo.name);
    const loaded = this.conn ? (await recorded(this.conn, this.opts.names, src.source.loadInfoId)) ?? false : false;
    rep.outcome = loaded && !this.opts.force ? 'would skip' : 'would load';
    rep.rows = perTable.reduce((a, [, n]) => a + n, 0);
    const parts = this.conn ? await partitionsOf(this.conn, this.opts.names) : new Set<string>();
    const missing = [...new Set(end.quarters.map(partitionName))].filter((p) => !parts.has(p));
    rep.message =
      rep.outcome === 'would skip'
        ? 'already in LoadInfo'
        : perTable.map(([t, n]) => `${t} ${fmt(n)}`).join(', ') + (missing.length && this.conn ? `; would add partitions ${missing.join(', ')}` : '');
  }
}

export class Loader extends SourceRunner {
  private partitions?: Set<string>;

  constructor(private readonly conn: Connection, opts: LoaderOptions) {
    super(opts);
  }

  /** Session settings for loading: UTC (the sql_mode is the connection's, mysql/connection.ts). */
  async prepare(): Promise<void> {
    await this.conn.query("SET SESSION time_zone = '+00:00'");
  }

  private async knownPartitions(): Promise<Set<string>> {
    return (this.partitions ??= await partitionsOf(this.conn, this.opts.names));
  }

  private async ensurePartitions(quarters: string[]): Promise<string[]> {
    const known = await this.knownPartitions();
    const added: string[] = [];
    for (const q of quarters) {
      const p = partitionName(q);
      if (known.has(p)) continue;
      for (const stmt of ensureQuarterPartition(EdxTrackEvent, q, this.opts.names).split(/;\n?/)) {
        if (stmt.trim()) await this.conn.query(stmt);
      }
      known.add(p);
      added.push(p);
    }
    return added;
  }

  /** Run `fn` holding the source's named lock, so that two loaders never interleave on one source. */
  private async withSourceLock(loadInfoId: string, fn: () => Promise<void>): Promise<void> {
    const lock = sourceLockName(this.opts.names, loadInfoId);
    const [got] = await this.conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, 3600) AS ok', [lock]);
    if (Number(got[0]?.ok) !== 1) throw new LoadError('another loader holds this source for more than an hour');
    try {
      await fn();
    } finally {
      // DO: no result. `SELECT RELEASE_LOCK(?)` returned a column named after the lock, one per
      // source, and mysql2 compiles and caches a row parser per column name: memory grew with the
      // number of sources loaded (about 3 KB each, up to its cache's 15,000 entries).
      await this.conn.query('DO RELEASE_LOCK(?)', [lock]).catch(() => undefined);
    }
  }

  protected async loadSource(src: LoadingSource, rep: SourceReport): Promise<void> {
    await this.withSourceLock(src.source.loadInfoId, async () => {
      if (!this.opts.force) {
        const loaded = await recorded(this.conn, this.opts.names, src.source.loadInfoId);
        // A warehouse that does not exist yet has loaded nothing; a load then needs --init first.
        if (loaded === undefined) {
          throw new LoadError(noWarehouse(this.opts.names));
        }
        if (loaded) {
          rep.outcome = 'skipped';
          rep.message = alreadyLoaded(src.source.loadFile);
          src.stopSpooling();
          await untilEnd(src);
          return;
        }
      }
      await this.transaction(src, rep);
    });
  }

  /**
   * LOAD DATA LOCAL INFILE of one file in the CSV dialect; the server must read `rows` rows,
   * without warnings, and (when the writer gave one) bytes of the CRC-32 the writer summed.
   */
  private async loadFile(seg: Segment): Promise<void> {
    const progress = this.opts.progress;
    const before = progress?.rows ?? 0;
    const sql = loadStatement(seg.table, seg.path, this.opts.names);
    await loadFile(this.conn, {
      sql,
      table: seg.table.name,
      path: seg.path,
      rows: seg.rows,
      crc32: seg.crc32,
      error: LoadError,
      onLines: progress && ((n) => progress.add(n)),
    });
    if (progress) progress.rows = before + seg.rows;
  }

  /**
   * LoadInfo last: a source is recorded only together with all of its rows. Then COMMIT, and the
   * source counts as loaded from the moment the server answers (what a signal then reports).
   */
  private async recordAndCommit(source: Source, rep: SourceReport, per: Map<string, number>, rows: number, notes: string[]): Promise<void> {
    await checkedQuery(
      this.conn,
      `REPLACE INTO ${qualifiedName(LoadInfo, this.opts.names)} (load_info_id, load_date_time, load_file) VALUES (?, UTC_TIMESTAMP(6), ?)`,
      [source.loadInfoId, source.loadFile],
      { label: 'LoadInfo: REPLACE INTO…', error: LoadError },
    );
    const committing = this.conn.query('COMMIT').then(() => {
      rep.outcome = 'loaded';
      rep.rows = rows;
      if (notes.length) rep.message = notes.join('; ');
      for (const [t, n] of per) this.report.tables.set(t, (this.report.tables.get(t) ?? 0) + n);
      this.opts.session?.committed(per);
    });
    try {
      await (this.opts.session ? this.opts.session.commit(committing) : committing);
    } catch (e) {
      // Sent, and no answer: the server may have committed. LoadInfo knows, and a rerun asks it.
      if (connectionLost(e)) throw Object.assign(new LoadError(`${COMMIT_LOST}: a rerun finds it in LoadInfo, or loads it`), { cause: e });
      throw e;
    }
  }

  /**
   * The source's one transaction: every segment (table file) loaded, LoadInfo recorded, COMMIT.
   *
   * Partitions: ADD PARTITION commits implicitly, so every partition the source needs must exist
   * before its transaction starts. A collection knows its quarters before its files, a stream
   * without `#quarter` lines only at its end: their segments load after the end line. A stream
   * that announces its quarters loads each segment as soon as it is full, so the database works
   * while the writer still writes: the transaction starts at the first segment, after adding the
   * partitions of the quarters seen by then and of their neighbouring quarters (a daily log spans
   * one or two adjacent quarters). When a quarter without a partition turns up later (a client
   * with a broken clock), the transaction is rolled back, the partition added, and the segments
   * loaded so far are loaded again from the spool; then loading goes on.
   */
  private async transaction(src: LoadingSource, rep: SourceReport): Promise<void> {
    const conn = this.conn;
    const quarters = new Set<string>();
    /** Segments in the transaction so far (loaded again after a restart). */
    const loaded: Segment[] = [];
    /** Segments waiting for the end line. */
    const held: Segment[] = [];
    let per = new Map<string, number>();
    const notes: string[] = [];
    let open = false;
    /** Rows whose LOAD began before the reader had the source's end line. */
    let streamedRows = 0;

    const begin = async (needed: Iterable<string>) => {
      const added = await this.ensurePartitions([...needed]);
      if (added.length) notes.push(`added partitions ${added.join(', ')}`);
      await conn.query('START TRANSACTION');
      open = true;
    };
    const load = async (seg: Segment) => {
      if (seg.table === LoadInfo) return; // recorded at the end, with the time of this load
      await this.loadFile(seg);
      per.set(seg.table.name, (per.get(seg.table.name) ?? 0) + seg.rows);
    };
    /** Quarters whose partition is missing: start over. */
    const restartFor = async (missing: string[]) => {
      await conn.query('ROLLBACK');
      open = false;
      per = new Map();
      const added = await this.ensurePartitions(missing);
      await conn.query('START TRANSACTION');
      open = true;
      const again = loaded.filter((s) => s.table !== LoadInfo).reduce((a, s) => a + s.rows, 0);
      notes.push(`quarter ${missing.join(', ')} arrived mid-load: rolled back, added partitions ${added.join(', ')}, reloaded ${fmt(again)} ${noun(again, 'row')}`);
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
          if (!src.whileStreaming) {
            held.push(ev.segment);
            src.release(ev.segment); // stays on disk; nothing to hold the reader back for
            continue;
          }
          if (!open) await begin([...quarters].flatMap(withNeighbours));
          if (!src.ended && ev.segment.table !== LoadInfo) streamedRows += ev.segment.rows;
          await load(ev.segment);
          loaded.push(ev.segment);
          src.release(ev.segment); // loaded; it stays on disk until the source is done
        } else {
          // The end line: every segment has come. Quarters the writer did not announce get their partitions too.
          const total = Object.entries(ev.rows).filter(([t]) => t !== LoadInfo.name).reduce((a, [, n]) => a + n, 0);
          if (!open) await begin([...quarters, ...ev.quarters]);
          const missing = await missingOf(ev.quarters);
          if (missing.length) await restartFor(missing);
          for (const seg of held) await load(seg);
          per.set(LoadInfo.name, 1);
          if (src.whileStreaming) notes.push(`${fmt(streamedRows)} of ${fmt(total)} ${noun(total, 'row')} loaded while the source streamed`);
          await this.recordAndCommit(src.source, rep, per, total, notes);
          open = false;
          return;
        }
      }
      throw new LoadError('the row stream ended inside this source');
    } catch (e) {
      if (open) await conn.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
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
      `; ${fmt(total)} ${noun(total, 'row')} in ${r.seconds.toFixed(2)} s` +
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
