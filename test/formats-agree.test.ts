// The three outputs of edx-json2sql load the same warehouse, cell for cell: (A) the MySQL script,
// run through a connection as `| mariadb` would; (B) a CSV collection loaded by edx-csvload; (C) the
// row stream piped into edx-csvload; and (D) the same pipe in 64 KiB segments, so that rows load
// while the stream arrives and late quarters make the loader roll back and reload. Inputs: the
// realistic modern log (helpers/modern-log.ts), and a hand-written log of nasty values (NUL, CR, LF,
// CRLF, tabs, backslashes, quotes, commas, Ctrl-Z, "NULL", "\N", '' vs null vs absent, emoji, CJK,
// accents, lone surrogates, values longer than their column, big integers, IPv6, logger/syslog
// prefixes, CRLF, NUL-padded and cut lines, quarters from 1970 to 9999, problem rows) in a file
// whose name has quotes and a backslash. Every load must be clean (no warning), every table but
// LoadInfo equal across the paths (LoadInfo but its load time), and row counts equal to --stats.
// A line repeated within one source is one row, the last copy's, in every path (REPLACE).
import t, { type Test } from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_TABLES, TABLES } from '../src/schema/tables.js';
import { columnIndex, type DatabaseNames, type TableDef } from '../src/schema/table.js';
import { loadSqlScript, testConnection, testServer } from './helpers/mariadb.js';
import { runShell, runTool, shellQuote as q } from './helpers/tools.js';
import { modernLog, pyJson, type Rec } from './helpers/modern-log.js';
import { CSVLOAD, ROOT, run, tableDigest, throwawayWarehouse } from './csvload-helpers.js';
import { tempDir } from './helpers/tmp.js';

const JSON2SQL = `${ROOT}bin/edx-json2sql`;
const tmp = tempDir('formats-agree');

// ---------------------------------------------------------------------------------------------
// The nasty log.

/** Text that every writer must escape, and that LOAD DATA and the SQL parser must read back. */
const NASTY: readonly string[] = [
  'nul \0 byte',
  '\0',
  'cr \r alone',
  'lf \n alone',
  'crlf \r\n pair',
  '\r\n',
  'tab \t here',
  '\t',
  'back\\slash and \\n that is no newline',
  'trailing backslash \\',
  '\\',
  '\\\\',
  "single ' quote",
  'double " quote',
  '"',
  "'",
  `both '" and ""`,
  'comma, comma,,',
  ',',
  '"quoted, csv field"',
  '"\\',
  'ctrl-z \x1a here',
  '\x1a',
  'NULL',
  'null',
  '\\N',
  '\\0',
  '',
  ' ',
  '  padded  ',
  'emoji 😀🎓 and clef 𝄞',
  'CJK 中文 日本語 한국어',
  'accents Ünïcödé àéîõü ñ ç',
  'mixed \0\r\n\t\\\'"\x1a,😀é中',
  'lone surrogate \ud83d here',
  "'); DROP TABLE Answer; --",
];

const COURSE = 'course-v1:NastyU+N101+2026';
const COURSE_URL = `/courses/${COURSE}`;
const IPS = ['10.0.0.1', '2001:db8::ff00:42:8329', '::1', 'fe80::1%eth0', '::ffff:192.0.2.128',
  '2001:0db8:85a3:0000:0000:8a2e:0370:7334', '203.0.113.9', '81.2.69.160', '2a02:8108:1234::5'];
/** What utf8mb4 can hold of a JS string: a lone surrogate becomes U+FFFD. */
const asStored = (v: string) => Buffer.from(v, 'utf8').toString('utf8');
const block = (type: string, name: string) => `block-v1:NastyU+N101+2026+type@${type}+block@${name}`;

