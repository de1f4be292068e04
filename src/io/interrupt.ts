// A run stopped by SIGINT (Ctrl-C), SIGTERM (kill, a scheduler) or SIGHUP (a closed terminal):
// the files holding personal data that it was writing go first, synchronously, before anything
// else can fail; then the tool's own handlers say what was done; then it exits 128 + the signal's
// number, as a shell reports a process that such a signal ended. A second signal while the
// handlers run ends the run at once (the files are gone already).
import { rmSync } from 'node:fs';

export const STOP_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
export type StopSignal = keyof typeof STOP_SIGNALS;

/** The exit status of a run a signal stopped: 129, 130, 143. */
export const signalExitCode = (signal: StopSignal) => 128 + STOP_SIGNALS[signal];

/** Files and directories to remove when a signal stops the run. */
const privatePaths = new Set<string>();
type Handler = (signal: StopSignal) => Promise<void> | void;
const handlers = new Set<Handler>();
let installed = false;
let stopping = false;

/** Remove `path` (a file, or a directory with what is in it) if a signal stops the run; the returned function forgets it. */
export function removeOnSignal(path: string): () => void {
  privatePaths.add(path);
  return () => privatePaths.delete(path);
}

function removePrivatePaths(): void {
  for (const p of privatePaths) {
    try {
      rmSync(p, { recursive: true, force: true });
    } catch {
      /* gone already, or not ours to remove: the rest still go */
    }
  }
  privatePaths.clear();
}

async function stop(signal: StopSignal): Promise<void> {
  removePrivatePaths();
  if (stopping) process.exit(signalExitCode(signal));
  stopping = true;
  for (const h of [...handlers]) {
    try {
      await h(signal);
    } catch {
      /* a handler that fails must not keep the run alive */
    }
  }
  removePrivatePaths(); // made while the handlers ran
  process.exit(signalExitCode(signal));
}

/**
 * Take over SIGINT, SIGTERM and SIGHUP for this process (from the first call on: the paths given
 * to removeOnSignal are removed and the process exits 128 + n, with or without handlers), and run
 * `handler` first at such a signal. The returned function takes the handler back.
 */
export function onStopSignal(handler?: Handler): () => void {
  if (!installed) {
    installed = true;
    for (const signal of Object.keys(STOP_SIGNALS) as StopSignal[]) process.on(signal, () => void stop(signal));
  }
  if (!handler) return () => undefined;
  handlers.add(handler);
  return () => handlers.delete(handler);
}
