// The platform side of the weekly refresh (docs/original.md#job-edxprod, #job-activitygrade, #job-usergrade): the edxapp tables
// copied into edxprod, and the tables derived from them. Columns, order and types are those the
// original created; what we changed is marked `change:`, with why.
//
// Keys: the original had none on these tables (MyISAM, rebuilt by CREATE … SELECT), so nothing
// stopped a duplicate. Each table here has the key its source guarantees, so a duplicate is an
// error instead of a silent extra row (docs/original.md#bug-10, #bug-11). Where a primary key starts with the
// column of one of the original's indexes, that index is left out (the key serves its queries).
import { defineTable } from '../table.js';

/**
 * The edxapp tables the edxprod job copies from a platform dump (docs/original.md#job-edxprod), each as the dump
 * defines it. `required`: a job reads it, so a dump without it fails the copy; the others are
 * copied for analysts' queries only, and a dump without one (a newer platform that dropped the
 * app, e.g. external_auth) leaves last week's copy in place, with a note.
 */
export const PLATFORM_TABLES: readonly { name: string; required: boolean }[] = [
  { name: 'auth_user', required: true },
  { name: 'auth_userprofile', required: true },
  { name: 'certificates_generatedcertificate', required: true },
  { name: 'courseware_studentmodule', required: true },
  { name: 'external_auth_externalauthmap', required: false },
  { name: 'student_anonymoususerid', required: true },
  { name: 'student_courseenrollment', required: true },
  { name: 'submissions_score', required: false },
  { name: 'submissions_scoresummary', required: false },
  { name: 'submissions_studentitem', required: false },
  { name: 'submissions_submission', required: false },
];

/** Active enrollments of registered users (docs/original.md#job-edxprod, #bug-12: the original kept nonregistered users). */
export const TrueCourseEnrollment = defineTable({
  name: 'true_courseenrollment',
  database: 'edxprod',
  columns: [
    'user_id INT',
    'course_display_name VARCHAR(255)',
    'created DATETIME NULL',
    'mode VARCHAR(100)',
  ],
  // change: primary key (unique in student_courseenrollment); it replaces true_courseenrollment_uid
  primaryKey: ['user_id', 'course_display_name'],
  indexes: [
    ['true_courseenrollment_course_id', 'course_display_name'],
    ['true_courseenrollment_created', 'created'],
  ],
});

/** Every LTI id (anonymous_user_id) with the global LTI id of the same learner (course_id ''). */
export const Lti2GlobalLti = defineTable({
  name: 'Lti2GlobalLti',
  database: 'edxprod',
  columns: [
    'course_dependent_lti_id VARCHAR(32)',
    'global_lti_id VARCHAR(32)',
  ],
  // change: primary key (anonymous_user_id is unique); it replaces lti2global_local_lti_idx
  primaryKey: ['course_dependent_lti_id', 'global_lti_id'],
  indexes: [['lti2global_global_id_idx', 'global_lti_id']],
});

/** Every LTI id with its learner's anon_screen_name (NULL: no such learner in auth_user). */
export const Lti2Anon = defineTable({
  name: 'Lti2Anon',
  database: 'edxprod',
  columns: [
    'lti_id VARCHAR(32)',
    'anon_screen_name VARCHAR(40) NULL',
  ],
  // change: primary key lti_id, one row per LTI id (the original had one per UserGrade row of
  // the learner, docs/original.md#bug-11); it replaces ltianon_lti_idx
  primaryKey: ['lti_id'],
  indexes: [['ltianon_anon_idx', 'anon_screen_name']],
});

/**
 * One row per certificate of a learner, or one row with '' and 0 for a learner without any
 * (auth_user ⟕ certificates_generatedcertificate, docs/original.md#job-usergrade). anon_screen_name is the hash the
 * clickstream stores for the username.
 */
