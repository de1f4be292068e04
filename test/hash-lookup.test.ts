// edx-hash-lookup as researchers run it: references found in the strings they paste, names and
// courses from both modulestore forms, unknown inputs reported and counted, exit codes.
import t from 'tap';
import { join } from 'node:path';
import { runTool, REPO } from './helpers/tools.js';
import { findReference } from '../src/modulestore/lookup.js';

const TOOL = 'edx-hash-lookup';
const FIXTURES = join(REPO, 'test', 'fixtures', 'refresh-course');
const OLD = join(FIXTURES, 'old-modulestore.json');
const SPLIT = join(FIXTURES, 'split');

const rows = (stdout: string) => stdout.trimEnd().split('\n').map((l) => l.split('\t'));

t.test('references are found in the forms logs and tables write them', async (t) => {
  t.same(findReference('0c6cf38317be42e0829d10cc68e7451b_2_1'), { text: '0c6cf38317be42e0829d10cc68e7451b', key: '0c6cf38317be42e0829d10cc68e7451b' });
  t.same(findReference('/courses/Medicine/HRP258/Statistics_in_Medicine/courseware/53b0357680d24191a60156e74e184be3/'), {
    text: '53b0357680d24191a60156e74e184be3', key: '53b0357680d24191a60156e74e184be3',
  });
  t.same(findReference('input_i4x-Medicine-HRP258-problem-x i4x://Medicine/HRP258/problem/quiz_a'), {
    text: 'i4x://Medicine/HRP258/problem/quiz_a', key: 'HRP258_problem_quiz_a', courseShortName: 'HRP258',
  });
  t.same(findReference('https://lms/xblock/block-v1:Medicine+HRP259+2015+type@chapter+block@ch1/handler'), {
    text: 'block-v1:Medicine+HRP259+2015+type@chapter+block@ch1', key: 'HRP259_chapter_ch1', courseShortName: 'HRP259',
  });
  // A usage key whose block id is a hash is looked up by the hash, as the transform does.
  t.equal(findReference('block-v1:A+B+C+type@problem+block@0c6cf38317be42e0829d10cc68e7451b')?.key, '0c6cf38317be42e0829d10cc68e7451b');
  t.equal(findReference('no reference here'), undefined);
  t.equal(findReference('0C6CF38317BE42E0829D10CC68E7451B'), undefined, 'upper-case hex is no module hash');
});

t.test('old store: names, categories and courses as TSV, in input order', async (t) => {
  const r = await runTool(TOOL, ['--modulestore', OLD, '0c6cf38317be42e0829d10cc68e7451b_2_1', 'i4x://Medicine/HRP258/videoalpha/c89417444f4443f9a34039be3054962e']);
  t.equal(r.code, 0, r.stderr);
  t.same(rows(r.stdout), [
    ['input', 'display_name', 'category', 'course', 'key'],
    ['0c6cf38317be42e0829d10cc68e7451b_2_1', 'Quiz', 'problem', 'Medicine/HRP258/Statistics_in_Medicine', '0c6cf38317be42e0829d10cc68e7451b'],
    ['i4x://Medicine/HRP258/videoalpha/c89417444f4443f9a34039be3054962e', 'Module One video', 'videoalpha', 'Medicine/HRP258/Statistics_in_Medicine', 'c89417444f4443f9a34039be3054962e'],
  ]);
  t.equal(r.stderr, '');
});

t.test('split store from stdin: usage keys resolve with their course-v1 course', async (t) => {
  const r = await runTool(TOOL, ['--modulestore', SPLIT, '--no-header'], { input: 'block-v1:Medicine+HRP259+2015+type@chapter+block@ch1\n\n' });
  t.equal(r.code, 0, r.stderr);
  t.same(rows(r.stdout), [['block-v1:Medicine+HRP259+2015+type@chapter+block@ch1', 'Week 1', 'chapter', 'course-v1:Medicine+HRP259+2015', 'HRP259_chapter_ch1']]);
});

t.test('unknown inputs: an empty line on stdout, the reason on stderr, exit 1, the others printed', async (t) => {
  const r = await runTool(TOOL, ['--modulestore', OLD, '--no-header', 'nothing\there', 'ffffffffffffffffffffffffffffffff', '0c6cf38317be42e0829d10cc68e7451b']);
  t.equal(r.code, 1);
  t.same(rows(r.stdout), [
    ['nothing here', '', '', '', ''],
    ['ffffffffffffffffffffffffffffffff', '', '', '', 'ffffffffffffffffffffffffffffffff'],
    ['0c6cf38317be42e0829d10cc68e7451b', 'Quiz', 'problem', 'Medicine/HRP258/Statistics_in_Medicine', '0c6cf38317be42e0829d10cc68e7451b'],
  ]);
  t.match(r.stderr, /"nothing\\there": no hash or usage key in it/);
  t.match(r.stderr, /ffffffffffffffffffffffffffffffff is not in the export/);
  t.match(r.stderr, /2 of 3 inputs unknown/);
});

t.test('usage and input errors: one clear message, no stack trace', async (t) => {
  const none = await runTool(TOOL, ['x']);
  t.equal(none.code, 2);
  t.match(none.stderr, /--modulestore PATH is required/);
  const missing = await runTool(TOOL, ['--modulestore', join(FIXTURES, 'no-such-export.json'), 'x']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^edx-hash-lookup: --modulestore .*no-such-export\.json/);
  t.notMatch(missing.stderr, /\n\s+at /, 'no stack trace');
});
