// The gear's processes facet: every process of the gear uid inside the gear's cgroup; destroy kills them all,
// then removes what they leave outside the home: SysV IPC, and the gear's entries in /tmp, /var/tmp, /dev/shm
// and its POSIX message queues (node/host/shared-dirs.ts), which the next gear given the uid would own.

import { killGear, processesOfUid, processExe, purgeIpc } from "../../host/procs";
import { mcsLabel } from "../../host/mcs";
import { classifyGearProcess, GEAR_DOMAIN, parseContext, processContext } from "../../host/selinux/label";
import { removeSharedEntries } from "../../host/shared-dirs";
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

  async inspect({ cgroup, selinux }, { uuid, uid }) {
    const state: GearState["processes"][number][] = [];
    const drift: Drift[] = [];
    const label = selinux === "unavailable" ? null : mcsLabel(uid);
    for (const p of await processesOfUid(uid)) {
      const inCgroup = await cgroup.pidInGear(p.pid, uuid);
      const context = label ? await processContext(p.pid) : null;
      if (!inCgroup) drift.push({ field: `process:${p.pid}`, expected: "in gear cgroup", actual: "outside" });
      // under SELinux every gear process runs in the gear domain at the gear's level, but for a git push
      // session's relay and sshd's session process (a process that has exited meanwhile has no context left
      // to check); the program is read only for a process outside the gear domain
      let role: GearState["processes"][number]["role"] = null;
      if (label && context !== null) {
        const exe = parseContext(context)?.type === GEAR_DOMAIN ? null : await processExe(p.pid);
        const c = classifyGearProcess(p.pid, context, exe, label);
        role = c.role;
        drift.push(...c.drift);
      }
      state.push({ pid: p.pid, inCgroup, comm: p.comm, context, role });
    }
    return { state, drift };
  },

  /**
   * Kill everything and verify (by cgroup and by uid), then its SysV IPC and shared-directory entries (removed
   * as the gear's uid: gid = uid); without a uid, by cgroup only.
   */
  async remove({ cgroup }, { uuid, uid }) {
    if (uid !== null) {
      const killed = await killGear(cgroup, uuid, uid);
      await purgeIpc(uid);
      await removeSharedEntries(uid, uid);
      return killed;
    }
    if (await cgroup.gearExists(uuid)) await cgroup.killAll(uuid);
    return 0;
  },
};
