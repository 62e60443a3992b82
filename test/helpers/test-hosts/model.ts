// The pure half of the test-host harness (docs/test-hosts.md): option checks, the address plan, the names
// of every namespace, link and directory a run makes, the rendered files each host gets, and the reading of
// `ip`/mountinfo output into the leftovers a run may have left. No I/O here; index.ts performs it.

import { UnavailableError, ValidationError } from "../../../common/errors";

/** Every name the harness gives a namespace, a link or a directory starts with this. */
export const PREFIX = "gtth";

/**
 * The harness's addresses come from 198.18.0.0/15 (RFC 2544, set aside for benchmark test networks and never
 * routed on the Internet): one /24 per run, `198.18.<k>.0/24`, that exists only on the run's bridge and the
 * veths in its namespaces. The machine has no other route into it and the hosts have no route out of it.
 */
export const SUBNET_FIRST_OCTETS = "198.18";
export const SUBNETS = 256;
/** `.1` is the bridge (the machine that runs the test and Pulumi); hosts are `.2` upwards. */
export const MAX_HOSTS = 253;

const RUN_ID = /^[0-9a-f]{4}$/;
const HOSTNAME = /^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/;

export interface TestHostsOptions {
  /** host names (UTS hostname and /etc/hosts), one per host. @default ["host0", "host1", …] */
  readonly names?: readonly string[];
  /** the port each host's sshd listens on, on its own address in its own namespace. @default 22 */
  readonly sshPort?: number;
  /** a package list for the image (scripts/test-hosts/rootfs-packages.txt format). @default that file */
  readonly packageList?: string;
  /**
   * machine files or directories each host sees read-only at `target` (e.g. the machine's `node` binary and the
   * checkout, for the agent): bind mounts in the host's private mount namespace, gone with the host. @default []
   */
  readonly readOnlyBinds?: readonly ReadOnlyBind[];
}

export interface ReadOnlyBind {
  /** an absolute path on the machine */
  readonly source: string;
  /** an absolute path inside the host (not `/`) */
  readonly target: string;
}

export interface ResolvedOptions {
  readonly count: number;
  readonly names: readonly string[];
  readonly sshPort: number;
  readonly packageList?: string;
  readonly readOnlyBinds: readonly ReadOnlyBind[];
}

const ABSOLUTE_PATH = /^(\/[^/\0\n]+)+$/;

function checkPath(field: string, p: unknown): string {
  if (
    typeof p !== "string" ||
    !ABSOLUTE_PATH.test(p) ||
    p.split("/").some((seg) => seg === "." || seg === "..")
  ) {
    throw new ValidationError(
      field,
      `${JSON.stringify(p)} is not an absolute path without '.', '..' or '//'`,
    );
  }
  return p;
}

/** Checks the caller's request; throws a ValidationError naming the field. */
export function resolveOptions(count: number, opts: TestHostsOptions = {}): ResolvedOptions {
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) {
    throw new ValidationError("count", `${count} is not a whole number from 1 to ${MAX_HOSTS}`);
  }
  const names = opts.names ?? Array.from({ length: count }, (_, i) => `host${i}`);
  if (names.length !== count) {
    throw new ValidationError("names", `${names.length} names for ${count} hosts`);
  }
  names.forEach((n, i) => {
    if (typeof n !== "string" || !HOSTNAME.test(n)) {
      throw new ValidationError(
        `names[${i}]`,
        `${JSON.stringify(n)} is not a host name (a-z, 0-9, '-', at most 32 characters)`,
      );
    }
    if (names.indexOf(n) !== i) throw new ValidationError(`names[${i}]`, `${n} appears twice`);
  });
  const sshPort = opts.sshPort ?? 22;
  if (!Number.isInteger(sshPort) || sshPort < 1 || sshPort > 65535) {
    throw new ValidationError("sshPort", `${sshPort} is not a port number`);
  }
  const readOnlyBinds = (opts.readOnlyBinds ?? []).map((b, i) => ({
    source: checkPath(`readOnlyBinds[${i}].source`, b?.source),
    target: checkPath(`readOnlyBinds[${i}].target`, b?.target),
  }));
  return { count, names, sshPort, packageList: opts.packageList, readOnlyBinds };
}

