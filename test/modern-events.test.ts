// Issue 16: modern Open edX events. The problem_check bug and its siblings (handlers that kept
// their main fields only when an optional part of the payload was present), the course found
// wherever an event carries it, and the documented event families mapped onto the 2014 columns.
// Example events written from the Open edX tracking-log documentation, not copied from logs.
import t from 'tap';
import { transform, event } from './helpers/transform.js';

const one = async (fields: Record<string, unknown>) => (await transform([event(fields)])).rows;
const main = async (fields: Record<string, unknown>) => (await one(fields)).EdxTrackEvent;

const BLOCK = 'block-v1:ExampleU+CS101+2023_T3+type@problem+block@0123456789abcdef0123456789abcdef';

t.test('problem_check (server) with empty answers keeps problem_id, success and attempts', async (t) => {
  const rows = await main({
    event_type: 'problem_check', event_source: 'server', page: 'x_module',
    context: { course_id: 'course-v1:ExampleU+CS101+2023_T3', org_id: 'ExampleU' },
    event: { problem_id: BLOCK, attempts: 2, success: 'incorrect', answers: {}, correct_map: {}, state: {}, grade: 0, max_grade: 1 },
  });
  t.equal(rows.length, 1, 'one main row');
  t.same([rows[0].problem_id, rows[0].success, rows[0].attempts], [BLOCK, 'incorrect', 2]);
});

t.test('seq_goto without id keeps the move; rubric_select without category keeps the rest', async (t) => {
  const seq = await main({ event_type: 'seq_next', event: { old: 2, new: 3 } });
  t.same([seq[0].goto_from, seq[0].goto_dest, seq[0].sequence_id], [2, 3, '']);
  const rubric = await main({ event_type: 'rubric_select', event: { location: 'L', selection: '1' } });
  t.same([rubric[0].question_location, rubric[0].rubric_selection, rubric[0].rubric_category], ['L', 1, -1]);
});

