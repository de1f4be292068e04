// Stored functions, procedures and views created by `edx-csvload --init` (docs/original.md#stored-routines), those
// that still make sense for a warehouse of Edx + EdxPrivate, with the bugs of
// docs/original.md#bug-19 fixed:
//   - no function keeps state in session variables (the original returned the previous call's
//     answer when no row matched); every lookup is a scalar subquery that yields NULL when nothing
//     matches, and the forum key is read from EdxPrivate.Keys on each call;
//   - latestLog/earliestLog report the load time of the log they name (the original paired the
//     newest log date with an arbitrary row's load time);
//   - wordcount counts every word, the first included;
//   - the quarter helpers use the one quarter convention of the warehouse (Sep–Dec fall, Jan–Feb
//     winter, Mar–May spring, Jun–Aug summer; academic year AY runs from fall AY to summer AY+1):
//     their SQL is made from schema/quarters.ts, so dateInQuarter agrees with the quarter column;
//     February ends on its real last day;
//   - no GRANT to the account '%'@'%' (docs/original.md#bug-21): grant EXECUTE to your analysts' accounts;
//   - the forum-id functions exist only in EdxPrivate, beside the key.
//
// The routines over the platform tables of edx-refresh (UserGrade, LearnerIdXlation, the edxprod
// copy and its Lti2Anon/Lti2GlobalLti/true_courseenrollment, CourseInfo) are here too: a function
// compiles before its tables exist, and works once the refresh has built them. Fixed in them:
//   - the id lookups return NULL for an unknown id (the original returned the previous call's
//     answer, docs/original.md#bug-19); idAnon2Ext reads tables that exist (it named a derived table as if it
//     were one of edxprod), and idAnon2ExtByCourse/idAnon2Exts take a learner's user id once
//     (they failed for every learner with more than one UserGrade row, the usual case);
//   - wasCertified looks up the learner's certificate instead of hashing every certificate's
//     owner; isSharable requires is_internal = 0 of every course (the original's AND/OR
//     precedence applied it to fall 2014 only); createExtIdMapByCourse maps the course's own LTI
//     ids (the original paired each certificate of the course with all of the learner's ids);
//   - parameters meet platform columns under an explicit collation: the dump's tables keep the
//     platform's collation (utf8mb3/utf8mb4_general_ci…), and comparing it with ours is an error.
// The identity mappings live in EdxPrivate, beside UserGrade (they relate anon_screen_name to
// platform and LTI ids); the course and certificate questions that answer yes/no or a count, in
// Edx.
// Left out because they need tables this project does not create (EdxProblem, MOOCdb databases):
// videoNextProblem and the Coursera/NovoEd helpers; the views over grades and demographics (a view
// cannot be created before its tables, and --init runs before the first refresh); and
// allHomeworkSubmissionsToFile (server-side files, docs/original.md#bug-8).
//
// `{{Edx}}`, `{{EdxPrivate}}` and `{{edxprod}}` stand for the real database names
// (--edx-db/--private-db/--edxprod-db).
import { databaseName, type Database, type DatabaseNames } from './table.js';
import { Keys } from './tables.js';
import { createTable } from './ddl.js';
import { CHARSET, COLLATION } from './charset.js';
import { FIRST_MONTH_OF_YEAR, SEASONS } from './quarters.js';
import { isTrueCourseNameSql } from './test-courses.js';

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

/**
 * A parameter as text to compare with a column, whatever the collation of the column (the
 * platform's, in edxprod, or ours) and of the routine's database: utf8mb4 under an explicit
 * collation, which wins over the column's.
 */
const asText = (param: string) => `CONVERT(${param} USING ${CHARSET}) COLLATE ${COLLATION}`;

/** A learner's platform user id from anon_screen_name (UserGrade): NULL when unknown. */
const USER_ID_OF = (anon: string) => `{{EdxPrivate}}.idAnon2Int(${anon})`;

