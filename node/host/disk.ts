// Disk limit per gear: setquota where the gear filesystem has user quotas; otherwise (if the node config
// asks for it) a loop-mounted ext4 image of the profile's size mounted on the home; otherwise "unenforced".
// The state reported is read back from the host, never inferred from the config.

import { existsSync, promises as fs, readFileSync } from "fs";
import * as path from "path";
import { fieldDrift } from "../drift";
import { parseMountInfo } from "./cgroups/detect";
import { HOST_PATH, run, runOk } from "./exec";
import { exists } from "./fs";
import type { DiskState, Drift, NodeConfig, Profile } from "../types";

export type DiskMode = "quota" | "loop" | "unenforced";

function mounts() {
  return parseMountInfo(readFileSync("/proc/self/mountinfo", "utf8"));
}

function mountOptionsOf(target: string): { mountPoint: string; options: string[] } | null {
  // mountinfo field 6 (mount options) is not kept by parseMountInfo; read both option sets here
  const text = readFileSync("/proc/self/mountinfo", "utf8");
  let best: { mountPoint: string; options: string[] } | null = null;
  for (const line of text.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!right) continue;
    const l = left.split(" ");
    const mp = l[4];
    if (target === mp || target.startsWith(mp === "/" ? "/" : `${mp}/`)) {
      if (!best || mp.length >= best.mountPoint.length) {
        best = { mountPoint: mp, options: [...l[5].split(","), ...(right.split(" ")[2] ?? "").split(",")] };
      }
    }
  }
  return best;
}

function onPath(tool: string): boolean {
  return HOST_PATH.split(":").some((d) => existsSync(path.join(d, tool)));
}

/** Does the filesystem holding `dir` have user quotas, and are the quota tools installed? */
export function quotaSupport(dir: string): { ok: boolean; mountPoint: string | null; why: string } {
  const m = mountOptionsOf(dir);
  if (!m) return { ok: false, mountPoint: null, why: `no mount found for ${dir}` };
  const hasQuota = m.options.some((o) => o === "usrquota" || o === "quota" || o.startsWith("usrjquota="));
  if (!hasQuota)
    return { ok: false, mountPoint: m.mountPoint, why: `${m.mountPoint} is not mounted with usrquota` };
  if (!onPath("setquota")) {
    return { ok: false, mountPoint: m.mountPoint, why: "setquota not installed (apt-get install quota)" };
  }
  return { ok: true, mountPoint: m.mountPoint, why: `user quotas on ${m.mountPoint}` };
}

/** Which mode a new gear gets on this host, or an error when the config demands what the host lacks. */
export function chooseDiskMode(config: NodeConfig): DiskMode {
  const q = quotaSupport(config.gearBaseDir);
  switch (config.disk.mode) {
    case "none":
      return "unenforced";
    case "loop":
      return "loop";
    case "quota":
      if (!q.ok) throw new Error(`disk.mode "quota" but ${q.why}`);
      return "quota";
    case "auto":
      return q.ok ? "quota" : "unenforced";
  }
}

// ---------------------------------------------------------------- loop images

export function imagePath(config: NodeConfig, uuid: string): string {
  return path.join(config.stateDir, "disk", `${uuid}.img`);
}

function mountedAt(target: string): { source: string } | null {
  const text = readFileSync("/proc/self/mountinfo", "utf8");
  let found: { source: string } | null = null;
  for (const line of text.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!right) continue;
    if (left.split(" ")[4] === target) found = { source: right.split(" ")[1] };
  }
  return found;
}

/** ext4 superblock magic 0xEF53 at byte 1024 + 56. */
async function isExt4Image(file: string): Promise<boolean> {
  try {
    const h = await fs.open(file, "r");
    try {
      const b = Buffer.alloc(2);
      await h.read(b, 0, 2, 1024 + 56);
      return b.readUInt16LE(0) === 0xef53;
    } finally {
      await h.close();
    }
  } catch {
    return false;
  }
}

/**
 * Size of the ext4 filesystem (block count × block size) from its superblock. Read from the mounted loop
 * device when there is one (the kernel's current view), else from the image file.
 */
