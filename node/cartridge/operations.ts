// Cartridge operations on a gear: install (reference §6.3 order), control, remove, status. Each runs under
// the gear's lock; every cartridge hook runs as the gear through runInGear. A failed install is undone
// completely: the cartridge's processes, frontend routes, ~/.env variables, files it created in app-root
// and its directory are removed, so the gear is left as it was; the error carries the hook's stderr.

import { promises as fs } from "fs";
import * as path from "path";
import type { LoadedCartridge } from "../../cartridges/directory";
import { cartridgeIdent, manifestForVersion } from "../../cartridges/manifest";
import { ConflictError } from "../host/accounts";
import type { NodeContext } from "../context";
import { run } from "../host/exec";
import { gearHome } from "../gear/env";
import { NotFoundError } from "../gear/marker";
import { listCartridgeDirs } from "../gear/home";
import { withFileLock } from "../host/lock";
import { runInGear, type RunResult } from "../gear/run-in-gear";
import { ensureStateDirs, lockPath, readMarker } from "../gear/marker";
import type { GearCartridgeState } from "../types";
import { validateUuid, ValidationError } from "../validate";
import {
  appGears,
  applyReceived,
  collectPublications,
  connectApp,
  type ConnectResult,
  type Publication,
} from "./connections";
import {
  applyFrontend,
  nodeFrontend,
  restoreFrontend,
  type Frontend,
  type GearFrontendSpec,
} from "./frontend";
import {
  copyTree,
  chownTreeBottomUp,
  exists,
  listFiles,
  listNoFollow,
  readText,
  writeRootFile,
} from "../host/fs";
import { DEFAULT_HOOK_TIMEOUT_MS, renderTemplates, runHook, runHookOk, type GearRef } from "./hooks";
import { recordStatus } from "./inspect";
import {
  allocateHostIds,
  CARTRIDGE_MARK,
  cartridgeDir,
  endpointBindings,
  installPlan,
  ipNames,
  listeningOn,
  nodeCartridgeEnv,
  templatePass,
  validateAction,
  validateCartridgeName,
  type InstallStep,
} from "./model";
import { loopbackAddress } from "../host/addresses";
import {
  listRecords,
  metaDir,
  readRecord,
  removeMetaIfEmpty,
  removeRecord,
  writeRecord,
  type CartridgeRecord,
} from "./records";
import { killCartridgeProcesses, processKeys } from "./cartridge-processes";
import { CartridgeNotFoundError, resolveCartridge, validateRequest } from "./repository";

export interface CartridgeOptions {
  /** the frontend to route through; default: the node's (node/frontend); null: no routes */
  readonly frontend?: Frontend | null;
  /** per-hook timeout (default 300 s) */
  readonly hookTimeoutMs?: number;
}

/** Gear dirs (gear-owned) where what an install creates at the top level belongs to the cartridge. */
export const OWNED_DIRS = ["app-root/data", "app-root/logs", "app-root/runtime", "app-root/runtime/repo"];

async function frontendOf(opts: CartridgeOptions): Promise<Frontend | null> {
  return opts.frontend !== undefined ? opts.frontend : nodeFrontend();
}

async function gearRef(ctx: NodeContext, uuid: string): Promise<GearRef> {
  const marker = await readMarker(ctx.config, uuid);
  if (!marker) throw new NotFoundError(uuid);
  if (marker.phase !== "created")
    throw new ConflictError(`gear ${uuid} is ${marker.phase}; finish it first (geartrain node gear ...)`);
  return { uuid, uid: marker.spec.uid, home: gearHome(ctx.config, uuid), spec: marker.spec };
}

function withGear<T>(ctx: NodeContext, uuidIn: unknown, fn: (g: GearRef) => Promise<T>): Promise<T> {
  const uuid = validateUuid(uuidIn);
  return ensureStateDirs(ctx.config).then(() =>
    withFileLock(lockPath(ctx.config, uuid), async () => fn(await gearRef(ctx, uuid))),
  );
}

/** The record of a cartridge by Name or by directory. */
async function findRecord(home: string, name: string): Promise<CartridgeRecord | null> {
  validateCartridgeName(name, "cartridge");
  for (const r of await listRecords(home)) if (r.name === name || r.dir === name) return r;
  return null;
}

async function snapshotOwnedDirs(home: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const d of OWNED_DIRS) out[d] = await listNoFollow(path.join(home, d));
  return out;
}

