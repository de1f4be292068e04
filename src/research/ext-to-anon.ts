// External (LTI) ids → anon_screen_name, from the Lti2Anon table edx-refresh builds in the
// platform copy (the original's makeExtToAnonTable did this through server-side files; here the
// ids go up in batches of parameters and the answers come back on the same connection).
import type { Connection } from 'mysql2/promise';
import { quoteIdent } from '../schema/sql-escape.js';

/** Ids asked per query: small enough for any max_allowed_packet, large enough to be quick. */
const BATCH = 1000;

export interface ExtToAnonCounts {
  ids: number;
  unknown: number;
}

/**
 * Each id of `ids` with its anon_screen_name, in input order (`undefined`: Lti2Anon has no such
 * id, or it belongs to no learner of auth_user). Memory holds one batch.
 */
export async function* extToAnon(
  conn: Connection, edxprodDb: string, ids: AsyncIterable<string>,
): AsyncGenerator<[string, string | undefined]> {
  const table = `${quoteIdent(edxprodDb)}.${quoteIdent('Lti2Anon')}`;
  let batch: string[] = [];
  const flush = async function* () {
    const unique = [...new Set(batch)];
    const [rows] = await conn.query({
      sql: `SELECT lti_id, anon_screen_name FROM ${table} WHERE lti_id IN (${unique.map(() => '?').join(',')})`,
      values: unique,
      rowsAsArray: true,
    });
    const found = new Map<string, string>();
    for (const [lti, anon] of rows as [string, string | null][]) if (anon !== null) found.set(lti, anon);
    for (const id of batch) yield [id, found.get(id)] as [string, string | undefined];
    batch = [];
  };
  for await (const id of ids) {
    batch.push(id);
    if (batch.length >= BATCH) yield* flush();
  }
  if (batch.length) yield* flush();
}
