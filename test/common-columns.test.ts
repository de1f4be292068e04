// The common columns of every event (docs/tables.md#edxtrackevent, docs/decisions.md).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { H, sanitize, pyFloat, pystr } from '../src/core/values.js';
import { quarterOf, partitionName } from '../src/schema/quarters.js';
import { shortCourseId, courseFromProblemEvent } from '../src/transform/course.js';
import { BUNDLED_GEOIP, CountryLookup } from '../src/transform/geoip.js';
import { Reader, type CountryResponse } from 'maxmind';
import isoCountries from 'i18n-iso-countries';
import { Modulestore } from '../src/modulestore/display-names.js';
import { eventIds } from '../src/transform/ids.js';
import { transform, event } from './helpers/transform.js';
import { withoutPersonalValues } from '../src/transform/personal.js';

t.test('sanitize and the hash keep stored values compatible', async (t) => {
  t.equal(sanitize('3208 Dead St\r\nParis'), '3208 Dead St; ; Paris');
  t.equal(sanitize("Barry O'Callaghan"), "Barry O'Callaghan", 'quotes are kept (writers escape them)');
  t.equal(sanitize('Straße 6\\0612'), 'Strasse 60612', 'transliterated, backslashes deleted');
  t.equal(sanitize('Viña'), 'Vina');
  t.equal(sanitize(42), '', 'non-strings become empty');
  t.equal(sanitize(sanitize('a\\b\nc')), sanitize('a\\b\nc'), 'idempotent');
  t.equal(H(''), '9c1185a5c5e9fc54612808977ee8f548b2258d31');
  t.equal(H('smith'), '3df14445937c3372d3d6c087a4ec067253b83167');
  t.equal(H('Smith'), '59359eeb2df5f009edcb21a9478177acbaae28aa');
  t.equal(H('emil.smith@gmail.com'), 'a064cdd09af0315fbf2f6bbc2d0256a5e56d64f7');
});

t.test('Python 2 number text', async (t) => {
  t.equal(pyFloat(661.1010131835938), '661.101013184');
  t.equal(pyFloat(308.506103515625), '308.506103516');
  t.equal(pyFloat(1.6694719791412354), '1.66947197914');
  t.equal(pyFloat(167.734143), '167.734143');
  t.equal(pyFloat(1e16), '1e+16');
  t.equal(pyFloat(1e-5), '1e-05');
  t.equal(pystr(290), '290');
  t.equal(pystr(null), 'None');
  t.equal(pystr(true), 'True');
  t.equal(pystr(['a']), '["a"]', 'lists become JSON text, not Python reprs');
});

t.test('quarters and their partitions', async (t) => {
  t.equal(quarterOf(2013, 8), 'summer2013');
  t.equal(quarterOf(2014, 1), 'winter2014');
  t.equal(quarterOf(2013, 12), 'fall2013', 'December is fall (reference era, Stanford calendar)');
  t.equal(quarterOf(2013, 9), 'fall2013');
  t.equal(quarterOf(2014, 4), 'spring2014');
  t.equal(partitionName('winter2014'), 'pAY2013_Winter');
  t.equal(partitionName('fall2026'), 'pAY2026_Fall');
  t.equal(partitionName(''), 'pUnknownQuarter');
});

t.test('course ids from paths, URLs and problem ids', async (t) => {
  t.equal(shortCourseId('/courses/Education/EDUC115N/How_to_Learn_Math/modx/i4x://x'), 'Education/EDUC115N/How_to_Learn_Math');
  t.equal(shortCourseId('https://lms.example.edu/courses/Medicine/HRP258/Statistics_in_Medicine/courseware/a/'), 'Medicine/HRP258/Statistics_in_Medicine');
  t.equal(shortCourseId('https://lms.example.edu/courses/course-v1:Demo+CS102+2026/courseware/abc/'), 'course-v1:Demo+CS102+2026');
  t.equal(shortCourseId('i4x://Education/EDUC115N/combinedopenended/x'), '');
  t.equal(courseFromProblemEvent({ answers: { 'i4x-Medicine-HRP258-problem-abc_2_1': 'x' } }), 'Medicine-HRP258');
  t.equal(courseFromProblemEvent('nothing here'), null);
});

