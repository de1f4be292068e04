// The single definition of every warehouse table. DDL, INSERT column lists, CSV layouts and
// LOAD DATA statements are all derived from this file (see ddl.ts and ../sql, ../csv).
//
// Layout follows the original json_to_relation schema (docs/tables.md) so that existing
// queries keep working; the deliberate changes (docs/decisions.md §10, §12, §15) are marked "change:".

/** Logical column types. `sql` is the MySQL type we create; `nullable` types hold NULL for "no value". */
export type ColumnType =
  | 'VARCHAR255' // reference TINYTEXT
  | 'VARCHAR10'
  | 'TEXT'
  | 'MEDIUMTEXT'
  | 'UUID' // VARCHAR(40): 36-char ids, 40-hex LoadInfo hashes
  | 'TINYINT'
  | 'INT'
  | 'DOUBLE' // change: scores and points, reference INT/TINYINT (partial credit such as 0.5 was lost)
  | 'DATETIME' // DATETIME(6), UTC; NULL where the reference wrote its zero date
  | 'TIME'; // TIME(6) gap; NULL where the reference wrote its zero date

export interface TypeInfo {
  sql: string;
  /** Value used when the source has none (docs/tables.md#types-and-empty-values, docs/decisions.md §10). */
  empty: string | number | null;
  kind: 'text' | 'int' | 'float' | 'datetime' | 'time';
  /** For text: the most a value may hold, and whether that limit counts characters or UTF-8 bytes. */
  limit?: { max: number; unit: 'chars' | 'bytes' };
  /** For int and float: the range the SQL type holds. */
  range?: [number, number];
}

export const TYPES: Record<ColumnType, TypeInfo> = {
  VARCHAR255: { sql: 'VARCHAR(255)', empty: '', kind: 'text', limit: { max: 255, unit: 'chars' } },
  VARCHAR10: { sql: 'VARCHAR(10)', empty: '', kind: 'text', limit: { max: 10, unit: 'chars' } },
  TEXT: { sql: 'TEXT', empty: '', kind: 'text', limit: { max: 65535, unit: 'bytes' } },
  MEDIUMTEXT: { sql: 'MEDIUMTEXT', empty: '', kind: 'text', limit: { max: 16777215, unit: 'bytes' } },
  UUID: { sql: 'VARCHAR(40)', empty: '', kind: 'text', limit: { max: 40, unit: 'chars' } },
  TINYINT: { sql: 'TINYINT', empty: -1, kind: 'int', range: [-128, 127] },
  INT: { sql: 'INT', empty: -1, kind: 'int', range: [-2147483648, 2147483647] },
  DOUBLE: { sql: 'DOUBLE', empty: -1, kind: 'float', range: [-Number.MAX_VALUE, Number.MAX_VALUE] },
  DATETIME: { sql: 'DATETIME(6)', empty: null, kind: 'datetime' },
  TIME: { sql: 'TIME(6)', empty: null, kind: 'time' },
};

export interface Column {
  name: string;
  type: ColumnType;
}

export type Database = 'Edx' | 'EdxPrivate';

export interface TableDef {
  name: TableName;
  database: Database;
  columns: readonly Column[];
  primaryKey: readonly string[];
  /** Secondary indexes, as created by createIndexForTable (docs/tables.md#keys-and-indexes). [name, column spec] */
  indexes: readonly (readonly [string, string])[];
  /** Partitioned by LIST COLUMNS(quarter); partitions are added as quarters appear (docs/decisions.md §12). */
  partitionedByQuarter?: boolean;
  /** Columns that name a row of another table (for link checks; no FK is declared, loads come in any order). */
  links?: Readonly<Record<string, readonly [TableName, string]>>;
}

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
  | 'LoadInfo';

const cols = (spec: string): Column[] =>
  spec
    .trim()
    .split(/\s*,\s*/)
    .map((pair) => {
      const [name, type] = pair.split(/\s+/);
      if (!(type in TYPES)) throw new Error(`unknown column type ${type} for ${name}`);
      return { name, type: type as ColumnType };
    });

