// Path-style event types: any request URL (docs/original.md#path-style-events), e.g.
// /courses/<org>/<course>/<run>/modx/i4x://<org>/<course>/<category>/<hash>/<verb>.
import { Answer } from '../../schema/tables.js';
import type { TrackEvent } from '../event.js';
import { isObject, pystr, sanitize, text } from '../../core/values.js';
import { fanOut, type AnswerRef } from './problem-rows.js';

const joined = (v: unknown, sep = '; '): string => (Array.isArray(v) ? v.map(text).join(sep) : text(v));

const HANDLED_VERBS = new Set(['is_student_calibrated', 'problem', 'goto_position', 'save_answer', 'save_grade', 'problem_check']);

export function pathEvent(ev: TrackEvent): void {
  ev.setResourceDisplayName(ev.main, ev.type);
  const verb = ev.type.slice(ev.type.lastIndexOf('/') + 1);
  // The form is read only for the verbs that store it: the GET and POST of any other request
  // (and the GET of these) go to EventPayload (issue 16.2).
  if (!HANDLED_VERBS.has(verb)) return;
  const e = ev.event;
  const post = isObject(e) && isObject(e.POST) ? e.POST : undefined;
  if (!post) return; // a page request with no form: common columns are all there is
  const m = ev.main;
  switch (verb) {
    case 'is_student_calibrated':
    case 'problem':
      m.set('question_location', joined(post.location));
      break;
    case 'goto_position':
      m.set('position', joined(post.position));
      break;
    case 'save_answer':
      m.set('student_file', joined(post.student_file ?? ['']))
        .set('long_answer', sanitize(joined(post.student_answer)))
        .set('can_upload_file', Array.isArray(post.can_upload_files) ? joined(post.can_upload_files) : pystr(post.can_upload_files));
      break;
    case 'save_grade':
      // change: the reference read the key 'submission' (absent) and stored ''.
      m.set('submission_id', joined(post.submission_id)).set('long_answer', sanitize(text(post.feedback)));
      break;
    case 'problem_check': {
      const answers: AnswerRef[] = [];
      for (const [problemId, value] of Object.entries(post)) {
        const id = ev.addAux(Answer, (r) =>
          r.set('problem_id', problemId).set('answer', sanitize(joined(value, ','))).set('course_id', ev.currentCourseId ?? ''),
        );
        answers.push({ id, problemId });
      }
      fanOut(ev, m.clone(), { answers });
      break;
    }
  }
}