t.test('the course of a problem event object is read from as much of its JSON text as the rule needs', async (t) => {
  // The rule (first '-', then up to the next ':') applied to the whole JSON.stringify text is
  // the oracle; objects of every shape must give the same answer.
  const oracle = (event: unknown): string | null => {
    const text = JSON.stringify(event);
    const dash = text.indexOf('-');
    if (dash < 0) return null;
    const colon = text.indexOf(':', dash);
    const parts = text.slice(dash, colon < 0 ? undefined : colon).split('-');
    return parts.length >= 3 ? `${parts[1]}-${parts[2]}` : null;
  };
  const events: unknown[] = [
    { answers: { 'i4x-Medicine-HRP258-problem-abc_2_1': 'x' }, state: { seed: 1 } },
    { problem_id: 'i4x://Education/EDUC115N/problem/7cf6', grade: 1 }, // '-' only later
    { a: -1, b: 'x-y-z', c: [{ 'd-e-f': 2 }] }, // a '-' in a number first
    { a: [1, 2, [3, 'p-q']], b: { c: 'no colon after' } },
    { a: 'x-y' }, // no ':' after the '-': the whole text
    { a: 'é-ü-"quoted"', b: '\u2028-line-sep' }, // escapes as JSON.stringify writes them
    [{ 'i4x-A-B-problem-1_2_1': ['choice_0', 'choice_1'] }],
    { a: null, b: true, c: 1.5e300, d: { e: {} }, f: [] },
    {},
    [],
    null,
  ];
  events.forEach((e, i) => t.equal(courseFromProblemEvent(e), oracle(e), `event ${i}`));
});

t.test('IP → country: alpha-3, ZZZ for reserved, zzz for empty, IPv6', async (t) => {
  const geo = new CountryLookup();
  t.equal(geo.country('171.64.10.20'), 'USA');
  t.equal(geo.country('127.0.0.1'), 'ZZZ');
  t.equal(geo.country('10.1.2.3'), 'ZZZ');
  t.equal(geo.country('2001:db8::1'), 'ZZZ', 'documentation range');
  for (const ip of ['192.0.2.1', '198.51.100.7', '203.0.113.9', '172.20.1.1', '100.70.0.1', '169.254.1.1', '224.0.0.1', '0.1.2.3'])
    t.equal(geo.country(ip), 'ZZZ', `${ip} is special-purpose`);
  t.equal(geo.country('1.2.3.256'), 'ZZZ', 'not an address');
  t.equal(geo.country('171.64.10.20:443'), 'USA', 'an address with a port');
  t.equal(geo.country('[2a02:8108::1]:443'), geo.country('2a02:8108::1'), 'an IPv6 address in brackets with a port');
  t.not(geo.country('2a02:8108::1'), 'ZZZ');
  t.equal(geo.country(''), 'zzz');
  t.equal(geo.country('unknown'), 'ZZZ');
  t.match(geo.country('2001:4860:4860::8888'), /^[A-Z]{3}$/);
  t.equal(geo.country('::ffff:171.64.10.20'), 'USA', 'IPv4-mapped IPv6');
});

t.test('IP → country: answers from the /16 table equal the database, address by address', async (t) => {
  // Each address is asked of a lookup that has seen many before it (its table filled from wide
  // networks) and of the database itself. Addresses are drawn (seeded, repeatable) from first
  // bytes that hold no special-purpose block, where the database's answer is the expected one.
  const filled = new CountryLookup();
  const db = new Reader<CountryResponse & { country_code?: string }>(readFileSync(BUNDLED_GEOIP()));
  const firstBytes = Array.from({ length: 223 }, (_, i) => i + 1).filter((a) => ![10, 100, 127, 169, 172, 192, 198, 203].includes(a));
  let seed = 7;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) & 0xff;
  let differ = 0;
  const met = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const ip = [firstBytes[random() % firstBytes.length], random(), random(), random()].join('.');
    const got = filled.country(ip);
    const alpha2 = db.get(ip)?.country_code;
    const expected = (alpha2 && isoCountries.alpha2ToAlpha3(alpha2)) || 'ZZZ';
    if (got !== expected) differ++;
    met.add(got);
  }
  t.equal(differ, 0, 'no address answered differently');
  t.ok(met.size > 20, `${met.size} countries met`);
  // Special-purpose blocks inside wide networks stay ZZZ once their neighbours filled the table.
  for (const [neighbour, ip] of [['192.169.1.1', '192.168.1.1'], ['100.128.0.1', '100.64.0.1'], ['172.32.0.1', '172.16.5.5'], ['198.20.0.1', '198.18.0.1']]) {
    filled.country(neighbour);
    t.equal(filled.country(ip), 'ZZZ', `${ip} stays special-purpose after ${neighbour}`);
  }
});

