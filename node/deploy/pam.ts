// `geartrain node gear-pam-attach`: a PAM session hook for the node's sshd, needed on cgroup v2 (and
// harmless on v1). sshd's session stack runs it through pam_exec as root when a gear logs in:
//
//   session required pam_exec.so quiet /usr/bin/node /opt/geartrain/bin/geartrain node gear-pam-attach
//   (add `--config <file>` when the node config is not /etc/geartrain/node.json: pam_exec passes no env)
//
// It moves the calling sshd session process (its parent: the privileged "[priv]" process that forks the
// user's session afterwards) into the gear's cgroup, so every process of the session — the forced command,
// git, the build — starts inside the gear's limits. On v2 this must be root: the kernel lets a process be
// moved only by a writer of the common ancestor's cgroup.procs (sshd's cgroup and the gear's share only
// the root). Input is PAM_USER (the authenticated account) and PAM_TYPE; accounts that are not gears of
// this node are left alone. A gear without its cgroup is refused a session (it would run unlimited).

import { readPasswd } from "../host/accounts";
import { CONFIG_ENV, loadConfig } from "../config";
import { makeContext } from "../context";
import { UUID_PATTERN } from "../validate";

export async function pamAttach(
  configPath: string | null,
  env: NodeJS.ProcessEnv = process.env,
  pid: number = process.ppid,
  log: (m: string) => void = (m) => process.stderr.write(`geartrain gear-pam-attach: ${m}\n`),
): Promise<number> {
  if (env.PAM_TYPE !== "open_session") return 0;
  const user = env.PAM_USER ?? "";
  if (!UUID_PATTERN.test(user)) return 0;
  try {
    const config = loadConfig(configPath ? { [CONFIG_ENV]: configPath } : {});
    const account = (await readPasswd()).find((u) => u.name === user);
    if (!account || account.gecos !== config.gecos) return 0;
    const ctx = await makeContext(config);
    if (!(await ctx.cgroup.gearExists(user))) {
      log(`gear ${user} has no cgroup; session refused (repair: geartrain node gear update ${user})`);
      return 1;
    }
    if (!(await ctx.cgroup.pidInGear(pid, user))) await ctx.cgroup.attach(user, pid);
    if (!(await ctx.cgroup.pidInGear(pid, user))) {
      log(`could not move session ${pid} into the cgroup of gear ${user}; session refused`);
      return 1;
    }
    return 0;
  } catch (e) {
    log(`${(e as Error).message}; session refused`);
    return 1;
  }
}
