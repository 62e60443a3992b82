// Installing a cartridge into a gear (reference §6.3 order). installPlan() (model.ts) decides the steps;
// STEPS below performs each one. The record is written before the first change and carries the step
// reached, so a crashed install is found and undone; a failed one is undone at once (remove.ts
// undoInstall) and the error carries the hook's stderr. Every hook runs as the gear through runInGear.

import * as path from "path";
import { ConflictError } from "../../common/errors";
import type { LoadedCartridge } from "../../cartridges/directory";
import { cartridgeIdent, manifestForVersion, type Manifest } from "../../cartridges/manifest";
import type { NodeContext } from "../context";
import { withCreatedGear, type GearRef } from "../gear/ref";
import { runInGear } from "../gear/run-in-gear";
import { loopbackAddress } from "../host/addresses";
import { run } from "../host/exec";
import { chownTreeBottomUp, copyTree, exists, readText } from "../host/fs";
import { GearDir, listFilesNoFollow, listNoFollow, writeRootFile } from "../host/gear-fs";
import { readMarker } from "../gear/marker";
import type { GearCartridgeState } from "../types";
import { processKeys } from "./cartridge-processes";
import { appGears, applyReceived, collectPublications, connectApp, type ConnectResult } from "./connections";
import {
  applyFrontend,
  frontendOf,
  type CartridgeOptions,
  type Frontend,
  type GearFrontendSpec,
} from "./frontend";
import { DEFAULT_HOOK_TIMEOUT_MS, renderTemplates, runHookOk } from "./hooks";
import { recordStatus } from "./inspect";
import {
  allocateHostIds,
  cartridgeDir,
  endpointBindings,
  installPlan,
  ipNames,
  listeningOn,
  nodeCartridgeEnv,
  templatePass,
  type InstallStep,
} from "./model";
import { newEntries, snapshotOwnedDirs } from "./owned-files";
import { installedRecord, listRecords, readRecord, writeRecord, type CartridgeRecord } from "./records";
import { removeCartridge, removeLocked, undoInstall, type InstallProgress } from "./remove";
import { resolveCartridge, validateRequest } from "./repository";

export interface InstallResult {
  readonly uuid: string;
  /** false: the same cartridge was already installed */
  readonly changed: boolean;
  readonly cartridge: GearCartridgeState;
  /** variables the node wrote into ~/.env for it */
  readonly env: readonly string[];
  /** steps run, in order */
  readonly steps: readonly InstallStep[];
  readonly routes: {
    readonly status: "set" | "none" | "unavailable";
    readonly hostnames: readonly string[];
    readonly routes: GearFrontendSpec["routes"];
    readonly skipped: readonly string[];
  };
  /** stdout of the hooks that printed something */
  readonly messages: readonly { hook: string; output: string }[];
  readonly connections: ConnectResult | null;
}

/** One install as its steps see it: the gear, the cartridge, and what has been done so far. */
interface InstallRun {
  readonly ctx: NodeContext;
  readonly g: GearRef;
  readonly src: LoadedCartridge;
  readonly version: string;
  readonly manifest: Manifest;
  readonly dir: string;
  /** ~/<dir> */
  readonly cartPath: string;
  /** the variables the node writes into ~/.env for it */
  readonly env: Readonly<Record<string, string>>;
  /** the gear's other cartridges */
  readonly others: readonly CartridgeRecord[];
  readonly fe: Frontend | null;
  readonly timeoutMs: number;
  readonly progress: InstallProgress;
  /** the record as written so far */
  rec: CartridgeRecord;
  routes: InstallResult["routes"];
  readonly messages: { hook: string; output: string }[];
}

type StepFn = (run: InstallRun) => Promise<void>;

/** The gear's cartridges with this one as it is now (the env layering of its hooks). */
function records(r: InstallRun): CartridgeRecord[] {
  return [...r.others, r.rec];
}

async function hook(r: InstallRun, label: string, argv: string[]): Promise<void> {
  const res = await runHookOk(r.ctx, r.g, records(r), r.dir, { argv, label, timeoutMs: r.timeoutMs });
  if (res.stdout.trim()) r.messages.push({ hook: label, output: res.stdout.trim() });
}

