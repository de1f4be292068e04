// Problem events (transform.md §6.2 #4-#7, #19-#24, #36, §7.1-§7.4).
import { Answer } from '../../schema/tables.js';
import type { TrackEvent } from '../event.js';
import { int, isObject, text } from '../values.js';
import { fanOut, pushAnswers, pushCorrectMaps, pushQueryAnswers, pushState, type AnswerRef } from './problem-rows.js';

/** problem_check: a query string from the browser (simple), a dict from the server (complex). */
export function problemCheck(ev: TrackEvent): void {
  const event = ev.event;
  const row = ev.main.clone();
  if (typeof event === 'string') {
    const answers = pushQueryAnswers(ev, event);
    if (answers) fanOut(ev, row, { answers });
    return;
  }
  if (!isObject(event)) return ev.warn('problem_check event is neither a query string nor an object');
  row.set('success', text(event.success)).set('attempts', int(event.attempts)).set('problem_id', text(event.problem_id));
  ev.setResourceDisplayName(row, event.problem_id);
  const maps = pushCorrectMaps(ev, event.correct_map);
  const answers = pushAnswers(ev, event.answers);
  const states = pushState(ev, event.state);
  fanOut(ev, row, { answers, maps, states });
}

/** problem_check_fail, save_problem_*, reset_problem_fail: answers and a state (§7.2, §7.3). */
export function problemAnswersAndState(ev: TrackEvent): void {
  const event = ev.event;
  if (!isObject(event)) return ev.warn(`${ev.type} event is not an object`);
  const row = ev.main.clone();
  row.set('problem_id', text(event.problem_id));
  ev.setResourceDisplayName(row, event.problem_id);
  row.set('success', text(event.failure ?? event.success));
  const answers = pushAnswers(ev, event.answers);
  const states = pushState(ev, event.state);
  fanOut(ev, row, { answers, states });
  if (ev.mainRows.length === 0) ev.emitMain(row);
}

/** problem_reset: the whole string event is the problem id, or POST.id of a dict. */
export function problemReset(ev: TrackEvent): void {
  const event = ev.event;
  let id: unknown = event;
  if (isObject(event)) {
    const post = isObject(event.POST) ? event.POST.id : event.problem_id;
    id = Array.isArray(post) && post.length === 1 ? post[0] : post;
  }
  ev.main.set('problem_id', text(id));
  ev.setResourceDisplayName(ev.main, ev.main.get('problem_id'));
}

/** problem_show (event.problem), showanswer/show_answer (event.problem_id), psychometrics (event.problem). */
export const problemIdFrom = (key: string) => (ev: TrackEvent): void => {
  const event = ev.event;
  if (!isObject(event) || !(key in event)) return ev.warn(`${ev.type} event has no ${key}`);
  ev.main.set('problem_id', text(event[key]));
  ev.setResourceDisplayName(ev.main, event[key]);
};

/** problem_save: `key=value&…` answers. */
export function problemSave(ev: TrackEvent): void {
  const event = ev.event;
  if (typeof event !== 'string') return ev.warn('problem_save event is not a query string');
  const answers = pushQueryAnswers(ev, event);
  if (answers) fanOut(ev, ev.main.clone(), { answers });
}

/** problem_rescore_fail: a row per state. */
export function problemRescoreFail(ev: TrackEvent): void {
  const event = ev.event;
  if (!isObject(event)) return ev.warn('problem_rescore_fail event is not an object');
  const row = ev.main.clone();
  row.set('problem_id', text(event.problem_id)).set('success', text(event.failure));
  ev.setResourceDisplayName(row, event.problem_id);
  fanOut(ev, row, { states: pushState(ev, event.state) });
  if (ev.mainRows.length === 0) ev.emitMain(row);
}

/** problem_rescore: scores, and a row per correct map. */
export function problemRescore(ev: TrackEvent): void {
  const event = ev.event;
  if (!isObject(event)) return ev.warn('problem_rescore event is not an object');
  const row = ev.main.clone();
  row.set('problem_id', text(event.problem_id))
    .set('success', text(event.success))
    .set('attempts', int(event.attempts))
    .set('orig_score', int(event.orig_score))
    .set('orig_total', int(event.orig_total))
    .set('new_score', int(event.new_score))
    .set('new_total', int(event.new_total));
  ev.setResourceDisplayName(row, event.problem_id);
  fanOut(ev, row, { maps: pushCorrectMaps(ev, event.correct_map) });
  if (ev.mainRows.length === 0) ev.emitMain(row);
}

/** reset_problem: a row per state of old_state, then new_state. */
export function resetProblem(ev: TrackEvent): void {
  const event = ev.event;
  if (!isObject(event)) return ev.warn('reset_problem event is not an object');
  const row = ev.main.clone();
  row.set('problem_id', text(event.problem_id));
  ev.setResourceDisplayName(row, event.problem_id);
  const states = [...pushState(ev, event.old_state), ...pushState(ev, event.new_state)];
  fanOut(ev, row, { states });
  if (ev.mainRows.length === 0) ev.emitMain(row);
}

// aria-describedby="input_…" … correct|incorrect, in the HTML of a browser problem_graded event (§7.4).
const GRADED = /aria-describedby=[\\"]*(input[^\\">]*)[\\"]*[>nStaus\\:"\s]*((?:[iIn]{0,2})correct)/g;

/** problem_graded: answers found in the returned HTML. */
export function problemGraded(ev: TrackEvent): void {
  const event = ev.event;
  const textForm = typeof event === 'string' ? event : JSON.stringify(event ?? '');
  const found = new Map<string, string>();
  for (const m of textForm.matchAll(GRADED)) found.set(m[1], m[2]);
  if (found.size === 0) return;
  const answers: AnswerRef[] = [];
  for (const [problemId, result] of found) {
    const id = ev.addAux(Answer, (r) => r.set('problem_id', problemId).set('answer', result).set('course_id', ev.currentCourseId ?? ''));
    answers.push({ id, problemId });
  }
  fanOut(ev, ev.main.clone(), { answers });
}

/** Newer problem events (edx.problem.*, edx.grades.problem.submitted): the same columns where they mean the same. */
export function newerProblemEvent(ev: TrackEvent): void {
  const event = ev.event;
  if (!isObject(event)) return;
  const problem = event.problem_id ?? event.module_id ?? event.problem;
  if (problem !== undefined) {
    ev.main.set('problem_id', text(problem));
    ev.setResourceDisplayName(ev.main, problem);
  }
  if ('weighted_earned' in event) ev.main.set('new_score', int(event.weighted_earned));
  if ('weighted_possible' in event) ev.main.set('new_total', int(event.weighted_possible));
  if ('hint_text' in event) ev.main.set('hint', text(event.hint_text));
  if ('hint_index' in event) ev.main.set('position', int(event.hint_index));
  if ('attempts' in event) ev.main.set('attempts', int(event.attempts));
  if ('success' in event) ev.main.set('success', text(event.success));
}
