// What a cartridge creates at the top of the gear-owned app-root dirs belongs to it: found by comparing
// those dirs before and after its install, and removed with it, as the gear.

import * as path from "path";
import type { NodeContext } from "../context";
import { listNoFollow } from "../host/gear-fs";
import type { GearRef } from "../gear/ref";
import { runInGear } from "../gear/run-in-gear";

/** Gear dirs (gear-owned) where what an install creates at the top level belongs to the cartridge. */
export const OWNED_DIRS = ["app-root/data", "app-root/logs", "app-root/runtime", "app-root/runtime/repo"];

export async function snapshotOwnedDirs(home: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const d of OWNED_DIRS) out[d] = await listNoFollow(path.join(home, d));
  return out;
}

/** The entries (relative to the home) in `after` that `before` did not have. Pure. */
export function newEntries(
  before: Readonly<Record<string, readonly string[]>>,
  after: Readonly<Record<string, readonly string[]>>,
): string[] {
  const out: string[] = [];
  for (const d of OWNED_DIRS) {
    const had = new Set(before[d] ?? []);
    for (const n of after[d] ?? []) {
      const rel = `${d}/${n}`;
      if (!had.has(n) && !OWNED_DIRS.includes(rel)) out.push(rel);
    }
  }
  return out.sort();
}

/** Remove paths (relative to the home) as the gear: it can only remove what it could remove itself. */
export async function removeAsGear(ctx: NodeContext, g: GearRef, rels: readonly string[]): Promise<void> {
  if (rels.length === 0) return;
  const abs = rels.map((r) => path.join(g.home, r));
  const r = await runInGear(ctx, g.uuid, ["/bin/rm", "-rf", "--", ...abs], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`removing ${rels.join(", ")} failed: ${r.stderr.trim()}`);
}
