// Job activitygrade (docs/original.md#job-activitygrade): Edx.ActivityGrade, one row per graded module of a
// learner, from edxprod.courseware_studentmodule, with the learner's anon_screen_name from this
// run's LearnerIdXlation (the original ran before the grades job and used last week's, docs/original.md#bug-9).
//
// Incremental as the original, with its bugs fixed (docs/original.md#bug-10): the rows read are those
// *modified* since the newest last_submit already in the table (the original joined `created`
// against `modified` and so only saw rows never modified), and each one replaces its row by its
// id (the original appended a row modified again once more). percent_grade is the quotient of the
// grades rounded to two places (the original truncated both grades to integers first); course
// names are kept as they are (the original's awk filter lower-cased them); test courses are left
// out by the rule of isTrueCourseName (schema/test-courses.ts).
//
// A first run, or a run over the original's table (no key, duplicates, lower-cased names),
// builds the table whole under a temporary name and swaps it in.
import type { RowDataPacket } from 'mysql2/promise';
import { columnList, createTable, qualifiedName } from '../schema/ddl.js';
import { ActivityGrade } from '../schema/derived/platform.js';
import { valuesOf, type Value } from '../schema/table.js';
import { fitNotes, fitRow, newFitCounters, type FitCounters } from '../schema/fit.js';
import { isTrueCourseName } from '../schema/test-courses.js';
import { Modulestore } from '../modulestore/display-names.js';
import { firstHash, isObject, sanitize } from '../core/values.js';
import type { JobContext, RefreshJob } from './job.js';
import { requireFresh, requireTables, type Needed } from './requires.js';
import { checkedQuery, loadRows, rebuildTables, RefreshError, tableExists } from './sql.js';
import { quoteIdent as q } from '../schema/sql-escape.js';
import { plural } from '../core/plural.js';

/** Studentmodule rows read per round trip. */
const PAGE = 5_000;
/** The earliest DATETIME: "since the beginning" for a whole build. */
const BEGINNING = '1000-01-01 00:00:00';

/** What the rows of one run left out or cut, for the notes. */
interface Tally {
  rows: number;
  testCourses: number;
  badState: number;
  /** Values made to fit their columns (text cut to its column's width), counted. */
  fit: FitCounters;
}

/** A student answer as text: lists (checkbox problems) as their items joined by ','. */
const answerText = (v: unknown): string =>
  typeof v === 'string' ? v : Array.isArray(v) ? v.map(answerText).join(',') : v === null || v === undefined ? '' : JSON.stringify(v);

/** parts_correctness, answers and num_attempts of a checked problem's state; '', '', -1 otherwise. */
function fromState(state: unknown, tally: Tally): { parts: string; answers: string; attempts: number } {
  const none = { parts: '', answers: '', attempts: -1 };
  if (typeof state !== 'string' || !state.includes('correct_map')) return none;
  let s: unknown;
  try {
    s = JSON.parse(state);
  } catch {
    tally.badState++;
    return none;
  }
  if (!isObject(s) || !isObject(s.correct_map)) return none;
  const parts = Object.values(s.correct_map).map((c) => (isObject(c) && c.correctness === 'correct' ? '+' : '-')).join('');
  const answers = isObject(s.student_answers) ? Object.values(s.student_answers).map(answerText).join(',') : '';
  const attempts = typeof s.attempts === 'number' && Number.isInteger(s.attempts) ? s.attempts : -1;
  return { parts, answers, attempts };
}

/** round(x, 2), halves away from zero. */
const round2 = (x: number) => (Math.sign(x) * Math.round(Math.abs(x) * 100)) / 100;

/** A DATETIME(6) as DATETIME: the fraction dropped, as the server does when it converts. */
const seconds = (t: unknown) => (t === null || t === undefined ? null : String(t).slice(0, 19));

/**
 * Read the graded studentmodule rows modified at or after `since`, a page at a time (keyset on
 * modified, id), as ActivityGrade rows; each page is handed to `load`.
 */
