// Instructor-dashboard events (docs/original.md#instructor-dashboard) and enrollment and forum search
// (docs/original.md#enrollment-and-forum).
// The learner and instructor they name are stored as their anonymous ids (docs/decisions.md §15).
import type { TrackEvent } from '../event.js';
import { int, isObject, pystr, text } from '../../core/values.js';
import { anonymousIdOf } from '../personal.js';

type Field = 'course' | 'problem' | 'student' | 'instructor' | 'attempts';

/** A handler that copies the named fields of an instructor event into their columns. */
export const instructorEvent = (...fields: Field[]) => (ev: TrackEvent): void => {
  const e = ev.event;
  if (!isObject(e)) return ev.warn(`${ev.type} event is not an object`);
  for (const f of fields) {
    switch (f) {
      case 'course':
        ev.main.set('course_id', text(e.course));
        break;
      case 'problem':
        ev.main.set('problem_id', text(e.problem));
        ev.setResourceDisplayName(ev.main, e.problem);
        break;
      case 'student':
        ev.main.set('student_id', anonymousIdOf(e.student));
        break;
      case 'instructor':
        ev.main.set('instructor_id', anonymousIdOf(e.instructor_id));
        break;
      case 'attempts':
        ev.main.set('attempts', int(e.old_attempts));
        break;
    }
  }
};

/**
 * edx.course.enrollment.*: the mode; a session in the event replaces the record's (reference).
 * change: the reference also blanked the record's session when the event had none, and the LMS
 * writes it only at the top level (docs/decisions.md §1).
 */
export function enrollment(ev: TrackEvent): void {
  const e = ev.event;
  if (!isObject(e)) return ev.warn(`${ev.type} event is not an object`);
  ev.main.set('mode', text(e.mode ?? e.new_mode));
  if ((ev.type === 'edx.course.enrollment.activated' || ev.type === 'edx.course.enrollment.deactivated') && 'session' in e) {
    ev.main.set('session', text(e.session));
  }
  if (typeof e.course_id === 'string' && ev.main.get('course_id') === '') ev.main.set('course_id', e.course_id);
}

/** edx.forum.searched: query, result page and total (Python str() as the reference). */
export function forumSearched(ev: TrackEvent): void {
  const e = ev.event;
  if (!isObject(e)) return ev.warn('edx.forum.searched event is not an object');
  ev.main.set('submission_id', pystr(e.query)).set('page', pystr(e.page)).set('success', pystr(e.total_results));
}

/** Newer forum events (edx.forum.{thread,response,comment}.*): the post, its topic and the vote. */
export function forumPost(ev: TrackEvent): void {
  const e = ev.event;
  if (!isObject(e)) return;
  ev.main.set('submission_id', text(e.id));
  if ('commentable_id' in e) ev.main.set('question_location', text(e.commentable_id));
  if (typeof e.category_name === 'string') ev.main.set('resource_display_name', e.category_name);
  if ('vote_value' in e) ev.main.set('success', text(e.vote_value));
  if ('undo_vote' in e) ev.main.set('mode', e.undo_vote ? 'undo_vote' : 'vote');
}
