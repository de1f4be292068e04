// Deterministic, time-ordered ids (decisions.md §4). The reference's format is kept (36
// characters, a UUID with '_' for '-'), but ids are derived instead of random: event_id from
// the raw line, every other id from that plus the row's table and position. Laid out like
// UUID v7, the first 48 bits are the event's time in milliseconds, so primary keys arrive nearly
// sorted (InnoDB loads them much faster) and transforming the same log twice gives the same ids.
import { createHash } from 'node:crypto';

function format(timeMs: number, digest: Buffer): string {
  const b = Buffer.allocUnsafe(16);
  digest.copy(b, 0, 0, 16);
  const t = Math.max(0, Math.min(Math.floor(timeMs), 2 ** 48 - 1));
  b.writeUIntBE(t, 0, 6);
  b[6] = 0x70 | (b[6] & 0x0f); // version 7
  b[8] = 0x80 | (b[8] & 0x3f); // RFC 4122 variant
  const h = b.toString('hex');
  return `${h.slice(0, 8)}_${h.slice(8, 12)}_${h.slice(12, 16)}_${h.slice(16, 20)}_${h.slice(20)}`;
}

export interface EventIds {
  eventId: string;
  /** Id of the row at `position` of `table` made from this event (position 0 = first). */
  rowId(table: string, position: number): string;
}

export function eventIds(rawLine: string, timeMs: number): EventIds {
  const digest = createHash('sha1').update(rawLine, 'utf8').digest();
  const key = digest.toString('hex');
  return {
    eventId: format(timeMs, digest),
    rowId: (table, position) => format(timeMs, createHash('md5').update(`${key}|${table}|${position}`).digest()),
  };
}
