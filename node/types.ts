// Types shared by the node operations layer. Every module boundary speaks these.

export type ProfileName = string;

/** Per-gear resource limits of one node profile (OpenShift resource_limits.conf, in our units). */
export interface Profile {
  /** memory limit in bytes (v1 memory.limit_in_bytes, v2 memory.max) */
  readonly memoryBytes: number;
  /** swap allowed on top of memory (v1 memsw − mem, v2 memory.swap.max) */
  readonly swapBytes: number;
  /** max tasks (v1/v2 pids.max) and PAM nproc */
  readonly pids: number;
  /** CPU weight in cgroup v2 units (1..10000, default workload = 100). v1 shares = weight × 1024 / 100. */
  readonly cpuWeight: number;
  /** CPU cap in CPUs (cfs quota / period); null = no cap */
  readonly cpuMax: number | null;
  /** disk limit in bytes (quota blocks × 1024, or loop image size) */
  readonly diskBytes: number;
  /** inode limit (quota files, or loop image inode count) */
  readonly diskFiles: number;
}

export type CgroupVersionSetting = "auto" | "v1" | "v2";
export type DiskModeSetting = "auto" | "quota" | "loop" | "none";
export type IsolationSetting = "auto" | "nftables" | "iptables" | "none";

/** The node's HTTP frontend (nginx), see docs/frontend.md. */
export interface FrontendConfig {
  /** one file per gear: <confDir>/gear-<uuid>.conf (nginx.conf must include <confDir>/*.conf inside http {}) */
  readonly confDir: string;
  /** the nginx main config file, for `nginx -t` and `nginx -s reload` */
  readonly nginxConf: string;
  readonly nginxBinary: string;
  /** nginx -p prefix; null = nginx's compiled-in prefix */
  readonly prefix: string | null;
  /** nginx pid file when it is not set in nginxConf (passed as -g "pid <file>;"); null = from the config */
  readonly pidFile: string | null;
  /** reload command (argv) instead of `nginx -s reload`; null = nginx -s reload */
  readonly reloadCommand: readonly string[] | null;
  /** address:port (or port) the gear server blocks listen on */
  readonly listen: string;
  /** ip:port of the unidler (node/frontend/unidler.ts) that idle gears' routes go to */
  readonly idleStarter: string;
  /** HTTPS beside HTTP for every gear's server block; null = HTTP only */
  readonly tls: FrontendTlsConfig | null;
}

/**
 * The frontend's HTTPS listener: every gear's host names are also served on `listen` with one certificate,
 * normally the platform's wildcard `*.<cloudDomain>` (components/certificate). HTTP keeps answering.
 */
export interface FrontendTlsConfig {
  /** address:port (or port) of the TLS listener; not the port of `listen` */
  readonly listen: string;
  /** PEM certificate chain file (absolute; the leaf first), read by nginx's master as root */
  readonly certificate: string;
  /** PEM private key file (absolute; should be 0600 root) */
  readonly key: string;
  /** offer HTTP/2 by ALPN (`listen … ssl http2`, nginx ≥ 1.9.5; Debian 12 has 1.22) */
  readonly http2: boolean;
}

export interface NodeConfig {
  /** gear homes live in <gearBaseDir>/<uuid> */
  readonly gearBaseDir: string;
  /** node-private state (markers, locks, disk images); default <gearBaseDir>/.geartrain */
  readonly stateDir: string;
  readonly gearShell: string;
  /** GECOS of every gear account: how gears are found */
  readonly gecos: string;
  /** district UID range (inclusive) this node accepts */
  readonly district: { readonly firstUid: number; readonly maxUid: number };
  readonly cgroup: {
    readonly version: CgroupVersionSetting;
    /** name of the Geartrain group under each hierarchy root */
    readonly rootName: string;
    /** override for the cgroup filesystem root (v1: dir holding <controller>/ mounts; v2: the cgroup2 mount) */
    readonly mountRoot: string | null;
  };
  readonly disk: { readonly mode: DiskModeSetting };
  /** PAM limits directory; skipped (reported) when it does not exist */
  readonly limitsDir: string;
  readonly limitsOrder: number;
  /** prefix of gear env vars (OpenShift: OPENSHIFT_) */
  readonly envPrefix: string;
  readonly cloudDomain: string;
  readonly defaultProfile: ProfileName;
  readonly profiles: Readonly<Record<ProfileName, Profile>>;
  readonly frontend: FrontendConfig;
  /** gear network isolation (node/host/netfilter.ts): backend and the netfilter table (nft) / chain (iptables) */
  readonly network: { readonly isolation: IsolationSetting; readonly table: string };
  /** what the node's SELinux policy (node/host/selinux/policy.ts) needs to know beyond the district */
  readonly selinux: {
    /**
     * the TCP port of the node's gear git sshd (NodeHost's gitSsh.port): labelled ssh_port_t in the generated
     * module unless it is 22 (Debian's policy labels 22), since Debian's policy lets sshd_t bind only
     * ssh_port_t ports; null = no port labelled
     */
    readonly gitSshPort: number | null;
  };
}