t.test('ids are deterministic, time-ordered and distinct per row', async (t) => {
  const a = eventIds('{"x":1}', Date.parse('2014-03-03T08:00:00Z'));
  const b = eventIds('{"x":1}', Date.parse('2014-03-03T08:00:00Z'));
  const c = eventIds('{"x":2}', Date.parse('2014-03-03T08:00:01Z'));
  t.equal(a.eventId, b.eventId, 'same line, same id');
  t.match(a.eventId, /^[0-9a-f]{8}_[0-9a-f]{4}_7[0-9a-f]{3}_[89ab][0-9a-f]{3}_[0-9a-f]{12}$/, 'UUID v7 layout with _');
  t.ok(a.eventId < c.eventId, 'a later event sorts later');
  const ids = new Set([a.eventId]);
  for (const table of ['EdxTrackEvent', 'Answer', 'State']) for (let i = 0; i < 50; i++) ids.add(a.rowId(table, i));
  t.equal(ids.size, 151, 'every row of a line has its own id');
});

t.test('common columns of a browser event', async (t) => {
  const { rows, stats } = await transform([event({ event_type: 'page_close', event: '' })]);
  const m = rows.EdxTrackEvent[0];
  t.equal(m.event_type, 'page_close');
  t.equal(m.anon_screen_name, H('ada'));
  t.equal(m.ip_country, 'USA');
  t.equal(m.time, '2014-03-03 08:00:00.000001');
  t.equal(m.quarter, 'spring2014');
  t.equal(m.downtime_for, '0:00:00', 'first event of this IP');
  t.equal(m.course_id, 'https://lms.example.edu/courses/Demo/CS101/Spring2014/courseware/x/y/', 'browser: the page');
  t.equal(m.course_display_name, 'Demo/CS101/Spring2014');
  t.equal(m.load_info_fk, rows.LoadInfo[0].load_info_id);
  t.equal(rows.LoadInfo[0].load_file, 'file://test.log');
  t.equal(rows.LoadInfo[0].load_info_id, H('file://test.log'));
  t.same(rows.EventIp, [{ event_table_id: m._id, event_ip: '171.64.10.20' }], 'the raw IP goes to EdxPrivate only');
  t.equal(stats.events, 1);
});

t.test('context wins for course columns; module display name', async (t) => {
  const { rows } = await transform([
    event({ event_type: 'page_close', context: { course_id: 'course-v1:Demo+CS102+2026', org_id: 'Demo', module: { display_name: 'Unit 3' } } }),
  ]);
  const m = rows.EdxTrackEvent[0];
  t.equal(m.course_id, 'course-v1:Demo+CS102+2026');
  t.equal(m.course_display_name, 'course-v1:Demo+CS102+2026');
  t.equal(m.organization, 'Demo');
  t.equal(m.resource_display_name, 'Unit 3');
});

t.test('server events: course from the URL, or the event type itself', async (t) => {
  const { rows } = await transform([
    event({ event_source: 'server', page: null, event_type: '/courses/Demo/CS101/Spring2014/info', event: '{"POST": {}, "GET": {}}' }),
    event({ event_source: 'server', page: null, event_type: '/create_account', event: '{"POST": {}, "GET": {}}' }),
    event({ event_source: 'server', page: null, event_type: '/dashboard', event: '{"POST": {}, "GET": {}}' }),
    event({ event_source: 'server', page: null, event_type: '/courses/Demo/CS101/Spring2014/about', event: '{}' }),
  ]);
  const [info, account, dashboard, about] = rows.EdxTrackEvent;
  t.equal(info.course_id, 'Demo/CS101/Spring2014');
  t.equal(account.course_id, '/create_account');
  t.equal(dashboard.course_id, '');
  t.equal(about.event_type, 'about', '…/about is stored as about');
  t.equal(about.course_id, 'Demo/CS101/Spring2014');
  t.equal(about.downtime_for, null, 'about skips the downtime step');
});

