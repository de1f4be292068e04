// No personal value reaches the public database (docs/decisions.md §15, issue 14 item 2): a corpus with
// usernames, e-mails, IPs, passwords, names and tokens in every place a log puts them (instructor
// dashboard events, URL paths and queries, broken lines of every form the reader understands, at
// every escape level) is transformed by edx-json2sql, loaded into a real MariaDB as documented, and
// the whole public database is dumped with mariadb-dump: not one of the values is in it.
import t from 'tap';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { runTool } from './helpers/tools.js';
import { loadSqlScript, testConnection, testServer, throwawayDatabases } from './helpers/mariadb.js';
import { withoutPersonalInUrl, withoutPersonalValues } from '../src/transform/personal.js';
import { PERSONAL_KEYS, isPersonalKey } from '../src/core/personal-keys.js';

const ripemd = (s: string) => createHash('ripemd160').update(s, 'utf8').digest('hex');
const time = '2014-03-03T08:00:00.000001+00:00';
const base = { host: 'lms.example.edu', event_source: 'server', agent: 'TestAgent/1.0', time, session: 'aa11' };
const line = (fields: Record<string, unknown>) => JSON.stringify({ ...base, ...fields });
/** A line cut short (as a log being written, or a logger's limit): only a rescue keeps it, in badly_formatted. */
const cut = (fields: Record<string, unknown>, drop = 3) => line(fields).slice(0, -drop);

// Every personal value of the corpus: none may appear in the dump of the public database.
const P = {
  student: 'piiStudentOne', studentMail: 'stu.two@pii-example.org', instructor: 'piiInstructor', group: 'piiGroupMember',
  profile: 'piiProfileName', account: 'piiAccountName', queryMail: 'query.mail@pii-example.org', resetToken: '3x-Rst7okenPii',
  activation: 'ActKeyPii0123456789', logUser: 'piiLoggerUser', logIp: '203.0.113.71', formMail: 'form.mail@pii-example.org',
  formPassword: 'FormPwPii!', pyUser: 'piiPythonUser', pyMail: 'py.mail@pii-example.org', uUser: 'piiQuoteUser',
  gelfIp: '203.0.113.72', gelfUser: 'piiGelfUser', keyStudent: 'piiKeyStudent', keyInstructor: 'piiKeyInstructor',
  unique: 'unique.pii@pii-example.org', identifiers: 'ident.one@pii-example.org', newPassword: 'NewPwPii42',
  emailAddress: 'addr.mail@pii-example.org', userName: 'piiUserNameKey', remoteAddr: '203.0.113.73', oldName: 'Oldname Piiperson',
  newName: 'Newname Piiperson', lineUser: 'piiLineUser', lineIp: '203.0.113.74', nested: 'piiNestedUser', nestedMail: 'nested.mail@pii-example.org',
};