/** A small hand-written log of the values that break escaping; deterministic. */
function nastyLog(): string[] {
  const lines: string[] = [];
  let clock = Date.parse('2026-03-02T10:00:00Z') * 1000 + 1; // µs; spring2026
  let n = 0;
  const iso = (us: number) => `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 19)}.${String(us % 1_000_000).padStart(6, '0')}+00:00`;
  const nextTime = () => iso((clock += ((n * 37) % 500 + 1) * 1_000_000 + n));
  /** A record as the LMS writes it; every other line with ensure_ascii escapes (\uXXXX). */
  const push = (rec: Rec, as?: (text: string) => string) => {
    const text = n % 2 ? JSON.stringify(rec) : pyJson(rec);
    n++;
    lines.push(as ? as(text) : text);
  };
  const ip = () => IPS[n % IPS.length];
  const server = (type: string, event: unknown, extra: Rec = {}): Rec => ({
    name: type, event_type: type, event_source: 'server', username: `learner${n % 5}`, session: `s${n % 3}`, ip: ip(),
    agent: 'Mozilla/5.0', host: 'lms.example.org', page: null, time: nextTime(), event,
    context: { course_id: COURSE, org_id: 'NastyU', path: `${COURSE_URL}/x`, user_id: 7 }, ...extra,
  });
  const browser = (type: string, event: string, extra: Rec = {}): Rec => ({
    event_type: type, event_source: 'browser', username: `learner${n % 5}`, session: `s${n % 3}`, ip: ip(),
    agent: 'Mozilla/5.0', host: 'lms.example.org', page: `https://lms.example.org${COURSE_URL}/courseware/c/s/1`,
    time: nextTime(), event, context: { course_id: COURSE, org_id: 'NastyU', path: '/event' }, ...extra,
  });

  NASTY.forEach((v, i) => {
    const module = { display_name: v, usage_key: block('vertical', `v${i}`) };
    // Common columns (sanitized) and raw ones: page, submission_id, resource_display_name.
    push(server('edx.forum.searched', { query: v, page: v, total_results: i }, {
      username: v, agent: v, session: v,
      context: { course_id: COURSE, org_id: 'NastyU', path: `${COURSE_URL}/discussion/forum/search`, module },
    }));
    // OpenAssessment: submission text, comment, feedback parts, ids (all kept as written).
    push(server('openassessmentblock.create_submission', {
      submission_uuid: v, attempt_number: i, created_at: iso(clock), submitted_at: iso(clock + 1),
      answer: { parts: [{ text: v }, { text: `part two ${v}` }], file_keys: [] },
    }, { context: { course_id: COURSE, org_id: 'NastyU', path: `${COURSE_URL}/x`, module } }));
    push(server('openassessmentblock.peer_assess', {
      feedback: v, rubric: { content_hash: v }, scored_at: iso(clock), submission_uuid: `uuid-${i}`, score_type: v, scorer_id: v,
      parts: [{ criterion: { name: v, points_possible: 3 }, option: { name: v, points: i }, feedback: v }],
    }));
    // ABExperiment.
    push(server('edx.cohort.user_added', { user_id: 7, cohort_id: i, cohort_name: v }));
    // Problem rows with the value in keys, answers, correct maps, input states and the state.
    const answerKey = `${block('problem', `p${i}`)}_2_${i}${v}`;
    push(server('problem_check', {
      answers: { [answerKey]: v, [`list_${i}`]: [v, 'choice_1'], [`null_${i}`]: null, [`empty_${i}`]: '' },
      attempts: i, grade: 1, max_grade: 2, problem_id: block('problem', `p${i}`), success: v,
      correct_map: { [answerKey]: { correctness: v, npoints: i, msg: v, hint: v, hintmode: v, queuestate: { key: v, time: v } },
        [`list_${i}`]: { correctness: 'correct', npoints: null, msg: '', hint: null, hintmode: null, queuestate: null } },
      state: { correct_map: { [answerKey]: { correctness: v, hint: v } }, done: i % 2 ? v : null,
        input_state: { [answerKey]: { hint: v }, [`list_${i}`]: {} }, seed: i * 100, student_answers: { [answerKey]: v } },
    }, { context: { course_id: COURSE, org_id: 'NastyU', path: `${COURSE_URL}/x`, module } }));
    push(browser('problem_check', `input_${i}_2_1=${v}&input_${i}_3_1=choice_${i}`));
    // A JSON text event (double encoded): sequence_id is kept as written.
    push(browser('seq_goto', JSON.stringify({ old: i, new: i + 1, id: v })));
    // A POST body the middleware cut: the decoded event text (with real control characters) goes to badly_formatted.
    push(server(`${COURSE_URL}/xblock/${block('problem', `p${i}`)}/handler/xmodule_handler/problem_check`,
      `{"GET": {}, "POST": {"input_${i}_2_1": ["${v}`, { name: 'dropped' }), (s) => s.replace(/"name": ?"dropped", ?/, ''));
  });

  // Empty strings, JSON nulls and absent fields.
  push({ username: '', event_source: '', event_type: 'play_video', ip: '', agent: '', host: '', page: '', session: '',
    time: nextTime(), event: '', context: { course_id: '' } });
  push({ username: null, event_source: null, event_type: 'play_video', ip: null, agent: null, host: null, page: null, session: null,
    time: nextTime(), event: null, context: null });
  push({ event_type: 'play_video', time: nextTime() });
  push(server('problem_check', { answers: {}, correct_map: {}, state: {} }));
  push(server('problem_check', null));
  push(server('save_problem_success', { answers: { a: null, b: '', c: [] }, problem_id: null,
    state: { seed: null, done: null, student_answers: { a: '' }, correct_map: { a: {} }, input_state: { a: null } } }));
  // Times: none, unreadable, ancient, an offset crossing into 2032, the last DATETIME(6), 2031 quarters.
  for (const time of [null, 'not a time', '1970-01-01T00:00:00Z', '2031-12-31T23:30:00.5-05:00', '9999-12-31T23:59:59.999999+00:00',
    '2031-02-14T08:00:00+00:00', '2031-06-01T00:00:00.000001+00:00', '2026-12-01T12:00:00Z']) {
    push({ ...server('seq_goto', { old: 1, new: 2, id: `time ${time}` }), time });
  }
  // Values longer than their column.
  push(server('edx.forum.searched', { query: 'a'.repeat(65_533) + '😀' + 'tail', page: 'b'.repeat(65_534) + '\\\\' + 'c'.repeat(10), total_results: 1 }, {
    context: { course_id: COURSE, org_id: 'NastyU', path: '/x', module: { display_name: '😀'.repeat(300) } },
    agent: 'ü'.repeat(70_000), session: 'ß\r\n'.repeat(30_000),
  }));
  push(server('edx.forum.searched', { query: 'q'.repeat(65_534) + '"' + '\r\n' + 'q', page: 'é'.repeat(40_000), total_results: 12345678901234567890 }, {
    context: { course_id: COURSE, org_id: 'NastyU', path: '/x', module: { display_name: 'x'.repeat(254) + '"\\' } },
  }));
  push(server('edx.forum.searched', { query: '\\'.repeat(70_000), page: '\0'.repeat(70_000), total_results: -0 }, {
    context: { course_id: COURSE, org_id: 'NastyU', path: '/x', module: { display_name: 'é'.repeat(256) } },
    ip: `2001:db8::${'1:'.repeat(200)}1`,
  }));
  push(server('edx.cohort.user_added', { user_id: 7, cohort_id: 99_999_999_999, cohort_name: '中'.repeat(300) }));
  push(server('edx.cohort.user_added', { user_id: 7, cohort_id: 2_147_483_647, cohort_name: 'y'.repeat(254) + '\\"' }));
  push(server('openassessmentblock.create_submission', {
    submission_uuid: 'u'.repeat(300), attempt_number: 2_147_483_648, created_at: iso(clock), answer: { parts: [{ text: 'é\\"\n'.repeat(50_000) }] },
  }));
  const longKey = 'k'.repeat(300);
  push(server('problem_check', {
    answers: { [longKey]: 'ü'.repeat(70_000), short: 'x' }, attempts: 12345678901234567890, problem_id: 'p'.repeat(300),
    correct_map: { [longKey]: { correctness: 'c'.repeat(300), npoints: 1e300, hint: '😀'.repeat(17_000), msg: '\\'.repeat(70_000), queuestate: '\r'.repeat(70_000) } },
    state: { seed: 2_147_483_648, done: true, student_answers: { [longKey]: 'x' }, correct_map: {}, input_state: { [longKey]: { big: 'z'.repeat(70_000) } } },
  }));
  for (const seed of [2_147_483_647, -2_147_483_648, 127, 128, '42', 3.5]) {
    push(server('problem_check', { answers: { [`seed${seed}`]: 'a' }, state: { seed, student_answers: { [`seed${seed}`]: 'a' } }, attempts: seed }));
  }
  push(browser('seq_goto', JSON.stringify({ old: 2_147_483_648, new: -2_147_483_649, id: 'big ints' })));
  // Line variants: logger and syslog prefixes, CRLF, NUL padding.
  push(server('seq_goto', { old: 1, new: 2, id: 'prefixed' }), (s) => `2026-03-02 10:00:00,123 INFO 7 [tracking] [user 7] [ip ::1] logger.py:41 - ${s}`);
  push(server('seq_goto', { old: 1, new: 2, id: 'syslog' }), (s) => `Mar  2 10:00:00 lms-1 lms[123]: ${s}`);
  push(server('seq_goto', { old: 1, new: 2, id: 'crlf' }), (s) => `${s}\r`);
  push(server('seq_goto', { old: 1, new: 2, id: 'nul padded' }), (s) => `\0\0\0\0${s}`);
  // Cut lines: closed and kept, or rescued; the raw line goes to badly_formatted.
  const cutIn = (s: string, marker: string, extra = 0) => s.slice(0, s.indexOf(marker) + extra);
  push(server('edx.forum.searched', { query: 'cut here: \\ " \n \t \x1a 😀 中 NULL \\N', page: 1 }), (s) => cutIn(s, 'NULL'));
  push(server('seq_goto', { old: 1, new: 2, id: 'cut after a backslash \\n' }), (s) => cutIn(s, '\\\\n', 1));
  push(server('seq_goto', { old: 1, new: 2, id: 'long and cut', pad: 'z'.repeat(70_000) }), (s) => s.slice(0, s.length - 20));
  lines.push(`garbage "username": "rescued\tuser", "event_type": "rescued\x1a type \r mid", "ip": "10.9.9.9", "time": "2031-01-02T03:04:05+00:00" tail \\`);
  lines.push('', '# a comment line');
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Running the three paths.

interface Stats {
  lines: number;
  rows: Record<string, number>;
  fit: { cut: Record<string, number>; coerced: Record<string, number> };
  [k: string]: unknown;
}
const readStats = (file: string): Stats => JSON.parse(readFileSync(file, 'utf8'));
/** --stats without the time it took (the only field that differs between runs). */
const statsBody = (s: Stats) => Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'seconds'));

