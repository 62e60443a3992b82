// The frontend as cartridge operations use it: the context's (ctx.frontend, node/frontend/node-frontend.ts),
// or the one a caller passes (options.frontend; null: no routes). The gear's routes follow its cartridges.

import type { NodeContext } from "../context";
import { nodeFrontend, type Frontend } from "../frontend/node-frontend";
import type { FrontendRoute, GearFrontendSpec } from "../frontend/validate";
import { appHostname } from "../gear/env";
import { gearRoutes, type RouteSpec } from "./model";
import type { CartridgeRecord } from "./records";

export { nodeFrontend, type Frontend, type FrontendRoute, type GearFrontendSpec };

export interface CartridgeOptions {
  /** the frontend to route through; default: ctx.frontend; null: no routes */
  readonly frontend?: Frontend | null;
  /** per-hook timeout (default 300 s) */
  readonly hookTimeoutMs?: number;
}

export function frontendOf(ctx: NodeContext, opts: CartridgeOptions): Frontend | null {
  return opts.frontend !== undefined ? opts.frontend : ctx.frontend;
}

/**
 * The frontend spec of a gear for its cartridges: the app host name (plus any host names already
 * configured, e.g. aliases) and the Mappings routes of every installed cartridge. null: no routes left.
 */
export function desiredFrontend(
  gearUuid: string,
  app: string,
  namespace: string,
  cloudDomain: string,
  records: readonly Pick<CartridgeRecord, "dir" | "endpoints">[],
  current: GearFrontendSpec | null,
): { spec: GearFrontendSpec | null; skipped: string[] } {
  const { routes, skipped } = gearRoutes(records);
  if (routes.length === 0) return { spec: null, skipped };
  const host = appHostname(app, namespace, cloudDomain);
  const hostnames = [host, ...(current?.hostnames ?? []).filter((h) => h !== host)];
  const spec: GearFrontendSpec = {
    gearUuid,
    hostnames,
    routes: routes as RouteSpec[],
    ...(current?.idle !== undefined ? { idle: current.idle } : {}),
  };
  return { spec, skipped };
}

/** Converge the gear's frontend to its cartridges' routes. */
export async function applyFrontend(
  ctx: NodeContext,
  fe: Frontend,
  gear: { uuid: string; app: string; namespace: string },
  records: readonly Pick<CartridgeRecord, "dir" | "endpoints">[],
): Promise<{ spec: GearFrontendSpec | null; skipped: string[] }> {
  const current = await fe.readGearFrontend(ctx, gear.uuid);
  const want = desiredFrontend(gear.uuid, gear.app, gear.namespace, ctx.config.cloudDomain, records, current);
  if (want.spec) await fe.setGearFrontend(ctx, want.spec);
  else if (current) await fe.removeGearFrontend(ctx, gear.uuid);
  return want;
}

/** Put back a frontend spec read earlier (rollback). */
export async function restoreFrontend(
  ctx: NodeContext,
  fe: Frontend,
  uuid: string,
  previous: GearFrontendSpec | null,
): Promise<void> {
  if (previous) await fe.setGearFrontend(ctx, previous);
  else if (await fe.readGearFrontend(ctx, uuid)) await fe.removeGearFrontend(ctx, uuid);
}