function newEntries(
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
async function removeAsGear(ctx: NodeContext, g: GearRef, rels: readonly string[]): Promise<void> {
  if (rels.length === 0) return;
  const abs = rels.map((r) => path.join(g.home, r));
  const r = await runInGear(ctx, g.uuid, ["/bin/rm", "-rf", "--", ...abs], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`removing ${rels.join(", ")} failed: ${r.stderr.trim()}`);
}

async function killMarked(ctx: NodeContext, g: GearRef, dir: string, baseline: Set<string> | null) {
  return killCartridgeProcesses(g.uid, `${ctx.config.envPrefix}${CARTRIDGE_MARK}=${dir}`, baseline);
}

// ---------------------------------------------------------------------------------------------------------
// install

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

interface InstallState {
  rec: CartridgeRecord;
  baseline: Record<string, string[]>;
  pids: Set<string>;
  frontend: Frontend | null;
  previousFrontend: GearFrontendSpec | null;
  frontendTouched: boolean;
  publications: Publication[];
}

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
  await fs.mkdir(dest, { mode: 0o700 });
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
    await fs.symlink(path.join(src.dir, "usr"), path.join(dest, "usr"));
  await chownTreeBottomUp(dest, uid, uid);
  await fs.chmod(dest, 0o750);
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
  const fe = await frontendOf(opts);
  const timeoutMs = opts.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
  let connectNeeded = false;
  const result = await withGear(ctx, uuidIn, async (g) => {
    const existing = await readRecord(g.home, dir);
    if (existing && existing.phase === "installed") {
      if (existing.ident === cartridgeIdent(manifest) && existing.vendor === manifest["Cartridge-Vendor"]) {
        const records = await listRecords(g.home);
        return {
          uuid: g.uuid,
          changed: false,
          cartridge: await recordStatus(ctx, g, records, existing),
          env: Object.keys(existing.env),
          steps: [],
          routes: { status: "none" as const, hostnames: [], routes: [], skipped: [] },
          messages: [],
          connections: null,
        };
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
    const state: InstallState = {
      rec: { ...rec0, baseline },
      baseline,
      pids: await processKeys(g.uid),
      frontend: fe,
      previousFrontend: fe ? await fe.readGearFrontend(ctx, g.uuid) : null,
      frontendTouched: false,
      publications: [],
    };
    const steps = installPlan({
      scripts: src.scripts,
      manifest,
      hasTemplate: await exists(path.join(src.dir, "template")),
    });
    const messages: { hook: string; output: string }[] = [];
    let routes: InstallResult["routes"] = { status: "none", hostnames: [], routes: [], skipped: [] };
    const cartPath = path.join(g.home, dir);
    const records = () => [...others, state.rec];
    const hook = async (label: string, argv: string[]) => {
      const r: RunResult = await runHookOk(ctx, g, records(), dir, { argv, label, timeoutMs });
      if (r.stdout.trim()) messages.push({ hook: label, output: r.stdout.trim() });
    };
    const setStep = async (step: InstallStep) => {
      state.rec = { ...state.rec, step };
      await writeRecord(g.home, g.uid, state.rec);
    };
    try {
      await writeRecord(g.home, g.uid, state.rec); // before the first change: a crash is undone next time
      for (const step of steps) {
        await setStep(step);
        switch (step) {
          case "copy":
            await copyCartridge(src, version, cartPath, g.uid);
            break;
          case "env": {
            for (const [k, v] of Object.entries(env))
              await writeRootFile(path.join(g.home, ".env", k), v, 0o640, 0, g.uid);
            // what the app's publishers offer, so the cartridge starts with it (e.g. database variables)
            if (Object.keys(manifest.Subscribes ?? {}).length) {
              const gears = (await appGears(ctx, g.spec)).map((x) =>
                x.ref.uuid === g.uuid ? { ...x, records: others.filter((r) => r.phase === "installed") } : x,
              );
              state.publications = await collectPublications(ctx, gears);
              await applyReceived(
                ctx,
                g,
                [...others.filter((r) => r.phase === "installed"), state.rec],
                state.publications,
              );
            }
            break;
          }
          case "render-env":
          case "render": {
            const files = await listFiles(cartPath, ["usr", "template", "template.git"]);
            const pass = step === "render-env" ? 1 : 2;
            const todo = templatePass(files, pass, src.managedFiles.processed_templates, dir);
            await renderTemplates(ctx, g, records(), dir, todo, `templates (pass ${pass})`);
            break;
          }
          case "setup":
            await hook("bin/setup", [path.join(cartPath, "bin/setup"), "--version", version]);
            break;
          case "install":
            await hook("bin/install", [path.join(cartPath, "bin/install"), "--version", version]);
            break;
          case "repo": {
            const repo = path.join(g.home, "app-root/runtime/repo");
            if ((await listNoFollow(repo)).length === 0) {
              const r = await runInGear(
                ctx,
                g.uuid,
                ["/bin/cp", "-R", "--", `${cartPath}/template/.`, `${repo}/`],
                {
                  timeoutMs,
                },
              );
              if (r.code !== 0)
                throw new Error(`copying the starter app into the repo failed: ${r.stderr.trim()}`);
            }
            break;
          }
          case "build":
            await hook("bin/control build", [path.join(cartPath, "bin/control"), "build"]);
            break;
          case "start":
            await hook("bin/control start", [path.join(cartPath, "bin/control"), "start"]);
            state.rec = { ...state.rec, desired: "started" };
            break;
          case "routes": {
            if (!fe) {
              routes = { status: "unavailable", hostnames: [], routes: [], skipped: [] };
              break;
            }
            state.frontendTouched = true;
            const applied = await applyFrontend(
              ctx,
              fe,
              { uuid: g.uuid, app: g.spec.app, namespace: g.spec.namespace },
              records(),
            );
            routes = {
              status: applied.spec ? "set" : "none",
              hostnames: applied.spec?.hostnames ?? [],
              routes: applied.spec?.routes ?? [],
              skipped: applied.skipped,
            };
            break;
          }
          case "post_install":
            await hook("bin/post_install", [path.join(cartPath, "bin/post_install"), "--version", version]);
            break;
        }
      }
      const owned = newEntries(baseline, await snapshotOwnedDirs(g.home));
      const clean: CartridgeRecord = { ...state.rec, phase: "installed", step: null, owned };
      delete (clean as { baseline?: unknown }).baseline;
      state.rec = clean;
      await writeRecord(g.home, g.uid, state.rec);
    } catch (e) {
      try {
        await undoInstall(ctx, g, state.rec, state, fe);
      } catch (undoErr) {
        throw new Error(
          `${(e as Error).message}\nand undoing the install failed too: ${(undoErr as Error).message}`,
          { cause: e },
        );
      }
      throw e;
    }
    connectNeeded = Object.keys(manifest.Publishes ?? {}).length > 0;
    const all = await listRecords(g.home);
    return {
      uuid: g.uuid,
      changed: true,
      cartridge: await recordStatus(ctx, g, all, state.rec),
      env: Object.keys(env),
      steps,
      routes,
      messages,
      connections: null as ConnectResult | null,
    };
  });
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

/**
 * Undo an install (a failed one in this process with `state`, or one found half-done): stop it, kill its
 * processes (and, with state, every gear process started since), restore the frontend, remove the files it
 * created in app-root, its ~/.env variables, its directory and its record.
 */
async function undoInstall(
  ctx: NodeContext,
  g: GearRef,
  rec: CartridgeRecord,
  state: InstallState | null,
  fe: Frontend | null,
): Promise<void> {
  const cartPath = path.join(g.home, rec.dir);
  const others = (await listRecords(g.home)).filter((r) => r.dir !== rec.dir);
  const started = rec.desired === "started" || ["start", "routes", "post_install"].includes(rec.step ?? "");
  if (started) {
    if (await exists(path.join(cartPath, "bin/control")))
      await runHook(ctx, g, [...others, rec], rec.dir, {
        argv: [path.join(cartPath, "bin/control"), "stop"],
        label: "bin/control stop",
        timeoutMs: 60_000,
      }).catch(() => undefined);
  }
  await killMarked(ctx, g, rec.dir, state?.pids ?? null);
  if (fe) {
    if (state?.frontendTouched) await restoreFrontend(ctx, fe, g.uuid, state.previousFrontend);
    else if (!state)
      await applyFrontend(
        ctx,
        fe,
        { uuid: g.uuid, app: g.spec.app, namespace: g.spec.namespace },
        others.filter((r) => r.phase === "installed"),
      );
  }
  const baseline = state?.baseline ?? rec.baseline;
  const owned = baseline ? newEntries(baseline, await snapshotOwnedDirs(g.home)) : [...rec.owned];
  await removeAsGear(ctx, g, owned);
  for (const name of Object.keys(rec.env)) await fs.rm(path.join(g.home, ".env", name), { force: true });
  // received connections: back to what the remaining cartridges subscribe to
  if (state?.publications.length || (await exists(path.join(metaDir(g.home), "connections.json")))) {
    await applyReceived(
      ctx,
      g,
      others.filter((r) => r.phase === "installed"),
      state?.publications ?? [],
    );
  }
  await fs.rm(cartPath, { recursive: true, force: true, maxRetries: 3 });
  await removeRecord(g.home, rec.dir);
  await removeMetaIfEmpty(g.home);
}

// ---------------------------------------------------------------------------------------------------------
// control, status

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
  const fe = await frontendOf(opts);
  return withGear(ctx, uuidIn, async (g) => {
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
  return withGear(ctx, uuidIn, async (g) => {
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

// ---------------------------------------------------------------------------------------------------------
// remove

export interface RemoveResult {
  readonly uuid: string;
  readonly cartridge: string;
  /** false: nothing was there */
  readonly removed: boolean;
  /** hooks that failed (stop, teardown): reported, removal went on */
  readonly warnings: readonly string[];
  readonly connections: ConnectResult | null;
}

/** Remove an installed (or half-removed) cartridge; the caller holds the gear lock. Returns warnings. */
async function removeLocked(
  ctx: NodeContext,
  g: GearRef,
  rec: CartridgeRecord,
  fe: Frontend | null,
  timeoutMs: number,
): Promise<string[]> {
  const warnings: string[] = [];
  await writeRecord(g.home, g.uid, { ...rec, phase: "removing" });
  const records = await listRecords(g.home);
  const cartPath = path.join(g.home, rec.dir);
  for (const [label, argv] of [
    ["bin/control stop", [path.join(cartPath, "bin/control"), "stop"]],
    ["bin/teardown", [path.join(cartPath, "bin/teardown")]],
  ] as const) {
    if (!(await exists(argv[0]))) continue;
    const r = await runHook(ctx, g, records, rec.dir, { argv: [...argv], label, timeoutMs }).catch(
      (e: Error) => e,
    );
    if (r instanceof Error) warnings.push(`${label}: ${r.message}`);
    else if (r.code !== 0) warnings.push(`${label} exited ${r.code}: ${(r.stderr || r.stdout).trim()}`);
  }
  await killMarked(ctx, g, rec.dir, null);
  const rest = records.filter((r) => r.dir !== rec.dir && r.phase === "installed");
  if (fe) await applyFrontend(ctx, fe, { uuid: g.uuid, app: g.spec.app, namespace: g.spec.namespace }, rest);
  await removeAsGear(ctx, g, rec.owned);
  for (const n of Object.keys(rec.env)) await fs.rm(path.join(g.home, ".env", n), { force: true });
  await fs.rm(cartPath, { recursive: true, force: true, maxRetries: 3 });
  await removeRecord(g.home, rec.dir);
  // what this gear received for a subscriber that is gone
  if ((await readText(path.join(metaDir(g.home), "connections.json"))) !== null) {
    const gears = await appGears(ctx, g.spec);
    const pubs = await collectPublications(
      ctx,
      gears.map((x) => (x.ref.uuid === g.uuid ? { ...x, records: rest } : x)),
    );
    await applyReceived(ctx, g, rest, pubs);
  }
  await removeMetaIfEmpty(g.home);
  return warnings;
}

/**
 * Remove a cartridge: bin/control stop, bin/teardown, what is still running with its mark, its frontend
 * routes, the files it created in app-root, its ~/.env variables, its directory and record; then the app's
 * connections are converged (subscribers lose what it published). Failing stop/teardown hooks are reported
 * as warnings and the removal goes on. Removing what is not there succeeds with removed: false.
 */
export async function removeCartridge(
  ctx: NodeContext,
  uuidIn: unknown,
  name: string,
  opts: CartridgeOptions = {},
): Promise<RemoveResult> {
  const fe = await frontendOf(opts);
  let publisher = false;
  const result = await withGear(ctx, uuidIn, async (g): Promise<RemoveResult> => {
    const rec = await findRecord(g.home, name);
    if (!rec) {
      // a directory without a record (e.g. an operator's leftover) in the cartridge namespace of the home
      if (!(await listCartridgeDirs(g.home)).includes(name))
        return { uuid: g.uuid, cartridge: name, removed: false, warnings: [], connections: null };
      await killMarked(ctx, g, name, null);
      await fs.rm(path.join(g.home, name), { recursive: true, force: true, maxRetries: 3 });
      return { uuid: g.uuid, cartridge: name, removed: true, warnings: [], connections: null };
    }
    if (rec.phase === "installing") {
      await undoInstall(ctx, g, rec, null, fe);
      return { uuid: g.uuid, cartridge: rec.dir, removed: true, warnings: [], connections: null };
    }
    publisher = Object.keys(rec.manifest.Publishes ?? {}).length > 0;
    const warnings = await removeLocked(ctx, g, rec, fe, opts.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS);
    return { uuid: g.uuid, cartridge: rec.dir, removed: true, warnings, connections: null };
  });
  if (!publisher) return result;
  const marker = await readMarker(ctx.config, result.uuid);
  if (!marker) return result;
  return { ...result, connections: await connectApp(ctx, marker.spec) };
}

/** Converge the publish/subscribe connections of the app the gear belongs to. */
export async function connectGearApp(ctx: NodeContext, uuidIn: unknown): Promise<ConnectResult> {
  const uuid = validateUuid(uuidIn);
  const marker = await readMarker(ctx.config, uuid);
  if (!marker) throw new NotFoundError(uuid);
  return connectApp(ctx, marker.spec);
}
