// Stored functions, procedures and views created by `edx-csvload --init` (operations.md §6), those
// that still make sense for a warehouse of Edx + EdxPrivate, with the bugs of operations.md §13
// item 9 fixed:
//   - no function keeps state in session variables (the original returned the previous call's
//     answer when no row matched); every lookup is a scalar subquery that yields NULL when nothing
//     matches, and the forum key is read from EdxPrivate.Keys on each call;
//   - latestLog/earliestLog report the load time of the log they name (the original paired the
//     newest log date with an arbitrary row's load time);
//   - wordcount counts every word, the first included;
//   - the quarter helpers use the one quarter convention of the warehouse (schema/quarters.ts:
//     Sep–Dec fall, Jan–Feb winter, Mar–May spring, Jun–Aug summer; academic year AY runs from
//     fall AY to summer AY+1), so dateInQuarter agrees with the quarter column; February ends on
//     its real last day;
//   - no GRANT to the account '%'@'%' (§13 item 26): grant EXECUTE to your analysts' accounts;
//   - the forum-id functions exist only in EdxPrivate, beside the key.
// Left out because they need tables this project does not create (edxprod, UserGrade, CourseInfo,
// EdxProblem, MOOCdb databases): the id-mapping functions over UserGrade/LTI, enrollment,
// isSharable, wasCertified, videoNextProblem, the Coursera/NovoEd helpers and the views over
// grades and demographics; and allHomeworkSubmissionsToFile (server-side files, §13 item 32).
//
// `{{Edx}}` and `{{EdxPrivate}}` stand for the real database names (--edx-db/--private-db).
import type { Database, DatabaseNames } from '../schema/tables.js';
import { isTrueCourseNameSql } from '../schema/test-courses.js';

export interface Routine {
  database: Database;
  kind: 'FUNCTION' | 'PROCEDURE' | 'VIEW';
  name: string;
  /** Everything after `CREATE FUNCTION name` (for views: after `CREATE VIEW name AS`). */
  definition: string;
}

const USER_EVENTS = [
  'book', 'fullscreen', 'hide_transcript', 'load_video', 'not_fullscreen', 'oe_feedback_response_selected',
  'oe_hide_question', 'oe_show_question', 'oe_show_full_feedback', 'oe_show_respond_to_feedback',
  'openassessmentblock.get_peer_submission', 'openassessmentblock.peer_assess', 'openassessmentblock.self_assess',
  'openassessmentblock.submit_feedback_on_assessments', 'openassessment.student_training_assess_example',
  'openassessment.create_submission', 'openassessment.save_submission', 'openassessment.upload_file',
  'page_close', 'pause_video', 'peer_grading_hide_question', 'peer_grading_show_question', 'play_video',
  'problem_check', 'problem_graded', 'problem_fail', 'problem_reset', 'problem_save', 'problem_show',
  'rubric_select', 'seek_video', 'seq_goto', 'seq_next', 'seq_prev', 'show_transcript', 'speed_change_video',
  'staff_grading_hide_question', 'staff_grading_show_question',
];

const ENGAGEMENT_EVENTS = [
  'load_video', 'oe_feedback_response_selected', 'openassessmentblock.get_peer_submission',
  'openassessmentblock.peer_assess', 'openassessmentblock.self_assess',
  'openassessmentblock.submit_feedback_on_assessments', 'openassessment.student_training_assess_example',
  'openassessment.create_submission', 'openassessment.save_submission', 'openassessment.upload_file',
  'pause_video', 'peer_grading_hide_question', 'peer_grading_show_question', 'play_video', 'problem_check',
  'problem_graded', 'problem_save', 'seek_video', 'speed_change_video', 'staff_grading_hide_question',
  'staff_grading_show_question',
];

const list = (xs: string[]) => xs.map((x) => `'${x}'`).join(', ');

/** The season of a DATETIME as the quarter column names it (schema/quarters.ts). */
const SEASON = (d: string) =>
  `CASE WHEN MONTH(${d}) IN (1, 2) THEN 'winter' WHEN MONTH(${d}) IN (3, 4, 5) THEN 'spring' ` +
  `WHEN MONTH(${d}) IN (6, 7, 8) THEN 'summer' ELSE 'fall' END`;

const LOG_DATE = "SUBSTRING(load_file, LOCATE('log-', load_file) + 4, 8)";

