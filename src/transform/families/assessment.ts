// Open assessment (ORA2) → OpenAssessment (docs/original.md#open-assessment), and the deprecated
// ORA1 / peer / staff grading events (docs/original.md#open-response-ora1).
import { OpenAssessment } from '../../schema/tables.js';
import { parseEventTime } from '../../tracklog/time.js';
import { contextOf } from '../course.js';
import type { TrackEvent } from '../event.js';
import type { RowBuilder } from '../row.js';
import type { ColumnOf } from '../../schema/table.js';
import { entriesInLogOrder, int, isObject, text } from '../../core/values.js';

const utc = (v: unknown) => parseEventTime(v)?.utc ?? null;

/** `Criterion k: v; ` for each entry, after a heading; '' when there are none. */
function criteria(heading: string, choices: unknown, raw: string, field: string): string {
  if (!isObject(choices) || Object.keys(choices).length === 0) return '';
  return heading + entriesInLogOrder(choices, raw, field).map(([k, v]) => `Criterion ${k}: ${text(v)}; `).join('');
}

function assessmentParts(parts: unknown): string {
  if (!Array.isArray(parts)) return '';
  return parts
    .map((p) => {
      const part = isObject(p) ? p : {};
      const c = isObject(part.criterion) ? part.criterion : {};
      const o = isObject(part.option) ? part.option : {};
      return `Criterion ${text(c.name)} (max points ${text(c.points_possible)}): option ${text(o.name)}: ${text(o.points)}. Feedback: ${text(part.feedback)}; `;
    })
    .join('');
}

/** Text of a saved or submitted response: a string, {text}, or {parts: [{text}]}, possibly as JSON text. */
function responseText(v: unknown): string {
  if (typeof v === 'string') {
    try {
      const parsed: unknown = JSON.parse(v);
      if (isObject(parsed)) return responseText(parsed);
    } catch {
      /* plain text */
    }
    return v;
  }
  if (isObject(v)) {
    if (typeof v.text === 'string') return v.text;
    if (Array.isArray(v.parts)) return v.parts.map((p) => (isObject(p) ? text(p.text) : text(p))).join('\n\n');
  }
  return text(v);
}

type AssessmentRow = RowBuilder<ColumnOf<typeof OpenAssessment>>;
type Fill = (r: AssessmentRow, e: Record<string, unknown>, raw: string) => void;

const FILLERS: Record<string, Fill> = {
  get_peer_submission: (r, e) =>
    r.set('course_display_name', text(e.course_id))
      .set('resource_id', text(e.item_id))
      .set('submission_uuid', text(e.submission_returned_uuid))
      .set('edx_anon_id', text(e.requesting_student_id)),
  // A staff member fetching a learner's submission to grade (ORA's staff grading), as the above.
  get_submission_for_staff_grading: (r, e) =>
    r.set('course_display_name', text(e.course_id))
      .set('resource_id', text(e.item_id))
      .set('submission_uuid', text(e.submission_returned_uuid))
      .set('edx_anon_id', text(e.requesting_staff_id)),
  peer_assess: (r, e) => assess(r, e),
  self_assess: (r, e) => assess(r, e),
  staff_assess: (r, e) => assess(r, e),
  submit_feedback_on_assessments: (r, e) =>
    r.set('submission_uuid', text(e.submission_uuid))
      .set('feedback_text', text(e.feedback_text))
      .set('options', Array.isArray(e.options) ? JSON.stringify(e.options) : ''),
  student_training_assess_example: (r, e, raw) =>
    r.set('submission_uuid', text(e.submission_uuid))
      .set('corrections', criteria('Instructor choices in rubric: ', e.corrections, raw, 'corrections'))
      .set('options', criteria('Student choices in rubric: ', e.options_selected, raw, 'options_selected')),
  create_submission: (r, e) =>
    r.set('submission_text', responseText(e.answer))
      .set('time', utc(e.created_at))
      // change: the reference read 'attempt_number_at' and stored '' in an INT column.
      .set('attempt_num', int(e.attempt_number))
      .set('submission_uuid', text(e.submission_uuid))
      .set('time_aux', utc(e.submitted_at)),
  save_submission: (r, e) => r.set('submission_text', responseText(e.saved_response)),
  upload_file: (r, e) =>
    r.set('resource_display_name', `File ${text(e.fileType)}: ${text(e.fileName)} (${text(e.fileSize)})`),
};

function assess(r: AssessmentRow, e: Record<string, unknown>): void {
  r.set('edx_anon_id', text(e.scorer_id))
    .set('comment_text', text(e.feedback))
    .set('submission_uuid', text(e.submission_uuid))
    .set('score_type', text(e.score_type))
    .set('time', utc(e.scored_at))
    .set('feedback_text', assessmentParts(e.parts))
    // change: the reference never filled options; the rubric's hash is what it meant.
    .set('options', isObject(e.rubric) ? text(e.rubric.content_hash) : '');
}

/** openassessmentblock.* and openassessment.*: one OpenAssessment row beside the main row. */
export function openAssessment(ev: TrackEvent): void {
  const e = isObject(ev.event) ? ev.event : {};
  const action = ev.type.slice(ev.type.lastIndexOf('.') + 1);
  const ctx = contextOf(ev.record);
  const module = ctx && isObject(ctx.module) ? ctx.module : {};
  ev.addKeyedAux(OpenAssessment, (r) => {
    r.set('event_type', ev.type)
      .set('anon_screen_name', ev.anon)
      .set('time', ev.main.get('time'))
      .set('course_display_name', ev.main.get('course_display_name'));
    // The event's own text when it came as a string (its keys are escaped inside the line).
    FILLERS[action]?.(r, e, typeof ev.record.event === 'string' ? ev.record.event : ev.rawLine);
    const resourceId = r.get('resource_id');
    if (resourceId !== '') r.set('resource_display_name', ev.displayNameOf(resourceId) ?? '');
    if (r.get('resource_display_name') === '') r.set('resource_display_name', text(module.display_name));
  });
}

/** oe_* / peer_grading_* / staff_grading_* show and hide: the question's location. */
export function questionLocation(ev: TrackEvent): void {
  const e = ev.event;
  if (!isObject(e)) return ev.warn(`${ev.type} event is not an object`);
  ev.main.set('question_location', text(e.location));
}

export function rubricSelect(ev: TrackEvent): void {
  const e = ev.event;
  if (!isObject(e)) return ev.warn('rubric_select event is not an object');
  // change: the reference kept none of the three when one was missing; each present one is kept.
  if (!('location' in e && 'selection' in e && 'category' in e)) ev.warn('rubric_select event lacks location, selection or category');
  ev.main.set('question_location', text(e.location)).set('rubric_selection', int(e.selection)).set('rubric_category', int(e.category));
}

/** oe_show_full_feedback, oe_show_respond_to_feedback: the feedback (the reference computed it but lost the row). */
export function feedbackShown(ev: TrackEvent): void {
  ev.main.set('feedback', text(ev.event));
}

export function feedbackResponseSelected(ev: TrackEvent): void {
  const e = ev.event;
  if (isObject(e)) ev.main.set('feedback_response_selected', int(e.value));
}