async function readRows(ctx: JobContext, since: string, modulestore: Modulestore, tally: Tally, load: (rows: Value[][]) => Promise<void>) {
  const { conn, names, say } = ctx;
  const csm = `${q(names.edxprod)}.courseware_studentmodule`;
  const xlation = `${q(names.EdxPrivate)}.LearnerIdXlation`;
  let lastModified = since;
  let lastId = -1;
  for (;;) {
    const [page] = await conn.query<RowDataPacket[]>(
      `SELECT id, student_id, course_id, grade, max_grade, state, created, modified, module_type, module_id FROM ${csm}
        WHERE grade IS NOT NULL AND (modified > ? OR (modified = ? AND id > ?)) ORDER BY modified, id LIMIT ${PAGE}`,
      [lastModified, lastModified, lastId],
    );
    if (page.length === 0) return;
    lastModified = String(page[page.length - 1].modified);
    lastId = Number(page[page.length - 1].id);
    const students = [...new Set(page.map((r) => Number(r.student_id)))];
    const [anons] = await conn.query<RowDataPacket[]>(
      `SELECT user_int_id, MIN(anon_screen_name) AS anon FROM ${xlation} WHERE user_int_id IN (?) GROUP BY user_int_id`,
      [students],
    );
    const anonOf = new Map(anons.map((a) => [Number(a.user_int_id), String(a.anon ?? '')]));
    const rows: Value[][] = [];
    for (const r of page) {
      const course = String(r.course_id);
      if (!isTrueCourseName(course)) {
        tally.testCourses++;
        continue;
      }
      const grade = r.grade === null ? null : Number(r.grade);
      const max = r.max_grade === null ? null : Number(r.max_grade);
      const { parts, answers, attempts } = fromState(r.state, tally);
      const moduleId = String(r.module_id);
      const hash = modulestore.size ? firstHash(moduleId) : undefined;
      const display = hash ? sanitize(modulestore.displayName(hash) ?? '') : '';
      const row = valuesOf(ActivityGrade, {
        activity_grade_id: Number(r.id),
        student_id: Number(r.student_id),
        course_display_name: course,
        grade,
        max_grade: max,
        percent_grade: grade !== null && max ? round2((grade * 100) / max) : null,
        parts_correctness: parts,
        answers,
        num_attempts: attempts,
        first_submit: seconds(r.created),
        last_submit: seconds(r.modified),
        module_type: String(r.module_type),
        anon_screen_name: anonOf.get(Number(r.student_id)) ?? '',
        resource_display_name: display,
        module_id: moduleId,
      });
      rows.push(fitRow(ActivityGrade, row, tally.fit));
    }
    if (rows.length) await load(rows);
    const before = tally.rows;
    tally.rows += rows.length;
    if (Math.floor(tally.rows / 100_000) > Math.floor(before / 100_000)) say(`${plural(tally.rows, 'row')}, modified up to ${lastModified}`);
  }
}

/** The table exists and is ours (keyed by activity_grade_id), not the original's. */
async function keyed(ctx: JobContext): Promise<boolean> {
  const [rows] = await ctx.conn.query<RowDataPacket[]>(
    "SELECT GROUP_CONCAT(COLUMN_NAME) AS k FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY'",
    [ctx.names.Edx, ActivityGrade.name],
  );
  return rows[0].k === 'activity_grade_id';
}

