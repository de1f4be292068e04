// Which course names are test, demo or sandbox courses (operations.md §6.4): one rule, used by the
// isTrueCourseName stored function (mysql/routines.ts) and by the refresh jobs that leave test
// courses out (refresh/activitygrade.ts), so that the two can never disagree.

/** Test/sandbox course names (lower case, regex alternatives), as the original listed them. */
const TEST_COURSE_PATTERNS = [
  'jbau', 'janeu', 'sefu', 'davidu', 'caitlynx', 'josephtest', 'nickdupuniversity', 'nathanielu', 'gracelyou',
  'sandbox', 'demo', 'sampleuniversity', 'joeu', 'grbuniversity', 'stanford_spcs/001/spcs_test_course1',
  '.*zzz.*', '/test/', 'business/123/gsb-test', 'foundation/wtc01/wadhwani_test_course', 'grb/101/grb_test_course',
  'gsb/af1/alfresco_testing', 'internal/101/private_testing_course', 'openedx/testeduc2000c/2013_sept',
  'stanford/exp1/experimental_assessment_test', 'stanford/shib_only/on_campus_stanford_only_test_class',
  'testing/testing123/evergreen', 'testing_settings/for_non_display', 'tocc/1/eqptest',
  'worldview/wvtest/worldview_testing', 'stanford/xxxx/yyyy', 'testtest', 'nickdup', 'monx/',
];

/** The alternatives as one regex, in the syntax MariaDB's REGEXP (PCRE) and JavaScript share. */
const TEST_COURSE_REGEX = TEST_COURSE_PATTERNS.join('|');
const testCourse = new RegExp(TEST_COURSE_REGEX);

/** A real course: its name does not start with a digit and matches none of the test patterns. */
export function isTrueCourseName(name: string | null | undefined): boolean {
  const s = name ?? '';
  return !(/^[0-9]/.test(s) || testCourse.test(s.toLowerCase()));
}

/** The same rule as a SQL boolean expression over `expr` (1 for a real course, 0 otherwise). */
export const isTrueCourseNameSql = (expr: string): string =>
  `NOT (COALESCE(${expr}, '') REGEXP '^[0-9]' OR LOWER(COALESCE(${expr}, '')) REGEXP '${TEST_COURSE_REGEX}')`;
