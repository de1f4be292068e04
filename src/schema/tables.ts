// The warehouse's tables: the clickstream (Edx) and its personal data (EdxPrivate), as the
// transform writes them. DDL, INSERT column lists, CSV layouts and LOAD DATA statements are all
// derived from these definitions (see table.ts, ddl.ts and ../sql, ../csv).
//
// Layout follows the original json_to_relation schema (docs/tables.md) so that existing
// queries keep working; the deliberate changes (docs/decisions.md §10, §12, §15) are marked "change:".
// The column types, and the rule of empty values (table.ts: '' for text, -1 for numbers, NULL
// for times):
//   - VARCHAR(255) where the reference had TINYTEXT; VARCHAR(40) for ids (36-character uuids,
//     40-hex hashes such as LoadInfo's);
//   - change: DOUBLE for scores and points (reference INT/TINYINT: partial credit such as 0.5 was lost);
//   - DATETIME(6) and TIME(6) (a gap), UTC, NULL where the reference wrote its zero date.
import { defineTable, type TableDef } from './table.js';

/** A table of the warehouse: in Edx or EdxPrivate. */
export type WarehouseTable = TableDef<string, 'Edx' | 'EdxPrivate'>;

export type TableName =
  | 'EdxTrackEvent'
  | 'Answer'
  | 'CorrectMap'
  | 'InputState'
  | 'State'
  | 'Account'
  | 'EventIp'
  | 'ABExperiment'
  | 'OpenAssessment'
  | 'EventPayload'
  | 'LoadInfo';

export const EdxTrackEvent = defineTable({
  name: 'EdxTrackEvent',
  database: 'Edx',
  columns: [
    '_id VARCHAR(40)', 'event_id VARCHAR(40)', 'agent TEXT', 'event_source VARCHAR(255)', 'event_type TEXT',
    'ip_country VARCHAR(255)', 'page TEXT', 'session TEXT', 'time DATETIME(6) NULL', 'quarter VARCHAR(10)',
    'anon_screen_name TEXT', 'downtime_for TIME(6) NULL', 'student_id TEXT', 'instructor_id TEXT',
    'course_id VARCHAR(255)', 'course_display_name VARCHAR(255)', 'resource_display_name VARCHAR(255)',
    'organization VARCHAR(255)', 'sequence_id VARCHAR(255)', 'goto_from INT', 'goto_dest INT',
    'problem_id VARCHAR(255)', 'problem_choice TEXT', 'question_location TEXT', 'submission_id TEXT',
    'attempts INT', 'long_answer TEXT', 'student_file TEXT', 'can_upload_file VARCHAR(255)', 'feedback TEXT',
    'feedback_response_selected TINYINT', 'transcript_id TEXT', 'transcript_code VARCHAR(255)',
    'rubric_selection INT', 'rubric_category INT', 'video_id VARCHAR(255)', 'video_code TEXT',
    'video_current_time VARCHAR(255)', 'video_speed VARCHAR(255)', 'video_old_time VARCHAR(255)',
    'video_new_time VARCHAR(255)', 'video_seek_type VARCHAR(255)', 'video_new_speed VARCHAR(255)',
    'video_old_speed VARCHAR(255)', 'book_interaction_type VARCHAR(255)', 'success VARCHAR(255)',
    'answer_id TEXT', 'hint TEXT', 'mode VARCHAR(255)', 'msg TEXT', 'npoints DOUBLE', 'queuestate TEXT',
    'orig_score DOUBLE', 'new_score DOUBLE', 'orig_total DOUBLE', 'new_total DOUBLE',
    'event_name VARCHAR(255)', 'group_user VARCHAR(255)', 'group_action VARCHAR(255)', 'position INT',
    'badly_formatted TEXT', 'correctMap_fk VARCHAR(40)', 'answer_fk VARCHAR(40)', 'state_fk VARCHAR(40)',
    'load_info_fk VARCHAR(40)',
  ],
  // change: the partition column must be part of the primary key (MySQL rule for partitioned tables).
  primaryKey: ['_id', 'quarter'],
  partitionedByQuarter: true,
  indexes: [
    ['EdxTrackEventIdxEvType', 'event_type(255)'],
    ['EdxTrackEventIdxAnonScreenName', 'anon_screen_name(40)'],
    ['EdxTrackEventIdxCourseDisplayName', 'course_display_name'],
    ['EdxTrackEventIdxResourceDisplayName', 'resource_display_name'],
    ['EdxTrackEventIdxSuccess', 'success(15)'],
    ['EdxTrackEventIdxTime', 'time'],
    ['EdxTrackEventIdxIPCountry', 'ip_country(3)'],
    ['EdxTrackEventIdxCourseNameTime', 'course_display_name,time'],
    ['EdxTrackEventIdxVideoId', 'video_id'],
  ],
  links: {
    correctMap_fk: ['CorrectMap', 'correct_map_id'],
    answer_fk: ['Answer', 'answer_id'],
    state_fk: ['State', 'state_id'],
    load_info_fk: ['LoadInfo', 'load_info_id'],
  },
});

