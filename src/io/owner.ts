// Which process made a temporary directory, and whether that process still runs: what lets a
// rerun remove what a killed run left (SIGKILL gives no chance to clean up) without touching the
// files of a run still going. A process is known by its host, the machine's boot, its pid and the
// time it started (Linux: /proc/<pid>/stat), so a pid used again by another process is told apart.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface ProcessOwner {
  /** The tool that made the directory. */
  tool: string;
  host: string;
  /** /proc/sys/kernel/random/boot_id (Linux), else absent. */
  boot?: string;
  pid: number;
  /** When the process started, in clock ticks since boot (/proc/<pid>/stat field 22), else absent. */
  start?: string;
}

const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
};

const bootId = () => readText('/proc/sys/kernel/random/boot_id');

/**
 * A process's start time from /proc/<pid>/stat; undefined when the process does not exist (or
 * there is no /proc). The name (field 2) may hold spaces and parentheses: fields are counted from
 * its last ')'.
 */
export function processStart(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

/** This process, as an owner file records it. */
export function thisProcess(tool: string): ProcessOwner {
  return { tool, host: hostname(), boot: bootId(), pid: process.pid, start: processStart(process.pid) };
}

/** An owner file's text as a ProcessOwner of `tool`; undefined when it is not one. */
export function parseOwner(text: string, tool: string): ProcessOwner | undefined {
  let o: Partial<ProcessOwner>;
  try {
    o = JSON.parse(text) as Partial<ProcessOwner>;
  } catch {
    return undefined;
  }
  if (!o || o.tool !== tool || typeof o.host !== 'string' || !Number.isInteger(o.pid) || (o.pid as number) <= 0) return undefined;
  return o as ProcessOwner;
}

/**
 * Whether the owner may still run: 'gone' when it certainly does not (same machine, and another
 * boot, or no such pid, or the pid belongs to a process that started at another time), 'running'
 * when it does, 'unknown' for another machine's process (a shared TMPDIR).
 */
export function ownerState(o: ProcessOwner): 'running' | 'gone' | 'unknown' {
  if (o.host !== hostname()) return 'unknown';
  const boot = bootId();
  if (boot !== undefined && o.boot !== undefined && o.boot !== boot) return 'gone';
  if (readText('/proc/self/stat') !== undefined) {
    const start = processStart(o.pid);
    if (start === undefined) return 'gone';
    return o.start === undefined || start === o.start ? 'running' : 'gone';
  }
  // No /proc: a live pid is taken for the owner (it may have been used again; keeping is the safe side).
  return pidRunning(o.pid) ? 'running' : 'gone';
}

/** Whether some process has this pid (perhaps not the one that had it before: callers keep what it may own). */
export function pidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
