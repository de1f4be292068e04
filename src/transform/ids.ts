// Deterministic, time-ordered ids (decisions.md §4). The reference's format is kept (36
// characters, a UUID with '_' for '-'), but ids are derived instead of random: event_id from
// the raw line, every other id from that plus the row's table and position. Laid out like
// UUID v7, the first 48 bits are the event's time in milliseconds, so primary keys arrive nearly
// sorted (InnoDB loads them much faster) and transforming the same log twice gives the same ids.
//
// One SHA-1 per line; each row's id is that digest with its (table, position) tag mixed into
// bytes the layout leaves to the hash, so ids of one line differ from each other by
// construction and ids of different lines collide no more often than 74 random bits do.
import { createHash } from 'node:crypto';

/** Tags of the tables whose rows get ids (0 is event_id itself). */
const TABLE_TAG: Record<string, number> = {
  EdxTrackEvent: 1,
  Answer: 2,
  CorrectMap: 3,
  InputState: 4,
  State: 5,
  Account: 6,
};

export interface EventIds {
  eventId: string;
  /** Id of the row at `position` of `table` made from this event (position 0 = first). */
  rowId(table: string, position: number): string;
}

const scratch = Buffer.alloc(16);

function format(base: Buffer, tag: number, position: number): string {
  base.copy(scratch, 0, 0, 16);
  // bytes 6-7: version 7 + 12 hash bits; byte 8: variant + 6 bits; bytes 9-15 hash.
  scratch[6] = 0x70 | ((scratch[6] ^ tag) & 0x0f);
  scratch[8] = 0x80 | ((scratch[8] ^ (position >>> 16)) & 0x3f);
  scratch[9] ^= (position >>> 8) & 0xff;
  scratch[10] ^= position & 0xff;
  const h = scratch.toString('hex');
  return `${h.slice(0, 8)}_${h.slice(8, 12)}_${h.slice(12, 16)}_${h.slice(16, 20)}_${h.slice(20)}`;
}

export function eventIds(rawLine: string, timeMs: number): EventIds {
  const digest = createHash('sha1').update(rawLine, 'utf8').digest();
  const t = Math.max(0, Math.min(Math.floor(timeMs), 2 ** 48 - 1));
  digest.writeUIntBE(t, 0, 6);
  // Positions beyond 2^22 in one line would wrap; no line fans out that far (the cut at 64 MiB lines).
  return {
    eventId: format(digest, 0, 0),
    rowId: (table, position) => {
      const tag = TABLE_TAG[table];
      if (tag === undefined) throw new Error(`no ids for table ${table}`);
      return format(digest, tag, position);
    },
  };
}
