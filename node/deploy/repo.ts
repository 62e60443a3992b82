// Root side of git push deploys: the gear's deploy layout (~/app-deployments), the first commit of a new
// app's repository (the primary cartridge's template/), and the deploy settings in ~/.env. Root never runs
// git itself and never writes into gear-owned directories: git runs as the gear through runInGear, root
// writes only into root-owned directories (the home, ~/.env).

import { promises as fs } from "fs";
import * as path from "path";
import { ValidationError } from "../../common/errors";
import { GearDir, readNodeFile, writeRootFile } from "../host/gear-fs";
import type { NodeContext } from "../context";
import { runInGear, type RunResult } from "../gear/run-in-gear";
import { createdGear, type GearRef } from "../gear/ref";
import { DEPLOYMENTS_DIR, MAX_KEEP, parseBranch, parseKeep, BRANCH_PATTERN } from "./model";

/** A created gear with its app's repository, as the deploy operations see it. */
export interface DeployGear extends GearRef {
  /** absolute path of git/<app>.git */
  readonly repo: string;
}

export function deployGearOf(g: GearRef): DeployGear {
  return { ...g, repo: path.join(g.home, "git", `${g.spec.app}.git`) };
}

/**
 * Create ~/app-deployments (gear-owned, 0750) when missing. The home is root-owned, so nothing of the
 * gear's can race this; the directory is opened without following links before its owner is changed.
 */
export async function ensureDeployLayout(g: DeployGear): Promise<void> {
  await GearDir.withDir(g.home, async (home) => {
    if (home.st.uid !== 0) throw new Error(`${g.home} is not a root-owned directory`);
    await home.mkdir(DEPLOYMENTS_DIR, 0o700);
    await home.fixOwnerMode(DEPLOYMENTS_DIR, { uid: g.uid, gid: g.uid }, 0o750, true);
  });
}