export function checkRunId(runId: string): string {
  if (!RUN_ID.test(runId)) throw new ValidationError("runId", `${JSON.stringify(runId)} is not 4 hex digits`);
  return runId;
}

export interface AddressPlan {
  /** the third octet: the run's subnet is 198.18.<k>.0/24 */
  readonly k: number;
  readonly subnet: string;
  readonly prefixLength: 24;
  /** the bridge's address: how hosts reach the machine running the test */
  readonly gateway: string;
  readonly hosts: readonly string[];
}

export function addressPlan(k: number, count: number): AddressPlan {
  if (!Number.isInteger(k) || k < 0 || k >= SUBNETS) throw new ValidationError("k", `${k} is outside 0-255`);
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) {
    throw new ValidationError("count", `${count} is not a whole number from 1 to ${MAX_HOSTS}`);
  }
  const net = `${SUBNET_FIRST_OCTETS}.${k}`;
  return {
    k,
    subnet: `${net}.0/24`,
    prefixLength: 24,
    gateway: `${net}.1`,
    hosts: Array.from({ length: count }, (_, i) => `${net}.${i + 2}`),
  };
}

/**
 * The first subnet no interface of this machine already has an address in and no other run has claimed.
 * `used`: IPv4 addresses found on the machine (`ip -o -4 addr`); `claimed`: the k of live claims.
 */
export function pickSubnet(used: readonly string[], claimed: ReadonlySet<number>): number {
  const taken = new Set(claimed);
  for (const a of used) {
    const m = /^198\.18\.(\d{1,3})\./.exec(a);
    if (m) taken.add(Number(m[1]));
  }
  for (let k = 0; k < SUBNETS; k++) if (!taken.has(k)) return k;
  throw new UnavailableError(
    `no free /24 in ${SUBNET_FIRST_OCTETS}.0.0/16: all ${SUBNETS} are in use or claimed`,
  );
}

export interface RunNames {
  readonly runId: string;
  /** the bridge on the machine's side: `gtth<run>b` */
  readonly bridge: string;
  /** the run's directory under the temp dir: overlay upper/work dirs, mount points, keys, logs */
  readonly dir: string;
  readonly claimFile: (k: number) => string;
}

export interface HostNames {
  readonly index: number;
  /** `gtth-<run>-<i>` under /run/netns */
  readonly netns: string;
  /** the machine-side end of the veth, enslaved to the bridge: `gtth<run>v<i>` */
  readonly veth: string;
  /** the other end before it is moved into the namespace and renamed eth0: `gtth<run>p<i>` */
  readonly peer: string;
  readonly dir: string;
  readonly upper: string;
  readonly work: string;
  /** the overlay mount point: the host's `/`, readable from the machine while the host runs */
  readonly root: string;
}

/** Where runs keep the claim on their subnet (one file per subnet, created O_EXCL). */
export const CLAIM_DIR = "/run/geartrain-test-hosts";

export function runNames(tmpdir: string, runId: string): RunNames {
  checkRunId(runId);
  const dir = `${tmpdir.replace(/\/+$/, "")}/${PREFIX}-${runId}`;
  return {
    runId,
    bridge: `${PREFIX}${runId}b`,
    dir,
    claimFile: (k) => `${CLAIM_DIR}/${SUBNET_FIRST_OCTETS}.${k}.json`,
  };
}

export function hostNames(run: RunNames, index: number): HostNames {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_HOSTS) {
    throw new ValidationError("index", `${index} is outside 0-${MAX_HOSTS - 1}`);
  }
  const dir = `${run.dir}/${index}`;
  return {
    index,
    netns: `${PREFIX}-${run.runId}-${index}`,
    veth: `${PREFIX}${run.runId}v${index}`, // at most 4+4+1+3 = 12 characters (IFNAMSIZ allows 15)
    peer: `${PREFIX}${run.runId}p${index}`,
    dir,
    upper: `${dir}/upper`,
    work: `${dir}/work`,
    root: `${dir}/root`,
  };
}