t.test('the course, from everywhere an event carries it, in order of trust', async (t) => {
  const NEW = 'course-v1:ExampleU+CS101+2023_T3';
  const server = (fields: Record<string, unknown>) =>
    main({ event_source: 'server', page: null, context: { course_id: '', org_id: '', path: '/event', user_id: 7 }, event: {}, ...fields });
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['context.course_id first', { event_type: 'edx.bookmark.listed', context: { course_id: 'Org/Num/Run', org_id: 'Org' }, event: { course_id: NEW } }, 'Org/Num/Run', 'Org'],
    ['the payload\'s course_id', { event_type: 'edx.bookmark.listed', event: { course_id: NEW, list_type: 'per_course' } }, NEW, 'ExampleU'],
    ['the payload\'s course_key', { event_type: 'edx.grades.grading_policy_changed', event: { course_key: 'Old/Style/Run', event_transaction_id: 'x' } }, 'Old/Style/Run', 'Old'],
    ['a block-v1 problem_id (problem_rescore from a task)', { event_type: 'problem_rescore', event_source: 'task', event: { problem_id: BLOCK, success: 'correct' } }, NEW, 'ExampleU'],
    ['a module_id', { event_type: 'edx.grades.problem.rescored', event: { module_id: 'block-v1:A+B+C+type@problem+block@1' } }, 'course-v1:A+B+C', 'A'],
    ['a location', { event_type: 'edx.drag_and_drop_v2.loaded', event: { location: 'block-v1:A+B+C+type@drag-and-drop-v2+block@2' } }, 'course-v1:A+B+C', 'A'],
    ['an asset key', { event_type: 'edx.course.tool.accessed', event: { url: 'https://lms.example.edu/asset-v1:A+B+C+type@asset+block@notes.pdf' } }, 'course-v1:A+B+C', 'A'],
    ['a CCX key', { event_type: 'edx.completion.block_completion.changed', event: { block_key: 'ccx-block-v1:A+B+C+ccx@4+type@html+block@3' } }, 'ccx-v1:A+B+C+ccx@4', 'A'],
    ['the context\'s module usage key', { event_type: 'xblock.poll.submitted', context: { course_id: '', module: { display_name: 'Poll', usage_key: 'block-v1:A+B+C+type@poll+block@4' } }, event: { choice: 'yes' } }, 'course-v1:A+B+C', 'A'],
    ['a key deep in the payload', { event_type: 'edx.team.learner_added', event: { team: { id: 't', path: 'block-v1:A+B+C+type@vertical+block@5' } } }, 'course-v1:A+B+C', 'A'],
    ['an LMS URL (implicit event type)', { event_type: `/courses/${NEW}/progress` }, NEW, 'ExampleU'],
    ['an old-style LMS URL in context.path', { event_type: 'edx.forum.thread.viewed', context: { course_id: '', path: '/courses/Old/Style/Run/discussion/forum/' } }, 'Old/Style/Run', 'Old'],
    ['Studio: /course/course-v1:…', { event_type: `/course/${NEW}`, context: { course_id: '', path: `/course/${NEW}` } }, NEW, 'ExampleU'],
    ['Studio: /xblock/container/block-v1:…', { event_type: '/xblock/container/block-v1:A+B+C+type@vertical+block@6' }, 'course-v1:A+B+C', 'A'],
    ['Studio: the old slashes: form', { event_type: '/settings/details/slashes:Old+Style+Run' }, 'Old/Style/Run', 'Old'],
    ['the page of a browser event (learning MFE)', { event_type: 'edx.ui.lms.link_clicked', event_source: 'browser', page: `https://apps.example.edu/learning/course/${NEW}/home` }, NEW, 'ExampleU'],
    ['a percent-encoded query string', { event_type: '/api/courses/v1/blocks/', page: null, context: { course_id: '', path: '/api/courses/v1/blocks/?course_id=course-v1%3AA%2BB%2BC' } }, 'course-v1:A+B+C', 'A'],
    ['Studio: an old-style course\'s /course/Org/Course/Run', { event_type: '/course/Old/Style/Run' }, 'Old/Style/Run', 'Old'],
    ['the referer of a named event, last', { event_type: 'edx.course.tool.accessed', referer: `https://studio.example.edu/course/${NEW}` }, NEW, 'ExampleU'],
  ];
  for (const [what, fields, courseId, org] of cases) {
    const [row] = await server(fields);
    t.same([row.course_id, row.course_display_name, row.organization], [courseId, courseId, org], what);
  }
  const [payloadFirst] = await server({ event_type: 'edx.bookmark.added', event: { course_id: NEW, component_usage_id: 'block-v1:A+B+C+type@html+block@7' }, referer: 'https://lms.example.edu/courses/X/Y/Z/' });
  t.equal(payloadFirst.course_id, NEW, 'the payload\'s course_id before a key or a URL');
  const [none] = await server({ event_type: '/api/courses/v1/', context: { course_id: '', path: '/api/courses/v1/' } });
  t.equal(none.course_id, '', 'nothing named: no course (and /api/courses/v1/ is not Org/Course/Run)');
  const [dashboard] = await server({ event_type: '/dashboard', referer: `https://lms.example.edu/courses/${NEW}/progress` });
  t.equal(dashboard.course_id, '', 'a request\'s referer is not its course: /dashboard from a course page is in none');
  const answers = (await one({ event_type: 'problem_check', event_source: 'server', context: { course_id: '' },
    event: { problem_id: BLOCK, answers: { a_2_1: 'x' }, correct_map: {}, state: {} } })).Answer;
  t.equal(answers[0].course_id, 'course-v1:ExampleU+CS101+2023_T3', 'Answer.course_id is the course found');
  const [old] = await main({ event_type: 'problem_graded', context: undefined, page: null, event: `["input_${BLOCK}_2_1=1", ""]` });
  t.equal(old.course_id, '', 'an event with no context (the reference era) keeps the reference\'s course');
});

