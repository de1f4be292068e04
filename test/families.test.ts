// Every event family, from the spec, with example events of our own (not the conformance inputs).
import t, { type Test } from 'tap';
import { H } from '../src/core/values.js';
import { Modulestore } from '../src/modulestore/display-names.js';
import { transform, event } from './helpers/transform.js';
import { LINKS } from './helpers/links.js';

const PROB = 'i4x-Demo-CS101-problem-0123456789abcdef0123456789abcdef';
const ms = new Modulestore([
  { _id: { tag: 'i4x', org: 'Demo', course: 'CS101', category: 'problem', name: '0123456789abcdef0123456789abcdef' }, metadata: { display_name: 'Quiz A' } },
  { _id: { tag: 'i4x', org: 'Demo', course: 'CS101', category: 'video', name: 'fedcba9876543210fedcba9876543210' }, metadata: { display_name: 'Lecture 1' } },
]);
const one = async (fields: Record<string, unknown>) => (await transform([event(fields)], { modulestore: ms })).rows;

/** Every link column names a row that exists (answer_fk, state_fk, …). */
function checkLinks(t: Test, rows: Record<string, Record<string, unknown>[]>) {
  const ids = (table: string, col: string) => new Set((rows[table] ?? []).map((r) => r[col]));
  for (const { table, column, ref, key } of LINKS) {
    const keys = ids(ref, key);
    for (const r of rows[table] ?? []) if (r[column] !== '') t.ok(keys.has(r[column]), `${table}.${column} names a ${ref} row`);
  }
}

t.test('problem_check from the browser: one Answer and one main row per answer', async (t) => {
  const rows = await one({ event_type: 'problem_check', event: `"input_${PROB}_2_1=choice_1&input_${PROB}_3_1=It%27s+%22a%22"` });
  t.same(rows.Answer.map((a) => [a.problem_id, a.answer]), [[`input_${PROB}_2_1`, 'choice_1'], [`input_${PROB}_3_1`, 'It%27s+%22a%22']], 'URL encoding kept');
  t.equal(rows.EdxTrackEvent.length, 2);
  t.equal(rows.EdxTrackEvent[0].event_id, rows.EdxTrackEvent[1].event_id, 'one event_id for the line');
  t.not(rows.EdxTrackEvent[0]._id, rows.EdxTrackEvent[1]._id);
  t.equal(rows.EdxTrackEvent[1].resource_display_name, 'Quiz A');
  t.equal(rows.Answer[0].course_id, rows.EdxTrackEvent[0].course_id, 'Answer.course_id is the current course');
  checkLinks(t, rows);
});

t.test('problem_check from the server: correct maps, answers and state', async (t) => {
  const rows = await one({
    event_type: 'problem_check', event_source: 'server', page: 'x_module',
    context: { course_id: 'Demo/CS101/Spring2014', org_id: 'Demo' },
    event: {
      problem_id: `i4x://Demo/CS101/problem/0123456789abcdef0123456789abcdef`, attempts: 3, success: 'correct',
      answers: { [`${PROB}_2_1`]: ['choice_0', 'choice_2'], [`${PROB}_3_1`]: "O'Brien\\n" },
      correct_map: { [`${PROB}_2_1`]: { correctness: 'correct', npoints: 2, msg: 'ok', hint: '', hintmode: null, queuestate: { key: 'k1', time: 't1' } },
        [`${PROB}_3_1`]: { correctness: 'partially-correct', npoints: 0.5, msg: '', hint: '', hintmode: null, queuestate: null } },
      state: { seed: 300, done: true, student_answers: {}, correct_map: {}, input_state: { [`${PROB}_2_1`]: {}, [`${PROB}_3_1`]: { x: 1 } } },
    },
  });
  t.same(rows.Answer.map((a) => a.answer), ['choice_0,choice_2', "O'Brienn"], 'lists joined, sanitized (backslash removed)');
  t.same(rows.CorrectMap.map((c) => [c.correctness, c.npoints, c.queuestate]), [['correct', 2, 'k1:t1'], ['partially-correct', 0.5, '']], 'partial credit kept');
  t.same(rows.InputState.map((s) => s.state), ['', '{"x":1}'], 'empty dict → \'\', others JSON');
  t.same(rows.State.map((s) => [s.seed, s.done]), [[300, 'True'], [300, 'True']], 'seed beyond TINYINT kept');
  t.equal(rows.EdxTrackEvent.length, 2, 'rows over the longest list');
  t.same(rows.EdxTrackEvent.map((r) => [r.success, r.attempts]), [['correct', 3], ['correct', 3]]);
  t.equal(rows.EdxTrackEvent[0].course_id, 'Demo/CS101/Spring2014');
  checkLinks(t, rows);
});

