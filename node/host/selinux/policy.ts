// The gear policy module (geartrain.te/.fc/.if in this directory): compiled on the node with Debian's
// selinux-policy-dev (its devel Makefile, so it matches the installed policy) and installed with semodule.
// With it goes a generated CIL module, geartrain_nodes: the address labels of the district's gears, and the
// port label of the node's gear git sshd (nodesModuleCil). The version installed is tracked as a hash of the
// sources and the generated module in <stateDir>/selinux/geartrain.sha256: when either changes (an upgrade
// of Geartrain, another district, another git sshd port), ensurePolicy reinstalls. The policy store says
// whether the modules are there at all (someone may have removed them with semodule -r). The node also labels
// its own launcher (bin/geartrain) geartrain_exec_t, the entry of its tooling domain from cron (geartrain.te),
// and the git forced command beside it (bin/gear-shell) geartrain_relay_exec_t, the entry of the relay stage's
// domain; either at another type is not current either.

import { createHash } from "crypto";
import { existsSync, promises as fs, readFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { UnavailableError } from "../../../common/errors";
import { gearAddresses } from "../addresses";
import { CommandError, run } from "../exec";
import { mcsCategories } from "../mcs";
import { readLabel, selinuxStatus } from "./label";
import type { NodeConfig, SelinuxStatus } from "../../types";

export const MODULE_NAME = "geartrain";
/** The generated companion module: the network node (address) labels of the district's gears. */
export const NODES_MODULE_NAME = "geartrain_nodes";
export const DEVEL_MAKEFILE = "/usr/share/selinux/devel/Makefile";
const SOURCE_EXTS = ["te", "fc", "if"] as const;

/** The directory holding the module sources: node/host/selinux of the installed project (also from dist/). */
export function policySourceDir(start = __dirname): string {
  for (let d = start; ; d = path.dirname(d)) {
    const candidate = path.join(d, "node", "host", "selinux");
    if (existsSync(path.join(d, "package.json")) && existsSync(path.join(candidate, `${MODULE_NAME}.te`)))
      return candidate;
    if (path.dirname(d) === d) break;
  }
  if (existsSync(path.join(start, `${MODULE_NAME}.te`))) return start;
  throw new Error(`the SELinux module sources (${MODULE_NAME}.te) are not installed with the project`);
}

/** The type of the launcher bin/geartrain (geartrain.te: a cron job executing it enters geartrain_node_t). */
export const LAUNCHER_TYPE = "geartrain_exec_t";
export const LAUNCHER_CONTEXT = `system_u:object_r:${LAUNCHER_TYPE}:s0`;

/** The type of bin/gear-shell, the forced command (geartrain.te: executing it from a login enters the relay). */
export const RELAY_ENTRY_TYPE = "geartrain_relay_exec_t";
export const RELAY_ENTRY_CONTEXT = `system_u:object_r:${RELAY_ENTRY_TYPE}:s0`;

/** The launcher of the installed project: bin/geartrain next to its package.json (also from dist/). */
export function launcherPath(start = __dirname): string {
  for (let d = start; path.dirname(d) !== d; d = path.dirname(d)) {
    const candidate = path.join(d, "bin", "geartrain");
    if (existsSync(path.join(d, "package.json")) && existsSync(candidate)) return candidate;
  }
  throw new Error(`cannot find bin/geartrain above ${start}`);
}

export interface LauncherLabel {
  readonly path: string;
  /** its context now (null: unreadable) */
  readonly context: string | null;
  /** its type is LAUNCHER_TYPE */
  readonly labelled: boolean;
}

async function fileLabel(file: string, type: string): Promise<LauncherLabel> {
  const real = await fs.realpath(file).catch(() => file);
  const context = await readLabel(real);
  return { path: real, context, labelled: context?.split(":")[2] === type };
}

export function launcherLabel(launcher = launcherPath()): Promise<LauncherLabel> {
  return fileLabel(launcher, LAUNCHER_TYPE);
}

/** bin/gear-shell beside the launcher. */
export function relayEntryPath(launcher = launcherPath()): string {
  return path.join(path.dirname(launcher), "gear-shell");
}

export function relayEntryLabel(launcher = launcherPath()): Promise<LauncherLabel> {
  return fileLabel(relayEntryPath(launcher), RELAY_ENTRY_TYPE);
}

/**
 * Label the launcher and the forced command beside it (root-owned files of the release, never a gear's):
 * chcon, no dereference.
 */
export async function labelLauncher(launcher = launcherPath()): Promise<void> {
  for (const [file, context] of [
    [launcher, LAUNCHER_CONTEXT],
    [relayEntryPath(launcher), RELAY_ENTRY_CONTEXT],
  ]) {
    const real = await fs.realpath(file).catch(() => file);
    await mustRun(["chcon", "-h", "--", context, real], {});
  }
}

export interface PolicySources {
  readonly dir: string;
  readonly files: Readonly<Record<(typeof SOURCE_EXTS)[number], string>>;
  /** sha256 of the three sources, in order, each with its name */
  readonly hash: string;
}

export function readPolicySources(dir = policySourceDir()): PolicySources {
  const files = {} as Record<(typeof SOURCE_EXTS)[number], string>;
  const h = createHash("sha256");
  for (const ext of SOURCE_EXTS) {
    files[ext] = readFileSync(path.join(dir, `${MODULE_NAME}.${ext}`), "utf8");
    h.update(`${MODULE_NAME}.${ext}\0${files[ext]}\0`);
  }
  return { dir, files, hash: h.digest("hex") };
}

const mcsLevel = ([i, j]: readonly [number, number]) => `(s0 (c${i} c${j}))`;
const SYSTEM_HIGH = "(s0 (range c0 c1023))";

/**
 * The generated module (CIL) for the node's config. The node (IP address) labels keep gears to their own
 * loopback /25: each gear's block is labelled node_t at the gear's level, and the rest of 127.0.0.0/8 and the
 * wildcard addresses at s0:c0.c1023. The policy's MCS constraint `tcp_socket/udp_socket node_bind (h1 dom h2)`
 * then lets a gear's socket bind only addresses its level dominates: its own block. Unconstrained domains
 * (root, daemons) are not affected. Ports (name_bind) have no MCS constraint in this policy: see the docs.
 * When the node's gear git sshd listens on another port than 22 (selinux.gitSshPort), that TCP port is
 * labelled ssh_port_t: Debian's policy lets sshd_t bind only ssh_port_t ports (as `semanage port -a -t
 * ssh_port_t -p tcp <port>` would, in the same semodule transaction).
 */
export function nodesModuleCil(
  district: { readonly firstUid: number; readonly maxUid: number },
  gitSshPort: number | null = null,
): string {
  const ctx = (low: string, high: string) => `(system_u object_r node_t (${low} ${high}))`;
  const lines = [
    `; ${NODES_MODULE_NAME}: generated by Geartrain (node/host/selinux/policy.ts) for the district's uids ${district.firstUid}..${district.maxUid}`,
    `(nodecon (127.0.0.0) (255.0.0.0) ${ctx("(s0)", SYSTEM_HIGH)})`,
    `(nodecon (0.0.0.0) (255.255.255.255) ${ctx("(s0)", SYSTEM_HIGH)})`,
    `(nodecon (::) (ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff) ${ctx("(s0)", SYSTEM_HIGH)})`,
    `(nodecon (::1) (ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff) ${ctx("(s0)", SYSTEM_HIGH)})`,
  ];
  if (gitSshPort !== null && gitSshPort !== 22) {
    if (!Number.isInteger(gitSshPort) || gitSshPort < 1 || gitSshPort > 65535)
      throw new Error(`gitSshPort ${gitSshPort} is not a TCP port`);
    lines.push(`(portcon tcp ${gitSshPort} (system_u object_r ssh_port_t ((s0) (s0))))`);
  }
  for (let uid = district.firstUid; uid <= district.maxUid; uid++) {
    const net = gearAddresses(uid).loopback.network.split("/")[0];
    const lvl = mcsLevel(mcsCategories(uid));
    lines.push(`(nodecon (${net}) (255.255.255.128) ${ctx(lvl, lvl)})`);
  }
  return `${lines.join("\n")}\n`;
}

/** The generated module of this config. */
export function nodesModuleOf(config: PolicyConfig): string {
  return nodesModuleCil(config.district, config.selinux?.gitSshPort ?? null);
}

/**
 * What the installed policy depends on: where the record lives, the district (the node labels) and the git
 * sshd's port (absent: none labelled).
 */
export type PolicyConfig = Pick<NodeConfig, "stateDir" | "district"> & {
  readonly selinux?: NodeConfig["selinux"];
};

/** The version installed: the module sources and the generated module (node and port labels) together. */
export function policyVersion(src: PolicySources, config: PolicyConfig): string {
  return createHash("sha256")
    .update(`${src.hash}\0${nodesModuleOf(config)}`)
    .digest("hex");
}

export function recordPath(config: Pick<NodeConfig, "stateDir">): string {
  return path.join(config.stateDir, "selinux", `${MODULE_NAME}.sha256`);
}

/** The policy store: /var/lib/selinux/<SELINUXTYPE of /etc/selinux/config>. */
export function policyStore(selinuxConfig = "/etc/selinux/config", root = "/var/lib/selinux"): string {
  const conf = existsSync(selinuxConfig) ? readFileSync(selinuxConfig, "utf8") : "";
  const type = /^\s*SELINUXTYPE\s*=\s*([A-Za-z0-9_-]+)\s*$/m.exec(conf)?.[1] ?? "default";
  return path.join(root, type);
}

/**
 * The modules installed in the store, at any priority: the directories active/modules/<priority>/<name>,
 * read from the file system. (Not `semodule -l`: semodule runs in its own domain, semanage_t, which may not
 * write to a Node child's stdout, a Unix socket of the caller's domain; its output would be empty.)
 */
export async function installedModules(store = policyStore()): Promise<string[]> {
  const base = path.join(store, "active", "modules");
  let prios: string[];
  try {
    prios = await fs.readdir(base);
  } catch {
    throw new UnavailableError(
      `no SELinux policy store at ${base}: run \`apt-get install selinux-policy-default policycoreutils\``,
    );
  }
  const names = new Set<string>();
  for (const p of prios) {
    if (!/^[0-9]+$/.test(p)) continue;
    for (const n of await fs.readdir(path.join(base, p)).catch(() => [] as string[])) names.add(n);
  }
  return [...names].sort();
}

export interface PolicyStatus {
  readonly module: string;
  /** hash of the sources shipped with this Geartrain and the node labels of this district */
  readonly hash: string;
  /** both modules (geartrain, geartrain_nodes) are in the policy store */
  readonly installed: boolean;
  /** the hash recorded at the last install (null: never installed by Geartrain) */
  readonly installedHash: string | null;
  /** the launcher's label; null where SELinux is not enabled (nothing to label) */
  readonly launcher: LauncherLabel | null;
  /** bin/gear-shell's label (the relay's entrypoint); null where SELinux is not enabled */
  readonly relayEntry: LauncherLabel | null;
  /** both modules at this version, and the launcher and bin/gear-shell labelled (where SELinux is enabled) */
  readonly current: boolean;
}

export async function policyStatus(
  config: PolicyConfig,
  store = policyStore(),
  selinux?: SelinuxStatus,
): Promise<PolicyStatus> {
  const hash = policyVersion(readPolicySources(), config);
  const enabled = (selinux ?? (await selinuxStatus())) !== "unavailable";
  const launcher = enabled ? await launcherLabel() : null;
  const relayEntry = enabled ? await relayEntryLabel() : null;
  const modules = await installedModules(store);
  const installed = modules.includes(MODULE_NAME) && modules.includes(NODES_MODULE_NAME);
  const installedHash = await fs
    .readFile(recordPath(config), "utf8")
    .then((s) => s.trim())
    .catch(() => null);
  return {
    module: MODULE_NAME,
    hash,
    installed,
    installedHash,
    launcher,
    relayEntry,
    current:
      installed &&
      installedHash === hash &&
      (launcher === null || launcher.labelled) &&
      (relayEntry === null || relayEntry.labelled),
  };
}

async function mustRun(argv: string[], opts: { cwd?: string; timeoutMs?: number }): Promise<void> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new CommandError(argv, r);
}

