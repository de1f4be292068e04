// Job edxprod (docs/original.md#job-edxprod): the platform tables of an edxapp dump copied into edxprod,
// and the two tables derived from them alone, true_courseenrollment and Lti2GlobalLti.
//
// Everything is built in a database of its own (`<edxprod>__load`): the dump's sections run there
// as they are (their CREATE TABLEs, keys and foreign keys included; foreign key names are unique
// per database, so the tables could not be built beside last week's under other names), the
// derived tables are made from them there, and one RENAME then moves every new table into edxprod
// and last week's out. A reader sees last week's copy or this week's, never a mixture; a failed
// or cut load leaves last week's copy as it was.
import type { RowDataPacket } from 'mysql2/promise';
import { Writable } from 'node:stream';
import { extractFromDump } from '../../dump/extract.js';
import { createDatabase, createTable, qualifiedName } from '../../schema/ddl.js';
import type { DatabaseNames } from '../../schema/table.js';
import { Lti2GlobalLti, PLATFORM_TABLES, TrueCourseEnrollment } from '../../schema/derived/platform.js';
import { loadDumpTables } from '../dump-load.js';
import type { JobContext, JobResult, RefreshJob } from '../job.js';
import { checkedQuery, RefreshError, tableExists } from '../sql.js';
import { quoteIdent as q } from '../../schema/sql-escape.js';

/** The databases the copy is built in and last week's copy is moved to before it is dropped. */
function workDatabases(names: Required<DatabaseNames>): { load: string; retired: string } {
  const load = `${names.edxprod}__load`;
  const retired = `${names.edxprod}__retired`;
  if (retired.length > 64) throw new RefreshError(`--edxprod-db ${names.edxprod}: too long to build beside (${retired} is over 64 characters)`);
  return { load, retired };
}

/**
 * The join that pairs the student_anonymoususerid row `a` with row `g`, the same learner's global
 * LTI id (course_id ''), in database `db`: the one definition behind Lti2GlobalLti and
 * LearnerIdXlation's lti_global_id. Joined on user ids, never on id text (the dump's collation
 * need not be ours).
 */
export const globalLtiJoin = (db: string, a: string, g: string, kind: 'JOIN' | 'LEFT JOIN' = 'JOIN') =>
  `${kind} ${q(db)}.student_anonymoususerid ${g} ON ${g}.user_id = ${a}.user_id AND ${g}.course_id = ''`;

