// Processes and SysV IPC of a gear, read from /proc; killing them all (reference §1.5 destroy order).

import { promises as fs, readdirSync, readFileSync } from "fs";
import { run } from "./exec";
import type { CgroupDriver } from "./cgroups/driver";

export interface ProcInfo {
  readonly pid: number;
  readonly uid: number;
  readonly comm: string;
}

/**
 * Every live process whose real, effective, saved or fs uid is `uid` (zombies are already dead: skipped).
 * Read synchronously: /proc never waits on a disk, and a sweep of a few hundred processes then takes about
 * a millisecond instead of a thread-pool round trip per process.
 */
export async function processesOfUid(uid: number): Promise<ProcInfo[]> {
  const out: ProcInfo[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(name)) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${name}/status`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/m.exec(status);
    if (!m || ![m[1], m[2], m[3], m[4]].map(Number).includes(uid)) continue;
    if (/^State:\s+[ZX]/m.test(status)) continue;
    const comm = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? "?";
    out.push({ pid: Number(name), uid, comm });
  }
  return out;
}

/** The program a live process runs (/proc/<pid>/exe, read by root); null when it is gone or unreadable. */
export async function processExe(pid: number): Promise<string | null> {
  return fs.readlink(`/proc/${pid}/exe`).catch(() => null);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Kill every process of the gear and verify none is left: forbid forks (pids.max 0), freeze the group,
 * SIGKILL everything in it, thaw so the kills are delivered; then sweep by uid for anything outside the
 * group. Repeats until a round finds nothing; throws if processes survive.
 */
export async function killGear(cg: CgroupDriver, uuid: string, uid: number): Promise<number> {
  let killed = 0;
  const hasGroup = await cg.gearExists(uuid);
  if (hasGroup) await cg.setPidsMax(uuid, "0").catch(() => undefined);
  for (let round = 0; round < 40; round++) {
    let found = 0;
    if (hasGroup) {
      const pids = await cg.pids(uuid);
      if (pids.length > 0) {
        found += pids.length;
        await cg.freeze(uuid, true).catch(() => undefined);
        await cg.killAll(uuid);
        await cg.freeze(uuid, false).catch(() => undefined);
      }
    }
    const byUid = (await processesOfUid(uid)).filter((p) => p.pid !== process.pid);
    for (const p of byUid) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    found += byUid.length;
    killed += found;
    if (found === 0) return killed;
    await sleep(Math.min(5 * (round + 1), 50));
  }
  const left = [...(hasGroup ? await cg.pids(uuid) : []), ...(await processesOfUid(uid)).map((p) => p.pid)];
  if (left.length > 0)
    throw new Error(`gear ${uuid}: processes survive SIGKILL: ${[...new Set(left)].join(" ")}`);
  return killed;
}

/** SysV IPC objects owned by uid, from /proc/sysvipc (no parsing of ipcs output). */
export async function ipcObjectsOf(uid: number): Promise<{ kind: "-m" | "-q" | "-s"; id: string }[]> {
  const out: { kind: "-m" | "-q" | "-s"; id: string }[] = [];
  for (const [file, kind] of [
    ["shm", "-m"],
    ["msg", "-q"],
    ["sem", "-s"],
  ] as const) {
    const text = await fs.readFile(`/proc/sysvipc/${file}`, "utf8").catch(() => "");
    const lines = text.split("\n").filter((l) => l.trim());
    const head = (lines.shift() ?? "").trim().split(/\s+/);
    const idI = head.indexOf(kind === "-m" ? "shmid" : kind === "-q" ? "msqid" : "semid");
    const uidI = head.indexOf("uid");
    for (const l of lines) {
      const f = l.trim().split(/\s+/);
      if (idI >= 0 && uidI >= 0 && Number(f[uidI]) === uid) out.push({ kind, id: f[idI] });
    }
  }
  return out;
}

export async function purgeIpc(uid: number): Promise<void> {
  for (const o of await ipcObjectsOf(uid)) await run(["ipcrm", o.kind, o.id]);
}
