// The frontend as node operations reach it: NodeContext.frontend, the one seam (a test or a caller may pass
// another one). The node's own, nginx (operations.ts), is loaded on first use, so a start that never routes
// (the SSH forced command, gear-hook) does not load it.

import type { NodeContext } from "../context";
import type { GearFrontendSpec } from "./validate";

export interface Frontend {
  setGearFrontend(ctx: NodeContext, spec: GearFrontendSpec): Promise<void>;
  removeGearFrontend(ctx: NodeContext, gearUuid: string): Promise<void>;
  readGearFrontend(ctx: NodeContext, gearUuid: string): Promise<GearFrontendSpec | null>;
}

/** The node's frontend (node/frontend/operations.ts: nginx). */
export function nodeFrontend(): Frontend {
  const nginx = () => import("./operations");
  return {
    setGearFrontend: async (ctx, spec) => (await nginx()).setGearFrontend(ctx, spec),
    removeGearFrontend: async (ctx, gearUuid) => (await nginx()).removeGearFrontend(ctx, gearUuid),
    readGearFrontend: async (ctx, gearUuid) => (await nginx()).readGearFrontend(ctx, gearUuid),
  };
}