/** Fill the derived tables in the load database from the tables just copied there. */
async function buildDerived(ctx: JobContext, db: string): Promise<{ left: number; hasColumn: boolean }> {
  const { conn } = ctx;
  const there: Required<DatabaseNames> = { ...ctx.names, edxprod: db };
  for (const t of [TrueCourseEnrollment, Lti2GlobalLti]) await checkedQuery(conn, createTable(t, there, { quoted: true }));

  // docs/original.md#bug-12: the original's LEFT JOIN to the profile filtered nothing. Left out now: the
  // enrollments of users whose profile says nonregistered. A user without a profile row is kept
  // (nothing says they are not registered); a platform whose profiles have no such column has
  // no nonregistered users.
  const [cols] = await conn.query<RowDataPacket[]>(
    "SELECT COUNT(*) AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'auth_userprofile' AND COLUMN_NAME = 'nonregistered'",
    [db],
  );
  const hasColumn = Number(cols[0].n) > 0;
  const nonregistered = hasColumn
    ? `EXISTS (SELECT 1 FROM ${q(db)}.auth_userprofile p WHERE p.user_id = e.user_id AND p.nonregistered <> 0)`
    : '0';
  await checkedQuery(
    conn,
    `INSERT INTO ${qualifiedName(TrueCourseEnrollment, there, { quoted: true })} (user_id, course_display_name, created, mode)
     SELECT e.user_id, e.course_id, e.created, e.mode FROM ${q(db)}.student_courseenrollment e
      WHERE e.is_active = 1 AND NOT ${nonregistered}`,
  );
  const [left] = await conn.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n FROM ${q(db)}.student_courseenrollment e WHERE e.is_active = 1 AND ${nonregistered}`,
  );
  await checkedQuery(
    conn,
    `INSERT INTO ${qualifiedName(Lti2GlobalLti, there, { quoted: true })} (course_dependent_lti_id, global_lti_id)
     SELECT a.anonymous_user_id, g.anonymous_user_id FROM ${q(db)}.student_anonymoususerid a ${globalLtiJoin(db, 'a', 'g')}`,
  );
  return { left: Number(left[0].n), hasColumn };
}

/**
 * After the swap, the foreign keys of edxprod's tables that point into the work databases point
 * back into edxprod, as the dump wrote them. InnoDB keeps a foreign key pointing at its parent by
 * database and name: a key created in the load database whose parent is not copied (say
 * student_courseenrollment → course_overviews_courseoverview) still names the load database
 * after its table moved; and a kept table's key followed its parent out to the retired database.
 */
async function repointForeignKeys(ctx: JobContext, work: readonly string[]): Promise<number> {
  const { conn } = ctx;
  const prod = ctx.names.edxprod;
  const [keys] = await conn.query<RowDataPacket[]>(
    `SELECT DISTINCT TABLE_NAME AS t, CONSTRAINT_NAME AS name FROM information_schema.KEY_COLUMN_USAGE
      WHERE TABLE_SCHEMA = ? AND REFERENCED_TABLE_SCHEMA IN (?)`,
    [prod, work],
  );
  for (const k of keys) {
    const table = `${q(prod)}.${q(String(k.t))}`;
    // The key as the server writes it, with the database it now names: only that name is changed.
    const [[create]] = await conn.query<RowDataPacket[]>(`SHOW CREATE TABLE ${table}`);
    const line = String(create['Create Table']).split('\n').map((l) => l.trim().replace(/,$/, ''))
      .find((l) => l.startsWith(`CONSTRAINT ${q(String(k.name))} FOREIGN KEY `));
    const there = work.map((db) => `REFERENCES ${q(db)}.`).find((ref) => line?.includes(ref));
    if (!line || !there) throw new RefreshError(`${table}: cannot read foreign key ${k.name} back`);
    await checkedQuery(conn, `ALTER TABLE ${table} DROP FOREIGN KEY ${q(String(k.name))}`);
    await checkedQuery(conn, `ALTER TABLE ${table} ADD ${line.replace(there, 'REFERENCES ')}`);
  }
  return keys.length;
}

/** Dry run: which of the tables the dump holds (read to its end: the dump is only listed). */
async function plan(ctx: JobContext): Promise<JobResult> {
  const dump = ctx.inputs.dump!;
  ctx.say(`dry run: listing the tables of ${dump}`);
  const listed: string[] = [];
  let text = '';
  const collect = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString('utf8');
      const lines = text.split('\n');
      text = lines.pop() ?? '';
      listed.push(...lines);
      done();
    },
  });
  try {
    await extractFromDump(dump, { source: dump }, collect);
  } catch (e) {
    throw new RefreshError((e as NodeJS.ErrnoException).code === 'ENOENT' ? `${dump}: no such file` : (e as Error).message);
  }
  const inDump = new Set(listed);
  const copied = PLATFORM_TABLES.filter((t) => inDump.has(t.name));
  const missing = PLATFORM_TABLES.filter((t) => !inDump.has(t.name));
  const { load } = workDatabases(ctx.names);
  ctx.say(`dry run: would copy ${copied.map((t) => t.name).join(', ') || 'nothing'} into ${load}, build ` +
    `${TrueCourseEnrollment.name} and ${Lti2GlobalLti.name} there, and swap them all into ${ctx.names.edxprod} with one RENAME`);
  for (const t of missing) if (!t.required) ctx.say(`dry run: ${t.name} is not in the dump: last week's copy would be kept`);
  const lacking = missing.filter((t) => t.required).map((t) => t.name);
  // As the run would: it refuses a dump without a table a later job reads.
  if (lacking.length) throw new RefreshError(`${dump} lacks ${lacking.join(', ')}, which later jobs read`);
  return { tables: [] };
}

export const edxprod: RefreshJob = {
  name: 'edxprod',
  summary: 'copy the platform tables of an edxapp dump into edxprod, with true_courseenrollment and Lti2GlobalLti',
  after: [],
  input: 'dump',
  builds: [TrueCourseEnrollment, Lti2GlobalLti],
  async run(ctx) {
    if (ctx.dryRun) return plan(ctx);
    const work = workDatabases(ctx.names);
    return withCopyLock(ctx, () =>
      inWorkDatabases(ctx, work, async () => {
        const copied = await read(ctx, work.load);
        const derived = await rows(ctx, work.load);
        await swap(ctx, work, [...copied.rows.keys(), TrueCourseEnrollment.name, Lti2GlobalLti.name]);
        return { tables: await counted(ctx, copied.rows), notes: [...copied.notes, derived] };
      }),
    );
  },
};

/** `copy` run holding the server's lock of this edxprod: the work databases have fixed names, two runs at once would load into each other's. */
async function withCopyLock<T>({ conn, names }: JobContext, copy: () => Promise<T>): Promise<T> {
  const lock = `edx-refresh edxprod ${names.edxprod}`;
  const [got] = await conn.query<RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS ok', [lock]);
  if (Number(got[0].ok) !== 1) throw new RefreshError(`another edx-refresh is copying into ${names.edxprod}`);
  try {
    return await copy();
  } finally {
    await conn.query('DO RELEASE_LOCK(?)', [lock]).catch(() => undefined);
  }
}