/** bin/<name> --version <V> (setup, install, post_install). */
function versionedHook(name: string): StepFn {
  return (r) => hook(r, `bin/${name}`, [path.join(r.cartPath, `bin/${name}`), "--version", r.version]);
}

/** bin/control <action> (build, start). */
function controlHook(action: string): StepFn {
  return (r) => hook(r, `bin/control ${action}`, [path.join(r.cartPath, "bin/control"), action]);
}

function renderPass(pass: 1 | 2): StepFn {
  return async (r) => {
    const files = await listFilesNoFollow(r.cartPath, ["usr", "template", "template.git"]);
    const todo = templatePass(files, pass, r.src.managedFiles.processed_templates, r.dir);
    await renderTemplates(r.ctx, r.g, records(r), r.dir, todo, `templates (pass ${pass})`, (rel) =>
      repositoryText(r.src, r.version, rel),
    );
  };
}

/** The repository file the copy of `rel` came from (as copyCartridge: versions/<V>/ replaces the generic). */
async function repositoryText(src: LoadedCartridge, version: string, rel: string): Promise<string | null> {
  for (const p of [path.join(src.dir, "versions", version, rel), path.join(src.dir, rel)]) {
    const text = await readText(p);
    if (text !== null) return text;
  }
  return null;
}

/** Every step of installPlan(), in one table: the plan is data, this performs it. */
const STEPS: Record<InstallStep, StepFn> = {
  copy: (r) => copyCartridge(r.src, r.version, r.cartPath, r.g.uid),
  env: async (r) => {
    const { ctx, g } = r;
    for (const [k, v] of Object.entries(r.env))
      await writeRootFile(path.join(g.home, ".env", k), v, 0o640, 0, g.uid);
    // what the app's publishers offer, so the cartridge starts with it (e.g. database variables)
    if (Object.keys(r.manifest.Subscribes ?? {}).length) {
      const installed = r.others.filter((x) => x.phase === "installed");
      const gears = (await appGears(ctx, g.spec)).map((x) =>
        x.ref.uuid === g.uuid ? { ...x, records: installed } : x,
      );
      r.progress.publications = await collectPublications(ctx, gears);
      await applyReceived(ctx, g, [...installed, r.rec], r.progress.publications);
    }
  },
  "render-env": renderPass(1),
  setup: versionedHook("setup"),
  render: renderPass(2),
  install: versionedHook("install"),
  repo: async (r) => {
    const repo = path.join(r.g.home, "app-root/runtime/repo");
    if ((await listNoFollow(repo)).length > 0) return;
    const argv = ["/bin/cp", "-R", "--", `${r.cartPath}/template/.`, `${repo}/`];
    const res = await runInGear(r.ctx, r.g.uuid, argv, { timeoutMs: r.timeoutMs });
    if (res.code !== 0) throw new Error(`copying the starter app into the repo failed: ${res.stderr.trim()}`);
  },
  build: controlHook("build"),
  start: async (r) => {
    await controlHook("start")(r);
    r.rec = { ...r.rec, desired: "started" };
  },
  routes: async (r) => {
    const { ctx, g } = r;
    if (!r.fe) {
      r.routes = { status: "unavailable", hostnames: [], routes: [], skipped: [] };
      return;
    }
    r.progress.frontendTouched = true;
    const applied = await applyFrontend(
      ctx,
      r.fe,
      { uuid: g.uuid, app: g.spec.app, namespace: g.spec.namespace },
      records(r),
    );
    r.routes = {
      status: applied.spec ? "set" : "none",
      hostnames: applied.spec?.hostnames ?? [],
      routes: applied.spec?.routes ?? [],
      skipped: applied.skipped,
    };
  },
  post_install: versionedHook("post_install"),
};

