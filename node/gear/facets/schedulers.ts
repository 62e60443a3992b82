// The gear's job schedulers facet: a gear may not use cron or at, whose daemons would start its jobs in
// their own cgroup, outside the gear's limits (node/host/job-schedulers.ts). Its name is in the deny files
// before its account exists; a crontab or at job it has anyway is drift, removed by update and destroy.

import {
  CRONTAB_SPOOL,
  denySchedulers,
  removeScheduledJobs,
  scheduledJobs,
  schedulerAccessProblems,
  undenySchedulers,
} from "../../host/job-schedulers";
import type { Drift } from "../../types";
import type { GearFacet } from "./facet";

export const schedulersFacet: GearFacet = {
  async ensure(_ctx, { spec, fresh }) {
    await denySchedulers(spec.uuid);
    if (!fresh) await removeScheduledJobs(spec.uuid, spec.uid); // repair: jobs from before the deny lines
  },

  async inspect(_ctx, { uuid, uid }) {
    const drift: Drift[] = [];
    for (const p of await schedulerAccessProblems(uuid))
      drift.push({ field: p.field, expected: "denied", actual: p.actual });
    for (const job of await scheduledJobs(uuid, uid))
      drift.push({
        field: job.startsWith(CRONTAB_SPOOL) ? "crontab" : "at job",
        expected: "none",
        actual: job,
      });
    return { state: null, drift };
  },

  /** After the gear's processes are gone: its jobs, then its deny lines (nothing of it can log in). */
  async remove(_ctx, { uuid, uid }) {
    if (uid !== null) await removeScheduledJobs(uuid, uid);
    await undenySchedulers(uuid);
  },
};
