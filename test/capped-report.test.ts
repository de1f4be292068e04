// "The first 20 in full, then a count": the one helper edx-json2sql's rejects, edx-screennames'
// unreadable lines and the refresh jobs' broken documents use.
import t from 'tap';
import { CappedReport, SAID_IN_FULL } from '../src/io/capped-report.js';

t.test('the first ones said, the rest counted, messages made only when said', async (t) => {
  const said: string[] = [];
  let made = 0;
  const report = new CappedReport((m) => said.push(m), { limit: 3, whenCapped: 'more follow' });
  for (let i = 1; i <= 5; i++) report.add(() => `bad ${i} (${++made})`);
  t.same(said, ['bad 1 (1)', 'bad 2 (2)', 'bad 3 (3)', 'more follow'], 'three in full, then the note once');
  t.equal(made, 3, 'an unsaid message is never made');
  t.equal(report.count, 5);
  t.equal(report.shown, 3);
  t.equal(report.unsaid, 2);
});

t.test('20 by default, no note unless asked', async (t) => {
  const said: string[] = [];
  const report = new CappedReport((m) => said.push(m));
  for (let i = 0; i < SAID_IN_FULL + 7; i++) report.add(() => `line ${i}`);
  t.equal(SAID_IN_FULL, 20);
  t.equal(said.length, 20);
  t.equal(report.unsaid, 7);
  const none = new CappedReport((m) => said.push(m));
  t.equal(none.unsaid, 0);
  t.equal(none.shown, 0);
});