t.test('downtime and the heartbeat filter', async (t) => {
  const hb = (time: string) => event({ event_source: 'server', username: '', ip: '127.0.0.1', page: null, event_type: '/heartbeat', time, event: '{}' });
  const { rows, stats } = await transform([
    hb('2013-07-18T08:43:32.573390+00:00'),
    hb('2013-07-18T08:43:38.573168+00:00'), // 6 s later: filtered
    hb('2013-07-18T09:45:43.573168+00:00'), // 1:02:05 after the previous: kept
    hb('2013-07-18T09:51:43.573168+00:00'), // exactly 360 s: filtered
    event({ event_source: 'server', username: '', ip: '127.0.0.1', page: null, event_type: '/', time: '2013-07-18T10:00:00.000001+00:00', event: '{}' }),
  ]);
  t.same(rows.EdxTrackEvent.map((r) => r.downtime_for), ['0:00:00', '1:02:05']);
  t.equal(stats.filtered.heartbeat, 2);
  t.equal(stats.filtered.ping, 1);
  t.equal(rows.EventIp.length, 2, 'no EventIp row without its main row');
  t.equal(stats.lines, stats.events + stats.filtered.heartbeat + stats.filtered.ping + stats.rejected);
});

t.test('display names from a modulestore', async (t) => {
  const ms = new Modulestore([
    { _id: { tag: 'i4x', org: 'Demo', course: 'CS101', category: 'sequential', name: '0f1e2d3c4b5a69788796a5b4c3d2e1f0' }, metadata: { display_name: 'Wëek 1' } },
    { _id: { tag: 'i4x', org: 'Demo', course: 'CS101', category: 'course', name: 'Spring2014' }, metadata: { display_name: 'CS 101' } },
  ]);
  t.equal(ms.displayName('0f1e2d3c4b5a69788796a5b4c3d2e1f0'), 'Wëek 1');
  t.equal(ms.courseOf('0f1e2d3c4b5a69788796a5b4c3d2e1f0'), 'Demo/CS101/Spring2014');
  const { rows } = await transform(
    [event({ event_type: 'seq_goto', event: '{"old":1,"new":2,"id":"i4x://Demo/CS101/sequential/0f1e2d3c4b5a69788796a5b4c3d2e1f0"}' })],
    { modulestore: ms },
  );
  t.equal(rows.EdxTrackEvent[0].resource_display_name, 'Week 1', 'sanitized like the reference');
});

t.test('rescued and rejected lines are accounted for', async (t) => {
  const good = JSON.stringify(event({ event_type: 'page_close', event: '' }));
  const { rows, stats, rejects } = await transform([good.slice(0, 120), '[1,2,3]', '', good]);
  t.equal(stats.lines, 4);
  t.equal(stats.rescued, 1);
  t.equal(stats.rejected, 1);
  t.equal(stats.filtered.blank, 1);
  t.equal(stats.events, 2);
  t.equal(rows.EdxTrackEvent[0].badly_formatted, withoutPersonalValues(good.slice(0, 120)), 'the raw line is kept, personal values taken out');
  t.same(rejects, [{ file: 'test.log', line: 2, reason: 'JSON array, not an event object', raw: '[1,2,3]' }]);
});

t.test('a line the transform fails on costs that line its columns, not the file its rows', async (t) => {
  const deep = '['.repeat(10_000) + ']'.repeat(10_000);
  const lines = [
    `{"username":"deep","event_type":"page_close","time":"2023-10-17T01:02:03Z","ip":"1.2.3.4","context":{"course_id":${deep}}}`,
    '{"username":"odd","event_type":"page_close","time":"2023-10-17T01:02:03Z","context":{"course_id":{"toString":1}}}',
    `{"context":{"course_id":${deep}}}`,
    JSON.stringify(event({ event_type: 'page_close', event: '' })),
  ];
  const { rows, stats, rejects, warnings } = await transform(lines);
  t.equal(stats.lines, 4);
  t.equal(stats.events + stats.rejected, 4, 'every line accounted for');
  t.same(rows.EdxTrackEvent.map((r) => r.badly_formatted), [withoutPersonalValues(lines[0]), '', ''], 'the failed line is kept in a rescue row (personal values out)');
  t.same(rows.EdxTrackEvent.map((r) => r.anon_screen_name), [H('deep'), H('odd'), H('ada')], 'with the fields its text shows');
  t.equal(rows.EdxTrackEvent[1].course_id, '{"toString":1}', 'a course_id object with a toString key is text, not a failure');
  t.equal(stats.rescued, 1);
  t.same(rejects.map((r) => [r.line, r.reason]), [[3, 'transform failed: Maximum call stack size exceeded']], 'a line with no field to rescue is rejected');
  t.match(warnings.join('\n'), /1: transform failed: Maximum call stack size exceeded/, 'and the failure is said');
});