/** What the caller asks for. */
export interface GearSpec {
  readonly uuid: string;
  readonly uid: number;
  readonly app: string;
  readonly namespace: string;
  /**
   * the application this gear belongs to: the broker's id for it (OpenShift's application uuid). Gears
   * connect (publish/subscribe) only with gears of the same id; a gear without one is an application alone.
   */
  readonly appUuid?: string;
  readonly profile: ProfileName;
  /** user env vars (name → value) */
  readonly env: Readonly<Record<string, string>>;
}

export interface Drift {
  /** what differs, e.g. "path:app-root/data.mode" or "cgroup:memory.limit_in_bytes" */
  readonly field: string;
  readonly expected: string;
  readonly actual: string;
}

export type SelinuxStatus = "enforcing" | "permissive" | "unavailable";

export interface DiskState {
  readonly mode: "quota" | "loop" | "unenforced";
  readonly enforced: boolean;
  /** enforced limit actually read back (bytes); null when unenforced */
  readonly limitBytes: number | null;
  readonly limitFiles: number | null;
  readonly detail: string;
}

export interface GearAddresses {
  readonly uid: number;
  readonly loopback: { readonly network: string; readonly first: string; readonly last: string };
  readonly ports: { readonly first: number; readonly last: number; readonly list: readonly number[] };
}

export interface NetworkState {
  readonly mode: "nftables" | "iptables" | "unavailable" | "disabled";
  /** true when this gear's rules are installed */
  readonly enforced: boolean;
  readonly detail: string;
}

export type GearPhase = "creating" | "created" | "destroying";

export interface GearState {
  readonly uuid: string;
  readonly uid: number;
  readonly phase: GearPhase | "unmanaged";
  readonly spec: GearSpec | null;
  readonly home: string;
  readonly user: { readonly exists: boolean; readonly uid: number | null; readonly gid: number | null };
  readonly selinux: {
    readonly status: SelinuxStatus;
    readonly label: string;
    readonly applied: string | null;
    /** files under the home not at the gear's file context (null: SELinux unavailable or no home) */
    readonly mislabelled: number | null;
  };
  readonly cgroup: {
    readonly version: "v1" | "v2";
    readonly paths: readonly string[];
    readonly values: Readonly<Record<string, string | null>>;
  };
  readonly disk: DiskState;
  readonly limitsFile: string | null;
  readonly addresses: GearAddresses;
  /** network isolation of the gear's loopback block (node/host/netfilter.ts) */
  readonly network: NetworkState;
  readonly processes: readonly {
    readonly pid: number;
    readonly inCgroup: boolean;
    readonly comm: string;
    /** its SELinux context (null: SELinux unavailable) */
    readonly context: string | null;
    /**
     * one of a git push session's processes outside the gear domain by design: "relay" (the forced command's
     * relay stage, in geartrain_relay_t) or "ssh-session" (sshd's session process, sshd_t running sshd); null
     * for every other process (and where SELinux is unavailable)
     */
    readonly role: "relay" | "ssh-session" | null;
  }[];
  /** each cartridge with its actual status (`bin/control status`), see node/cartridge/inspect.ts */
  readonly cartridges: readonly GearCartridgeState[];
  readonly drift: readonly Drift[];
}

/** A cartridge of a gear as inspect reports it. */
export interface GearCartridgeState {
  /** manifest Name (the directory name for an unrecorded directory) */
  readonly name: string;
  /** ~/<dir>/ in the gear */
  readonly dir: string;
  readonly vendor: string | null;
  /** software version */
  readonly version: string | null;
  readonly cartridgeVersion: string | null;
  readonly phase: "installing" | "installed" | "removing" | "unrecorded";
  /** what the last start/stop asked for */
  readonly desired: "started" | "stopped" | null;
  /** from `bin/control status`: exit 0 = started */
  readonly status: "started" | "stopped" | "unknown";
  readonly exitCode: number | null;
  readonly output: string;
}
