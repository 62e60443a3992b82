// Gear lifecycle: create, inspect, update, destroy, list. Each is idempotent and resumable: a marker with the
// desired spec is written before the first host change, every step converges (does only what is missing),
// and the marker's phase says whether a create or destroy finished.

import * as path from "path";
import { ConflictError } from "../../common/errors";
import { readPasswd } from "../host/accounts";
import type { NodeContext } from "../context";
import { chooseDiskMode, DiskMode, imagePath } from "../host/disk";
import { gearHome } from "./env";
import { withFileLock } from "../host/lock";
import {
  applicationsLockPath,
  ensureStateDirs,
  listMarkers,
  GearNotFoundError,
  lockPath,
  readMarker,
  removeMarker,
  writeMarker,
} from "./marker";
import type { GearSpec, GearState } from "../types";
import { validateGearSpec, validateUpdate, validateUuid } from "../validate";
import { exists } from "../host/fs";
import { crashPoint } from "./crash-point";
import { accountFacet } from "./facets/account";
import { cgroupFacet } from "./facets/cgroup";
import { diskFacet } from "./facets/disk";
import type { DesiredGear, LeftGear } from "./facets/facet";
import { homeFacet } from "./facets/home";
import { networkFacet } from "./facets/network";
import { pamLimitsFacet } from "./facets/pam-limits";
import { processesFacet } from "./facets/processes";
import { schedulersFacet } from "./facets/schedulers";
import { selinuxFacet } from "./facets/selinux";
import { readGearState } from "./inspect";
import { canonicalSpec, checkApplication, preflight } from "./preflight";

/**
 * Bring every facet of the gear to the spec, in this order. Each step is idempotent. The crash points of
 * the kill -9 tests sit between the facets (and inside account, disk and home, between their two changes).
 */
async function converge(ctx: NodeContext, spec: GearSpec, disk: DiskMode, fresh: boolean): Promise<void> {
  const gear: DesiredGear = { spec, home: gearHome(ctx.config, spec.uuid), disk, fresh };
  await schedulersFacet.ensure(ctx, gear); // before the account: it never has a way to cron or at
  await accountFacet.ensure(ctx, gear); // create:group
  crashPoint("create:user");
  await cgroupFacet.ensure(ctx, gear);
  await networkFacet.ensure(ctx, gear); // before any gear process can exist
  crashPoint("create:cgroup");
  await diskFacet.ensure(ctx, gear); // create:disk
  await homeFacet.ensure(ctx, gear); // create:home
  await pamLimitsFacet.ensure(ctx, gear);
  crashPoint("create:limits");
  await selinuxFacet.ensure(ctx, gear);
  await processesFacet.ensure(ctx, gear); // repair: a gear process outside its cgroup is moved in
}

export interface CreateOptions {
  /** return the inspected state (default true); false returns a summary only (benchmarks, bulk) */
  readonly inspect?: boolean;
}

export interface GearSummary {
  readonly uuid: string;
  readonly uid: number | null;
  readonly phase: GearState["phase"];
  readonly app: string | null;
  readonly namespace: string | null;
  /** the application id (null: none, the gear is an application alone) */
  readonly appUuid: string | null;
  readonly profile: string | null;
}

function summary(
  uuid: string,
  uid: number | null,
  phase: GearSummary["phase"],
  spec: GearSpec | null,
): GearSummary {
  return {
    uuid,
    uid,
    phase,
    app: spec?.app ?? null,
    namespace: spec?.namespace ?? null,
    appUuid: spec?.appUuid ?? null,
    profile: spec?.profile ?? null,
  };
}

export async function createGear(
  ctx: NodeContext,
  input: unknown,
  opts: CreateOptions = {},
): Promise<GearState | GearSummary> {
  const spec = validateGearSpec(input, ctx.config);
  // refuse clashes and impossible disk modes before anything (even the state dir) is made
  await preflight(ctx.config, spec);
  chooseDiskMode(ctx.config);
  await ensureStateDirs(ctx.config);
  return withFileLock(lockPath(ctx.config, spec.uuid), async () => {
    const marker = await readMarker(ctx.config, spec.uuid);
    if (marker?.phase === "destroying") {
      throw new ConflictError(
        `gear ${spec.uuid} is being destroyed; finish with: geartrain node gear destroy ${spec.uuid}`,
      );
    }
    if (marker && canonicalSpec(marker.spec) !== canonicalSpec(spec)) {
      throw new ConflictError(
        `gear ${spec.uuid} exists with a different spec; use update to change profile or env`,
      );
    }
    await preflight(ctx.config, spec);
    const disk = marker?.disk ?? chooseDiskMode(ctx.config);
    // fresh: first attempt and no account yet, so no gear process can exist (enables the fast layout path)
    const fresh = !marker && !(await readPasswd()).some((u) => u.name === spec.uuid);
    if (!marker || marker.phase !== "created") {
      // under the node's application lock: two creates cannot both take one name for two applications
      await withFileLock(applicationsLockPath(ctx.config), async () => {
        await checkApplication(ctx.config, spec);
        await writeMarker(ctx.config, { phase: "creating", spec, disk });
      });
    }
    crashPoint("create:marker");
    await converge(ctx, spec, disk, fresh);
    if (!marker || marker.phase !== "created")
      await writeMarker(ctx.config, { phase: "created", spec, disk });
    return opts.inspect === false
      ? summary(spec.uuid, spec.uid, "created", spec)
      : readGearState(ctx, spec.uuid);
  });
}