export async function ext4Size(devOrFile: string): Promise<number | null> {
  try {
    const h = await fs.open(devOrFile, "r");
    try {
      const sb = Buffer.alloc(1024);
      await h.read(sb, 0, 1024, 1024);
      if (sb.readUInt16LE(0x38) !== 0xef53) return null;
      const is64 = (sb.readUInt32LE(0x60) & 0x80) !== 0; // INCOMPAT_64BIT
      const blocks = sb.readUInt32LE(0x4) + (is64 ? sb.readUInt32LE(0x150) * 2 ** 32 : 0);
      return blocks * (1024 << sb.readUInt32LE(0x18));
    } finally {
      await h.close();
    }
  } catch {
    return null;
  }
}

/** Loop devices currently backed by `file` (losetup -j). */
export async function loopDevicesFor(file: string): Promise<string[]> {
  const r = await run(["losetup", "-j", file]);
  return r.stdout
    .split("\n")
    .filter((l) => l.includes(":"))
    .map((l) => l.slice(0, l.indexOf(":")));
}

/** Make sure the gear home is a mounted ext4 image of the profile's size. Idempotent, resumable. */
export async function ensureLoop(config: NodeConfig, uuid: string, home: string, p: Profile): Promise<void> {
  const img = imagePath(config, uuid);
  await fs.mkdir(path.dirname(img), { recursive: true, mode: 0o700 });
  await fs.mkdir(home, { recursive: true, mode: 0o700 });
  const m = mountedAt(home);
  if (m) {
    if (((await ext4Size(m.source)) ?? 0) >= p.diskBytes) return;
    // grow: enlarge the file, tell the loop device, resize the filesystem online. Online resize needs
    // CAP_SYS_RESOURCE; without it, grow offline when the gear has no process using the mount.
    const st = await fs.stat(img);
    if (st.size < p.diskBytes) await fs.truncate(img, p.diskBytes);
    await runOk(["losetup", "-c", m.source]);
    const online = await run(["resize2fs", m.source]);
    if (online.code === 0) return;
    const um = await run(["umount", home]);
    if (um.code !== 0) {
      throw new Error(
        `cannot grow the disk of a running gear here: online resize failed (${online.stderr.trim()}) and ${home} is busy; stop the gear and run update again`,
      );
    }
    for (const dev of await loopDevicesFor(img)) await run(["losetup", "-d", dev]);
    await runOk(["e2fsck", "-f", "-p", img], [0, 1]);
    await runOk(["resize2fs", img]);
  } else if ((await isExt4Image(img)) && ((await ext4Size(img)) ?? 0) < p.diskBytes) {
    await fs.truncate(img, p.diskBytes);
    await runOk(["e2fsck", "-f", "-p", img], [0, 1]);
    await runOk(["resize2fs", img]);
  }
  if (!(await isExt4Image(img))) {
    const tmp = `${img}.tmp`;
    await fs.rm(tmp, { force: true });
    const h = await fs.open(tmp, "wx", 0o600);
    await h.truncate(p.diskBytes);
    await h.close();
    await runOk([
      "mkfs.ext4",
      "-q",
      "-F",
      "-m",
      "0",
      "-N",
      String(p.diskFiles),
      "-E",
      "lazy_itable_init=1,lazy_journal_init=1,nodiscard",
      tmp,
    ]);
    await fs.rename(tmp, img);
  }
  // a loop device left attached by an interrupted mount is released first
  for (const dev of await loopDevicesFor(img)) await run(["losetup", "-d", dev]);
  await runOk(["mount", "-t", "ext4", "-o", "loop,nodev,nosuid,noatime", img, home]);
  await fs.rm(path.join(home, "lost+found"), { recursive: true, force: true });
}