/** An identifier for dynamic SQL, from `name` or `db.name` text. */
const identSql = (x: string) => {
  const q = (y: string) => `CONCAT('\`', REPLACE(${y}, '\`', '\`\`'), '\`')`;
  return `IF(LOCATE('.', ${x}) > 0, CONCAT(${q(`SUBSTRING_INDEX(${x}, '.', 1)`)}, '.', ${q(`SUBSTRING(${x}, LOCATE('.', ${x}) + 1)`)}), ${q(x)})`;
};

/** The season of a DATETIME as the quarter column names it; the last season is the ELSE. */
const SEASON = (d: string) => {
  const last = SEASONS[SEASONS.length - 1];
  const cases = SEASONS.slice(0, -1).map(({ season, months }) => `WHEN MONTH(${d}) IN (${months.join(', ')}) THEN '${season}'`);
  return `CASE ${cases.join(' ')} ELSE '${last.season}' END`;
};

/** The academic year of a DATETIME. */
const ACADEMIC_YEAR = (d: string) => `IF(MONTH(${d}) >= ${FIRST_MONTH_OF_YEAR}, YEAR(${d}), YEAR(${d}) - 1)`;

/** The first day of month `month` (1-based) of academic year `ay` (an INT expression), as a DATE. */
const monthStart = (ay: string, month: number) =>
  `MAKEDATE(${month >= FIRST_MONTH_OF_YEAR ? ay : `${ay} + 1`}, 1)${month > 1 ? ` + INTERVAL ${month - 1} MONTH` : ''}`;

