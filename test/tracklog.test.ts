// Reading lines: gzip by content, CRLF, and the line variants real logs contain.
import t from 'tap';
import { gzipSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLines } from '../src/io/input.js';
import { decodeLine, closeTruncated } from '../src/tracklog/decode.js';
import { parseEventTime, formatGap } from '../src/tracklog/time.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('read');
const collect = async (path: string) => {
  const out: string[] = [];
  for await (const l of readLines(path)) out.push(`${l.lineNo}:${l.text}`);
  return out;
};

t.test('gzip is recognised by content, not by name', async (t) => {
  const text = '{"a":1}\r\n{"b":2}\n\n{"c":3}\n';
  writeFileSync(join(dir, 'plain.gz'), text); // a .gz name on plain text
  writeFileSync(join(dir, 'packed.log'), gzipSync(text)); // gzip under a plain name
  const expected = ['1:{"a":1}', '2:{"b":2}', '3:', '4:{"c":3}'];
  t.same(await collect(join(dir, 'plain.gz')), expected);
  t.same(await collect(join(dir, 'packed.log')), expected);
});

t.test('concatenated gzip members read as one stream', async (t) => {
  writeFileSync(join(dir, 'multi.gz'), Buffer.concat([gzipSync('{"a":1}\n'), gzipSync('{"b":2}\n')]));
  t.same(await collect(join(dir, 'multi.gz')), ['1:{"a":1}', '2:{"b":2}']);
});

t.test('a corrupt gzip stream is an error naming the file', async (t) => {
  const good = gzipSync('{"a":1}\n'.repeat(1000));
  writeFileSync(join(dir, 'cut.gz'), good.subarray(0, good.length - 20));
  await t.rejects(collect(join(dir, 'cut.gz')));
});

t.test('a .gz that is empty or one byte long is an upload cut short, not an empty log', async (t) => {
  writeFileSync(join(dir, 'empty.gz'), '');
  writeFileSync(join(dir, 'onebyte.gz'), Buffer.from([0x1f]));
  writeFileSync(join(dir, 'empty.log'), '');
  writeFileSync(join(dir, 'x.gz'), 'x'); // one byte of text under a .gz name: text
  await t.rejects(collect(join(dir, 'empty.gz')), /empty\.gz: empty, though named \.gz: cut short/);
  await t.rejects(collect(join(dir, 'onebyte.gz')), /onebyte\.gz: one byte long, though named \.gz/);
  t.same(await collect(join(dir, 'empty.log')), [], 'an empty file of another name is an empty log');
  t.same(await collect(join(dir, 'x.gz')), ['1:x']);
  t.same(await collect(join(dir, 'packed.log')), ['1:{"a":1}', '2:{"b":2}', '3:', '4:{"c":3}'], 'a gzip stream still reads after the check');
});

t.test('NUL padding before a line is dropped as it arrives, however long (logrotate copytruncate)', async (t) => {
  const nuls = Buffer.alloc(5 * 1024 * 1024); // no newline among them: one "line" as bytes go
  writeFileSync(join(dir, 'padded.log'), Buffer.concat([nuls, Buffer.from('{"a":1}\n'), Buffer.alloc(3), Buffer.from('{"b":2}\n\0\0\n')]));
  t.same(await collect(join(dir, 'padded.log')), ['1:{"a":1}', '2:{"b":2}', '3:'], 'the lines after the padding, numbered as they are');
  writeFileSync(join(dir, 'padded.gz'), gzipSync(Buffer.concat([nuls, nuls, Buffer.from('{"c":3}\n')])));
  t.same(await collect(join(dir, 'padded.gz')), ['1:{"c":3}'], 'also inside gzip, across many chunks');
});

t.test('a line longer than 64 MiB is cut there, and the file goes on', async (t) => {
  const long = Buffer.alloc(65 * 1024 * 1024, 0x61); // 'aaa…'
  writeFileSync(join(dir, 'long.log'), Buffer.concat([Buffer.from('{"a":1}\n{"big":"'), long, Buffer.from('"}\n{"b":2}\n')]));
  const lines: { lineNo: number; length: number; head: string }[] = [];
  for await (const l of readLines(join(dir, 'long.log'))) lines.push({ lineNo: l.lineNo, length: l.text.length, head: l.text.slice(0, 8) });
  t.same(lines.map((l) => [l.lineNo, l.head]), [[1, '{"a":1}'], [2, '{"big":"'], [3, '{"b":2}']], 'every line, in order, numbered');
  t.ok(lines[1].length > 64 * 1024 * 1024 && lines[1].length < long.length, 'the long line is cut after 64 MiB');
});

