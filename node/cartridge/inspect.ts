// The actual state of a gear's cartridges: each record's `bin/control status` (exit 0 = running) and what
// differs from what the node expects. Used by `gear inspect` (under the gear lock: takes no lock itself).

import * as path from "path";
import type { NodeContext } from "../context";
import { listCartridgeDirs } from "../gear/home";
import type { GearRef } from "../gear/ref";
import type { Drift, GearCartridgeState, GearSpec } from "../types";
import { exists } from "../host/fs";
import { runHook } from "./hooks";
import { listRecords, type CartridgeRecord } from "./records";

export const STATUS_TIMEOUT_MS = 15_000;
const OUTPUT_MAX = 2000;

function clip(s: string): string {
  const t = s.trim();
  return t.length > OUTPUT_MAX ? `${t.slice(0, OUTPUT_MAX)}…` : t;
}

/** What a cartridge's state says of its record, before any status is read. */
function baseState(rec: CartridgeRecord): Omit<GearCartridgeState, "status" | "exitCode" | "output"> {
  return {
    name: rec.name,
    dir: rec.dir,
    vendor: rec.vendor,
    version: rec.softwareVersion,
    cartridgeVersion: rec.cartridgeVersion,
    phase: rec.phase,
    desired: rec.desired,
  };
}

/** Run bin/control status of one installed cartridge. */
export async function recordStatus(
  ctx: NodeContext,
  g: GearRef,
  records: readonly CartridgeRecord[],
  rec: CartridgeRecord,
): Promise<GearCartridgeState> {
  const base = baseState(rec);
  if (rec.phase !== "installed")
    return { ...base, status: "unknown", exitCode: null, output: `cartridge is ${rec.phase}` };
  try {
    const r = await runHook(ctx, g, records, rec.dir, {
      argv: [path.join(g.home, rec.dir, "bin", "control"), "status"],
      label: "bin/control status",
      timeoutMs: STATUS_TIMEOUT_MS,
    });
    return {
      ...base,
      status: r.code === 0 ? "started" : "stopped",
      exitCode: r.code,
      output: clip(`${r.stdout}\n${r.stderr}`),
    };
  } catch (e) {
    return { ...base, status: "unknown", exitCode: null, output: (e as Error).message };
  }
}

/** Every cartridge of a gear with its actual status, and the drift between records, dirs and status. */
export async function inspectCartridges(
  ctx: NodeContext,
  g: { uuid: string; uid: number; home: string; spec: GearSpec | null },
): Promise<{ cartridges: GearCartridgeState[]; drift: Drift[] }> {
  const records = await listRecords(g.home);
  const dirs = await listCartridgeDirs(g.home);
  const cartridges: GearCartridgeState[] = [];
  const drift: Drift[] = [];
  for (const rec of records) {
    const st = g.spec
      ? await recordStatus(ctx, { ...g, spec: g.spec }, records, rec)
      : { ...baseState(rec), status: "unknown" as const, exitCode: null, output: "gear has no spec" };
    cartridges.push(st);
    if (rec.phase !== "installed")
      drift.push({ field: `cartridge:${rec.dir}.phase`, expected: "installed", actual: rec.phase });
    else if (st.status !== "unknown" && st.status !== rec.desired)
      drift.push({ field: `cartridge:${rec.dir}.status`, expected: rec.desired, actual: st.status });
    if (!(await exists(path.join(g.home, rec.dir))))
      drift.push({ field: `cartridge:${rec.dir}.dir`, expected: "dir", actual: "missing" });
  }
  for (const d of dirs) {
    if (records.some((r) => r.dir === d)) continue;
    cartridges.push({
      name: d,
      dir: d,
      vendor: null,
      version: null,
      cartridgeVersion: null,
      phase: "unrecorded",
      desired: null,
      status: "unknown",
      exitCode: null,
      output: "directory without a cartridge record",
    });
    drift.push({ field: `cartridge:${d}`, expected: "absent", actual: "unrecorded directory" });
  }
  return { cartridges, drift };
}
