// `geartrain node gear-hook <pre-receive|post-receive|deploy|list>`: the gear-side entry points, run as the
// gear. The repository's hooks/pre-receive and hooks/post-receive (root-owned, from the home layout) exec
// this through the variables the SSH forced command sets; root's `geartrain node gear deploy|deployments`
// run `deploy` and `list` through runInGear.
//
// pre-receive builds and activates the pushed commit of the deployment branch before git updates the ref,
// so a failed build rejects the push (the pusher sees the error and a non-zero exit) and the ref keeps
// pointing at what is deployed. The forced command holds the gear's deploy lock for the whole push, so no
// other deploy can run between our activation and git's ref update. post-receive prunes old deployments.

import { parseArgs } from "util";
import { SHA_PATTERN, ZERO_SHA, parseRefUpdates, BRANCH_PATTERN, DeployFailedError } from "./model";
import { withDeployLock } from "./deploy-lock";
import {
  deployCommit,
  listDeployments,
  pruneDeployments,
  resolveCommit,
  stderrLog,
  type Log,
} from "./lifecycle";
import { gearSelf, gearSettings, gearSideConfig, HOOK_ENV, type GearSelf } from "./self";

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

async function settingsWithWarnings(self: GearSelf, log: Log) {
  const s = await gearSettings(self);
  for (const w of [s.keep.warning, s.branch.warning]) if (w) log(`warning: ${w}`);
  return { keep: s.keep.value, branch: s.branch.value };
}

function locked<T>(self: GearSelf, log: Log, fn: () => Promise<T>): Promise<T> {
  // the SSH forced command already holds the lock for this push
  return process.env[HOOK_ENV.locked] === "1" ? fn() : withDeployLock(self, log, fn);
}

async function preReceive(self: GearSelf, log: Log): Promise<number> {
  const updates = parseRefUpdates(await readAll(process.stdin));
  const { branch } = await settingsWithWarnings(self, log);
  const target = `refs/heads/${branch}`;
  for (const u of updates) {
    if (u.ref !== target) {
      log(`${u.ref} is not the deployment branch (${branch}): accepted, not deployed`);
      continue;
    }
    if (ZERO_SHA.test(u.newSha)) {
      log(`ERROR: deleting the deployment branch ${branch} is not allowed`);
      return 1;
    }
    try {
      await locked(self, log, () => deployCommit(self, { sha: u.newSha, ref: u.ref, source: "push" }, log));
    } catch (e) {
      if (!(e instanceof DeployFailedError && e.reported)) log(`ERROR: ${(e as Error).message}`);
      log("push rejected: fix the error above and push again");
      return 1;
    }
  }
  return 0;
}

async function postReceive(self: GearSelf, log: Log): Promise<number> {
  const updates = parseRefUpdates(await readAll(process.stdin));
  const { keep, branch } = await settingsWithWarnings(self, log);
  if (!updates.some((u) => u.ref === `refs/heads/${branch}`)) return 0;
  await locked(self, log, () => pruneDeployments(self, keep, log));
  return 0;
}

async function deploy(self: GearSelf, ref: string | undefined, log: Log): Promise<number> {
  const { keep, branch } = await settingsWithWarnings(self, log);
  const wanted = ref ?? `refs/heads/${branch}`;
  if (!SHA_PATTERN.test(wanted) && !wanted.startsWith("refs/heads/") && !BRANCH_PATTERN.test(wanted)) {
    log(`ERROR: --ref must be a commit id or a branch name (got ${JSON.stringify(wanted)})`);
    return 3;
  }
  const result = await withDeployLock(self, log, async () => {
    const sha = await resolveCommit(self, wanted);
    if (!sha) throw new DeployFailedError(`${wanted} does not name a commit in ${self.repo} (push first)`);
    const r = await deployCommit(
      self,
      { sha, ref: SHA_PATTERN.test(wanted) ? null : wanted, source: "deploy" },
      log,
    );
    const pruned = await pruneDeployments(self, keep, log);
    return { ...r, pruned };
  });
  process.stdout.write(JSON.stringify({ uuid: self.uuid, ...result }, null, 2) + "\n");
  return 0;
}

async function list(self: GearSelf, log: Log): Promise<number> {
  const { keep, branch } = await settingsWithWarnings(self, log);
  const l = await listDeployments(self);
  process.stdout.write(JSON.stringify({ uuid: self.uuid, keep, branch, ...l }, null, 2) + "\n");
  return 0;
}

/** Entry point; never writes anything but results to stdout. */
export async function runGearHook(argv: string[], log: Log = stderrLog): Promise<number> {
  const [what, ...rest] = argv;
  let values: { config?: string; ref?: string };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { config: { type: "string" }, ref: { type: "string" } },
      strict: true,
    }));
  } catch (e) {
    log(`ERROR: ${(e as Error).message}`);
    return 2;
  }
  try {
    const { config, configPath } = gearSideConfig(values.config);
    const self = await gearSelf(config, configPath);
    process.umask(0o077);
    switch (what) {
      case "pre-receive":
        return await preReceive(self, log);
      case "post-receive":
        return await postReceive(self, log);
      case "deploy":
        return await deploy(self, values.ref, log);
      case "list":
        return await list(self, log);
      default:
        log(`ERROR: unknown gear-hook ${JSON.stringify(what ?? "")}`);
        return 2;
    }
  } catch (e) {
    if (!(e instanceof DeployFailedError && e.reported)) log(`ERROR: ${(e as Error).message}`);
    return 1;
  }
}
