// Job `forum`: EdxForum.contents from an export of the forum's `contents` collection
// (docs/original.md#job-forum; the original's cronRefreshEdxForum.sh + forum_etl extractor), anonymised as
// docs/original.md#job-forum says:
//   - each post keeps its author's anon_screen_name (UserGrade's, else the hash of the post's
//     author_username, which is the same function of the same name): posts stay relatable to the
//     clickstream, as the original's hard-coded "relatable" mode made them (a decision, not an
//     option: docs/refresh-course.md);
//   - the author's platform id becomes its forum uid by EdxPrivate.idInt2Forum, the same function
//     queries use, with the key in EdxPrivate.Keys (the passphrase is on no command line: it was
//     stored by `edx-csvload --init --forum-key-file FILE`); so do the ids of the voters in
//     votes/up/down, which the original stored as they were;
//   - bodies scrubbed by forum-scrub.ts.
// Fixed (docs/original.md#bug-17): no DELETE … LIMIT 559 of the oldest posts; the posts of test courses are
// left out by the one test-course rule instead (schema/test-courses.ts).
//
// The export is read a document at a time and its authors looked up a batch at a time on a
// second connection while the rows load on the first: memory stays constant whatever its size.
import { statSync } from 'node:fs';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { type BrokenRecord, type JsonRecord } from '../../mongo/json-records.js';
import { readExportRecords } from '../../mongo/export.js';
import { ForumContents } from '../../schema/derived/forum.js';
import { qualifiedName } from '../../schema/ddl.js';
import { valuesOf, type DatabaseNames, type Value } from '../../schema/table.js';
import { fitNotes, fitRow, newFitCounters } from '../../schema/fit.js';
import { isTrueCourseName } from '../../schema/test-courses.js';
import { anonScreenName, isObject } from '../../core/values.js';
import { scrubBody, type Poster } from './forum-scrub.js';
import type { JobContext, JobResult, RefreshJob } from '../job.js';
import { BrokenInput } from '../report.js';
import { loadRows, rebuildTable, RefreshError, tableExists, withSecondConnection } from '../sql.js';
import { requireTables, type DryRunContext } from '../requires.js';
import { progressClock } from '../../io/progress.js';
import { intOrNull, json, sqlDateTime } from '../values.js';
import { plural } from '../../core/plural.js';

/** The anon_screen_name of a post whose author is unknown (the column's default, as the original's). */
export const UNKNOWN_AUTHOR = 'anon_screen_name_redacted';

/** Documents converted per lookup of their authors and voters. */
const BATCH = 1000;
/** Users remembered between batches (frequent posters); the cache is emptied when it is full. */
const CACHED_USERS = 50_000;

interface User {
  forumUid: string | null;
  name: string | null;
  screenName: string | null;
  anon: string | null;
}

/** Platform user id of a value (the export writes author_id as a string), or null. */
function userId(v: unknown): number | null {
  const n = intOrNull(v);
  return n !== null && n >= 0 ? n : null;
}

/** Looks users up in EdxPrivate a batch at a time: forum uid, full name, screen name, anon id. */
class Users {
  private readonly cache = new Map<number, User>();
  private readonly sql: string;

  constructor(
    private readonly conn: Connection,
    names: DatabaseNames,
  ) {
    const priv = `\`${names.EdxPrivate}\``;
    this.sql =
      `SELECT j.id, ${priv}.idInt2Forum(j.id) AS forum_uid, MAX(g.name) AS name, MAX(g.screen_name) AS screen_name, MAX(g.anon_screen_name) AS anon ` +
      `FROM JSON_TABLE(?, '$[*]' COLUMNS (id INT PATH '$')) AS j LEFT JOIN ${priv}.\`UserGrade\` g ON g.user_int_id = j.id GROUP BY j.id`;
  }

  async load(ids: Iterable<number>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.cache.has(id));
    if (missing.length === 0) return;
    if (this.cache.size + missing.length > CACHED_USERS) this.cache.clear();
    const [rows] = await this.conn.query<RowDataPacket[]>(this.sql, [JSON.stringify(missing)]);
    const nonEmpty = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
    for (const r of rows) {
      this.cache.set(Number(r.id), { forumUid: nonEmpty(r.forum_uid), name: nonEmpty(r.name), screenName: nonEmpty(r.screen_name), anon: nonEmpty(r.anon) });
    }
  }

  get(id: number | null): User | undefined {
    return id === null ? undefined : this.cache.get(id);
  }
}

const pyBool = (v: unknown) => (v === true ? 'True' : 'False');
const stringOrNull = (v: unknown) => (typeof v === 'string' ? v : null);

/** What a run left out or could only partly fill, for the notes. */
interface Counts {
  testCourse: number;
  noAuthor: number;
  notInUserGrade: number;
}

/** The ids of the users a document names: its author and its voters. */
function usersOf(doc: Record<string, unknown>): number[] {
  const ids: number[] = [];
  const author = userId(doc.author_id);
  if (author !== null) ids.push(author);
  if (isObject(doc.votes)) {
    for (const list of [doc.votes.up, doc.votes.down]) if (Array.isArray(list)) for (const v of list) { const id = userId(v); if (id !== null) ids.push(id); }
  }
  return ids;
}