t.test('EventPayload: what no column took, personal values replaced (issue 16.2)', async (t) => {
  const ctx = { course_id: 'course-v1:A+B+C', org_id: 'A', path: '/x', user_id: 9 };
  const run = async (fields: Record<string, unknown>) => transform([event({ event_source: 'server', context: ctx, ...fields })]);
  const unknown = await run({ event_type: 'org.example.team.formed', event: { team_id: 'ex-team', topic_id: 'topic-1', user_id: 9, course_id: 'course-v1:A+B+C' } });
  const [p] = unknown.rows.EventPayload;
  t.equal(p.event_table_id, unknown.rows.EdxTrackEvent[0]._id, 'keyed by the main row');
  t.same(JSON.parse(String(p.payload)), { team_id: 'ex-team', topic_id: 'topic-1' }, 'a type no handler knows: all its payload but the user and the row\'s course');
  t.same([p.event_type, p.cut, p.payload_bytes], ['org.example.team.formed', 0, Buffer.byteLength(String(p.payload))]);
  t.same(unknown.stats.byType['org.example.team.formed'], { handled: 0, payloadKept: 1, unknown: 1 }, 'counted by type');
  t.equal(unknown.stats.payloadKept, 1);

  const handled = await run({ event_type: 'edx.bookmark.added', event: { bookmark_id: 'b1', component_type: 'html', component_usage_id: 'block-v1:A+B+C+type@html+block@1', course_id: 'course-v1:A+B+C' } });
  t.notOk(handled.rows.EventPayload, 'every field in a column: no row');
  t.same(handled.stats.byType['edx.bookmark.added'], { handled: 1, payloadKept: 0, unknown: 0 });

  const partly = await run({ event_type: 'play_video', event_source: 'browser', event: JSON.stringify({ id: 'v1', code: 'html5', currentTime: 3, duration: 120.5 }) });
  t.same(JSON.parse(String(partly.rows.EventPayload[0].payload)), { duration: 120.5 }, 'a handled type: only the keys its handler did not store');

  const personal = await run({ event_type: 'edx.forum.thread.voted', event: { id: 't1', target_username: 'bob', vote_value: 'up', reporter: { email: 'bob@example.com', name: 'Bob B' } } });
  const text = String(personal.rows.EventPayload[0].payload);
  t.notMatch(text, /bob/i, 'no username, e-mail or name of a person');
  t.same(JSON.parse(text), { target_username: 'personal', reporter: { email: 'personal', name: 'personal' } });
  const settings = await run({ event_type: 'edx.user.settings.changed', event: { setting: 'name', old: 'Ada L', new: 'Ada Lovelace', table: 'auth_userprofile' } });
  t.same(JSON.parse(String(settings.rows.EventPayload[0].payload)), { setting: 'name', old: 'personal', new: 'personal', table: 'auth_userprofile' }, 'a personal setting\'s old and new values');

  const implicit = await run({ event_type: '/courses/course-v1:A+B+C/instructor/api/list_report_downloads', event: '{"GET": {"format": ["csv"]}, "POST": {}}' });
  t.same(JSON.parse(String(implicit.rows.EventPayload[0].payload)), { GET: { format: ['csv'] } }, 'an implicit request\'s GET (its POST is empty)');
  t.same(implicit.stats.byType['/…'], { handled: 1, payloadKept: 1, unknown: 0 }, 'URL types count together');
  const form = await run({ event_type: '/courses/course-v1:A+B+C/xblock/block-v1:A+B+C+type@problem+block@1/handler/xmodule_handler/problem_check', event: { GET: {}, POST: { input_1_2_1: ['x'] } } });
  t.notOk(form.rows.EventPayload, 'a form a verb stores: no row');

  const big = await run({ event_type: 'edx.special_exam.proctored.attempt.started', event: { exam_name: 'Final', review_policy: 'é'.repeat(40000) } });
  const cut = big.rows.EventPayload[0];
  t.same([cut.cut, Buffer.byteLength(String(cut.payload)) <= 65535, Number(cut.payload_bytes) > 80000], [1, true, true], 'a payload over 65,535 bytes is cut and flagged');
  t.equal(big.stats.payloadsCut, 1);

  const old = await transform([event({ event_type: 'change-email-settings', event_source: 'server', event: { course: 'X/Y/Z', receive_emails: 'yes' } })]);
  t.notOk(old.rows.EventPayload, 'an event without a context (reference era) keeps the reference\'s output');
});

