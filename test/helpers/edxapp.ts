// A small edxapp platform database of our own, for the refresh jobs: the tables edx-refresh
// copies, with DDL close to edx-platform's (Django's key and constraint names, foreign keys,
// DATETIME(6), utf8 and utf8mb4 tables side by side), and, in courseware_studentmodule, an ENUM
// and a three-column unique key, which the original's awk rewrite of the CREATE TABLE broke
// (docs/original.md#bug-15). Made in a throwaway database of the test server and dumped with
// the real mariadb-dump. The data is made by rules stated here, and every row carries what the
// jobs should make of it, so the tests can say the exact rows they expect.
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import type { Connection } from 'mysql2/promise';
import { testConnection, testServer, uniqueName } from './mariadb.js';
import { runTool, toolEnv } from './tools.js';

export const MARIADB_DUMP = ['/usr/bin/mariadb-dump', '/usr/bin/mysqldump'].find(existsSync);

/** Courses: three real ones (one with a new-style id), two that isTrueCourseName calls test courses. */
export const COURSES = {
  stats: 'Medicine/HRP258/Statistics_in_Medicine',
  cs: 'Engineering/CS101/Fall2014',
  v1: 'course-v1:StanfordOnline+SOE.YCS0001+1T2020',
  sandbox: 'Sandbox/Sandbox/Sandbox',
  demo: 'Engineering/Demo/2014',
} as const;
export const TEST_COURSES: readonly string[] = [COURSES.sandbox, COURSES.demo];

const hex = (s: string, n = 32) => createHash('sha256').update(s).digest('hex').slice(0, n);

export interface User { id: number; username: string; name: string; profile: boolean; nonregistered: boolean }
export interface Enrollment { user: number; course: string; active: boolean; created: string }
export interface Certificate { user: number; course: string; grade: string; status: string; distinction: number; name: string }
export interface AnonId { id: number; user: number; course: string; anon: string }
export interface Module {
  id: number;
  user: number;
  course: string;
  type: string;
  moduleId: string;
  /** The module's hash when the modulestore export knows its display name. */
  display?: string;
  state: string;
  grade: number | null;
  maxGrade: number | null;
  created: string;
  modified: string;
  /** What ActivityGrade should hold for the state. */
  parts: string;
  answers: string;
  attempts: number;
}

