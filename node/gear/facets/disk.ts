// The gear's disk facet: the home directory, on a loop image or under a user quota of the profile's size.

import { promises as fs } from "fs";
import { applyQuota, diskDrift, ensureLoop, quotaSupport, readDisk, removeDisk } from "../../host/disk";
import type { DiskState } from "../../types";
import { crashPoint } from "../crash-point";
import type { GearFacet } from "./facet";

export const diskFacet: GearFacet<DiskState> = {
  async ensure({ config }, { spec, home, disk }) {
    const profile = config.profiles[spec.profile];
    if (disk === "loop") await ensureLoop(config, spec.uuid, home, profile);
    else await fs.mkdir(home, { recursive: true, mode: 0o700 });
    crashPoint("create:disk");
    if (disk === "quota") await applyQuota(quotaSupport(config.gearBaseDir).mountPoint!, spec.uuid, profile);
  },

  async inspect({ config }, { uuid, home, spec, disk }) {
    const state = await readDisk(config, uuid, home, disk);
    return { state, drift: spec ? diskDrift(disk, config.profiles[spec.profile], state) : [] };
  },

  async remove({ config }, { uuid, home, disk }) {
    await removeDisk(config, uuid, home, disk);
  },
};