/** Check what an install would collide with, before anything is made. */
async function preflight(
  ctx: NodeContext,
  g: GearRef,
  dir: string,
  env: Record<string, string>,
  rec: Pick<CartridgeRecord, "endpoints" | "manifest">,
): Promise<void> {
  if (await exists(path.join(g.home, dir)))
    throw new ConflictError(
      `~/${dir}/ already exists in gear ${g.uuid} without a cartridge record; remove it with: geartrain node cartridge remove ${g.uuid} ${dir}`,
    );
  for (const name of Object.keys(env)) {
    if (await exists(path.join(g.home, ".env", name)))
      throw new ConflictError(
        `${name} is already set in gear ${g.uuid}; another cartridge uses the same names`,
      );
  }
  const tcp = (await readText("/proc/net/tcp")) ?? "";
  for (const e of rec.endpoints) {
    if (listeningOn(tcp, e.ip, e.port))
      throw new ConflictError(`${e.ip}:${e.port} (${e.ipName}/${e.portName}) is already in use on this node`);
  }
  for (const pkg of rec.manifest["Native-Requires"]) {
    const r = await run(["dpkg-query", "-W", "-f=${Status}", pkg]).catch(() => null);
    if (r && r.stdout.trim() !== "install ok installed")
      throw new Error(
        `cartridge ${rec.manifest.Name} needs the Debian package ${pkg}. Fix: apt-get update && apt-get install -y ${pkg}`,
      );
  }
}

async function copyCartridge(src: LoadedCartridge, version: string, dest: string, uid: number) {
  // made root-only in the root-owned home: nothing of the gear can reach it until it is handed over below
  await GearDir.withDir(path.dirname(dest), async (home) => {
    if (!(await home.mkdir(path.basename(dest), 0o700))) throw new ConflictError(`${dest} already exists`);
  });
  const opts = {
    dirMode: 0o750,
    fileMode: (m: number) => (m & 0o100 ? 0o750 : 0o640),
  };
  await copyTree(src.dir, dest, { ...opts, skip: ["usr", "versions"] });
  const overlay = path.join(src.dir, "versions", version);
  if (await exists(overlay)) {
    // versions/<V>/ files replace the generic ones
    await copyTree(overlay, dest, { ...opts, overlay: true });
  }
  if (await exists(path.join(src.dir, "usr")))
    await GearDir.withDir(dest, (d) => d.symlink(path.join(src.dir, "usr"), "usr"));
  await chownTreeBottomUp(dest, uid, uid);
  await GearDir.withDir(dest, (d) => d.fixOwnerMode(null, { uid, gid: uid }, 0o750, true));
}

/** What the install needs before the gear lock: the cartridge, resolved from the node's repository. */
interface InstallRequest {
  readonly src: LoadedCartridge;
  readonly version: string;
  readonly manifest: Manifest;
  readonly dir: string;
  readonly fe: Frontend | null;
  readonly timeoutMs: number;
}

export async function installCartridge(
  ctx: NodeContext,
  uuidIn: unknown,
  request: unknown,
  opts: CartridgeOptions = {},
): Promise<InstallResult> {
  const req = validateRequest(request);
  const { cartridge: src, version } = await resolveCartridge(ctx.config, req);
  const manifest = manifestForVersion(src.manifest, version);
  const dir = cartridgeDir(manifest);
  const fe = frontendOf(ctx, opts);
  const timeoutMs = opts.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
  const { result, connectNeeded } = await withCreatedGear(ctx, uuidIn, (g) =>
    installLocked(ctx, g, { src, version, manifest, dir, fe, timeoutMs }),
  );
  if (!connectNeeded) return result;
  // hand this cartridge's publications to the subscribers of the app (other gears have their own locks)
  const marker = await readMarker(ctx.config, result.uuid);
  const connections = await connectApp(ctx, marker!.spec);
  const mine = connections.problems.filter((p) => p.uuid === result.uuid && p.dir === dir);
  if (mine.length) {
    await removeCartridge(ctx, result.uuid, dir, opts).catch(() => undefined);
    throw new Error(`cartridge ${dir}: publishing failed: ${mine.map((p) => p.message).join("; ")}`);
  }
  return { ...result, connections };
}

