// A course extract (the original's makeCourseExtract): the events of the courses whose
// course_display_name matches a MySQL regular expression, each with its answer, copied into a
// table of their own. Everything runs on the server: the extract is built under a building name
// in chunks (INSERT … SELECT over a range of _id within one course, each chunk its own short
// transaction, so no clickstream row stays locked for long), then given its name by one RENAME:
// a failed or interrupted extract leaves no half table under the name.
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { quoteIdent as q } from '../schema/sql-escape.js';
import { plural } from '../core/plural.js';

/**
 * The columns the original meant its default extract to have (it named `ip`, a column the table
 * never had; the country of the address is what the warehouse keeps).
 */
export const DEFAULT_COLUMNS = [
  'anon_screen_name', 'event_type', 'ip_country', 'time', 'course_display_name', 'resource_display_name',
  'success', 'goto_from', 'goto_dest', 'attempts', 'video_code', 'video_current_time', 'video_new_speed',
  'video_old_speed', 'video_seek_type',
] as const;

/** Indexes of the extract (the original's list; columns absent from the extract are skipped). */
const INDEXES: readonly [string, string][] = [
  ['anon_screen_name', 'anon_screen_name(40)'],
  ['event_type', 'event_type(255)'],
  ['ip_country', 'ip_country(3)'],
  ['course_display_name', 'course_display_name(255)'],
  ['resource_display_name', 'resource_display_name(255)'],
  ['success', 'success(15)'],
  ['time', 'time'],
  ['answer', 'answer(255)'],
  ['video_seek_type', 'video_seek_type(32)'],
];

/** Rows per INSERT … SELECT: each holds its source rows' locks only that long. */
export const CHUNK_ROWS = 10_000;

export interface ExtractOptions {
  /** MySQL regular expression on course_display_name (REGEXP). */
  pattern: string;
  edxDb: string;
  extractsDb: string;
  table: string;
  /** EdxTrackEvent.* and the answer, instead of DEFAULT_COLUMNS and the answer. */
  allColumns: boolean;
  /** An existing table of that name is replaced (else it is an error). */
  replace: boolean;
  chunkRows?: number;
  onProgress?: (copied: number, course: string) => void;
}

export interface ExtractPlan {
  courses: { name: string; events: number }[];
  events: number;
}

export class ExtractError extends Error {}

/** The matching courses and their event counts (what --dry-run prints; nothing is changed). */
export async function planExtract(conn: Connection, opts: Pick<ExtractOptions, 'pattern' | 'edxDb'>): Promise<ExtractPlan> {
  let rows: RowDataPacket[];
  try {
    [rows] = await conn.query<RowDataPacket[]>(
      `SELECT course_display_name AS name, COUNT(*) AS events FROM ${q(opts.edxDb)}.EdxTrackEvent
       WHERE course_display_name REGEXP ? GROUP BY course_display_name ORDER BY course_display_name`,
      [opts.pattern],
    );
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ER_REGEXP_ERROR' || /regexp|regular expression/i.test((e as Error).message)) {
      throw new ExtractError(`'${opts.pattern}' is not a MySQL regular expression: ${(e as Error).message}`);
    }
    throw e;
  }
  const courses = rows.map((r) => ({ name: String(r.name), events: Number(r.events) }));
  return { courses, events: courses.reduce((n, c) => n + c.events, 0) };
}

