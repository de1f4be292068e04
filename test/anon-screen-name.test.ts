// anon_screen_name never merges two learners (docs/decisions.md §15): the reference's transliteration gave
// `José`, `Jose` and `Jos\e` one hash, and every emoji-only name the empty name's. Names the cleaner
// leaves unchanged (all of the reference's era) keep the reference's hash.
import t from 'tap';
import { createHash } from 'node:crypto';
import { anonScreenName, sanitize } from '../src/core/values.js';
import { transform, event } from './helpers/transform.js';
import { runTool } from './helpers/tools.js';

const ripemd = (s: string) => createHash('ripemd160').update(s, 'utf8').digest('hex');

t.test('names the cleaner would change are hashed as they are', async (t) => {
  const names = ['José', 'Jose', 'Jos\\e', 'Jos\ne', '🎓', '👩‍💻', 'Jos; e'];
  const hashes = names.map(anonScreenName);
  t.equal(new Set(hashes).size, names.length, 'every name its own hash');
  t.not(anonScreenName('🎓'), ripemd(''), 'an emoji-only name is not the empty name');
  t.equal(anonScreenName('José'), ripemd('José'));
  t.equal(anonScreenName('Jos\\e'), ripemd('Jos\\e'));
  for (const ascii of ['alice', 'o\'hara, "jr"', 'a b', '007']) {
    t.equal(sanitize(ascii), ascii);
    t.equal(anonScreenName(ascii), ripemd(ascii), `${ascii}: the reference's H(sanitize(name))`);
  }
  t.equal(anonScreenName('alice'), '9dbc9c9243df91d578390b6675387ddd08c1e422', 'alice as in the spec');
  t.equal(anonScreenName(undefined), ripemd(''), 'not text: the empty name\'s, as the reference');
  t.equal(anonScreenName(42), ripemd(''));
});

t.test('the transform, Account rows and edx-screennames give three learners three hashes', async (t) => {
  const names = ['José', 'Jose', 'Jos\\e', '🎓'];
  const { rows } = await transform([
    ...names.map((username) => event({ username, event_type: 'page_close', event: '' })),
    event({ username: '', event_type: 'page_close', event: '' }),
    event({ username: 'x', event_type: '/create_account', event: JSON.stringify({ POST: { username: ['José'], email: ['j@x.org'] } }) }),
  ]);
  const anons = rows.EdxTrackEvent.map((r) => r.anon_screen_name);
  t.same(anons.slice(0, 4), names.map(ripemd), 'EdxTrackEvent: each name as it is');
  t.equal(new Set(anons.slice(0, 5)).size, 5, 'no two learners, nor a learner and the empty name, share an id');
  t.equal(rows.Account[0].anon_screen_name, ripemd('José'), 'Account joins EdxTrackEvent for a non-ASCII name');
  const sn = await runTool('edx-screennames', ['--hash', ...names]);
  t.equal(sn.code, 0, sn.stderr);
  t.same(sn.stdout.trim().split('\n').slice(1), names.map((n) => `${n},${ripemd(n)}`), 'edx-screennames --hash agrees');
});
