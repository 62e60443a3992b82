// The guestbook quickstart: one gear with the postgresql and nodejs cartridges (in that order, in the same
// gear: network isolation refuses connections between gears) and the guestbook app of quickstarts/guestbook
// committed to the gear's git repository and deployed by the deploy machinery (build = npm install of its
// pinned `pg`), exactly like a first `git push`. Every step converges, so running it again is a no-op:
// the gear exists with the same spec, the cartridges are in the repository and installed, the deployment
// branch has a commit and it is the active deployment. Code already on the branch (a push) is never replaced.

import { existsSync, promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import { ValidationError } from "../../common/errors";
import type { Frontend } from "../cartridge/frontend";
import { cartridgeStatus } from "../cartridge/control";
import { installCartridge } from "../cartridge/install";
import { addToRepository, CartridgeNotFoundError, resolveCartridge } from "../cartridge/repository";
import type { NodeContext } from "../context";
import { deployGear, gearDeployments } from "../deploy/operations";
import { initAppRepository } from "../deploy/repo";
import { createGear } from "../gear/lifecycle";
import { readMarker } from "../gear/marker";
import type { GearCartridgeState, GearSpec } from "../types";
import { validateGearSpec } from "../validate";

export const QUICKSTARTS = ["guestbook"] as const;
export type QuickstartName = (typeof QUICKSTARTS)[number];

/** The cartridges of the guestbook, in install order (the database first, so the app starts with its env). */
export const GUESTBOOK_CARTRIDGES = ["postgresql", "nodejs"] as const;

/** The files of the app (anything else in the directory, e.g. a local node_modules/, is not committed). */
export const GUESTBOOK_FILES = ["package.json", "package-lock.json", "server.js"] as const;

export interface QuickstartOptions {
  /** the frontend for the web cartridge's routes; default the node's */
  readonly frontend?: Frontend | null;
  /** node config file for the gear side of the deploy; default GEARTRAIN_NODE_CONFIG */
  readonly configPath?: string | null;
  /** the Geartrain source tree (with cartridges/ and quickstarts/); default: found above this file */
  readonly sourceRoot?: string;
  /** progress lines (deploy output), as they come */
  readonly onProgress?: (chunk: string) => void;
}

export interface QuickstartResult {
  readonly quickstart: QuickstartName;
  readonly uuid: string;
  readonly app: string;
  readonly namespace: string;
  readonly url: string;
  /** false: everything was already in place */
  readonly changed: boolean;
  readonly steps: readonly { step: string; changed: boolean; detail?: string }[];
  readonly deployment: { id: string | null; sha: string | null };
  readonly cartridges: readonly GearCartridgeState[];
  readonly warnings: readonly string[];
}

/** The directory above `from` that holds cartridges/<c>/ and quickstarts/guestbook/ (source tree or dist/). */
export function findSourceRoot(from = __dirname): string {
  for (let d = from; d !== path.dirname(d); d = path.dirname(d)) {
    if (
      existsSync(path.join(d, "quickstarts/guestbook/server.js")) &&
      existsSync(path.join(d, "cartridges/nodejs/metadata/manifest.yml"))
    )
      return d;
  }
  throw new Error(`cannot find cartridges/ and quickstarts/guestbook/ above ${from}`);
}

/** Validate the request: a gear spec (profile defaults to the node's default profile), nothing else. */
export function validateQuickstartRequest(ctx: NodeContext, name: unknown, input: unknown) {
  if (typeof name !== "string" || !(QUICKSTARTS as readonly string[]).includes(name))
    throw new ValidationError(
      "quickstart",
      `must be one of ${QUICKSTARTS.join(", ")} (got ${JSON.stringify(name)})`,
    );
  const spec = validateGearSpec(input, ctx.config);
  if (ctx.config.envPrefix !== "GEARTRAIN_")
    throw new Error(
      `the guestbook reads GEARTRAIN_* variables but this node's envPrefix is ${ctx.config.envPrefix}`,
    );
  return { quickstart: name as QuickstartName, spec };
}

/**
 * The application id of the quickstart's gear: the one asked for; else the existing gear's (so a re-run
 * converges); else the gear's own uuid, as OpenShift gave an application's first gear the application's
 * uuid. Pure.
 */
export function withAppUuid(spec: GearSpec, existing: GearSpec | null): GearSpec {
  if (spec.appUuid !== undefined) return spec;
  const appUuid = existing ? existing.appUuid : spec.uuid;
  return appUuid === undefined ? spec : { ...spec, appUuid };
}

/** Copy the app's files into a fresh directory the gear can read (git runs as the gear). */
async function stageApp(appDir: string): Promise<string> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "geartrain-quickstart-"));
  const dir = path.join(tmp, "app");
  await fs.mkdir(dir, { mode: 0o755 });
  for (const f of GUESTBOOK_FILES) {
    const src = path.join(appDir, f);
    const st = await fs.lstat(src).catch(() => null);
    if (!st?.isFile()) throw new Error(`the guestbook app is incomplete: ${src} is not a file`);
    await fs.copyFile(src, path.join(dir, f));
    await fs.chmod(path.join(dir, f), 0o644);
  }
  await fs.chmod(tmp, 0o755);
  return tmp;
}