/** `edx-json2sql LOG --rows --stats S | edx-csvload ARGS`, without tap's loader hooks in the children. */
async function pipe(log: string, stats: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  const s = await testServer();
  const node = q(process.execPath);
  const r = await runShell(`${node} ${q(JSON2SQL)} --quiet --stats ${q(stats)} ${q(log)} --rows | ${node} ${q(CSVLOAD)} ${args.map(q).join(' ')}`, { env: s.env });
  return { code: r.code, stderr: r.stderr };
}

/** The `table  rows loaded` block of edx-csvload's summary. */
function loadedRows(stderr: string): Record<string, number> {
  const out: Record<string, number> = {};
  const names = new Set<string>(ALL_TABLES.map((x) => x.name));
  for (const m of stderr.matchAll(/^(\w+)\s+([\d,]+)$/gm)) if (names.has(m[1])) out[m[1]] = Number(m[2].replace(/,/g, ''));
  return out;
}

const short = (v: unknown) => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 160 ? `${s.slice(0, 120)}…(${s.length} chars)…${s.slice(-30)}` : s;
};

/** Where two strings first differ, and the text around it. */
function firstDifference(a: unknown, b: unknown): string {
  if (typeof a !== 'string' || typeof b !== 'string') return `${short(a)} vs ${short(b)}`;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const around = (s: string) => JSON.stringify(s.slice(Math.max(0, i - 20), i + 20));
  return `lengths ${a.length}/${b.length}, first difference at ${i}: …${around(a)}… vs …${around(b)}…; values ${short(a)} vs ${short(b)}`;
}

