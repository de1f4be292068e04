// One edx-csvload run over its connections: what it has committed so far, and how it stops early.
//   - A signal (SIGINT, SIGTERM, SIGHUP; io/interrupt.ts removed the spool already): a COMMIT under
//     way is waited for, so that its outcome is known; then the connections are dropped and the
//     server rolls back the transactions still open. The run says what was committed and exits 128+n.
//   - A lost connection (the server stopped, the connection was killed): its cause is said once, no
//     further source starts (each would only fail on the dead connection), the run says which sources
//     are loaded and which are not, and exits 1; a rerun loads the rest.
import type { Connection } from 'mysql2/promise';
import type { StopSignal } from '../io/interrupt.js';

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

/** mysql2's codes (and the server's errors) that mean the connection is gone, not that a statement failed. */
const LOST_CODES = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ER_CONNECTION_KILLED', 'ER_SERVER_SHUTDOWN', 'ER_NEW_ABORTING_CONNECTION']);
const LOST_ERRNOS = new Set([1053, 1927, 2006, 2013]);

/**
 * The error that ended the connection, if `e` (or an error it was made from, by `cause`) says the
 * connection is gone: mysql2 marks those `fatal`.
 */
export function connectionLost(e: unknown): Error | undefined {
  for (let x = e, depth = 0; x instanceof Error && depth < 5; x = x.cause, depth++) {
    const err = x as Error & { fatal?: boolean; code?: string; errno?: number };
    if (err.fatal === true || (err.code && LOST_CODES.has(err.code)) || (err.errno && LOST_ERRNOS.has(err.errno))) return err;
  }
  return undefined;
}

/** The cause in a user's words. */
const causeText = (e: Error) =>
  (e as { code?: string }).code === 'PROTOCOL_CONNECTION_LOST' ? 'the server closed the connection' : e.message;

/** How a source's failure begins when the connection was lost while its COMMIT was under way. */
export const COMMIT_LOST = 'the connection was lost during its COMMIT';
const commitUnknown = (s: SourceReport) => s.outcome === 'failed' && !!s.message?.startsWith(COMMIT_LOST);

/** Why a source failed when its connection was lost (the cause is said once for the run). */
export const SOURCE_LOST = 'connection lost';

/** A line per failed source, for the end of a run (those of the lost connection are in its own lines). */
export function failureLines(sources: SourceReport[]): string[] {
  return sources
    .filter((s) => s.outcome === 'failed' && s.message !== SOURCE_LOST)
    .map((s) => (commitUnknown(s) ? `${s.name}: ${s.message}` : `${s.name}: failed, rolled back, not recorded: ${s.message}`));
}

/** Names for a message line: the first few, then how many more. */
export function someNames(names: string[], max = 10): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

export class LoadSession {
  /** Every source begun, in the order they began (their reports change as they go). */
  readonly sources: SourceReport[] = [];
  /** Rows committed per table. */
  readonly tables = new Map<string, number>();
  /** The first error that ended a connection: no source starts after it. */
  lost?: Error;
  /** The signal that stopped the run. */
  halted?: StopSignal;
  private readonly started = Date.now();
  private readonly conns = new Set<Connection>();
  private readonly active = new Set<SourceReport>();
  private readonly commits = new Set<Promise<unknown>>();
  private readonly lostController = new AbortController();

  /** `server`: where the connections go, for the message of a lost one (host:port or socket). */
  constructor(readonly server: string) {}

  /** No further source should start. */
  get stopped(): boolean {
    return this.lost !== undefined || this.halted !== undefined;
  }

  /** A connection of this run: one that dies between statements is a lost connection too (never an unhandled 'error'). */
  watch(conn: Connection): Connection {
    this.conns.add(conn);
    conn.on('error', (e: Error) => {
      if (!this.halted) this.connectionLost(connectionLost(e) ?? e);
    });
    return conn;
  }

  connectionLost(cause: Error): void {
    if (this.lost) return;
    this.lost = cause;
    this.lostController.abort(cause);
  }

  /**
   * Aborted (reason: the cause) when a connection is lost. What a loader waits for besides the
   * server (the row stream's next rows) listens to it: a connection that dies while its loader
   * waits for input ends no pending query, and nothing else would wake the loader.
   */
  get lostSignal(): AbortSignal {
    return this.lostController.signal;
  }

  /** The lost connection, said once: `lost connection to the server at HOST:PORT: <cause>`. */
  get lostMessage(): string | undefined {
    return this.lost && `lost connection to the server at ${this.server}: ${causeText(this.lost)}`;
  }

  begin(rep: SourceReport): void {
    this.sources.push(rep);
    this.active.add(rep);
  }

  end(rep: SourceReport): void {
    this.active.delete(rep);
  }

  /** A source's COMMIT is under way: a signal waits for it, so that what the run says is what the server did. */
  async commit(p: Promise<unknown>): Promise<void> {
    this.commits.add(p);
    try {
      await p;
    } finally {
      this.commits.delete(p);
    }
  }

  /** A source committed these rows. */
  committed(per: Map<string, number>): void {
    for (const [t, n] of per) this.tables.set(t, (this.tables.get(t) ?? 0) + n);
  }

  /**
   * Stop at a signal: wait for the COMMITs under way, drop every connection (the server rolls back
   * the transactions still open), and mark the sources that were loading as rolled back.
   */
  async halt(signal: StopSignal): Promise<void> {
    this.halted = signal;
    await Promise.allSettled([...this.commits]);
    for (const c of this.conns) c.destroy();
    for (const rep of this.active) {
      if (rep.outcome !== 'failed') continue; // committed (loaded), or already in LoadInfo (skipped)
      rep.message = `stopped by ${signal}: rolled back, not recorded`;
    }
  }

  /** What the run did, for its end: committed, skipped, rolled back or failed, and not started. */
  outcomeLines(notStarted: string): string[] {
    const named = (keep: (s: SourceReport) => boolean) => this.sources.filter(keep).map((s) => s.name);
    const loaded = named((s) => s.outcome === 'loaded');
    const skipped = named((s) => s.outcome === 'skipped');
    const unknown = named(commitUnknown);
    const failed = named((s) => s.outcome === 'failed' && !commitUnknown(s));
    const lines = [loaded.length ? `committed, in LoadInfo: ${someNames(loaded)}` : 'committed: no source'];
    if (skipped.length) lines.push(`in LoadInfo already: ${someNames(skipped)}`);
    if (unknown.length) lines.push(`COMMIT without an answer (a rerun finds it in LoadInfo, or loads it): ${someNames(unknown)}`);
    if (failed.length) lines.push(`rolled back, not in LoadInfo: ${someNames(failed)}`);
    if (notStarted) lines.push(`not started: ${notStarted}`);
    lines.push('a rerun loads what is not in LoadInfo');
    return lines;
  }

  finish(): LoadReport {
    return { sources: this.sources, tables: this.tables, seconds: (Date.now() - this.started) / 1000 };
  }
}
