// Job usergrade (docs/original.md#job-usergrade, and Lti2Anon of docs/original.md#job-edxprod): EdxPrivate.UserGrade from this
// week's platform copy, then Lti2Anon and LearnerIdXlation from that UserGrade (the original built
// Lti2Anon from last week's UserGrade, docs/original.md#bug-9). The three are built under temporary names and
// swapped in together.
//
// anon_screen_name is computed here, from the username, by the function that gives the
// clickstream's anon_screen_name, and the rows are streamed in with LOAD DATA LOCAL: no
// server-side file, no FILE privilege, no rewriting a file mysqld wrote (docs/original.md#bug-18, #bug-8).
import type { RowDataPacket } from 'mysql2/promise';
import { anonScreenName } from '../../core/values.js';
import { qualifiedName } from '../../schema/ddl.js';
import { LearnerIdXlation, Lti2Anon, UserGrade } from '../../schema/derived/platform.js';
import { valuesOf, type TableDef, type Value } from '../../schema/table.js';
import { globalLtiJoin } from './edxprod.js';
import { builtTables, type JobContext, type JobResult, type RefreshJob } from '../job.js';
import { requireTables } from '../requires.js';
import { checkedQuery, loadRows, rebuildTables } from '../sql.js';
import { quoteIdent as q } from '../../schema/sql-escape.js';
import { plural } from '../../core/plural.js';

/** Learners read per round trip (their certificates come with them). */
const BATCH = 20_000;

/** What the job rebuilds, together, in this order. */
const BUILDS = [UserGrade, Lti2Anon, LearnerIdXlation] as const;

/** A certificate's grade text ('0.87', '' before grading) as UserGrade's DOUBLE; null: not a number. */
function gradeOf(text: unknown): number | null {
  if (text === null || text === undefined || text === '') return 0;
  const s = String(text).trim();
  return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s) ? Number(s) : null;
}

export const usergrade: RefreshJob = {
  name: 'usergrade',
  summary: 'rebuild UserGrade, Lti2Anon and LearnerIdXlation from the edxprod copy',
  after: ['edxprod'],
  builds: [...BUILDS],
  async run(ctx) {
    const ready = await check(ctx);
    if (ctx.dryRun) return plan(ctx, ready);
    return rebuild(ctx);
  },
};

/** The platform tables read are there (in a dry run: false when not). */
function check(ctx: JobContext): Promise<boolean> {
  const { conn, names } = ctx;
  const tables = ['auth_user', 'certificates_generatedcertificate', 'student_anonymoususerid'];
  return requireTables(conn, tables.map((table) => ({ db: names.edxprod, table, job: 'edxprod' })), ctx);
}

/** Dry run: how much would be read, and what rebuilt. */
async function plan({ conn, names, say }: JobContext, ready: boolean): Promise<JobResult> {
  const prod = names.edxprod;
  if (ready) {
    const [n] = await conn.query<RowDataPacket[]>(
      `SELECT (SELECT COUNT(*) FROM ${q(prod)}.auth_user) AS users, (SELECT COUNT(*) FROM ${q(prod)}.certificates_generatedcertificate) AS certs`,
    );
    say(`dry run: would read ${plural(Number(n[0].users), 'user')} and ${plural(Number(n[0].certs), 'certificate')} of ${prod}`);
  }
  say(`dry run: would rebuild ${BUILDS.map((t) => qualifiedName(t, names, { quoted: true })).join(', ')} and swap them in together`);
  return { tables: [] };
}

/** Certificates whose grade was no number (stored as 0), for the notes. */
interface Tally {
  notNumbers: number;
}

/** UserGrade first, then Lti2Anon and LearnerIdXlation from it, all built aside and swapped in together. */
async function rebuild(ctx: JobContext): Promise<JobResult> {
  const tally: Tally = { notNumbers: 0 };
  const counts = await rebuildTables(ctx.conn, BUILDS, ctx.names, async (building) => {
    await loadUserGrade(ctx, building(UserGrade), tally);
    await fillFromUserGrade(ctx, building);
  });
  const notes = tally.notNumbers ? [`${tally.notNumbers} certificate grades were not numbers: stored as 0`] : [];
  return { tables: builtTables(BUILDS, counts), notes };
}

/** One batch of learners read: the users, and the certificates of each. */
interface Batch {
  users: RowDataPacket[];
  certificates: Map<number, RowDataPacket[]>;
}