type Cell = string | number | null;

/** Every row of a table, by primary key, all columns, as the server returns them. */
async function tableRows(db: string, table: TableDef): Promise<Map<string, Cell[]>> {
  const c = await testConnection();
  try {
    const cols = table.columns.map((col) => `\`${col.name}\``).join(', ');
    const key = table.primaryKey.map((k) => `\`${k}\``).join(', ');
    const [rows] = await c.query({ sql: `SELECT ${cols} FROM \`${db}\`.\`${table.name}\` ORDER BY ${key}`, rowsAsArray: true });
    const idx = table.primaryKey.map((k) => columnIndex(table)[k]);
    const out = new Map<string, Cell[]>();
    for (const r of rows as Cell[][]) out.set(idx.map((i) => String(r[i])).join(' / '), r);
    return out;
  } finally {
    await c.end();
  }
}

/** The differences of `other` from `base`, described: missing and extra rows, differing cells. */
function differences(table: TableDef, base: Map<string, Cell[]>, other: Map<string, Cell[]>, label: string): string[] {
  const out: string[] = [];
  for (const [key, a] of base) {
    const b = other.get(key);
    if (!b) {
      out.push(`row ${key} missing from ${label}`);
      continue;
    }
    table.columns.forEach((col, i) => {
      if (a[i] !== b[i]) out.push(`row ${key} column ${col.name}: SQL script vs ${label}: ${firstDifference(a[i], b[i])}`);
    });
  }
  for (const key of other.keys()) if (!base.has(key)) out.push(`row ${key} only in ${label}: ${short(other.get(key))}`);
  return out;
}

