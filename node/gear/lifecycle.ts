// Gear lifecycle: create, inspect, update, destroy, list. Each is idempotent and resumable: a marker with the
// desired spec is written before the first host change, every step converges (does only what is missing),
// and the marker's phase says whether a create or destroy finished.

import { promises as fs } from "fs";
import * as path from "path";
import {
  ConflictError,
  ensureGroup,
  ensureUser,
  readGroups,
  readPasswd,
  removeAccount,
} from "../host/accounts";
import { gearAddresses } from "../host/addresses";
import { inspectCartridges } from "../cartridge/inspect";
import type { CgroupLimits } from "../host/cgroups/limits";
import type { NodeContext } from "../context";
import {
  applyQuota,
  chooseDiskMode,
  clearQuota,
  DiskMode,
  ensureLoop,
  imagePath,
  mountedAt,
  quotaSupport,
  readDisk,
  removeLoop,
} from "../host/disk";
import { gearHome } from "./env";
import { applyHome, homeLayout, pruneUserVars, readHomeDrift } from "./home";
import {
  limitsDirExists,
  readLimits,
  removeLimits,
  renderLimits,
  writeLimits,
  limitsFilePath,
} from "../host/pam-limits";
import { withFileLock } from "../host/lock";
import { mcsLabel } from "../host/mcs";
import { removeGearFrontend } from "../frontend/operations";
import { ensureGearNetwork, readGearNetwork, removeGearNetwork } from "../host/netfilter";
import { killGear, processesOfUid, purgeIpc } from "../host/procs";
import { labelTree, rangeOf, readLabel } from "../host/selinux";
import {
  ensureStateDirs,
  listMarkers,
  lockPath,
  Marker,
  readMarker,
  removeMarker,
  writeMarker,
} from "./marker";
import type { Drift, GearSpec, GearState, NodeConfig } from "../types";
import { validateGearSpec, validateUpdate, validateUuid } from "../validate";
import { exists } from "../host/fs";

export class NotFoundError extends Error {
  constructor(uuid: string) {
    super(`gear ${uuid} not found on this node`);
    this.name = "NotFoundError";
  }
}

export { ConflictError };

/**
 * Crash injection for the kill -9 tests: when GEARTRAIN_TEST_CRASH_AT names this step, the process SIGKILLs
 * itself right there, exactly as an operator's kill -9 or a power cut would stop it.
 */
function crashPoint(step: string): void {
  if (process.env.GEARTRAIN_TEST_CRASH_AT === step) process.kill(process.pid, "SIGKILL");
}

function limitsOf(config: NodeConfig, spec: GearSpec): CgroupLimits {
  const p = config.profiles[spec.profile];
  if (!p) throw new Error(`profile ${spec.profile} of gear ${spec.uuid} is no longer in the node config`);
  return {
    memoryBytes: p.memoryBytes,
    swapBytes: p.swapBytes,
    pids: p.pids,
    cpuWeight: p.cpuWeight,
    cpuMax: p.cpuMax,
  };
}

function canonical(spec: GearSpec): string {
  const env = Object.fromEntries(Object.entries(spec.env).sort(([a], [b]) => (a < b ? -1 : 1)));
  return JSON.stringify({
    uuid: spec.uuid,
    uid: spec.uid,
    app: spec.app,
    namespace: spec.namespace,
    profile: spec.profile,
    env,
  });
}

/** Refuse before touching anything if the uuid/uid clash with accounts that are not this gear. */
async function preflight(config: NodeConfig, spec: GearSpec): Promise<void> {
  const users = await readPasswd();
  const byName = users.find((u) => u.name === spec.uuid);
  if (byName && byName.gecos !== config.gecos)
    throw new ConflictError(`user ${spec.uuid} exists and is not a gear`);
  if (byName && byName.uid !== spec.uid)
    throw new ConflictError(`gear ${spec.uuid} exists with uid ${byName.uid}`);
  const byUid = users.find((u) => u.uid === spec.uid);
  if (byUid && byUid.name !== spec.uuid)
    throw new ConflictError(`uid ${spec.uid} is taken by user ${byUid.name}`);
  const groups = await readGroups();
  const gByName = groups.find((g) => g.name === spec.uuid);
  if (gByName && gByName.gid !== spec.uid)
    throw new ConflictError(`group ${spec.uuid} exists with gid ${gByName.gid}`);
  const gByGid = groups.find((g) => g.gid === spec.uid);
  if (gByGid && gByGid.name !== spec.uuid)
    throw new ConflictError(`gid ${spec.uid} is taken by group ${gByGid.name}`);
}

