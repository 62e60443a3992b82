// The gear's home facet: the layout of ../home.ts (paths, modes, owners, ~/.env files) applied and compared,
// and the home removed at destroy (after the gear's processes are gone).

import { promises as fs } from "fs";
import { removeGearTree } from "../../host/gear-fs";
import { crashPoint } from "../crash-point";
import { applyHome, homeLayout, pruneUserVars, readHomeDrift } from "../home";
import type { GearFacet } from "./facet";

export const homeFacet: GearFacet = {
  async ensure({ config }, { spec, home, fresh }) {
    await applyHome(home, homeLayout(spec, config), spec.uid, fresh);
    crashPoint("create:home");
    await pruneUserVars(home, spec);
  },

  async inspect({ config }, { home, spec, uid, homeExists }) {
    if (!spec) return { state: null, drift: [] };
    if (!homeExists) return { state: null, drift: [{ field: "path:.", expected: "dir", actual: "missing" }] };
    return { state: null, drift: await readHomeDrift(home, homeLayout(spec, config), uid) };
  },

  async remove(_ctx, { home, uid }) {
    // with the gear's reach only (node/host/gear-fs.ts); without a known uid, the home's group names it
    const gearUid = uid ?? (await fs.stat(home).catch(() => null))?.gid ?? -1;
    await removeGearTree(home, { uid: gearUid });
  },
};