/** latestLog / earliestLog: the newest or oldest log by its date, with the load time of that same row. */
function logEdge(name: string, order: 'ASC' | 'DESC'): Routine {
  return {
    database: 'Edx',
    kind: 'FUNCTION',
    name,
    definition: `() RETURNS VARCHAR(255) READS SQL DATA
      RETURN (SELECT CONCAT('Loaded: ', load_date_time, '; collected: ', ${LOG_DATE}) FROM {{Edx}}.LoadInfo
              WHERE LOCATE('log-', load_file) > 0 ORDER BY ${LOG_DATE} ${order}, load_date_time ${order} LIMIT 1)`,
  };
}

export const ROUTINES: readonly Routine[] = [
  // --- load bookkeeping (§6.2) ---
  logEdge('latestLog', 'DESC'),
  logEdge('earliestLog', 'ASC'),
  // --- event and content helpers (§6.5) ---
  {
    database: 'Edx',
    kind: 'FUNCTION',
    name: 'isUserEvent',
    definition: `(event_type TEXT) RETURNS BOOL DETERMINISTIC NO SQL
      RETURN COALESCE(event_type IN (${list(USER_EVENTS)}), 0)`,
  },
  {
    database: 'Edx',
    kind: 'FUNCTION',
    name: 'isEngagementEvent',
    definition: `(event_type TEXT) RETURNS BOOL DETERMINISTIC NO SQL
      RETURN COALESCE(event_type IN (${list(ENGAGEMENT_EVENTS)}), 0)`,
  },
  {
    database: 'Edx',
    kind: 'FUNCTION',
    name: 'wordcount',
    // Words are runs of letters and digits; every run counts, the first one too.
    definition: `(str TEXT) RETURNS INT DETERMINISTIC NO SQL
      BEGIN
        DECLARE words TEXT DEFAULT TRIM(REGEXP_REPLACE(COALESCE(str, ''), '[^[:alnum:]]+', ' '));
        IF CHAR_LENGTH(words) = 0 THEN RETURN 0; END IF;
        RETURN CHAR_LENGTH(words) - CHAR_LENGTH(REPLACE(words, ' ', '')) + 1;
      END`,
  },
  {
    database: 'Edx',
    kind: 'PROCEDURE',
    name: 'allHomeworkSubmissions',
    // course: a course_display_name, or a LIKE pattern.
    definition: `(IN course VARCHAR(255)) READS SQL DATA
      SELECT DISTINCT e.course_display_name, e.time, e.anon_screen_name, a.problem_id, a.answer
        FROM {{Edx}}.EdxTrackEvent e JOIN {{Edx}}.Answer a ON a.answer_id = e.answer_fk
       WHERE e.course_display_name LIKE course AND e.event_type LIKE '%problem_check%' AND e.answer_fk <> ''
       ORDER BY e.time, e.anon_screen_name, a.problem_id`,
  },
  // --- course-name helpers (§6.4) ---
  {
    database: 'Edx',
    kind: 'FUNCTION',
    name: 'isTrueCourseName',
    definition: `(course_name VARCHAR(255)) RETURNS BOOL DETERMINISTIC NO SQL
      RETURN ${isTrueCourseNameSql('course_name')}`,
  },
  {
    database: 'Edx',
    kind: 'FUNCTION',
    name: 'isEngineering',
    definition: `(course_name VARCHAR(255)) RETURNS BOOL DETERMINISTIC NO SQL
      RETURN COALESCE(LOWER(course_name) LIKE '%computer%' OR LOWER(course_name) LIKE '%engineering%'
                      OR LOWER(course_name) LIKE 'db%' OR LOWER(course_name) LIKE '%database%', 0)`,
  },
  // --- quarters (§6.6), in the warehouse's convention ---
  {
    database: 'Edx',
    kind: 'FUNCTION',
    name: 'quarterOf',
    // The quarter column's value for a time: 'fall2013'; '' for NULL (the column's empty value).
    definition: `(t DATETIME(6)) RETURNS VARCHAR(10) DETERMINISTIC NO SQL
      RETURN IF(t IS NULL, '', CONCAT(${SEASON('t')}, YEAR(t)))`,
  },
  {
    database: 'Edx',
    kind: 'FUNCTION',
    name: 'dateInQuarter',
    // ay: academic year ('2013' = fall 2013 … summer 2014), or '%' for any year.
    definition: `(t DATETIME(6), quarter VARCHAR(6), ay VARCHAR(4)) RETURNS BOOL DETERMINISTIC NO SQL
      RETURN COALESCE(${SEASON('t')} = LOWER(quarter)
        AND (ay = '%' OR IF(MONTH(t) >= 9, YEAR(t), YEAR(t) - 1) = CAST(ay AS SIGNED)), 0)`,
  },
  {
    database: 'Edx',
    kind: 'FUNCTION',
    name: 'makeLowQuarterDate',
    definition: `(quarter VARCHAR(6), ay INT) RETURNS DATE DETERMINISTIC NO SQL
      RETURN CASE LOWER(quarter)
        WHEN 'fall' THEN MAKEDATE(ay, 1) + INTERVAL 8 MONTH
        WHEN 'winter' THEN MAKEDATE(ay + 1, 1)
        WHEN 'spring' THEN MAKEDATE(ay + 1, 1) + INTERVAL 2 MONTH
        WHEN 'summer' THEN MAKEDATE(ay + 1, 1) + INTERVAL 5 MONTH
        ELSE NULL END`,
  },
  {
    database: 'Edx',
    kind: 'FUNCTION',
    name: 'makeUpperQuarterDate',
    definition: `(quarter VARCHAR(6), ay INT) RETURNS DATE DETERMINISTIC NO SQL
      RETURN CASE LOWER(quarter)
        WHEN 'fall' THEN MAKEDATE(ay, 1) + INTERVAL 11 MONTH + INTERVAL 30 DAY
        WHEN 'winter' THEN LAST_DAY(MAKEDATE(ay + 1, 1) + INTERVAL 1 MONTH)
        WHEN 'spring' THEN MAKEDATE(ay + 1, 1) + INTERVAL 4 MONTH + INTERVAL 30 DAY
        WHEN 'summer' THEN MAKEDATE(ay + 1, 1) + INTERVAL 7 MONTH + INTERVAL 30 DAY
        ELSE NULL END`,
  },
  // --- views (§6.7) over the tables this project loads ---
  {
    database: 'Edx',
    kind: 'VIEW',
    name: 'EventXtract',
    definition: `SELECT anon_screen_name, event_type, ip_country, time, quarter, course_display_name,
      resource_display_name, success, video_code, video_current_time, video_speed, video_old_time, video_new_time,
      video_seek_type, video_new_speed, video_old_speed, goto_from, goto_dest FROM {{Edx}}.EdxTrackEvent`,
  },
  {
    database: 'Edx',
    kind: 'VIEW',
    name: 'VideoInteraction',
    definition: `SELECT event_type, resource_display_name, video_current_time, video_speed, video_new_speed,
      video_old_speed, video_new_time, video_old_time, video_seek_type, video_code, time, course_display_name,
      quarter, anon_screen_name, video_id FROM {{Edx}}.EdxTrackEvent
      WHERE video_current_time <> '' OR video_speed <> '' OR video_new_speed <> '' OR video_old_speed <> ''
         OR video_new_time <> '' OR video_old_time <> '' OR video_seek_type <> '' OR video_code <> ''`,
  },
  // --- forum ids (§6.3, §7), only beside the key in EdxPrivate ---
  {
    database: 'EdxPrivate',
    kind: 'FUNCTION',
    name: 'idInt2Forum',
    definition: `(user_int_id INT) RETURNS VARCHAR(255) READS SQL DATA
      RETURN (SELECT HEX(AES_ENCRYPT(CAST(user_int_id AS CHAR), forumKey)) FROM {{EdxPrivate}}.\`Keys\`
              WHERE user_int_id IS NOT NULL AND forumKey <> '' LIMIT 1)`,
  },
  {
    database: 'EdxPrivate',
    kind: 'FUNCTION',
    name: 'idForum2Int',
    definition: `(forum_uid VARCHAR(255)) RETURNS VARCHAR(40) READS SQL DATA
      RETURN (SELECT CAST(AES_DECRYPT(UNHEX(forum_uid), forumKey) AS CHAR) FROM {{EdxPrivate}}.\`Keys\`
              WHERE forum_uid IS NOT NULL AND forumKey <> '' LIMIT 1)`,
  },
];

/** EdxPrivate.Keys: the forum key (SHA2-224 hex of the passphrase), one row. */
export const keysTable = (names: DatabaseNames) =>
  `CREATE TABLE IF NOT EXISTS \`${names.EdxPrivate}\`.\`Keys\` (forumKey VARCHAR(255) NOT NULL DEFAULT '') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

const fill = (sql: string, names: DatabaseNames) =>
  sql.replace(/\{\{(Edx|EdxPrivate)\}\}/g, (_, d: Database) => `\`${names[d]}\``);

/** The statements that (re)create one routine: drop if it exists, then create. */
export function routineStatements(r: Routine, names: DatabaseNames): string[] {
  const q = `\`${names[r.database]}\`.\`${r.name}\``;
  if (r.kind === 'VIEW') return [`CREATE OR REPLACE VIEW ${q} AS ${fill(r.definition, names)}`];
  return [`DROP ${r.kind} IF EXISTS ${q}`, `CREATE ${r.kind} ${q}${fill(r.definition, names)}`];
}
