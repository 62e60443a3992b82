// `geartrain node gear-shell`: the forced command of every key in a gear's ~/.ssh/authorized_keys (through
// bin/gear-shell, ssh-keys.ts). sshd runs it as the gear user (through the gear's login shell, with
// SSH_ORIGINAL_COMMAND set to what the client asked for). It
//   1. finds its gear from its own uid (never from input),
//   2. moves itself into the gear's cgroup before anything else runs, and refuses to go on outside it
//      (cgroup v1: the gear's cgroup.procs files are delegated to the gear at create; cgroup v2, where the
//      kernel only lets root move a process in from sshd's cgroup: the PAM session hook `geartrain node
//      gear-pam-attach` has already put the whole session there),
//   3. sets umask 077,
//   4. allows exactly git-receive-pack / git-upload-pack of the gear's own repository (command.ts), and
//   5. runs git with an argv array (no shell) and a fixed environment; for a push it holds the gear's deploy
//      lock until git is done, so the pre-receive hook's deploy and git's ref update happen together.
// Under SELinux it runs in two stages (docs/node-operations.md, "git push"). sshd starts the session in the
// domain its login mapping gives (Debian: unconfined_t at s0-s0:c0.c1023), and the session's stdin, stdout and
// stderr are pipes or sockets sshd made at its own range, which no process at a gear's level may read or
// write (MCS). Executing bin/gear-shell (geartrain_relay_exec_t) from there enters geartrain_relay_t, the relay's
// own confined domain (geartrain.te: only what this stage does, and the gear domain cannot signal or trace it).
// So the first stage (the relay) checks steps 1-4, makes socket pairs at s0 and starts this same command
// again with --in-gear-domain through runcon, in geartrain_gear_t at the gear's level; it only copies bytes
// between sshd and that second stage and passes on its exit status and signals. The second stage checks that
// it really is in the gear domain at the gear's level (else it refuses), takes the lock and runs git, which
// inherits its stdio; git's hooks and the build inherit the domain. Without SELinux there is one stage.
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
import {
  currentContext,
  GEAR_DOMAIN,
  gearExecContext,
  parseContext,
  withSocketsAtS0,
} from "../host/selinux/label";
import type { SelinuxStatus } from "../types";

/** The option of the second stage (started by the relay stage in the gear domain). */
export const IN_GEAR_DOMAIN = "in-gear-domain";

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
 * Run `argv`. With `relayFrom` null it inherits this process's stdio. Otherwise (`relayFrom`: this process's
 * SELinux context) it gets socket pairs made at s0 (which a process at a gear's level may use), and this
 * process copies its own stdin to the child and the child's stdout and stderr back, until the child has exited
 * and closed them. The child's exit status is returned; SIGTERM, SIGHUP and SIGINT are passed on to it.
 */
export function runChild(
  argv: readonly string[],
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
      say(`cannot run ${argv[0]}: ${e.message}`);
      resolve(1);
    });
    child.on("exit", (code, signal) => {
      for (const [s, h] of handlers) process.off(s, h);
      process.stdin.unpipe(child.stdin ?? undefined);
      void streamsDone.then(() => resolve(code ?? 128 + (signal === "SIGKILL" ? 9 : 15)));
    });
  });
}

/**
 * Which stage this process is (see the header): "plain" without SELinux; "relay" outside the gear domain
 * (it starts the second stage; geartrain_relay_t when started through bin/gear-shell, the login's domain for a
 * forced command written before it); "in-domain" in the gear domain at exactly `label`. Started as the second stage
 * (`inner`) anywhere else, or in the gear domain at another level, it refuses: the transition did not happen.
 * `readContext` gives this process's context (its own /proc/self/attr/current, readable in any domain).
 */
export async function sessionStage(
  selinux: SelinuxStatus,
  inner: boolean,
  label: string,
  readContext: () => Promise<string> = currentContext,
): Promise<{ stage: "plain" } | { stage: "relay" | "in-domain"; context: string }> {
  // the second stage does not trust the status it reads (the gear domain may not read selinuxfs)
  if (selinux === "unavailable" && !inner) return { stage: "plain" };
  const context = await readContext();
  const c = parseContext(context);
  if (c?.type === GEAR_DOMAIN) {
    if (c.range !== label)
      throw new Error(`running in ${GEAR_DOMAIN} at ${c.range}, not at this gear's level ${label}`);
    return { stage: "in-domain", context };
  }
  if (inner)
    throw new Error(
      `started as the gear-domain stage in ${JSON.stringify(context)}, not in ${GEAR_DOMAIN} at ${label}`,
    );
  return { stage: "relay", context };
}

export async function runGearShell(argv: string[]): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { config: { type: "string" }, [IN_GEAR_DOMAIN]: { type: "boolean" } },
      strict: true,
    });
    const { config, configPath } = gearSideConfig(values.config);
    const self = await gearSelf(config, configPath);
    const ctx = await makeContext(config);
    await joinGearCgroup(ctx.cgroup, self.uuid);
    process.umask(0o077);
    const req = parseSshCommand(process.env.SSH_ORIGINAL_COMMAND);
    const repo = resolveGearRepo(req.path, self.home, self.app);
    const label = mcsLabel(self.uid);
    const stage = await sessionStage(ctx.selinux, values[IN_GEAR_DOMAIN] === true, label);
    const base: Record<string, string> = {
      PATH: GEAR_PATH,
      HOME: self.home,
      USER: self.uuid,
      LOGNAME: self.uuid,
      SHELL: "/bin/sh",
      LANG: "C.UTF-8",
    };
    // protocol v2 negotiation, when the node's sshd accepts it (AcceptEnv GIT_PROTOCOL)
    const proto = process.env.GIT_PROTOCOL;
    if (proto && /^version=[0-9]$/.test(proto)) base.GIT_PROTOCOL = proto;
    if (stage.stage === "relay") {
      // this same command again, in the gear domain at the gear's level, with the checked request
      const second = [
        "/usr/bin/runcon",
        gearExecContext(stage.context, label),
        process.execPath,
        geartrainLauncher(),
        "node",
        "gear-shell",
        `--${IN_GEAR_DOMAIN}`,
        ...(configPath ? ["--config", configPath] : []),
      ];
      const env = { ...base, SSH_ORIGINAL_COMMAND: process.env.SSH_ORIGINAL_COMMAND ?? "" };
      return await runChild(second, self.home, env, stage.context);
    }
    const env: Record<string, string> = {
      ...base,
      [HOOK_ENV.node]: process.execPath,
      [HOOK_ENV.script]: geartrainLauncher(),
    };
    if (configPath) env.GEARTRAIN_NODE_CONFIG = configPath;
    // git (and the hooks and build it runs) inherits this process's stdio and, under SELinux, its domain
    if (req.service === "git-upload-pack") {
      return await runChild(["/usr/bin/git", "upload-pack", "--strict", repo], self.home, env);
    }
    await requireDeploymentsDir(self);
    return await withDeployLock(self, say, () =>
      runChild(["/usr/bin/git", "receive-pack", repo], self.home, { ...env, [HOOK_ENV.locked]: "1" }),
    );
  } catch (e) {
    if (e instanceof RefusedError) say(e.message);
    else say(`ERROR: ${(e as Error).message}`);
    return 1;
  }
}
