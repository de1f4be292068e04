// What a run did, for the summary line on stderr and --stats FILE. The invariant the summary
// always satisfies: lines = events + filtered + rejected.
import { ALL_TABLES } from '../schema/tables.js';
import { newFitCounters, type FitCounters } from '../schema/fit.js';

export interface RunStats {
  sources: number;
  /** Every line read (after decompression), blank ones included. */
  lines: number;
  /** Lines that became at least one EdxTrackEvent row. */
  events: number;
  /** Lines that are noise by design: repeated heartbeats, `/` pings, blank and comment lines. */
  filtered: { heartbeat: number; ping: number; blank: number; comment: number };
  /** Lines in the reject report (nothing recoverable). */
  rejected: number;
  /** Lines that were not valid JSON but became rows (repaired, or fields rescued); badly_formatted set. */
  rescued: number;
  /** Events whose `event` field could not be decoded as JSON (kept in badly_formatted). */
  undecodableEvents: number;
  /** Events of a type no handler knows (common columns only). */
  unknownTypes: number;
  rows: Record<string, number>;
  fit: FitCounters;
  seconds: number;
}

export function newStats(): RunStats {
  return {
    sources: 0,
    lines: 0,
    events: 0,
    filtered: { heartbeat: 0, ping: 0, blank: 0, comment: 0 },
    rejected: 0,
    rescued: 0,
    undecodableEvents: 0,
    unknownTypes: 0,
    rows: Object.fromEntries(ALL_TABLES.map((t) => [t.name, 0])),
    fit: newFitCounters(),
    seconds: 0,
  };
}

export const filteredTotal = (s: RunStats) => s.filtered.heartbeat + s.filtered.ping + s.filtered.blank + s.filtered.comment;

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/** One line for stderr. */
export function summaryLine(s: RunStats): string {
  const rows = Object.entries(s.rows).filter(([, n]) => n > 0).map(([t, n]) => `${t} ${n}`).join(', ');
  const f = s.filtered;
  const parts = [
    `${s.lines} lines read`,
    `${s.events} events`,
    `${filteredTotal(s)} filtered (${f.heartbeat} heartbeats, ${f.ping} pings, ${f.blank} blank, ${f.comment} comments)`,
    `${s.rejected} rejected`,
    `${s.rescued} rescued`,
  ];
  if (s.undecodableEvents) parts.push(`${s.undecodableEvents} undecodable event fields`);
  if (s.unknownTypes) parts.push(`${s.unknownTypes} of unknown type`);
  const cut = sum(s.fit.cut), coerced = sum(s.fit.coerced);
  if (cut) parts.push(`${cut} values cut to fit`);
  if (coerced) parts.push(`${coerced} non-integers in integer columns`);
  parts.push(`rows: ${rows || 'none'}`);
  parts.push(`${s.seconds.toFixed(1)} s`);
  return parts.join('; ');
}

/** JSON form for --stats FILE. */
export function statsJson(s: RunStats): unknown {
  return {
    ...s,
    filteredTotal: filteredTotal(s),
    fit: { cut: Object.fromEntries(s.fit.cut), coerced: Object.fromEntries(s.fit.coerced) },
  };
}
