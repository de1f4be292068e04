// Deterministic, time-ordered ids (docs/decisions.md §11). The reference's format is kept (36
// characters, a UUID with '_' for '-'), but ids are derived instead of random: event_id from
// the raw line, every other id from that plus the row's table and position. Laid out like
// UUID v7, the first 48 bits are the event's time in milliseconds, so primary keys arrive nearly
// sorted (InnoDB loads them much faster) and transforming the same log twice gives the same ids.
//
// One SHA-1 per line; each row's id is that digest with its (table, position) tag mixed into
// bytes the layout leaves to the hash, so ids of one line differ from each other by
// construction and ids of different lines collide no more often than 74 random bits do.
import { hash } from 'node:crypto';

/** Tags of the tables whose rows get ids (0 is event_id itself). */
const TABLE_TAG: Record<string, number> = {
  EdxTrackEvent: 1,
  Answer: 2,
  CorrectMap: 3,
  InputState: 4,
  State: 5,
  Account: 6,
};

/** ASCII codes of the hex digits, and of the '_' that follows bytes 3, 5, 7 and 9. */
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const UNDERSCORE = 0x5f;
/** The id text is assembled here byte by byte (cheaper than hex text cut into five slices). */
const idText = Buffer.alloc(36);

/** The 16 bytes as 8-4-4-4-12 lowercase hex digits joined by '_'. */
function formatId(bytes: Uint8Array): string {
  let j = 0;
  for (let i = 0; i < 16; i++) {
    const b = bytes[i];
    idText[j++] = HEX_DIGITS[b >>> 4];
    idText[j++] = HEX_DIGITS[b & 0x0f];
    if (i === 3 || i === 5 || i === 7 || i === 9) idText[j++] = UNDERSCORE;
  }
  return idText.toString('latin1', 0, 36);
}

const scratch = Buffer.alloc(16);

/** The ids of one event (one input line). */
export class EventIds {
  readonly eventId: string;
  /**
   * SHA-1 of the line, one character per byte ('binary', i.e. latin1): a digest as a Buffer cost as much as
   * hashing the line, for 20 bytes.
   */
  private readonly digest: string;
  /** The event's time in ms, which replaces the digest's first 6 bytes. */
  private readonly timeMs: number;

  constructor(rawLine: string, timeMs: number) {
    this.digest = hash('sha1', rawLine, 'binary');
    this.timeMs = Math.max(0, Math.min(Math.floor(timeMs), 2 ** 48 - 1));
    this.eventId = this.format(0, 0);
  }

  /** Id of the row at `position` of `table` made from this event (position 0 = first). */
  rowId(table: string, position: number): string {
    const tag = TABLE_TAG[table];
    if (tag === undefined) throw new Error(`no ids for table ${table}`);
    return this.format(tag, position);
  }

  private format(tag: number, position: number): string {
    scratch.writeUIntBE(this.timeMs, 0, 6);
    for (let i = 6; i < 16; i++) scratch[i] = this.digest.charCodeAt(i);
    // Positions beyond 2^22 in one line would wrap; no line fans out that far (the cut at 64 MiB lines).
    // bytes 6-7: version 7 + 12 hash bits; byte 8: variant + 6 bits; bytes 9-15 hash.
    scratch[6] = 0x70 | ((scratch[6] ^ tag) & 0x0f);
    scratch[8] = 0x80 | ((scratch[8] ^ (position >>> 16)) & 0x3f);
    scratch[9] ^= (position >>> 8) & 0xff;
    scratch[10] ^= position & 0xff;
    return formatId(scratch);
  }
}

export function eventIds(rawLine: string, timeMs: number): EventIds {
  return new EventIds(rawLine, timeMs);
}