t.test('problem_check: each answer beside the correct map of its own input, the _dynamath companion of a math input included', async (t) => {
  const p = 'i4x-Demo-CS101-problem-0123456789abcdef0123456789abcdef';
  const rows = await one({
    event_type: 'problem_check', event_source: 'server',
    event: {
      problem_id: 'i4x://Demo/CS101/problem/0123456789abcdef0123456789abcdef',
      answers: { [`${p}_2_1`]: 'x^2', [`${p}_2_1_dynamath`]: '<math>x^2</math>', [`${p}_3_1`]: '42' },
      correct_map: { [`${p}_2_1`]: { correctness: 'correct', npoints: 1 }, [`${p}_3_1`]: { correctness: 'incorrect', npoints: 0 } },
      state: { student_answers: { [`${p}_2_1`]: 'x^2', [`${p}_2_1_dynamath`]: '<math>x^2</math>', [`${p}_3_1`]: '42' },
        correct_map: { [`${p}_2_1`]: { correctness: 'correct' }, [`${p}_3_1`]: { correctness: 'incorrect' } }, input_state: {}, seed: 1, done: true },
    },
  });
  const answerOf = new Map(rows.Answer.map((a) => [a.answer_id, a.problem_id]));
  const mapOf = new Map(rows.CorrectMap.map((c) => [c.correct_map_id, c.answer_identifier]));
  t.same(rows.EdxTrackEvent.map((r) => [answerOf.get(r.answer_fk), mapOf.get(r.correctMap_fk) ?? '']),
    [[`${p}_2_1`, `${p}_2_1`], [`${p}_2_1_dynamath`, ''], [`${p}_3_1`, `${p}_3_1`]], 'main rows: answer and map of the same input (by position, 42 was marked with the first input map)');
  t.same(rows.State.map((r) => [answerOf.get(r.student_answer), mapOf.get(r.correct_map) ?? '']),
    [[`${p}_2_1`, `${p}_2_1`], [`${p}_2_1_dynamath`, ''], [`${p}_3_1`, `${p}_3_1`]], 'State rows too');
  checkLinks(t, rows);
});

t.test('problem_check_fail and save_problem_*: answers and states, no duplicate trailing row', async (t) => {
  const rows = await one({
    event_type: 'problem_check_fail', event_source: 'server', page: 'x_module',
    event: { problem_id: `i4x://Demo/CS101/problem/0123456789abcdef0123456789abcdef`, failure: 'closed',
      answers: { [`${PROB}_2_1`]: 'a', [`${PROB}_3_1`]: 'b' },
      state: { seed: 1, done: null, student_answers: { [`${PROB}_2_1`]: 'a' }, correct_map: {}, input_state: {} } },
  });
  t.equal(rows.EdxTrackEvent.length, 2);
  t.equal(rows.EdxTrackEvent[0].success, 'closed');
  t.equal(rows.EdxTrackEvent[0].course_id, 'Demo-CS101', 'server problem_ event: Org-Course from the ids');
  t.equal(rows.State[0].done, 'None');
  t.equal(rows.Answer.length, 3, 'two answers + one student answer of the state');
  checkLinks(t, rows);
  const save = await one({ event_type: 'save_problem_success', event_source: 'server', event: { problem_id: 'p', success: 'correct', answers: {}, state: {} } });
  t.equal(save.EdxTrackEvent.length, 1, 'zero items still give the event its row');
  t.equal(save.EdxTrackEvent[0].success, 'correct');
});