interface Paths {
  A: DatabaseNames;
  B: DatabaseNames;
  C: DatabaseNames;
  D: DatabaseNames;
}
/** A is the SQL script; the others are compared with it. */
const LABELS = {
  B: 'CSV collection + edx-csvload',
  C: 'row stream | edx-csvload',
  D: 'row stream | edx-csvload --segment-size 64k',
} as const;
/** D: the row stream loaded in small segments while it streams (quarters arriving mid-load roll back and reload). */
const SMALL_SEGMENTS = ['--segment-size', '64k'];

/**
 * Load a log three ways into throwaway warehouses and check each load. Returns the names and the
 * transform's stats (of the script run; the others must say the same).
 */
async function loadThreeWays(t: Test, name: string, log: string, o: { countsFromStats?: boolean } = {}): Promise<{ paths: Paths; stats: Stats }> {
  const [A, B, C, D] = await Promise.all(['fa_sql', 'fa_csv', 'fa_rows', 'fa_seg'].map((p) => throwawayWarehouse(p)));
  for (const w of [A, B, C, D]) t.teardown(w.drop);
  const dir = join(tmp, name);
  mkdirSync(dir);
  const st = { A: join(dir, 'a.json'), B: join(dir, 'b.json'), C: join(dir, 'c.json'), D: join(dir, 'd.json') };

  const [a, b, c, d] = await Promise.all([
    // A: the SQL script, into an empty server (the script creates what it needs).
    (async () => {
      const tr = await runTool('edx-json2sql', ['--quiet', '--stats', st.A, ...A.args, log]);
      if (tr.code !== 0) return { transform: tr, warnings: NaN };
      return { transform: tr, warnings: await loadSqlScript(tr.stdout) };
    })(),
    // B: a collection, loaded with edx-csvload.
    (async () => {
      const init = await run(CSVLOAD, ['--init', ...B.args]);
      const tr = await runTool('edx-json2sql', ['--quiet', '--stats', st.B, '--csv', join(dir, 'csv'), ...B.args, log]);
      const load = tr.code === 0 ? await run(CSVLOAD, [...B.args, join(dir, 'csv')]) : undefined;
      return { init, transform: tr, load };
    })(),
    // C: the row stream through a pipe.
    (async () => {
      const init = await run(CSVLOAD, ['--init', ...C.args]);
      return { init, load: await pipe(log, st.C, C.args) };
    })(),
    // D: the same, in small segments loaded while the stream still arrives.
    (async () => {
      const init = await run(CSVLOAD, ['--init', ...D.args]);
      return { init, load: await pipe(log, st.D, [...D.args, ...SMALL_SEGMENTS]) };
    })(),
  ]);

  t.equal(a.transform.code, 0, 'A: edx-json2sql succeeds', { stderr: a.transform.stderr.slice(0, 2000) });
  t.equal(a.warnings, 0, 'A: the SQL script loads with zero warnings (sum of warningStatus)');
  t.equal(b.init.code, 0, 'B: edx-csvload --init succeeds', { stderr: b.init.stderr });
  t.equal(b.transform.code, 0, 'B: edx-json2sql --csv succeeds', { stderr: b.transform.stderr.slice(0, 2000) });
  t.equal(b.load?.code, 0, 'B: edx-csvload succeeds', { stderr: b.load?.stderr });
  t.match(b.load?.stderr ?? '', /1 loaded, 0 skipped, 0 failed/, 'B: its summary says the source loaded');
  t.equal(c.init.code, 0, 'C: edx-csvload --init succeeds', { stderr: c.init.stderr });
  t.equal(c.load.code, 0, 'C: edx-json2sql --rows | edx-csvload succeeds', { stderr: c.load.stderr });
  t.match(c.load.stderr, /1 loaded, 0 skipped, 0 failed/, 'C: its summary says the source loaded');
  t.equal(d.init.code, 0, 'D: edx-csvload --init succeeds', { stderr: d.init.stderr });
  t.equal(d.load.code, 0, 'D: edx-json2sql --rows | edx-csvload --segment-size 64k succeeds', { stderr: d.load.stderr });
  t.match(d.load.stderr, /1 loaded, 0 skipped, 0 failed/, 'D: its summary says the source loaded');
  const streamed = /([\d,]+) of ([\d,]+) rows loaded while the source streamed/.exec(d.load.stderr);
  // How much loaded while streaming, and whether a late quarter made the loader roll back and
  // reload, depends on timing: said, not asserted (the content must agree either way).
  const midLoad = /quarter .* arrived mid-load[^\n]*/.exec(d.load.stderr)?.[0];
  t.comment(`D: ${streamed?.[0] ?? 'no streaming report'}${midLoad ? `; ${midLoad}` : ''}`);
  const stats = readStats(st.A);
  t.same(statsBody(readStats(st.B)), statsBody(stats), 'B: the --csv transform reports the same stats as the script');
  t.same(statsBody(readStats(st.C)), statsBody(stats), 'C: the --rows transform reports the same stats as the script');
  t.same(statsBody(readStats(st.D)), statsBody(stats), 'D: the --rows transform reports the same stats as the script');
  const nonZero = Object.fromEntries(Object.entries(stats.rows).filter(([, n]) => n > 0));
  t.same(loadedRows(b.load?.stderr ?? ''), nonZero, 'B: edx-csvload\'s summary reports the rows of --stats');
  t.same(loadedRows(c.load.stderr), nonZero, 'C: edx-csvload\'s summary reports the rows of --stats');
  t.same(loadedRows(d.load.stderr), nonZero, 'D: edx-csvload\'s summary reports the rows of --stats');

  const paths = { A: A.names, B: B.names, C: C.names, D: D.names };
  if (o.countsFromStats ?? true) {
    const conn = await testConnection();
    try {
      for (const [label, names] of Object.entries(paths)) {
        const counts: Record<string, number> = {};
        for (const table of ALL_TABLES) {
          const [r] = await conn.query(`SELECT COUNT(*) AS n FROM \`${names[table.database]}\`.\`${table.name}\``);
          const n = Number((r as { n: number }[])[0].n);
          if (n || stats.rows[table.name] !== undefined) counts[table.name] = n;
        }
        t.same(counts, stats.rows, `${label}: rows in the database = rows in --stats`);
      }
    } finally {
      await conn.end();
    }
  }
  return { paths, stats };
}

