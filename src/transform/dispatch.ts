// The dispatch table: event type → handler (docs/original.md#handlers,
// docs/decisions.md §1). A type no handler knows keeps its common columns. Mobile events carry the
// new name (edx.video.played) in `name` and the legacy one in event_type; either dispatches.
import type { TrackEvent } from './event.js';
import * as problems from './families/problems.js';
import * as nav from './families/navigation.js';
import * as video from './families/video.js';
import * as instructor from './families/instructor.js';
import * as accounts from './families/accounts.js';
import * as assessment from './families/assessment.js';
import * as experiments from './families/experiments.js';
import { book } from './families/book.js';
import { pathEvent } from './families/path.js';
import { DOCUMENTED } from './families/documented.js';

export type Handler = (ev: TrackEvent) => void;

/** Common columns only, deliberately (the type is known; it has nothing else to store). */
const commonOnly: Handler = () => {};

const TABLE: [string[], Handler][] = [
  [['page_close', '/accounts/login', '/dashboard', 'change-email-settings', 'edx.user.settings.changed'], commonOnly],
  [['seq_goto', 'seq_next', 'seq_prev'], nav.sequenceMove],
  [['/login_ajax'], nav.loginAjax],
  [['problem_check'], problems.problemCheck],
  [['problem_reset'], problems.problemReset],
  [['problem_show'], problems.problemIdFrom('problem')],
  [['problem_save'], problems.problemSave],
  [['showanswer', 'show_answer'], problems.problemIdFrom('problem_id')],
  [['problem_check_fail', 'save_problem_fail', 'save_problem_success', 'save_problem_check', 'reset_problem_fail'], problems.problemAnswersAndState],
  [['problem_rescore_fail'], problems.problemRescoreFail],
  [['problem_rescore'], problems.problemRescore],
  [['reset_problem'], problems.resetProblem],
  [['problem_graded'], problems.problemGraded],
  [['psychometrics-histogram-generation'], problems.problemIdFrom('problem')],
  [['edx.problem.completed', 'edx.problem.hint.demandhint_displayed', 'edx.problem.hint.feedback_displayed',
    'edx.grades.problem.submitted', 'edx.grades.problem.rescored', 'edx.grades.problem.score_overridden'], problems.newerProblemEvent],
  [['oe_hide_question', 'oe_hide_problem', 'peer_grading_hide_question', 'peer_grading_hide_problem',
    'staff_grading_hide_question', 'staff_grading_hide_problem', 'oe_show_question', 'oe_show_problem',
    'peer_grading_show_question', 'peer_grading_show_problem', 'staff_grading_show_question', 'staff_grading_show_problem'], assessment.questionLocation],
  [['rubric_select'], assessment.rubricSelect],
  [['oe_show_full_feedback', 'oe_show_respond_to_feedback'], assessment.feedbackShown],
  [['oe_feedback_response_selected'], assessment.feedbackResponseSelected],
  [['show_transcript', 'hide_transcript', 'edx.video.transcript.shown', 'edx.video.transcript.hidden',
    'video_show_cc_menu', 'video_hide_cc_menu', 'edx.video.closed_captions.shown', 'edx.video.closed_captions.hidden',
    'edx.video.language_menu.shown', 'edx.video.language_menu.hidden'], video.transcript],
  [['play_video', 'pause_video', 'stop_video', 'load_video', 'complete_video', 'edx.video.played', 'edx.video.paused',
    'edx.video.stopped', 'edx.video.loaded', 'edx.video.completed'], video.videoPlayback],
  [['seek_video', 'edx.video.position.changed'], video.videoSeek],
  [['speed_change_video', 'edx.video.speed.changed'], video.videoSpeedChange],
  [['fullscreen', 'not_fullscreen'], video.videoFullscreen],
  [['book'], book],
  [['list-students', 'dump-grades', 'dump-grades-raw', 'dump-grades-csv', 'dump-grades-csv-raw', 'dump-answer-dist-csv',
    'dump-graded-assignments-config', 'list-staff', 'list-instructors', 'list-beta-testers', 'list-forum-admins',
    'list-forum-mods', 'list-forum-community-TAs', 'remove-forum-admin', 'add-forum-admin', 'remove-forum-mod',
    'add-forum-mod', 'remove-forum-community-TA', 'add-forum-community-TA'], commonOnly],
  [['rescore-all-submissions', 'reset-all-attempts'], instructor.instructorEvent('course', 'problem')],
  [['delete-student-module-state', 'rescore-student-submission'], instructor.instructorEvent('course', 'problem', 'student')],
  [['reset-student-attempts'], instructor.instructorEvent('problem', 'student', 'instructor', 'attempts')],
  [['get-student-progress-page'], instructor.instructorEvent('student', 'instructor')],
  [['add-instructor', 'remove-instructor'], instructor.instructorEvent('instructor')],
  [['add-or-remove-user-group'], accounts.userGroup],
  [['/create_account'], accounts.createAccount],
  [['assigned_user_to_partition', 'xmodule.partitions.assigned_user_to_partition', 'child_render',
    'xblock.split_test.child_render', 'edx.cohort.user_created', 'edx.cohort.user_added', 'edx.cohort.user_removed',
    'edx.cohort.created', 'edx.cohort.creation_requested', 'edx.cohort.user_add_requested'], experiments.abExperiment],
  [['openassessmentblock.get_peer_submission', 'openassessmentblock.peer_assess', 'openassessmentblock.self_assess',
    'openassessmentblock.staff_assess', 'openassessmentblock.get_submission_for_staff_grading', 'openassessmentblock.submit_feedback_on_assessments',
    'openassessmentblock.create_submission', 'openassessmentblock.save_submission', 'openassessmentblock.upload_file',
    'openassessmentblock.student_training_assess_example', 'openassessment.student_training_assess_example',
    'openassessment.create_submission', 'openassessment.save_submission', 'openassessment.upload_file'], assessment.openAssessment],
  [['edx.course.enrollment.activated', 'edx.course.enrollment.deactivated', 'edx.course.enrollment.mode_changed',
    'edx.course.enrollment.upgrade.clicked', 'edx.course.enrollment.upgrade.succeeded'], instructor.enrollment],
  [['edx.forum.searched'], instructor.forumSearched],
  [['edx.ui.lms.sequence.next_selected', 'edx.ui.lms.sequence.previous_selected', 'edx.ui.lms.sequence.tab_selected',
    'edx.ui.lms.outline.selected', 'edx.ui.lms.link_clicked', 'edx.ui.lms.jump_nav.selected'], nav.lmsNavigation],
  [['edx.bookmark.added', 'edx.bookmark.removed', 'edx.bookmark.accessed', 'edx.bookmark.listed'], nav.bookmark],
  [['edx.done.toggled'], nav.doneToggled],
];

