// Research views over the clickstream, created by `edx-csvload --init` in Edx beside the
// original's views: the answers the current Open edX analytics (Aspects) derive — video watch
// segments, first and last problem attempts, sequence drop-off, enrollment windows and activity —
// computed where the 2014 layout's users already are. Views, not tables: always current. Each
// filters on an indexed column first (event_type, or the problem/course columns), so a query
// for one course or one learner reads only that part (docs/querying.md says how they count).
import type { Routine } from './routines.js';
import type { DatabaseNames } from './table.js';

/** A text column's number, NULL where it holds none ('' and the reference's 'None'). */
const number = (col: string) => `CASE WHEN ${col} REGEXP '^-?[0-9]+(\\\\.[0-9]+)?([eE][-+]?[0-9]+)?$' THEN CAST(${col} AS DOUBLE) END`;

const list = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(', ');

/** Video events by what they do to the player (old names and edx.video.* names alike). */
export const VIDEO_PLAY = ['play_video', 'edx.video.played'] as const;
export const VIDEO_HALT = ['pause_video', 'stop_video', 'complete_video', 'edx.video.paused', 'edx.video.stopped', 'edx.video.completed'] as const;
export const VIDEO_SEEK = ['seek_video', 'edx.video.position.changed'] as const;
export const VIDEO_SPEED = ['speed_change_video', 'edx.video.speed.changed'] as const;

export const SEQUENCE_MOVES = ['seq_goto', 'seq_next', 'seq_prev'] as const;
export const ENROLLMENT_ON = 'edx.course.enrollment.activated';
export const ENROLLMENT_OFF = 'edx.course.enrollment.deactivated';

