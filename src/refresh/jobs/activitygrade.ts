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
import { columnList, createTable, qualifiedName } from '../../schema/ddl.js';
import { ActivityGrade } from '../../schema/derived/platform.js';
import { valuesOf, type Value } from '../../schema/table.js';
import { fitNotes, fitRow, newFitCounters, type FitCounters } from '../../schema/fit.js';
import { isTrueCourseName } from '../../schema/test-courses.js';
import { Modulestore } from '../../modulestore/display-names.js';
import { firstHash, isObject, sanitize } from '../../core/values.js';
import type { JobContext, JobResult, RefreshJob } from '../job.js';
import { requireFresh, requireTables, type Needed } from '../requires.js';
import { checkedQuery, loadRows, rebuildTables, RefreshError, tableExists } from '../sql.js';
import { quoteIdent as q } from '../../schema/sql-escape.js';
import { plural } from '../../core/plural.js';

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

export const activitygrade: RefreshJob = {
  name: 'activitygrade',
  summary: 'add the module grades modified since the last run to ActivityGrade (--modulestore: names)',
  after: ['usergrade'],
  builds: [ActivityGrade],
  async run(ctx) {
    const ready = await check(ctx);
    const modulestore = readModulestore(ctx);
    const how = await howToBuild(ctx);
    if (ctx.dryRun) return plan(ctx, ready, how);
    const tally: Tally = { rows: 0, testCourses: 0, badState: 0, fit: newFitCounters() };
    ctx.say(`${how.table}: ${how.what}`);
    if (how.incremental) await replaceChanged(ctx, how.since, modulestore, tally);
    else await rebuild(ctx, modulestore, tally);
    return result(ctx, how, tally);
  },
};

/**
 * The studentmodule copy and this run's LearnerIdXlation are there, the second built from the
 * first (in a dry run a missing or stale table is said, and false returned when missing).
 */
async function check(ctx: JobContext): Promise<boolean> {
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
  return ready;
}

/** The display names of --modulestore, if given (else none: resource_display_name stays empty). */
function readModulestore({ inputs, say }: JobContext): Modulestore {
  if (!inputs.modulestore) return Modulestore.empty();
  let modulestore: Modulestore;
  try {
    modulestore = Modulestore.fromFile(inputs.modulestore);
  } catch (e) {
    throw new RefreshError(`--modulestore ${inputs.modulestore}: ${(e as Error).message}`);
  }
  say(`${plural(modulestore.size, 'module')} of ${inputs.modulestore} for resource_display_name`);
  return modulestore;
}

/** How this run builds the table: whole, or the rows modified since `since` added or replaced. */
interface How {
  /** The table, qualified and quoted. */
  table: string;
  incremental: boolean;
  since: string;
  /** What will be done, for messages. */
  what: string;
}

async function howToBuild(ctx: JobContext): Promise<How> {
  const { conn, names } = ctx;
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
  const what = !exists
    ? 'build it whole'
    : incremental
      ? `add or replace the rows modified since ${since}`
      : "replace the original's table (no key) by one built whole";
  return { table, incremental, since, what };
}

/** Dry run: what would be done, and how many rows read when the tables read are there. */
async function plan({ conn, names, say }: JobContext, ready: boolean, how: How): Promise<JobResult> {
  if (ready) {
    const [n] = await conn.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM ${q(names.edxprod)}.courseware_studentmodule WHERE grade IS NOT NULL AND modified >= ?`,
      [how.since],
    );
    say(`dry run: ${how.table}: would ${how.what}: ${n[0].n} graded studentmodule rows to read`);
  } else {
    say(`dry run: ${how.table}: would ${how.what}`);
  }
  return { tables: [] };
}

/** The whole table built aside and swapped in. */
async function rebuild(ctx: JobContext, modulestore: Modulestore, tally: Tally): Promise<void> {
  const { conn, names } = ctx;
  await rebuildTables(conn, [ActivityGrade], names, async (building) => {
    await readRows(ctx, BEGINNING, modulestore, tally, async (rows) => {
      await loadRows(conn, ActivityGrade, names, rows, building(ActivityGrade));
    });
  });
}

/** The rows modified since `since` collected beside the table, then replacing theirs in one statement. */
async function replaceChanged(ctx: JobContext, since: string, modulestore: Modulestore, tally: Tally): Promise<void> {
  const { conn, names } = ctx;
  const changesName = ActivityGrade.name + '__changes';
  const changes = qualifiedName(ActivityGrade, names, { quoted: true, as: changesName });
  await conn.query(`DROP TABLE IF EXISTS ${changes}`);
  await checkedQuery(conn, createTable(ActivityGrade, names, { quoted: true, as: changesName }));
  try {
    await readRows(ctx, since, modulestore, tally, async (rows) => {
      await loadRows(conn, ActivityGrade, names, rows, changesName);
    });
    const columns = columnList(ActivityGrade, { quoted: true });
    await checkedQuery(conn, `REPLACE INTO ${qualifiedName(ActivityGrade, names, { quoted: true })} (${columns}) SELECT ${columns} FROM ${changes}`);
  } finally {
    await conn.query(`DROP TABLE IF EXISTS ${changes}`).catch(() => undefined);
  }
}

/** The table's row count, and what this run added, left out or cut. */
async function result(ctx: JobContext, how: How, tally: Tally): Promise<JobResult> {
  const [total] = await ctx.conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${how.table}`);
  const notes = [`${plural(tally.rows, 'row')} ${how.incremental ? `added or replaced (modified since ${how.since})` : 'built'}`];
  if (tally.testCourses) notes.push(`${tally.testCourses} graded rows of test courses left out`);
  if (tally.badState) notes.push(`${plural(tally.badState, 'row')} whose state is not JSON: no answers or attempts`);
  notes.push(...fitNotes(tally.fit));
  if (!ctx.inputs.modulestore) notes.push('no --modulestore: resource_display_name is empty');
  return { tables: [{ name: ActivityGrade.name, rows: Number(total[0].n) }], notes };
}

