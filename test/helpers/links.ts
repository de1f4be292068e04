// The links between the warehouse's tables (docs/tables.md#links-between-tables): a column holding another row's id.
// Tests check that every link names a row that exists, in memory or in a loaded database.
import type { Test } from 'tap';
import { testConnection } from './mariadb.js';

export interface Link {
  table: string;
  column: string;
  /** The table and key the column names. */
  ref: string;
  key: string;
  /** The database the table is in: the public one (Edx) or the private one (EdxPrivate). */
  private?: boolean;
}

export const LINKS: readonly Link[] = [
  { table: 'EdxTrackEvent', column: 'answer_fk', ref: 'Answer', key: 'answer_id' },
  { table: 'EdxTrackEvent', column: 'correctMap_fk', ref: 'CorrectMap', key: 'correct_map_id' },
  { table: 'EdxTrackEvent', column: 'state_fk', ref: 'State', key: 'state_id' },
  { table: 'State', column: 'student_answer', ref: 'Answer', key: 'answer_id' },
  { table: 'State', column: 'correct_map', ref: 'CorrectMap', key: 'correct_map_id' },
  { table: 'State', column: 'input_state', ref: 'InputState', key: 'input_state_id' },
  { table: 'EventIp', column: 'event_table_id', ref: 'EdxTrackEvent', key: '_id', private: true },
  { table: 'ABExperiment', column: 'event_table_id', ref: 'EdxTrackEvent', key: '_id' },
  { table: 'OpenAssessment', column: 'event_table_id', ref: 'EdxTrackEvent', key: '_id' },
  { table: 'EventPayload', column: 'event_table_id', ref: 'EdxTrackEvent', key: '_id' },
];

/**
 * In the databases `edx` and `priv`: every non-empty link names a row (anti-joins on the keys).
 * Returns how many links each column holds, for tests that also want them used.
 */
export async function checkLinksInDatabase(t: Test, edx: string, priv: string): Promise<Map<Link, number>> {
  const used = new Map<Link, number>();
  const c = await testConnection();
  try {
    for (const link of LINKS) {
      const { table, column, ref, key } = link;
      const [found] = await c.query(
        `SELECT COUNT(*) AS linked, SUM(r.${key} IS NULL) AS dangling FROM ${link.private ? priv : edx}.${table} t ` +
          `LEFT JOIN ${edx}.${ref} r ON r.${key} = t.${column} WHERE t.${column} <> ''`,
      );
      const { linked, dangling } = (found as { linked: number; dangling: string | null }[])[0];
      t.equal(Number(dangling ?? 0), 0, `${table}.${column}: all ${linked} links name a row of ${ref}`);
      used.set(link, Number(linked));
    }
  } finally {
    await c.end();
  }
  return used;
}