/** Change profile/env, or (with just a uuid) repair drift. Completes a partial create too. */
export async function updateGear(ctx: NodeContext, input: unknown): Promise<GearState> {
  const uuid = validateUuid((input as { uuid?: unknown } | null)?.uuid);
  await ensureStateDirs(ctx.config);
  return withFileLock(lockPath(ctx.config, uuid), async () => {
    const marker = await readMarker(ctx.config, uuid);
    if (!marker) throw new GearNotFoundError(uuid);
    if (marker.phase === "destroying") throw new ConflictError(`gear ${uuid} is being destroyed`);
    const spec = validateUpdate(input, marker.spec, ctx.config);
    await preflight(ctx.config, spec);
    await writeMarker(ctx.config, { ...marker, spec });
    await converge(ctx, spec, marker.disk, false);
    await writeMarker(ctx.config, { phase: "created", spec, disk: marker.disk });
    return readGearState(ctx, uuid);
  });
}

export interface DestroyResult {
  readonly uuid: string;
  /** false when there was nothing left to destroy */
  readonly destroyed: boolean;
  readonly killed: number;
}

export async function destroyGear(ctx: NodeContext, uuidIn: unknown): Promise<DestroyResult> {
  const uuid = validateUuid(uuidIn);
  const { config, cgroup } = ctx;
  await ensureStateDirs(config);
  return withFileLock(lockPath(config, uuid), async () => {
    const marker = await readMarker(config, uuid);
    const user = (await readPasswd()).find((u) => u.name === uuid);
    if (user && user.gecos !== config.gecos)
      throw new ConflictError(`user ${uuid} is not a gear; refusing to remove it`);
    const home = gearHome(config, uuid);
    const leftovers =
      (await cgroup.gearExists(uuid)) || (await exists(home)) || (await exists(imagePath(config, uuid)));
    if (!marker && !user && !leftovers) {
      await ctx.frontend.removeGearFrontend(ctx, uuid); // a destroy that stopped after removing the marker
      return { uuid, destroyed: false, killed: 0 };
    }
    if (marker && marker.phase !== "destroying")
      await writeMarker(config, { ...marker, phase: "destroying" });
    const gear: LeftGear = {
      uuid,
      uid: marker?.spec.uid ?? user?.uid ?? null,
      home,
      disk: marker?.disk ?? null,
    };
    // 1. no new logins (PAM nproc 0), 2. kill everything and verify
    await pamLimitsFacet.closeLogins(ctx, gear);
    const killed = await processesFacet.remove(ctx, gear); // and what it left in /tmp, /dev/shm, mqueues
    await schedulersFacet.remove(ctx, gear);
    if (gear.uid !== null) crashPoint("destroy:killed");
    // 3. disk: loop image (whatever the marker says, if one is there), quota entry
    await diskFacet.remove(ctx, gear);
    // 4. network, account, home, cgroup, PAM file, marker (marker last: a crash before here is resumed by re-running)
    await networkFacet.remove(ctx, gear);
    await accountFacet.remove(ctx, gear);
    crashPoint("destroy:account");
    await homeFacet.remove(ctx, gear);
    crashPoint("destroy:home");
    await cgroupFacet.remove(ctx, gear);
    await selinuxFacet.remove(ctx, gear);
    await pamLimitsFacet.remove(ctx, gear);
    await removeMarker(config, uuid);
    await ctx.frontend.removeGearFrontend(ctx, uuid); // after the marker: a concurrent setGearFrontend is refused from here on
    return { uuid, destroyed: true, killed };
  });
}

export async function inspectGear(ctx: NodeContext, uuidIn: unknown): Promise<GearState> {
  const uuid = validateUuid(uuidIn);
  await ensureStateDirs(ctx.config);
  return withFileLock(lockPath(ctx.config, uuid), () => readGearState(ctx, uuid));
}

/** Gears on this node: accounts with the gear GECOS whose home is under the base dir, plus markers. */
export async function listGears(ctx: NodeContext): Promise<GearSummary[]> {
  const { config } = ctx;
  const users = (await readPasswd()).filter(
    (u) => u.gecos === config.gecos && path.dirname(u.home) === config.gearBaseDir,
  );
  const markers = await listMarkers(config);
  const uuids = [...new Set([...users.map((u) => u.name), ...markers])].sort();
  const out: GearSummary[] = [];
  for (const uuid of uuids) {
    const m = await readMarker(config, uuid).catch(() => null);
    const u = users.find((x) => x.name === uuid);
    out.push(summary(uuid, m?.spec.uid ?? u?.uid ?? null, m?.phase ?? "unmanaged", m?.spec ?? null));
  }
  return out;
}