t.test('problem_save, problem_reset, problem_show, showanswer, rescore', async (t) => {
  const save = await one({ event_type: 'problem_save', event: `"input_${PROB}_2_1=13.4+per+minute&input_${PROB}_3_1="` });
  t.same(save.Answer.map((a) => a.answer), ['13.4+per+minute', '']);
  const reset = await one({ event_type: 'problem_reset', event: `"input_${PROB}_2_1=2"` });
  t.equal(reset.EdxTrackEvent[0].problem_id, `input_${PROB}_2_1=2`);
  t.equal(reset.EdxTrackEvent[0].resource_display_name, 'Quiz A');
  const show = await one({ event_type: 'problem_show', event: `{"problem":"${PROB}"}` });
  t.equal(show.EdxTrackEvent[0].problem_id, PROB);
  const answer = await one({ event_type: 'showanswer', event_source: 'server', event: { problem_id: PROB } });
  t.equal(answer.EdxTrackEvent[0].problem_id, PROB);
  const rescore = await one({ event_type: 'problem_rescore', event_source: 'server', event: {
    problem_id: PROB, success: 'correct', attempts: 1, orig_score: 0, orig_total: 1, new_score: 1, new_total: 1,
    correct_map: { a: { correctness: 'correct' }, b: { correctness: 'incorrect' } } } });
  t.same(rescore.EdxTrackEvent.map((r) => [r.orig_score, r.new_score, r.new_total]), [[0, 1, 1], [0, 1, 1]]);
  checkLinks(t, rescore);
  const resetProblem = await one({ event_type: 'reset_problem', event_source: 'server', event: { problem_id: PROB,
    old_state: { seed: 1, done: true, student_answers: { a: 'x' }, correct_map: {}, input_state: {} },
    new_state: { seed: 2, done: false, student_answers: {}, correct_map: {}, input_state: { a: {} } } } });
  t.equal(resetProblem.State.length, 2);
  t.equal(resetProblem.EdxTrackEvent.length, 2);
  checkLinks(t, resetProblem);
});

t.test('problem_graded: answers found in the returned HTML', async (t) => {
  const html = `<p aria-describedby="input_${PROB}_2_1_choice_0"> incorrect</p>` +
    `<div aria-describedby=\\"input_${PROB}_3_1\\"> Status: correct</div>`;
  const rows = await one({ event_type: 'problem_graded', event: [`input_${PROB}_2_1=choice_0`, html] });
  t.same(rows.Answer.map((a) => a.answer).sort(), ['correct', 'incorrect'].sort());
  t.equal(rows.EdxTrackEvent.length, 2);
});

t.test('navigation, login and video', async (t) => {
  const seq = await one({ event_type: 'seq_next', event: '{"old":4,"new":5,"id":"i4x://Demo/CS101/sequential/aaaa"}' });
  t.same([seq.EdxTrackEvent[0].goto_from, seq.EdxTrackEvent[0].goto_dest], [4, 5]);
  const login = await one({ event_type: '/login_ajax', event_source: 'server', event: '{"POST": {"email": ["ada@example.org"], "password": "****"}, "GET": {}}' });
  t.equal(login.EdxTrackEvent[0].anon_screen_name, H('ada@example.org'), 'the reference hashed the e-mail');
  const play = await one({ event_type: 'pause_video', event: '{"id":"i4x-Demo-CS101-video-fedcba9876543210fedcba9876543210","code":"abc","currentTime":661.1010131835938}' });
  const p = play.EdxTrackEvent[0];
  t.same([p.video_id, p.video_code, p.video_current_time, p.video_speed, p.resource_display_name],
    ['i4x-Demo-CS101-video-fedcba9876543210fedcba9876543210', 'abc', '661.101013184', 'None', 'Lecture 1']);
  const seek = await one({ event_type: 'seek_video', event: '{"id":"v","code":"c","old_time":308.506103515625,"new_time":290,"type":"onSlideSeek"}' });
  t.same([seek.EdxTrackEvent[0].video_old_time, seek.EdxTrackEvent[0].video_new_time, seek.EdxTrackEvent[0].video_seek_type], ['308.506103516', '290', 'onSlideSeek']);
  const speed = await one({ event_type: 'speed_change_video', event: '{"id":"v","code":"c","currentTime":1.5,"old_speed":"1.50","new_speed":"2.0"}' });
  t.same([speed.EdxTrackEvent[0].video_old_speed, speed.EdxTrackEvent[0].video_new_speed], ['1.50', '2.0'], 'speeds kept as text');
  const full = await one({ event_type: 'not_fullscreen', event: '{"id":"v","code":"c","currentTime":0}' });
  t.equal(full.EdxTrackEvent[0].video_current_time, '0');
  const transcript = await one({ event_type: 'show_transcript', event: '{"id":"v","code":"c","currentTime":3}' });
  t.same([transcript.EdxTrackEvent[0].transcript_id, transcript.EdxTrackEvent[0].transcript_code], ['v', 'c']);
  const mobile = await one({ event_source: 'mobile', name: 'edx.video.paused', event_type: 'edx.video.paused', ip: '', event: { id: 'v', code: 'mobile', currentTime: 2 } });
  t.same([mobile.EdxTrackEvent[0].video_id, mobile.EdxTrackEvent[0].video_current_time, mobile.EdxTrackEvent[0].ip_country], ['v', '2', 'zzz']);
});