async function tableExists(conn: Connection, db: string, table: string): Promise<boolean> {
  const [rows] = await conn.query<RowDataPacket[]>(
    'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db, table]);
  return rows.length > 0;
}

/** Build the extract; returns the plan it copied (its counts are the rows now in the table). */
export async function makeExtract(conn: Connection, opts: ExtractOptions): Promise<ExtractPlan> {
  const target = `${q(opts.extractsDb)}.${q(opts.table)}`;
  if (!opts.replace && (await tableExists(conn, opts.extractsDb, opts.table))) {
    throw new ExtractError(`${opts.extractsDb}.${opts.table} exists already (--replace replaces it)`);
  }
  const plan = await planExtract(conn, opts);
  if (plan.courses.length === 0) throw new ExtractError(`no course_display_name matches '${opts.pattern}'; nothing was made`);
  const building = `${q(opts.extractsDb)}.${q(`${opts.table}__building`)}`;
  const events = `${q(opts.edxDb)}.EdxTrackEvent`;
  const answers = `${q(opts.edxDb)}.Answer`;
  const selected = opts.allColumns ? 'e.*' : DEFAULT_COLUMNS.map((c) => `e.${q(c)}`).join(', ');
  const from = `FROM ${events} e LEFT JOIN ${answers} a ON a.answer_id = e.answer_fk`;

  await conn.query(`CREATE DATABASE IF NOT EXISTS ${q(opts.extractsDb)} DEFAULT CHARACTER SET utf8mb4`);
  await conn.query(`DROP TABLE IF EXISTS ${building}`);
  // The columns' types come from the warehouse itself; the answer may be absent (NULL).
  await conn.query(`CREATE TABLE ${building} ENGINE=InnoDB AS SELECT ${selected}, a.answer ${from} WHERE FALSE`);
  try {
    const chunk = opts.chunkRows ?? CHUNK_ROWS;
    let copied = 0;
    for (const course of plan.courses) {
      // Walk the course's events in _id order (the course index holds the primary key), a chunk
      // at a time: find the chunk's last _id, then copy up to it.
      let after = '';
      for (;;) {
        const [bound] = await conn.query<RowDataPacket[]>(
          `SELECT _id FROM ${events} WHERE course_display_name = ? AND _id > ? ORDER BY _id LIMIT 1 OFFSET ?`,
          [course.name, after, chunk - 1],
        );
        const upTo: string | undefined = bound.length ? String(bound[0]._id) : undefined;
        const [res] = await conn.query(
          `INSERT INTO ${building} SELECT ${selected}, a.answer ${from}
           WHERE e.course_display_name = ? AND e._id > ?${upTo === undefined ? '' : ' AND e._id <= ?'}`,
          upTo === undefined ? [course.name, after] : [course.name, after, upTo],
        );
        copied += (res as { affectedRows: number }).affectedRows;
        opts.onProgress?.(copied, course.name);
        if (upTo === undefined) break;
        after = upTo;
      }
    }
    const [cols] = await conn.query<RowDataPacket[]>(
      'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      [opts.extractsDb, `${opts.table}__building`]);
    const have = new Set(cols.map((r) => String(r.c)));
    const indexes = INDEXES.filter(([col]) => have.has(col)).map(([col, spec]) => `ADD INDEX ${q(`${col}Idx`)} (${spec})`);
    if (indexes.length) await conn.query(`ALTER TABLE ${building} ${indexes.join(', ')}`);
    const [[{ n }]] = await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${building}`);
    if (Number(n) !== copied) throw new ExtractError(`copied ${plural(copied, 'row')} but the extract holds ${n}`);
    // One RENAME swaps the new table in (and the old one out, when replacing).
    const old = `${q(opts.extractsDb)}.${q(`${opts.table}__old`)}`;
    await conn.query(`DROP TABLE IF EXISTS ${old}`);
    if (await tableExists(conn, opts.extractsDb, opts.table)) {
      await conn.query(`RENAME TABLE ${target} TO ${old}, ${building} TO ${target}`);
      await conn.query(`DROP TABLE ${old}`);
    } else {
      await conn.query(`RENAME TABLE ${building} TO ${target}`);
    }
    return plan;
  } catch (e) {
    await conn.query(`DROP TABLE IF EXISTS ${building}`).catch(() => undefined);
    throw e;
  }
}

/** A table name from a pattern: its letters, digits and underscores, runs of others as one '_'. */
export function tableNameOf(pattern: string): string | undefined {
  const name = pattern.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  return name !== '' && name.length <= 56 ? name : undefined;
}