/**
 * The row of one forum document, or a reason it cannot have one (broken), or null when it is
 * left out by rule (a test course).
 */
export function forumRow(doc: Record<string, unknown>, users: Pick<Users, 'get'>, counts: Counts): Value[] | string | null {
  const id = doc._id;
  if (typeof id !== 'string' || id === '') return 'no _id: not a forum document';
  if (typeof doc._type !== 'string' || doc._type === '') return 'no _type (CommentThread or Comment): not a forum document';
  const course = typeof doc.course_id === 'string' ? doc.course_id : '';
  if (course === '') return 'no course_id';
  if (!isTrueCourseName(course)) {
    counts.testCourse++;
    return null;
  }
  const author = authorOf(doc, users, counts);
  return valuesOf(ForumContents, {
    forum_post_id: id,
    anon_screen_name: author.anon,
    type: doc._type,
    anonymous: pyBool(doc.anonymous),
    anonymous_to_peers: pyBool(doc.anonymous_to_peers),
    at_position_list: json(Array.isArray(doc.at_position_list) ? doc.at_position_list : []),
    forum_uid: author.forumUid,
    body: scrubBody(typeof doc.body === 'string' ? doc.body : '', author.poster),
    course_display_name: course,
    created_at: sqlDateTime(doc.created_at),
    ...votesOf(doc, users),
    comment_thread_id: stringOrNull(doc.comment_thread_id),
    parent_id: stringOrNull(doc.parent_id),
    parent_ids: json(doc.parent_ids),
    sk: stringOrNull(doc.sk),
    confusion: '',
    happiness: '',
  });
}

/**
 * A post's author as its row names them: anon_screen_name (UserGrade's, else the hash of the
 * post's author_username, else UNKNOWN_AUTHOR), forum uid, and the names the scrub takes out.
 */
function authorOf(doc: Record<string, unknown>, users: Pick<Users, 'get'>, counts: Counts): { anon: string; forumUid: string; poster: Poster } {
  const authorId = userId(doc.author_id);
  const author = users.get(authorId);
  const username = typeof doc.author_username === 'string' && doc.author_username !== '' ? doc.author_username : null;
  if (authorId === null && username === null) counts.noAuthor++;
  else if (!author?.anon) counts.notInUserGrade++;
  const anon = author?.anon ?? (username !== null ? anonScreenName(username) : UNKNOWN_AUTHOR);
  const screenNames = [...new Set([author?.screenName, username].filter((s): s is string => !!s))];
  return { anon, forumUid: author?.forumUid ?? '', poster: { screenNames, fullName: author?.name ?? null, anon } };
}

/** The vote columns of a post: the voters' platform ids in votes/up/down become their forum uids. */
function votesOf(doc: Record<string, unknown>, users: Pick<Users, 'get'>) {
  const votes = isObject(doc.votes) ? doc.votes : undefined;
  const uids = (list: unknown) => (Array.isArray(list) ? list.map((v) => users.get(userId(v))?.forumUid ?? null) : undefined);
  const up = uids(votes?.up);
  const down = uids(votes?.down);
  return {
    votes: votes ? JSON.stringify({ ...votes, ...(up ? { up } : {}), ...(down ? { down } : {}) }) : '',
    count: intOrNull(votes?.count) ?? 0,
    down_count: intOrNull(votes?.down_count) ?? 0,
    up_count: intOrNull(votes?.up_count) ?? 0,
    up: json(up),
    down: json(down),
  };
}

async function routineExists(conn: Connection, db: string, name: string): Promise<boolean> {
  const [rows] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND ROUTINE_NAME = ?', [db, name]);
  return Number(rows[0].n) > 0;
}

/**
 * What the job needs before it reads a line: the input, UserGrade, the forum key and idInt2Forum.
 * In a dry run a missing table or key is said, and false returned (the jobs and the load that make
 * them may be in the same run); a missing or unreadable input fails all the same.
 */
async function checkPrerequisites(conn: Connection, names: DatabaseNames, path: string, ctx: DryRunContext): Promise<boolean> {
  const { dryRun, say } = ctx;
  try {
    if (!statSync(path).isFile()) throw new RefreshError(`${path} is not a file`);
  } catch (e) {
    if (e instanceof RefreshError) throw e;
    throw new RefreshError(`cannot read the forum export ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const priv = names.EdxPrivate;
  if (!(await requireTables(conn, [{ db: priv, table: 'UserGrade', job: 'usergrade' }], ctx))) return false;
  const keySet = (await tableExists(conn, priv, 'Keys')) && Number((await conn.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${priv}\`.\`Keys\` WHERE forumKey <> ''`))[0][0].n) > 0;
  if (!keySet || !(await routineExists(conn, priv, 'idInt2Forum'))) {
    const missing = `no forum key in \`${priv}\`.\`Keys\` or no function idInt2Forum there: run edx-csvload --init --forum-key-file FILE first`;
    if (!dryRun) throw new RefreshError(missing);
    say(`dry run: ${missing}`);
    return false;
  }
  return true;
}

