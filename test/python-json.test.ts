// Python's own JSON (issue 14 item 9): the tracking logger is Python, whose json module writes a
// float that is not finite as NaN, Infinity or -Infinity. Such an event keeps its structured data;
// the value itself is read as null (stored as the column's NULL text, or its default).
import t from 'tap';
import { transform, event } from './helpers/transform.js';
import { withPythonNonFinite } from '../src/tracklog/decode.js';

t.test('NaN and Infinity where a value stands, never inside a string', async (t) => {
  t.equal(withPythonNonFinite('{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN, Infinity", "d": 1}'), '{"a": null, "b": [null, null], "c": "NaN, Infinity", "d": 1}');
  t.equal(withPythonNonFinite('{"a": "x"}'), undefined, 'nothing to read differently');
  t.equal(withPythonNonFinite('{"NaN": 1, "a": "\\"NaN"}'), undefined, 'a key or an escaped quote before it is text');
});

t.test('a seek_video and a server problem_check with NaN keep their data', async (t) => {
  const seek = JSON.stringify(event({ event_type: 'seek_video', event_source: 'browser' })).replace(/\}$/,
    ', "event": "{\\"id\\": \\"i4x-A-B-video-v1\\", \\"old_time\\": NaN, \\"new_time\\": 12.5, \\"type\\": \\"onSlideSeek\\", \\"code\\": \\"abc\\"}"}');
  const check = JSON.stringify(event({ event_type: 'problem_check', event_source: 'server' })).replace(/\}$/,
    ', "event": {"problem_id": "i4x://A/B/problem/p1", "grade": NaN, "max_grade": Infinity, "attempts": 2, "success": "incorrect", "answers": {"i4x-A-B-problem-p1_2_1": "x"}, "correct_map": {}, "state": {}}}');
  const { rows, rejects, stats } = await transform([seek, check]);
  t.same(rejects, []);
  t.equal(stats.rescued, 0, 'neither is a broken line');
  const s = rows.EdxTrackEvent.find((r) => r.event_type === 'seek_video')!;
  const c = rows.EdxTrackEvent.find((r) => r.event_type === 'problem_check' && r.problem_id !== '')!;
  t.ok(c, 'problem_check: a row with its problem');
  t.equal(rows.Answer?.length, 1, 'problem_check: its answer row');
  t.same([s.video_id, s.video_new_time, s.video_seek_type, s.video_code, s.badly_formatted], ['i4x-A-B-video-v1', '12.5', 'onSlideSeek', 'abc', ''], 'seek_video: its fields, not the event text in badly_formatted');
  t.equal(s.video_old_time, 'None', 'the NaN: read as null (Python str(None), as the reference stored absent values)');
  t.equal(c?.problem_id, 'i4x-A-B-problem-p1_2_1', 'problem_check: its fields (the row of its answer)');
  t.equal(c?.attempts, 2);
  t.equal(c?.badly_formatted, '');
});