// One example per documented family (written from "Events in the Tracking Logs"): a handler knows
// the type, the fields that mean a 2014 column are in it, and every other field is in EventPayload.
t.test('every documented family: its columns, the rest in EventPayload (issue 16.3)', async (t) => {
  const C = 'course-v1:A+B+C';
  const ctx = { course_id: C, org_id: 'A', path: '/event', user_id: 5 };
  const V = 'block-v1:A+B+C+type@video+block@v1';
  const P = 'block-v1:A+B+C+type@problem+block@p1';
  const S = 'block-v1:A+B+C+type@sequential+block@s1';
  const examples: [family: string, record: Record<string, unknown>, columns: Record<string, unknown>][] = [
    ['enrollment', { event_type: 'edx.course.enrollment.mode_changed', name: 'edx.course.enrollment.mode_changed', event_source: 'server', event: { course_id: C, user_id: 5, mode: 'verified' } }, { mode: 'verified' }],
    ['navigation', { event_type: 'edx.ui.lms.sequence.tab_selected', event: JSON.stringify({ current_tab: 2, tab_count: 5, target_tab: 3, id: S, widget_placement: 'top' }) }, { sequence_id: S, goto_from: 2, goto_dest: 3 }],
    ['video (browser)', { event_type: 'pause_video', event: JSON.stringify({ id: 'v1', code: 'html5', currentTime: 61.5 }) }, { video_id: 'v1', video_current_time: '61.5' }],
    ['video (mobile name)', { event_type: 'seek_video', name: 'edx.video.position.changed', event_source: 'mobile', ip: '', event: { id: V, code: 'mobile', old_time: 10, new_time: 40, type: 'slide' } }, { video_id: V, video_old_time: '10', video_new_time: '40' }],
    ['video bumper', { event_type: 'edx.video.bumper.played', event: JSON.stringify({ host_component_id: 'v1', bumper_id: '/static/bumper.mp4', code: 'html5', currentTime: 2, duration: 5 }) }, { video_id: 'v1', video_code: 'html5' }],
    ['problems', { event_type: 'showanswer', event_source: 'server', event: { problem_id: P } }, { problem_id: P }],
    ['hints', { event_type: 'edx.problem.hint.demandhint_displayed', event_source: 'server', event: { module_id: P, hint_index: 0, hint_len: 2, hint_text: 'Think of the units.' } }, { problem_id: P, hint: 'Think of the units.', position: 0 }],
    ['grades (subsection)', { event_type: 'edx.grades.subsection.grade_calculated', event_source: 'server', event: { user_id: '5', course_id: C, block_id: S, weighted_total_earned: 3, weighted_total_possible: 4, weighted_graded_earned: 3, weighted_graded_possible: 4 } }, { sequence_id: S, new_score: 3, new_total: 4 }],
    ['grades (course)', { event_type: 'edx.grades.course.grade_calculated', event_source: 'server', event: { user_id: '5', course_id: C, percent_grade: 0.82, letter_grade: 'Pass', grading_policy_hash: 'h=' } }, { new_score: 0.82, success: 'Pass' }],
    ['certificates', { event_type: 'edx.certificate.created', event_source: 'server', event: { user_id: 5, course_id: C, certificate_id: 'c0ffee', certificate_url: 'https://lms.example.edu/certificates/c0ffee', enrollment_mode: 'verified', generation_mode: 'batch' } }, { mode: 'verified', submission_id: 'c0ffee' }],
    ['teams', { event_type: 'edx.team.learner_added', event_source: 'server', event: { team_id: 'team-a', add_method: 'joined_from_team_view', user_id: 5 } }, { submission_id: 'team-a' }],
    ['notes', { event_type: 'edx.course.student_notes.added', event: JSON.stringify({ note_id: 'n1', component_usage_id: V, note_text: 'Key idea', highlighted_content: 'entropy', tags: ['exam'], truncated: [] }) }, { submission_id: 'n1', sequence_id: V, long_answer: 'Key idea' }],
    ['bookmarks', { event_type: 'edx.bookmark.accessed', event_source: 'server', event: { bookmark_id: 'ada,' + S, component_type: 'sequential', component_usage_id: S, course_id: C } }, { submission_id: 'ada,' + S, sequence_id: S }],
    ['special exams', { event_type: 'edx.special_exam.proctored.attempt.submitted', event_source: 'server', event: { exam_id: 3, exam_content_id: S, exam_name: 'Final', attempt_id: 77, attempt_status: 'submitted', attempt_allowed_time_limit_mins: 90 } }, { sequence_id: S, resource_display_name: 'Final', success: 'submitted' }],
    ['ORA2 (staff)', { event_type: 'openassessmentblock.staff_assess', event_source: 'server', event: { feedback: 'Good', rubric: { content_hash: 'abc' }, scored_at: '2023-10-17T01:02:03+00:00', submission_uuid: 'u1', score_type: 'ST', scorer_id: 's1', parts: [] } }, {}],
    ['drag and drop', { event_type: 'edx.drag_and_drop_v2.item.dropped', event_source: 'server', event: { item_id: 2, location: 'Zone A', location_id: 'zone-a', is_correct: true, item: 'Goes here' } }, { submission_id: '2', success: 'True' }],
    ['polls', { event_type: 'xblock.poll.submitted', event_source: 'server', event: { choice: 'B' } }, { long_answer: 'B' }],
    ['surveys', { event_type: 'xblock.survey.submitted', event_source: 'server', event: { choices: { q1: 'Y', q2: 'N' } } }, { long_answer: '{"q1":"Y","q2":"N"}' }],
    ['textbooks', { event_type: 'textbook.pdf.page.scrolled', event: JSON.stringify({ type: 'gotopage', page: 4, name: 'textbook.pdf.page.scrolled', chapter: '/static/ch1.pdf', direction: 'down' }) }, { book_interaction_type: 'textbook.pdf.page.scrolled', goto_dest: 4 }],
    ['forums', { event_type: 'edx.forum.comment.created', event_source: 'server', event: { id: 'c1', commentable_id: 'topic', category_name: 'General', body: 'Thanks', discussion: { id: 't1' }, response: { id: 'r1' } } }, { submission_id: 'c1', question_location: 'topic' }],
    ['course goals', { event_type: 'edx.course.goal.added', event_source: 'server', event: { goal_key: 'certify' } }, { mode: 'certify' }],
    ['library content', { event_type: 'edx.librarycontentblock.content.assigned', event_source: 'server', event: { location: 'block-v1:A+B+C+type@library_content+block@l1', added: [{ usage_key: 'x' }], result: [], previous_count: 0, max_count: 1 } }, { question_location: 'block-v1:A+B+C+type@library_content+block@l1' }],
    ['completion', { event_type: 'edx.done.toggled', event: JSON.stringify({ done: true }) }, { success: 'True' }],
    ['completion (block)', { event_type: 'edx.completion.block_completion.changed', event_source: 'server', event: { block_key: P, completion: 1 } }, { problem_id: P }],
    ['edx.bi.*', { event_type: 'edx.bi.app.navigation.screen', name: 'edx.bi.app.navigation.screen', event_source: 'mobile', event: { screen_name: 'Course Outline', course_id: C } }, {}],
    ['Studio', { event_type: `/xblock/container/${V}`, event_source: 'server', event: '{"GET": {}, "POST": {}}' }, {}],
  ];
  for (const [family, record, columns] of examples) {
    const { rows, stats } = await transform([event({ context: ctx, ...record })]);
    const type = String(record.event_type);
    const counts = stats.byType[type.startsWith('/') ? '/…' : type];
    t.same([counts?.handled, counts?.unknown], [1, 0], `${family}: ${type} is known`);
    const row = rows.EdxTrackEvent[0];
    t.same(Object.fromEntries(Object.keys(columns).map((c) => [c, row[c]])), columns, `${family}: its columns`);
    t.equal(row.course_id, C, `${family}: its course`);
    t.ok(stats.byType[type.startsWith('/') ? '/…' : type].payloadKept === (rows.EventPayload ? 1 : 0), `${family}: payload counted`);
  }
});
