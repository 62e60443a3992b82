// git push deploys: names, formats and decisions (pure). See docs/node-operations.md "git push deploys".
//
// A deployment is a directory ~/app-deployments/<id>/ holding `repo/` (a `git archive` of one commit, built
// in place) and `metadata.json`. ~/app-root/runtime/repo is a symlink to the active deployment's repo,
// switched with a rename only after the new deployment built successfully.

import { OperationFailedError } from "../../common/errors";

/** A deploy that failed; the gear keeps serving what it served before (kind deploy_failed, exit 1). */
export class DeployFailedError extends OperationFailedError {
  /** already written to the deploy log (with what is serving now), so it is not logged again */
  readonly reported: boolean;
  /** the deploy's progress (its stderr), when it ran in the gear-hook process */
  readonly log: string;

  constructor(message: string, opts: { readonly reported?: boolean; readonly log?: string } = {}) {
    super(message, "deploy_failed");
    this.reported = opts.reported ?? false;
    this.log = opts.log ?? "";
  }
}

export const DEPLOYMENTS_DIR = "app-deployments";
export const RUNTIME_REPO = "app-root/runtime/repo";

/** <yyyymmdd>-<hhmmssmmm>-<first 12 hex of the commit> (UTC), or ...-template for the starter app. */
export const DEPLOYMENT_ID_PATTERN = /^[0-9]{8}-[0-9]{9}-(?:[0-9a-f]{12}|template)$/;
/** What app-root/runtime/repo may point to (relative to app-root/runtime). */
export const REPO_LINK_PATTERN =
  /^\.\.\/\.\.\/app-deployments\/([0-9]{8}-[0-9]{9}-(?:[0-9a-f]{12}|template))\/repo$/;
/** A full commit id (SHA-1 or SHA-256 repositories). */
export const SHA_PATTERN = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
export const ZERO_SHA = /^0+$/;
/** Branch names we deploy from: conservative subset of git's refname rules. */
export const BRANCH_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export const DEFAULT_KEEP = 1;
export const MAX_KEEP = 20;
export const DEFAULT_BRANCH = "master";

/** User action hooks, run from the new deployment's .geartrain/action_hooks/ (OpenShift: .openshift/). */
export const USER_HOOK_DIR = ".geartrain/action_hooks";
export type UserHook = "pre_build" | "build" | "prepare" | "deploy" | "post_deploy";

export type DeploymentState = "building" | "built" | "deployed" | "failed";

export interface DeploymentMeta {
  readonly id: string;
  /** the commit; null for the starter app that was in the repo dir before the first deploy */
  readonly sha: string | null;
  readonly ref: string | null;
  readonly state: DeploymentState;
  /** push (git push), deploy (geartrain node gear deploy), template (converted starter app) */
  readonly source: "push" | "deploy" | "template";
  readonly createdAt: string;
  readonly activatedAt: string | null;
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, "0");
}

export function deploymentId(now: Date, sha: string | null): string {
  const d = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1, 2)}${pad(now.getUTCDate(), 2)}`;
  const t = `${pad(now.getUTCHours(), 2)}${pad(now.getUTCMinutes(), 2)}${pad(now.getUTCSeconds(), 2)}${pad(now.getUTCMilliseconds(), 3)}`;
  return `${d}-${t}-${sha ? sha.slice(0, 12) : "template"}`;
}

export function repoLinkTarget(id: string): string {
  if (!DEPLOYMENT_ID_PATTERN.test(id)) throw new Error(`bad deployment id ${JSON.stringify(id)}`);
  return `../../${DEPLOYMENTS_DIR}/${id}/repo`;
}

/** The deployment id a runtime/repo link points to, or null (not a link of ours). */
export function idOfLink(target: string | null): string | null {
  if (target === null) return null;
  const m = REPO_LINK_PATTERN.exec(target);
  return m ? m[1] : null;
}

export interface Setting<T> {
  readonly value: T;
  /** set when the configured value was unusable and the default was taken */
  readonly warning: string | null;
}

/** <prefix>KEEP_DEPLOYMENTS: how many deployments to keep, the active one included (OpenShift default 1). */
export function parseKeep(raw: string | undefined, name: string): Setting<number> {
  if (raw === undefined || raw === "") return { value: DEFAULT_KEEP, warning: null };
  const v = raw.trim();
  if (!/^[0-9]{1,3}$/.test(v) || Number(v) < 1 || Number(v) > MAX_KEEP) {
    return {
      value: DEFAULT_KEEP,
      warning: `${name}=${JSON.stringify(raw)} is not an integer in 1..${MAX_KEEP}; keeping ${DEFAULT_KEEP}`,
    };
  }
  return { value: Number(v), warning: null };
}

/** <prefix>DEPLOYMENT_BRANCH: the branch whose pushes are deployed (OpenShift default master). */
export function parseBranch(raw: string | undefined, name: string): Setting<string> {
  if (raw === undefined || raw === "") return { value: DEFAULT_BRANCH, warning: null };
  const v = raw.trim();
  if (!BRANCH_PATTERN.test(v) || v.includes("..") || v.endsWith(".lock") || v.endsWith(".")) {
    return {
      value: DEFAULT_BRANCH,
      warning: `${name}=${JSON.stringify(raw)} is not a usable branch name; using ${DEFAULT_BRANCH}`,
    };
  }
  return { value: v, warning: null };
}

export interface RefUpdate {
  readonly oldSha: string;
  readonly newSha: string;
  readonly ref: string;
}

/** The lines git feeds pre-receive/post-receive on stdin: "<old> <new> <ref>". */
export function parseRefUpdates(text: string): RefUpdate[] {
  const out: RefUpdate[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const m = /^([0-9a-f]{40}|[0-9a-f]{64}) ([0-9a-f]{40}|[0-9a-f]{64}) (refs\/[\x21-\x7e]{1,250})$/.exec(
      line,
    );
    if (!m) throw new Error(`unexpected ref update line ${JSON.stringify(line.slice(0, 120))}`);
    out.push({ oldSha: m[1], newSha: m[2], ref: m[3] });
  }
  return out;
}

export interface PruneInput {
  readonly id: string;
  readonly state: DeploymentState | null;
}

/**
 * Which deployments to delete: keep the active one, the `protect`ed one (being built) and the newest
 * successfully deployed ones up to `keep` in total; everything else (failed, abandoned builds, older
 * deployments, dirs without readable metadata) goes.
 */
export function deploymentsToPrune(
  all: readonly PruneInput[],
  active: string | null,
  keep: number,
  protect: string | null = null,
): string[] {
  const keepSet = new Set<string>();
  if (active) keepSet.add(active);
  if (protect) keepSet.add(protect);
  const older = all
    .filter((d) => d.state === "deployed" && d.id !== active && d.id !== protect)
    .map((d) => d.id)
    .sort()
    .reverse();
  for (const id of older.slice(0, Math.max(0, keep - (active ? 1 : 0)))) keepSet.add(id);
  return all
    .map((d) => d.id)
    .filter((id) => !keepSet.has(id))
    .sort();
}
