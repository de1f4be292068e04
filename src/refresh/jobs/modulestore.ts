// Job `modulestore`: Edx.CourseInfo, Edx.EdxProblem and Edx.EdxVideo from a modulestore export
// (docs/original.md#job-modulestore; the original's cronRefreshModuleStore.sh + modulestoreToSQL.py),
// with its bugs fixed (docs/original.md#bug-13):
//   - one course-name format in all three tables: the course id as the platform writes it in the
//     tracking logs and in its own tables (`org/course/run` for old-store courses,
//     `course-v1:org+course+run` for split-store ones), so every table joins with
//     EdxTrackEvent.course_display_name, ActivityGrade and UserGrade.course_id;
//   - a value the export does not have is NULL (never the text 'None' or 'False', no -1/-2 or
//     zero-date stand-ins); lists and objects are JSON text;
//   - academic year and quarter from the start date by month, in the warehouse's one quarter
//     convention (schema/quarters.ts), so no start time falls between two quarters;
//   - is_internal read from where each store keeps it (old store: org in _id, enrollment domain
//     in metadata; split store: org in the active version, enrollment domain in the course
//     block's fields);
//   - test courses left out by the one rule of schema/test-courses.ts;
//   - the three tables are swapped in together, and only when all three are built.
import { isTrueCourseName } from '../../schema/test-courses.js';
import { academicYearOf, seasonOf } from '../../schema/quarters.js';
import { CourseInfo, EdxProblem, EdxVideo } from '../../schema/derived/course.js';
import { qualifiedName } from '../../schema/ddl.js';
import { valuesOf, type TableDef, type Value } from '../../schema/table.js';
import { fitNotes, fitRow, newFitCounters } from '../../schema/fit.js';
import { PROBLEM, VIDEO_TYPES, type Block, type Course } from '../../modulestore/model.js';
import { ExportError, readModulestore } from '../../modulestore/read.js';
import { builtTables, type JobContext, type JobResult, type RefreshJob } from '../job.js';
import { BrokenInput } from '../report.js';
import { intOrNull, json, numberOrNull, sqlDateTime, textOrNull } from '../values.js';
import { loadRows, rebuildTables, RefreshError } from '../sql.js';
import { noun, plural } from '../../core/plural.js';

/**
 * Stanford's marks of an internal course (docs/original.md#job-modulestore): enrollment restricted to its
 * Shibboleth identity provider, or one of its internal organisations. Also internal: an
 * invitation-only course, or one explicitly not public (`ispublic: false`).
 */
const INTERNAL_ENROLLMENT_DOMAINS: ReadonlySet<string> = new Set(['shib:https://idp.stanford.edu/']);
const INTERNAL_ORGS: ReadonlySet<string> = new Set(['ohsx', 'ohs', 'oli']);

/** Academic year and quarter of a course starting at `start` (DATETIME text, UTC). */
export function academicQuarter(start: string | null): { year: number | null; quarter: string | null } {
  if (start === null) return { year: null, quarter: null };
  const year = Number(start.slice(0, 4));
  const month = Number(start.slice(5, 7));
  return { year: academicYearOf(year, month), quarter: seasonOf(month) };
}

export function isInternal(course: Course): number {
  const f = course.root.fields;
  const domain = typeof f.enrollment_domain === 'string' ? f.enrollment_domain : '';
  const internal =
    INTERNAL_ENROLLMENT_DOMAINS.has(domain) || INTERNAL_ORGS.has(course.org.toLowerCase()) || f.invitation_only === true || f.ispublic === false;
  return internal ? 1 : 0;
}

export function courseInfoRow(course: Course): Value[] {
  const f = course.root.fields;
  const start = sqlDateTime(f.start);
  const { year, quarter } = academicQuarter(start);
  const policy = course.root.content?.grading_policy;
  const grader = policy && typeof policy === 'object' ? (policy as Record<string, unknown>).GRADER : undefined;
  const cutoffs = policy && typeof policy === 'object' ? (policy as Record<string, unknown>).GRADE_CUTOFFS : undefined;
  const certs =
    f.minimum_grade_credit === undefined && cutoffs === undefined
      ? null
      : `minimum_grade_credit: ${json(f.minimum_grade_credit) ?? 'null'} certificate_policy: ${json(cutoffs) ?? 'null'}`;
  return valuesOf(CourseInfo, {
    course_display_name: course.id,
    course_catalog_name: textOrNull(f.display_name),
    academic_year: year,
    quarter,
    is_internal: isInternal(course),
    enrollment_start: sqlDateTime(f.enrollment_start),
    start_date: start,
    enrollment_end: sqlDateTime(f.enrollment_end),
    end_date: sqlDateTime(f.end),
    grade_policy: json(grader),
    certs_policy: certs,
  });
}