/** Read the learners of ids after `after` (a batch of them, in id order) with their certificates; undefined: none left. */
async function read({ conn, names }: JobContext, after: number): Promise<Batch | undefined> {
  const prod = names.edxprod;
  const [users] = await conn.query<RowDataPacket[]>(`SELECT id, username FROM ${q(prod)}.auth_user WHERE id > ? ORDER BY id LIMIT ${BATCH}`, [after]);
  if (users.length === 0) return undefined;
  const [certs] = await conn.query<RowDataPacket[]>(
    `SELECT user_id, name, grade, course_id, distinction, status FROM ${q(prod)}.certificates_generatedcertificate
      WHERE user_id BETWEEN ? AND ? ORDER BY user_id, course_id`,
    [Number(users[0].id), Number(users[users.length - 1].id)],
  );
  const certificates = new Map<number, RowDataPacket[]>();
  for (const c of certs) {
    const id = Number(c.user_id);
    const list = certificates.get(id);
    if (list) list.push(c);
    else certificates.set(id, [c]);
  }
  return { users, certificates };
}

/** UserGrade's rows of a batch: one per certificate of a learner, or one without a certificate. */
function rows({ users, certificates }: Batch, tally: Tally): Value[][] {
  const out: Value[][] = [];
  for (const u of users) {
    const id = Number(u.id);
    const screenName = String(u.username);
    const learner = { screen_name: screenName, user_int_id: id, anon_screen_name: anonScreenName(screenName) };
    const mine = certificates.get(id);
    if (!mine) {
      out.push(valuesOf(UserGrade, { ...learner, name: '', grade: 0, course_id: '', distinction: 0, status: '' }));
      continue;
    }
    for (const c of mine) {
      let grade = gradeOf(c.grade);
      if (grade === null) {
        tally.notNumbers++;
        grade = 0;
      }
      const certificate = { name: String(c.name ?? ''), grade, course_id: String(c.course_id ?? ''), distinction: Number(c.distinction) ? 1 : 0, status: String(c.status ?? '') };
      out.push(valuesOf(UserGrade, { ...learner, ...certificate }));
    }
  }
  return out;
}

/** UserGrade: auth_user ⟕ certificates, a batch of learners at a time (one connection: a batch is read, then loaded). */
async function loadUserGrade(ctx: JobContext, as: string, tally: Tally): Promise<void> {
  let users = 0;
  let after = -1;
  for (let batch = await read(ctx, after); batch; batch = await read(ctx, after)) {
    after = Number(batch.users[batch.users.length - 1].id);
    await loadRows(ctx.conn, UserGrade, ctx.names, rows(batch, tally), as);
    users += batch.users.length;
    if (users % (BATCH * 10) === 0) ctx.say(`${UserGrade.name}: ${users} learners`);
  }
}

/** Lti2Anon and LearnerIdXlation from the UserGrade just built and the platform's anonymous ids. */
async function fillFromUserGrade({ conn, names }: JobContext, building: (t: TableDef) => string): Promise<void> {
  const prod = names.edxprod;
  const ug = qualifiedName(UserGrade, names, { quoted: true, as: building(UserGrade) });
  // One row per learner of UserGrade (it has one per certificate: docs/original.md#bug-11).
  const learners = `(SELECT user_int_id, MIN(anon_screen_name) AS anon_screen_name FROM ${ug} GROUP BY user_int_id)`;
  await checkedQuery(
    conn,
    `INSERT INTO ${qualifiedName(Lti2Anon, names, { quoted: true, as: building(Lti2Anon) })} (lti_id, anon_screen_name)
     SELECT a.anonymous_user_id, u.anon_screen_name FROM ${q(prod)}.student_anonymoususerid a
       LEFT JOIN ${learners} u ON u.user_int_id = a.user_id`,
  );
  // The same facts as the original's UserGrade ⟕ Lti2Anon ⟕ Lti2GlobalLti ⟕ student_anonymoususerid,
  // joined on user ids.
  await checkedQuery(
    conn,
    `INSERT INTO ${qualifiedName(LearnerIdXlation, names, { quoted: true, as: building(LearnerIdXlation) })}
       (anon_screen_name, user_int_id, lti_global_id, lti_course_dependent_id, course_display_name)
     SELECT DISTINCT u.anon_screen_name, u.user_int_id, g.anonymous_user_id, a.anonymous_user_id, a.course_id
       FROM ${learners} u
       LEFT JOIN ${q(prod)}.student_anonymoususerid a ON a.user_id = u.user_int_id
       ${globalLtiJoin(prod, 'a', 'g', 'LEFT JOIN')}`,
  );
}
