// The build lifecycle of a git push deploy, run as the gear (see self.ts). The running app is never stopped
// for a build: the new commit is checked out into ~/app-deployments/<id>/repo and built there (the steps
// see <P>REPO_DIR = that directory); ~/app-root/runtime/repo is switched to it with one rename only when
// every build step succeeded, then the primary cartridge is restarted. A failed build, or a new version
// that does not start (after which the link is switched back and the old version restarted), leaves the
// previous deployment serving.
//
// Order (reference §6.7, OpenShift's `gear prereceive/postreceive`, minus its initial stop):
//   build:    checkout (git archive) → cartridge pre-build → hook pre_build → cartridge build → hook build
//             → hook prepare
//   activate: cartridge deploy → hook deploy (still the new dir) → switch runtime/repo → restart the
//             primary cartridge (when its desired state is started) → cartridge post-deploy → hook post_deploy
//   prune:    keep <P>KEEP_DEPLOYMENTS (default 1, the active one included)

import { spawn } from "child_process";
import { promises as fs } from "fs";
import * as path from "path";
import type { CartridgeRecord } from "../cartridge/records";
import { GEAR_PATH } from "../gear/env";
import {
  DeployFailedError,
  deploymentId,
  deploymentsToPrune,
  DEPLOYMENT_ID_PATTERN,
  idOfLink,
  repoLinkTarget,
  RUNTIME_REPO,
  USER_HOOK_DIR,
  type DeploymentMeta,
  type UserHook,
} from "./model";
import type { GearSelf } from "./self";
import { gearCartridges, runStep, stepEnv } from "./steps";

export type Log = (message: string) => void;

/** Progress for the pusher: git shows our stderr as "remote: ..." lines. */
export const stderrLog: Log = (m) => {
  process.stderr.write(`geartrain: ${m}\n`);
};

export interface ActiveDeployment {
  readonly id: string;
  readonly sha: string | null;
}

export interface DeployResult {
  readonly id: string;
  readonly sha: string;
  readonly active: ActiveDeployment;
  readonly restarted: boolean;
  readonly warnings: readonly string[];
}

function gitEnv(self: GearSelf): Record<string, string> {
  // the quarantine variables git-receive-pack gives pre-receive: the pushed objects are only visible
  // through them until the push is accepted
  const env: Record<string, string> = { PATH: GEAR_PATH, HOME: self.home, LANG: "C.UTF-8" };
  for (const k of ["GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_QUARANTINE_PATH"]) {
    const v = process.env[k];
    if (v) env[k] = v;
  }
  return env;
}

/** Resolve a ref or commit id to a full commit id in the gear's repository; null when it does not exist. */
export async function resolveCommit(self: GearSelf, ref: string): Promise<string | null> {
  const r = await runStep(
    [
      "/usr/bin/git",
      "--git-dir",
      self.repo,
      "rev-parse",
      "--verify",
      "--quiet",
      "--end-of-options",
      `${ref}^{commit}`,
    ],
    { cwd: self.home, env: gitEnv(self), capture: true, timeoutMs: 60_000 },
  );
  const sha = r.stdout.trim();
  return r.code === 0 && /^[0-9a-f]{40,64}$/.test(sha) ? sha : null;
}

async function readMeta(self: GearSelf, id: string): Promise<DeploymentMeta | null> {
  try {
    const text = await fs.readFile(path.join(self.deployments, id, "metadata.json"), "utf8");
    const m = JSON.parse(text) as DeploymentMeta;
    return m && m.id === id ? m : null;
  } catch {
    return null;
  }
}