export async function removeLoop(config: NodeConfig, uuid: string, home: string): Promise<void> {
  const img = imagePath(config, uuid);
  for (let i = 0; i < 20 && mountedAt(home); i++) {
    const r = await run(["umount", home]);
    if (r.code !== 0) {
      if (i >= 10) await run(["umount", "-l", home]);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  if (mountedAt(home)) throw new Error(`cannot unmount ${home}`);
  if (existsSync(img)) {
    for (const dev of await loopDevicesFor(img)) await runOk(["losetup", "-d", dev]);
    await fs.rm(img, { force: true });
  }
  await fs.rm(`${img}.tmp`, { force: true });
}

// ---------------------------------------------------------------- quota

export async function applyQuota(mountPoint: string, uuid: string, p: Profile): Promise<void> {
  await runOk([
    "setquota",
    "-u",
    uuid,
    "0",
    String(Math.floor(p.diskBytes / 1024)),
    "0",
    String(p.diskFiles),
    mountPoint,
  ]);
}

export async function clearQuota(mountPoint: string, uuid: string): Promise<void> {
  await run(["setquota", "-u", uuid, "0", "0", "0", "0", mountPoint]);
}

/** Hard limits read back with `repquota -O csv` (null when the user has no quota entry). */
export async function readQuota(
  mountPoint: string,
  uuid: string,
): Promise<{ blocks: number; files: number } | null> {
  const r = await run(["repquota", "-u", "-O", "csv", mountPoint]);
  if (r.code !== 0) return null;
  const lines = r.stdout.trim().split("\n");
  const head = (lines.shift() ?? "").split(",");
  const bi = head.findIndex((h) => /BlockHardLimit/i.test(h));
  const fi = head.findIndex((h) => /FileHardLimit/i.test(h));
  for (const l of lines) {
    const f = l.split(",");
    if (f[0] === uuid && bi >= 0 && fi >= 0) return { blocks: Number(f[bi]), files: Number(f[fi]) };
  }
  return null;
}

// ---------------------------------------------------------------- remove

/**
 * Remove a user's disk limit: the loop image (whatever `mode` says, if one is mounted or there) and, in
 * quota mode, the quota entry. `mode` null: not known (no marker).
 */
export async function removeDisk(
  config: NodeConfig,
  uuid: string,
  home: string,
  mode: DiskMode | null,
): Promise<void> {
  if (mode === "loop" || mountedAt(home) || (await exists(imagePath(config, uuid)))) {
    await removeLoop(config, uuid, home);
  }
  if (mode === "quota") {
    const q = quotaSupport(config.gearBaseDir);
    if (q.ok && q.mountPoint) await clearQuota(q.mountPoint, uuid);
  }
}

// ---------------------------------------------------------------- read back

/**
 * How the limit read back differs from the profile's (nothing to compare when unenforced). Quota limits
 * are whole KiB blocks, so the profile's size is rounded down to one. Pure.
 */
export function diskDrift(mode: DiskMode, p: Profile, disk: DiskState): Drift[] {
  if (mode === "unenforced") return [];
  const drift = fieldDrift("disk.enforced", true, disk.enforced);
  if (disk.enforced) {
    const want = mode === "quota" ? Math.floor(p.diskBytes / 1024) * 1024 : p.diskBytes;
    drift.push(...fieldDrift("disk.limitBytes", want, disk.limitBytes));
  }
  return drift;
}

export async function readDisk(
  config: NodeConfig,
  uuid: string,
  home: string,
  mode: DiskMode,
): Promise<DiskState> {
  if (mode === "loop") {
    const m = mountedAt(home);
    const img = imagePath(config, uuid);
    const st = await fs.stat(img).catch(() => null);
    if (!m || !st) {
      return {
        mode: "loop",
        enforced: false,
        limitBytes: null,
        limitFiles: null,
        detail: !st ? `image ${img} missing` : `${home} is not mounted`,
      };
    }
    const sf = await fs.statfs(home);
    const size = await ext4Size(m.source);
    return {
      mode: "loop",
      enforced: size !== null,
      limitBytes: size,
      limitFiles: sf.files,
      detail: `ext4 image ${img} on ${m.source}; ${sf.blocks * sf.bsize} bytes usable, ${sf.bfree * sf.bsize} free`,
    };
  }
  if (mode === "quota") {
    const q = quotaSupport(config.gearBaseDir);
    const got = q.ok && q.mountPoint ? await readQuota(q.mountPoint, uuid) : null;
    if (!got || (got.blocks === 0 && got.files === 0)) {
      return {
        mode: "quota",
        enforced: false,
        limitBytes: null,
        limitFiles: null,
        detail: got ? "no quota set" : q.why,
      };
    }
    return {
      mode: "quota",
      enforced: true,
      limitBytes: got.blocks * 1024,
      limitFiles: got.files,
      detail: `user quota on ${q.mountPoint}`,
    };
  }
  const why =
    config.disk.mode === "none"
      ? "disabled by node config (disk.mode none)"
      : quotaSupport(config.gearBaseDir).why;
  return {
    mode: "unenforced",
    enforced: false,
    limitBytes: null,
    limitFiles: null,
    detail: `not enforced: ${why}`,
  };
}

export { mounts, mountedAt };
