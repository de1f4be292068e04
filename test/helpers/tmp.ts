// Temporary folders of tests: all named edx-pipes-* (the suite checks that none is left after a run)
// and removed when the test (by default the test file) ends.
import tap from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A new empty folder `$TMPDIR/edx-pipes-<name>-XXXXXX`, removed with everything in it at `t`'s end. */
export function tempDir(name: string, t: { teardown(fn: () => void | Promise<void>): void } = tap): string {
  const dir = mkdtempSync(join(tmpdir(), `edx-pipes-${name}-`));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
