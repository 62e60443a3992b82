// The gear's SELinux facet: the gear policy module is installed (node/host/selinux/policy.ts), and the whole
// home tree is the gear file type at the gear's MCS level (node/host/mcs.ts, node/host/selinux/label.ts).
// Root-side operations that write into a home re-apply the labels when they finish (../ref.ts).

import { mcsLabel } from "../../host/mcs";
import { labelTree, readLabelDrift } from "../../host/selinux/label";
import { ensurePolicyOnce } from "../../host/selinux/policy";
import type { GearState } from "../../types";
import type { GearFacet } from "./facet";

export const selinuxFacet: GearFacet<GearState["selinux"]> = {
  async ensure({ selinux, config }, { spec, home }) {
    if (selinux === "unavailable") return;
    await ensurePolicyOnce(config, selinux);
    await labelTree(home, mcsLabel(spec.uid));
  },

  async inspect({ selinux }, { uid, home, homeExists }) {
    const label = mcsLabel(uid);
    if (selinux === "unavailable" || !homeExists)
      return { state: { status: selinux, label, applied: null, mislabelled: null }, drift: [] };
    const { applied, mislabelled, drift } = await readLabelDrift(home, label);
    return { state: { status: selinux, label, applied, mislabelled }, drift };
  },

  async remove() {
    // the labels go with the files
  },
};
