// Per-gear cgroups under a Geartrain root, v1 and v2. All paths are built from a validated uuid and the
// hierarchy found by detect.ts; every write is a plain file write (no shell, no libcgroup).

import { promises as fs } from "fs";
import * as path from "path";
import type { Hierarchy, V1Controller } from "./detect";
import { V1_CONTROLLERS } from "./detect";
import { CgroupFile, CgroupLimits, v1Files, v2Files } from "./limits";
import { exists } from "../fs";

export interface CgroupDriver {
  readonly version: "v1" | "v2";
  /** the Geartrain root group in each hierarchy */
  rootDirs(): string[];
  /** the gear's group dir in each hierarchy */
  gearDirs(uuid: string): string[];
  /** cgroup.procs files a process must join to be "in the gear" */
  procsFiles(uuid: string): string[];
  desiredFiles(limits: CgroupLimits): CgroupFile[];
  ensureRoot(): Promise<void>;
  /** mkdir the gear group and write every limit; idempotent */
  ensureGear(uuid: string, limits: CgroupLimits): Promise<void>;
  /** read back every limit file: key "controller/file" → value (null = missing) */
  readGear(uuid: string): Promise<Record<string, string | null>>;
  gearExists(uuid: string): Promise<boolean>;
  /** pids in the gear group (union over hierarchies) */
  pids(uuid: string): Promise<number[]>;
  freeze(uuid: string, frozen: boolean): Promise<void>;
  setPidsMax(uuid: string, value: string): Promise<void>;
  /** move a process into the gear group */
  attach(uuid: string, pid: number): Promise<void>;
  /**
   * Let the gear's own processes move themselves into its group (git push deploys: the SSH forced command
   * joins before running git). v1: cgroup.procs of each gear group is chowned to the gear; the kernel lets a
   * writer move only processes of its own uid, and only into a group whose file it may write, so a gear
   * can join its own group and nothing else. v2: no-op; the kernel also requires write access to the common
   * ancestor's cgroup.procs, so only root can move a process in from sshd's cgroup (see gear-pam-attach).
   */
  delegate(uuid: string, uid: number): Promise<void>;
  /** SIGKILL everything in the group (cgroup.kill on v2 ≥ 5.14; otherwise by pid) */
  killAll(uuid: string): Promise<void>;
  removeGear(uuid: string): Promise<void>;
  /** names of groups under the Geartrain root */
  listGears(): Promise<string[]>;
  /** is pid inside the gear's group in every hierarchy? */
  pidInGear(pid: number, uuid: string): Promise<boolean>;
  cpuUsageNs(uuid: string): Promise<number>;
  oomKills(uuid: string): Promise<number>;
}

async function readOrNull(file: string): Promise<string | null> {
  try {
    return (await fs.readFile(file, "utf8")).trim();
  } catch {
    return null;
  }
}

async function write(file: string, value: string): Promise<void> {
  try {
    await fs.writeFile(file, value);
  } catch (e) {
    throw new Error(`cannot write ${JSON.stringify(value)} to ${file}: ${(e as Error).message}`);
  }
}

async function mkdirp(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
}

async function rmdirIfExists(dir: string): Promise<void> {
  // a cgroup dir is removed with rmdir (its files are virtual); on a plain dir (tests) fall back to rm -r
  try {
    await fs.rmdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return;
    if (code === "ENOTEMPTY") {
      const entries = await fs.readdir(dir, { withFileTypes: true });
      if (entries.some((d) => d.isDirectory())) throw e;
      await fs.rm(dir, { recursive: true, force: true });
      return;
    }
    throw e;
  }
}

function parsePids(text: string | null): number[] {
  if (!text) return [];
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map(Number);
}

function keyOf(f: CgroupFile): string {
  return `${f.controller}/${f.file}`;
}

async function procCgroups(pid: number): Promise<Map<string, string> | null> {
  const text = await readOrNull(`/proc/${pid}/cgroup`);
  if (text === null) return null;
  const m = new Map<string, string>();
  for (const line of text.split("\n")) {
    const [, ctrls, p] = line.split(":");
    if (ctrls === undefined || p === undefined) continue;
    if (ctrls === "") m.set("unified", p);
    else for (const c of ctrls.split(",")) m.set(c, p);
  }
  return m;
}

export class CgroupV1 implements CgroupDriver {
  readonly version = "v1" as const;
  constructor(
    private readonly mounts: Readonly<Record<V1Controller, string>>,
    private readonly root: string,
  ) {}