export const EdxTrackEvent: TableDef = {
  name: 'EdxTrackEvent',
  database: 'Edx',
  columns: cols(`
    _id UUID, event_id UUID, agent TEXT, event_source VARCHAR255, event_type TEXT, ip_country VARCHAR255,
    page TEXT, session TEXT, time DATETIME, quarter VARCHAR10, anon_screen_name TEXT, downtime_for TIME,
    student_id TEXT, instructor_id TEXT, course_id VARCHAR255, course_display_name VARCHAR255,
    resource_display_name VARCHAR255, organization VARCHAR255, sequence_id VARCHAR255, goto_from INT,
    goto_dest INT, problem_id VARCHAR255, problem_choice TEXT, question_location TEXT, submission_id TEXT,
    attempts INT, long_answer TEXT, student_file TEXT, can_upload_file VARCHAR255, feedback TEXT,
    feedback_response_selected TINYINT, transcript_id TEXT, transcript_code VARCHAR255, rubric_selection INT,
    rubric_category INT, video_id VARCHAR255, video_code TEXT, video_current_time VARCHAR255,
    video_speed VARCHAR255, video_old_time VARCHAR255, video_new_time VARCHAR255, video_seek_type VARCHAR255,
    video_new_speed VARCHAR255, video_old_speed VARCHAR255, book_interaction_type VARCHAR255,
    success VARCHAR255, answer_id TEXT, hint TEXT, mode VARCHAR255, msg TEXT, npoints DOUBLE,
    queuestate TEXT, orig_score DOUBLE, new_score DOUBLE, orig_total DOUBLE, new_total DOUBLE, event_name VARCHAR255,
    group_user VARCHAR255, group_action VARCHAR255, position INT, badly_formatted TEXT, correctMap_fk UUID,
    answer_fk UUID, state_fk UUID, load_info_fk UUID`),
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
};

export const Answer: TableDef = {
  name: 'Answer',
  database: 'Edx',
  columns: cols('answer_id UUID, problem_id VARCHAR255, answer TEXT, course_id VARCHAR255'),
  primaryKey: ['answer_id'],
  indexes: [
    ['AnswerIdxAns', 'answer(255)'],
    ['AnswerIdxProbId', 'problem_id'],
    ['AnswerIdxCourseID', 'course_id'],
  ],
};

export const CorrectMap: TableDef = {
  name: 'CorrectMap',
  database: 'Edx',
  columns: cols(`correct_map_id UUID, answer_identifier TEXT, correctness VARCHAR255, npoints DOUBLE, msg TEXT,
    hint TEXT, hintmode VARCHAR255, queuestate TEXT`),
  primaryKey: ['correct_map_id'],
  indexes: [['CorrectMapIdxAnsId', 'answer_identifier(255)']],
};

export const InputState: TableDef = {
  name: 'InputState',
  database: 'Edx',
  columns: cols('input_state_id UUID, problem_id VARCHAR255, state TEXT'),
  primaryKey: ['input_state_id'],
  indexes: [['InputStateIdxProbId', 'problem_id']],
};

export const State: TableDef = {
  name: 'State',
  database: 'Edx',
  // change: seed is INT (problem seeds exceed TINYINT's 127; the reference lost them in strict mode).
  columns: cols(`state_id UUID, seed INT, done VARCHAR255, problem_id VARCHAR255, student_answer UUID,
    correct_map UUID, input_state UUID`),
  primaryKey: ['state_id'],
  indexes: [['StateIdxProbId', 'problem_id']],
  links: {
    student_answer: ['Answer', 'answer_id'],
    correct_map: ['CorrectMap', 'correct_map_id'],
    input_state: ['InputState', 'input_state_id'],
  },
};

// change: Account and EventIp are written straight to EdxPrivate (docs/decisions.md §15); no temp copies in Edx.
export const Account: TableDef = {
  name: 'Account',
  database: 'EdxPrivate',
  columns: cols(`account_id UUID, screen_name TEXT, name TEXT, anon_screen_name TEXT, mailing_address TEXT,
    zipcode VARCHAR255, country VARCHAR255, gender VARCHAR255, year_of_birth INT, level_of_education VARCHAR255,
    goals TEXT, honor_code TINYINT, terms_of_service TINYINT, course_id TEXT, enrollment_action VARCHAR255,
    email TEXT, receive_emails VARCHAR255`),
  primaryKey: ['account_id'],
  indexes: [
    ['AccountIdxAnonScreenName', 'anon_screen_name(40)'],
    ['AccountIdxScreenName', 'screen_name(255)'],
  ],
};

