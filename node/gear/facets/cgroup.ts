// The gear's cgroup facet: its group in every hierarchy with the profile's limits written, and no group
// left in the old layout (host/cgroups/layout.ts).

import type { CgroupLimits } from "../../host/cgroups/limits";
import { cgroupDrift } from "../../host/cgroups/drift";
import { killGear } from "../../host/procs";
import type { GearSpec, GearState, NodeConfig } from "../../types";
import type { GearFacet } from "./facet";

function limitsOf(config: NodeConfig, spec: GearSpec): CgroupLimits {
  const p = config.profiles[spec.profile];
  if (!p) throw new Error(`profile ${spec.profile} of gear ${spec.uuid} is no longer in the node config`);
  return {
    memoryBytes: p.memoryBytes,
    swapBytes: p.swapBytes,
    pids: p.pids,
    cpuWeight: p.cpuWeight,
    cpuMax: p.cpuMax,
  };
}

export const cgroupFacet: GearFacet<GearState["cgroup"]> = {
  async ensure({ config, cgroup }, { spec }) {
    await cgroup.ensureGear(spec.uuid, limitsOf(config, spec));
    await cgroup.migrateLegacy(spec.uuid); // a gear made before the flat layout
    await cgroup.delegate(spec.uuid, spec.uid); // its SSH forced command joins it (node/deploy/shell.ts)
  },

  async inspect({ config, cgroup }, { uuid, spec }) {
    const legacy = await cgroup.legacyGroups(uuid);
    const layout = legacy.length
      ? [{ field: "cgroup.layout", expected: cgroup.gearDirs(uuid).join(" "), actual: legacy.join(" ") }]
      : [];
    const values = await cgroup.readGear(uuid);
    return {
      state: { version: cgroup.version, paths: cgroup.gearDirs(uuid), values },
      drift: [
        ...layout,
        ...(spec ? cgroupDrift(cgroup.version, cgroup.desiredFiles(limitsOf(config, spec)), values) : []),
      ],
    };
  },

  async remove({ cgroup }, { uuid, uid }) {
    for (let i = 0; i < 50; i++) {
      try {
        await cgroup.removeGear(uuid);
        break;
      } catch (e) {
        if (i === 49) throw e;
        if (uid !== null) await killGear(cgroup, uuid, uid); // EBUSY: a task still exiting
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  },
};
