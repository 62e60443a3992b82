// `geartrain node gear-shell`: the forced command of every key in a gear's ~/.ssh/authorized_keys. sshd runs
// it as the gear user (through the gear's login shell, with SSH_ORIGINAL_COMMAND set to what the client
// asked for). It
//   1. finds its gear from its own uid (never from input),
//   2. moves itself into the gear's cgroup before anything else runs, and refuses to go on outside it
//      (cgroup v1: the gear's cgroup.procs files are delegated to the gear at create; cgroup v2, where the
//      kernel only lets root move a process in from sshd's cgroup: the PAM session hook `geartrain node
//      gear-pam-attach` has already put the whole session there),
//   3. sets umask 077,
//   4. allows exactly git-receive-pack / git-upload-pack of the gear's own repository (command.ts), and
//   5. runs git with an argv array (no shell) and a fixed environment (under SELinux through runcon, in the
//      gear domain at the gear's level); for a push it holds the gear's deploy
//      lock until git is done, so the pre-receive hook's deploy and git's ref update happen together.
// Anything else is refused with a message on stderr and exit status 1. stdout belongs to the git protocol:
// nothing is ever written to it here.

import { spawn } from "child_process";
import { promises as fs } from "fs";
import { parseArgs } from "util";
import { RefusedError } from "../../common/errors";
import { makeContext } from "../context";
import { GEAR_PATH } from "../gear/env";
import { parseSshCommand, resolveGearRepo } from "./command";
import { requireDeploymentsDir, withDeployLock } from "./deploy-lock";
import { gearSelf, gearSideConfig, geartrainLauncher, HOOK_ENV } from "./self";
import type { CgroupDriver } from "../host/cgroups/driver";
import { mcsLabel } from "../host/mcs";
import { currentContext, gearExecContext, withSocketsAtS0 } from "../host/selinux/label";

function say(message: string): void {
  process.stderr.write(`geartrain: ${message}\n`);
}

/** Join the gear's cgroup (all hierarchies) unless already there; throws when that is impossible. */
export async function joinGearCgroup(cgroup: CgroupDriver, uuid: string, pid = process.pid): Promise<void> {
  if (await cgroup.pidInGear(pid, uuid)) return;
  const errors: string[] = [];
  for (const f of cgroup.procsFiles(uuid)) {
    try {
      await fs.writeFile(f, String(pid));
    } catch (e) {
      errors.push(`${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (await cgroup.pidInGear(pid, uuid)) return;
  const fix =
    cgroup.version === "v1"
      ? `the gear's cgroup.procs files are not delegated to it; an operator must run: geartrain node gear update ${uuid}`
      : "on cgroup v2 the node's sshd PAM stack must run `geartrain node gear-pam-attach` (docs/node-operations.md, git push deploys)";
  throw new Error(`cannot run inside the gear's cgroup (${errors.join("; ") || "not moved"}): ${fix}`);
}

/**
 * Run git. Without SELinux it inherits the session's stdio. Under SELinux (`relayFrom`: this process's context)
 * git runs at the gear's level, which may not use sshd's sockets (made at sshd's range: MCS), so git gets
 * socket pairs made at s0 and this process relays them to and from the session.
 */
function runGit(
  argv: string[],
  cwd: string,
  env: Record<string, string>,
  relayFrom: string | null = null,
): Promise<number> {
  return new Promise((resolve) => {
    const start = () =>
      spawn(argv[0], argv.slice(1), { cwd, env, stdio: relayFrom === null ? "inherit" : "pipe" });
    const child = relayFrom === null ? start() : withSocketsAtS0(relayFrom, start);
    let streamsDone: Promise<unknown> = Promise.resolve();
    if (relayFrom !== null) {
      process.stdin.pipe(child.stdin!);
      child.stdin!.on("error", () => undefined);
      child.stdout!.pipe(process.stdout);
      child.stderr!.pipe(process.stderr);
      streamsDone = Promise.all(
        [child.stdout!, child.stderr!].map((st) => new Promise((r) => st.on("close", r))),
      );
    }
    const forward = (sig: NodeJS.Signals) => () => {
      try {
        child.kill(sig);
      } catch {
        /* gone */
      }
    };
    const handlers = (["SIGTERM", "SIGHUP", "SIGINT"] as const).map((s) => {
      const h = forward(s);
      process.on(s, h);
      return [s, h] as const;
    });
    child.on("error", (e) => {
      say(`cannot run git: ${e.message}`);
      resolve(1);
    });
    child.on("exit", (code, signal) => {
      for (const [s, h] of handlers) process.off(s, h);
      process.stdin.unpipe(child.stdin ?? undefined);
      void streamsDone.then(() => resolve(code ?? 128 + (signal === "SIGKILL" ? 9 : 15)));
    });
  });
}

export async function runGearShell(argv: string[]): Promise<number> {
  try {
    const { values } = parseArgs({ args: argv, options: { config: { type: "string" } }, strict: true });
    const { config, configPath } = gearSideConfig(values.config);
    const self = await gearSelf(config, configPath);
    const ctx = await makeContext(config);
    await joinGearCgroup(ctx.cgroup, self.uuid);
    process.umask(0o077);
    const req = parseSshCommand(process.env.SSH_ORIGINAL_COMMAND);
    const repo = resolveGearRepo(req.path, self.home, self.app);
    const env: Record<string, string> = {
      PATH: GEAR_PATH,
      HOME: self.home,
      USER: self.uuid,
      LOGNAME: self.uuid,
      SHELL: "/bin/sh",
      LANG: "C.UTF-8",
      [HOOK_ENV.node]: process.execPath,
      [HOOK_ENV.script]: geartrainLauncher(),
    };
    if (configPath) env.GEARTRAIN_NODE_CONFIG = configPath;
    // protocol v2 negotiation, when the node's sshd accepts it (AcceptEnv GIT_PROTOCOL)
    const proto = process.env.GIT_PROTOCOL;
    if (proto && /^version=[0-9]$/.test(proto)) env.GIT_PROTOCOL = proto;
    // under SELinux git (and the hooks and build it runs) starts in the gear domain at the gear's level
    const current = ctx.selinux === "unavailable" ? null : await currentContext();
    const secon = current === null ? [] : ["/usr/bin/runcon", gearExecContext(current, mcsLabel(self.uid))];
    if (req.service === "git-upload-pack") {
      return await runGit(
        [...secon, "/usr/bin/git", "upload-pack", "--strict", repo],
        self.home,
        env,
        current,
      );
    }
    await requireDeploymentsDir(self);
    return await withDeployLock(self, say, () =>
      runGit(
        [...secon, "/usr/bin/git", "receive-pack", repo],
        self.home,
        { ...env, [HOOK_ENV.locked]: "1" },
        current,
      ),
    );
  } catch (e) {
    if (e instanceof RefusedError) say(e.message);
    else say(`ERROR: ${(e as Error).message}`);
    return 1;
  }
}