export const forumJob: RefreshJob = {
  name: 'forum',
  summary: 'rebuild EdxForum.contents (anonymised forum posts) from a forum contents export',
  after: ['usergrade'],
  input: 'forum',
  builds: [ForumContents],
  async run(ctx) {
    const path = ctx.inputs.forum;
    if (!path) throw new RefreshError('no forum export given (--forum FILE)');
    if (!(await checkPrerequisites(ctx.conn, ctx.names, path, ctx))) {
      ctx.say(`dry run: would rebuild ${qualifiedName(ForumContents, ctx.names, { quoted: true })} from ${path}`);
      return { tables: [] };
    }
    const exported = new ForumExport(path, ctx.say);
    return withSecondConnection(ctx.connect, (reader) =>
      unreadableSaid(path, async () => {
        const users = new Users(reader, ctx.names);
        ctx.say(`reading ${path}`);
        const tables = ctx.dryRun ? await plan(ctx, exported, users) : await rebuild(ctx, exported, users);
        return { tables, notes: exported.notes() };
      }),
    );
  },
};

/** A file that cannot be read (gone, or not gzip after all) said as such. */
async function unreadableSaid<T>(path: string, use: () => Promise<T>): Promise<T> {
  try {
    return await use();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || /gzip/.test((e as Error).message)) throw new RefreshError(`cannot read ${path}: ${(e as Error).message}`);
    throw e;
  }
}

/** Dry run: the export read and converted to the end, the posts counted. */
async function plan({ names, say }: JobContext, exported: ForumExport, users: Users): Promise<JobResult['tables']> {
  let n = 0;
  for await (const _row of exported.rows(users)) n++;
  if (exported.documents === 0) throw new RefreshError(`${exported.path}: no document in the export`);
  say(`dry run: would rebuild ${qualifiedName(ForumContents, names, { quoted: true })} with ${plural(n, 'post')}`);
  return [];
}

/** The table built aside from the export's rows and swapped in. */
async function rebuild({ conn, names }: JobContext, exported: ForumExport, users: Users): Promise<JobResult['tables']> {
  const n = await rebuildTable(conn, ForumContents, names, async (building) => {
    await loadRows(conn, ForumContents, names, exported.rows(users), building);
    if (exported.documents === 0) throw new RefreshError(`${exported.path}: no document in the export: the table is left as it was`);
  });
  return [{ name: ForumContents.name, rows: n }];
}

/** One reading of a forum export: its documents read, their rows made, and what was left out on the way. */
class ForumExport {
  /** Documents read so far. */
  documents = 0;
  private readonly broken: BrokenInput;
  private readonly counts: Counts = { testCourse: 0, noAuthor: 0, notInUserGrade: 0 };
  private readonly fit = newFitCounters();
  private readonly due = progressClock();

  constructor(
    readonly path: string,
    private readonly say: (msg: string) => void,
  ) {
    this.broken = new BrokenInput(say, 'forum documents');
  }

  /** The rows of the export's posts, a batch of documents at a time (their users looked up together). */
  async *rows(users: Users): AsyncGenerator<Value[]> {
    for await (const batch of this.read()) {
      await users.load(batch.flatMap((r) => usersOf(r.value)));
      for (const r of batch) {
        const row = forumRow(r.value, users, this.counts);
        if (typeof row === 'string') this.broken.report(`${this.path}:${r.line}`, row);
        else if (row) yield fitRow(ForumContents, row, this.fit);
      }
    }
  }

  /** Read the export's documents in batches; a cut export fails (it lacks an unknown number of posts: better none than a part). */
  private async *read(): AsyncGenerator<JsonRecord[]> {
    let batch: JsonRecord[] = [];
    const onBroken = (b: BrokenRecord) => {
      if (b.cut) throw new RefreshError(`${this.path}:${b.line}: ${b.reason}: the table is left as it was`);
      this.broken.report(`${this.path}:${b.line}`, b.reason);
    };
    for await (const r of readExportRecords(this.path, onBroken)) {
      batch.push(r);
      if (++this.documents % BATCH === 0) {
        yield batch;
        batch = [];
        if (this.due()) this.say(`${plural(this.documents, 'document')} read`);
      }
    }
    yield batch;
  }

  /** What was left out or only partly filled. */
  notes(): string[] {
    const { counts } = this;
    const notes = [...this.broken.notes(), ...fitNotes(this.fit)];
    if (counts.testCourse) notes.push(`${counts.testCourse} post(s) of test courses left out (schema/test-courses.ts)`);
    if (counts.notInUserGrade) notes.push(`${counts.notInUserGrade} post(s) by users not in UserGrade: anon_screen_name from the post's author_username, no full name to scrub`);
    if (counts.noAuthor) notes.push(`${counts.noAuthor} post(s) without an author: ${UNKNOWN_AUTHOR}`);
    return notes;
  }
}
