// The gear's SELinux facet: its MCS range on the home tree (node/host/mcs.ts, node/host/selinux.ts).

import { mcsLabel } from "../../host/mcs";
import { labelTree, readLabelDrift } from "../../host/selinux";
import type { GearState } from "../../types";
import type { GearFacet } from "./facet";

export const selinuxFacet: GearFacet<GearState["selinux"]> = {
  async ensure({ selinux }, { spec, home }) {
    if (selinux !== "unavailable") await labelTree(home, mcsLabel(spec.uid));
  },

  async inspect({ selinux }, { uid, home, homeExists }) {
    const label = mcsLabel(uid);
    if (selinux === "unavailable" || !homeExists)
      return { state: { status: selinux, label, applied: null }, drift: [] };
    const { applied, drift } = await readLabelDrift(home, label);
    return { state: { status: selinux, label, applied }, drift };
  },

  async remove() {
    // the labels go with the files
  },
};