t.test('a broken line is never filtered as noise', async (t) => {
  const cut = '{"username": "ello", "event_type": "/';
  const heartbeat = JSON.stringify(event({ event_type: '/heartbeat', event_source: 'server' }));
  const { rows, stats } = await transform([cut, heartbeat, heartbeat.slice(0, -5)]);
  t.equal(stats.filtered.ping, 0, 'a cut line that reads as a ping is kept');
  t.same(rows.EdxTrackEvent.map((r) => r.badly_formatted), [cut, '', heartbeat.slice(0, -5)].map(withoutPersonalValues), 'with its raw text; so is a cut repeated heartbeat');
  t.equal(stats.events, 3);
});

t.test('a line without ip or time still gives a row', async (t) => {
  const { rows } = await transform([{ username: 'x', event_type: 'page_close', event_source: 'browser', page: 'p' }]);
  const m = rows.EdxTrackEvent[0];
  t.equal(m.time, null);
  t.equal(m.quarter, '');
  t.equal(m.ip_country, 'zzz');
});

t.test('badly_formatted is public: personal values are taken out of the text it keeps (docs/decisions.md §15)', async (t) => {
  // A /create_account POST cut at 512 characters as the tracking middleware writes it, a cut
  // /login_ajax line, and a cut mobile line.
  const post = JSON.stringify({ POST: { username: ['maria_g'], honor_code: ['true'], name: ['María "Mary" González'], email: ['maria.gonzalez@example.org'],
    year_of_birth: ['1990'], goals: ['learn \\ stats'], mailing_address: ['Calle Falsa 123, 28013 Madrid, Spain'] }, GET: {} });
  const time = '2014-03-03T08:00:00.000001+00:00';
  const account = JSON.stringify({ username: 'maria_g', ip: '81.2.69.160', event_type: '/create_account', event_source: 'server', time, event: post.slice(0, post.length - 20) });
  const login = JSON.stringify({ username: '', event_type: '/login_ajax', ip: '81.2.69.161', time, event: JSON.stringify({ POST: { email: ['maria.gonzalez@example.org'], password: ['hunter2'] }, GET: {} }) }).slice(0, -12);
  const mobile = JSON.stringify({ name: 'edx.video.played', username: 'maria_g', ip: '81.2.69.162', time, event: { code: 'mobile' } }).slice(0, -2);
  const { rows } = await transform([account, login, mobile]);
  const kept = rows.EdxTrackEvent.map((r) => String(r.badly_formatted));
  t.equal(kept.length, 3);
  for (const [i, text] of kept.entries()) {
    t.notMatch(text, /maria|González|Gonz|Calle|28013|1990|hunter2|81\.2\.69/, `row ${i}: no name, e-mail, address, year of birth, password, username or IP`);
    t.match(text, /"personal"/, `row ${i}: their places say so`);
  }
  // The line is valid and its event text is cut: that text is what badly_formatted keeps.
  t.match(kept[0], /^\{"POST":\{"username":"personal","honor_code":\["true"\],"name":"personal"/, 'what is not personal stays');
  t.match(kept[1], '"event_type":"/login_ajax"');
  t.match(kept[2], '"name":"edx.video.played"', "a mobile event's type under name is no person's name");
  t.same([rows.EdxTrackEvent[0].anon_screen_name, rows.EdxTrackEvent[2].anon_screen_name], [H('maria_g'), H('maria_g')], 'the rows are still keyed by the hash');
  t.equal(withoutPersonalValues('input_x=1&email=a@b.c&password=x'), 'input_x=1&email=personal&password=personal', 'form fields too');
  t.equal(withoutPersonalValues('{"username": "cut in the midd'), '{"username": "personal"', 'a value cut short');
  t.equal(withoutPersonalValues('2023-10-17 00:41:44,398 INFO 18 [tracking] [user 3569] [ip 41.68.39.5] logger.py:41 - {"name": "seq_next", "x'),
    '2023-10-17 00:41:44,398 INFO 18 [tracking] [user personal] [ip personal] logger.py:41 - {"name": "seq_next", "x', "a logger prefix's user and IP; an event's name kept");
  t.equal(withoutPersonalValues('{"POST": {"name": ["maria"]}}'), '{"POST": {"name": "personal"}}', 'a form\'s name is a list: personal even when it looks like a word');
});