export const UserGrade = defineTable({
  name: 'UserGrade',
  database: 'EdxPrivate',
  columns: [
    "name VARCHAR(255) DEFAULT ''",
    "screen_name VARCHAR(255) DEFAULT ''",
    'grade DOUBLE DEFAULT 0',
    "course_id VARCHAR(255) DEFAULT ''",
    'distinction TINYINT DEFAULT 0',
    "status VARCHAR(50) DEFAULT ''",
    'user_int_id INT',
    "anon_screen_name VARCHAR(40) DEFAULT ''",
  ],
  // change: primary key (a learner has one certificate per course); it replaces GradesUIDIdx
  primaryKey: ['user_int_id', 'course_id'],
  indexes: [
    ['UserGradeGradeIdx', 'grade'],
    ['UserGradeCourseIDIdx', 'course_id'],
    ['UserGradeDistinctionIdx', 'distinction'],
    ['UserGradeStatusIdx', 'status'],
    ['UserGradeNameIdx', 'name'],
    // change: the screen_name index the original meant to make (it reused the name
    // UserGradeNameIdx, so it was skipped: docs/original.md#bug-18)
    ['UserGradeScreenNameIdx', 'screen_name'],
    ['GradesAnonIdx', 'anon_screen_name'],
  ],
});

/**
 * Every learner's ids side by side: anon_screen_name, the platform's user id, and each of the
 * learner's LTI ids with its course and the learner's global LTI id (NULLs for a learner
 * without LTI ids). Distinct rows (docs/original.md#job-usergrade).
 */
export const LearnerIdXlation = defineTable({
  name: 'LearnerIdXlation',
  database: 'EdxPrivate',
  columns: [
    'anon_screen_name VARCHAR(40)',
    'user_int_id INT',
    'lti_global_id VARCHAR(32) NULL',
    'lti_course_dependent_id VARCHAR(32) NULL',
    'course_display_name VARCHAR(255) NULL',
  ],
  indexes: [
    ['anonIndx', 'anon_screen_name'],
    ['usrIntIndx', 'user_int_id'],
    ['ltiGlbIndx', 'lti_global_id'],
    ['ltiCrsDpntIndx', 'lti_course_dependent_id'],
    ['crseIndx', 'course_display_name'],
  ],
});

/** One row per graded module of a learner (a courseware_studentmodule row with a grade), docs/original.md#job-activitygrade. */
export const ActivityGrade = defineTable({
  name: 'ActivityGrade',
  database: 'Edx',
  columns: [
    // change: activity_grade_id is the studentmodule row's id, BIGINT NOT NULL and the primary
    // key (was INT NULL, no key): a row modified again replaces its row instead of being appended
    // once more (docs/original.md#bug-10), and edxapp's ids are BIGINT since Django's BigAutoField
    'activity_grade_id BIGINT',
    'student_id INT',
    'course_display_name VARCHAR(255)',
    'grade DOUBLE NULL',
    'max_grade DOUBLE NULL',
    'percent_grade DOUBLE NULL',
    'parts_correctness VARCHAR(50) NULL',
    "answers VARCHAR(255) DEFAULT ''",
    'num_attempts INT DEFAULT -1',
    'first_submit DATETIME NULL',
    'last_submit DATETIME NULL',
    'module_type VARCHAR(32)',
    "anon_screen_name VARCHAR(40) DEFAULT ''",
    "resource_display_name VARCHAR(255) DEFAULT ''",
    'module_id VARCHAR(255) NULL',
  ],
  primaryKey: ['activity_grade_id'],
  // The indexes of createIndexForTable (docs/tables.md#keys-and-indexes).
  indexes: [
    ['activityGradeFirst_submitIdx', 'first_submit'],
    ['activityGradeLast_submitIdx', 'last_submit'],
    ['ActGrdAnonSNIdx', 'anon_screen_name'],
    ['ActGrdCourseDisNmIdx', 'course_display_name'],
    ['ActGrdModIdIdx', 'module_id'],
    ['ActGrdModTypeIdx', 'module_type'],
    ['ActGrdResDispNmIdx', 'resource_display_name'],
    ['ActGrdNumAttemptsIdx', 'num_attempts'],
  ],
});