async function writeMeta(self: GearSelf, meta: DeploymentMeta): Promise<void> {
  const file = path.join(self.deployments, meta.id, "metadata.json");
  const tmp = `${file}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(meta, null, 2) + "\n", { mode: 0o640 });
  await fs.rename(tmp, file);
}

async function removeTree(dir: string): Promise<void> {
  try {
    await fs.rm(dir, { recursive: true, force: true });
  } catch {
    // a build may leave read-only directories (e.g. 0500): make them writable, then remove
    await runStep(["/bin/chmod", "-R", "u+rwX", "--", dir], {
      cwd: "/",
      env: { PATH: GEAR_PATH },
      capture: true,
      timeoutMs: 300_000,
    });
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** What ~/app-root/runtime/repo is now. */
async function runtimeRepo(
  self: GearSelf,
): Promise<{ kind: "link"; id: string | null } | { kind: "dir" | "missing" }> {
  const p = path.join(self.home, RUNTIME_REPO);
  const st = await fs.lstat(p).catch(() => null);
  if (!st) return { kind: "missing" };
  if (st.isSymbolicLink()) return { kind: "link", id: idOfLink(await fs.readlink(p)) };
  return { kind: "dir" };
}

export async function activeDeployment(self: GearSelf): Promise<ActiveDeployment | null> {
  const r = await runtimeRepo(self);
  if (r.kind !== "link" || !r.id) return null;
  const meta = await readMeta(self, r.id);
  return { id: r.id, sha: meta?.sha ?? null };
}

/**
 * Point runtime/repo at deployment `id` with one rename (the link is replaced atomically). Returns the id
 * the starter app directory was converted to, when runtime/repo was still a plain directory.
 */
async function switchTo(self: GearSelf, id: string, log: Log): Promise<string | null> {
  const runtime = path.join(self.home, "app-root/runtime");
  const link = path.join(self.home, RUNTIME_REPO);
  const tmp = path.join(runtime, ".repo.gt-new");
  await fs.rm(tmp, { force: true });
  await fs.symlink(repoLinkTarget(id), tmp);
  const cur = await runtimeRepo(self);
  if (cur.kind === "dir") {
    // first deploy: the starter app the cartridge put there becomes a deployment of its own (so it can be
    // switched back to), moved in one rename; the link follows immediately
    const tplId = deploymentId(new Date(Date.now() - 1), null);
    await fs.mkdir(path.join(self.deployments, tplId), { mode: 0o750 });
    await fs.rename(link, path.join(self.deployments, tplId, "repo"));
    await writeMeta(self, {
      id: tplId,
      sha: null,
      ref: null,
      state: "deployed",
      source: "template",
      createdAt: new Date().toISOString(),
      activatedAt: null,
    });
    log(`the starter app in app-root/runtime/repo is kept as deployment ${tplId}`);
    await fs.rename(tmp, link);
    return tplId;
  }
  await fs.rename(tmp, link);
  return null;
}

/** Switch back after a failed activation: to the previous deployment, or to an empty repo dir. */
async function switchBack(self: GearSelf, previous: string | null, log: Log): Promise<void> {
  if (previous) {
    await switchTo(self, previous, log);
    return;
  }
  // there was nothing before: leave an empty repo dir, as a new gear has
  const link = path.join(self.home, RUNTIME_REPO);
  await fs.rm(link, { force: true });
  await fs.mkdir(link, { mode: 0o750 }).catch(() => undefined);
}

function describeExit(r: { code: number | null; signal: NodeJS.Signals | null }): string {
  return r.code !== null ? `exit ${r.code}` : `killed by ${r.signal ?? "a signal"} (timeout?)`;
}

interface Ctx {
  readonly self: GearSelf;
  readonly records: CartridgeRecord[];
  readonly primary: CartridgeRecord | null;
  readonly log: Log;
  readonly warnings: string[];
}

/** Run a cartridge control action of the primary cartridge; throws DeployFailedError when it fails. */
async function cartridgeAction(c: Ctx, action: string, env: Record<string, string>): Promise<void> {
  if (!c.primary) return;
  c.log(`${c.primary.dir}: ${action}`);
  const dir = path.join(c.self.home, c.primary.dir);
  const r = await runStep([path.join(dir, "bin/control"), action], { cwd: dir, env });
  if (r.code !== 0)
    throw new DeployFailedError(
      `cartridge ${c.primary.dir}: bin/control ${action} failed (${describeExit(r)})`,
    );
}

/** Run a user action hook from the deployment's .geartrain/action_hooks/ when present. */
async function userHook(c: Ctx, name: UserHook, repoDir: string, env: Record<string, string>): Promise<void> {
  const file = path.join(repoDir, USER_HOOK_DIR, name);
  const st = await fs.stat(file).catch(() => null);
  if (!st) return;
  if (!st.isFile() || (st.mode & 0o100) === 0) {
    const w = `${USER_HOOK_DIR}/${name} is not an executable file; skipped (git update-index --chmod=+x it)`;
    c.warnings.push(w);
    c.log(`warning: ${w}`);
    return;
  }
  c.log(`action hook ${name}`);
  const r = await runStep([file], { cwd: repoDir, env });
  if (r.code !== 0)
    throw new DeployFailedError(`action hook ${USER_HOOK_DIR}/${name} failed (${describeExit(r)})`);
}

async function checkout(self: GearSelf, sha: string, dest: string): Promise<void> {
  const env = gitEnv(self);
  await new Promise<void>((resolve, reject) => {
    const git = spawn("/usr/bin/git", ["--git-dir", self.repo, "archive", "--format=tar", sha], {
      cwd: self.home,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const tar = spawn("/bin/tar", ["-x", "-f", "-", "-C", dest], {
      cwd: dest,
      env: { PATH: GEAR_PATH, LANG: "C.UTF-8" },
      stdio: ["pipe", "ignore", "pipe"],
    });
    let err = "";
    git.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    tar.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    git.stdout.pipe(tar.stdin);
    tar.stdin.on("error", () => undefined);
    let pending = 2;
    let failed = false;
    const done = (what: string) => (code: number | null) => {
      if (code !== 0) failed = true;
      if (code !== 0) err += `${what} exited ${code}\n`;
      if (--pending === 0) {
        if (failed) reject(new DeployFailedError(`checkout of ${sha} failed: ${err.trim()}`));
        else resolve();
      }
    };
    git.on("error", reject);
    tar.on("error", reject);
    git.on("close", done("git archive"));
    tar.on("close", done("tar"));
  });
}

/**
 * Build and activate commit `sha` (the caller holds the deploy lock). Throws DeployFailedError when it failed;
 * the previous deployment is then serving (it was never stopped, or it was switched back and restarted).
 */
export async function deployCommit(
  self: GearSelf,
  req: { sha: string; ref: string | null; source: "push" | "deploy" },
  log: Log,
): Promise<DeployResult> {
  const { records, primary } = await gearCartridges(self);
  const c: Ctx = { self, records, primary, log, warnings: [] };
  const before = await runtimeRepo(self);
  const previous = before.kind === "link" ? before.id : null;
  const id = deploymentId(new Date(), req.sha);
  const dir = path.join(self.deployments, id);
  const repoDir = path.join(dir, "repo");
  const p = self.config.envPrefix;
  const meta: DeploymentMeta = {
    id,
    sha: req.sha,
    ref: req.ref,
    state: "building",
    source: req.source,
    createdAt: new Date().toISOString(),
    activatedAt: null,
  };
  log(`deploying ${req.sha.slice(0, 12)}${req.ref ? ` (${req.ref})` : ""} as ${id}`);
  if (!primary) log("no web cartridge in this gear: only the checkout and action hooks run");
  await fs.mkdir(dir, { mode: 0o750 });
  await fs.mkdir(repoDir, { mode: 0o750 });
  await writeMeta(self, meta);
  let switched = false;
  let back = previous;
  try {
    // build: in the new directory, while the current version keeps serving
    await checkout(self, req.sha, repoDir);
    const cart = primary?.dir ?? null;
    const buildEnv = await stepEnv(self, records, cart, {
      [`${p}REPO_DIR`]: `${repoDir}/`,
      [`${p}DEPLOYMENT_ID`]: id,
    });
    await cartridgeAction(c, "pre-build", buildEnv);
    await userHook(c, "pre_build", repoDir, buildEnv);
    await cartridgeAction(c, "build", buildEnv);
    await userHook(c, "build", repoDir, buildEnv);
    await userHook(c, "prepare", repoDir, buildEnv);
    await writeMeta(self, { ...meta, state: "built" });
    await cartridgeAction(c, "deploy", buildEnv);
    await userHook(c, "deploy", repoDir, buildEnv);
    // activate
    log(`activating ${id}`);
    back = (await switchTo(self, id, log)) ?? previous;
    switched = true;
    await writeMeta(self, { ...meta, state: "deployed", activatedAt: new Date().toISOString() });
    const runEnv = await stepEnv(self, records, cart, { [`${p}DEPLOYMENT_ID`]: id });
    let restarted = false;
    if (primary && primary.desired === "started") {
      await cartridgeAction(c, "restart", runEnv);
      restarted = true;
    } else if (primary) {
      const w = `cartridge ${primary.dir} is stopped; deployment ${id} is active but not started`;
      c.warnings.push(w);
      log(w);
    }
    // after a successful restart the new version is serving: later failures are reported, not undone
    for (const step of [
      () => cartridgeAction(c, "post-deploy", runEnv),
      () => userHook(c, "post_deploy", repoDir, runEnv),
    ]) {
      try {
        await step();
      } catch (e) {
        const w = `${(e as Error).message}; the new version is serving`;
        c.warnings.push(w);
        log(`warning: ${w}`);
      }
    }
    log(`deployed ${req.sha.slice(0, 12)} (${id})${restarted ? "; the new version is serving" : ""}`);
    return { id, sha: req.sha, active: { id, sha: req.sha }, restarted, warnings: c.warnings };
  } catch (e) {
    const reason = (e as Error).message;
    log(`ERROR: ${reason}`);
    if (switched) {
      log(`switching back to ${back ?? "an empty repo"}`);
      await switchBack(self, back, log);
      if (primary && primary.desired === "started" && back) {
        const env = await stepEnv(self, records, primary.dir, {});
        await cartridgeAction(c, "restart", env).catch((e2: Error) => log(`ERROR: ${e2.message}`));
      }
    }
    await removeTree(dir).catch(() => undefined);
    const prev = await activeDeployment(self);
    const serving = prev
      ? `the previous deployment ${prev.id}${prev.sha ? ` (${prev.sha.slice(0, 12)})` : ""}`
      : "the previous version";
    log(`deploy of ${req.sha.slice(0, 12)} failed; ${serving} is still serving`);
    throw new DeployFailedError(reason, { reported: true });
  }
}

export interface DeploymentInfo extends DeploymentMeta {
  readonly active: boolean;
}

/** Every deployment dir with its metadata, oldest first. */
export async function listDeployments(
  self: GearSelf,
): Promise<{ active: ActiveDeployment | null; deployments: DeploymentInfo[] }> {
  const active = await activeDeployment(self);
  const names = await fs.readdir(self.deployments).catch(() => [] as string[]);
  const out: DeploymentInfo[] = [];
  for (const n of names.filter((x) => DEPLOYMENT_ID_PATTERN.test(x)).sort()) {
    const m = await readMeta(self, n);
    out.push({
      ...(m ?? {
        id: n,
        sha: null,
        ref: null,
        state: "failed" as const,
        source: "deploy" as const,
        createdAt: "",
        activatedAt: null,
      }),
      active: active?.id === n,
    });
  }
  return { active, deployments: out };
}

/** Delete deployments beyond `keep` (the active one counts); returns the ids removed. */
export async function pruneDeployments(self: GearSelf, keep: number, log: Log): Promise<string[]> {
  const { active, deployments } = await listDeployments(self);
  const doomed = deploymentsToPrune(
    deployments.map((d) => ({ id: d.id, state: d.state })),
    active?.id ?? null,
    keep,
  );
  for (const id of doomed) {
    // the path is built from a validated id under our own directory; rm never follows a link it removes
    const dir = path.join(self.deployments, id);
    const st = await fs.lstat(dir).catch(() => null);
    if (!st) continue;
    if (st.isSymbolicLink()) await fs.unlink(dir);
    else await removeTree(dir);
  }
  if (doomed.length) log(`removed ${doomed.length} old deployment(s) (keeping ${keep})`);
  return doomed;
}
