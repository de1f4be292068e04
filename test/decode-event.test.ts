// Decoding the `event` field (docs/original.md#the-event-field): what each kind of text becomes. The decoder
// skips parse attempts that cannot succeed; these cases pin that the results stay the same.
import t from 'tap';
import { decodeEventField } from '../src/transform/decode-event.js';
import { closeTruncated, tryParse } from '../src/tracklog/decode.js';

t.test('objects are used as they are, JSON text is decoded once', async (t) => {
  const obj = { POST: {}, GET: {} };
  t.equal(decodeEventField(obj).value, obj);
  t.same(decodeEventField(null), { value: null });
  t.same(decodeEventField('{"POST": {}, "GET": {"next": ["/dashboard"]}}'), { value: { POST: {}, GET: { next: ['/dashboard'] } } });
  t.same(decodeEventField('  [1, 2]'), { value: [1, 2] });
  t.same(decodeEventField('"a string"'), { value: 'a string' });
  t.same(decodeEventField('42'), { value: 42 });
});

t.test('text that is not JSON stays text, with no problem reported', async (t) => {
  const query = 'input_i4x-Org-Course-problem-abc_2_1=choice_0&input_i4x-Org-Course-problem-abc_3_1=42';
  t.same(decodeEventField(query), { value: query });
  t.same(decodeEventField(''), { value: '' });
  t.same(decodeEventField('play'), { value: 'play' });
});

t.test('invalid escapes are read with the reference fix-up, escapes kept as text', async (t) => {
  // \0 is no JSON escape: the fix-up doubles the backslash, so the stored text keeps "\0612".
  const r = decodeEventField(String.raw`{"POST": {"mailing_address": ["Stra\u00dfe 6\0612"]}}`);
  t.same(r, { value: { POST: { mailing_address: [String.raw`Stra\u00dfe 6\0612`] } } });
  // An escaped backslash before a digit is valid JSON and decoded normally.
  t.same(decodeEventField(String.raw`{"a": "x\\0"}`), { value: { a: String.raw`x\0` } });
  // A \u without four hex digits is no escape either.
  t.same(decodeEventField(String.raw`{"a": "\u00"}`), { value: { a: String.raw`\u00` } });
});

t.test('double-escaped events are read with the backslashes removed', async (t) => {
  t.same(decodeEventField(String.raw`{\"old\": 2, \"new\": 3}`), { value: { old: 2, new: 3 } });
});

t.test('a truncated object is closed and reported; broken JSON is kept as text and reported', async (t) => {
  const cut = decodeEventField('{"POST": {"feedback": ["a long answer that was cu');
  t.same(cut.value, { POST: { feedback: ['a long answer that was cu'] } });
  t.equal(cut.repaired, true);
  t.equal(cut.problem, 'event text truncated');
  const broken = decodeEventField('{"a": 1} trailing');
  t.same(broken, { value: '{"a": 1} trailing', problem: 'event text is not valid JSON' });
});

t.test('tryParse reports the error and leaves the stack trace limit as it was', async (t) => {
  const before = Error.stackTraceLimit;
  const r = tryParse('{"a": ');
  t.equal(r.ok, false);
  t.match(!r.ok && r.error, /JSON/);
  t.equal(Error.stackTraceLimit, before);
  t.same(tryParse('[1]'), { ok: true, value: [1] });
});

t.test('the shortcuts never change a result: random texts against the plain sequence of attempts', async (t) => {
  // The decoder without shortcuts: every attempt made in order, as docs/original.md#the-event-field describes.
  const parse = (s: string): { ok: boolean; value?: unknown } => {
    try {
      return { ok: true, value: JSON.parse(s) };
    } catch {
      return { ok: false };
    }
  };
  const plain = (event: string) => {
    let r = parse(event);
    if (r.ok) return { value: r.value };
    const fixed = event.replace(/\\(?=[^/"])/g, '\\\\');
    if (fixed !== event && (r = parse(fixed)).ok) return { value: r.value };
    if (event.includes('\\') && (r = parse(event.replace(/\\/g, ''))).ok) return { value: r.value };
    const trimmed = event.trimStart();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      const closed = closeTruncated(trimmed);
      if (closed !== undefined && (r = parse(closed)).ok) return { value: r.value, repaired: true, problem: 'event text truncated' };
      return { value: event, problem: 'event text is not valid JSON' };
    }
    return { value: event };
  };
  const pieces = ['{', '}', '[', ']', '"', '\\', '\\\\', '\\"', '\\u00e9', '\\u00', '\\0', 'a', '1', ':', ',', ' ', 'n', 'u', '-', 'true', '\n'];
  let seed = 11;
  const random = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
  let differ = 0;
  for (let i = 0; i < 20000; i++) {
    let text = random(3) === 0 ? '{"a": "' : '';
    for (let k = random(12); k > 0; k--) text += pieces[random(pieces.length)];
    if (JSON.stringify(decodeEventField(text)) !== JSON.stringify(plain(text))) differ++;
  }
  t.equal(differ, 0, 'same value, same problem, for every text');
  t.same(decodeEventField('{"a": "x\\\\\\q"}'), plain('{"a": "x\\\\\\q"}'), 'a pair of backslashes, then an invalid escape');
  t.same(decodeEventField('{"a": 1}\\'), plain('{"a": 1}\\'), 'a backslash at the end');
});
