// Job `usercountry`: Edx.UserCountry, one row per user per country the user was seen from
// (docs/original.md#job-usercountry; the original's cronRefreshUserCountryTable.py). The distinct (user,
// country) pairs of EdxTrackEvent are streamed from the server on a second connection while they
// are loaded on the first: constant memory whatever the size of the clickstream, no server-side
// file, and a plain SELECT, which locks no clickstream row while the nightly load goes on.
//
// Countries: EdxTrackEvent.ip_country holds ISO alpha-3 codes (transform/geoip.ts); the two-letter
// code and the English name come from i18n-iso-countries. Anything else ('zzz' for no IP, 'ZZZ'
// for private and reserved addresses, '' or an unknown code) is XX / XXX / 'Not in lookup tbl',
// as the original stored it, so that queries filtering those out keep working. Events without a
// user (anon_screen_name '') are no user's country and are left out.
import countries from 'i18n-iso-countries';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { UserCountry } from '../../schema/derived/course.js';
import { qualifiedName } from '../../schema/ddl.js';
import { valuesOf, type Value } from '../../schema/table.js';
import type { JobContext, JobResult, RefreshJob } from '../job.js';
import { progressClock } from '../../io/progress.js';
import { plural } from '../../core/plural.js';
import { loadRows, rebuildTable, RefreshError, streamRows, tableExists, withSecondConnection } from '../sql.js';

export const UNKNOWN_COUNTRY = { two: 'XX', three: 'XXX', name: 'Not in lookup tbl' } as const;

/** Two-letter code, three-letter code and name of an ip_country value. */
export function countryOf(code: string): { two: string; three: string; name: string } {
  const three = code.trim().toUpperCase();
  const two = /^[A-Z]{3}$/.test(three) ? countries.alpha3ToAlpha2(three) : undefined;
  const name = two ? countries.getName(two, 'en') : undefined;
  return two && name ? { two, three, name } : UNKNOWN_COUNTRY;
}

export const userCountryJob: RefreshJob = {
  name: 'usercountry',
  summary: 'rebuild Edx.UserCountry (the countries each user was seen from) from Edx.EdxTrackEvent',
  // The clickstream load comes first; it is not a job of edx-refresh (make runs it before).
  after: [],
  builds: [UserCountry],
  async run(ctx) {
    const ready = await check(ctx);
    if (ctx.dryRun) return plan(ctx, ready);
    return rebuild(ctx);
  },
};

/** EdxTrackEvent, qualified and quoted. */
const eventsOf = (names: JobContext['names']) => `\`${names.Edx}\`.\`EdxTrackEvent\``;

/** The clickstream is there; a dry run of a whole week has loaded nothing yet, so it gets false instead of a failure. */
async function check({ conn, names, dryRun }: JobContext): Promise<boolean> {
  if (await tableExists(conn, names.Edx, 'EdxTrackEvent')) return true;
  if (dryRun) return false;
  throw new RefreshError(`${eventsOf(names)} does not exist: create the warehouse and load the clickstream first (edx-csvload --init, then the nightly load)`);
}

/** Dry run: what would be rebuilt, from about how many events. */
async function plan({ conn, names, say }: JobContext, ready: boolean): Promise<JobResult> {
  const table = qualifiedName(UserCountry, names, { quoted: true });
  if (!ready) {
    say(`dry run: ${eventsOf(names)} does not exist yet (the nightly load makes it); would rebuild ${table} from it`);
    return { tables: [] };
  }
  const [est] = await conn.query<RowDataPacket[]>('SELECT TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [names.Edx, 'EdxTrackEvent']);
  say(`dry run: would rebuild ${table} from the distinct (user, country) pairs of ${eventsOf(names)} (about ${plural(Number(est[0]?.n ?? 0), 'event')})`);
  return { tables: [] };
}

/** Users seen from no known country, for the notes. */
interface Tally {
  unknown: number;
}

/** The table built aside from the pairs streamed on a second connection, and swapped in. */
async function rebuild(ctx: JobContext): Promise<JobResult> {
  const { conn, connect, names, say } = ctx;
  const tally: Tally = { unknown: 0 };
  return withSecondConnection(connect, async (reader) => {
    say(`reading the distinct (user, country) pairs of ${eventsOf(names)}`);
    const n = await rebuildTable(conn, UserCountry, names, async (building) => {
      await loadRows(conn, UserCountry, names, rows(read(reader, names, say), tally), building);
    });
    const notes = tally.unknown ? [`${tally.unknown} row(s) of users seen from no known country (no IP, private addresses, unknown codes): ${UNKNOWN_COUNTRY.three}`] : [];
    return { tables: [{ name: UserCountry.name, rows: n }], notes };
  });
}

/** Read the distinct (user, country code) pairs of the clickstream, by user, as they arrive. */
async function* read(reader: Connection, names: JobContext['names'], say: (m: string) => void): AsyncGenerator<[string, string | null]> {
  const select =
    `SELECT anon_screen_name, ip_country FROM ${eventsOf(names)} WHERE anon_screen_name <> '' ` +
    'GROUP BY anon_screen_name, ip_country ORDER BY anon_screen_name, ip_country';
  const due = progressClock();
  let pairs = 0;
  for await (const pair of streamRows(reader, select) as AsyncIterable<[string, string | null]>) {
    pairs++;
    if (due()) say(`${pairs} user-country pairs read so far`);
    yield pair;
  }
}

/** The rows of the pairs, mapped; a user's codes that map to the same country give one row. */
async function* rows(pairs: AsyncIterable<[string, string | null]>, tally: Tally): AsyncGenerator<Value[]> {
  let user: string | undefined;
  const seen = new Set<string>();
  for await (const [anon, code] of pairs) {
    if (anon !== user) {
      user = anon;
      seen.clear();
    }
    const c = countryOf(code ?? '');
    if (seen.has(c.three)) continue;
    seen.add(c.three);
    if (c === UNKNOWN_COUNTRY) tally.unknown++;
    yield valuesOf(UserCountry, { anon_screen_name: anon, two_letter_country: c.two, three_letter_country: c.three, country: c.name });
  }
}
