// The research views of --init on a warehouse loaded from a log written here, each compared
// with numbers worked out by hand; EXPLAIN shows a filter on a learner or course reaching the
// clickstream's indexes through the views.
import t from 'tap';
import type { RowDataPacket } from 'mysql2/promise';
import { testConnection } from './helpers/mariadb.js';
import { event } from './helpers/transform.js';
import { warehouseOf } from './helpers/warehouse.js';
import { anonScreenName } from '../src/core/values.js';

const COURSE = 'Demo/CS101/Spring2014';
const base = Date.UTC(2014, 2, 3, 8, 0, 0);
const at = (s: number) => new Date(base + s * 1000).toISOString().replace('Z', '+00:00');
const video = (user: string, s: number, type: string, fields: object) =>
  event({ username: user, time: at(s), event_type: type, event: JSON.stringify({ id: 'i4x-Demo-CS101-video-v1', code: 'yt1', ...fields }) });
const HASH = '0c6cf38317be42e0829d10cc68e7451b';
const check = (user: string, s: number, success: string, attempts: number) => event({
  username: user, time: at(s), event_type: 'problem_check', event_source: 'server', page: 'x_module',
  context: { course_id: 'course-v1:Demo+CS101+Spring2014', user_id: 1, path: '/event', org_id: 'Demo' },
  event: { problem_id: `block-v1:Demo+CS101+Spring2014+type@problem+block@${HASH}`, success, attempts,
    answers: { [`${HASH}_2_1`]: 'choice_1' }, correct_map: { [`${HASH}_2_1`]: { correctness: success } }, grade: success === 'correct' ? 2 : 0, max_grade: 2 },
});
const seq = (user: string, s: number, type: string, from: number, to: number) =>
  event({ username: user, time: at(s), event_type: type, event: JSON.stringify({ id: 'i4x://Demo/CS101/sequential/s1', old: from, new: to }) });
const enroll = (user: string, s: number, on: boolean) => event({
  username: user, time: at(s), event_source: 'server', page: null,
  event_type: on ? 'edx.course.enrollment.activated' : 'edx.course.enrollment.deactivated',
  context: { course_id: 'course-v1:Demo+CS101+Spring2014', user_id: 7, path: '/change_enrollment', org_id: 'Demo' },
  event: { course_id: 'course-v1:Demo+CS101+Spring2014', user_id: 7, mode: 'audit' },
});

const events = [
  // ann's video: play 0→pause 10 [0,10]; play 10, seek 15→60 [10,15]; speed at 65 [60,65];
  // stop at 80 [65,80]; a seek while stopped (no span); edx.video.played 0 → paused 7 [0,7].
  video('ann', 0, 'play_video', { currentTime: 0 }),
  video('ann', 10, 'pause_video', { currentTime: 10 }),
  video('ann', 20, 'play_video', { currentTime: 10 }),
  video('ann', 25, 'seek_video', { old_time: 15, new_time: 60, type: 'onSlideSeek' }),
  video('ann', 30, 'speed_change_video', { current_time: 65, old_speed: '1.0', new_speed: '1.5' }),
  video('ann', 40, 'stop_video', { currentTime: 80 }),
  video('ann', 50, 'seek_video', { old_time: 80, new_time: 0, type: 'onSlideSeek' }),
  video('ann', 60, 'edx.video.played', { current_time: 0 }),
  video('ann', 70, 'edx.video.paused', { current_time: 7 }),
  // bob plays and nothing follows: no end, no span.
  video('bob', 5, 'play_video', { currentTime: 5 }),
  // ann submits the problem twice: wrong, then right.
  check('ann', 100, 'incorrect', 1),
  check('ann', 200, 'correct', 2),
  check('bob', 150, 'correct', 1),
  // Sequence s1: ann 1→3, bob 1→2, cid 2→1.
  seq('ann', 300, 'seq_goto', 1, 3),
  seq('bob', 310, 'seq_next', 1, 2),
  seq('cid', 320, 'seq_prev', 2, 1),
  // ann enrolls, leaves, comes back; bob's activation is logged twice.
  enroll('ann', 1000, true),
  enroll('ann', 2000, false),
  enroll('ann', 3000, true),
  enroll('bob', 1500, true),
  enroll('bob', 1600, true),
  // dee: three events over two days in another course.
  event({ username: 'dee', time: at(0), page: 'https://lms.example.edu/courses/Demo/CS102/2014/courseware/', event_type: '/courseware' }),
  event({ username: 'dee', time: at(100), page: 'https://lms.example.edu/courses/Demo/CS102/2014/courseware/', event_type: '/courseware' }),
  event({ username: 'dee', time: at(86400 * 2), page: 'https://lms.example.edu/courses/Demo/CS102/2014/info', event_type: '/info' }),
];

const wh = await warehouseOf(t, events, 'edx_views', { init: true });

