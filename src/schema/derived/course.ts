// The course tables of the weekly refresh (docs/original.md#job-modulestore, #job-usercountry): Edx.CourseInfo,
// Edx.EdxProblem and Edx.EdxVideo from the modulestore, Edx.UserCountry from the clickstream.
// Column names, order and types are the ones the original's weekly jobs created (modulestoreToSQL,
// cronRefreshUserCountryTable), so existing queries keep working; each change says why.
import { defineTable } from '../table.js';

export const CourseInfo = defineTable({
  name: 'CourseInfo',
  database: 'Edx',
  columns: [
    'course_display_name VARCHAR(255)',
    'course_catalog_name VARCHAR(255) NULL',
    'academic_year INT NULL',
    'quarter VARCHAR(7) NULL',
    'is_internal INT NULL',
    'enrollment_start DATETIME NULL',
    'start_date DATETIME NULL',
    'enrollment_end DATETIME NULL',
    'end_date DATETIME NULL',
    'grade_policy TEXT NULL',
    'certs_policy TEXT NULL',
  ],
  // change: course_display_name NOT NULL and the primary key (was nullable, no key): one row per course
  primaryKey: ['course_display_name'],
  indexes: [
    ['CourseInfoAcaYrIdx', 'academic_year'],
    ['CourseInfoQuarterIdx', 'quarter'],
    ['CourseInfoIsInternalIdx', 'is_internal'],
    ['CourseInfoStartIdx', 'start_date'],
    ['CourseInfoEndIdx', 'end_date'],
  ],
});

// Ids, course names and uris are what the clickstream joins on (EdxTrackEvent.problem_id,
// video_id, course_display_name are VARCHAR(255)): a cut id would join with nothing, so they are
// as wide as the columns they join with.
export const EdxProblem = defineTable({
  name: 'EdxProblem',
  database: 'Edx',
  columns: [
    'problem_id VARCHAR(255) NULL',
    'problem_display_name VARCHAR(255) NULL',
    'course_display_name VARCHAR(255) NULL',
    'problem_text LONGTEXT NULL',
    'date VARCHAR(50) NULL',
    'weight DOUBLE NULL',
    'revision VARCHAR(10) NULL',
    'max_attempts INT NULL',
    'trackevent_hook VARCHAR(255) NULL',
    'vertical_uri VARCHAR(255) NULL',
    'problem_idx INT NULL',
    'sequential_uri VARCHAR(255) NULL',
    'vertical_idx INT NULL',
    'chapter_uri VARCHAR(255) NULL',
    'sequential_idx INT NULL',
    'chapter_idx INT NULL',
    'staff_only TINYINT NULL',
  ],
  // change: problem_id VARCHAR(255) (was 32: block ids of the split store and url_names are longer);
  //   problem_display_name, course_display_name VARCHAR(255) (were 100: course-v1 ids and display
  //   names are longer); trackevent_hook and the uris VARCHAR(255) (were 200), see above;
  //   weight DOUBLE (was DECIMAL, i.e. DECIMAL(10,0): a weight of 0.5 was stored as 1);
  //   indexes on what queries join on (there were none).
  indexes: [
    ['EdxProblemCourseIdx', 'course_display_name'],
    ['EdxProblemHookIdx', 'trackevent_hook'],
    ['EdxProblemIdIdx', 'problem_id'],
  ],
});

export const EdxVideo = defineTable({
  name: 'EdxVideo',
  database: 'Edx',
  columns: [
    'video_id VARCHAR(255) NULL',
    'video_display_name VARCHAR(255) NULL',
    'course_display_name VARCHAR(255) NULL',
    'video_uri TEXT NULL',
    'video_code TEXT NULL',
    'trackevent_hook VARCHAR(255) NULL',
    'vertical_uri VARCHAR(255) NULL',
    'video_idx INT NULL',
    'sequential_uri VARCHAR(255) NULL',
    'vertical_idx INT NULL',
    'chapter_uri VARCHAR(255) NULL',
    'sequential_idx INT NULL',
    'chapter_idx INT NULL',
  ],
  // change: widths as EdxProblem's (video_id was 32, names 100, hook and uris 200), and indexes.
  indexes: [
    ['EdxVideoCourseIdx', 'course_display_name'],
    ['EdxVideoHookIdx', 'trackevent_hook'],
    ['EdxVideoIdIdx', 'video_id'],
  ],
});

export const UserCountry = defineTable({
  name: 'UserCountry',
  database: 'Edx',
  // The column order of cronRefreshUserCountryTable.py (the weekly job), not createEmptyEdxDbs.sql's.
  columns: [
    "anon_screen_name VARCHAR(40) DEFAULT ''",
    "two_letter_country VARCHAR(2) DEFAULT ''",
    "three_letter_country VARCHAR(3) DEFAULT ''",
    "country VARCHAR(255) DEFAULT ''",
  ],
  // change: utf8mb4 InnoDB (was latin1 MyISAM); the primary key (one row per user per country,
  //   which the original only promised), and with it no separate index on anon_screen_name.
  primaryKey: ['anon_screen_name', 'three_letter_country'],
  indexes: [
    ['UserCountryThreeLetIdx', 'three_letter_country'],
    ['UserCountryIdx2LtrCntry', 'two_letter_country'],
    ['UserCountryIdxCntry', 'country'],
  ],
});
