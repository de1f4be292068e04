// The documented event types of Open edX's "Events in the Tracking Logs" that have no handler of
// their own (issue 16.3): where a field means what a 2014 column means it goes there; the rest of
// the payload goes to EventPayload (payload.ts). docs/events.md lists every type and its fields.
import type { MainRow, TrackEvent } from '../event.js';
import { int, isObject, num, pystr, text } from '../../core/values.js';

type Convert = 'text' | 'int' | 'num' | 'bool';
/** column ← payload key (the first of several keys present), stored as text, int, number or True/False. */
type Column = Parameters<MainRow['set']>[0];
type Mapping = readonly [column: Column, keys: string | readonly string[], convert?: Convert];

const convert = (v: unknown, how: Convert = 'text') =>
  how === 'int' ? int(v) : how === 'num' ? num(v) : how === 'bool' ? (typeof v === 'boolean' ? pystr(v) : text(v)) : text(v);

/** A handler storing the mapped keys of an object payload; a known type with nothing to map stores none. */
export const mapped = (...mappings: Mapping[]) => (ev: TrackEvent): void => {
  const e = ev.event;
  if (!isObject(e)) return;
  for (const [column, keys, how] of mappings) {
    const key = (typeof keys === 'string' ? [keys] : keys).find((k) => k in e && e[k] !== null && e[k] !== undefined);
    if (key === undefined) continue;
    ev.main.set(column, convert(e[key], how));
    if (column === 'problem_id' || column === 'sequence_id' || column === 'video_id') ev.setResourceDisplayName(ev.main, e[key]);
  }
};

/** Known types whose fields mean none of the 2014 columns: common columns, the payload in EventPayload. */
export const payloadOnly = mapped();

/** Documented families, by exact type or prefix, and how their fields map. */
export const DOCUMENTED: readonly (readonly [types: readonly string[], handler: (ev: TrackEvent) => void])[] = [
  // Grades: a subsection is a sequence; weighted scores are new_score/new_total as for problems.
  [['edx.grades.subsection.grade_calculated'], mapped(['sequence_id', 'block_id'], ['new_score', 'weighted_total_earned', 'num'], ['new_total', 'weighted_total_possible', 'num'])],
  [['edx.grades.course.grade_calculated'], mapped(['new_score', 'percent_grade', 'num'], ['success', 'letter_grade'])],
  [['edx.grades.problem.state_deleted'], mapped(['problem_id', 'problem_id'])],
  [['edx.grades.grading_policy_changed', 'edx.course.grade.passed.first_time', 'edx.course.grade.now_passed', 'edx.course.grade.now_failed'], payloadOnly],
  // Certificates: the mode of the enrollment the certificate is for, its id.
  [['edx.certificate.created', 'edx.certificate.shared', 'edx.certificate.evidence_visited'], mapped(['mode', 'enrollment_mode'], ['submission_id', 'certificate_id'])],
  // Special exams and proctoring: the exam is a sequence; the attempt's status.
  [['edx.special_exam.'], mapped(['sequence_id', 'exam_content_id'], ['resource_display_name', 'exam_name'], ['success', 'attempt_status'])],
  // Notes: the note, the component it is on, its text (the learner's own writing, as long_answer).
  [['edx.course.student_notes.'], mapped(['submission_id', 'note_id'], ['sequence_id', 'component_usage_id'], ['long_answer', ['note_text', 'search_string']])],
  // Teams: the team in submission_id (as a forum post or bookmark id), the search text likewise.
  [['edx.team.'], mapped(['submission_id', ['team_id', 'search_text']])],
  // Drag and drop: the item moved and whether the drop was right.
  [['edx.drag_and_drop_v2.'], mapped(['submission_id', 'item_id'], ['success', 'is_correct', 'bool'])],
  // Polls and surveys: the choice is the learner's answer.
  [['xblock.poll.', 'xblock.survey.'], mapped(['long_answer', ['choice', 'choices']])],
  // Course goals: the goal chosen.
  [['edx.course.goal.'], mapped(['mode', 'goal_key'])],
  // Library content: the block whose children were assigned.
  [['edx.librarycontentblock.content.'], mapped(['question_location', 'location'])],
  // Completion of a block (the done toggle has its own handler).
  [['edx.completion.block_completion.changed'], mapped(['problem_id', 'block_key'], ['success', 'completion'])],
  // Pre-roll (bumper) video: the host video and the position, as the video columns.
  [['edx.video.bumper.'], mapped(['video_id', 'host_component_id'], ['video_code', 'code'], ['video_current_time', ['currentTime', 'current_time']])],
  // Course resources and the course home.
  [['edx.course.tool.accessed', 'edx.course.home.resume_course.clicked', 'edx.course.home.upgrade_verified.clicked'], payloadOnly],
  // Peer instruction, third-party components, instructor reports, the mobile app and marketing events (edx.bi.*).
  [['ubc.peer_instruction.', 'edx.googlecomponent.', 'oppia.exploration.', 'microsoft.office.mix.', 'edx.instructor.report.', 'edx.bi.'], payloadOnly],
];