export const EventIp: TableDef = {
  name: 'EventIp',
  database: 'EdxPrivate',
  // change: event_ip is VARCHAR(255) (the production varchar(16) could not hold IPv6).
  columns: cols('event_table_id UUID, event_ip VARCHAR255'),
  primaryKey: ['event_table_id'],
  indexes: [],
  links: { event_table_id: ['EdxTrackEvent', '_id'] },
};

export const ABExperiment: TableDef = {
  name: 'ABExperiment',
  database: 'Edx',
  columns: cols(`event_table_id UUID, event_type VARCHAR255, anon_screen_name UUID, group_id INT,
    group_name VARCHAR255, partition_id INT, partition_name VARCHAR255, child_module_id VARCHAR255,
    resource_display_name VARCHAR255, cohort_id INT, cohort_name VARCHAR255, course_display_name VARCHAR255`),
  primaryKey: ['event_table_id'],
  indexes: [['ABExperimentIdxAnon', 'anon_screen_name']],
  links: { event_table_id: ['EdxTrackEvent', '_id'] },
};

export const OpenAssessment: TableDef = {
  name: 'OpenAssessment',
  database: 'Edx',
  columns: cols(`event_table_id UUID, event_type VARCHAR255, anon_screen_name UUID, score_type VARCHAR255,
    submission_uuid VARCHAR255, edx_anon_id TEXT, time DATETIME, time_aux DATETIME,
    course_display_name VARCHAR255, resource_display_name VARCHAR255, resource_id VARCHAR255,
    submission_text MEDIUMTEXT, feedback_text MEDIUMTEXT, comment_text MEDIUMTEXT, attempt_num INT,
    options VARCHAR255, corrections TEXT, points TEXT`),
  primaryKey: ['event_table_id'],
  indexes: [
    ['OpenAssessmentIdxAnon', 'anon_screen_name'],
    ['OpenAssessmentIdxCourse', 'course_display_name'],
  ],
  links: { event_table_id: ['EdxTrackEvent', '_id'] },
};

export const LoadInfo: TableDef = {
  name: 'LoadInfo',
  database: 'Edx',
  columns: cols('load_info_id UUID, load_date_time DATETIME, load_file TEXT'),
  primaryKey: ['load_info_id'],
  indexes: [],
};

/** Every table, in the order their DDL is written (as the reference: aux tables first, main last). */
export const ALL_TABLES: readonly TableDef[] = [
  Answer,
  CorrectMap,
  InputState,
  State,
  Account,
  EventIp,
  ABExperiment,
  OpenAssessment,
  LoadInfo,
  EdxTrackEvent,
];

export const TABLES: Readonly<Record<TableName, TableDef>> = Object.fromEntries(
  ALL_TABLES.map((t) => [t.name, t]),
) as Record<TableName, TableDef>;

/**
 * The real database names behind the logical `Edx` and `EdxPrivate` (tests and side-by-side
 * warehouses use other names; `--edx-db`/`--private-db` on every tool that touches a database).
 */
export type DatabaseNames = Readonly<Record<Database, string>>;
export const DEFAULT_DATABASES: DatabaseNames = { Edx: 'Edx', EdxPrivate: 'EdxPrivate' };

/** `Edx.EdxTrackEvent` */
export const qualifiedName = (t: TableDef, names: DatabaseNames = DEFAULT_DATABASES): string =>
  `${names[t.database]}.${t.name}`;

/** Map from column name to its position, per table. */
export function columnIndex(t: TableDef): Readonly<Record<string, number>> {
  const cached = indexCache.get(t);
  if (cached) return cached;
  const idx: Record<string, number> = Object.create(null);
  t.columns.forEach((c, i) => (idx[c.name] = i));
  indexCache.set(t, idx);
  return idx;
}
const indexCache = new Map<TableDef, Record<string, number>>();

/** A row with every column at its empty value (a fresh copy each call). */
export function emptyRow(t: TableDef): (string | number | null)[] {
  let template = emptyCache.get(t);
  if (!template) {
    template = t.columns.map((c) => TYPES[c.type].empty);
    emptyCache.set(t, template);
  }
  return template.slice();
}
const emptyCache = new Map<TableDef, (string | number | null)[]>();