export const activitygrade: RefreshJob = {
  name: 'activitygrade',
  summary: 'add the module grades modified since the last run to ActivityGrade (--modulestore: names)',
  after: ['usergrade'],
  builds: [ActivityGrade],
  async run(ctx) {
    const { conn, names, dryRun, say } = ctx;
    const csm: Needed = { db: names.edxprod, table: 'courseware_studentmodule', job: 'edxprod' };
    const xlation: Needed = { db: names.EdxPrivate, table: 'LearnerIdXlation', job: 'usergrade' };
    const ready = await requireTables(conn, [csm, xlation], ctx);
    if (ready) {
      try {
        await requireFresh(conn, xlation, csm);
      } catch (e) {
        if (!dryRun) throw e;
        say(`dry run: ${(e as Error).message}`);
      }
    }
    let modulestore = Modulestore.empty();
    if (ctx.inputs.modulestore) {
      try {
        modulestore = Modulestore.fromFile(ctx.inputs.modulestore);
      } catch (e) {
        throw new RefreshError(`--modulestore ${ctx.inputs.modulestore}: ${(e as Error).message}`);
      }
      say(`${plural(modulestore.size, 'module')} of ${ctx.inputs.modulestore} for resource_display_name`);
    }

    const table = qualifiedName(ActivityGrade, names, { quoted: true });
    const exists = await tableExists(conn, names.Edx, ActivityGrade.name);
    const incremental = exists && (await keyed(ctx));
    let since = BEGINNING;
    if (incremental) {
      const [m] = await conn.query<RowDataPacket[]>(`SELECT MAX(last_submit) AS m FROM ${table}`);
      // At, not after, the newest: rows modified in that same second after the last run count too
      // (reading one twice only replaces it with itself).
      if (m[0].m !== null) since = String(m[0].m);
    }
    const how = !exists
      ? 'build it whole'
      : incremental
        ? `add or replace the rows modified since ${since}`
        : "replace the original's table (no key) by one built whole";

    if (dryRun) {
      if (ready) {
        const [n] = await conn.query<RowDataPacket[]>(
          `SELECT COUNT(*) AS n FROM ${q(names.edxprod)}.courseware_studentmodule WHERE grade IS NOT NULL AND modified >= ?`,
          [since],
        );
        say(`dry run: ${table}: would ${how}: ${n[0].n} graded studentmodule rows to read`);
      } else {
        say(`dry run: ${table}: would ${how}`);
      }
      return { tables: [] };
    }

    const tally: Tally = { rows: 0, testCourses: 0, badState: 0, fit: newFitCounters() };
    say(`${table}: ${how}`);
    if (!incremental) {
      await rebuildTables(conn, [ActivityGrade], names, async (building) => {
        await readRows(ctx, since, modulestore, tally, async (rows) => {
          await loadRows(conn, ActivityGrade, names, rows, building(ActivityGrade));
        });
      });
    } else {
      // The changed rows are collected beside the table, then replace theirs in one statement.
      const changesName = ActivityGrade.name + '__changes';
      const changes = qualifiedName(ActivityGrade, names, { quoted: true, as: changesName });
      await conn.query(`DROP TABLE IF EXISTS ${changes}`);
      await checkedQuery(conn, createTable(ActivityGrade, names, { quoted: true, as: changesName }));
      try {
        await readRows(ctx, since, modulestore, tally, async (rows) => {
          await loadRows(conn, ActivityGrade, names, rows, changesName);
        });
        await checkedQuery(conn, `REPLACE INTO ${table} (${columnList(ActivityGrade, { quoted: true })}) SELECT ${columnList(ActivityGrade, { quoted: true })} FROM ${changes}`);
      } finally {
        await conn.query(`DROP TABLE IF EXISTS ${changes}`).catch(() => undefined);
      }
    }

    const [total] = await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${table}`);
    const notes = [`${plural(tally.rows, 'row')} ${incremental ? `added or replaced (modified since ${since})` : 'built'}`];
    if (tally.testCourses) notes.push(`${tally.testCourses} graded rows of test courses left out`);
    if (tally.badState) notes.push(`${plural(tally.badState, 'row')} whose state is not JSON: no answers or attempts`);
    notes.push(...fitNotes(tally.fit));
    if (!ctx.inputs.modulestore) notes.push('no --modulestore: resource_display_name is empty');
    return { tables: [{ name: ActivityGrade.name, rows: Number(total[0].n) }], notes };
  },
};