export const Answer = defineTable({
  name: 'Answer',
  database: 'Edx',
  columns: [
    'answer_id VARCHAR(40)', 'problem_id VARCHAR(255)', 'answer TEXT', 'course_id VARCHAR(255)',
  ],
  primaryKey: ['answer_id'],
  indexes: [
    ['AnswerIdxAns', 'answer(255)'],
    ['AnswerIdxProbId', 'problem_id'],
    ['AnswerIdxCourseID', 'course_id'],
  ],
});

export const CorrectMap = defineTable({
  name: 'CorrectMap',
  database: 'Edx',
  columns: [
    'correct_map_id VARCHAR(40)', 'answer_identifier TEXT', 'correctness VARCHAR(255)', 'npoints DOUBLE',
    'msg TEXT', 'hint TEXT', 'hintmode VARCHAR(255)', 'queuestate TEXT',
  ],
  primaryKey: ['correct_map_id'],
  indexes: [['CorrectMapIdxAnsId', 'answer_identifier(255)']],
});

export const InputState = defineTable({
  name: 'InputState',
  database: 'Edx',
  columns: [
    'input_state_id VARCHAR(40)', 'problem_id VARCHAR(255)', 'state TEXT',
  ],
  primaryKey: ['input_state_id'],
  indexes: [['InputStateIdxProbId', 'problem_id']],
});

export const State = defineTable({
  name: 'State',
  database: 'Edx',
  // change: seed is INT (problem seeds exceed TINYINT's 127; the reference lost them in strict mode).
  columns: [
    'state_id VARCHAR(40)', 'seed INT', 'done VARCHAR(255)', 'problem_id VARCHAR(255)',
    'student_answer VARCHAR(40)', 'correct_map VARCHAR(40)', 'input_state VARCHAR(40)',
  ],
  primaryKey: ['state_id'],
  indexes: [['StateIdxProbId', 'problem_id']],
  links: {
    student_answer: ['Answer', 'answer_id'],
    correct_map: ['CorrectMap', 'correct_map_id'],
    input_state: ['InputState', 'input_state_id'],
  },
});

// change: Account and EventIp are written straight to EdxPrivate (docs/decisions.md §15); no temp copies in Edx.
export const Account = defineTable({
  name: 'Account',
  database: 'EdxPrivate',
  columns: [
    'account_id VARCHAR(40)', 'screen_name TEXT', 'name TEXT', 'anon_screen_name TEXT', 'mailing_address TEXT',
    'zipcode VARCHAR(255)', 'country VARCHAR(255)', 'gender VARCHAR(255)', 'year_of_birth INT',
    'level_of_education VARCHAR(255)', 'goals TEXT', 'honor_code TINYINT', 'terms_of_service TINYINT',
    'course_id TEXT', 'enrollment_action VARCHAR(255)', 'email TEXT', 'receive_emails VARCHAR(255)',
  ],
  primaryKey: ['account_id'],
  indexes: [
    ['AccountIdxAnonScreenName', 'anon_screen_name(40)'],
    ['AccountIdxScreenName', 'screen_name(255)'],
  ],
});

