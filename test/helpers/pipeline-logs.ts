// Small tracking logs for the nightly-job tests (pipeline*.test.ts): a day of events from four
// templates (page view, seq_goto, play_video, a server problem_check with its child rows); `seed`
// varies users, addresses, times and contents.
import { gzipSync } from 'node:zlib';

export const USERS = ['ada', 'grace', 'alan', 'edsger', 'barbara'];
export const COURSE = 'Demo/CS101/Spring2014';

/** The lines of a day of events; the first n lines of logLines(d, s, n + k) are logLines(d, s, n). */
export function logLines(day: string, seed: number, events: number): string[] {
  const lines: string[] = [];
  const iso = (i: number) => `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${String(8 + (i % 10)).padStart(2, '0')}:${String((seed * 7 + i) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.${String((seed * 100000 + i) % 1000000).padStart(6, '0')}+00:00`;
  for (let i = 0; i < events; i++) {
    const user = USERS[(seed + i) % USERS.length];
    const common = { username: user, host: 'lms.example.edu', session: `s${seed}_${i}`, agent: 'Mozilla/5.0', ip: `171.64.${seed % 250}.${(i % 250) + 1}`, time: iso(i), context: { course_id: COURSE, org_id: 'Demo', user_id: 10 + (i % 5), path: '' } };
    switch (i % 4) {
      case 0:
        lines.push(JSON.stringify({ ...common, event_source: 'server', page: null, event_type: `/courses/${COURSE}/courseware/ch${seed}/${i}`, event: '{"POST": {}, "GET": {}}' }));
        break;
      case 1:
        lines.push(JSON.stringify({ ...common, event_source: 'browser', page: `https://lms.example.edu/courses/${COURSE}/courseware/ch${seed}/`, event_type: 'seq_goto', event: JSON.stringify({ old: 1, new: 2 + i, id: `i4x://Demo/CS101/sequential/s${seed}` }) }));
        break;
      case 2:
        lines.push(JSON.stringify({ ...common, event_source: 'browser', page: `https://lms.example.edu/courses/${COURSE}/courseware/`, event_type: 'play_video', event: JSON.stringify({ id: `v${seed}`, code: 'html5', currentTime: i * 1.5, speed: '1.0' }) }));
        break;
      default:
        lines.push(JSON.stringify({ ...common, event_source: 'server', page: `x_module/${COURSE}`, event_type: 'problem_check', event: { problem_id: `i4x://Demo/CS101/problem/p${seed}`, answers: { [`i4x-Demo-CS101-problem-p${seed}_2_1`]: `choice_${i % 3}` }, correct_map: { [`i4x-Demo-CS101-problem-p${seed}_2_1`]: { correctness: i % 2 ? 'correct' : 'incorrect', npoints: null, msg: '', hint: '', hintmode: null, queuestate: null } }, state: { student_answers: {}, seed: 1, done: null, correct_map: {}, input_state: { [`i4x-Demo-CS101-problem-p${seed}_2_1`]: {} } }, grade: i % 2, max_grade: 1, success: i % 2 ? 'correct' : 'incorrect', attempts: 1 } }));
    }
  }
  return lines;
}
export const gz = (lines: string[]) => gzipSync(lines.join('\n') + '\n');
/** A gzipped log of `events` events. */
export const logFor = (day: string, seed: number, events = 12) => gz(logLines(day, seed, events));