/** Compile the module in a private temporary directory; resolves with the .pp path (caller removes dir). */
export async function buildModule(src: PolicySources): Promise<{ dir: string; pp: string }> {
  if (!existsSync(DEVEL_MAKEFILE))
    throw new UnavailableError(
      `${DEVEL_MAKEFILE} is missing: run \`apt-get install selinux-policy-dev\` to build the gear policy module`,
    );
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "geartrain-selinux-"));
  for (const ext of SOURCE_EXTS) await fs.writeFile(path.join(dir, `${MODULE_NAME}.${ext}`), src.files[ext]);
  await mustRun(["make", "-f", DEVEL_MAKEFILE, `${MODULE_NAME}.pp`], { cwd: dir, timeoutMs: 600_000 });
  return { dir, pp: path.join(dir, `${MODULE_NAME}.pp`) };
}

export interface PolicyInstall {
  readonly module: string;
  readonly hash: string;
  /**
   * "installed": built and installed now; "labelled": the modules were current, the launcher is labelled
   * now; "current": nothing to do
   */
  readonly action: "installed" | "labelled" | "current";
}

/**
 * Build the module and generate the node labels, install both in one semodule transaction, and record the
 * version, whatever is installed now; then, where SELinux is enabled, label the launcher.
 */
export async function installPolicy(config: PolicyConfig, selinux?: SelinuxStatus): Promise<PolicyInstall> {
  const src = readPolicySources();
  const hash = policyVersion(src, config);
  const { dir, pp } = await buildModule(src);
  try {
    const cil = path.join(dir, `${NODES_MODULE_NAME}.cil`);
    await fs.writeFile(cil, nodesModuleOf(config));
    await mustRun(["semodule", "-i", pp, "-i", cil], { timeoutMs: 600_000 });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  await fs.mkdir(path.dirname(recordPath(config)), { recursive: true, mode: 0o700 });
  const tmp = `${recordPath(config)}.tmp`;
  await fs.writeFile(tmp, `${hash}\n`, { mode: 0o644 });
  await fs.rename(tmp, recordPath(config));
  if ((selinux ?? (await selinuxStatus())) !== "unavailable") await labelLauncher();
  return { module: MODULE_NAME, hash, action: "installed" };
}

/** Install or upgrade the module when SELinux is on and it is missing or not this version. */
export async function ensurePolicy(
  config: PolicyConfig,
  selinux: SelinuxStatus,
  store = policyStore(),
): Promise<PolicyInstall | null> {
  if (selinux === "unavailable") return null;
  const st = await policyStatus(config, store, selinux);
  if (st.current) return { module: MODULE_NAME, hash: st.hash, action: "current" };
  if (st.installed && st.installedHash === st.hash) {
    await labelLauncher();
    return { module: MODULE_NAME, hash: st.hash, action: "labelled" };
  }
  return installPolicy(config, selinux);
}

const ensured = new Map<string, Promise<PolicyInstall | null>>();

/** ensurePolicy once per process and state dir (gear create/update call this before labelling). */
export function ensurePolicyOnce(
  config: PolicyConfig,
  selinux: SelinuxStatus,
): Promise<PolicyInstall | null> {
  let p = ensured.get(config.stateDir);
  if (!p) {
    p = ensurePolicy(config, selinux);
    p.catch(() => ensured.delete(config.stateDir));
    ensured.set(config.stateDir, p);
  }
  return p;
}
