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
