// Processes of a cartridge: every hook runs with <PREFIX>CARTRIDGE=<dir> in its environment, and the
// daemons it starts inherit it; that is how the node finds what a cartridge left running after stop and
// teardown. A failed install also kills every gear process that was not there before it began.

import { promises as fs } from "fs";
import type { NodeContext } from "../context";
import type { GearRef } from "../gear/ref";
import { processesOfUid } from "../host/procs";
import { CARTRIDGE_MARK } from "./model";

/** "<pid>:<start time>": identifies a process across pid reuse. */
async function procKey(pid: number): Promise<string | null> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
  if (!stat) return null;
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return `${pid}:${rest[19] ?? "0"}`;
}

export async function processKeys(uid: number): Promise<Set<string>> {
  const out = new Set<string>();
  for (const p of await processesOfUid(uid)) {
    const k = await procKey(p.pid);
    if (k) out.add(k);
  }
  return out;
}

async function hasMark(pid: number, mark: string): Promise<boolean> {
  const env = await fs.readFile(`/proc/${pid}/environ`).catch(() => null);
  if (!env) return false;
  return env.toString("utf8").split("\0").includes(mark);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stop the gear processes that carry `mark` (NAME=value) in their environment, or (when `baseline` is
 * given) that were not running at the baseline. SIGTERM, up to `graceMs`, then SIGKILL until none is left.
 * Returns how many were signalled.
 */
export async function killCartridgeProcesses(
  uid: number,
  mark: string,
  baseline: Set<string> | null = null,
  graceMs = 3000,
): Promise<number> {
  const targets = async () => {
    const out: { pid: number; key: string }[] = [];
    for (const p of await processesOfUid(uid)) {
      const key = await procKey(p.pid);
      if (!key) continue;
      if ((baseline && !baseline.has(key)) || (await hasMark(p.pid, mark))) out.push({ pid: p.pid, key });
    }
    return out;
  };
  const signalled = new Set<string>();
  const deadline = Date.now() + graceMs;
  for (let round = 0; round < 200; round++) {
    const list = await targets();
    if (list.length === 0) return signalled.size;
    const hard = Date.now() >= deadline;
    for (const t of list) {
      if ((await procKey(t.pid)) !== t.key) continue; // exited and pid reused
      try {
        process.kill(t.pid, hard ? "SIGKILL" : "SIGTERM");
      } catch {
        /* gone */
      }
      signalled.add(t.key);
    }
    await sleep(hard ? 20 : 100);
  }
  throw new Error(`processes of uid ${uid} with ${mark} survive SIGKILL`);
}

/** Stop what cartridge `dir` left running in the gear (with `baseline`: also every process started since). */
export async function killMarked(
  ctx: NodeContext,
  g: GearRef,
  dir: string,
  baseline: Set<string> | null,
): Promise<number> {
  return killCartridgeProcesses(g.uid, `${ctx.config.envPrefix}${CARTRIDGE_MARK}=${dir}`, baseline);
}