const corpus = [
  // Instructor dashboard: the learner and the instructor they name (reference: verbatim in public columns).
  line({ username: 'staff1', ip: '10.0.0.1', event_type: 'reset-student-attempts', event: { problem: 'i4x://A/B/problem/x', student: P.student, instructor_id: P.instructor, old_attempts: 1 } }),
  line({ username: 'staff1', ip: '10.0.0.1', event_type: 'get-student-progress-page', event: { student: P.studentMail, instructor_id: P.instructor } }),
  line({ username: 'staff1', ip: '10.0.0.1', event_type: 'delete-student-module-state', event: { course: 'A/B/C', problem: 'i4x://A/B/problem/x', student: P.student } }),
  line({ username: 'staff1', ip: '10.0.0.1', event_type: 'add-or-remove-user-group', event: { event_name: 'beta-tester', user: P.group, event: 'add' } }),
  // URLs in event_type, page and course_id.
  line({ username: 'u1', ip: '10.0.0.2', event_source: 'browser', event_type: 'page_close', event: '', page: `https://lms.example.edu/u/${P.profile}` }),
  line({ username: 'u1', ip: '10.0.0.2', event_type: `/api/user/v1/accounts/${P.account}`, event: '{"POST": {}, "GET": {}}', page: null }),
  line({ username: 'u1', ip: '10.0.0.2', event_type: `/api/user/v1/accounts/${P.account}/image`, event: '{"POST": {}, "GET": {}}', page: null }),
  line({ username: 'u1', ip: '10.0.0.2', event_type: `/courses/A/B/C/instructor/api/get_student_progress_url?email=${P.queryMail}`, event: '{}', page: null }),
  line({ username: 'u1', ip: '10.0.0.2', event_source: 'browser', event_type: 'page_close', event: '', page: `https://lms.example.edu/courses/A/B/C?email=${encodeURIComponent(P.queryMail)}` }),
  line({ username: '', ip: '10.0.0.3', event_type: `/password_reset_confirm/${P.resetToken}/`, event: '{}', page: `https://lms.example.edu/password_reset_confirm/${P.resetToken}/` }),
  line({ username: '', ip: '10.0.0.3', event_type: `/activate/${P.activation}`, event: '{}', page: `https://lms.example.edu/activate/${P.activation}` }),
  // badly_formatted: a logger prefix naming user and IP, before a cut line.
  `2014-03-03 08:00:01,000 INFO 12 [tracking] user=${P.logUser} ip=${P.logIp} - ${cut({ username: P.logUser, ip: P.logIp, event_type: 'seq_next', event: '{"old": 1' })}`,
  // a form as the event text, its first field an e-mail.
  cut({ username: 'u2', ip: '10.0.0.4', event_type: '/login_ajax', event: `email=${P.formMail}&password=${P.formPassword}&remember=true` }, 20),
  // a Python repr as the event.
  line({ username: 'u3', ip: '10.0.0.5', event_type: '/register', event: `{'username': u'${P.pyUser}', 'email': u'${P.pyMail}', 'honor_code': [u'true']}` }),
  // quotes written as \u0022 inside the event text.
  line({ username: 'u4', ip: '10.0.0.6', event_type: 'page_close', event: `{\\u0022username\\u0022: \\u0022${P.uUser}\\u0022, \\u0022x\\u0022: ` }),
  // GELF around a cut line, with its own _remote_ip.
  JSON.stringify({ version: '1.1', host: 'h', _remote_ip: P.gelfIp, short_message: cut({ username: P.gelfUser, ip: P.gelfIp, event_type: 'seq_next', event: '{}' }) }),
  // the keys the first scrubber missed, in a cut event text (one escape level down).
  line({ username: 'u5', ip: '10.0.0.7', event_type: 'page_close', event: JSON.stringify({ student: P.keyStudent, instructor_id: P.keyInstructor,
    unique_student_identifier: P.unique, identifiers: `${P.identifiers}, other@pii-example.org`, POST: { new_password1: [P.newPassword], email_address: [P.emailAddress],
      user_name: [P.userName] }, remote_addr: P.remoteAddr }).slice(0, -2) }),
  // edx.user.settings.changed: old and new are the setting's values.
  cut({ username: 'u6', ip: '10.0.0.8', event_type: 'edx.user.settings.changed', event: { setting: 'name', old: P.oldName, new: P.newName, user_id: 8 } }, 5),
  // a cut line with its own username and IP, and the name again in its page; nested two levels down.
  cut({ username: P.lineUser, ip: P.lineIp, event_source: 'browser', event_type: 'problem_check', page: `https://lms.example.edu/u/${P.lineUser}`,
    event: JSON.stringify({ state: JSON.stringify({ username: P.nested, email: P.nestedMail }) }) }, 30),
];

async function dump(db: string): Promise<string> {
  const s = await testServer();
  return new Promise((resolve, reject) => {
    const child = spawn('mariadb-dump', ['--no-defaults', '-h', s.host, '-P', String(s.port), '-u', s.user, '--skip-extended-insert', db], { env: s.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out).toString()) : reject(new Error(Buffer.concat(err).toString()))));
  });
}