/** A page of graded studentmodule rows, with the anon_screen_name of each student in it. */
interface Page {
  rows: RowDataPacket[];
  anonOf: Map<number, string>;
}

/** Read the page of graded studentmodule rows after (modified, id) `after` (keyset order); undefined: none left. */
async function read({ conn, names }: JobContext, after: { modified: string; id: number }): Promise<Page | undefined> {
  const [rows] = await conn.query<RowDataPacket[]>(
    `SELECT id, student_id, course_id, grade, max_grade, state, created, modified, module_type, module_id FROM ${q(names.edxprod)}.courseware_studentmodule
      WHERE grade IS NOT NULL AND (modified > ? OR (modified = ? AND id > ?)) ORDER BY modified, id LIMIT ${PAGE}`,
    [after.modified, after.modified, after.id],
  );
  if (rows.length === 0) return undefined;
  const students = [...new Set(rows.map((r) => Number(r.student_id)))];
  const [anons] = await conn.query<RowDataPacket[]>(
    `SELECT user_int_id, MIN(anon_screen_name) AS anon FROM ${q(names.EdxPrivate)}.LearnerIdXlation WHERE user_int_id IN (?) GROUP BY user_int_id`,
    [students],
  );
  return { rows, anonOf: new Map(anons.map((a) => [Number(a.user_int_id), String(a.anon ?? '')])) };
}

/** The ActivityGrade row of a studentmodule row (values fitted to their columns), or undefined for a test course's. */
function row(r: RowDataPacket, anon: string, modulestore: Modulestore, tally: Tally): Value[] | undefined {
  const course = String(r.course_id);
  if (!isTrueCourseName(course)) {
    tally.testCourses++;
    return undefined;
  }
  const grade = r.grade === null ? null : Number(r.grade);
  const max = r.max_grade === null ? null : Number(r.max_grade);
  const { parts, answers, attempts } = fromState(r.state, tally);
  const moduleId = String(r.module_id);
  const hash = modulestore.size ? firstHash(moduleId) : undefined;
  const display = hash ? sanitize(modulestore.displayName(hash) ?? '') : '';
  const values = valuesOf(ActivityGrade, {
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
    anon_screen_name: anon,
    resource_display_name: display,
    module_id: moduleId,
  });
  return fitRow(ActivityGrade, values, tally.fit);
}

/**
 * Read the graded studentmodule rows modified at or after `since`, a page at a time, as
 * ActivityGrade rows; each page is handed to `load`.
 */
async function readRows(ctx: JobContext, since: string, modulestore: Modulestore, tally: Tally, load: (rows: Value[][]) => Promise<void>) {
  const after = { modified: since, id: -1 };
  for (let page = await read(ctx, after); page; page = await read(ctx, after)) {
    const last = page.rows[page.rows.length - 1];
    after.modified = String(last.modified);
    after.id = Number(last.id);
    const rows: Value[][] = [];
    for (const r of page.rows) {
      const values = row(r, page.anonOf.get(Number(r.student_id)) ?? '', modulestore, tally);
      if (values) rows.push(values);
    }
    if (rows.length) await load(rows);
    const before = tally.rows;
    tally.rows += rows.length;
    if (Math.floor(tally.rows / 100_000) > Math.floor(before / 100_000)) ctx.say(`${plural(tally.rows, 'row')}, modified up to ${after.modified}`);
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
