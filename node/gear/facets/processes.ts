// The gear's processes facet: every process of the gear uid inside the gear's cgroup; destroy kills them all.

import { killGear, processesOfUid, purgeIpc } from "../../host/procs";
import type { Drift, GearState } from "../../types";
import type { GearFacet } from "./facet";

/** remove resolves with the number of processes killed. */
export const processesFacet: GearFacet<GearState["processes"], number> = {
  async ensure({ cgroup }, { spec, fresh }) {
    if (fresh) return; // no account before this create, so no process
    // repair: a gear process outside its cgroup is moved in
    for (const p of await processesOfUid(spec.uid)) {
      if (!(await cgroup.pidInGear(p.pid, spec.uuid)))
        await cgroup.attach(spec.uuid, p.pid).catch(() => undefined);
    }
  },

  async inspect({ cgroup }, { uuid, uid }) {
    const state: { pid: number; inCgroup: boolean; comm: string }[] = [];
    const drift: Drift[] = [];
    for (const p of await processesOfUid(uid)) {
      const inCgroup = await cgroup.pidInGear(p.pid, uuid);
      state.push({ pid: p.pid, inCgroup, comm: p.comm });
      if (!inCgroup) drift.push({ field: `process:${p.pid}`, expected: "in gear cgroup", actual: "outside" });
    }
    return { state, drift };
  },

  /** Kill everything and verify (by cgroup and by uid), then its SysV IPC; without a uid, by cgroup only. */
  async remove({ cgroup }, { uuid, uid }) {
    if (uid !== null) {
      const killed = await killGear(cgroup, uuid, uid);
      await purgeIpc(uid);
      return killed;
    }
    if (await cgroup.gearExists(uuid)) await cgroup.killAll(uuid);
    return 0;
  },
};
