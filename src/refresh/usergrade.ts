// Job usergrade (docs/original.md#job-usergrade, and Lti2Anon of docs/original.md#job-edxprod): EdxPrivate.UserGrade from this
// week's platform copy, then Lti2Anon and LearnerIdXlation from that UserGrade (the original built
// Lti2Anon from last week's UserGrade, docs/original.md#bug-9). The three are built under temporary names and
// swapped in together.
//
// anon_screen_name is computed here, from the username, by the function that gives the
// clickstream's anon_screen_name, and the rows are streamed in with LOAD DATA LOCAL: no
// server-side file, no FILE privilege, no rewriting a file mysqld wrote (docs/original.md#bug-18, #bug-8).
import type { RowDataPacket } from 'mysql2/promise';
import { anonScreenName } from '../core/values.js';
import { qualifiedName } from '../schema/ddl.js';
import { LearnerIdXlation, Lti2Anon, UserGrade } from '../schema/derived/platform.js';
import { valuesOf, type TableDef, type Value } from '../schema/table.js';
import { globalLtiJoin } from './edxprod.js';
import type { RefreshJob } from './job.js';
import { requireTables } from './requires.js';
import { checkedQuery, loadRows, rebuildTables } from './sql.js';
import { quoteIdent as q } from '../schema/sql-escape.js';
import { plural } from '../core/plural.js';

/** Learners read per round trip (their certificates come with them). */
const BATCH = 20_000;

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
  builds: [UserGrade, Lti2Anon, LearnerIdXlation],
  async run(ctx) {
    const { conn, names, dryRun, say } = ctx;
    const prod = names.edxprod;
    const ready = await requireTables(
      conn,
      ['auth_user', 'certificates_generatedcertificate', 'student_anonymoususerid'].map((table) => ({ db: prod, table, job: 'edxprod' })),
      ctx,
    );
    if (dryRun) {
      if (ready) {
        const [n] = await conn.query<RowDataPacket[]>(
          `SELECT (SELECT COUNT(*) FROM ${q(prod)}.auth_user) AS users, (SELECT COUNT(*) FROM ${q(prod)}.certificates_generatedcertificate) AS certs`,
        );
        say(`dry run: would read ${plural(Number(n[0].users), 'user')} and ${plural(Number(n[0].certs), 'certificate')} of ${prod}`);
      }
      say(`dry run: would rebuild ${[UserGrade, Lti2Anon, LearnerIdXlation].map((t) => qualifiedName(t, names, { quoted: true })).join(', ')} and swap them in together`);
      return { tables: [] };
    }

    const notes: string[] = [];
    let notNumbers = 0;
    const counts = await rebuildTables(conn, [UserGrade, Lti2Anon, LearnerIdXlation], names, async (building) => {
      // UserGrade: auth_user ⟕ certificates, a batch of learners at a time (one connection: the
      // rows of a batch are read, then loaded).
      let after = -1;
      let users = 0;
      for (;;) {
        const [batch] = await conn.query<RowDataPacket[]>(
          `SELECT id, username FROM ${q(prod)}.auth_user WHERE id > ? ORDER BY id LIMIT ${BATCH}`,
          [after],
        );
        if (batch.length === 0) break;
        const first = Number(batch[0].id);
        after = Number(batch[batch.length - 1].id);
        const [certs] = await conn.query<RowDataPacket[]>(
          `SELECT user_id, name, grade, course_id, distinction, status FROM ${q(prod)}.certificates_generatedcertificate
            WHERE user_id BETWEEN ? AND ? ORDER BY user_id, course_id`,
          [first, after],
        );
        const byUser = new Map<number, RowDataPacket[]>();
        for (const c of certs) {
          const id = Number(c.user_id);
          const list = byUser.get(id);
          if (list) list.push(c);
          else byUser.set(id, [c]);
        }
        const rows: Value[][] = [];
        for (const u of batch) {
          const id = Number(u.id);
          const screenName = String(u.username);
          const anon = anonScreenName(screenName);
          const mine = byUser.get(id);
          if (!mine) {
            rows.push(valuesOf(UserGrade, { name: '', screen_name: screenName, grade: 0, course_id: '', distinction: 0, status: '', user_int_id: id, anon_screen_name: anon }));
            continue;
          }
          for (const c of mine) {
            let grade = gradeOf(c.grade);
            if (grade === null) {
              notNumbers++;
              grade = 0;
            }
            rows.push(
              valuesOf(UserGrade, {
                name: String(c.name ?? ''),
                screen_name: screenName,
                grade,
                course_id: String(c.course_id ?? ''),
                distinction: Number(c.distinction) ? 1 : 0,
                status: String(c.status ?? ''),
                user_int_id: id,
                anon_screen_name: anon,
              }),
            );
          }
        }
        await loadRows(conn, UserGrade, names, rows, building(UserGrade));
        users += batch.length;
        if (users % (BATCH * 10) === 0) say(`${UserGrade.name}: ${users} learners`);
      }

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
    });
    if (notNumbers) notes.push(`${notNumbers} certificate grades were not numbers: stored as 0`);
    const tables = ([UserGrade, Lti2Anon, LearnerIdXlation] as TableDef[]).map((t, i) => ({ name: t.name, rows: counts[i] }));
    return { tables, notes };
  },
};