/** Where a block sits in its course: the uri and 1-based position of each level. */
export interface Placement {
  verticalUri: string | null;
  /** Position of the block (or of its container) in the vertical. */
  itemIdx: number | null;
  sequentialUri: string | null;
  /** Position of the vertical in the sequential. */
  verticalIdx: number | null;
  chapterUri: string | null;
  /** Position of the sequential in the chapter. */
  sequentialIdx: number | null;
  /** Position of the chapter in the course. */
  chapterIdx: number | null;
  staffOnly: number;
}

const UNPLACED: Placement = {
  verticalUri: null, itemIdx: null, sequentialUri: null, verticalIdx: null, chapterUri: null, sequentialIdx: null, chapterIdx: null, staffOnly: 0,
};

/** One step of a path from the course root: a block and the position of the next step in it. */
interface Step {
  block: Block;
  /** 1-based position, in this block's children, of the next block on the path. */
  next: number;
}

/**
 * The placement of a block reached by `path` (root first, its parent last). Each level is the
 * topmost ancestor of that type (a unit's vertical, not a split_test group's vertical inside
 * it); each position counts the child on the path, so a problem inside a container inside a
 * unit has the container's position. visible_to_staff_only is inherited, as the platform does.
 */
export function placement(path: readonly Step[], block: Block): Placement {
  const top = (type: string) => path.find((s) => s.block.type === type);
  const vertical = top('vertical');
  const sequential = top('sequential');
  const chapter = top('chapter');
  const root = path[0];
  const staff = block.fields.visible_to_staff_only === true || path.some((s) => s.block.fields.visible_to_staff_only === true);
  return {
    verticalUri: vertical?.block.uri ?? null,
    itemIdx: vertical?.next ?? null,
    sequentialUri: sequential?.block.uri ?? null,
    verticalIdx: sequential?.next ?? null,
    chapterUri: chapter?.block.uri ?? null,
    sequentialIdx: chapter?.next ?? null,
    chapterIdx: root && root.block.type === 'course' ? root.next : null,
    staffOnly: staff ? 1 : 0,
  };
}

/** The problems and videos of a course in course order, each once, with its placement. */
export function* courseItems(course: Course): Generator<{ block: Block; place: Placement }> {
  const seen = new Set<string>([course.root.key]);
  function* visit(block: Block, path: Step[]): Generator<{ block: Block; place: Placement }> {
    for (let i = 0; i < block.children.length; i++) {
      const child = course.blocks.get(block.children[i]);
      if (!child || seen.has(child.key)) continue; // missing, or reached before (a cycle or a shared module)
      seen.add(child.key);
      const childPath = [...path, { block, next: i + 1 }];
      if (child.type === PROBLEM || VIDEO_TYPES.has(child.type)) yield { block: child, place: placement(childPath, child) };
      yield* visit(child, childPath);
    }
  }
  yield* visit(course.root, []);
}

/** What new-style and old-style video events carry as their video id (EdxTrackEvent.video_id). */
export function videoHook(course: Course | undefined, block: Block): string {
  if (course?.store === 'split') return block.id;
  return block.uri.replace('://', '-').replaceAll('/', '-'); // i4x://Org/Course/video/x → i4x-Org-Course-video-x
}

export function problemRow(courseId: string | null, block: Block, place: Placement): Value[] {
  const f = block.fields;
  return valuesOf(EdxProblem, {
    problem_id: block.id,
    problem_display_name: textOrNull(f.display_name),
    course_display_name: courseId,
    problem_text: textOrNull(block.content?.data),
    date: sqlDateTime(block.edited),
    weight: numberOrNull(f.weight),
    revision: block.revision,
    max_attempts: intOrNull(f.max_attempts),
    trackevent_hook: block.uri, // what problem events carry as problem_id
    problem_idx: place.itemIdx,
    ...placeColumns(place),
    staff_only: place.staffOnly,
  });
}

