// Per-gear cgroups, v1 and v2: one group `<rootName>-<uuid>` directly under each hierarchy root (layout.ts
// says why). All paths are built from a validated uuid and the hierarchy found by detect.ts; every write is
// a plain file write (no shell, no libcgroup). Groups in the old layout `<rootName>/<uuid>` count as the
// gear's for listing, killing and removal, and are moved into the new layout by migrateLegacy.

import { promises as fs } from "fs";
import * as path from "path";
import type { Hierarchy, V1Controller } from "./detect";
import { V1_CONTROLLERS } from "./detect";
import { CgroupFile, CgroupLimits, v1Files, v2Files } from "./limits";
import { gearCgroupPath, gearGroupName, legacyGroupName, uuidOfGroupName } from "./layout";
import { exists } from "../fs";

export interface CgroupDriver {
  readonly version: "v1" | "v2";
  /** the hierarchy roots the gear groups sit directly under */
  hierarchyDirs(): string[];
  /** the gear's group dir in each hierarchy */
  gearDirs(uuid: string): string[];
  /** the old layout's Geartrain root group in each hierarchy (may not exist) */
  legacyRootDirs(): string[];
  /** the gear's groups in the old layout that still exist */
  legacyGroups(uuid: string): Promise<string[]>;
  /**
   * Move every process of the gear's old-layout groups into its group (which ensureGear made) and remove
   * the old groups, and the old root once empty. Idempotent; nothing to do on a migrated gear.
   */
  migrateLegacy(uuid: string): Promise<void>;
  /** cgroup.procs files a process must join to be "in the gear" */
  procsFiles(uuid: string): string[];
  desiredFiles(limits: CgroupLimits): CgroupFile[];
  /** mkdir the gear group and write every limit; idempotent */
  ensureGear(uuid: string, limits: CgroupLimits): Promise<void>;
  /** read back every limit file: key "controller/file" → value (null = missing) */
  readGear(uuid: string): Promise<Record<string, string | null>>;
  /** does the gear have a group (either layout)? */
  gearExists(uuid: string): Promise<boolean>;
  /** pids in the gear's groups (union over hierarchies and layouts) */
  pids(uuid: string): Promise<number[]>;
  /** freeze or thaw each existing group of the gear (either layout); throws when there is none */
  freeze(uuid: string, frozen: boolean): Promise<void>;
  /** set pids.max of each existing group of the gear (either layout); throws when there is none */
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
  /** SIGKILL everything in the gear's groups (cgroup.kill on v2 ≥ 5.14; otherwise by pid) */
  killAll(uuid: string): Promise<void>;
  /** remove the gear's groups (either layout), and the old root once empty */
  removeGear(uuid: string): Promise<void>;
  /** uuids that have a gear group (either layout) */
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Is `dir` on a real cgroup2 filesystem (not a plain directory laid out like one, as in unit tests)? */
async function onCgroup2(dir: string): Promise<boolean> {
  return (await fs.statfs(dir)).type === CGROUP2_SUPER_MAGIC;
}

async function existing(dirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const d of dirs) if (await exists(d)) out.push(d);
  return out;
}

/** Write `value` to `file` in each existing dir; throws when none exists (the caller decides if that matters). */
async function writeEach(dirs: readonly string[], file: string, value: string): Promise<string[]> {
  const present = await existing(dirs);
  if (present.length === 0) throw new Error(`no cgroup to write ${file} in: ${dirs.join(", ")}`);
  for (const d of present) await write(path.join(d, file), value);
  return present;
}

/**
 * Move every process of group `from` into group `to` (same hierarchy), then remove `from`. A process forked
 * meanwhile lands in `from` and keeps rmdir failing with EBUSY: repeat until the group is empty.
 */
async function moveAllAndRemove(from: string, to: string): Promise<void> {
  for (let round = 0; round < 100; round++) {
    for (const pid of parsePids(await readOrNull(path.join(from, "cgroup.procs")))) {
      try {
        await fs.writeFile(path.join(to, "cgroup.procs"), String(pid));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e; // exited meanwhile
      }
    }
    try {
      await rmdirIfExists(from);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EBUSY") throw e;
    }
    await sleep(20);
  }
  throw new Error(`cannot empty old-layout cgroup ${from}: it keeps getting processes`);
}

/** rmdir the old root groups that no gear uses any more (other gears still in one: left alone). */
async function removeEmptyRoots(dirs: readonly string[]): Promise<void> {
  for (const d of dirs) {
    try {
      await rmdirIfExists(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "EBUSY" && code !== "ENOTEMPTY") throw e;
    }
  }
}