/** The install under the gear lock; connectNeeded: it publishes, so the app's connections converge next. */
async function installLocked(
  ctx: NodeContext,
  g: GearRef,
  req: InstallRequest,
): Promise<{ result: InstallResult; connectNeeded: boolean }> {
  const { src, version, manifest, dir, fe, timeoutMs } = req;
  const existing = await readRecord(g.home, dir);
  if (existing && existing.phase === "installed") {
    if (existing.ident === cartridgeIdent(manifest) && existing.vendor === manifest["Cartridge-Vendor"]) {
      const records = await listRecords(g.home);
      const result: InstallResult = {
        uuid: g.uuid,
        changed: false,
        cartridge: await recordStatus(ctx, g, records, existing),
        env: Object.keys(existing.env),
        steps: [],
        routes: { status: "none", hostnames: [], routes: [], skipped: [] },
        messages: [],
        connections: null,
      };
      return { result, connectNeeded: false };
    }
    throw new ConflictError(
      `gear ${g.uuid} has ${existing.ident} in ~/${dir}/; remove it first to install ${cartridgeIdent(manifest)}`,
    );
  }
  // a crashed install is undone, a crashed removal finished, before installing again
  if (existing?.phase === "installing") await undoInstall(ctx, g, existing, null, fe);
  else if (existing) await removeLocked(ctx, g, existing, fe, timeoutMs);
  const others = (await listRecords(g.home)).filter((r) => r.dir !== dir);
  if (others.some((r) => r.name === manifest.Name))
    throw new ConflictError(`gear ${g.uuid} already has a cartridge named ${manifest.Name}`);
  const used = others.flatMap((r) => Object.values(r.hostIds));
  const hostIds = allocateHostIds(ipNames(manifest), used);
  const ips = Object.fromEntries(Object.entries(hostIds).map(([n, id]) => [n, loopbackAddress(g.uid, id)]));
  const primary =
    manifest.Categories.includes("web_framework") &&
    !others.some((r) => r.manifest.Categories.includes("web_framework"));
  const env = nodeCartridgeEnv({ manifest, prefix: ctx.config.envPrefix, home: g.home, dir, ips, primary });
  const rec0: CartridgeRecord = {
    name: manifest.Name,
    vendor: manifest["Cartridge-Vendor"],
    shortName: manifest["Cartridge-Short-Name"],
    dir,
    softwareVersion: version,
    cartridgeVersion: manifest["Cartridge-Version"],
    ident: cartridgeIdent(manifest),
    repoPath: src.dir,
    manifest,
    phase: "installing",
    step: null,
    desired: "stopped",
    env,
    hostIds,
    endpoints: endpointBindings(manifest, ips),
    owned: [],
  };
  await preflight(ctx, g, dir, env, rec0);

  const baseline = await snapshotOwnedDirs(g.home);
  const run: InstallRun = {
    ctx,
    g,
    src,
    version,
    manifest,
    dir,
    cartPath: path.join(g.home, dir),
    env,
    others,
    fe,
    timeoutMs,
    progress: {
      baseline,
      pids: await processKeys(g.uid),
      previousFrontend: fe ? await fe.readGearFrontend(ctx, g.uuid) : null,
      frontendTouched: false,
      publications: [],
    },
    rec: { ...rec0, baseline },
    routes: { status: "none", hostnames: [], routes: [], skipped: [] },
    messages: [],
  };
  const steps = installPlan({
    scripts: src.scripts,
    manifest,
    hasTemplate: await exists(path.join(src.dir, "template")),
  });
  try {
    await writeRecord(g.home, g.uid, run.rec); // before the first change: a crash is undone next time
    for (const step of steps) {
      run.rec = { ...run.rec, step };
      await writeRecord(g.home, g.uid, run.rec);
      await STEPS[step](run);
    }
    run.rec = installedRecord(run.rec, newEntries(baseline, await snapshotOwnedDirs(g.home)));
    await writeRecord(g.home, g.uid, run.rec);
  } catch (e) {
    try {
      await undoInstall(ctx, g, run.rec, run.progress, fe);
    } catch (undoErr) {
      throw new Error(
        `${(e as Error).message}\nand undoing the install failed too: ${(undoErr as Error).message}`,
        { cause: e },
      );
    }
    throw e;
  }
  const all = await listRecords(g.home);
  const result: InstallResult = {
    uuid: g.uuid,
    changed: true,
    cartridge: await recordStatus(ctx, g, all, run.rec),
    env: Object.keys(env),
    steps,
    routes: run.routes,
    messages: run.messages,
    connections: null,
  };
  return { result, connectNeeded: Object.keys(manifest.Publishes ?? {}).length > 0 };
}
