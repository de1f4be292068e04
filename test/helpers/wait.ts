// Waiting for a condition instead of sleeping for a guessed time: a test passes on a machine many
// times slower, and is as quick as the machine allows on a fast one.
import type { ChildProcess } from 'node:child_process';

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface WaitOptions {
  /** A guard against a hang, never a pass condition: generous (default 2 minutes). */
  timeoutMs?: number;
  /** How often the condition is looked at. */
  everyMs?: number;
  /** Stop waiting (undefined) as soon as this process has ended. */
  child?: ChildProcess;
}

/**
 * Look at `probe` until it gives a value other than undefined/false/null; that value. Undefined when
 * the child ended first or the guard time passed (the caller's assertion then says what was missed).
 */
export async function waitFor<T>(probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  opts: WaitOptions = {}): Promise<T | undefined> {
  const end = Date.now() + (opts.timeoutMs ?? 120_000);
  const ended = () => opts.child !== undefined && (opts.child.exitCode !== null || opts.child.signalCode !== null);
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (ended() || Date.now() > end) return undefined;
    await pause(opts.everyMs ?? 20);
  }
}