export function videoRow(course: Course | undefined, block: Block, place: Placement): Value[] {
  const f = block.fields;
  return valuesOf(EdxVideo, {
    video_id: block.id,
    video_display_name: textOrNull(f.display_name),
    course_display_name: course?.id ?? null,
    video_uri: json(f.html5_sources),
    video_code: textOrNull(f.youtube_id_1_0),
    trackevent_hook: videoHook(course, block),
    video_idx: place.itemIdx,
    ...placeColumns(place),
  });
}

/** Where a problem or video sits in its course: the columns EdxProblem and EdxVideo share (but the item's own index). */
function placeColumns(p: Placement) {
  return {
    vertical_uri: p.verticalUri,
    sequential_uri: p.sequentialUri,
    vertical_idx: p.verticalIdx,
    chapter_uri: p.chapterUri,
    sequential_idx: p.sequentialIdx,
    chapter_idx: p.chapterIdx,
  };
}

export interface ModulestoreRows {
  courses: Value[][];
  problems: Value[][];
  videos: Value[][];
  /** Test courses left out, by id. */
  testCourses: string[];
  /** Courses met twice (the first is kept). */
  duplicates: string[];
  /** Problems and videos no course reaches (kept, without positions). */
  unplaced: number;
}

/** The rows of the three tables for the courses of a model. */
export function modulestoreRows(courses: readonly Course[], oldModules: Iterable<Block>): ModulestoreRows {
  const out: ModulestoreRows = { courses: [], problems: [], videos: [], testCourses: [], duplicates: [], unplaced: 0 };
  const ids = new Set<string>();
  const placed = new Set<Block>();
  for (const course of courses) {
    if (ids.has(course.id)) {
      out.duplicates.push(course.id);
      continue;
    }
    ids.add(course.id);
    if (!isTrueCourseName(course.id)) {
      out.testCourses.push(course.id);
      continue;
    }
    out.courses.push(courseInfoRow(course));
    for (const { block, place } of courseItems(course)) {
      placed.add(block);
      if (block.type === PROBLEM) out.problems.push(problemRow(course.id, block, place));
      else out.videos.push(videoRow(course, block, place));
    }
  }
  addUnplaced(out, courses, [...oldModules].filter((b) => !placed.has(b)));
  return out;
}

/**
 * Old-store modules no course reaches (deleted from the course tree, drafts never published):
 * events may still name them, so the problems and videos among them keep a row, in the course
 * of their org/number if any.
 */
function addUnplaced(out: ModulestoreRows, courses: readonly Course[], unplaced: readonly Block[]): void {
  const firstOldCourse = new Map<string, Course>();
  for (const course of courses) {
    if (course.store === 'old' && !firstOldCourse.has(`${course.org}/${course.number}`)) firstOldCourse.set(`${course.org}/${course.number}`, course);
  }
  for (const block of unplaced) {
    if (!(block.type === PROBLEM || VIDEO_TYPES.has(block.type))) continue;
    const [, , org, number] = block.uri.split('/');
    const course = firstOldCourse.get(`${org}/${number}`);
    if (!isTrueCourseName(course?.id ?? `${org}/${number}/`)) continue;
    out.unplaced++;
    if (block.type === PROBLEM) out.problems.push(problemRow(course?.id ?? null, block, UNPLACED));
    else out.videos.push(videoRow(course, block, UNPLACED));
  }
}

export const modulestoreJob: RefreshJob = {
  name: 'modulestore',
  summary: 'rebuild Edx.CourseInfo, EdxProblem and EdxVideo from a modulestore export',
  after: [],
  input: 'modulestore',
  builds: [CourseInfo, EdxProblem, EdxVideo],
  async run(ctx) {
    const path = ctx.inputs.modulestore;
    if (!path) throw new RefreshError('no modulestore export given (--modulestore FILE or DIR)');
    const broken = new BrokenInput(ctx.say, 'modulestore documents');
    const exported = await read(path, broken, ctx.say);
    const rows = rowsOf(path, exported, broken, ctx.say);
    const notes = notesOf(exported, rows, broken);
    const parts = [
      { table: CourseInfo, rows: rows.courses },
      { table: EdxProblem, rows: rows.problems },
      { table: EdxVideo, rows: rows.videos },
    ];
    if (ctx.dryRun) {
      ctx.say(`dry run: would rebuild ${parts.map((p) => `${qualifiedName(p.table, ctx.names, { quoted: true })} (${plural(p.rows.length, 'row')})`).join(', ')}`);
      return { tables: [], notes };
    }
    return rebuild(ctx, parts, notes);
  },
};

