// Problem events (docs/original.md#problems).
import { Answer } from '../../schema/tables.js';
import type { MainRow, TrackEvent } from '../event.js';
import { int, isObject, num, text } from '../../core/values.js';
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
  // change: with no answers, maps or states the reference emitted the bare common row, losing
  // the problem, success and attempts the event has (issue 16: a course's AVG(attempts) of -1).
  fanOutOrOne(ev, row, { answers, maps, states });
}

/**
 * A problem event's object and a copy of the common row with its problem_id and display name;
 * undefined (and a warning) when the event is not an object.
 */
function problemEvent(ev: TrackEvent): { e: Record<string, unknown>; row: MainRow } | undefined {
  const e = ev.event;
  if (!isObject(e)) {
    ev.warn(`${ev.type} event is not an object`);
    return undefined;
  }
  const row = ev.main.clone();
  row.set('problem_id', text(e.problem_id));
  ev.setResourceDisplayName(row, e.problem_id);
  return { e, row };
}

/** A main row per item, or the row once when there are none (docs/decisions.md §8). */
function fanOutOrOne(ev: TrackEvent, row: MainRow, items: Parameters<typeof fanOut>[2]): void {
  fanOut(ev, row, items);
  if (ev.mainRows.length === 0) ev.emitMain(row);
}

/** problem_check_fail, save_problem_*, reset_problem_fail: answers and a state (docs/original.md#problems). */
export function problemAnswersAndState(ev: TrackEvent): void {
  const p = problemEvent(ev);
  if (!p) return;
  p.row.set('success', text(p.e.failure ?? p.e.success));
  const answers = pushAnswers(ev, p.e.answers);
  fanOutOrOne(ev, p.row, { answers, states: pushState(ev, p.e.state) });
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
  const p = problemEvent(ev);
  if (!p) return;
  p.row.set('success', text(p.e.failure));
  fanOutOrOne(ev, p.row, { states: pushState(ev, p.e.state) });
}

/** problem_rescore: scores, and a row per correct map. */
export function problemRescore(ev: TrackEvent): void {
  const p = problemEvent(ev);
  if (!p) return;
  const { e, row } = p;
  row.set('success', text(e.success)).set('attempts', int(e.attempts));
  for (const score of ['orig_score', 'orig_total', 'new_score', 'new_total'] as const) row.set(score, num(e[score]));
  fanOutOrOne(ev, row, { maps: pushCorrectMaps(ev, e.correct_map) });
}

/** reset_problem: a row per state of old_state, then new_state. */
export function resetProblem(ev: TrackEvent): void {
  const p = problemEvent(ev);
  if (!p) return;
  fanOutOrOne(ev, p.row, { states: [...pushState(ev, p.e.old_state), ...pushState(ev, p.e.new_state)] });
}

// aria-describedby="input_…" … correct|incorrect, in the HTML of a browser problem_graded event (docs/original.md#problems).
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

/** Newer problem events (edx.problem.*, edx.grades.problem.*): the same columns where they mean the same. */
export function newerProblemEvent(ev: TrackEvent): void {
  const event = ev.event;
  if (!isObject(event)) return;
  const problem = event.problem_id ?? event.module_id ?? event.problem;
  if (problem !== undefined) {
    ev.main.set('problem_id', text(problem));
    ev.setResourceDisplayName(ev.main, problem);
  }
  // submitted: weighted_*; rescored and score_overridden: new_weighted_* (the score after).
  const earned = 'new_weighted_earned' in event ? event.new_weighted_earned : event.weighted_earned;
  const possible = 'new_weighted_possible' in event ? event.new_weighted_possible : event.weighted_possible;
  if (earned !== undefined) ev.main.set('new_score', num(earned));
  if (possible !== undefined) ev.main.set('new_total', num(possible));
  if ('hint_text' in event) ev.main.set('hint', text(event.hint_text));
  if ('hint_index' in event) ev.main.set('position', int(event.hint_index));
  if ('attempts' in event) ev.main.set('attempts', int(event.attempts));
  if ('success' in event) ev.main.set('success', text(event.success));
}