export interface EdxappData {
  users: User[];
  enrollments: Enrollment[];
  certificates: Certificate[];
  anonIds: AnonId[];
  modules: Module[];
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
/** A DATETIME(6) literal: day `d` of 2014 (from Jan 1), at a time made of `n`. */
const at = (d: number, n: number) => {
  const t = new Date(Date.UTC(2014, 0, 1 + d, n % 24, (n * 7) % 60, (n * 13) % 60, 0));
  return `${t.toISOString().slice(0, 19).replace('T', ' ')}.${pad((n * 104729) % 1000000, 6)}`;
};

/** The problem modules' hashes and their display names in the modulestore export. */
export const DISPLAY_NAMES = new Map<string, string>();

function moduleIdOf(course: string, type: string, hash: string): string {
  if (course.startsWith('course-v1:')) return `block-v1:${course.slice(10)}+type@${type}+block@${hash}`;
  const [org, num] = course.split('/');
  return `i4x://${org}/${num}/${type}/${hash}`;
}

/** The data, by rules: 40 learners (ids 1-38, 40 and 45), enrolled, certified and graded in patterns. */
export function makeData(): EdxappData {
  const users: User[] = [];
  for (const id of [...Array.from({ length: 38 }, (_, i) => i + 1), 40, 45]) {
    const username = id === 12 ? 'Zoë_Ünïcode' : id === 40 ? 'anon__d1r3ct4cc355' : `learner${pad(id)}`;
    const name = id === 12 ? 'Zoë Ünïcode' : `Learner ${id} Example`;
    users.push({ id, username, name, profile: id !== 7, nonregistered: id === 5 || id === 6 });
  }
  const enrollments: Enrollment[] = [];
  for (const u of users) {
    const i = u.id;
    const enrol = (course: string, active: boolean, day: number) => enrollments.push({ user: i, course, active, created: at(day, i) });
    enrol(COURSES.stats, i % 4 !== 0, 10 + (i % 20));
    if (i % 2 === 0) enrol(COURSES.cs, i % 6 !== 0, 40 + i);
    if (i % 3 === 0) enrol(COURSES.v1, true, 200 + i);
    if (i % 5 === 0) enrol(COURSES.sandbox, true, 50);
    if (i % 7 === 0) enrol(COURSES.demo, i % 2 === 0, 60);
  }
  const certificates: Certificate[] = [];
  for (const u of users) {
    const i = u.id;
    if (i % 3 !== 1) {
      certificates.push({
        user: i, course: COURSES.stats, name: u.name, distinction: i === 6 ? 1 : 0,
        status: i === 12 ? 'generating' : i % 2 === 0 ? 'downloadable' : 'notpassing',
        grade: i === 12 ? '' : i === 33 ? 'Pass' : (i / 40).toFixed(2),
      });
    }
    if (i % 4 === 2) certificates.push({ user: i, course: COURSES.cs, name: u.name, distinction: 0, status: 'downloadable', grade: '0.9' });
    if (i === 30) certificates.push({ user: i, course: COURSES.v1, name: u.name, distinction: 1, status: 'downloadable', grade: '1.0' });
  }
  // An anonymous (LTI) id per enrollment; the global one (course '') for everyone but learner 9;
  // learner 3 got a second id for one course (the platform's secret was rotated).
  const anonIds: AnonId[] = [];
  let nextAnon = 1;
  const anon = (user: number, course: string, salt = '') => anonIds.push({ id: nextAnon++, user, course, anon: hex(`anon ${user} ${course}${salt}`) });
  for (const u of users) if (u.id !== 9) anon(u.id, '');
  for (const e of enrollments) anon(e.user, e.course);
  anon(3, COURSES.stats, ' rotated');

  const modules: Module[] = [];
  let nextId = 1000;
  for (const e of enrollments) {
    const i = e.user;
    const big = e.course === COURSES.v1; // ids beyond INT, as a big platform's are
    const id = () => (big ? 3_000_000_000 + nextId++ : nextId++);
    const seq = hex(`seq ${e.course}`);
    modules.push({
      id: id(), user: i, course: e.course, type: 'sequential', moduleId: moduleIdOf(e.course, 'sequential', seq),
      state: '{"position": 2}', grade: null, maxGrade: null, created: at(70, i), modified: at(71, i), parts: '', answers: '', attempts: -1,
    });
    for (let k = 0; k < 3; k++) {
      const hash = hex(`problem ${e.course} ${k}`);
      const display = k === 2 ? `Übung ${k}` : `Problem ${k} of ${e.course.split(/[/+]/)[1]}`;
      if (e.course !== COURSES.v1) DISPLAY_NAMES.set(hash, display);
      // k 0: never modified; k 1: a fractional grade (0.5 of 1), modified later; k 2: 0-2 of 2.
      const grade = k === 1 ? 0.5 : k === 0 ? (i % 3) : (i + k) % 3;
      const maxGrade = k === 1 ? 1 : 2;
      const parts = k === 0 ? '+-' : k === 1 ? '+' : '-+-';
      const answerList = parts.split('').map((_, n) => (n === 1 && k === 2 ? ['choice_0', 'choice_2'] : `answer ${i}.${k}.${n}`));
      const correctMap = Object.fromEntries(parts.split('').map((p, n) => [`${hash}_${n + 2}_1`, { correctness: p === '+' ? 'correct' : 'incorrect', npoints: null, msg: '', hint: '', hintmode: null, queuestate: null }]));
      const studentAnswers = Object.fromEntries(answerList.map((a, n) => [`${hash}_${n + 2}_1`, a]));
      const state = JSON.stringify({ correct_map: correctMap, input_state: {}, attempts: k + 1, seed: 1, done: true, student_answers: studentAnswers });
      const created = at(80 + k, i);
      modules.push({
        id: id(), user: i, course: e.course, type: 'problem', moduleId: moduleIdOf(e.course, 'problem', hash),
        display: e.course !== COURSES.v1 ? (k === 2 ? `Ubung ${k}` : display) : undefined,
        state, grade, maxGrade, created, modified: k === 0 ? created : at(90 + k, i),
        parts, answers: answerList.map((a) => (Array.isArray(a) ? a.join(',') : a)).join(','), attempts: k + 1,
      });
    }
  }
  // Odd rows, each once: a problem worth nothing (percent_grade NULL), a problem viewed but never
  // checked (no correct_map), one with 60 parts and long answers (cut to the columns), a state that
  // is not JSON, and an ungraded problem with a correct_map (not a grade: left out).
  const odd = (user: number, what: string, state: string, grade: number | null, maxGrade: number | null, parts: string, answers: string, attempts: number) => {
    const hash = hex(`odd ${what}`);
    modules.push({
      id: nextId++, user, course: COURSES.stats, type: 'problem', moduleId: moduleIdOf(COURSES.stats, 'problem', hash),
      state, grade, maxGrade, created: at(100, user), modified: at(101, user), parts, answers, attempts,
    });
  };
  odd(2, 'zero', JSON.stringify({ correct_map: { a: { correctness: 'correct' } }, attempts: 1, student_answers: { a: 'x' } }), 0, 0, '+', 'x', 1);
  odd(2, 'unchecked', JSON.stringify({ seed: 1, attempts: 0 }), 0, 1, '', '', -1);
  const many = Object.fromEntries(Array.from({ length: 60 }, (_, n) => [`p${pad(n)}`, { correctness: n % 2 ? 'incorrect' : 'correct' }]));
  const long = Object.fromEntries(Array.from({ length: 60 }, (_, n) => [`p${pad(n)}`, `long answer ${n}`]));
  odd(4, 'many', JSON.stringify({ correct_map: many, attempts: 7, student_answers: long }), 30, 60,
    Object.values(many).map((c) => (c.correctness === 'correct' ? '+' : '-')).join('').slice(0, 50),
    Object.values(long).join(',').slice(0, 255), 7);
  odd(8, 'broken', '{"correct_map": {"a": ', 1, 1, '', '', -1);
  odd(10, 'ungraded', JSON.stringify({ correct_map: { a: { correctness: 'correct' } }, attempts: 1 }), null, null, '', '', -1);
  return { users, enrollments, certificates, anonIds, modules };
}

const DDL = [
  `CREATE TABLE auth_user (
    id int(11) NOT NULL AUTO_INCREMENT, password varchar(128) NOT NULL, last_login datetime(6) DEFAULT NULL,
    is_superuser tinyint(1) NOT NULL, username varchar(150) NOT NULL, first_name varchar(150) NOT NULL,
    last_name varchar(150) NOT NULL, email varchar(254) NOT NULL, is_staff tinyint(1) NOT NULL,
    is_active tinyint(1) NOT NULL, date_joined datetime(6) NOT NULL,
    PRIMARY KEY (id), UNIQUE KEY username (username), UNIQUE KEY email (email)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3`,
  `CREATE TABLE auth_userprofile (
    id int(11) NOT NULL AUTO_INCREMENT, name varchar(255) NOT NULL, meta longtext NOT NULL, courseware varchar(255) NOT NULL,
    language varchar(255) NOT NULL, location varchar(255) NOT NULL, year_of_birth int(11) DEFAULT NULL,
    gender enum('m','f','o') DEFAULT NULL, level_of_education varchar(6) DEFAULT NULL, mailing_address longtext,
    city longtext, country varchar(2) DEFAULT NULL, goals longtext, allow_certificate tinyint(1) NOT NULL,
    nonregistered tinyint(1) NOT NULL DEFAULT 0, bio varchar(3000) DEFAULT NULL, user_id int(11) NOT NULL,
    PRIMARY KEY (id), UNIQUE KEY user_id (user_id), KEY auth_userprofile_name_50909f10 (name),
    KEY auth_userprofile_gender_44a122fb (gender), KEY auth_userprofile_year_of_birth_6559b9a5 (year_of_birth),
    CONSTRAINT auth_userprofile_user_id_62634b27_fk_auth_user_id FOREIGN KEY (user_id) REFERENCES auth_user (id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3`,
  `CREATE TABLE course_overviews_courseoverview (
    id varchar(255) NOT NULL, display_name longtext, lowest_passing_grade decimal(5,2) DEFAULT NULL,
    start datetime(6) DEFAULT NULL, PRIMARY KEY (id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3`,
  `CREATE TABLE certificates_generatedcertificate (
    id int(11) NOT NULL AUTO_INCREMENT, course_id varchar(255) NOT NULL, verify_uuid varchar(32) NOT NULL,
    download_uuid varchar(32) NOT NULL, download_url varchar(128) NOT NULL, grade varchar(5) NOT NULL,
    \`key\` varchar(32) NOT NULL, distinction tinyint(1) NOT NULL, status varchar(32) NOT NULL, mode varchar(32) NOT NULL,
    name varchar(255) NOT NULL, created_date datetime(6) NOT NULL, modified_date datetime(6) NOT NULL,
    error_reason varchar(512) NOT NULL, user_id int(11) NOT NULL,
    PRIMARY KEY (id), UNIQUE KEY certificates_generatedcertifica_user_id_course_id_48ae4e4c_uniq (user_id,course_id),
    KEY certificates_generatedcertificate_verify_uuid_97405316 (verify_uuid),
    CONSTRAINT certificates_generatedc_user_id_54119d22_fk_auth_user_id FOREIGN KEY (user_id) REFERENCES auth_user (id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3`,
  `CREATE TABLE courseware_studentmodule (
    id bigint(20) NOT NULL AUTO_INCREMENT, module_type varchar(32) NOT NULL, module_id varchar(255) NOT NULL,
    student_id int(11) NOT NULL, state longtext, grade double DEFAULT NULL, created datetime(6) NOT NULL,
    modified datetime(6) NOT NULL, max_grade double DEFAULT NULL, done enum('na','i','f') NOT NULL DEFAULT 'na',
    course_id varchar(255) NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY courseware_studentmodule_student_id_module_id_6b4e3d7b_uniq (student_id,module_id,course_id),
    KEY courseware_studentmodule_module_type_f4bc4a1a (module_type), KEY courseware_studentmodule_modified_f7e1a3d1 (modified),
    KEY courseware_studentmodule_course_id_module_id_21f41d0a (course_id,module_id),
    CONSTRAINT courseware_studentmodule_student_id_7b6c7f4b_fk_auth_user_id FOREIGN KEY (student_id) REFERENCES auth_user (id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3`,
  `CREATE TABLE external_auth_externalauthmap (
    id int(11) NOT NULL AUTO_INCREMENT, external_id varchar(255) NOT NULL, external_domain varchar(255) NOT NULL,
    external_credentials longtext NOT NULL, external_email varchar(255) NOT NULL, external_name varchar(255) NOT NULL,
    internal_password varchar(31) NOT NULL, dtcreated datetime(6) NOT NULL, dtsignup datetime(6) DEFAULT NULL,
    user_id int(11) DEFAULT NULL, PRIMARY KEY (id),
    UNIQUE KEY external_auth_externalau_external_id_external_d2a5a8b0_uniq (external_id,external_domain),
    UNIQUE KEY user_id (user_id),
    CONSTRAINT external_auth_externalauthmap_user_id_644e7779_fk_auth_user_id FOREIGN KEY (user_id) REFERENCES auth_user (id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3`,
  // utf8mb4 with its general collation, beside the derived tables' unicode one: the jobs must never compare their text.
  `CREATE TABLE student_anonymoususerid (
    id int(11) NOT NULL AUTO_INCREMENT, anonymous_user_id varchar(32) NOT NULL, course_id varchar(255) NOT NULL,
    user_id int(11) NOT NULL, PRIMARY KEY (id), UNIQUE KEY anonymous_user_id (anonymous_user_id),
    KEY student_anonymoususerid_course_id_99cc6a18 (course_id),
    CONSTRAINT student_anonymoususerid_user_id_0fb2ad5c_fk_auth_user_id FOREIGN KEY (user_id) REFERENCES auth_user (id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`,
  `CREATE TABLE student_courseenrollment (
    id int(11) NOT NULL AUTO_INCREMENT, course_id varchar(255) NOT NULL, created datetime(6) DEFAULT NULL,
    is_active tinyint(1) NOT NULL, mode varchar(100) NOT NULL, user_id int(11) NOT NULL, PRIMARY KEY (id),
    UNIQUE KEY student_courseenrollment_user_id_course_id_5d34a47f_uniq (user_id,course_id),
    KEY student_courseenrollment_course_id_a6f93be8 (course_id), KEY student_courseenrollment_created_79829893 (created),
    CONSTRAINT student_courseenrollment_user_id_4263a8e2_fk_auth_user_id FOREIGN KEY (user_id) REFERENCES auth_user (id),
    CONSTRAINT student_courseenrol_course_id_a6f93be8_fk_course_ov FOREIGN KEY (course_id) REFERENCES course_overviews_courseoverview (id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3`,
  `CREATE TABLE submissions_studentitem (
    id int(11) NOT NULL AUTO_INCREMENT, student_id varchar(255) NOT NULL, course_id varchar(255) NOT NULL,
    item_id varchar(255) NOT NULL, item_type varchar(100) NOT NULL, PRIMARY KEY (id),
    UNIQUE KEY submissions_studentitem_course_id_student_id_ite_4ae2ddd5_uniq (course_id,student_id,item_id),
    KEY submissions_studentitem_student_id_9fd6ad0b (student_id), KEY submissions_studentitem_item_id_6c409784 (item_id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3`,
  `CREATE TABLE submissions_submission (
    id int(11) NOT NULL AUTO_INCREMENT, uuid char(32) NOT NULL, attempt_number int(10) unsigned NOT NULL,
    submitted_at datetime(6) NOT NULL, created_at datetime(6) NOT NULL, raw_answer longtext NOT NULL,
    student_item_id int(11) NOT NULL, status varchar(1) NOT NULL, PRIMARY KEY (id),
    KEY submissions_submission_uuid_210428ab (uuid), KEY submissions_submission_submitted_at_9653124d (submitted_at),
    CONSTRAINT submissions_submissi_student_item_id_9d087470_fk_submissio FOREIGN KEY (student_item_id) REFERENCES submissions_studentitem (id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3`,
  `CREATE TABLE submissions_score (
    id int(11) NOT NULL AUTO_INCREMENT, points_earned int(10) unsigned NOT NULL, points_possible int(10) unsigned NOT NULL,
    created_at datetime(6) NOT NULL, reset tinyint(1) NOT NULL, student_item_id int(11) NOT NULL, submission_id int(11) DEFAULT NULL,
    PRIMARY KEY (id), KEY submissions_score_created_at_b65f0390 (created_at),
    CONSTRAINT submissions_score_student_item_id_de4f5954_fk_submissio FOREIGN KEY (student_item_id) REFERENCES submissions_studentitem (id),
    CONSTRAINT submissions_score_submission_id_ba095829_fk_submissio FOREIGN KEY (submission_id) REFERENCES submissions_submission (id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3`,
  `CREATE TABLE submissions_scoresummary (
    id int(11) NOT NULL AUTO_INCREMENT, highest_id int(11) NOT NULL, latest_id int(11) NOT NULL, student_item_id int(11) NOT NULL,
    PRIMARY KEY (id), UNIQUE KEY student_item_id (student_item_id),
    CONSTRAINT submissions_scoresum_highest_id_7fd91b8f_fk_submissio FOREIGN KEY (highest_id) REFERENCES submissions_score (id),
    CONSTRAINT submissions_scoresum_latest_id_2b352506_fk_submissio FOREIGN KEY (latest_id) REFERENCES submissions_score (id),
    CONSTRAINT submissions_scoresum_student_item_id_7cf2f56b_fk_submissio FOREIGN KEY (student_item_id) REFERENCES submissions_studentitem (id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3`,
  // A table after ours in the dump, as edxapp has hundreds.
  `CREATE TABLE waffle_flag (id int(11) NOT NULL AUTO_INCREMENT, name varchar(100) NOT NULL, everyone tinyint(1) DEFAULT NULL,
    PRIMARY KEY (id), UNIQUE KEY name (name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb3`,
];

/** Rows as one multi-row INSERT (values bound, never spliced). */
async function insert(c: Connection, table: string, cols: string[], rows: unknown[][]): Promise<void> {
  if (!rows.length) return;
  const [res] = await c.query(`INSERT INTO ${table} (${cols.map((x) => '`' + x + '`').join(',')}) VALUES ?`, [rows]);
  const w = (res as { warningStatus?: number }).warningStatus;
  if (w) throw new Error(`fixture ${table}: ${w} warnings`);
}

/** The platform database in `db` (created), filled with `data`. */
export async function createEdxapp(db: string, data: EdxappData): Promise<void> {
  const c = await testConnection();
  try {
    await c.query(`CREATE DATABASE \`${db}\``);
    await c.query(`USE \`${db}\``);
    for (const ddl of DDL) await c.query(ddl);
    await insert(c, 'course_overviews_courseoverview', ['id', 'display_name', 'lowest_passing_grade', 'start'],
      Object.values(COURSES).map((id, n) => [id, `Course ${n}`, '0.50', '2014-01-06 08:00:00']));
    await insert(c, 'auth_user', ['id', 'password', 'last_login', 'is_superuser', 'username', 'first_name', 'last_name', 'email', 'is_staff', 'is_active', 'date_joined'],
      data.users.map((u) => [u.id, `pbkdf2_sha256$36000$${hex(`salt ${u.id}`, 12)}$${hex(`pw ${u.id}`, 43)}`, u.id % 2 ? null : '2014-05-01 10:00:00.5', u.id === 1 ? 1 : 0,
        u.username, u.name.split(' ')[0], u.name.split(' ').slice(1).join(' '), `${u.username.toLowerCase()}@example.org`, u.id === 1 ? 1 : 0, 1, `2013-12-${pad(1 + (u.id % 28))} 09:30:00.000001`]));
    await insert(c, 'auth_userprofile', ['id', 'name', 'meta', 'courseware', 'language', 'location', 'year_of_birth', 'gender', 'level_of_education', 'mailing_address', 'city', 'country', 'goals', 'allow_certificate', 'nonregistered', 'bio', 'user_id'],
      data.users.filter((u) => u.profile).map((u) => [u.id + 100, u.name, '{"session_id": null}', 'course.xml', '', '', u.id % 5 ? 1970 + u.id : null,
        ['m', 'f', 'o', null][u.id % 4], ['p', 'm', 'b', 'hs', ''][u.id % 5], `${u.id} Main St\nApt ${u.id}`, 'Springfield', 'US', 'learn', 1, u.nonregistered ? 1 : 0, null, u.id]));
    await insert(c, 'certificates_generatedcertificate', ['course_id', 'verify_uuid', 'download_uuid', 'download_url', 'grade', 'key', 'distinction', 'status', 'mode', 'name', 'created_date', 'modified_date', 'error_reason', 'user_id'],
      data.certificates.map((x) => [x.course, hex(`v ${x.user} ${x.course}`), hex(`d ${x.user} ${x.course}`), '', x.grade, hex(`k ${x.user}`), x.distinction, x.status, 'honor', x.name, '2014-06-01 00:00:00.25', '2014-06-02 00:00:00.75', '', x.user]));
    await insert(c, 'student_courseenrollment', ['course_id', 'created', 'is_active', 'mode', 'user_id'],
      data.enrollments.map((e) => [e.course, e.created, e.active ? 1 : 0, e.user % 10 === 0 ? 'verified' : 'honor', e.user]));
    await insert(c, 'student_anonymoususerid', ['id', 'anonymous_user_id', 'course_id', 'user_id'],
      data.anonIds.map((a) => [a.id, a.anon, a.course, a.user]));
    await insert(c, 'courseware_studentmodule', ['id', 'module_type', 'module_id', 'student_id', 'state', 'grade', 'created', 'modified', 'max_grade', 'done', 'course_id'],
      data.modules.map((m) => [m.id, m.type, m.moduleId, m.user, m.state, m.grade, m.created, m.modified, m.maxGrade, m.grade === null ? 'na' : 'f', m.course]));
    await insert(c, 'external_auth_externalauthmap', ['external_id', 'external_domain', 'external_credentials', 'external_email', 'external_name', 'internal_password', 'dtcreated', 'dtsignup', 'user_id'],
      [3, 4, 40].map((u) => [`${u}@stanford.edu`, 'shib:https://idp.stanford.edu/', '{}', `${u}@stanford.edu`, `Person ${u}`, hex(`ip ${u}`, 20), '2013-09-01 00:00:00.000000', null, u]));
    await insert(c, 'submissions_studentitem', ['id', 'student_id', 'course_id', 'item_id', 'item_type'],
      [1, 2, 3].map((n) => [n, hex(`anon ${n} ${COURSES.stats}`), COURSES.stats, moduleIdOf(COURSES.stats, 'openassessment', hex(`ora ${n}`)), 'openassessment']));
    await insert(c, 'submissions_submission', ['id', 'uuid', 'attempt_number', 'submitted_at', 'created_at', 'raw_answer', 'student_item_id', 'status'],
      [1, 2, 3].map((n) => [n, hex(`uuid ${n}`), 1, '2014-03-01 10:00:00.1', '2014-03-01 10:00:00.1', JSON.stringify({ parts: [{ text: `Essay ${n}, with "quotes", commas; and\nlines` }] }), n, 'A']));
    await insert(c, 'submissions_score', ['id', 'points_earned', 'points_possible', 'created_at', 'reset', 'student_item_id', 'submission_id'],
      [1, 2, 3].map((n) => [n, n, 3, '2014-03-02 10:00:00.2', 0, n, n]));
    await insert(c, 'submissions_scoresummary', ['highest_id', 'latest_id', 'student_item_id'], [1, 2, 3].map((n) => [n, n, n]));
    await insert(c, 'waffle_flag', ['name', 'everyone'], [['enable_x', 1], ['enable_y', null]]);
  } finally {
    await c.end();
  }
}

/** Dump `db` with the real mariadb-dump to `file` (its default options, plus `extra`). */
export async function dumpEdxapp(db: string, file: string, extra: string[] = []): Promise<void> {
  const s = await testServer();
  const args = ['--no-defaults', '-h', s.host, '-P', String(s.port), '-u', s.user, '--single-transaction', ...extra, db];
  const env = { ...toolEnv(), ...(s.password ? { MYSQL_PWD: s.password } : {}) };
  const r = await runTool(MARIADB_DUMP!, args, { env });
  if (r.code !== 0) throw new Error(`mariadb-dump: ${r.stderr}`);
  writeFileSync(file, r.stdoutBytes);
}

/** The modulestore export (the format edx-json2sql --modulestore reads) naming the problem modules. */
export function modulestoreExport(): string {
  return JSON.stringify([...DISPLAY_NAMES].map(([hash, name]) => ({
    _id: { tag: 'i4x', org: 'Medicine', course: 'HRP258', category: 'problem', name: hash, revision: null },
    metadata: { display_name: name },
  })));
}

export const fixtureName = () => uniqueName('edxapp');
