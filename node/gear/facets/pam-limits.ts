// The gear's PAM limits facet: its nproc in limits.d, for ssh logins (node/host/pam-limits.ts).

import type { NodeContext } from "../../context";
import { closeLogins, readLimitsDrift, removeLimits, writeLimits } from "../../host/pam-limits";
import type { GearFacet, LeftGear } from "./facet";

interface PamLimitsFacet extends GearFacet<string | null> {
  /** the first step of a destroy: nproc 0, so no new login can start while the gear is killed */
  closeLogins(ctx: NodeContext, gear: LeftGear): Promise<void>;
}

export const pamLimitsFacet: PamLimitsFacet = {
  async ensure({ config }, { spec }) {
    await writeLimits(config, spec.uuid, config.profiles[spec.profile].pids);
  },

  async inspect({ config }, { uuid, spec }) {
    if (!spec) return { state: null, drift: [] };
    const { file, drift } = await readLimitsDrift(config, uuid, config.profiles[spec.profile]?.pids ?? 0);
    return { state: file, drift };
  },

  async closeLogins({ config }, { uuid }) {
    await closeLogins(config, uuid);
  },

  async remove({ config }, { uuid }) {
    await removeLimits(config, uuid);
  },
};
