// Every refresh job, in an order that satisfies their `after` lists (docs/original.md#refresh-order, with the
// stale-data order of the original fixed: docs/original.md#bug-9).
import type { RefreshJob } from './job.js';
import { runStart, runEnd } from './jobs/run-dates.js';
import { edxprod } from './jobs/edxprod.js';
import { usergrade } from './jobs/usergrade.js';
import { activitygrade } from './jobs/activitygrade.js';
import { modulestoreJob } from './jobs/modulestore.js';
import { userCountryJob } from './jobs/usercountry.js';
import { forumJob } from './jobs/forum.js';

export const JOBS: readonly RefreshJob[] = [runStart, edxprod, usergrade, modulestoreJob, activitygrade, userCountryJob, forumJob, runEnd];

export function jobNamed(name: string): RefreshJob | undefined {
  return JOBS.find((j) => j.name === name);
}

/** The named jobs in run order (each after the jobs it reads from, when those are named too). */
export function inRunOrder(names: readonly string[]): RefreshJob[] {
  const wanted = new Set(names);
  return JOBS.filter((j) => wanted.has(j.name));
}
