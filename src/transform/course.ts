// Course columns (docs/original.md#course-columns): course_id, course_display_name, organization, and the
// "current course id" handlers use for Answer.course_id and ABExperiment.course_display_name.
import type { Modulestore } from '../modulestore/display-names.js';
import { firstHash, isObject, text } from '../core/values.js';
import { courseFromEvent, orgOf, type CourseSource } from './course-sources.js';

/**
 * `org/course/run` from a URL or path with a `courses` segment, else ''. A new-style id
 * (`course-v1:Org+Course+Run`) is one segment and is returned alone.
 */
export function shortCourseId(s: string): string {
  const parts = s.split('/');
  const i = parts.indexOf('courses');
  if (i < 0) return '';
  if (parts[i + 1]?.startsWith('course-v1:')) return parts[i + 1];
  return parts.slice(i + 1, i + 4).join('/');
}

/** `Org-Course` from the first `i4x-Org-Course-…` id in a problem event's text (the reference's rule). */
export function courseFromProblemEvent(event: unknown): string | null {
  const text = typeof event === 'string' ? event : jsonTextToColonAfterDash(event ?? null);
  const dash = text.indexOf('-');
  if (dash < 0) return null;
  const colon = text.indexOf(':', dash);
  const parts = text.slice(dash, colon < 0 ? undefined : colon).split('-');
  return parts.length >= 3 ? `${parts[1]}-${parts[2]}` : null;
}

/**
 * JSON.stringify(value), but only as far as the rule above reads it: up to the first ':' after
 * the first '-' (or all of it when there is none). A problem event's state can run to many
 * kilobytes; the id is in its first key.
 */
function jsonTextToColonAfterDash(value: unknown): string {
  let text = '';
  let dash = -1;
  let scanned = 0;
  /** Append; true once the text holds a ':' after its first '-'. */
  const emit = (piece: string): boolean => {
    text += piece;
    if (dash < 0) {
      dash = text.indexOf('-', scanned);
      scanned = text.length;
      if (dash < 0) return false;
      scanned = dash;
    }
    const found = text.indexOf(':', scanned) >= 0;
    scanned = text.length;
    return found;
  };
  // Values come from JSON.parse: objects, arrays and JSON primitives only, keys in stringify's order.
  const walk = (v: unknown): boolean => {
    if (v === null || typeof v !== 'object') return emit(JSON.stringify(v) ?? 'null');
    if (Array.isArray(v)) {
      if (emit('[')) return true;
      for (let i = 0; i < v.length; i++) if ((i > 0 && emit(',')) || walk(v[i])) return true;
      return emit(']');
    }
    if (emit('{')) return true;
    let first = true;
    for (const [k, item] of Object.entries(v)) {
      if (item === undefined) continue;
      if (emit(`${first ? '' : ','}${JSON.stringify(k)}:`) || walk(item)) return true;
      first = false;
    }
    return emit('}');
  };
  walk(value);
  return text;
}

/** org/course/run of the course a hash in `s` belongs to, from the modulestore, or ''. */
export function courseDisplayFromHash(s: string, modulestore: Modulestore): string {
  if (modulestore.size === 0) return ''; // none given: no courses to find
  const hash = firstHash(s);
  return (hash && modulestore.courseOf(hash)) || '';
}

export interface CourseColumns {
  courseId: string;
  courseDisplayName: string;
  /** Step-A course id, or context.course_id when a context exists (may be null). */
  currentCourseId: string | null;
  organization: string;
  /** context.module.display_name, when non-empty. */
  moduleDisplayName?: string;
  /** Where the course was found when the reference's rules found none (issue 16.1). */
  inferredFrom?: CourseSource;
}

/** The context object of a record: an object, or a string holding one (the reference eval'd it). */
export function contextOf(record: Record<string, unknown>): Record<string, unknown> | undefined {
  const ctx = record.context;
  if (isObject(ctx)) return ctx;
  if (typeof ctx === 'string' && ctx.trimStart().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(ctx);
      if (isObject(parsed)) return parsed;
    } catch {
      /* not a dict literal: no context */
    }
  }
  return undefined;
}

/** A course id that is not text (an object, even one with a `toString` key) as text, never a throw. */
const str = text;

/**
 * @param eventType the sanitized event_type as found in the record (before the about/… rewrites)
 * @param page the sanitized page
 */
export function courseColumns(
  record: Record<string, unknown>,
  eventType: string,
  page: string,
  decodeEvent: () => unknown,
  modulestore: Modulestore,
): CourseColumns {
  // Step A (get_course_id)
  let full: string;
  let courseId: string;
  let display: string;
  const stepFive = (f: string) => {
    const v = f === '/dashboard' || f === '/heartbeat' ? '' : f;
    return { full: v, display: v ? shortCourseId(v) : '' };
  };
  const rawContext = record.context;
  if (isObject(rawContext) && 'course_id' in rawContext) {
    full = courseId = display = str(rawContext.course_id);
  } else if (record.event_source === undefined || record.event_source === null) {
    full = courseId = display = '';
  } else if (record.event_source === 'server') {
    if (eventType === '') {
      full = courseId = display = '';
    } else if (eventType === '/accounts/login') {
      const ev = decodeEvent();
      const next = isObject(ev) && isObject(ev.GET) ? ev.GET.next : undefined;
      const first = Array.isArray(next) ? next[0] : next;
      ({ full, display } = stepFive(typeof first === 'string' ? first : ''));
      courseId = full;
    } else if (eventType.startsWith('/courses')) {
      full = courseId = shortCourseId(eventType);
      display = courseDisplayFromHash(eventType, modulestore);
    } else if (eventType.includes('problem_')) {
      full = courseId = courseFromProblemEvent(record.event) ?? '';
      display = '';
    } else {
      ({ full, display } = stepFive(eventType));
      courseId = full;
    }
  } else {
    ({ full, display } = stepFive(page));
    courseId = full;
  }

  // Step B
  const out: CourseColumns = { courseId, courseDisplayName: display, currentCourseId: courseId, organization: '' };
  const ctx = contextOf(record);
  if (ctx) {
    out.courseDisplayName = str(ctx.course_id);
    out.organization = str(ctx.org_id);
    out.currentCourseId = typeof ctx.course_id === 'string' ? ctx.course_id : null;
    const module = ctx.module;
    if (isObject(module) && typeof module.display_name === 'string' && module.display_name !== '') {
      out.moduleDisplayName = module.display_name;
    }
  }

  // Step C (change, issue 16.1): where the rules above found no course, the other places an event
  // names it (the payload, a usage or asset key, the request's URL), in that order of trust.
  // Only events with a context (every event since 2013-11): the reference era's events without
  // one keep the reference's values, '' included (conformance).
  if (out.courseId === '' && ctx) {
    const found = courseFromEvent(record, ctx, decodeEvent(), modulestore);
    if (found) {
      out.courseId = found.courseId;
      out.inferredFrom = found.source;
      if (out.courseDisplayName === '') out.courseDisplayName = found.courseId;
      if (out.organization === '') out.organization = orgOf(found.courseId);
      if (!out.currentCourseId) out.currentCourseId = found.courseId;
    }
  }
  return out;
}
