// Auxiliary rows of problem events (docs/original.md#problems): Answer, CorrectMap, InputState,
// State; and the fan-out of main rows over them (one main row per item, docs/original.md#rows-per-line).
import { Answer, CorrectMap, InputState, State } from '../../schema/tables.js';
import type { MainRow, TrackEvent } from '../event.js';
import { int, isObject, num, pystr, sanitize, text } from '../../core/values.js';

export interface AnswerRef {
  id: string;
  problemId: string;
}

/** The stored text of an answer: lists joined with ',', strings sanitized, other scalars ''. */
function answerText(v: unknown): string {
  if (Array.isArray(v)) return sanitize(v.map((x) => (typeof x === 'string' ? x : text(x))).join(','));
  if (typeof v === 'string') return sanitize(v);
  return '';
}

/** One Answer row per (problem id, answer) of a map, in map order; null answers are skipped. */
export function pushAnswers(ev: TrackEvent, answers: unknown): AnswerRef[] {
  if (!isObject(answers)) return [];
  const out: AnswerRef[] = [];
  for (const [problemId, answer] of Object.entries(answers)) {
    if (answer === null || answer === undefined) continue;
    const id = ev.addAux(Answer, (r) =>
      r.set('problem_id', problemId).set('answer', answerText(answer)).set('course_id', ev.currentCourseId ?? ''),
    );
    out.push({ id, problemId });
  }
  return out;
}

/** Answer rows from `key=value&key=value` text (browser problem_check, problem_save). */
export function pushQueryAnswers(ev: TrackEvent, query: string): AnswerRef[] | undefined {
  const answers = new Map<string, string>();
  for (const piece of query.split('&')) {
    if (piece === '') continue;
    const parts = piece.split('=');
    if (parts.length !== 2) {
      ev.warn(`answer '${piece.slice(0, 80)}' is not key=value`);
      continue;
    }
    answers.set(parts[0], parts[1]); // a repeated key keeps its first place, last value
  }
  if (answers.size === 0) return undefined;
  return pushAnswers(ev, Object.fromEntries(answers));
}

/** A CorrectMap row made: its id and the input it grades. */
export interface MapRef {
  id: string;
  key: string;
}

export function pushCorrectMaps(ev: TrackEvent, maps: unknown): MapRef[] {
  if (!isObject(maps)) return [];
  return Object.entries(maps).map(([key, m]) => ({
    key,
    id: ev.addAux(CorrectMap, (r) => {
      const cm = isObject(m) ? m : {};
      const q = cm.queuestate;
      r.set('answer_identifier', key)
        .set('correctness', text(cm.correctness))
        .set('npoints', num(cm.npoints))
        .set('msg', sanitize(cm.msg))
        .set('hint', text(cm.hint))
        .set('hintmode', text(cm.hintmode))
        .set('queuestate', isObject(q) ? `${text(q.key)}:${text(q.time)}` : text(q));
    }),
  }));
}

/**
 * The correct maps in the places of the answers they grade. The reference paired the i-th answer
 * with the i-th map (docs/original.md#rows-per-line), which holds while both list the same inputs in the same order, but an
 * answer with no map (the `<id>_dynamath` companion of a math input) shifts every later answer onto
 * the next input's map. So where the two share keys, each answer gets the map of its own input (or
 * none), and the maps of no answer follow after; where they share none, they pair by position.
 */
export function alignMaps(answers: readonly AnswerRef[], maps: readonly MapRef[]): (MapRef | undefined)[] {
  const byKey = new Map(maps.map((m) => [m.key, m]));
  if (!answers.some((a) => byKey.has(a.problemId))) return [...maps];
  const aligned: (MapRef | undefined)[] = answers.map((a) => byKey.get(a.problemId));
  const used = new Set(aligned);
  for (const m of maps) if (!used.has(m)) aligned.push(m);
  return aligned;
}

function pushInputStates(ev: TrackEvent, states: unknown): string[] {
  if (!isObject(states)) return [];
  return Object.entries(states).map(([problemId, state]) =>
    ev.addAux(InputState, (r) =>
      r.set('problem_id', problemId).set('state', isObject(state) && Object.keys(state).length === 0 ? '' : text(state)),
    ),
  );
}

/** State rows (with their Answer/CorrectMap/InputState rows) for one state dict; returns State ids. */
export function pushState(ev: TrackEvent, state: unknown): string[] {
  if (!isObject(state)) return [];
  const answers = pushAnswers(ev, state.student_answers);
  const maps = alignMaps(answers, pushCorrectMaps(ev, state.correct_map));
  const inputs = pushInputStates(ev, state.input_state);
  const n = Math.max(answers.length, maps.length, inputs.length);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(
      ev.addAux(State, (r) =>
        r.set('seed', int(state.seed))
          .set('done', pystr(state.done))
          .set('problem_id', text(state.problem_id))
          .set('student_answer', answers[i]?.id ?? '')
          .set('correct_map', maps[i]?.id ?? '')
          .set('input_state', inputs[i] ?? ''),
      ),
    );
  }
  return ids;
}

/**
 * One main row per item: row i carries the i-th answer (and its problem id and display name), the
 * correct map of that answer's input (alignMaps) and the i-th state; shorter lists leave '' (and
 * earlier values of problem_id stay, docs/original.md#rows-per-line).
 */
export function fanOut(ev: TrackEvent, row: MainRow, items: { answers?: AnswerRef[]; maps?: MapRef[]; states?: string[] }): void {
  const answers = items.answers ?? [], states = items.states ?? [];
  const maps = alignMaps(answers, items.maps ?? []);
  const n = Math.max(answers.length, maps.length, states.length);
  for (let i = 0; i < n; i++) {
    const a = answers[i];
    if (a) {
      row.set('problem_id', a.problemId);
      ev.setResourceDisplayName(row, a.problemId);
    }
    row.set('answer_fk', a?.id ?? '');
    if (items.maps) row.set('correctMap_fk', maps[i]?.id ?? '');
    if (items.states) row.set('state_fk', states[i] ?? '');
    ev.emitMain(row);
  }
}
