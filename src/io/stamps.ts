// Stamps: a file whose modification time is that of the log it records as loaded (the pipeline's
// STAMPS/<key>). A log is changed when it is newer than its stamp. File times are nanoseconds but
// Node sets them from a double, so a stamp may differ from its log by a fraction of a microsecond;
// a log counts as newer only by more than a millisecond (a log is never replaced that fast).
import { stat, utimes } from 'node:fs/promises';

const SLACK_MS = 1;

/** Modification time in ms, following links; undefined when the path is not there. */
export const mtimeOf = (path: string): Promise<number | undefined> => stat(path).then((s) => s.mtimeMs, () => undefined);

/** Whether a file of this time is newer than `since` (ms). */
export const newerThan = (timeMs: number, sinceMs: number): boolean => timeMs > sinceMs + SLACK_MS;

/** Give `stamp` the times of `from` (as touch -r does). */
export async function copyTimes(from: string, stamp: string): Promise<void> {
  const s = await stat(from);
  await utimes(stamp, s.atimeMs / 1000, s.mtimeMs / 1000);
}