t.test('enrollment, forum, instructor dashboard, groups', async (t) => {
  const enroll = await one({ event_type: 'edx.course.enrollment.activated', event_source: 'server', session: 'top', event: { course_id: 'Demo/CS101/Spring2014', mode: 'verified' } });
  t.same([enroll.EdxTrackEvent[0].mode, enroll.EdxTrackEvent[0].session], ['verified', 'top'], 'the record session is kept when the event has none (the reference blanked it)');
  const inEvent = await one({ event_type: 'edx.course.enrollment.deactivated', event_source: 'server', session: 'top', event: { mode: 'honor', session: 'inner' } });
  t.equal(inEvent.EdxTrackEvent[0].session, 'inner', 'a session in the event replaces the record one (reference)');
  const mode = await one({ event_type: 'edx.course.enrollment.mode_changed', event_source: 'server', event: { mode: 'audit' } });
  t.equal(mode.EdxTrackEvent[0].mode, 'audit');
  const search = await one({ event_type: 'edx.forum.searched', event_source: 'server', event: { query: 'trees', page: 2, total_results: 25 } });
  t.same([search.EdxTrackEvent[0].submission_id, search.EdxTrackEvent[0].page, search.EdxTrackEvent[0].success], ['trees', '2', '25']);
  const thread = await one({ event_type: 'edx.forum.thread.created', event_source: 'server', event: { id: 't1', commentable_id: 'c1', category_name: 'General' } });
  t.same([thread.EdxTrackEvent[0].submission_id, thread.EdxTrackEvent[0].question_location], ['t1', 'c1']);
  const reset = await one({ event_type: 'reset-student-attempts', event_source: 'server', event: { problem: PROB, student: 'bob', instructor_id: 'prof', old_attempts: 4 } });
  const r = reset.EdxTrackEvent[0];
  t.same([r.problem_id, r.student_id, r.instructor_id, r.attempts, r.resource_display_name], [PROB, H('bob'), H('prof'), 4, 'Quiz A'], 'the learner and the instructor as their anonymous ids (docs/decisions.md §15)');
  const rescore = await one({ event_type: 'rescore-all-submissions', event_source: 'server', event: { course: 'Demo/CS101/Spring2014', problem: PROB } });
  t.equal(rescore.EdxTrackEvent[0].course_id, 'Demo/CS101/Spring2014', 'event.course overrides');
  const group = await one({ event_type: 'add-or-remove-user-group', event_source: 'server', event: { event_name: 'beta-testers', user: 'bob', event: 'add' } });
  t.same([group.EdxTrackEvent[0].event_name, group.EdxTrackEvent[0].group_user, group.EdxTrackEvent[0].group_action], ['beta-testers', H('bob'), 'add'], 'the user as their anonymous id (docs/decisions.md §15)');
  const unknown = await transform([event({ event_type: 'edx.something.new', event: {} })]);
  t.equal(unknown.rows.EdxTrackEvent.length, 1, 'unknown types keep their common row');
  t.equal(unknown.stats.unknownTypes, 1);
});