/** Every table but LoadInfo of B and of C equals A's, cell for cell; LoadInfo but its load time. */
async function compareWarehouses(t: Test, paths: Paths) {
  for (const table of ALL_TABLES) {
    const a = await tableRows(paths.A[table.database], table);
    for (const p of ['B', 'C', 'D'] as const) {
      const names = paths[p];
      if (table === TABLES.LoadInfo) {
        const b = await tableRows(names.Edx, table);
        const strip = (m: Map<string, Cell[]>) => [...m.values()].map((r) => [r[0], r[1] === null ? null : 'set', r[2]]);
        t.same(strip(b), strip(a), `LoadInfo: ${LABELS[p]} records the same source, with a load time`);
        continue;
      }
      const diffs = differences(table, a, await tableRows(names[table.database], table), LABELS[p]);
      t.ok(diffs.length === 0,
        `${table.name}: ${LABELS[p]} = SQL script, all ${a.size} rows cell for cell` +
          (diffs.length ? `; ${diffs.length} differences, first: ${diffs[0]}${diffs[1] ? `; second: ${diffs[1]}` : ''}` : ''));
      t.same(await tableDigest(names[table.database], table), await tableDigest(paths.A[table.database], table),
        `${table.name}: ${LABELS[p]} has the digest of the SQL script's`);
    }
  }
}