  private dir(c: V1Controller, uuid?: string): string {
    return uuid ? path.join(this.mounts[c], this.root, uuid) : path.join(this.mounts[c], this.root);
  }
  private unique(dirs: string[]): string[] {
    return [...new Set(dirs)];
  }
  rootDirs(): string[] {
    return this.unique(V1_CONTROLLERS.map((c) => this.dir(c)));
  }
  gearDirs(uuid: string): string[] {
    return this.unique(V1_CONTROLLERS.map((c) => this.dir(c, uuid)));
  }
  procsFiles(uuid: string): string[] {
    return this.gearDirs(uuid).map((d) => path.join(d, "cgroup.procs"));
  }
  desiredFiles(limits: CgroupLimits): CgroupFile[] {
    return v1Files(limits);
  }
  async ensureRoot(): Promise<void> {
    for (const d of this.rootDirs()) await mkdirp(d);
  }
  async ensureGear(uuid: string, limits: CgroupLimits): Promise<void> {
    await this.ensureRoot();
    for (const d of this.gearDirs(uuid)) await mkdirp(d);
    const files = v1Files(limits);
    const memsw = files.find((f) => f.file === "memory.memsw.limit_in_bytes")!;
    const memswPath = path.join(this.dir("memory", uuid), memsw.file);
    const curMemsw = await readOrNull(memswPath);
    for (const f of files) {
      if (f === memsw) continue;
      if (f.file === "memory.limit_in_bytes" && curMemsw !== null && Number(f.value) > Number(curMemsw)) {
        await write(memswPath, memsw.value); // raise memsw first so mem ≤ memsw holds at every step
      }
      await write(path.join(this.dir(f.controller as V1Controller, uuid), f.file), f.value);
    }
    if (curMemsw !== null) await write(memswPath, memsw.value);
  }
  async readGear(uuid: string): Promise<Record<string, string | null>> {
    const out: Record<string, string | null> = {};
    for (const f of v1Files({ memoryBytes: 0, swapBytes: 0, pids: 0, cpuWeight: 1, cpuMax: null })) {
      out[keyOf(f)] = await readOrNull(path.join(this.dir(f.controller as V1Controller, uuid), f.file));
    }
    return out;
  }
  async gearExists(uuid: string): Promise<boolean> {
    for (const d of this.gearDirs(uuid)) {
      if (await exists(d)) return true;
    }
    return false;
  }
  async pids(uuid: string): Promise<number[]> {
    const all = new Set<number>();
    for (const f of this.procsFiles(uuid)) for (const p of parsePids(await readOrNull(f))) all.add(p);
    return [...all].sort((a, b) => a - b);
  }
  async freeze(uuid: string, frozen: boolean): Promise<void> {
    const file = path.join(this.dir("freezer", uuid), "freezer.state");
    await write(file, frozen ? "FROZEN" : "THAWED");
    if (!frozen) return;
    for (let i = 0; i < 200; i++) {
      if ((await readOrNull(file)) !== "FREEZING") return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  async setPidsMax(uuid: string, value: string): Promise<void> {
    await write(path.join(this.dir("pids", uuid), "pids.max"), value);
  }
  async attach(uuid: string, pid: number): Promise<void> {
    for (const f of this.procsFiles(uuid)) await write(f, String(pid));
  }
  async delegate(uuid: string, uid: number): Promise<void> {
    for (const f of this.procsFiles(uuid)) {
      const st = await fs.stat(f).catch(() => null);
      if (st && (st.uid !== uid || st.gid !== uid)) await fs.chown(f, uid, uid);
    }
  }
  async killAll(uuid: string): Promise<void> {
    for (const pid of await this.pids(uuid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
  }
  async removeGear(uuid: string): Promise<void> {
    for (const d of this.gearDirs(uuid)) await rmdirIfExists(d);
  }
  async listGears(): Promise<string[]> {
    const names = new Set<string>();
    for (const d of this.rootDirs()) {
      const entries = await fs.readdir(d, { withFileTypes: true }).catch(() => []);
      for (const e of entries) if (e.isDirectory()) names.add(e.name);
    }
    return [...names].sort();
  }
  async pidInGear(pid: number, uuid: string): Promise<boolean> {
    const m = await procCgroups(pid);
    if (!m) return false;
    const want = `/${this.root}/${uuid}`;
    return (["cpu", "memory", "pids", "freezer"] as const).every((c) => m.get(c) === want);
  }
  async cpuUsageNs(uuid: string): Promise<number> {
    return Number((await readOrNull(path.join(this.dir("cpuacct", uuid), "cpuacct.usage"))) ?? "NaN");
  }
  async oomKills(uuid: string): Promise<number> {
    const text = (await readOrNull(path.join(this.dir("memory", uuid), "memory.oom_control"))) ?? "";
    const m = /^oom_kill (\d+)$/m.exec(text);
    return m ? Number(m[1]) : 0;
  }
}

export class CgroupV2 implements CgroupDriver {
  readonly version = "v2" as const;
  constructor(
    private readonly mount: string,
    private readonly root: string,
  ) {}

  private dir(uuid?: string): string {
    return uuid ? path.join(this.mount, this.root, uuid) : path.join(this.mount, this.root);
  }
  rootDirs(): string[] {
    return [this.dir()];
  }
  gearDirs(uuid: string): string[] {
    return [this.dir(uuid)];
  }
  procsFiles(uuid: string): string[] {
    return [path.join(this.dir(uuid), "cgroup.procs")];
  }
  desiredFiles(limits: CgroupLimits): CgroupFile[] {
    return v2Files(limits);
  }
  /** enable cpu, memory, pids for children of `dir` (idempotent: only adds what is missing) */
  private async enableControllers(dir: string): Promise<void> {
    const file = path.join(dir, "cgroup.subtree_control");
    const have = ((await readOrNull(file)) ?? "").split(/\s+/).filter(Boolean);
    const missing = ["cpu", "memory", "pids"].filter((c) => !have.includes(c));
    if (missing.length === 0) return;
    // on a real cgroupfs the write adds to the set; on a plain directory (tests) we keep the union
    const real = (await readOrNull(path.join(dir, "cgroup.type"))) !== null;
    await write(file, real ? missing.map((c) => `+${c}`).join(" ") : [...have, ...missing].join(" "));
  }
  async ensureRoot(): Promise<void> {
    await this.enableControllers(this.mount);
    await mkdirp(this.dir());
    await this.enableControllers(this.dir());
  }
  async ensureGear(uuid: string, limits: CgroupLimits): Promise<void> {
    await this.ensureRoot();
    await mkdirp(this.dir(uuid));
    const real = (await readOrNull(path.join(this.dir(uuid), "cgroup.type"))) !== null;
    for (const f of v2Files(limits)) {
      const file = path.join(this.dir(uuid), f.file);
      // memory.swap.max is absent on kernels without swap accounting: reported as null, not written
      if (real && f.file === "memory.swap.max" && (await readOrNull(file)) === null) continue;
      await write(file, f.value);
    }
  }
  async readGear(uuid: string): Promise<Record<string, string | null>> {
    const out: Record<string, string | null> = {};
    for (const f of v2Files({ memoryBytes: 0, swapBytes: 0, pids: 0, cpuWeight: 1, cpuMax: null })) {
      out[keyOf(f)] = await readOrNull(path.join(this.dir(uuid), f.file));
    }
    return out;
  }
  async gearExists(uuid: string): Promise<boolean> {
    return exists(this.dir(uuid));
  }
  async pids(uuid: string): Promise<number[]> {
    return parsePids(await readOrNull(path.join(this.dir(uuid), "cgroup.procs"))).sort((a, b) => a - b);
  }
  async freeze(uuid: string, frozen: boolean): Promise<void> {
    await write(path.join(this.dir(uuid), "cgroup.freeze"), frozen ? "1" : "0");
    if (!frozen) return;
    const events = path.join(this.dir(uuid), "cgroup.events");
    for (let i = 0; i < 200; i++) {
      const text = await readOrNull(events);
      if (text === null || /^frozen 1$/m.test(text)) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  async setPidsMax(uuid: string, value: string): Promise<void> {
    await write(path.join(this.dir(uuid), "pids.max"), value);
  }
  async attach(uuid: string, pid: number): Promise<void> {
    await write(path.join(this.dir(uuid), "cgroup.procs"), String(pid));
  }
  async delegate(): Promise<void> {
    // see CgroupDriver.delegate: delegation cannot help a process coming from outside on v2
  }
  async killAll(uuid: string): Promise<void> {
    const killFile = path.join(this.dir(uuid), "cgroup.kill");
    if ((await readOrNull(killFile)) !== null || (await exists(killFile))) {
      try {
        await fs.writeFile(killFile, "1");
      } catch {
        /* older kernel: fall through to per-pid kill */
      }
    }
    for (const pid of await this.pids(uuid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  }
  async removeGear(uuid: string): Promise<void> {
    await rmdirIfExists(this.dir(uuid));
  }
  async listGears(): Promise<string[]> {
    const entries = await fs.readdir(this.dir(), { withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  }
  async pidInGear(pid: number, uuid: string): Promise<boolean> {
    const m = await procCgroups(pid);
    return m?.get("unified") === `/${this.root}/${uuid}`;
  }
  async cpuUsageNs(uuid: string): Promise<number> {
    const text = (await readOrNull(path.join(this.dir(uuid), "cpu.stat"))) ?? "";
    const m = /^usage_usec (\d+)$/m.exec(text);
    return m ? Number(m[1]) * 1000 : NaN;
  }
  async oomKills(uuid: string): Promise<number> {
    const text = (await readOrNull(path.join(this.dir(uuid), "memory.events"))) ?? "";
    const m = /^oom_kill (\d+)$/m.exec(text);
    return m ? Number(m[1]) : 0;
  }
}

export function makeDriver(h: Hierarchy, rootName: string): CgroupDriver {
  return h.version === "v1" ? new CgroupV1(h.mounts, rootName) : new CgroupV2(h.mount, rootName);
}
