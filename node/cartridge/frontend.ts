// The node frontend (nginx, node/frontend/) as cartridge operations use it: an interface with the frontend
// module's exact signatures, injected (options.frontend) so callers and tests can pass another one.

import type { NodeContext } from "../context";
import {
  readGearFrontend,
  removeGearFrontend,
  setGearFrontend,
  type FrontendRoute,
  type GearFrontendSpec,
} from "../frontend/operations";
import { appHostname } from "../gear/env";
import { gearRoutes, type RouteSpec } from "./model";
import type { CartridgeRecord } from "./records";

export type { FrontendRoute, GearFrontendSpec };

export interface Frontend {
  setGearFrontend(ctx: NodeContext, spec: GearFrontendSpec): Promise<void>;
  removeGearFrontend(ctx: NodeContext, gearUuid: string): Promise<void>;
  readGearFrontend(ctx: NodeContext, gearUuid: string): Promise<GearFrontendSpec | null>;
}

/** The node's frontend (node/frontend: nginx), as cartridge operations use it by default. */
export function nodeFrontend(): Frontend {
  return { setGearFrontend, removeGearFrontend, readGearFrontend };
}

export interface CartridgeOptions {
  /** the frontend to route through; default: the node's (node/frontend); null: no routes */
  readonly frontend?: Frontend | null;
  /** per-hook timeout (default 300 s) */
  readonly hookTimeoutMs?: number;
}

export function frontendOf(opts: CartridgeOptions): Frontend | null {
  return opts.frontend !== undefined ? opts.frontend : nodeFrontend();
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