t.test('line variants', async (t) => {
  const event = { username: 'ada', event_type: 'page_close', time: '2014-03-03T08:00:00.000001+00:00' };
  const json = JSON.stringify(event);
  const rec = (line: string) => {
    const d = decodeLine(line);
    return d.kind === 'record' ? d.record : d;
  };
  t.same(rec(json), event, 'plain NDJSON');
  t.same(rec('\0\0\0\0' + json), event, 'NUL padding after copytruncate');
  t.same(rec(json + '\0\0'), event, 'trailing NULs');
  t.same(rec(`2023-05-23 13:53:13,461 INFO 20 [tracking] [user None] [ip None] logger.py:41 - ${json}`), event, 'Django logger prefix');
  t.same(rec(`Sep  9 00:00:48 localhost ${json}`), event, 'syslog prefix');
  t.same(rec(JSON.stringify({ version: '1.1', host: 'x', short_message: json })), event, 'GELF wrapping');
  t.same(rec(`2024-03-12 09:30:00,461 INFO {tracking} [user 4242] - ${json}`), event, 'a { in a prefix is not where the record starts');
  t.same(rec(`app[{"pid": 7}]: ${json}`), event, 'nor an object that no record starts like');
  const docker = (log: string) => JSON.stringify({ log: `${log}\n`, stream: 'stdout', time: '2024-03-12T09:30:00.461Z' });
  t.same(rec(docker(json)), event, "Docker's json-file logging driver");
  t.same(rec(docker(`2023-05-23 13:53:13,461 INFO 20 [tracking] [user None] [ip None] logger.py:41 - ${json}`)), event, 'Docker around a logger prefix');
  const cutInDocker = decodeLine(docker(json.slice(0, -20)));
  t.match(cutInDocker, { kind: 'record', record: { username: 'ada', event_type: 'page_close' }, repaired: 'truncated line closed' }, 'a cut line inside the wrapper is closed like any other');
  t.same(rec(JSON.stringify({ log: 'no event here', stream: 'stderr', time: 't' })), { log: 'no event here', stream: 'stderr', time: 't' }, 'a wrapper without a record is itself the record (its line then has no event type)');
  t.same(decodeLine(''), { kind: 'skip', reason: 'blank' });
  t.same(decodeLine('   \0 '), { kind: 'skip', reason: 'blank' });
  t.same(decodeLine('# fixture comment'), { kind: 'skip', reason: 'comment' });
  t.equal(decodeLine('[1,2,3]').kind, 'reject', 'a JSON array is not an event');
  t.equal(decodeLine('42').kind, 'reject');
  t.equal(decodeLine('garbage without braces').kind, 'reject');
});

t.test('broken lines are repaired or rescued, never silently dropped', async (t) => {
  const full = JSON.stringify({ username: 'ada', event_type: 'seq_goto', ip: '1.2.3.4', time: '2014-03-03T08:00:00.000001+00:00', event: '{"old":1,"new":2}', agent: 'x'.repeat(50) });
  const cut = decodeLine(full.slice(0, full.length - 20));
  t.equal(cut.kind, 'record');
  if (cut.kind === 'record') {
    t.equal(cut.repaired, 'truncated line closed');
    t.equal(cut.record.username, 'ada');
    t.equal(cut.record.event_type, 'seq_goto');
  }
  // Cut inside a key: closed as far as it goes.
  t.equal(closeTruncated('{"a": "b", "c'), '{"a": "b"}');
  t.equal(closeTruncated('{"a": [1, 2'), '{"a": [1, 2]}');
  t.equal(closeTruncated('{"a": tr'), '{"a": null}');
  t.equal(closeTruncated('{"a": 1}'), undefined, 'a complete object is not truncated');
  // Broken in the middle: fields are rescued from the text.
  const middle = decodeLine('{"username": "bob", "event_type": "play_video", "time": "2014-03-03T08:00:00.5", ]] "ip": "1.2.3.4"}');
  t.equal(middle.kind, 'rescued');
  if (middle.kind === 'rescued') t.same(middle.record, { username: 'bob', event_type: 'play_video', time: '2014-03-03T08:00:00.5', ip: '1.2.3.4' });
  t.equal(decodeLine('{"nothing": "useful", ]]').kind, 'reject', 'nothing recoverable → reject');
});

