// The gear's network facet: the netfilter rules that isolate its loopback block (node/host/netfilter.ts).

import { ensureGearNetwork, networkDrift, readGearNetwork, removeGearNetwork } from "../../host/netfilter";
import type { NetworkState } from "../../types";
import type { GearFacet } from "./facet";

export const networkFacet: GearFacet<NetworkState> = {
  async ensure(ctx, { spec }) {
    await ensureGearNetwork(ctx, spec.uuid, spec.uid);
  },

  async inspect(ctx, { uuid, uid }) {
    const state = await readGearNetwork(ctx, uuid, uid);
    return { state, drift: networkDrift(state) };
  },

  async remove(ctx, { uuid, uid }) {
    if (uid !== null) await removeGearNetwork(ctx, uuid, uid);
  },
};