type Export = Awaited<ReturnType<typeof readModulestore>>;

/** Read the export whole; a cut one fails (it lacks an unknown part of the store: replacing the tables with it would lose courses). */
async function read(path: string, broken: BrokenInput, say: (m: string) => void): Promise<Export> {
  say(`reading ${path}`);
  let cut: string | undefined;
  let exported: Export;
  try {
    exported = await readModulestore(
      path,
      (file, b) => {
        broken.report(`${file}:${b.line}`, b.reason);
        cut ??= b.cut && `${file}:${b.line}: ${b.reason}`;
      },
      (file, n) => say(`${file}: ${plural(n, 'document')} read so far`),
    );
  } catch (e) {
    if (e instanceof ExportError) throw new RefreshError(e.message);
    throw e;
  }
  if (cut) throw new RefreshError(`${cut}: the tables are left as they were`);
  return exported;
}

/** The rows of the export's courses; an export without a course fails (the tables stay as they were). */
function rowsOf(path: string, { model, documents }: Export, broken: BrokenInput, say: (m: string) => void): ModulestoreRows {
  const courses = model.courses();
  for (const p of model.problems) broken.report(p.where, p.reason);
  const rows = modulestoreRows(courses, model.oldModules());
  say(`${plural(documents, 'document')}: ${plural(courses.length, 'course')} (${rows.testCourses.length} of them test ${noun(rows.testCourses.length, 'course')}, left out), ${plural(rows.problems.length, 'problem')}, ${plural(rows.videos.length, 'video')}`);
  if (rows.courses.length === 0) {
    const others = [broken.count && `${broken.count} unusable`, rows.testCourses.length && `${rows.testCourses.length} test course(s) only`].filter(Boolean);
    throw new RefreshError(`no course in ${path} (${plural(documents, 'document')} read${others.length ? `; ${others.join(', ')}` : ''}): the tables are left as they were`);
  }
  return rows;
}

/** What was left out, found twice or not read. */
function notesOf({ model, ignored }: Export, rows: ModulestoreRows, broken: BrokenInput): string[] {
  const notes = [...broken.notes()];
  if (rows.testCourses.length) notes.push(`${rows.testCourses.length} test course(s) left out (schema/test-courses.ts): ${rows.testCourses.slice(0, 5).join(', ')}${rows.testCourses.length > 5 ? ', …' : ''}`);
  if (rows.duplicates.length) notes.push(`${rows.duplicates.length} course(s) found twice, the first kept: ${rows.duplicates.slice(0, 5).join(', ')}`);
  if (rows.unplaced) notes.push(`${rows.unplaced} problem(s)/video(s) no course tree reaches: kept with NULL positions`);
  if (model.unpublished) notes.push(`${model.unpublished} split-store active version(s) without a published branch (libraries, unpublished courses) left out`);
  if (ignored.length) notes.push(`not read from the directory: ${ignored.join(', ')}`);
  return notes;
}

/** The three tables built aside and swapped in together, only when all three are built. */
async function rebuild({ conn, names, say }: JobContext, parts: { table: TableDef; rows: Value[][] }[], notes: string[]): Promise<JobResult> {
  const fit = newFitCounters();
  const tables = parts.map((p) => p.table);
  const counts = await rebuildTables(conn, tables, names, async (building) => {
    for (const p of parts) {
      say(`loading ${plural(p.rows.length, 'row')} into ${building(p.table)}`);
      await loadRows(conn, p.table, names, p.rows.map((r) => fitRow(p.table, r, fit)), building(p.table));
    }
  });
  return { tables: builtTables(tables, counts), notes: [...notes, ...fitNotes(fit)] };
}
