// Real, separate test hosts for multi-host tests (docs/test-hosts.md): each host is a network namespace with
// a veth on a bridge that only the run's hosts and the machine share, a copy-on-write Debian 12 root (overlayfs
// over a cached debootstrap image, entered with unshare --mount --uts --ipc --pid + chroot) and its own sshd on
// its own address. destroy() removes every process, mount, link, namespace and directory of the run;
// assertNoLeftovers() fails if any is still there. The decisions live in model.ts; this file performs them.

import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { OperationFailedError, UnavailableError, ValidationError } from "../../../common/errors";
import {
  AddressPlan,
  CLAIM_DIR,
  ClaimRecord,
  HostNames,
  MachineState,
  PREFIX,
  ReadOnlyBind,
  RunNames,
  TestHostsOptions,
  addressPlan,
  hostNames,
  leftovers,
  parseIpv4Addrs,
  parseLinkNames,
  parseMountinfo,
  pickSubnet,
  renderHosts,
  renderSshdConfig,
  resolveOptions,
  runNames,
} from "./model";
import { bannerOn } from "../sshd";

export type { ReadOnlyBind, TestHostsOptions } from "./model";

const execFileP = promisify(execFile);
const ROOT = path.resolve(__dirname, "../../..");
const BUILD_SCRIPT = path.join(ROOT, "scripts/test-hosts/build-rootfs.sh");
const INIT_PATH = "/usr/local/sbin/geartrain-test-host-init";

export interface TestHost {
  readonly index: number;
  /** the UTS hostname, also in every host's /etc/hosts */
  readonly name: string;
  /** the host's own address (in its own namespace); reachable from the machine and from the other hosts */
  readonly address: string;
  readonly port: number;
  readonly user: "root";
  /** the client's private key (OpenSSH format) that root's authorized_keys on this host accepts */
  readonly privateKey: string;
  readonly privateKeyPath: string;
  /** the host's ed25519 public key ("ssh-ed25519 AAAA…"), for pinning */
  readonly hostPublicKey: string;
  /** "<address> <key>" (or "[<address>]:<port> <key>") for a known_hosts file */
  readonly knownHostsLine: string;
  /** the network namespace (`ip netns exec <netns> …` runs in the host's network only) */
  readonly netns: string;
  /** the host's `/` as seen from the machine (the overlay mount point); write to it only before start */
  readonly root: string;
  /** the machine pid of the host's init (pid 1 of its pid namespace) */
  readonly initPid: number;
  /** runs argv inside the host (all its namespaces and its root) without SSH; rejects on a non-zero exit */
  exec(argv: readonly string[], opts?: { input?: string }): Promise<{ stdout: string; stderr: string }>;
}

export interface TestHosts {
  readonly runId: string;
  readonly plan: AddressPlan;
  /** the machine's address on the hosts' bridge: how a host reaches the test (and Pulumi) side */
  readonly gateway: string;
  readonly hosts: readonly TestHost[];
  /** a known_hosts file listing every host's key */
  readonly knownHostsFile: string;
  /** the run's client private key (OpenSSH), accepted by every host's root besides each host's own key */
  readonly privateKey: string;
  readonly privateKeyPath: string;
  /** removes everything of the run; safe to call twice; throws listing what it could not remove */
  destroy(): Promise<void>;
  /** throws if anything of this run is still on the machine */
  assertNoLeftovers(): Promise<void>;
}

async function run(argv: readonly string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const [cmd, ...args] = argv;
  const child = execFileP(cmd, args, { maxBuffer: 64 * 1024 * 1024, encoding: "utf8" });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    return await child;
  } catch (e) {
    const err = e as { stderr?: string; code?: number | string; message: string };
    throw new OperationFailedError(
      `${argv.join(" ")} failed (${err.code ?? "error"}): ${(err.stderr ?? err.message).trim()}`,
      "command_failed",
    );
  }
}

