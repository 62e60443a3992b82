// Idling (OpenShift: oo-admin-ctl-gears idlegear / unidlegear, oo-restorer): an idle gear's cartridges are
// stopped and its route serves the "starting" page through the unidler (node/frontend/unidler.ts), which
// starts the gear here on the first request and switches the route back to the app.

import { gearHome } from "../gear/env";
import type { NodeContext } from "../context";
import { setGearIdle, startUnidler, type Unidler } from "../frontend/unidler";
import { validateUuid } from "../validate";
import { controlCartridge } from "./control";
import type { CartridgeOptions } from "./frontend";
import { listRecords, type CartridgeRecord } from "./records";

/** Cartridges serving routes start last and stop first, so a database is up before its web app. */
function servesRoutes(rec: CartridgeRecord): boolean {
  return (rec.manifest.Endpoints ?? []).some((e) => e.Mappings !== undefined);
}

async function installedInStartOrder(ctx: NodeContext, uuidIn: unknown): Promise<CartridgeRecord[]> {
  const uuid = validateUuid(uuidIn);
  const records = (await listRecords(gearHome(ctx.config, uuid))).filter((r) => r.phase === "installed");
  return [...records.filter((r) => !servesRoutes(r)), ...records.filter(servesRoutes)];
}

async function controlAll(
  ctx: NodeContext,
  uuid: string,
  records: CartridgeRecord[],
  action: "start" | "stop",
  opts: CartridgeOptions,
): Promise<void> {
  for (const rec of records) {
    const r = await controlCartridge(ctx, uuid, rec.dir, action, [], opts);
    if (!r.ok) throw new Error(`gear ${uuid}: ${rec.dir} bin/control ${action} failed: ${r.stderr.trim()}`);
  }
}

/** Starts every installed cartridge of the gear (databases first). */
export async function startGearCartridges(
  ctx: NodeContext,
  uuid: string,
  opts: CartridgeOptions = {},
): Promise<void> {
  await controlAll(ctx, uuid, await installedInStartOrder(ctx, uuid), "start", opts);
}

/** Stops the gear's cartridges (web first) and routes its host names to the starting page. */
export async function idleGear(ctx: NodeContext, uuid: string, opts: CartridgeOptions = {}): Promise<void> {
  const records = await installedInStartOrder(ctx, uuid);
  await controlAll(ctx, uuid, [...records].reverse(), "stop", opts);
  if (!(await setGearIdle(ctx, uuid, true))) throw new Error(`gear ${uuid} has no frontend routes to idle`);
}

/** The node's unidler: idle gears are started through `startGearCartridges` on their first request. */
export function runUnidler(
  ctx: NodeContext,
  opts: CartridgeOptions & { listen?: { host: string; port: number } } = {},
): Promise<Unidler> {
  return startUnidler({
    ctx,
    listen: opts.listen,
    startGear: (uuid) => startGearCartridges(ctx, uuid, opts),
  });
}