/** The column definitions of every table (the script and --init must create the same tables). */
async function columnTypes(names: DatabaseNames): Promise<string[]> {
  const c = await testConnection();
  try {
    const [rows] = await c.query(
      `SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME, COLLATION_NAME, COLUMN_DEFAULT
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (?, ?) AND TABLE_NAME IN (?) ORDER BY TABLE_NAME, ORDINAL_POSITION`,
      [names.Edx, names.EdxPrivate, ALL_TABLES.map((x) => x.name)],
    );
    return (rows as Rec[]).map((r) => Object.values(r).join(' '));
  } finally {
    await c.end();
  }
}

// ---------------------------------------------------------------------------------------------

t.test('the modern log: three paths, one warehouse', async (t) => {
  const log = join(tmp, 'tracking.log-modern');
  writeFileSync(log, modernLog().map((l) => l.text).join('\n') + '\n');
  const { paths, stats } = await loadThreeWays(t, 'modern', log);
  t.ok(stats.rows.EdxTrackEvent > 5000 && stats.rows.Answer > 100 && stats.rows.OpenAssessment > 10, `a real load (${JSON.stringify(stats.rows)})`);
  const types = await columnTypes(paths.A);
  t.same(await columnTypes(paths.B), types, 'the script and edx-csvload --init create the same columns');
  await compareWarehouses(t, paths);
});