t.test('no personal value of the corpus is in a dump of the public database', async (t) => {
  const { edx, priv } = throwawayDatabases(t, 'edx_pii');
  const r = await runTool('edx-json2sql', ['--quiet', '--edx-db', edx, '--private-db', priv], { input: corpus.join('\n') + '\n' });
  t.equal(r.code, 0, r.stderr);
  t.equal(await loadSqlScript(r.stdout), 0, 'loads without warnings');
  const c = await testConnection();
  const [counted] = await c.query(`SELECT COUNT(*) AS n FROM ${edx}.EdxTrackEvent`);
  t.equal(Number((counted as { n: number }[])[0].n), corpus.length, 'every line is a row');
  const [cols] = await c.query(`SELECT event_type, student_id, instructor_id, group_user FROM ${edx}.EdxTrackEvent ORDER BY event_type`);
  const byType = new Map((cols as Record<string, string>[]).map((r) => [r.event_type, r]));
  t.same(byType.get('reset-student-attempts'), { event_type: 'reset-student-attempts', student_id: ripemd(P.student), instructor_id: ripemd(P.instructor), group_user: '' },
    'student_id and instructor_id hold the hash anon_screen_name has for them');
  t.equal(byType.get('get-student-progress-page')?.student_id, ripemd(P.studentMail), 'an e-mail: its hash');
  t.equal(byType.get('add-or-remove-user-group')?.group_user, ripemd(P.group), 'group_user: the hash');
  t.ok(byType.has('/api/user/v1/accounts/personal/image'), 'a path keeps its shape, the username replaced by a marker');
  const [ips] = await c.query(`SELECT COUNT(*) AS n FROM ${priv}.EventIp WHERE event_ip IN (?)`, [[P.lineIp, P.logIp]]);
  t.ok(Number((ips as { n: number }[])[0].n) >= 1, 'the private tables still have the IPs');
  await c.end();

  const text = await dump(edx);
  t.match(text, /INSERT INTO `EdxTrackEvent`/, 'the dump has the rows');
  const leaked = Object.entries(P).filter(([, v]) => text.includes(v) || text.includes(encodeURIComponent(v)));
  t.same(leaked, [], 'no personal value in the public database');
  t.notMatch(text, /pii-example\.org|piipersoN/i, 'not even a part of one');
});

t.test('one list of personal keys, and the scrubbers by structure', async (t) => {
  for (const k of ['student', 'instructor_id', 'unique_student_identifier', 'identifiers', 'new_password1', 'email_address', 'user_name', 'remote_addr', 'username', 'email', 'ip']) {
    t.ok(PERSONAL_KEYS.includes(k) && isPersonalKey(k), k);
  }
  t.ok(isPersonalKey('_remote_ip') && isPersonalKey('Email'), 'GELF fields and any case');
  t.ok(isPersonalKey('old', 'edx.user.settings.changed') && !isPersonalKey('old', 'seq_goto'), 'old/new only where they are a setting\'s values');
  t.equal(withoutPersonalValues('email=a@b.org&password=x&next=/dashboard'), 'email=personal&password=personal&next=/dashboard', 'the first field of a form');
  t.equal(withoutPersonalValues(`INFO user=ann ip=1.2.3.4 - {"x": 1}`), 'INFO user=personal ip=personal - {"x": 1}', 'a logger prefix');
  t.equal(withoutPersonalValues(`{'username': u'ann', 'n': [u'a', 'b'], 'email': 'a@b.org'}`), `{'username': u'personal', 'n': [u'a', 'b'], 'email': 'personal'}`, 'a Python repr');
  t.equal(withoutPersonalValues('{"e": "{\\u0022user\\u0022: \\u0022ann\\u0022}"}'), '{"e": "{\\"user\\": \\"personal\\"}"}', '\\u0022 quotes');
  t.equal(withoutPersonalValues('{"_remote_ip": "1.2.3.4"}'), '{"_remote_ip": "personal"}', 'GELF');
  t.equal(withoutPersonalValues('{"a": "{\\"b\\": \\"{\\\\\\"email\\\\\\": \\\\\\"x@y.org\\\\\\"}\\"}"}'), '{"a": "{\\"b\\": \\"{\\\\\\"email\\\\\\": \\\\\\"personal\\\\\\"}\\"}"}', 'two escape levels down');
  t.equal(withoutPersonalValues('{"username": "ann_k", "page": "https://x/courses/ann_k/y"}'), '{"username": "personal", "page": "https://x/courses/personal/y"}', 'the line\'s username elsewhere in it');
  t.equal(withoutPersonalInUrl('/courses/A/B/C/courseware/week_1/'), '/courses/A/B/C/courseware/week_1/', 'an ordinary path unchanged');
  t.equal(withoutPersonalInUrl('https://x/u/ann?next=/a'), 'https://x/u/personal?next=/a');
  t.equal(withoutPersonalInUrl('/x?unique_student_identifier=ann&y=1'), '/x?unique_student_identifier=personal&y=1');
  t.equal(withoutPersonalInUrl('/x/ann%40b.org/'), '/x/personal/', 'an encoded e-mail');
});
