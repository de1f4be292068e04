// The per-address bookkeeping behind downtime_for: IPv4 text read as a number, and the table of
// when each address was last seen.
import t from 'tap';
import { ipv4Number } from '../src/transform/ipv4.js';
import { LastSeen } from '../src/transform/last-seen.js';

t.test('ipv4Number reads exactly the dotted quads a regular expression would accept', async (t) => {
  t.equal(ipv4Number('1.2.3.4'), 0x01020304);
  t.equal(ipv4Number('255.255.255.255'), 2 ** 32 - 1, 'the top address is positive');
  t.equal(ipv4Number('0.0.0.0'), 0);
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.04', ' 1.2.3.4', '1.2.3.4 ', '1..3.4', '1.2.3.4,5.6.7.8', '::1', '1.2.3.a'])
    t.equal(ipv4Number(bad), -1, JSON.stringify(bad));
  // Against the pattern, over many random texts of digits and dots.
  const QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
  let seed = 3, differ = 0;
  const random = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
  for (let i = 0; i < 50000; i++) {
    let text = '';
    for (let k = 5 + random(12); k > 0; k--) text += '0123456789.'[random(11)];
    const m = QUAD.exec(text);
    const expected = m ? ((Number(m[1]) * 256 + Number(m[2])) * 256 + Number(m[3])) * 256 + Number(m[4]) : -1;
    if (ipv4Number(text) !== expected) differ++;
  }
  t.equal(differ, 0, 'random texts read as the pattern reads them');
});

t.test('LastSeen returns each address its previous time, for IPv4 and any other text', async (t) => {
  const seen = new LastSeen();
  t.equal(seen.swap('10.0.0.1', 100), undefined, 'first time');
  t.equal(seen.swap('10.0.0.1', 250), 100);
  t.equal(seen.swap('10.0.0.1', 90), 250, 'an earlier time still replaces it (out-of-order lines)');
  t.equal(seen.swap('255.255.255.255', 1), undefined, 'the top address is its own key');
  t.equal(seen.swap('127.255.255.255', 2), undefined, 'not confused with another');
  t.equal(seen.swap('255.255.255.255', 3), 1);
  t.equal(seen.swap('2001:db8::1', 5), undefined, 'IPv6 text');
  t.equal(seen.swap('2001:db8::1', 7.5), 5);
  t.equal(seen.swap('', 9), undefined, 'no address at all is one address too');
  t.equal(seen.swap('', 10), 9);
  t.equal(seen.swap('010.0.0.1', 11), undefined, 'a text that is not a canonical quad is not 10.0.0.1');
  // Many addresses: the table grows and keeps every time exact (µs since the epoch).
  const base = Date.UTC(2014, 2, 1) * 1000;
  for (let i = 0; i < 5000; i++) seen.swap(`1.2.${i >> 8}.${i & 255}`, base + i);
  let wrong = 0;
  for (let i = 0; i < 5000; i++) if (seen.swap(`1.2.${i >> 8}.${i & 255}`, 0) !== base + i) wrong++;
  t.equal(wrong, 0, 'every time kept exactly');
  t.equal(seen.size, 5000 + 6);
});