t.test('/create_account → EdxPrivate.Account', async (t) => {
  const post = (address: string) => ({ POST: { username: ["o'neil"], name: ['Ann O\'Neil'], mailing_address: [address], gender: ['f'],
    year_of_birth: ['1990'], level_of_education: ['b'], goals: ['Learn'], honor_code: ['true'], terms_of_service: ['false'],
    course_id: ['Demo/CS101/Spring2014'], enrollment_action: ['enroll'], email: ['ann@example.org'] }, GET: {} });
  const rows = await one({ event_type: '/create_account', event_source: 'server', username: '', event: JSON.stringify(post('1 Main St\r\nSpringfield, IL 62701')) });
  const a = rows.Account[0];
  t.same([a.screen_name, a.anon_screen_name, a.mailing_address, a.zipcode, a.country, a.year_of_birth, a.honor_code, a.terms_of_service],
    ["o'neil", H("o'neil"), '1 Main St; ; Springfield, IL 62701', '62701', 'USA', 1990, 1, 0]);
  t.equal(a.enrollment_action, 'enroll');
  t.equal(rows.EdxTrackEvent[0].anon_screen_name, H(''), 'the main row hashes the (empty) top-level username');
  const moscow = (await one({ event_type: '/create_account', event_source: 'server', event: post('32085 Live St, Moscow, Russia') })).Account[0];
  t.same([moscow.zipcode, moscow.country], ['', 'Russia'], 'a zip outside the USA is not kept');
  const dubai = (await one({ event_type: '/create_account', event_source: 'server', event: post('PO Box 1, Dubai, United Arab Emirates') })).Account[0];
  t.equal(dubai.country, 'United Arab Emirates');
  const us = (await one({ event_type: '/create_account', event_source: 'server', event: post('Washington D.C., 93508, US') })).Account[0];
  t.same([us.zipcode, us.country], ['93508', 'USA']);
});

t.test('open assessment', async (t) => {
  const ctx = { course_id: 'Demo/CS101/Spring2014', org_id: 'Demo', module: { display_name: 'Essay' } };
  const staff = await one({ event_type: 'openassessmentblock.get_submission_for_staff_grading', event_source: 'server', context: ctx,
    event: { course_id: 'course-v1:Demo+CS101+2014', item_id: 'block-v1:Demo+CS101+2014+type@openassessment+block@e1', submission_returned_uuid: 'U2', requesting_staff_id: 'ST', type: 'full-grade' } });
  t.same(['submission_uuid', 'edx_anon_id', 'resource_id', 'course_display_name'].map((c) => staff.OpenAssessment[0][c]),
    ['U2', 'ST', 'block-v1:Demo+CS101+2014+type@openassessment+block@e1', 'course-v1:Demo+CS101+2014'], 'a staff grader fetching a submission: like a peer');
  const peer = await one({ event_type: 'openassessmentblock.peer_assess', event_source: 'server', context: ctx, event: {
    scorer_id: 'S', feedback: 'Nice', submission_uuid: 'U', score_type: 'PE', scored_at: '2014-03-03T07:59:00.5+00:00',
    parts: [{ criterion: { name: 'Ideas', points_possible: 3 }, option: { name: 'Good', points: 2 }, feedback: 'ok' }], rubric: { content_hash: 'R' } } });
  const oa = peer.OpenAssessment[0];
  t.same([oa.edx_anon_id, oa.comment_text, oa.score_type, oa.time, oa.resource_display_name, oa.course_display_name],
    ['S', 'Nice', 'PE', '2014-03-03 07:59:00.500000', 'Essay', 'Demo/CS101/Spring2014']);
  t.equal(oa.feedback_text, 'Criterion Ideas (max points 3): option Good: 2. Feedback: ok; ');
  t.equal(oa.event_table_id, peer.EdxTrackEvent[0]._id);
  const training = await one({ event_type: 'openassessment.student_training_assess_example', event_source: 'server', context: ctx,
    event: '{"corrections": {"1": "a"}, "submission_uuid": "U", "options_selected": {"Zed": "x", "2": "y", "0": "z"}}' });
  t.equal(training.OpenAssessment[0].options, 'Student choices in rubric: Criterion Zed: x; Criterion 2: y; Criterion 0: z; ', 'the log\'s order of criteria');
  const submit = await one({ event_type: 'openassessmentblock.create_submission', event_source: 'server', context: ctx,
    event: { answer: { parts: [{ text: 'My essay' }] }, attempt_number: 1, submission_uuid: 'U', created_at: '2014-03-03T07:00:00+00:00', submitted_at: '2014-03-03T07:00:01+00:00' } });
  t.same([submit.OpenAssessment[0].submission_text, submit.OpenAssessment[0].attempt_num, submit.OpenAssessment[0].time_aux], ['My essay', 1, '2014-03-03 07:00:01.000000']);
  const upload = await one({ event_type: 'openassessment.upload_file', event_source: 'server', context: ctx, event: { fileType: 'image/png', fileName: 'a.png', fileSize: 10 } });
  t.equal(upload.OpenAssessment[0].resource_display_name, 'File image/png: a.png (10)');
});