export const EventIp = defineTable({
  name: 'EventIp',
  database: 'EdxPrivate',
  // change: event_ip is VARCHAR(255) (the production varchar(16) could not hold IPv6).
  columns: [
    'event_table_id VARCHAR(40)', 'event_ip VARCHAR(255)',
  ],
  primaryKey: ['event_table_id'],
  indexes: [],
  links: { event_table_id: ['EdxTrackEvent', '_id'] },
});

export const ABExperiment = defineTable({
  name: 'ABExperiment',
  database: 'Edx',
  columns: [
    'event_table_id VARCHAR(40)', 'event_type VARCHAR(255)', 'anon_screen_name VARCHAR(40)', 'group_id INT',
    'group_name VARCHAR(255)', 'partition_id INT', 'partition_name VARCHAR(255)',
    'child_module_id VARCHAR(255)', 'resource_display_name VARCHAR(255)', 'cohort_id INT',
    'cohort_name VARCHAR(255)', 'course_display_name VARCHAR(255)',
  ],
  primaryKey: ['event_table_id'],
  indexes: [['ABExperimentIdxAnon', 'anon_screen_name']],
  links: { event_table_id: ['EdxTrackEvent', '_id'] },
});

export const OpenAssessment = defineTable({
  name: 'OpenAssessment',
  database: 'Edx',
  columns: [
    'event_table_id VARCHAR(40)', 'event_type VARCHAR(255)', 'anon_screen_name VARCHAR(40)',
    'score_type VARCHAR(255)', 'submission_uuid VARCHAR(255)', 'edx_anon_id TEXT', 'time DATETIME(6) NULL',
    'time_aux DATETIME(6) NULL', 'course_display_name VARCHAR(255)', 'resource_display_name VARCHAR(255)',
    'resource_id VARCHAR(255)', 'submission_text MEDIUMTEXT', 'feedback_text MEDIUMTEXT',
    'comment_text MEDIUMTEXT', 'attempt_num INT', 'options VARCHAR(255)', 'corrections TEXT', 'points TEXT',
  ],
  primaryKey: ['event_table_id'],
  indexes: [
    ['OpenAssessmentIdxAnon', 'anon_screen_name'],
    ['OpenAssessmentIdxCourse', 'course_display_name'],
  ],
  links: { event_table_id: ['EdxTrackEvent', '_id'] },
});

// change (issue 16.2, not in the reference): what an event's payload held that no column took, as
// JSON (the payload's other top-level keys; the whole payload of a type no handler knows), personal
// values replaced. One row per event at most, keyed by its first main row. `payload` is cut at
// 65,535 bytes: `cut` = 1 and `payload_bytes` the whole JSON's size say so.
export const EventPayload = defineTable({
  name: 'EventPayload',
  database: 'Edx',
  columns: ['event_table_id VARCHAR(40)', 'event_type VARCHAR(255)', 'payload TEXT', 'payload_bytes INT', 'cut TINYINT'],
  primaryKey: ['event_table_id'],
  indexes: [['EventPayloadIdxType', 'event_type']],
  links: { event_table_id: ['EdxTrackEvent', '_id'] },
});

export const LoadInfo = defineTable({
  name: 'LoadInfo',
  database: 'Edx',
  columns: [
    'load_info_id VARCHAR(40)', 'load_date_time DATETIME(6) NULL', 'load_file TEXT',
  ],
  primaryKey: ['load_info_id'],
  indexes: [],
});

/** Every table, in the order their DDL is written (as the reference: aux tables first, main last). */
export const ALL_TABLES: readonly WarehouseTable[] = [
  Answer,
  CorrectMap,
  InputState,
  State,
  Account,
  EventIp,
  ABExperiment,
  OpenAssessment,
  EventPayload,
  LoadInfo,
  EdxTrackEvent,
];

export const TABLES: Readonly<Record<TableName, WarehouseTable>> = Object.fromEntries(
  ALL_TABLES.map((t) => [t.name, t]),
) as Record<TableName, WarehouseTable>;

/**
 * EdxPrivate.Keys: the forum key (SHA2-224 hex of the passphrase), one row. Made by `edx-csvload
 * --init` beside the routines that read it (routines.ts), not by the transform: not in ALL_TABLES.
 */
export const Keys = defineTable({
  name: 'Keys',
  database: 'EdxPrivate',
  columns: ["forumKey VARCHAR(255) DEFAULT ''"],
});