/** The harness's own sshd settings, as /etc/ssh/sshd_config.d/00-geartrain-test-host.conf (first value wins). */
export function renderSshdConfig(address: string, port: number): string {
  return [
    "# written by the test-host harness (test/helpers/test-hosts)",
    `ListenAddress ${address}`,
    `Port ${port}`,
    "HostKey /etc/ssh/ssh_host_ed25519_key",
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    // no PAM: pam_loginuid cannot write /proc/self/loginuid in a pid namespace and would refuse the session
    "UsePAM no",
    "PidFile /run/sshd.pid",
    "",
  ].join("\n");
}

export function renderHosts(hostname: string, plan: AddressPlan, names: readonly string[]): string {
  return [
    `127.0.0.1 localhost`,
    `127.0.1.1 ${hostname}`,
    `${plan.gateway} ${PREFIX}-gateway`,
    ...names.map((n, i) => `${plan.hosts[i]} ${n}`),
    "",
  ].join("\n");
}

/** Mount points from /proc/self/mountinfo (field 5, with the kernel's octal escapes undone). */
export function parseMountinfo(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    if (f.length < 5) continue;
    out.push(f[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

/** Link names from `ip -o link show` ("3: name@peer: <…"). */
export function parseLinkNames(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const m = /^\d+:\s+([^:@\s]+)[@:]/.exec(line);
    if (m) out.push(m[1]);
  }
  return out;
}

/** IPv4 addresses from `ip -o -4 addr show` ("4: eth0    inet 192.0.2.2/24 brd …"). */
export function parseIpv4Addrs(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\binet (\d+\.\d+\.\d+\.\d+)\//g)) out.push(m[1]);
  return out;
}

export interface MachineState {
  readonly netns: readonly string[];
  readonly links: readonly string[];
  readonly mounts: readonly string[];
  /** names of files in CLAIM_DIR */
  readonly claims: readonly string[];
  /** entries of the temp dir */
  readonly tmpEntries: readonly string[];
}

export interface ClaimRecord {
  readonly runId: string;
  readonly pid: number;
  readonly k: number;
}

/**
 * What the harness left on the machine: of one run (`runId`) or, without it, of any run. `tmpdir` is where run
 * directories live; `claimsOfRun` maps a claim file name to its run (from its JSON), so a run's claim is found.
 */
export function leftovers(
  state: MachineState,
  tmpdir: string,
  runId?: string,
  claimsOfRun: ReadonlyMap<string, string> = new Map(),
): string[] {
  const tmp = tmpdir.replace(/\/+$/, "");
  const nsPrefix = runId ? `${PREFIX}-${runId}-` : `${PREFIX}-`;
  const linkPrefix = runId ? `${PREFIX}${runId}` : PREFIX;
  const dirName = runId ? `${PREFIX}-${runId}` : undefined;
  const isRunDir = (e: string) => (dirName ? e === dirName : new RegExp(`^${PREFIX}-[0-9a-f]{4}$`).test(e));
  const found: string[] = [];
  for (const n of state.netns) if (n.startsWith(nsPrefix)) found.push(`network namespace ${n}`);
  for (const l of state.links) if (l.startsWith(linkPrefix)) found.push(`link ${l}`);
  for (const m of state.mounts) {
    const rel = m.startsWith(`${tmp}/`) ? m.slice(tmp.length + 1).split("/")[0] : undefined;
    if (rel !== undefined && isRunDir(rel)) found.push(`mount ${m}`);
  }
  for (const c of state.claims) {
    const owner = claimsOfRun.get(c);
    if (!runId || owner === runId) found.push(`subnet claim ${CLAIM_DIR}/${c}`);
  }
  for (const e of state.tmpEntries) if (isRunDir(e)) found.push(`directory ${tmp}/${e}`);
  return found;
}