t.test('double-escaped events read through the reference fix-up, not as broken', async (t) => {
  const line = '{"username": "u", "event_type": "seq_goto", "event": "{\\\\"old\\\\":2,\\\\"new\\\\":1}"}';
  const d = decodeLine(line);
  t.equal(d.kind, 'record');
  if (d.kind === 'record') t.notOk(d.repaired);
});

t.test('event times', async (t) => {
  t.equal(parseEventTime({ $date: { $numberLong: '1710235800123' } })?.utc, '2024-03-12 09:30:00.123000', "mongoexport's canonical {$date: {$numberLong}}");
  t.equal(parseEventTime('2013-08-04T06:27:13.660689+00:00')?.utc, '2013-08-04 06:27:13.660689');
  t.equal(parseEventTime('2013-08-04T06:27:13+00:00')?.utc, '2013-08-04 06:27:13.000000', 'no fraction');
  t.equal(parseEventTime('2013-08-04T06:27:13.5Z')?.utc, '2013-08-04 06:27:13.500000', 'Z');
  t.equal(parseEventTime('2013-08-04 06:27:13.660689')?.utc, '2013-08-04 06:27:13.660689', 'space, no zone');
  t.equal(parseEventTime('2013-08-04T01:27:13.000001-05:00')?.utc, '2013-08-04 06:27:13.000001', 'offset to UTC');
  t.equal(parseEventTime('2013-12-31T23:30:00.000000-01:00')?.utc, '2014-01-01 00:30:00.000000', 'across a year');
  t.equal(parseEventTime({ $date: 1375597633660 })?.utc, '2013-08-04 06:27:13.660000', 'mongoexport');
  t.equal(parseEventTime('yesterday'), undefined);
  t.equal(parseEventTime(null), undefined);
  // A time is a DATETIME the server takes, and a quarter a partition can hold, or it is no time.
  t.equal(parseEventTime('2023-11-31T10:00:00.000001+00:00'), undefined, 'a day November does not have');
  t.equal(parseEventTime('2023-02-29 10:00:00'), undefined, 'February 29 of a common year');
  t.equal(parseEventTime('2024-02-29T10:00:00.000001+00:00')?.utc, '2024-02-29 10:00:00.000001', 'of a leap year');
  t.equal(parseEventTime('2100-02-29T10:00:00Z'), undefined, 'a century is no leap year');
  t.equal(parseEventTime(-4e13)?.utc, undefined, 'a number before the year 1000');
  t.equal(parseEventTime({ $date: 1e15 }), undefined, 'after 9999');
  t.equal(parseEventTime(1e20), undefined, 'beyond what Date holds');
  t.equal(parseEventTime(253402300799000)?.utc, '9999-12-31 23:59:59.000000', 'the last second DATETIME holds');
  // Issue 14 item 10: a number's unit by its magnitude; offsets no zone has are no time.
  t.equal(parseEventTime(1393840800)?.utc, '2014-03-03 10:00:00.000000', 'seconds (not 1970-01-17 in milliseconds)');
  t.equal(parseEventTime(1393840800.25)?.utc, '2014-03-03 10:00:00.250000', 'seconds with a fraction');
  t.equal(parseEventTime(1393840800123)?.utc, '2014-03-03 10:00:00.123000', 'milliseconds');
  t.equal(parseEventTime(1393840800123456)?.utc, '2014-03-03 10:00:00.123456', 'microseconds');
  t.equal(parseEventTime({ $date: 1393840800 })?.utc, '1970-01-17 03:10:40.800000', "mongoexport's $date is milliseconds, always");
  t.equal(parseEventTime('2014-03-03T10:00:00.000000+25:00'), undefined, 'an offset beyond +14:00');
  t.equal(parseEventTime('2014-03-03T10:00:00.000000-14:30'), undefined, 'or beyond -14:00');
  t.equal(parseEventTime('2014-03-03T10:00:00.000000+05:75'), undefined, 'minutes past 59');
  t.equal(parseEventTime('2014-03-03T10:00:00.000000+14:00')?.utc, '2014-03-02 20:00:00.000000', '+14:00 is a zone (Kiribati)');
  t.equal(parseEventTime('2014-03-03T10:00:00.000000-12:00')?.utc, '2014-03-03 22:00:00.000000');
  t.equal(parseEventTime('9999-12-31T23:30:00-01:00'), undefined, 'an offset that moves it past 9999');
  t.equal(formatGap(0), '0:00:00');
  t.equal(formatGap(3725e6), '1:02:05');
  t.equal(formatGap(361.000123e6), '0:06:01.000123');
  t.equal(formatGap(-5e6), '-0:00:05');
  t.equal(formatGap(1e15), '838:59:59', 'clamped to TIME');
});