export const RESEARCH_ROUTINES: readonly Routine[] = [
  {
    // One key for a problem whatever names it: the usage key of grade events
    // (block-v1:…+type@problem+block@ID), the old location (i4x://ORG/NUM/problem/ID), the input id
    // of answers and browser checks (ID_2_1, input_i4x-ORG-NUM-problem-ID_2_1): all give ID.
    database: 'Edx',
    kind: 'FUNCTION',
    name: 'problemKey',
    definition: `(id VARCHAR(255)) RETURNS VARCHAR(255) CHARSET utf8mb4 DETERMINISTIC NO SQL
      RETURN CASE
        WHEN id IS NULL OR id = '' THEN NULL
        WHEN LOCATE('block@', id) > 0 THEN SUBSTRING_INDEX(SUBSTRING_INDEX(id, 'block@', -1), '/', 1)
        WHEN id LIKE 'i4x://%' THEN SUBSTRING_INDEX(id, '/', -1)
        WHEN id REGEXP '^(input_)?i4x-' THEN
          SUBSTRING_INDEX(REGEXP_REPLACE(id, '_[0-9]+_[0-9]+(_[a-z]+)?$', ''), '-', -1)
        ELSE REGEXP_REPLACE(id, '_[0-9]+_[0-9]+(_[a-z]+)?$', '')
      END`,
  },
  {
    // Each stretch of a video a learner played: from a play (or a seek or speed change while
    // playing) to the next event of the same learner and video, in video seconds.
    database: 'Edx',
    kind: 'VIEW',
    name: 'VideoWatchSegment',
    definition: `SELECT anon_screen_name, course_display_name, video_id, started_at,
        segment_start, segment_end, segment_end - segment_start AS seconds
      FROM (
        SELECT anon_screen_name, course_display_name, video_id, time AS started_at, pos_after AS segment_start,
          LEAD(pos_before) OVER w AS segment_end,
          MOD(MAX(state) OVER (w ROWS UNBOUNDED PRECEDING), 2) = 1 AS playing
        FROM (
          SELECT anon_screen_name, course_display_name, video_id, time, _id,
            ${number('IF(event_type IN (' + list(VIDEO_SEEK) + '), video_old_time, video_current_time)')} AS pos_before,
            ${number('IF(event_type IN (' + list(VIDEO_SEEK) + '), video_new_time, video_current_time)')} AS pos_after,
            CASE WHEN event_type IN (${list(VIDEO_PLAY)}) THEN 1 WHEN event_type IN (${list(VIDEO_HALT)}) THEN 0 END
              + 2 * ROW_NUMBER() OVER (PARTITION BY anon_screen_name, video_id ORDER BY time, _id) AS state
          FROM {{Edx}}.EdxTrackEvent
          WHERE event_type IN (${list([...VIDEO_PLAY, ...VIDEO_HALT, ...VIDEO_SEEK, ...VIDEO_SPEED])})
            AND video_id <> '' AND anon_screen_name <> ''
        ) AS moves
        WINDOW w AS (PARTITION BY anon_screen_name, video_id ORDER BY time, _id)
      ) AS spans
      WHERE playing AND segment_end > segment_start`,
  },
  {
    database: 'Edx',
    kind: 'VIEW',
    name: 'VideoWatchTime',
    definition: `SELECT anon_screen_name, course_display_name, video_id, COUNT(*) AS segments,
        SUM(seconds) AS seconds_watched, MIN(started_at) AS first_played, MAX(started_at) AS last_played
      FROM {{Edx}}.VideoWatchSegment GROUP BY anon_screen_name, course_display_name, video_id`,
  },
  {
    // Per learner and problem, from the server's problem_check events (one per submission; the
    // fan-out rows of one event share its event_id): first and last submission, their
    // correctness and score.
    database: 'Edx',
    kind: 'VIEW',
    name: 'ProblemAttempt',
    definition: `SELECT anon_screen_name, course_display_name, problem_key, COUNT(DISTINCT event_id) AS submissions,
        MAX(NULLIF(attempts, -1)) AS attempts,
        MIN(time) AS first_time, MAX(time) AS last_time,
        SUBSTRING_INDEX(GROUP_CONCAT(success ORDER BY time, _id SEPARATOR '\\n'), '\\n', 1) AS first_success,
        SUBSTRING_INDEX(GROUP_CONCAT(success ORDER BY time DESC, _id DESC SEPARATOR '\\n'), '\\n', 1) AS last_success,
        CAST(SUBSTRING_INDEX(GROUP_CONCAT(IF(new_score >= 0, new_score, NULL) ORDER BY time DESC, _id DESC), ',', 1) AS DOUBLE) AS last_score,
        CAST(SUBSTRING_INDEX(GROUP_CONCAT(IF(new_total >= 0, new_total, NULL) ORDER BY time DESC, _id DESC), ',', 1) AS DOUBLE) AS last_max_score
      FROM (SELECT *, {{Edx}}.problemKey(problem_id) AS problem_key FROM {{Edx}}.EdxTrackEvent
            WHERE event_type = 'problem_check' AND event_source = 'server' AND anon_screen_name <> '' AND problem_id <> '') AS checks
      GROUP BY anon_screen_name, course_display_name, problem_key`,
  },
  {
    // Per course, sequence and position: the learners who were at that position (moved from it or
    // to it). Read along the positions, the counts show where learners stop.
    database: 'Edx',
    kind: 'VIEW',
    name: 'SequenceReach',
    definition: `SELECT course_display_name, sequence_id, position, COUNT(DISTINCT anon_screen_name) AS learners
      FROM (
        SELECT course_display_name, sequence_id, anon_screen_name, goto_from AS position FROM {{Edx}}.EdxTrackEvent
          WHERE event_type IN (${list(SEQUENCE_MOVES)}) AND goto_from > 0 AND anon_screen_name <> '' AND sequence_id <> ''
        UNION ALL
        SELECT course_display_name, sequence_id, anon_screen_name, goto_dest FROM {{Edx}}.EdxTrackEvent
          WHERE event_type IN (${list(SEQUENCE_MOVES)}) AND goto_dest > 0 AND anon_screen_name <> '' AND sequence_id <> ''
      ) AS visits
      GROUP BY course_display_name, sequence_id, position`,
  },
  {
    // Each enrollment of a learner in a course: from an activation to the next deactivation
    // (NULL: still enrolled). A repeated activation within a window starts no new one.
    database: 'Edx',
    kind: 'VIEW',
    name: 'EnrollmentWindow',
    definition: `SELECT anon_screen_name, course_display_name, mode, time AS enrolled, next_off AS unenrolled
      FROM (
        SELECT anon_screen_name, course_display_name, mode, time, event_type,
          LAG(event_type) OVER w AS previous_type,
          MIN(IF(event_type = '${ENROLLMENT_OFF}', time, NULL)) OVER (w ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_off
        FROM {{Edx}}.EdxTrackEvent
        WHERE event_type IN ('${ENROLLMENT_ON}', '${ENROLLMENT_OFF}') AND anon_screen_name <> '' AND course_display_name <> ''
        WINDOW w AS (PARTITION BY anon_screen_name, course_display_name ORDER BY time, _id)
      ) AS changes
      WHERE event_type = '${ENROLLMENT_ON}' AND (previous_type IS NULL OR previous_type <> '${ENROLLMENT_ON}')`,
  },
  {
    database: 'Edx',
    kind: 'VIEW',
    name: 'LearnerActivity',
    definition: `SELECT anon_screen_name, course_display_name, MIN(time) AS first_event, MAX(time) AS last_event,
        COUNT(*) AS events, COUNT(DISTINCT DATE(time)) AS active_days
      FROM {{Edx}}.EdxTrackEvent WHERE anon_screen_name <> '' AND course_display_name <> ''
      GROUP BY anon_screen_name, course_display_name`,
  },
];