/** CASE over a season's name (any case) giving, per season, a date of academic year `ay`; else NULL. */
const perSeason = (quarter: string, ay: string, date: (ay: string, months: readonly number[]) => string) =>
  `CASE LOWER(${quarter})\n` +
  SEASONS.map(({ season, months }) => `        WHEN '${season}' THEN ${date(ay, months)}\n`).join('') +
  '        ELSE NULL END';

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
  // --- load bookkeeping (docs/original.md#stored-routines) ---
  logEdge('latestLog', 'DESC'),
  logEdge('earliestLog', 'ASC'),
  // --- event and content helpers (docs/original.md#stored-routines) ---
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
  // --- course-name helpers (docs/original.md#stored-routines) ---
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
  // --- quarters (docs/original.md#stored-routines), in the warehouse's convention ---
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
        AND (ay = '%' OR ${ACADEMIC_YEAR('t')} = CAST(ay AS SIGNED)), 0)`,
  },
  {
    database: 'Edx',
    kind: 'FUNCTION',
    name: 'makeLowQuarterDate',
    // The first day of the quarter of academic year ay.
    definition: `(quarter VARCHAR(6), ay INT) RETURNS DATE DETERMINISTIC NO SQL
      RETURN ${perSeason('quarter', 'ay', (ay, months) => monthStart(ay, months[0]))}`,
  },
  {
    database: 'Edx',
    kind: 'FUNCTION',
    name: 'makeUpperQuarterDate',
    // The last day of the quarter of academic year ay.
    definition: `(quarter VARCHAR(6), ay INT) RETURNS DATE DETERMINISTIC NO SQL
      RETURN ${perSeason('quarter', 'ay', (ay, months) => `LAST_DAY(${monthStart(ay, months[months.length - 1])})`)}`,
  },
  // --- views (docs/original.md#stored-routines) over the tables this project loads ---
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
  // --- identity mapping (docs/original.md#stored-routines) over UserGrade and the LTI tables, in EdxPrivate ---
  {
    database: 'EdxPrivate',
    kind: 'FUNCTION',
    name: 'idAnon2Int',
    definition: `(anon VARCHAR(40)) RETURNS INT READS SQL DATA
      RETURN (SELECT user_int_id FROM {{EdxPrivate}}.UserGrade WHERE anon_screen_name = ${asText('anon')} LIMIT 1)`,
  },
  {
    database: 'EdxPrivate',
    kind: 'FUNCTION',
    name: 'idInt2Anon',
    // Every UserGrade row of a learner has the same anon_screen_name (the original took MAX()).
    definition: `(intId INT) RETURNS VARCHAR(40) READS SQL DATA
      RETURN (SELECT anon_screen_name FROM {{EdxPrivate}}.UserGrade WHERE user_int_id = intId LIMIT 1)`,
  },
  {
    database: 'EdxPrivate',
    kind: 'FUNCTION',
    name: 'idExt2Anon',
    // An LTI id is 32 characters; anything else is not one (NULL).
    definition: `(lti VARCHAR(100)) RETURNS VARCHAR(40) READS SQL DATA
      RETURN IF(CHAR_LENGTH(lti) = 32, (SELECT anon_screen_name FROM {{edxprod}}.Lti2Anon WHERE lti_id = ${asText('lti')}), NULL)`,
  },
  {
    database: 'EdxPrivate',
    kind: 'FUNCTION',
    name: 'idAnon2Ext',
    // The learner's global LTI id; of two (the platform's secret rotated), the first by text.
    definition: `(anon VARCHAR(40)) RETURNS VARCHAR(32) READS SQL DATA
      RETURN (SELECT g.global_lti_id FROM {{edxprod}}.Lti2Anon a JOIN {{edxprod}}.Lti2GlobalLti g ON g.course_dependent_lti_id = a.lti_id
               WHERE a.anon_screen_name = ${asText('anon')} ORDER BY g.global_lti_id LIMIT 1)`,
  },
  {
    database: 'EdxPrivate',
    kind: 'FUNCTION',
    name: 'idAnon2ExtByCourse',
    // The learner's LTI id in a course; of two (the platform's secret rotated), the newer.
    definition: `(anon VARCHAR(40), course VARCHAR(255)) RETURNS VARCHAR(32) READS SQL DATA
      RETURN (SELECT anonymous_user_id FROM {{edxprod}}.student_anonymoususerid
               WHERE user_id = ${USER_ID_OF('anon')} AND course_id = ${asText('course')} ORDER BY id DESC LIMIT 1)`,
  },
  {
    database: 'EdxPrivate',
    kind: 'PROCEDURE',
    name: 'idAnon2Exts',
    // The learner's per-course LTI ids (not the global one: idAnon2Ext), in the temporary table
    // EdxPrivate.ExtCourseTable, and as the result.
    definition: `(IN anon VARCHAR(40)) MODIFIES SQL DATA
      BEGIN
        DECLARE uid INT DEFAULT ${USER_ID_OF('anon')};
        DROP TEMPORARY TABLE IF EXISTS ExtCourseTable;
        CREATE TEMPORARY TABLE ExtCourseTable (extId VARCHAR(32), course_display_name VARCHAR(255)) ENGINE=MEMORY;
        INSERT INTO ExtCourseTable SELECT anonymous_user_id, course_id FROM {{edxprod}}.student_anonymoususerid
          WHERE user_id = uid AND course_id <> '' ORDER BY course_id, id;
        SELECT extId, course_display_name FROM ExtCourseTable;
      END`,
  },
  {
    database: 'EdxPrivate',
    kind: 'PROCEDURE',
    name: 'createExtIdMapByCourse',
    // A new table (name or db.name; default database EdxPrivate) of anon_screen_name and the LTI
    // id of every learner of the courses whose name is LIKE the pattern.
    definition: `(IN courseLikePattern VARCHAR(255), IN newTable VARCHAR(130)) MODIFIES SQL DATA
      BEGIN
        SET @edx_pipes_ext_map = CONCAT('CREATE TABLE ', ${identSql('newTable')},
          ' AS SELECT DISTINCT u.anon_screen_name, a.anonymous_user_id AS ext_anon_name',
          ' FROM {{edxprod}}.student_anonymoususerid a JOIN {{EdxPrivate}}.UserGrade u ON u.user_int_id = a.user_id',
          ' WHERE a.course_id <> '''' AND a.course_id LIKE ${asText('?')}');
        SET @edx_pipes_ext_pattern = courseLikePattern;
        PREPARE edx_pipes_ext_map FROM @edx_pipes_ext_map;
        EXECUTE edx_pipes_ext_map USING @edx_pipes_ext_pattern;
        DEALLOCATE PREPARE edx_pipes_ext_map;
      END`,
  },
  // --- questions about learners and courses over the platform tables (docs/original.md#stored-routines), in Edx ---
  {
    database: 'Edx',
    kind: 'FUNCTION',
    name: 'isDirectAccessUser',
    // An account made by Lagunita's direct-access feature: 'anon__' in its username. NULL: unknown learner.
    definition: `(anon VARCHAR(40)) RETURNS BOOL READS SQL DATA
      RETURN (SELECT LOCATE('anon__', username) > 0 FROM {{edxprod}}.auth_user WHERE id = ${USER_ID_OF('anon')})`,
  },
  {
    database: 'Edx',
    kind: 'FUNCTION',
    name: 'wasCertified',
    definition: `(anon VARCHAR(40), course VARCHAR(255)) RETURNS BOOL READS SQL DATA
      RETURN EXISTS (SELECT 1 FROM {{edxprod}}.certificates_generatedcertificate
                      WHERE user_id = ${USER_ID_OF('anon')} AND course_id = ${asText('course')} AND status = 'downloadable')`,
  },
  {
    database: 'Edx',
    kind: 'FUNCTION',
    name: 'enrollment',
    // Active enrollments of registered learners; -1 for a test course.
    definition: `(course VARCHAR(255)) RETURNS INT READS SQL DATA
      RETURN IF({{Edx}}.isTrueCourseName(course),
                (SELECT COUNT(*) FROM {{edxprod}}.true_courseenrollment WHERE course_display_name = ${asText('course')}), -1)`,
  },
  {
    database: 'Edx',
    kind: 'FUNCTION',
    name: 'isSharable',
    // A public course from summer 2013 on (AY 2013 summer, AY 2014 fall, any quarter after AY
    // 2014) with more than 500 learners.
    definition: `(course VARCHAR(255)) RETURNS BOOL READS SQL DATA
      RETURN EXISTS (SELECT 1 FROM {{Edx}}.CourseInfo
                      WHERE course_display_name = ${asText('course')} AND is_internal = 0
                        AND (academic_year > 2014 OR (academic_year = 2013 AND quarter = 'summer') OR (academic_year = 2014 AND quarter = 'fall')))
             AND {{Edx}}.enrollment(course) > 500`,
  },
  // --- forum ids (docs/original.md#stored-routines, #anonymous-ids-and-the-forum-key), only beside the key in EdxPrivate ---
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

/** EdxPrivate.Keys (tables.ts), where the forum functions read the key. */
export const keysTable = (names: DatabaseNames) => createTable(Keys, names, { quoted: true, ifNotExists: true });

const fill = (sql: string, names: DatabaseNames) =>
  sql.replace(/\{\{(Edx|EdxPrivate|edxprod)\}\}/g, (_, d: Database) => `\`${databaseName(names, d)}\``);

/** The statements that (re)create one routine: drop if it exists, then create. */
export function routineStatements(r: Routine, names: DatabaseNames): string[] {
  const q = `\`${databaseName(names, r.database)}\`.\`${r.name}\``;
  if (r.kind === 'VIEW') return [`CREATE OR REPLACE VIEW ${q} AS ${fill(r.definition, names)}`];
  return [`DROP ${r.kind} IF EXISTS ${q}`, `CREATE ${r.kind} ${q}${fill(r.definition, names)}`];
}