export async function runQuickstart(
  ctx: NodeContext,
  name: unknown,
  input: unknown,
  opts: QuickstartOptions = {},
): Promise<QuickstartResult> {
  const request = validateQuickstartRequest(ctx, name, input);
  const { quickstart } = request;
  const marker = await readMarker(ctx.config, request.spec.uuid);
  const spec = withAppUuid(request.spec, marker?.spec ?? null);
  const root = opts.sourceRoot ?? findSourceRoot();
  const appDir = path.join(root, "quickstarts", quickstart);
  const fe = opts.frontend !== undefined ? { frontend: opts.frontend } : {};
  const steps: { step: string; changed: boolean; detail?: string }[] = [];
  const warnings: string[] = [];

  // 1. the gear (same spec: converges; a different spec: ConflictError, nothing changed)
  const existed = marker?.phase === "created";
  await createGear(ctx, spec, { inspect: false });
  steps.push({ step: "gear", changed: !existed });

  // 2. the shipped cartridges in the node repository, when the repository has no version of them
  for (const c of GUESTBOOK_CARTRIDGES) {
    const found = await resolveCartridge(ctx.config, { name: c }).then(
      () => true,
      (e) => {
        if (e instanceof CartridgeNotFoundError) return false;
        throw e;
      },
    );
    if (found) steps.push({ step: `repository ${c}`, changed: false });
    else {
      const added = await addToRepository(ctx.config, path.join(root, "cartridges", c));
      steps.push({ step: `repository ${c}`, changed: added.changed });
    }
  }

  // 3. the cartridges, database first, in the one gear
  for (const c of GUESTBOOK_CARTRIDGES) {
    const r = await installCartridge(ctx, spec.uuid, { name: c }, fe);
    steps.push({ step: `install ${c}`, changed: r.changed, detail: r.cartridge.status });
  }

  // 4. the app: the first commit of the deployment branch, then deployed like a push
  const staged = await stageApp(appDir);
  let init;
  try {
    init = await initAppRepository(ctx, spec.uuid, path.join(staged, "app"));
  } finally {
    await fs.rm(staged, { recursive: true, force: true });
  }
  steps.push({ step: "commit", changed: init.created, detail: `${init.branch} ${init.sha ?? ""}`.trim() });
  if (!init.created && init.sha)
    warnings.push(
      `the ${init.branch} branch already had commit ${init.sha.slice(0, 12)}: kept (the quickstart never replaces pushed code)`,
    );
  const dopts = { configPath: opts.configPath, onProgress: opts.onProgress };
  const before = await gearDeployments(ctx, spec.uuid, dopts);
  let deployment = { id: before.active?.id ?? null, sha: before.active?.sha ?? null };
  if (init.sha && before.active?.sha === init.sha) {
    steps.push({ step: "deploy", changed: false, detail: before.active.id });
  } else {
    const d = await deployGear(ctx, spec.uuid, {}, dopts);
    warnings.push(...d.warnings);
    deployment = { id: d.id, sha: d.sha };
    steps.push({ step: "deploy", changed: true, detail: d.id });
  }

  return {
    quickstart,
    uuid: spec.uuid,
    app: spec.app,
    namespace: spec.namespace,
    url: `http://${spec.app}-${spec.namespace}.${ctx.config.cloudDomain}/`,
    changed: steps.some((s) => s.changed),
    steps,
    deployment,
    cartridges: await cartridgeStatus(ctx, spec.uuid),
    warnings,
  };
}