t.test('A/B experiments and cohorts → ABExperiment', async (t) => {
  const assign = await one({ event_type: 'xmodule.partitions.assigned_user_to_partition', event_source: 'server',
    event: { group_id: 1, group_name: 'Hints', partition_id: 7, partition_name: 'Hint experiment' } });
  const ab = assign.ABExperiment[0];
  t.same([ab.group_id, ab.group_name, ab.partition_id, ab.partition_name, ab.anon_screen_name], [1, 'Hints', 7, 'Hint experiment', H('ada')]);
  const render = await one({ event_type: 'xblock.split_test.child_render', event_source: 'server',
    event: { 'child-id': 'i4x://Demo/CS101/problem/0123456789abcdef0123456789abcdef' } });
  t.same([render.ABExperiment[0].child_module_id, render.ABExperiment[0].resource_display_name], ['i4x://Demo/CS101/problem/0123456789abcdef0123456789abcdef', 'Quiz A']);
  const cohort = await one({ event_type: 'edx.cohort.user_added', event_source: 'server', event: { cohort_id: 3, cohort_name: 'Team B', user_id: 5 } });
  t.same([cohort.ABExperiment[0].cohort_id, cohort.ABExperiment[0].cohort_name], [3, 'Team B']);
  const tagged = await one({ event_type: 'fullscreen', context: { course_user_tags: { partition_id: 7, group_id: 1 } }, event: '{"id":"v","currentTime":0}' });
  t.same([tagged.ABExperiment[0].group_id, tagged.ABExperiment[0].partition_id], [1, 7], 'events of a learner in an experiment');
  checkLinks(t, tagged);
  // The tags as the LMS writes them: one key per partition, the group id as its value.
  const lms = await one({ event_type: 'play_video', context: { course_user_tags: { 'xblock.partition_service.partition_50': '2' } }, event: '{"id":"v","currentTime":0}' });
  const row = lms.ABExperiment[0];
  t.same([row.partition_id, row.group_id, row.partition_name], [50, 2, 'xblock.partition_service.partition_50'], 'the LMS form of the tags names partition and group');
  const other = await one({ event_type: 'play_video', context: { course_user_tags: { cohort_tag: '4' } }, event: '{"id":"v","currentTime":0}' });
  t.same([other.ABExperiment[0].partition_id, other.ABExperiment[0].group_id, other.ABExperiment[0].partition_name], [-1, 4, 'cohort_tag'], 'any other tag: its key and value (docs/original.md#experiments)');
});