async function subdirs(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

/** uuids with a group directly under a hierarchy root, or under an old-layout root. */
async function listUuids(rootName: string, tops: readonly string[], legacyRoots: readonly string[]) {
  const uuids = new Set<string>();
  for (const t of tops) {
    for (const name of await subdirs(t)) {
      const uuid = uuidOfGroupName(rootName, name);
      if (uuid) uuids.add(uuid);
    }
  }
  for (const r of legacyRoots) for (const name of await subdirs(r)) uuids.add(name);
  return [...uuids].sort();
}

export class CgroupV1 implements CgroupDriver {
  readonly version = "v1" as const;
  constructor(
    private readonly mounts: Readonly<Record<V1Controller, string>>,
    private readonly root: string,
  ) {}

  private dir(c: V1Controller, uuid: string): string {
    return path.join(this.mounts[c], gearGroupName(this.root, uuid));
  }
  private legacyDir(c: V1Controller, uuid: string): string {
    return path.join(this.mounts[c], legacyGroupName(this.root, uuid));
  }
  /** controllers with distinct mounts (cpu and cpuacct are often mounted together) */
  private controllers(): V1Controller[] {
    const seen = new Set<string>();
    return V1_CONTROLLERS.filter((c) => !seen.has(this.mounts[c]) && seen.add(this.mounts[c]));
  }
  hierarchyDirs(): string[] {
    return this.controllers().map((c) => this.mounts[c]);
  }
  gearDirs(uuid: string): string[] {
    return this.controllers().map((c) => this.dir(c, uuid));
  }
  legacyRootDirs(): string[] {
    return this.controllers().map((c) => path.join(this.mounts[c], this.root));
  }
  private legacyDirs(uuid: string): string[] {
    return this.controllers().map((c) => this.legacyDir(c, uuid));
  }
  legacyGroups(uuid: string): Promise<string[]> {
    return existing(this.legacyDirs(uuid));
  }
  async migrateLegacy(uuid: string): Promise<void> {
    for (const c of this.controllers()) {
      const from = this.legacyDir(c, uuid);
      if (!(await exists(from))) continue;
      // revoke the old delegation first, or the gear could move itself back while we move it out
      const procs = path.join(from, "cgroup.procs");
      const st = await fs.stat(procs).catch(() => null);
      if (st && (st.uid !== 0 || st.gid !== 0)) await fs.chown(procs, 0, 0);
      await moveAllAndRemove(from, this.dir(c, uuid));
    }
    await removeEmptyRoots(this.legacyRootDirs());
  }
  procsFiles(uuid: string): string[] {
    return this.gearDirs(uuid).map((d) => path.join(d, "cgroup.procs"));
  }
  desiredFiles(limits: CgroupLimits): CgroupFile[] {
    return v1Files(limits);
  }
  async ensureGear(uuid: string, limits: CgroupLimits): Promise<void> {
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
    return (await existing([...this.gearDirs(uuid), ...this.legacyDirs(uuid)])).length > 0;
  }
  async pids(uuid: string): Promise<number[]> {
    const all = new Set<number>();
    for (const d of [...this.gearDirs(uuid), ...this.legacyDirs(uuid)])
      for (const p of parsePids(await readOrNull(path.join(d, "cgroup.procs")))) all.add(p);
    return [...all].sort((a, b) => a - b);
  }
  async freeze(uuid: string, frozen: boolean): Promise<void> {
    const dirs = [this.dir("freezer", uuid), this.legacyDir("freezer", uuid)];
    const written = await writeEach(dirs, "freezer.state", frozen ? "FROZEN" : "THAWED");
    if (!frozen) return;
    for (let i = 0; i < 200; i++) {
      const states = await Promise.all(written.map((d) => readOrNull(path.join(d, "freezer.state"))));
      if (!states.includes("FREEZING")) return;
      await sleep(5);
    }
  }
  async setPidsMax(uuid: string, value: string): Promise<void> {
    await writeEach([this.dir("pids", uuid), this.legacyDir("pids", uuid)], "pids.max", value);
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
    for (const d of [...this.gearDirs(uuid), ...this.legacyDirs(uuid)]) await rmdirIfExists(d);
    await removeEmptyRoots(this.legacyRootDirs());
  }
  listGears(): Promise<string[]> {
    return listUuids(this.root, this.hierarchyDirs(), this.legacyRootDirs());
  }
  async pidInGear(pid: number, uuid: string): Promise<boolean> {
    const m = await procCgroups(pid);
    if (!m) return false;
    const want = gearCgroupPath(this.root, uuid);
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

  private dir(uuid: string): string {
    return path.join(this.mount, gearGroupName(this.root, uuid));
  }
  private legacyDir(uuid: string): string {
    return path.join(this.mount, legacyGroupName(this.root, uuid));
  }
  hierarchyDirs(): string[] {
    return [this.mount];
  }
  gearDirs(uuid: string): string[] {
    return [this.dir(uuid)];
  }
  legacyRootDirs(): string[] {
    return [path.join(this.mount, this.root)];
  }
  legacyGroups(uuid: string): Promise<string[]> {
    return existing([this.legacyDir(uuid)]);
  }
  async migrateLegacy(uuid: string): Promise<void> {
    // no delegation to revoke: v2 never hands cgroup.procs to the gear (see delegate)
    if (await exists(this.legacyDir(uuid))) await moveAllAndRemove(this.legacyDir(uuid), this.dir(uuid));
    await removeEmptyRoots(this.legacyRootDirs());
  }
  procsFiles(uuid: string): string[] {
    return [path.join(this.dir(uuid), "cgroup.procs")];
  }
  desiredFiles(limits: CgroupLimits): CgroupFile[] {
    return v2Files(limits);
  }
  /** enable cpu, memory, pids for children of the hierarchy root (idempotent: only adds what is missing) */
  private async enableControllers(): Promise<void> {
    const file = path.join(this.mount, "cgroup.subtree_control");
    const have = ((await readOrNull(file)) ?? "").split(/\s+/).filter(Boolean);
    const missing = ["cpu", "memory", "pids"].filter((c) => !have.includes(c));
    if (missing.length === 0) return;
    // on a real cgroupfs the write adds to the set; on a plain directory (tests) we keep the union
    const real = await onCgroup2(this.mount);
    await write(file, real ? missing.map((c) => `+${c}`).join(" ") : [...have, ...missing].join(" "));
  }
  async ensureGear(uuid: string, limits: CgroupLimits): Promise<void> {
    await this.enableControllers();
    await mkdirp(this.dir(uuid));
    const real = (await readOrNull(path.join(this.dir(uuid), "cgroup.type"))) !== null; // every non-root group has it
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
    return (await existing([this.dir(uuid), this.legacyDir(uuid)])).length > 0;
  }
  async pids(uuid: string): Promise<number[]> {
    const all = new Set<number>();
    for (const d of [this.dir(uuid), this.legacyDir(uuid)])
      for (const p of parsePids(await readOrNull(path.join(d, "cgroup.procs")))) all.add(p);
    return [...all].sort((a, b) => a - b);
  }
  async freeze(uuid: string, frozen: boolean): Promise<void> {
    const written = await writeEach(
      [this.dir(uuid), this.legacyDir(uuid)],
      "cgroup.freeze",
      frozen ? "1" : "0",
    );
    if (!frozen) return;
    for (const d of written) {
      for (let i = 0; i < 200; i++) {
        const text = await readOrNull(path.join(d, "cgroup.events"));
        if (text === null || /^frozen 1$/m.test(text)) break;
        await sleep(5);
      }
    }
  }
  async setPidsMax(uuid: string, value: string): Promise<void> {
    await writeEach([this.dir(uuid), this.legacyDir(uuid)], "pids.max", value);
  }
  async attach(uuid: string, pid: number): Promise<void> {
    await write(path.join(this.dir(uuid), "cgroup.procs"), String(pid));
  }
  async delegate(): Promise<void> {
    // see CgroupDriver.delegate: delegation cannot help a process coming from outside on v2
  }
  async killAll(uuid: string): Promise<void> {
    for (const d of await existing([this.dir(uuid), this.legacyDir(uuid)])) {
      const killFile = path.join(d, "cgroup.kill");
      if (await exists(killFile)) {
        try {
          await fs.writeFile(killFile, "1");
        } catch {
          /* older kernel: fall through to per-pid kill */
        }
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
    await rmdirIfExists(this.legacyDir(uuid));
    await removeEmptyRoots(this.legacyRootDirs());
  }
  listGears(): Promise<string[]> {
    return listUuids(this.root, this.hierarchyDirs(), this.legacyRootDirs());
  }
  async pidInGear(pid: number, uuid: string): Promise<boolean> {
    const m = await procCgroups(pid);
    return m?.get("unified") === gearCgroupPath(this.root, uuid);
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
