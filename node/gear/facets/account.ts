// The gear's account facet: its group (gid = uid, name = uuid) and user (name = uuid, the gear GECOS).

import {
  accountDrift,
  ensureGroup,
  ensureUser,
  readGroups,
  readPasswd,
  removeAccount,
} from "../../host/accounts";
import type { GearState } from "../../types";
import { crashPoint } from "../crash-point";
import type { GearFacet } from "./facet";

export const accountFacet: GearFacet<GearState["user"]> = {
  async ensure({ config }, { spec, home }) {
    await ensureGroup(spec.uuid, spec.uid);
    crashPoint("create:group");
    await ensureUser({ name: spec.uuid, uid: spec.uid, home, shell: config.gearShell, gecos: config.gecos });
  },

  async inspect({ config }, { uuid, uid, home }) {
    const user = (await readPasswd()).find((u) => u.name === uuid && u.gecos === config.gecos) ?? null;
    const group = (await readGroups()).find((g) => g.name === uuid) ?? null;
    return {
      state: { exists: !!user, uid: user?.uid ?? null, gid: user?.gid ?? null },
      drift: accountDrift({ uid, home, shell: config.gearShell }, user, group),
    };
  },

  async remove(_ctx, { uuid }) {
    await removeAccount(uuid);
  },
};