const c = await testConnection(wh.edx);
t.teardown(() => c.end());
const q = async (sql: string, values: unknown[] = []) => {
  const [rows] = await c.query<RowDataPacket[]>(sql, values);
  const [w] = await c.query<RowDataPacket[]>('SHOW WARNINGS');
  t.same(w, [], `no warning from ${sql.slice(0, 60)}`);
  return rows.map((r) => ({ ...r }));
};
const ann = anonScreenName('ann');
const bob = anonScreenName('bob');
const cid = anonScreenName('cid');
const dee = anonScreenName('dee');
const ts = (s: number) => new Date(base + s * 1000).toISOString().replace('T', ' ').replace('Z', '000');

t.test('VideoWatchSegment and VideoWatchTime: the spans played, in video seconds', async (t) => {
  const segs = await q('SELECT anon_screen_name AS who, segment_start AS a, segment_end AS b, seconds FROM VideoWatchSegment ORDER BY started_at');
  t.same(segs, [
    { who: ann, a: 0, b: 10, seconds: 10 },
    { who: ann, a: 10, b: 15, seconds: 5 },
    { who: ann, a: 60, b: 65, seconds: 5 },
    { who: ann, a: 65, b: 80, seconds: 15 },
    { who: ann, a: 0, b: 7, seconds: 7 },
  ]);
  const total = await q('SELECT anon_screen_name AS who, course_display_name AS course, video_id, segments, seconds_watched FROM VideoWatchTime');
  t.same(total, [{ who: ann, course: COURSE, video_id: 'i4x-Demo-CS101-video-v1', segments: 5, seconds_watched: 42 }]);
});

t.test('ProblemAttempt: first and last submission per learner and problem, one key for every id form', async (t) => {
  const rows = await q(`SELECT anon_screen_name AS who, problem_key, submissions, attempts, first_success, last_success,
    first_time, last_time FROM ProblemAttempt ORDER BY first_time`);
  t.same(rows, [
    { who: ann, problem_key: HASH, submissions: 2, attempts: 2, first_success: 'incorrect', last_success: 'correct', first_time: ts(100), last_time: ts(200) },
    { who: bob, problem_key: HASH, submissions: 1, attempts: 1, first_success: 'correct', last_success: 'correct', first_time: ts(150), last_time: ts(150) },
  ]);
  // The answers' input ids and the usage key meet on the same key.
  const joined = await q('SELECT DISTINCT problemKey(a.problem_id) AS k FROM Answer a JOIN ProblemAttempt p ON p.problem_key = problemKey(a.problem_id)');
  t.same(joined, [{ k: HASH }]);
  t.same(await q(`SELECT problemKey('input_i4x-Demo-CS101-problem-${HASH}_2_1') AS a, problemKey('i4x://Demo/CS101/problem/${HASH}') AS b,
    problemKey('quiz_2_3_1') AS c, problemKey('') AS d`), [{ a: HASH, b: HASH, c: 'quiz_2', d: null }]);
});

t.test('SequenceReach: learners at each position of a sequence', async (t) => {
  t.same(await q('SELECT position, learners FROM SequenceReach ORDER BY position'), [
    { position: 1, learners: 3 }, { position: 2, learners: 2 }, { position: 3, learners: 1 },
  ]);
  t.same(await q('SELECT DISTINCT anon_screen_name AS who FROM EdxTrackEvent WHERE event_type = ? ', ['seq_prev']), [{ who: cid }]);
});

t.test('EnrollmentWindow: from each activation to the next deactivation', async (t) => {
  t.same(await q('SELECT anon_screen_name AS who, mode, enrolled, unenrolled FROM EnrollmentWindow ORDER BY enrolled'), [
    { who: ann, mode: 'audit', enrolled: ts(1000), unenrolled: ts(2000) },
    { who: bob, mode: 'audit', enrolled: ts(1500), unenrolled: null },
    { who: ann, mode: 'audit', enrolled: ts(3000), unenrolled: null },
  ]);
});

t.test('LearnerActivity: first and last event, events and active days per learner and course', async (t) => {
  t.same(await q('SELECT first_event, last_event, events, active_days FROM LearnerActivity WHERE anon_screen_name = ?', [dee]), [
    { first_event: ts(0), last_event: ts(86400 * 2), events: 3, active_days: 2 },
  ]);
});

t.test('a filter on a learner or course reaches the clickstream indexes through every view', async (t) => {
  for (const [view, col, index] of [
    ['VideoWatchTime', 'anon_screen_name', 'EdxTrackEventIdxAnonScreenName'],
    ['ProblemAttempt', 'course_display_name', 'EdxTrackEventIdxCourseDisplayName'],
    ['SequenceReach', 'course_display_name', 'EdxTrackEventIdxCourseDisplayName'],
    ['EnrollmentWindow', 'anon_screen_name', 'EdxTrackEventIdxAnonScreenName'],
    ['LearnerActivity', 'course_display_name', 'EdxTrackEventIdxCourseDisplayName'],
  ] as const) {
    const plan = await q(`EXPLAIN SELECT * FROM ${view} WHERE ${col} = 'x'`);
    const base = plan.filter((r) => r.table === 'EdxTrackEvent');
    t.ok(base.length > 0 && base.every((r) => String(r.possible_keys ?? '').split(',').includes(index)),
      `${view}: the ${col} filter is pushed down to EdxTrackEvent (${index})`);
  }
});