/** Bring every part of the gear to the spec. Each step is idempotent. */
async function converge(ctx: NodeContext, spec: GearSpec, disk: DiskMode, fresh: boolean): Promise<void> {
  const { config, cgroup } = ctx;
  const home = gearHome(config, spec.uuid);
  const profile = config.profiles[spec.profile];
  await ensureGroup(spec.uuid, spec.uid);
  crashPoint("create:group");
  await ensureUser({ name: spec.uuid, uid: spec.uid, home, shell: config.gearShell, gecos: config.gecos });
  crashPoint("create:user");
  await cgroup.ensureGear(spec.uuid, limitsOf(config, spec));
  await cgroup.delegate(spec.uuid, spec.uid); // its SSH forced command joins it (node/deploy/shell.ts)
  await ensureGearNetwork(ctx, spec.uuid, spec.uid); // before any gear process can exist
  crashPoint("create:cgroup");
  if (disk === "loop") await ensureLoop(config, spec.uuid, home, profile);
  else await fs.mkdir(home, { recursive: true, mode: 0o700 });
  crashPoint("create:disk");
  if (disk === "quota") await applyQuota(quotaSupport(config.gearBaseDir).mountPoint!, spec.uuid, profile);
  await applyHome(home, homeLayout(spec, config), spec.uid, fresh);
  crashPoint("create:home");
  await pruneUserVars(home, spec);
  await writeLimits(config, spec.uuid, profile.pids);
  crashPoint("create:limits");
  if (ctx.selinux !== "unavailable") await labelTree(home, mcsLabel(spec.uid));
  if (!fresh) {
    // repair: a gear process outside its cgroup is moved in
    for (const p of await processesOfUid(spec.uid)) {
      if (!(await cgroup.pidInGear(p.pid, spec.uuid)))
        await cgroup.attach(spec.uuid, p.pid).catch(() => undefined);
    }
  }
}

export interface CreateOptions {
  /** return the inspected state (default true); false returns a summary only (benchmarks, bulk) */
  readonly inspect?: boolean;
}

export interface GearSummary {
  readonly uuid: string;
  readonly uid: number | null;
  readonly phase: GearState["phase"];
  readonly app: string | null;
  readonly namespace: string | null;
  readonly profile: string | null;
}

function summary(
  uuid: string,
  uid: number | null,
  phase: GearSummary["phase"],
  spec: GearSpec | null,
): GearSummary {
  return {
    uuid,
    uid,
    phase,
    app: spec?.app ?? null,
    namespace: spec?.namespace ?? null,
    profile: spec?.profile ?? null,
  };
}

export async function createGear(
  ctx: NodeContext,
  input: unknown,
  opts: CreateOptions = {},
): Promise<GearState | GearSummary> {
  const spec = validateGearSpec(input, ctx.config);
  // refuse clashes and impossible disk modes before anything (even the state dir) is made
  await preflight(ctx.config, spec);
  chooseDiskMode(ctx.config);
  await ensureStateDirs(ctx.config);
  return withFileLock(lockPath(ctx.config, spec.uuid), async () => {
    const marker = await readMarker(ctx.config, spec.uuid);
    if (marker?.phase === "destroying") {
      throw new ConflictError(
        `gear ${spec.uuid} is being destroyed; finish with: geartrain node gear destroy ${spec.uuid}`,
      );
    }
    if (marker && canonical(marker.spec) !== canonical(spec)) {
      throw new ConflictError(
        `gear ${spec.uuid} exists with a different spec; use update to change profile or env`,
      );
    }
    await preflight(ctx.config, spec);
    const disk = marker?.disk ?? chooseDiskMode(ctx.config);
    // fresh: first attempt and no account yet, so no gear process can exist (enables the fast layout path)
    const fresh = !marker && !(await readPasswd()).some((u) => u.name === spec.uuid);
    if (!marker || marker.phase !== "created")
      await writeMarker(ctx.config, { phase: "creating", spec, disk });
    crashPoint("create:marker");
    await converge(ctx, spec, disk, fresh);
    if (!marker || marker.phase !== "created")
      await writeMarker(ctx.config, { phase: "created", spec, disk });
    return opts.inspect === false
      ? summary(spec.uuid, spec.uid, "created", spec)
      : inspectLocked(ctx, spec.uuid);
  });
}

/** Change profile/env, or (with just a uuid) repair drift. Completes a partial create too. */
export async function updateGear(ctx: NodeContext, input: unknown): Promise<GearState> {
  const uuid = validateUuid((input as { uuid?: unknown } | null)?.uuid);
  await ensureStateDirs(ctx.config);
  return withFileLock(lockPath(ctx.config, uuid), async () => {
    const marker = await readMarker(ctx.config, uuid);
    if (!marker) throw new NotFoundError(uuid);
    if (marker.phase === "destroying") throw new ConflictError(`gear ${uuid} is being destroyed`);
    const spec = validateUpdate(input, marker.spec, ctx.config);
    await preflight(ctx.config, spec);
    await writeMarker(ctx.config, { ...marker, spec });
    await converge(ctx, spec, marker.disk, false);
    await writeMarker(ctx.config, { phase: "created", spec, disk: marker.disk });
    return inspectLocked(ctx, uuid);
  });
}

