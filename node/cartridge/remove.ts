// Removing a cartridge from a gear: a finished install (removeLocked, removeCartridge) and a half-done or
// failed one (undoInstall). Either way the gear is left as it was before the install: the cartridge's
// processes, frontend routes, files in app-root, ~/.env variables, directory and record are removed, and
// the connections it took part in are converged.

import * as path from "path";
import type { NodeContext } from "../context";
import { listCartridgeDirs } from "../gear/home";
import { readMarker } from "../gear/marker";
import { withCreatedGear, type GearRef } from "../gear/ref";
import { exists } from "../host/fs";
import { readNodeFile, removeGearTree, removeRootFile } from "../host/gear-fs";
import { killMarked } from "./cartridge-processes";
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
  frontendOf,
  restoreFrontend,
  type CartridgeOptions,
  type Frontend,
  type GearFrontendSpec,
} from "./frontend";
import { DEFAULT_HOOK_TIMEOUT_MS, runHook } from "./hooks";
import { newEntries, removeAsGear, snapshotOwnedDirs } from "./owned-files";
import {
  findRecord,
  listRecords,
  metaDir,
  removeMetaIfEmpty,
  removeRecord,
  writeRecord,
  type CartridgeRecord,
} from "./records";

/** What an install in this process has done so far that its undo must know. */
export interface InstallProgress {
  /** the top-level entries of the owned dirs before the install began */
  readonly baseline: Record<string, string[]>;
  /** the gear's processes before the install began: anything else is killed */
  readonly pids: Set<string>;
  readonly previousFrontend: GearFrontendSpec | null;
  frontendTouched: boolean;
  publications: Publication[];
}

/**
 * Undo an install (a failed one in this process with `state`, or one found half-done): stop it, kill its
 * processes (and, with state, every gear process started since), restore the frontend, remove the files it
 * created in app-root, its ~/.env variables, its directory and its record.
 */
export async function undoInstall(
  ctx: NodeContext,
  g: GearRef,
  rec: CartridgeRecord,
  state: InstallProgress | null,
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
  for (const name of Object.keys(rec.env)) await removeRootFile(path.join(g.home, ".env", name));
  // received connections: back to what the remaining cartridges subscribe to
  if (state?.publications.length || (await exists(path.join(metaDir(g.home), "connections.json")))) {
    await applyReceived(
      ctx,
      g,
      others.filter((r) => r.phase === "installed"),
      state?.publications ?? [],
    );
  }
  await removeGearTree(cartPath, { uid: g.uid });
  await removeRecord(g.home, rec.dir);
  await removeMetaIfEmpty(g.home);
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
export async function removeLocked(
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
  for (const n of Object.keys(rec.env)) await removeRootFile(path.join(g.home, ".env", n));
  await removeGearTree(cartPath, { uid: g.uid });
  await removeRecord(g.home, rec.dir);
  // what this gear received for a subscriber that is gone
  if ((await readNodeFile(path.join(metaDir(g.home), "connections.json"))) !== null) {
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
  const fe = frontendOf(ctx, opts);
  const { result, publisher } = await withCreatedGear(ctx, uuidIn, async (g) => {
    const done = (
      cartridge: string,
      removed: boolean,
      warnings: string[] = [],
      publisher = false,
    ): { result: RemoveResult; publisher: boolean } => ({
      result: { uuid: g.uuid, cartridge, removed, warnings, connections: null },
      publisher,
    });
    const rec = await findRecord(g.home, name);
    if (!rec) {
      // a directory without a record (e.g. an operator's leftover) in the cartridge namespace of the home
      if (!(await listCartridgeDirs(g.home)).includes(name)) return done(name, false);
      await killMarked(ctx, g, name, null);
      await removeGearTree(path.join(g.home, name), { uid: g.uid });
      return done(name, true);
    }
    if (rec.phase === "installing") {
      await undoInstall(ctx, g, rec, null, fe);
      return done(rec.dir, true);
    }
    const warnings = await removeLocked(ctx, g, rec, fe, opts.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS);
    return done(rec.dir, true, warnings, Object.keys(rec.manifest.Publishes ?? {}).length > 0);
  });
  if (!publisher) return result;
  const marker = await readMarker(ctx.config, result.uuid);
  if (!marker) return result;
  return { ...result, connections: await connectApp(ctx, marker.spec) };
}
