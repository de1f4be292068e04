// Where else an event names its course (issue 16.1), for events the reference's rules
// (course.ts, docs/original.md#course-columns) leave with course_id ''. Modern logs carry the course in many
// places: the payload's course_id/course_key, a usage or asset key (block-v1:, asset-v1:,
// i4x://), and the URL of the request (the LMS's /courses/…, Studio's /course/course-v1:…,
// /xblock/block-v1:…, the learning MFE's /course/course-v1:…). Sources are tried in order of
// trust; the first that names a course wins.
import type { Modulestore } from '../modulestore/display-names.js';
import { isObject } from '../core/values.js';

/** Characters of one part of an opaque key (opaque-keys allows word characters, `-`, `~`, `.`). */
const PART = '[\\w.~-]+';
/** course-v1:, block-v1:, asset-v1: and their CCX forms: the first three parts are the course. */
const NEW_KEY = new RegExp(`\\b(?:(ccx-)?(?:course|block|asset)-v1):(${PART})\\+(${PART})\\+(${PART})(?:\\+ccx@(\\d+))?`);
/** Studio's old `slashes:Org+Course+Run` form of a course id. */
const SLASHES_KEY = new RegExp(`\\bslashes:(${PART})\\+(${PART})\\+(${PART})`);
/** `/courses/Org/Course/Run` of an LMS URL of an old-style course. */
const LEGACY_URL = new RegExp(`/courses/(${PART})/(${PART})/(${PART})(?=[/?#]|$)`);
/** Studio's URLs of an old-style course: `/course/Org/Course/Run`, `/settings/details/Org/Course/Run`, … */
const STUDIO_LEGACY_URL = new RegExp(`^(?:https?://[^/]+)?/(?:course|course_team|settings/\\w+|assets|import|export|tabs|textbooks|group_configurations|course_info|videos|certificates)/(${PART})/(${PART})/(${PART})(?=[/?#]|$)`);
/** A legacy course id as it stands alone (a payload's course_id). */
const LEGACY_ID = new RegExp(`^(${PART})/(${PART})/(${PART})$`);
/** An i4x location or its input-id form; the run is not in it, only a modulestore knows it. */
const I4X = /i4x(?::\/\/|-)([\w.~]+)[/-]([\w.~]+)[/-]\w+[/-]([a-f0-9]{32})/;

/** The course id a key or text names: course-v1 (or ccx-v1) from a new-style key, Org/Course/Run from an old one. */
export function courseIdIn(text: string, modulestore?: Modulestore): string {
  const m = NEW_KEY.exec(text);
  if (m) {
    const [, ccx, org, course, run, ccxId] = m;
    return ccx && ccxId ? `ccx-v1:${org}+${course}+${run}+ccx@${ccxId}` : `course-v1:${org}+${course}+${run}`;
  }
  const s = SLASHES_KEY.exec(text);
  if (s) return `${s[1]}/${s[2]}/${s[3]}`;
  const legacy = LEGACY_URL.exec(text);
  if (legacy && legacy[1] !== 'v1' && !legacy[1].startsWith('course-v1')) return `${legacy[1]}/${legacy[2]}/${legacy[3]}`;
  const studio = STUDIO_LEGACY_URL.exec(text);
  if (studio) return `${studio[1]}/${studio[2]}/${studio[3]}`;
  if (modulestore && modulestore.size > 0) {
    const i4x = I4X.exec(text);
    const known = i4x ? modulestore.courseOf(i4x[3]) : undefined;
    if (known) return known;
  }
  return '';
}

/** A payload's course id as given: course-v1 (or any new-style key), or Org/Course/Run. */
function courseIdValue(v: unknown): string {
  if (typeof v !== 'string' || v === '') return '';
  if (LEGACY_ID.test(v)) return v;
  return courseIdIn(v);
}

/** A URL's text with its percent-escapes decoded (query strings carry `course-v1%3A…%2B…`). */
function decodedUrl(url: string): string {
  if (!url.includes('%')) return url;
  try {
    return decodeURIComponent(url);
  } catch {
    return url.replace(/%3A/gi, ':').replace(/%2B/gi, '+').replace(/%2F/gi, '/');
  }
}

/** The organization part of a course id, '' when it has none. */
export function orgOf(courseId: string): string {
  const m = /^(?:ccx-v1|course-v1):([^+]+)\+/.exec(courseId) ?? /^([^/]+)\/[^/]+\/[^/]+$/.exec(courseId);
  return m ? m[1] : '';
}

/** The keys of a payload that hold a usage or asset key, most specific first (then the whole payload). */
const KEY_FIELDS = ['problem_id', 'module_id', 'usage_key', 'block_id', 'location', 'id', 'component_usage_id', 'item_id', 'exam_content_id', 'target_url', 'url'];
/** The keys of a payload that hold a course id. */
const COURSE_FIELDS = ['course_id', 'course_key', 'course'];

export type CourseSource = 'payload' | 'key' | 'url';

/**
 * The course an event names outside context.course_id, and where it was found; undefined when
 * nothing names one. `event` is the decoded event field (object, string or other).
 */
export function courseFromEvent(
  record: Record<string, unknown>,
  context: Record<string, unknown> | undefined,
  event: unknown,
  modulestore: Modulestore,
): { courseId: string; source: CourseSource } | undefined {
  // The payload's own course id.
  if (isObject(event)) {
    for (const f of COURSE_FIELDS) {
      const id = courseIdValue(event[f]);
      if (id) return { courseId: id, source: 'payload' };
    }
  }
  // A usage or asset key: the payload's key fields, the module of the context, then anywhere in the payload.
  const keyTexts: string[] = [];
  if (isObject(event)) for (const f of KEY_FIELDS) if (typeof event[f] === 'string') keyTexts.push(event[f] as string);
  const module = context && isObject(context.module) ? context.module : undefined;
  if (module && typeof module.usage_key === 'string') keyTexts.push(module.usage_key);
  for (const k of keyTexts) {
    const id = courseIdIn(k, modulestore);
    if (id) return { courseId: id, source: 'key' };
  }
  const whole = typeof event === 'string' ? event : event !== null && typeof event === 'object' ? JSON.stringify(event) : '';
  if (whole) {
    const id = courseIdIn(decodedUrl(whole), modulestore);
    if (id) return { courseId: id, source: 'key' };
  }
  // The URL of the request: the type of an implicit event, the context's path, the page; for a named
  // event also the referer (the page the learner was on when it fired). An implicit event's own URL
  // says whether the request was in a course: a /dashboard reached from a course page is not in it.
  const implicit = typeof record.event_type === 'string' && record.event_type.startsWith('/');
  const urls = [record.event_type, context?.path, record.page, implicit ? undefined : record.referer];
  for (const u of urls) {
    if (typeof u !== 'string' || u === '') continue;
    const id = courseIdIn(decodedUrl(u), modulestore);
    if (id) return { courseId: id, source: 'url' };
  }
  return undefined;
}