async function runOk(argv: readonly string[]): Promise<boolean> {
  try {
    await run(argv);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fails loudly, naming the fix, when the machine lacks what the harness needs. */
export function requireTestHostPrerequisites(): void {
  if (process.getuid?.() !== 0) {
    throw new UnavailableError(
      "test hosts need root (network namespaces, mounts). Fix: run the tests as root",
    );
  }
  const tools: Record<string, string> = {
    "/usr/sbin/debootstrap": "debootstrap",
    "/usr/sbin/ip": "iproute2",
    "/usr/bin/unshare": "util-linux",
    "/usr/bin/nsenter": "util-linux",
    "/usr/bin/ssh-keygen": "openssh-client",
  };
  const missing = Object.keys(tools).filter((f) => !fs.existsSync(f));
  if (missing.length) {
    const pkgs = [...new Set(missing.map((f) => tools[f]))].join(" ");
    throw new UnavailableError(
      `missing ${missing.join(", ")}. Fix: apt-get update && apt-get install -y ${pkgs} ` +
        "(all in scripts/debian-packages.txt; `npm run setup` installs them)",
    );
  }
  if (!fs.readFileSync("/proc/filesystems", "utf8").includes("\toverlay\n")) {
    throw new UnavailableError("the kernel has no overlay filesystem. Fix: modprobe overlay");
  }
}

/** Builds the image once (cached, see scripts/test-hosts/build-rootfs.sh) and returns its tree. */
export async function ensureImage(packageList?: string): Promise<string> {
  const args = ["-n", "10", "bash", BUILD_SCRIPT, ...(packageList ? [packageList] : [])];
  const { stdout } = await run(["nice", ...args]);
  const tree = stdout.trim().split("\n").pop() ?? "";
  if (!fs.existsSync(path.join(tree, "etc/debian_version"))) {
    throw new OperationFailedError(
      `the image build printed ${JSON.stringify(tree)}, which is not a Debian tree`,
    );
  }
  return tree;
}

async function machineState(): Promise<MachineState> {
  const netnsDir = "/run/netns";
  const netns = fs.existsSync(netnsDir) ? fs.readdirSync(netnsDir) : [];
  const links = parseLinkNames((await run(["ip", "-o", "link", "show"])).stdout);
  const mounts = parseMountinfo(fs.readFileSync("/proc/self/mountinfo", "utf8"));
  const claims = fs.existsSync(CLAIM_DIR) ? fs.readdirSync(CLAIM_DIR) : [];
  const tmpEntries = fs.readdirSync(os.tmpdir()).filter((e) => e.startsWith(`${PREFIX}-`));
  return { netns, links, mounts, claims, tmpEntries };
}

function readClaim(file: string): ClaimRecord | undefined {
  try {
    const c = JSON.parse(fs.readFileSync(path.join(CLAIM_DIR, file), "utf8")) as ClaimRecord;
    return typeof c.runId === "string" && Number.isInteger(c.pid) ? c : undefined;
  } catch {
    return undefined;
  }
}

function claimOwners(claims: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const c of claims) {
    const r = readClaim(c);
    if (r) m.set(c, r.runId);
  }
  return m;
}

/** What the harness left: of one run, or of any run. */
export async function findLeftovers(runId?: string): Promise<string[]> {
  const state = await machineState();
  return leftovers(state, os.tmpdir(), runId, claimOwners(state.claims));
}

/** Throws (listing each) if a namespace, link, mount, claim or directory of the harness is left. */
export async function assertNoLeftovers(runId?: string): Promise<void> {
  const found = await findLeftovers(runId);
  if (found.length) {
    throw new OperationFailedError(
      `test hosts left ${found.length} thing(s) behind${runId ? ` (run ${runId})` : ""}:\n  ${found.join("\n  ")}`,
    );
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function mountedUnder(dir: string): string[] {
  return parseMountinfo(fs.readFileSync("/proc/self/mountinfo", "utf8")).filter(
    (m) => m === dir || m.startsWith(`${dir}/`),
  );
}

/** Removes one host of a run from what is on the machine (not from memory), so it also cleans a dead run. */
async function destroyHost(h: HostNames, errors: string[]): Promise<void> {
  const nsPath = `/run/netns/${h.netns}`;
  if (fs.existsSync(nsPath)) {
    // every process of the host lives in its network namespace; killing pid 1 of its pid namespace takes the
    // rest down with it, and the private mount namespace (proc, sys, devpts, run) goes with the last process
    for (let i = 0; i < 50; i++) {
      const pids = (await run(["ip", "netns", "pids", h.netns]).catch(() => ({ stdout: "" }))).stdout
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
      if (!pids.length) break;
      for (const p of pids) {
        try {
          process.kill(p, "SIGKILL");
        } catch {
          /* gone already */
        }
      }
      await sleep(100);
    }
  }
  for (let i = 0; i < 50 && mountedUnder(h.dir).length; i++) {
    for (const m of mountedUnder(h.dir).reverse()) await runOk(["umount", m]);
    if (mountedUnder(h.dir).length) await sleep(100);
  }
  const still = mountedUnder(h.dir);
  if (still.length) errors.push(`still mounted: ${still.join(", ")}`);
  if (parseLinkNames((await run(["ip", "-o", "link", "show"])).stdout).includes(h.veth)) {
    if (!(await runOk(["ip", "link", "del", h.veth]))) errors.push(`could not delete link ${h.veth}`);
  }
  if (fs.existsSync(nsPath) && !(await runOk(["ip", "netns", "del", h.netns]))) {
    errors.push(`could not delete network namespace ${h.netns}`);
  }
  if (!still.length) fs.rmSync(h.dir, { recursive: true, force: true });
}

/** Removes everything of run `runId` that is on the machine. */
export async function destroyRun(runId: string): Promise<void> {
  const r = runNames(os.tmpdir(), runId);
  const errors: string[] = [];
  const indexes = new Set<number>();
  const state = await machineState();
  for (const n of state.netns) {
    const m = new RegExp(`^${PREFIX}-${runId}-(\\d+)$`).exec(n);
    if (m) indexes.add(Number(m[1]));
  }
  for (const l of state.links) {
    const m = new RegExp(`^${PREFIX}${runId}[vp](\\d+)$`).exec(l);
    if (m) indexes.add(Number(m[1]));
  }
  if (fs.existsSync(r.dir)) {
    for (const e of fs.readdirSync(r.dir)) if (/^\d+$/.test(e)) indexes.add(Number(e));
  }
  for (const i of [...indexes].sort((a, b) => a - b)) await destroyHost(hostNames(r, i), errors);
  if (state.links.includes(r.bridge) && !(await runOk(["ip", "link", "del", r.bridge]))) {
    errors.push(`could not delete bridge ${r.bridge}`);
  }
  for (const [file, owner] of claimOwners(state.claims)) {
    if (owner === runId) fs.rmSync(path.join(CLAIM_DIR, file), { force: true });
  }
  if (!mountedUnder(r.dir).length) fs.rmSync(r.dir, { recursive: true, force: true });
  if (errors.length) throw new OperationFailedError(`destroying test hosts ${runId}: ${errors.join("; ")}`);
}

/** Cleans runs whose test process died without destroy() (a killed jest): their claim's pid is gone. */
export async function destroyStaleRuns(): Promise<string[]> {
  const stale: string[] = [];
  const claims = fs.existsSync(CLAIM_DIR) ? fs.readdirSync(CLAIM_DIR) : [];
  for (const c of claims) {
    const r = readClaim(c);
    if (r && !alive(r.pid)) {
      await destroyRun(r.runId);
      stale.push(r.runId);
    }
  }
  return stale;
}

/** Claims a free /24 for the run: a file created with link(2), which fails if the name exists. */
async function claimSubnet(r: RunNames): Promise<number> {
  fs.mkdirSync(CLAIM_DIR, { recursive: true, mode: 0o755 });
  for (let attempt = 0; attempt < 20; attempt++) {
    const used = parseIpv4Addrs((await run(["ip", "-o", "-4", "addr", "show"])).stdout);
    const claimed = new Set<number>();
    for (const c of fs.readdirSync(CLAIM_DIR)) {
      const rec = readClaim(c);
      claimed.add(rec ? rec.k : Number(/^198\.18\.(\d+)\.json$/.exec(c)?.[1] ?? -1));
    }
    const k = pickSubnet(used, claimed);
    const tmp = path.join(CLAIM_DIR, `.${r.runId}.${process.pid}`);
    fs.writeFileSync(tmp, JSON.stringify({ runId: r.runId, pid: process.pid, k } satisfies ClaimRecord));
    try {
      fs.linkSync(tmp, r.claimFile(k));
      return k;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
  throw new UnavailableError("could not claim a subnet for the test hosts after 20 attempts");
}

function newRunId(state: MachineState): string {
  for (;;) {
    const id = Math.floor(Math.random() * 0x10000)
      .toString(16)
      .padStart(4, "0");
    const r = runNames(os.tmpdir(), id);
    const taken =
      state.netns.some((n) => n.startsWith(`${PREFIX}-${id}-`)) ||
      state.links.some((l) => l.startsWith(`${PREFIX}${id}`)) ||
      fs.existsSync(r.dir);
    if (!taken) return id;
  }
}

function waitForBanner(address: string, port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  return bannerOn(
    address,
    port,
    timeoutMs,
    () =>
      child.exitCode !== null || child.signalCode !== null
        ? new OperationFailedError(
            `the host's namespace launcher exited (${child.exitCode ?? child.signalCode})`,
          )
        : null,
    () => new OperationFailedError(`sshd did not answer on ${address}:${port} within ${timeoutMs} ms`),
  );
}

// pid 1 of each host: starts sshd (again, a second after it exits, so a restart by the code under test
// works), reaps every orphan, and on SIGTERM kills everything in the namespace.
const INIT = `import os, signal, subprocess, sys, time
log = open("/var/log/geartrain-test-host-sshd.log", "ab", buffering=0)
def start():
    return subprocess.Popen(["/usr/sbin/sshd", "-D", "-e"], stdin=subprocess.DEVNULL, stdout=log, stderr=log)
def stop(*_):
    os.kill(-1, signal.SIGKILL)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
sshd = start()
while True:
    try:
        pid, _ = os.waitpid(-1, 0)
    except ChildProcessError:
        time.sleep(1)
        continue
    if pid == sshd.pid:
        time.sleep(1)
        sshd = start()
`;

// Runs as pid 1 of the new pid namespace, in the host's network namespace and a private mount namespace,
// before chroot: the mounts made here exist only in that mount namespace and vanish with its last process.
// $1: the host's root (overlay mount point), $2: its hostname, then pairs of (machine path, path in the host) to
// bind read-only. Values arrive as arguments, never as code.
const LAUNCH = `set -eu
R=$1
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
mount --rbind /sys/fs/cgroup "$R/sys/fs/cgroup"
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs "$R/run"
mkdir -p "$R/run/sshd" "$R/run/lock"
chmod 1777 "$R/run/lock"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$R/dev/pts"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$R/dev/shm"
hostname "$2"
shift 2
while [ $# -ge 2 ]; do
  if [ -d "$1" ]; then mkdir -p "$R$2"; else mkdir -p "$(dirname "$R$2")" && touch "$R$2"; fi
  mount --bind "$1" "$R$2"
  mount -o remount,bind,ro "$R$2"
  shift 2
done
exec chroot "$R" /usr/bin/python3 ${INIT_PATH}
`;

function reap(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      c.kill("SIGKILL");
      resolve();
    }, 5000);
    c.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

async function keygen(file: string, comment: string): Promise<string> {
  await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file]);
  return fs.readFileSync(`${file}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
}

async function startHost(
  r: RunNames,
  h: HostNames,
  image: string,
  plan: AddressPlan,
  names: readonly string[],
  port: number,
  binds: readonly ReadOnlyBind[],
  runKeyPub: string,
): Promise<{ host: TestHost; child: ChildProcess }> {
  const address = plan.hosts[h.index];
  const name = names[h.index];
  for (const d of [h.work, h.root]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  // the upper dir's own mode is the mode of the host's `/` (0755: services running as other users traverse it);
  // the host's directory around it stays 0700
  fs.mkdirSync(h.upper, { mode: 0o755 });
  fs.chmodSync(h.upper, 0o755);
  await run([
    "mount",
    "-t",
    "overlay",
    "overlay",
    "-o",
    `lowerdir=${image},upperdir=${h.upper},workdir=${h.work}`,
    h.root,
  ]);

  // per-host files, written before the host starts (into its upper dir, through the overlay)
  const R = h.root;
  fs.writeFileSync(path.join(R, "etc/hostname"), `${name}\n`);
  fs.writeFileSync(path.join(R, "etc/hosts"), renderHosts(name, plan, names));
  fs.writeFileSync(
    path.join(R, "etc/ssh/sshd_config.d/00-geartrain-test-host.conf"),
    renderSshdConfig(address, port),
  );
  const hostPublicKey = await keygen(path.join(R, "etc/ssh/ssh_host_ed25519_key"), name);
  const privateKeyPath = path.join(h.dir, "id_ed25519");
  const clientPub = await keygen(privateKeyPath, `geartrain-test@${name}`);
  fs.mkdirSync(path.join(R, "root/.ssh"), { recursive: true, mode: 0o700 });
  // the host's own client key, and the run's (one key for every host, as a stack's geartrain:sshPrivateKey)
  fs.writeFileSync(path.join(R, "root/.ssh/authorized_keys"), `${clientPub}\n${runKeyPub}\n`, {
    mode: 0o600,
  });
  fs.writeFileSync(path.join(R, INIT_PATH.slice(1)), INIT, { mode: 0o755 });

  // its network: a namespace, a veth whose outer end is on the bridge and whose inner end is eth0
  await run(["ip", "netns", "add", h.netns]);
  await run(["ip", "link", "add", h.veth, "type", "veth", "peer", "name", h.peer]);
  await run(["ip", "link", "set", h.peer, "netns", h.netns]);
  await run(["ip", "-n", h.netns, "link", "set", h.peer, "name", "eth0"]);
  await run(["ip", "-n", h.netns, "addr", "add", `${address}/${plan.prefixLength}`, "dev", "eth0"]);
  await run(["ip", "-n", h.netns, "link", "set", "eth0", "up"]);
  await run(["ip", "-n", h.netns, "link", "set", "lo", "up"]);
  await run(["ip", "link", "set", h.veth, "master", r.bridge]);
  await run(["ip", "link", "set", h.veth, "up"]);

  const logFd = fs.openSync(path.join(h.dir, "launch.log"), "a");
  const child = spawn(
    "nsenter",
    [
      `--net=/run/netns/${h.netns}`,
      "--",
      "unshare",
      "--mount",
      "--uts",
      "--ipc",
      "--pid",
      "--fork",
      "--kill-child",
      "--propagation",
      "private",
      "--",
      "/bin/sh",
      "-c",
      LAUNCH,
      "launch",
      R,
      name,
      ...binds.flatMap((b) => [b.source, b.target]),
    ],
    { stdio: ["ignore", logFd, logFd] },
  );
  fs.closeSync(logFd);
  try {
    await waitForBanner(address, port, child, 20000);
  } catch (e) {
    const log = fs.readFileSync(path.join(h.dir, "launch.log"), "utf8");
    const sshdLog = path.join(R, "var/log/geartrain-test-host-sshd.log");
    const sl = fs.existsSync(sshdLog) ? fs.readFileSync(sshdLog, "utf8") : "";
    throw new OperationFailedError(
      `host ${name}: ${(e as Error).message}\n--- launch ---\n${log}\n--- sshd ---\n${sl}`,
    );
  }
  const initPid = Number(
    fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(/\s+/)[0],
  );
  const target = String(initPid);
  const host: TestHost = {
    index: h.index,
    name,
    address,
    port,
    user: "root",
    privateKey: fs.readFileSync(privateKeyPath, "utf8"),
    privateKeyPath,
    hostPublicKey,
    knownHostsLine: `${port === 22 ? address : `[${address}]:${port}`} ${hostPublicKey}`,
    netns: h.netns,
    root: R,
    initPid,
    exec: (argv, opts) =>
      run(["nsenter", "-t", target, "-m", "-u", "-i", "-n", "-p", "-r", "-w", "--", ...argv], opts?.input),
  };
  return { host, child };
}

/**
 * Makes `count` separate hosts (see the file comment and docs/test-hosts.md). Builds the image first if it is
 * not cached (minutes, once). On any failure everything made so far is removed before the error is thrown.
 */
export async function createTestHosts(count: number, opts: TestHostsOptions = {}): Promise<TestHosts> {
  const o = resolveOptions(count, opts);
  requireTestHostPrerequisites();
  await destroyStaleRuns();
  for (const [i, b] of o.readOnlyBinds.entries()) {
    if (!fs.existsSync(b.source)) {
      throw new ValidationError(`readOnlyBinds[${i}].source`, `${b.source} does not exist on this machine`);
    }
  }
  const image = await ensureImage(o.packageList);
  const runId = newRunId(await machineState());
  const r = runNames(os.tmpdir(), runId);
  const children: ChildProcess[] = [];
  let destroyed = false;
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    try {
      await destroyRun(runId);
    } finally {
      // the launchers (nsenter → unshare) died with their namespaces; reap them so no zombie is left
      await Promise.all(children.map(reap));
    }
  };
  try {
    fs.mkdirSync(r.dir, { mode: 0o700 });
    const k = await claimSubnet(r);
    const plan = addressPlan(k, o.count);
    await run(["ip", "link", "add", r.bridge, "type", "bridge"]);
    await run(["ip", "addr", "add", `${plan.gateway}/${plan.prefixLength}`, "dev", r.bridge]);
    await run(["ip", "link", "set", r.bridge, "up"]);
    const runKeyPath = path.join(r.dir, "id_ed25519");
    const runKeyPub = await keygen(runKeyPath, `geartrain-test-run@${runId}`);
    const hosts: TestHost[] = [];
    for (let i = 0; i < o.count; i++) {
      const { host, child } = await startHost(
        r,
        hostNames(r, i),
        image,
        plan,
        o.names,
        o.sshPort,
        o.readOnlyBinds,
        runKeyPub,
      );
      children.push(child);
      hosts.push(host);
    }
    const knownHostsFile = path.join(r.dir, "known_hosts");
    fs.writeFileSync(knownHostsFile, hosts.map((h) => h.knownHostsLine).join("\n") + "\n");
    return {
      runId,
      plan,
      gateway: plan.gateway,
      hosts,
      knownHostsFile,
      privateKey: fs.readFileSync(runKeyPath, "utf8"),
      privateKeyPath: runKeyPath,
      destroy,
      assertNoLeftovers: () => assertNoLeftovers(runId),
    };
  } catch (e) {
    await destroy().catch((d: Error) => {
      (e as Error).message += `\n(and cleaning up failed: ${d.message})`;
    });
    throw e;
  }
}
