// A created gear as the operations on it (cartridges, deploys) see it, and the one way to get it: by its
// marker, refusing a gear that is not (or no longer) fully created.

import { ConflictError } from "../../common/errors";
import type { NodeContext } from "../context";
import { withFileLock } from "../host/lock";
import { mcsLabel } from "../host/mcs";
import { labelTree } from "../host/selinux/label";
import type { GearSpec } from "../types";
import { validateUuid } from "../validate";
import { gearHome } from "./env";
import { ensureStateDirs, GearNotFoundError, lockPath, readMarker } from "./marker";

export interface GearRef {
  readonly uuid: string;
  readonly uid: number;
  readonly home: string;
  readonly spec: GearSpec;
}

/** The gear `uuidIn`, which must be fully created (GearNotFoundError, or ConflictError while it is not). */
export async function createdGear(ctx: NodeContext, uuidIn: unknown): Promise<GearRef> {
  const uuid = validateUuid(uuidIn);
  const marker = await readMarker(ctx.config, uuid);
  if (!marker) throw new GearNotFoundError(uuid);
  if (marker.phase !== "created")
    throw new ConflictError(`gear ${uuid} is ${marker.phase}; finish it first (geartrain node gear ...)`);
  return { uuid, uid: marker.spec.uid, home: gearHome(ctx.config, uuid), spec: marker.spec };
}

/**
 * Run `fn` on the created gear under its lock (the gear is looked up once the lock is held). Under SELinux,
 * root's writes into the home (env files, keys, cartridge files) are created at root's level s0, so the home
 * is relabelled to the gear's context when `fn` is done, whether it succeeded or not.
 */
export async function withCreatedGear<T>(
  ctx: NodeContext,
  uuidIn: unknown,
  fn: (g: GearRef) => Promise<T>,
): Promise<T> {
  const uuid = validateUuid(uuidIn);
  await ensureStateDirs(ctx.config);
  return withFileLock(lockPath(ctx.config, uuid), async () => {
    const g = await createdGear(ctx, uuid);
    try {
      return await fn(g);
    } finally {
      if (ctx.selinux !== "unavailable" && process.getuid?.() === 0) await labelTree(g.home, mcsLabel(g.uid));
    }
  });
}
