// A gear's actual state, read back from the host facet by facet, with its drift from the marker's spec.
// The caller holds the gear lock (lifecycle.ts inspectGear, and create/update after converging).

import { readPasswd } from "../host/accounts";
import { gearAddresses } from "../host/addresses";
import { exists } from "../host/fs";
import { inspectCartridges } from "../cartridge/inspect";
import type { NodeContext } from "../context";
import { fieldDrift } from "../drift";
import type { Drift, GearState } from "../types";
import { gearHome } from "./env";
import { accountFacet } from "./facets/account";
import { cgroupFacet } from "./facets/cgroup";
import { diskFacet } from "./facets/disk";
import type { FoundGear } from "./facets/facet";
import { homeFacet } from "./facets/home";
import { networkFacet } from "./facets/network";
import { pamLimitsFacet } from "./facets/pam-limits";
import { processesFacet } from "./facets/processes";
import { schedulersFacet } from "./facets/schedulers";
import { selinuxFacet } from "./facets/selinux";
import { GearNotFoundError, readMarker } from "./marker";

export async function readGearState(ctx: NodeContext, uuid: string): Promise<GearState> {
  const { config } = ctx;
  const marker = await readMarker(config, uuid);
  const user = (await readPasswd()).find((u) => u.name === uuid && u.gecos === config.gecos) ?? null;
  if (!marker && !user) throw new GearNotFoundError(uuid);
  const spec = marker?.spec ?? null;
  const uid = spec?.uid ?? user!.uid;
  const home = gearHome(config, uuid);
  const found: FoundGear = {
    uuid,
    uid,
    home,
    spec,
    disk: marker?.disk ?? "unenforced",
    homeExists: await exists(home),
  };

  const phase: Drift[] = marker
    ? fieldDrift("phase", "created", marker.phase)
    : [{ field: "marker", expected: "present", actual: "missing" }];
  const account = await accountFacet.inspect(ctx, found);
  const layout = await homeFacet.inspect(ctx, found); // paths, modes, owners, env files
  const cgroups = await cgroupFacet.inspect(ctx, found); // read from the cgroup files
  const limits = await pamLimitsFacet.inspect(ctx, found);
  const disk = await diskFacet.inspect(ctx, found);
  const selinux = await selinuxFacet.inspect(ctx, found);
  const network = await networkFacet.inspect(ctx, found); // isolation rules
  const processes = await processesFacet.inspect(ctx, found);
  const schedulers = await schedulersFacet.inspect(ctx, found); // cron/at: denied, no jobs
  // cartridges: actual status of each (bin/control status) and record/dir differences
  const carts = found.homeExists ? await inspectCartridges(ctx, { uuid, uid, home, spec }) : null;

  return {
    uuid,
    uid,
    phase: marker?.phase ?? "unmanaged",
    spec,
    home,
    user: account.state,
    selinux: selinux.state,
    cgroup: cgroups.state,
    disk: disk.state,
    limitsFile: limits.state,
    addresses: gearAddresses(uid),
    network: network.state,
    processes: processes.state,
    cartridges: carts?.cartridges ?? [],
    drift: [
      ...phase,
      ...account.drift,
      ...layout.drift,
      ...cgroups.drift,
      ...limits.drift,
      ...disk.drift,
      ...selinux.drift,
      ...network.drift,
      ...processes.drift,
      ...schedulers.drift,
      ...(carts?.drift ?? []),
    ],
  };
}