/**
 * Views over the tables the weekly refresh builds (the original's Performance, FinalGrade and
 * Demographics). A view cannot be made before its tables exist, and --init runs before the first
 * refresh: these are made by --init when their tables are there, and again after each refresh.
 */
export interface PlatformView extends Routine {
  kind: 'VIEW';
  /** The tables it reads: database (as named in RoutineNames) and table. */
  needs: readonly (readonly ['Edx' | 'EdxPrivate' | 'edxprod', string])[];
}

const EDUCATION: readonly [string, string][] = [
  ['p', 'Doctorate'], ['m', "Master's or professional degree"], ['b', "Bachelor's degree"], ['a', 'Associate degree'],
  ['hs', 'Secondary/high school'], ['jhs', 'Junior secondary/junior high/middle school'], ['el', 'Elementary/primary school'],
  ['none', 'None'], ['other', 'Other'], ['', 'User withheld'],
];

export const PLATFORM_VIEWS: readonly PlatformView[] = [
  {
    database: 'Edx',
    kind: 'VIEW',
    name: 'Performance',
    needs: [['Edx', 'ActivityGrade']],
    definition: `SELECT anon_screen_name, course_display_name, AVG(percent_grade) AS avg_percent_grade
      FROM {{Edx}}.ActivityGrade GROUP BY anon_screen_name, course_display_name`,
  },
  {
    database: 'Edx',
    kind: 'VIEW',
    name: 'FinalGrade',
    needs: [['EdxPrivate', 'UserGrade']],
    definition: `SELECT anon_screen_name, course_id, grade, distinction FROM {{EdxPrivate}}.UserGrade`,
  },
  {
    // One row per learner and country (UserCountry has a row per country a learner came from);
    // the original joined UserGrade's certificate rows too, repeating each learner per certificate.
    database: 'Edx',
    kind: 'VIEW',
    name: 'Demographics',
    needs: [['edxprod', 'auth_userprofile'], ['EdxPrivate', 'UserGrade'], ['Edx', 'UserCountry']],
    definition: `SELECT learners.anon_screen_name, p.gender, p.year_of_birth,
        YEAR(CURDATE()) - p.year_of_birth AS curr_age,
        CASE p.level_of_education ${EDUCATION.map(([k, v]) => `WHEN '${k}' THEN '${v.replace(/'/g, "''")}'`).join(' ')}
          WHEN NULL THEN NULL ELSE p.level_of_education END AS level_of_education,
        c.three_letter_country AS country_three_letters, c.country AS country_name
      FROM (SELECT DISTINCT user_int_id, anon_screen_name FROM {{EdxPrivate}}.UserGrade) AS learners
      JOIN {{edxprod}}.auth_userprofile p ON p.user_id = learners.user_int_id
      LEFT JOIN {{Edx}}.UserCountry c ON c.anon_screen_name = learners.anon_screen_name`,
  },
];

/** The database name a platform view's need refers to. */
export const neededDatabase = (db: 'Edx' | 'EdxPrivate' | 'edxprod', names: DatabaseNames): string =>
  db === 'edxprod' ? (names.edxprod ?? 'edxprod') : names[db];