async function gitAsGear(
  ctx: NodeContext,
  g: DeployGear,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<RunResult> {
  return runInGear(ctx, g.uuid, ["/usr/bin/git", ...args], { cwd: g.home, env, timeoutMs: 300_000 });
}

function failed(what: string, r: RunResult): Error {
  return new Error(`${what} failed (exit ${r.code ?? r.signal}): ${(r.stderr || r.stdout).trim()}`);
}

export interface DeploySettings {
  readonly keep: number;
  readonly branch: string;
  readonly warnings: readonly string[];
}

/** The deploy settings as the gear sees them (~/.env is root-owned: reading it as root is safe). */
export async function readDeploySettings(ctx: NodeContext, g: DeployGear): Promise<DeploySettings> {
  const p = ctx.config.envPrefix;
  const read = async (n: string) =>
    (await readNodeFile(path.join(g.home, ".env", n), { owners: [0] }).catch(() => null)) ?? undefined;
  const keep = parseKeep(await read(`${p}KEEP_DEPLOYMENTS`), `${p}KEEP_DEPLOYMENTS`);
  const branch = parseBranch(await read(`${p}DEPLOYMENT_BRANCH`), `${p}DEPLOYMENT_BRANCH`);
  return {
    keep: keep.value,
    branch: branch.value,
    warnings: [keep.warning, branch.warning].filter((w): w is string => w !== null),
  };
}

export interface InitRepoResult {
  readonly uuid: string;
  readonly repo: string;
  /** false: the deployment branch already had a commit (nothing was changed) */
  readonly created: boolean;
  readonly sha: string | null;
  readonly branch: string;
}

/**
 * Give a new app's repository its first commit: the files of `templateDir` (the primary cartridge's
 * template/, e.g. ~/<cartridge>/template; it must be readable by the gear), committed on the deployment
 * branch, only when that branch has no commit yet. Idempotent. For the cartridge install: call it while
 * holding the gear lock (it takes none itself). Everything runs as the gear.
 */
export async function initAppRepository(
  ctx: NodeContext,
  uuidIn: unknown,
  templateDir: string,
): Promise<InitRepoResult> {
  const g = deployGearOf(await createdGear(ctx, uuidIn));
  if (typeof templateDir !== "string" || !path.isAbsolute(templateDir) || templateDir.includes("\0")) {
    throw new ValidationError("templateDir", "must be an absolute path");
  }
  await ensureDeployLayout(g);
  const { branch } = await readDeploySettings(ctx, g);
  const ref = `refs/heads/${branch}`;
  let r = await gitAsGear(ctx, g, ["--git-dir", g.repo, "rev-parse", "--verify", "--quiet", ref]);
  if (r.code === 0) return { uuid: g.uuid, repo: g.repo, created: false, sha: r.stdout.trim(), branch };
  if (r.code !== 1) {
    // not a repository (a gear from before the layout had one): make it one
    const init = await gitAsGear(ctx, g, ["init", "--bare", "--quiet", g.repo]);
    if (init.code !== 0) throw failed(`git init --bare ${g.repo}`, init);
  }
  const st = await fs.stat(templateDir).catch(() => null);
  if (!st?.isDirectory()) throw new ValidationError("templateDir", `${templateDir} is not a directory`);
  const index = path.join(g.repo, `geartrain-template-${process.pid}.index`);
  const ident = {
    GIT_INDEX_FILE: index,
    GIT_AUTHOR_NAME: "Geartrain",
    GIT_AUTHOR_EMAIL: `geartrain@${ctx.config.cloudDomain}`,
    GIT_COMMITTER_NAME: "Geartrain",
    GIT_COMMITTER_EMAIL: `geartrain@${ctx.config.cloudDomain}`,
  };
  try {
    r = await gitAsGear(
      ctx,
      g,
      ["-C", templateDir, "--git-dir", g.repo, "--work-tree", templateDir, "add", "--all", "."],
      ident,
    );
    if (r.code !== 0) throw failed(`git add of ${templateDir}`, r);
    r = await gitAsGear(ctx, g, ["--git-dir", g.repo, "write-tree"], ident);
    if (r.code !== 0) throw failed("git write-tree", r);
    const tree = r.stdout.trim();
    r = await gitAsGear(
      ctx,
      g,
      [
        "--git-dir",
        g.repo,
        "commit-tree",
        tree,
        "-m",
        `Initial commit: the cartridge's starter app\n\nFrom ${templateDir}`,
      ],
      ident,
    );
    if (r.code !== 0) throw failed("git commit-tree", r);
    const sha = r.stdout.trim();
    // create-only (the all-zero old value): a branch pushed meanwhile wins
    r = await gitAsGear(ctx, g, ["--git-dir", g.repo, "update-ref", ref, sha, "0".repeat(sha.length)], ident);
    if (r.code !== 0) {
      const now = await gitAsGear(ctx, g, ["--git-dir", g.repo, "rev-parse", "--verify", "--quiet", ref]);
      if (now.code === 0)
        return { uuid: g.uuid, repo: g.repo, created: false, sha: now.stdout.trim(), branch };
      throw failed(`git update-ref ${ref}`, r);
    }
    return { uuid: g.uuid, repo: g.repo, created: true, sha, branch };
  } finally {
    await runInGear(ctx, g.uuid, ["/bin/rm", "-f", "--", index], { cwd: g.home, timeoutMs: 60_000 });
  }
}

export interface DeployConfigInput {
  readonly keep?: unknown;
  readonly branch?: unknown;
}

/**
 * Set <P>KEEP_DEPLOYMENTS and/or <P>DEPLOYMENT_BRANCH in ~/.env (root-owned, read by the gear's deploys);
 * with neither, only make sure the deploy layout exists. The repository's HEAD follows the branch, so a
 * clone checks it out.
 */
export async function configureDeploys(
  ctx: NodeContext,
  uuidIn: unknown,
  input: DeployConfigInput,
): Promise<{ uuid: string } & DeploySettings> {
  const g = deployGearOf(await createdGear(ctx, uuidIn));
  await ensureDeployLayout(g);
  const p = ctx.config.envPrefix;
  if (input.keep !== undefined) {
    const s = typeof input.keep === "number" ? String(input.keep) : input.keep;
    if (typeof s !== "string" || !/^[0-9]{1,3}$/.test(s) || Number(s) < 1 || Number(s) > MAX_KEEP)
      throw new ValidationError(
        "keep",
        `must be an integer in 1..${MAX_KEEP} (got ${JSON.stringify(input.keep)})`,
      );
    await writeRootFile(
      path.join(g.home, ".env", `${p}KEEP_DEPLOYMENTS`),
      String(Number(s)),
      0o640,
      0,
      g.uid,
    );
  }
  if (input.branch !== undefined) {
    const b = input.branch;
    if (
      typeof b !== "string" ||
      !BRANCH_PATTERN.test(b) ||
      b.includes("..") ||
      b.endsWith(".lock") ||
      b.endsWith(".")
    )
      throw new ValidationError("branch", `must match ${BRANCH_PATTERN.source} (got ${JSON.stringify(b)})`);
    await writeRootFile(path.join(g.home, ".env", `${p}DEPLOYMENT_BRANCH`), b, 0o640, 0, g.uid);
    const r = await gitAsGear(ctx, g, ["--git-dir", g.repo, "symbolic-ref", "HEAD", `refs/heads/${b}`]);
    if (r.code !== 0) throw failed("git symbolic-ref HEAD", r);
  }
  return { uuid: g.uuid, ...(await readDeploySettings(ctx, g)) };
}