export interface DestroyResult {
  readonly uuid: string;
  /** false when there was nothing left to destroy */
  readonly destroyed: boolean;
  readonly killed: number;
}

export async function destroyGear(ctx: NodeContext, uuidIn: unknown): Promise<DestroyResult> {
  const uuid = validateUuid(uuidIn);
  const { config, cgroup } = ctx;
  await ensureStateDirs(config);
  return withFileLock(lockPath(config, uuid), async () => {
    const marker = await readMarker(config, uuid);
    const user = (await readPasswd()).find((u) => u.name === uuid);
    if (user && user.gecos !== config.gecos)
      throw new ConflictError(`user ${uuid} is not a gear; refusing to remove it`);
    const home = gearHome(config, uuid);
    const leftovers =
      (await cgroup.gearExists(uuid)) || (await exists(home)) || (await exists(imagePath(config, uuid)));
    if (!marker && !user && !leftovers) {
      await removeGearFrontend(ctx, uuid); // a destroy that stopped after removing the marker
      return { uuid, destroyed: false, killed: 0 };
    }
    if (marker && marker.phase !== "destroying")
      await writeMarker(config, { ...marker, phase: "destroying" });
    const uid = marker?.spec.uid ?? user?.uid ?? null;
    // 1. no new logins (PAM nproc 0), 2. kill everything and verify
    if (await exists(limitsFilePath(config, uuid))) {
      await fs.writeFile(limitsFilePath(config, uuid), renderLimits(uuid, 0));
    }
    let killed = 0;
    if (uid !== null) {
      killed = await killGear(cgroup, uuid, uid);
      await purgeIpc(uid);
      crashPoint("destroy:killed");
    } else if (await cgroup.gearExists(uuid)) {
      await cgroup.killAll(uuid);
    }
    // 3. disk: loop image (whatever the marker says, if one is there), quota entry
    if (marker?.disk === "loop" || mountedAt(home) || (await exists(imagePath(config, uuid)))) {
      await removeLoop(config, uuid, home);
    }
    if (marker?.disk === "quota") {
      const q = quotaSupport(config.gearBaseDir);
      if (q.ok && q.mountPoint) await clearQuota(q.mountPoint, uuid);
    }
    // 4. account, home, cgroup, PAM file, marker (marker last: a crash before here is resumed by re-running)
    if (uid !== null) await removeGearNetwork(ctx, uuid, uid);
    await removeAccount(uuid);
    crashPoint("destroy:account");
    await fs.rm(home, { recursive: true, force: true, maxRetries: 3 });
    crashPoint("destroy:home");
    for (let i = 0; i < 50; i++) {
      try {
        await cgroup.removeGear(uuid);
        break;
      } catch (e) {
        if (i === 49) throw e;
        if (uid !== null) await killGear(cgroup, uuid, uid); // EBUSY: a task still exiting
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    await removeLimits(config, uuid);
    await removeMarker(config, uuid);
    await removeGearFrontend(ctx, uuid); // after the marker: a concurrent setGearFrontend is refused from here on
    return { uuid, destroyed: true, killed };
  });
}

export async function inspectGear(ctx: NodeContext, uuidIn: unknown): Promise<GearState> {
  const uuid = validateUuid(uuidIn);
  await ensureStateDirs(ctx.config);
  return withFileLock(lockPath(ctx.config, uuid), () => inspectLocked(ctx, uuid));
}

function diff(drift: Drift[], field: string, expected: unknown, actual: unknown): void {
  const e = expected === null || expected === undefined ? "none" : String(expected);
  const a = actual === null || actual === undefined ? "missing" : String(actual);
  if (e !== a) drift.push({ field, expected: e, actual: a });
}

async function inspectLocked(ctx: NodeContext, uuid: string): Promise<GearState> {
  const { config, cgroup } = ctx;
  const marker: Marker | null = await readMarker(config, uuid);
  const user = (await readPasswd()).find((u) => u.name === uuid && u.gecos === config.gecos) ?? null;
  if (!marker && !user) throw new NotFoundError(uuid);
  const spec = marker?.spec ?? null;
  const uid = spec?.uid ?? user!.uid;
  const home = gearHome(config, uuid);
  const drift: Drift[] = [];

  if (!marker) drift.push({ field: "marker", expected: "present", actual: "missing" });
  else diff(drift, "phase", "created", marker.phase);

  // account
  const group = (await readGroups()).find((g) => g.name === uuid) ?? null;
  diff(drift, "user", "present", user ? "present" : null);
  if (user) {
    diff(drift, "user.uid", uid, user.uid);
    diff(drift, "user.gid", uid, user.gid);
    diff(drift, "user.home", home, user.home);
    diff(drift, "user.shell", config.gearShell, user.shell);
  }
  diff(drift, "group.gid", uid, group?.gid ?? null);

  // home layout (paths, modes, owners, env files)
  const homeExists = await exists(home);
  if (spec) {
    if (homeExists) drift.push(...(await readHomeDrift(home, homeLayout(spec, config), uid)));
    else drift.push({ field: "path:.", expected: "dir", actual: "missing" });
  }

  // cgroup values, read from the cgroup files
  const values = await cgroup.readGear(uuid);
  if (spec) {
    const limits = limitsOf(config, spec);
    for (const f of cgroup.desiredFiles(limits)) {
      const key = `${f.controller}/${f.file}`;
      const actual = values[key];
      const memKey = cgroup.version === "v1" ? "memory/memory.limit_in_bytes" : "unified/memory.max";
      if (
        actual === null &&
        (f.file === "memory.memsw.limit_in_bytes" || f.file === "memory.swap.max") &&
        values[memKey] !== null
      ) {
        continue; // kernel without swap accounting: reported as null, not drift
      }
      diff(drift, `cgroup:${key}`, f.value, actual);
    }
  }

  // PAM limits
  let limitsFile: string | null = null;
  if (spec && (await limitsDirExists(config))) {
    limitsFile = limitsFilePath(config, uuid);
    const cur = await readLimits(config, uuid);
    diff(drift, "limits", renderLimits(uuid, config.profiles[spec.profile]?.pids ?? 0), cur);
  }

  // disk
  const diskMode: DiskMode = marker?.disk ?? "unenforced";
  const disk = await readDisk(config, uuid, home, diskMode);
  if (spec && diskMode !== "unenforced") {
    const p = config.profiles[spec.profile];
    diff(drift, "disk.enforced", true, disk.enforced);
    if (disk.enforced)
      diff(
        drift,
        "disk.limitBytes",
        diskMode === "quota" ? Math.floor(p.diskBytes / 1024) * 1024 : p.diskBytes,
        disk.limitBytes,
      );
  }

  // SELinux
  const label = mcsLabel(uid);
  let applied: string | null = null;
  if (ctx.selinux !== "unavailable" && homeExists) {
    const c = await readLabel(home);
    applied = c ? rangeOf(c) : null;
    diff(drift, "selinux.label", label, applied);
  }

  // network isolation rules
  const network = await readGearNetwork(ctx, uuid, uid);
  if ((network.mode === "nftables" || network.mode === "iptables") && !network.enforced)
    drift.push({ field: "network", expected: "isolation rules installed", actual: network.detail });

  // processes
  const procs = [];
  for (const p of await processesOfUid(uid)) {
    const inCgroup = await cgroup.pidInGear(p.pid, uuid);
    procs.push({ pid: p.pid, inCgroup, comm: p.comm });
    if (!inCgroup) drift.push({ field: `process:${p.pid}`, expected: "in gear cgroup", actual: "outside" });
  }

  // cartridges: actual status of each (bin/control status) and record/dir differences
  const carts = homeExists ? await inspectCartridges(ctx, { uuid, uid, home, spec }) : null;
  if (carts) drift.push(...carts.drift);

  return {
    uuid,
    uid,
    phase: marker?.phase ?? "unmanaged",
    spec,
    home,
    user: { exists: !!user, uid: user?.uid ?? null, gid: user?.gid ?? null },
    selinux: { status: ctx.selinux, label, applied },
    cgroup: { version: cgroup.version, paths: cgroup.gearDirs(uuid), values },
    disk,
    limitsFile,
    addresses: gearAddresses(uid),
    network,
    processes: procs,
    cartridges: carts?.cartridges ?? [],
    drift,
  };
}

/** Gears on this node: accounts with the gear GECOS whose home is under the base dir, plus markers. */
export async function listGears(ctx: NodeContext): Promise<GearSummary[]> {
  const { config } = ctx;
  const users = (await readPasswd()).filter(
    (u) => u.gecos === config.gecos && path.dirname(u.home) === config.gearBaseDir,
  );
  const markers = await listMarkers(config);
  const uuids = [...new Set([...users.map((u) => u.name), ...markers])].sort();
  const out: GearSummary[] = [];
  for (const uuid of uuids) {
    const m = await readMarker(config, uuid).catch(() => null);
    const u = users.find((x) => x.name === uuid);
    out.push(summary(uuid, m?.spec.uid ?? u?.uid ?? null, m?.phase ?? "unmanaged", m?.spec ?? null));
  }
  return out;
}
