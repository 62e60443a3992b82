// Running an installed cartridge: `bin/control <action>` (start/restart/stop also record what the gear
// should run and converge its routes) and the actual status of a gear's cartridges.

import * as path from "path";
import { ValidationError } from "../../common/errors";
import type { NodeContext } from "../context";
import { withCreatedGear } from "../gear/ref";
import type { GearCartridgeState } from "../types";
import { applyFrontend, frontendOf, type CartridgeOptions } from "./frontend";
import { DEFAULT_HOOK_TIMEOUT_MS, runHook } from "./hooks";
import { recordStatus } from "./inspect";
import { validateAction, validateCartridgeName } from "./model";
import { findRecord, listRecords, writeRecord } from "./records";
import { CartridgeNotFoundError } from "./repository";

export interface ControlResult {
  readonly uuid: string;
  readonly cartridge: string;
  readonly action: string;
  readonly ok: boolean;
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run `bin/control <action> [args]` of an installed cartridge. start/restart also (re)apply the gear's
 * frontend routes and record that it should run; stop records that it should not.
 */
export async function controlCartridge(
  ctx: NodeContext,
  uuidIn: unknown,
  name: string,
  action: string,
  args: readonly string[] = [],
  opts: CartridgeOptions = {},
): Promise<ControlResult> {
  const fe = frontendOf(ctx, opts);
  return withCreatedGear(ctx, uuidIn, async (g) => {
    const rec = await findRecord(g.home, name);
    if (!rec || rec.phase !== "installed")
      throw new CartridgeNotFoundError(`gear ${g.uuid} has no installed cartridge ${name}`);
    validateAction(action, rec.manifest);
    if (args.some((a) => typeof a !== "string" || a.includes("\0")))
      throw new ValidationError("args", "must be strings without NUL");
    const records = await listRecords(g.home);
    const r = await runHook(ctx, g, records, rec.dir, {
      argv: [path.join(g.home, rec.dir, "bin/control"), action, ...args],
      label: `bin/control ${action}`,
      timeoutMs: opts.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS,
    });
    const ok = r.code === 0;
    if (ok && (action === "start" || action === "restart" || action === "stop")) {
      const desired = action === "stop" ? "stopped" : "started";
      if (rec.desired !== desired) await writeRecord(g.home, g.uid, { ...rec, desired });
      if (desired === "started" && fe)
        await applyFrontend(
          ctx,
          fe,
          { uuid: g.uuid, app: g.spec.app, namespace: g.spec.namespace },
          records.filter((x) => x.phase === "installed"),
        );
    }
    return {
      uuid: g.uuid,
      cartridge: rec.dir,
      action,
      ok,
      exitCode: r.code,
      stdout: r.stdout,
      stderr: r.stderr,
    };
  });
}

/** Actual status of a gear's cartridges (all, or the one named). */
export async function cartridgeStatus(
  ctx: NodeContext,
  uuidIn: unknown,
  name?: string,
): Promise<GearCartridgeState[]> {
  return withCreatedGear(ctx, uuidIn, async (g) => {
    const records = await listRecords(g.home);
    const chosen = name === undefined ? records : records.filter((r) => r.name === name || r.dir === name);
    if (name !== undefined && chosen.length === 0) {
      validateCartridgeName(name, "cartridge");
      throw new CartridgeNotFoundError(`gear ${g.uuid} has no cartridge ${name}`);
    }
    const out: GearCartridgeState[] = [];
    for (const r of chosen) out.push(await recordStatus(ctx, g, records, r));
    return out;
  });
}
