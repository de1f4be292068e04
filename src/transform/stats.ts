// What a run did, for the summary line on stderr and --stats FILE. The invariant the summary
// always satisfies: lines = events + filtered + rejected.
import { ALL_TABLES } from '../schema/tables.js';
import { newFitCounters, type FitCounters } from '../schema/fit.js';
import { plural } from '../core/plural.js';

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
  /** Events of a type no handler knows (common columns and EventPayload only). */
  unknownTypes: number;
  /** Events with an EventPayload row (fields no column took), and those whose payload was cut. */
  payloadKept: number;
  payloadsCut: number;
  /**
   * Per event type: events handled (a handler stored its fields), of those with a payload kept, and
   * events of no known handler. URL types count under `/…`; past MAX_TYPES types, under `(other)`.
   */
  byType: Record<string, TypeCounts>;
  rows: Record<string, number>;
  fit: FitCounters;
  seconds: number;
}

export interface TypeCounts {
  handled: number;
  payloadKept: number;
  unknown: number;
}

/** Distinct types counted one by one (a log of crafted types must not grow the stats without end). */
export const MAX_TYPES = 2000;

/** Count one event of a type. */
export function countType(s: RunStats, type: string, handled: boolean, payloadKept: boolean): void {
  let key = type.startsWith('/') ? '/…' : type;
  if (!(key in s.byType) && Object.keys(s.byType).length >= MAX_TYPES) key = '(other)';
  const c = (s.byType[key] ??= { handled: 0, payloadKept: 0, unknown: 0 });
  if (handled) c.handled++;
  else c.unknown++;
  if (payloadKept) c.payloadKept++;
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
    payloadKept: 0,
    payloadsCut: 0,
    byType: Object.create(null) as Record<string, TypeCounts>,
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
    `${plural(s.lines, 'line')} read`,
    plural(s.events, 'event'),
    `${filteredTotal(s)} filtered (${plural(f.heartbeat, 'heartbeat')}, ${plural(f.ping, 'ping')}, ${f.blank} blank, ${plural(f.comment, 'comment')})`,
    `${s.rejected} rejected`,
    `${s.rescued} rescued`,
  ];
  if (s.undecodableEvents) parts.push(`${plural(s.undecodableEvents, 'undecodable event field')}`);
  if (s.unknownTypes) {
    const unknown = Object.entries(s.byType).filter(([, c]) => c.unknown > 0).sort((a, b) => b[1].unknown - a[1].unknown);
    const named = unknown.slice(0, 5).map(([type, c]) => `${type} ${c.unknown}`).join(', ');
    parts.push(`${s.unknownTypes} of unknown type (${plural(unknown.length, 'type')}: ${named}${unknown.length > 5 ? ', …' : ''})`);
  }
  if (s.payloadKept) parts.push(`${s.payloadKept} with payload kept${s.payloadsCut ? ` (${s.payloadsCut} cut)` : ''}`);
  const cut = sum(s.fit.cut), coerced = sum(s.fit.coerced);
  if (cut) parts.push(`${plural(cut, 'value')} cut to fit`);
  if (coerced) parts.push(`${plural(coerced, 'non-integer')} in integer columns`);
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