/** `copy` run with an empty load database and edxprod there; the work databases are dropped after it, whatever happens. */
async function inWorkDatabases<T>({ conn, names }: JobContext, work: { load: string; retired: string }, copy: () => Promise<T>): Promise<T> {
  await conn.query(`DROP DATABASE IF EXISTS ${q(work.load)}`);
  await conn.query(`DROP DATABASE IF EXISTS ${q(work.retired)}`);
  await checkedQuery(conn, `CREATE DATABASE ${q(work.load)}`);
  await checkedQuery(conn, createDatabase(q(names.edxprod)));
  try {
    return await copy();
  } finally {
    await conn.query('SET SESSION foreign_key_checks = 0').catch(() => undefined);
    await conn.query(`DROP DATABASE IF EXISTS ${q(work.load)}`).catch(() => undefined);
    await conn.query(`DROP DATABASE IF EXISTS ${q(work.retired)}`).catch(() => undefined);
    await conn.query('SET SESSION foreign_key_checks = 1').catch(() => undefined);
  }
}

/**
 * Read the platform tables of the dump into the load database. Fails when a table a later job
 * reads is missing, or one is missing from a cut dump; a missing optional one is a note.
 */
async function read(ctx: JobContext, load: string): Promise<{ rows: Map<string, number>; notes: string[] }> {
  const { conn, names, say } = ctx;
  const dump = ctx.inputs.dump!;
  say(`copying ${PLATFORM_TABLES.length} tables from ${dump}`);
  const loaded = await loadDumpTables(conn, dump, PLATFORM_TABLES.map((t) => t.name), load, say);
  const missing = PLATFORM_TABLES.filter((t) => loaded.missing.includes(t.name));
  const required = missing.filter((t) => t.required).map((t) => t.name);
  if (!loaded.complete && missing.length) {
    throw new RefreshError(`${dump} ends before table ${missing[0].name}, without mysqldump's closing '-- Dump completed' line: the dump is cut`);
  }
  if (required.length) throw new RefreshError(`${dump} has no table ${required.join(', ')} (read by later jobs): nothing was changed`);
  const notes: string[] = [];
  for (const t of missing) {
    const kept = await tableExists(conn, names.edxprod, t.name);
    notes.push(`${t.name} is not in the dump: ${kept ? "last week's copy is kept" : 'there is no copy of it'}`);
  }
  return { rows: loaded.rows, notes };
}

/** The derived tables made in the load database; the note on the enrollments left out. */
async function rows(ctx: JobContext, load: string): Promise<string> {
  ctx.say(`building ${TrueCourseEnrollment.name} and ${Lti2GlobalLti.name}`);
  const derived = await buildDerived(ctx, load);
  return derived.hasColumn
    ? `${TrueCourseEnrollment.name}: ${derived.left} active enrollments of nonregistered users left out`
    : `${TrueCourseEnrollment.name}: auth_userprofile has no nonregistered column: no enrollment left out`;
}

/** One RENAME: last week's tables out to the retired database, this week's in, all at once; then the retired ones dropped. */
async function swap(ctx: JobContext, work: { load: string; retired: string }, tables: readonly string[]): Promise<void> {
  const { conn, names } = ctx;
  const renames: string[] = [];
  for (const t of tables) {
    if (await tableExists(conn, names.edxprod, t)) renames.push(`${q(names.edxprod)}.${q(t)} TO ${q(work.retired)}.${q(t)}`);
    renames.push(`${q(work.load)}.${q(t)} TO ${q(names.edxprod)}.${q(t)}`);
  }
  await checkedQuery(conn, `CREATE DATABASE ${q(work.retired)}`);
  // The dump's foreign keys may name tables that are not copied; they are kept as written.
  await conn.query('SET SESSION foreign_key_checks = 0');
  try {
    await conn.query(`RENAME TABLE ${renames.join(', ')}`);
    await repointForeignKeys(ctx, [work.load, work.retired]);
    await conn.query(`DROP DATABASE ${q(work.retired)}`);
  } finally {
    await conn.query('SET SESSION foreign_key_checks = 1');
  }
}

/** The result's tables: the copied ones with the rows the dump gave, the derived ones counted in edxprod. */
async function counted({ conn, names }: JobContext, copied: Map<string, number>): Promise<JobResult['tables']> {
  const tables = [...copied].map(([name, rows]) => ({ name, rows }));
  for (const t of [TrueCourseEnrollment, Lti2GlobalLti]) {
    const [r] = await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${q(names.edxprod)}.${q(t.name)}`);
    tables.push({ name: t.name, rows: Number(r[0].n) });
  }
  return tables;
}