t.test('book, textbook.pdf, ORA1 and path-style events', async (t) => {
  const pdf = await one({ event_type: 'textbook.pdf.search.executed', event: { name: 'textbook.pdf.search.executed', query: 'tree', status: 'found', caseSensitive: false, page: 3, chapter: 'ch1.pdf' } });
  const b = pdf.EdxTrackEvent[0];
  t.same([b.book_interaction_type, b.sequence_id, b.goto_from, b.goto_dest, b.resource_display_name, b.success], ['textbook.pdf.search.executed', 'tree', 3, 3, 'ch1.pdf', 'found']);
  const oe = await one({ event_type: 'peer_grading_show_question', event: '{"location":"i4x://Demo/CS101/peergrading/x"}' });
  t.equal(oe.EdxTrackEvent[0].question_location, 'i4x://Demo/CS101/peergrading/x');
  const rubric = await one({ event_type: 'rubric_select', event: '{"location":"L","selection":"1","category":2}' });
  t.same([rubric.EdxTrackEvent[0].rubric_selection, rubric.EdxTrackEvent[0].rubric_category], [1, 2]);
  const feedback = await one({ event_type: 'oe_show_full_feedback', event: '{"value":"x"}' });
  t.equal(feedback.EdxTrackEvent.length, 1, 'the reference lost this row; we keep it');
  const path = '/courses/Demo/CS101/Spring2014/modx/i4x://Demo/CS101/sequential/fedcba9876543210fedcba9876543210/goto_position';
  const goto = await one({ event_type: path, event_source: 'server', page: null, event: '{"POST": {"position": ["9"]}, "GET": {}}' });
  t.same([goto.EdxTrackEvent[0].position, goto.EdxTrackEvent[0].course_id, goto.EdxTrackEvent[0].resource_display_name], [9, 'Demo/CS101/Spring2014', 'Lecture 1']);
  const save = await one({ event_type: path.replace('goto_position', 'save_answer'), event_source: 'server', page: null,
    event: '{"POST": {"student_file": [""], "student_answer": ["line one\\nline two"], "can_upload_files": ["false"]}, "GET": {}}' });
  t.same([save.EdxTrackEvent[0].long_answer, save.EdxTrackEvent[0].can_upload_file], ['line one; line two', 'false']);
  const check = await one({ event_type: path.replace('goto_position', 'problem_check'), event_source: 'server', page: null,
    event: `{"POST": {"input_${PROB}_2_1": ["choice_3"]}, "GET": {}}` });
  t.equal(check.Answer[0].answer, 'choice_3');
  t.equal(check.EdxTrackEvent.length, 1, 'no duplicate trailing row');
  checkLinks(t, check);
});

t.test('newer events on the same columns', async (t) => {
  const grade = await one({ event_type: 'edx.grades.problem.submitted', event_source: 'server',
    context: { course_id: 'course-v1:Demo+CS102+2026', org_id: 'Demo' },
    event: { problem_id: 'block-v1:Demo+CS102+2026+type@problem+block@0123456789abcdef0123456789abcdef', weighted_earned: 1, weighted_possible: 2 } });
  const g = grade.EdxTrackEvent[0];
  t.same([g.new_score, g.new_total, g.resource_display_name, g.course_id, g.quarter], [1, 2, 'Quiz A', 'course-v1:Demo+CS102+2026', 'spring2014']);
  // Rescored and overridden scores are the new_weighted_* fields; fractions stay fractions.
  const block = 'block-v1:Demo+CS102+2026+type@problem+block@0123456789abcdef0123456789abcdef';
  for (const [type, earned, possible] of [['edx.grades.problem.rescored', 2, 3], ['edx.grades.problem.score_overridden', 0.5, 1]] as const) {
    const r = (await one({ event_type: type, event_source: 'server', event: { problem_id: block, new_weighted_earned: earned, new_weighted_possible: possible, only_if_higher: false } })).EdxTrackEvent[0];
    t.same([r.new_score, r.new_total, r.problem_id], [earned, possible, block], `${type}: the score after`);
  }
  const partial = (await one({ event_type: 'edx.grades.problem.submitted', event: { problem_id: block, weighted_earned: 2 / 3, weighted_possible: 1 } })).EdxTrackEvent[0];
  t.equal(partial.new_score, 2 / 3, 'a fraction of a point is kept (it was cut to 0)');
  const emptyType = (await one({ event_type: '', name: 'edx.video.played', event: { id: 'v9', code: 'mobile', currentTime: 3 } })).EdxTrackEvent[0];
  t.same([emptyType.event_type, emptyType.video_id], ['edx.video.played', 'v9'], 'an empty event_type beside a name: the name is the type');
  const nav = await one({ event_type: 'edx.ui.lms.sequence.next_selected', event: { id: 'block-v1:x', current_tab: 2, target_tab: 3, tab_count: 5 } });
  t.same([nav.EdxTrackEvent[0].sequence_id, nav.EdxTrackEvent[0].goto_from, nav.EdxTrackEvent[0].goto_dest], ['block-v1:x', 2, 3]);
  const done = await one({ event_type: 'edx.done.toggled', event: { done: true } });
  t.equal(done.EdxTrackEvent[0].success, 'True');
  const bm = await one({ event_type: 'edx.bookmark.added', event: { bookmark_id: 'b1', component_type: 'problem', component_usage_id: 'block-v1:y' } });
  t.same([bm.EdxTrackEvent[0].submission_id, bm.EdxTrackEvent[0].sequence_id], ['b1', 'block-v1:y']);
});