const HANDLERS = new Map<string, Handler>();
for (const [types, handler] of TABLE) for (const t of types) HANDLERS.set(t, handler);
/** Documented families named by a prefix (a type ending in '.'), tried after the exact types. */
const PREFIXES: [string, Handler][] = [];
for (const [types, handler] of DOCUMENTED) {
  for (const t of types) {
    if (t.endsWith('.')) PREFIXES.push([t, handler]);
    else if (!HANDLERS.has(t)) HANDLERS.set(t, handler);
  }
}

/** The handler of a type: exact name first, then the prefixed families. */
export function handlerFor(type: string): Handler | undefined {
  const h = HANDLERS.get(type);
  if (h) return h;
  if (type.startsWith('textbook.pdf')) return book;
  if (/^edx\.forum\.(thread|response|comment)\./.test(type)) return instructor.forumPost;
  // ORA2 events beyond those above (staff, cancel, files): the OpenAssessment row, the rest in EventPayload.
  if (type.startsWith('openassessmentblock.') || type.startsWith('openassessment.')) return assessment.openAssessment;
  for (const [prefix, handler] of PREFIXES) if (type.startsWith(prefix)) return handler;
  if (type.startsWith('/')) return pathEvent;
  return undefined;
}

/** Run the handler of an event; false when its type is unknown (common columns only). */
export function dispatch(ev: TrackEvent): boolean {
  const name = typeof ev.record.name === 'string' ? ev.record.name : undefined;
  const handler = handlerFor(ev.type) ?? (name !== undefined ? handlerFor(name) : undefined);
  if (handler !== experiments.abExperiment) experiments.experimentTags(ev);
  if (!handler) {
    ev.warn(`unknown event type '${ev.type}'`);
    return false;
  }
  handler(ev);
  return true;
}