t.test('nasty values: three paths, one warehouse', async (t) => {
  const log = join(tmp, `tracking.log-nasty 'q' "d" \\ ,é😀`);
  const lines = nastyLog();
  writeFileSync(log, lines.join('\n') + '\n');
  const { paths, stats } = await loadThreeWays(t, 'nasty', log);
  t.equal(stats.lines, lines.length, 'every line was read');
  t.equal(stats.rejected, 0, 'no line rejected');
  t.equal(stats.rescued, 4, 'the 4 cut or broken lines were kept (rescued); prefixed, CRLF and NUL-padded lines read as they are');
  t.ok((stats.undecodableEvents as number) >= NASTY.length, `cut POST bodies went to badly_formatted (${stats.undecodableEvents} undecodable event fields)`);
  for (const col of ['EdxTrackEvent.submission_id', 'EdxTrackEvent.page', 'EdxTrackEvent.agent', 'EdxTrackEvent.resource_display_name',
    'EdxTrackEvent.badly_formatted', 'ABExperiment.cohort_name', 'CorrectMap.hint', 'InputState.state', 'Answer.problem_id', 'EventIp.event_ip']) {
    t.ok((stats.fit.cut[col] ?? 0) > 0, `a value longer than ${col} was cut (${stats.fit.cut[col] ?? 0})`);
  }
  t.ok(Object.keys(stats.fit.coerced).length > 0, `big integers were replaced by -1 (${JSON.stringify(stats.fit.coerced)})`);

  // Not vacuous: the raw columns hold the nasty values exactly, in each warehouse.
  const expected = NASTY.map(asStored);
  const c = await testConnection();
  try {
    for (const [label, names] of Object.entries(paths)) {
      const [rows] = await c.query(`SELECT cohort_id AS i, cohort_name AS v FROM \`${names.Edx}\`.ABExperiment WHERE cohort_id BETWEEN 0 AND ? ORDER BY cohort_id`, [NASTY.length - 1]);
      t.same((rows as { v: string }[]).map((r) => r.v), expected, `${label}: ABExperiment.cohort_name holds each nasty value exactly`);
      const [sub] = await c.query(`SELECT submission_text AS v FROM \`${names.Edx}\`.OpenAssessment WHERE event_type = 'openassessmentblock.create_submission'`);
      const texts = new Set((sub as { v: string }[]).map((r) => r.v));
      const lost = expected.filter((v) => ![...texts].some((s) => s.startsWith(v)));
      t.same(lost, [], `${label}: every nasty value is in OpenAssessment.submission_text as written`);
      // Counted on the bytes: utf8mb4_unicode_ci ignores control characters when it compares.
      const has = (bytes: string) => `SUM(INSTR(CAST(submission_id AS BINARY), X'${bytes}') > 0)`;
      const [q] = await c.query(`SELECT ${has('00')} AS nul, ${has('1A')} AS ctrlz, ${has('0D0A')} AS crlf, ${has('5C')} AS backslash,
          ${has('F09F9880')} AS emoji, SUM(CAST(submission_id AS BINARY) = 'NULL') AS nullWord, SUM(CAST(submission_id AS BINARY) = '\\\\N') AS backslashN
        FROM \`${names.Edx}\`.EdxTrackEvent WHERE event_type = 'edx.forum.searched'`);
      const f = (q as Rec[])[0];
      const inNasty = (re: RegExp) => NASTY.filter((v) => re.test(v)).length;
      const want = { nul: inNasty(/\0/), ctrlz: inNasty(/\x1a/), crlf: inNasty(/\r\n/), backslash: inNasty(/\\/), emoji: inNasty(/😀/), nullWord: 1, backslashN: 1 };
      t.ok(Object.entries(want).every(([k, n]) => Number(f[k]) >= n),
        `${label}: forum queries hold NUL, Ctrl-Z, CRLF, backslashes, emoji, 'NULL' and '\\N' as written (${JSON.stringify(f)} ≥ ${JSON.stringify(want)})`);
    }
    const [gaps] = await c.query(`SELECT DISTINCT downtime_for AS d FROM \`${paths.A.Edx}\`.EdxTrackEvent WHERE downtime_for IS NOT NULL ORDER BY d`);
    const ds = (gaps as { d: string }[]).map((r) => r.d);
    t.ok(ds.includes('838:59:59.000000') && ds.includes('-838:59:59.000000') && ds.some((d) => /\.\d*[1-9]/.test(d)),
      `downtime_for holds gaps capped both ways and gaps with microseconds (${ds.slice(0, 3).join(', ')} … ${ds.slice(-3).join(', ')})`);
    const [quarters] = await c.query(`SELECT DISTINCT quarter FROM \`${paths.A.Edx}\`.EdxTrackEvent ORDER BY quarter`);
    const qs = (quarters as { quarter: string }[]).map((r) => r.quarter);
    t.ok(['', 'spring2026', 'fall2026', 'winter2031', 'summer2031', 'winter2032', 'fall9999'].every((q) => qs.includes(q)), `new quarters load (${qs.join(' ')})`);
  } finally {
    await c.end();
  }
  await compareWarehouses(t, paths);
});

t.test('a line written twice (and once more NUL-padded): the same row in every path', async (t) => {
  // Ids derive from the line (NULs and outer blanks dropped), so the copies are one row; but the
  // copies' downtime_for differ (the first from an address is 0:00:00, the next within 360 s NULL):
  // every path keeps the last copy (REPLACE).
  const line = JSON.stringify({ username: 'twice', event_source: 'server', event_type: 'seq_goto', ip: '10.1.1.1', agent: 'a',
    page: null, time: '2026-03-02T10:00:00.000001+00:00', event: { old: 1, new: 2, id: 'twice' }, context: { course_id: COURSE } });
  const log = join(tmp, 'tracking.log-twice');
  writeFileSync(log, `${line}\n${line}\n\0\0${line}\n`);
  const { paths } = await loadThreeWays(t, 'twice', log, { countsFromStats: false });
  await compareWarehouses(t, paths);
  const stored = [...(await tableRows(paths.A.Edx, TABLES.EdxTrackEvent)).values()];
  const downtime = columnIndex(TABLES.EdxTrackEvent).downtime_for;
  t.same(stored.map((r) => r[downtime]), [null], 'one row, the last copy\'s (no downtime: a repeat within 360 s)');
});
