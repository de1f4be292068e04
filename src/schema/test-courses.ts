// Which courses are test courses (sandboxes, demos, staff experiments): the one rule of the
// warehouse. The original had three different lists (isTrueCourseName, removeTestCourses.awk and
// modulestoreToSQL.py, docs/original.md#stored-routines, #job-modulestore); this is the first of them, the one queries
// already call, and the SQL function isTrueCourseName (mysql/routines.ts) and the refresh jobs
// (refresh/jobs/*.ts) are both made from this list, so they cannot disagree.
//
// The patterns name courses as `org/course/run`. A new-style id `course-v1:Org+Course+Run` is read
// as `org/course/run` first, so that `/test/` or `monx/` find a test course in either form.

/** Regex alternatives, matched (unanchored, as MariaDB's REGEXP does) in the lower-cased name. */
export const TEST_COURSE_PATTERNS: readonly string[] = [
  'jbau', 'janeu', 'sefu', 'davidu', 'caitlynx', 'josephtest', 'nickdupuniversity', 'nathanielu', 'gracelyou',
  'sandbox', 'demo', 'sampleuniversity', 'joeu', 'grbuniversity', 'stanford_spcs/001/spcs_test_course1',
  '.*zzz.*', '/test/', 'business/123/gsb-test', 'foundation/wtc01/wadhwani_test_course', 'grb/101/grb_test_course',
  'gsb/af1/alfresco_testing', 'internal/101/private_testing_course', 'openedx/testeduc2000c/2013_sept',
  'stanford/exp1/experimental_assessment_test', 'stanford/shib_only/on_campus_stanford_only_test_class',
  'testing/testing123/evergreen', 'testing_settings/for_non_display', 'tocc/1/eqptest',
  'worldview/wvtest/worldview_testing', 'stanford/xxxx/yyyy', 'testtest', 'nickdup', 'monx/',
];

// The same expressions in JavaScript and in MariaDB/MySQL (PCRE / ICU): no backslashes, no
// classes that differ between the two engines.
const NEW_STYLE_ID = '^course-v1:([^+]*)[+]([^+]*)[+](.*)$';
const STARTS_WITH_DIGIT = '^[0-9]';

const testCourse = new RegExp(TEST_COURSE_PATTERNS.join('|'));
const newStyleId = new RegExp(NEW_STYLE_ID);

/** A course id as the rule reads it: lower case, `org/course/run` also for `course-v1:` ids. */
function asRuleReadsIt(name: string): string {
  return name.replace(newStyleId, '$1/$2/$3').toLowerCase();
}

/** False for a test course ('' and NULL are no test course); the SQL function isTrueCourseName agrees. */
export function isTrueCourseName(name: string | null | undefined): boolean {
  const n = asRuleReadsIt(name ?? '');
  return !(new RegExp(STARTS_WITH_DIGIT).test(n) || testCourse.test(n));
}

/**
 * The body of the SQL function: a BOOL expression of `arg` (a column or parameter name). Written
 * for the default sql_mode, where a backslash in a string literal is an escape (hence `\\\\1`).
 */
export function isTrueCourseNameSql(arg: string): string {
  const n = `LOWER(REGEXP_REPLACE(COALESCE(${arg}, ''), '${NEW_STYLE_ID}', '\\\\1/\\\\2/\\\\3'))`;
  return `NOT (${n} REGEXP '${STARTS_WITH_DIGIT}' OR ${n} REGEXP '${TEST_COURSE_PATTERNS.join('|')}')`;
}
