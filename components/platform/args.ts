// Types of the Platform component: the validated topology (the shape stacks/validate.ts returns for
// `geartrain:platform`; components/ may not import stacks/, so it is restated here and the stack program's
// call site proves the two agree) and what the stack program hands over besides it.
import type * as pulumi from "@pulumi/pulumi";
import type { GeartrainRelease } from "../release";
import type { HostConnection } from "../host";

/** Platform roles a host can carry. */
export type PlatformRole = "broker" | "msgserver" | "datastore" | "nameserver" | "node";

/** TCP ports by role (docs/configuration.md `ports`). */
export interface PlatformPorts {
  /** The brokers' REST API. */
  readonly broker: number;
  /** The bus's STOMP connector. */
  readonly msgserver: number;
  readonly datastore: number;
  readonly nameserver: number;
  /** The node frontend's HTTP. */
  readonly nodeHttp: number;
  /** The node frontend's HTTPS. */
  readonly nodeHttps: number;
  /** The node's sshd for gear git access. */
  readonly nodeSsh: number;
}

export interface PlatformHost {
  /** Unique; the Host is `${platform}-${name}` and the host's DNS name `<name>.<domain>`. */
  readonly name: string;
  readonly connection: HostConnection;
  /** IPv4 address where the host's roles listen and the others reach it. */
  readonly address: string;
  readonly roles: readonly PlatformRole[];
  /** This host's ports over the topology's. @default {} */
  readonly ports?: Partial<PlatformPorts>;
}

export interface PlatformDistrict {
  readonly name: string;
  /** Gear profile: small, medium or large. */
  readonly profile: string;
  /** Inclusive UID range. */
  readonly uidRange: { readonly min: number; readonly max: number };
  /** Names of hosts with role node. */
  readonly nodes: readonly string[];
}

/** The validated topology (`geartrain:platform` after stacks/validate.ts). */
export interface PlatformTopology {
  /** The cloud domain. @example "apps.dev.geartrain.test" */
  readonly domain: string;
  readonly hosts: readonly PlatformHost[];
  readonly ports: PlatformPorts;
  /** STOMP over TLS. */
  readonly bus: { readonly tls: boolean };
  /** `self-signed`: generated once by the stack; `provided`: {@link PlatformArgs.certificate}. */
  readonly certificate: { readonly source: "self-signed" | "provided" };
  readonly districts: readonly PlatformDistrict[];
}

/** A certificate the user provides (`certificate.source: provided`). */
export interface ProvidedCertificate {
  /** The certificate chain, PEM, leaf first; must cover `*.<domain>`. */
  readonly certificate: pulumi.Input<string>;
  /** Its private key, PEM (a secret). */
  readonly privateKey: pulumi.Input<string>;
  /**
   * The root CA certificate (PEM) the bus's clients trust when `bus.tls` is on: Node takes only a trust
   * anchor, never a CA-signed leaf or an intermediate (stack config `geartrain:tlsCaCertificate`).
   * @default `certificate` itself (right for a self-signed certificate, or a chain that ends in its root)
   */
  readonly ca?: pulumi.Input<string>;
}

/**
 * Settings of every node host that belong to the machine rather than the topology (stack config
 * `geartrain:node`): a second platform on the same machine (a test's) takes names of its own, so its gears,
 * cgroups and netfilter rules never mix with the first one's.
 */
export interface PlatformNodeSettings {
  /** Where each node's unidler listens, on 127.0.0.1 (nginx sends idle gears' requests there). @default 10099 */
  readonly idlePort?: number;
  /** GECOS of every gear account (how a node finds its gears). @default "Geartrain gear" */
  readonly gecos?: string;
  /** Prefix of the gears' cgroup names. @default "geartrain" */
  readonly cgroupRootName?: string;
  /** The netfilter table (nft) / chain (iptables) of the gear rules. @default "geartrain" */
  readonly networkTable?: string;
  /** PAM limits directory. @default "/etc/security/limits.d" */
  readonly limitsDir?: string;
  /** How many gears may be active on each node (reported in its facts). @default 100 */
  readonly maxActiveGears?: number;
  /** Seconds between two facts messages of each agent. @default 30 */
  readonly factsIntervalSeconds?: number;
  /**
   * Settings of one node host over the others, by host name (a host with role node): e.g. gear cgroup
   * names of its own where node hosts share one cgroup tree (test hosts on one machine). @default {}
   */
  readonly hosts?: Readonly<Record<string, PlatformNodeHostSettings>>;
}

/** What {@link PlatformNodeSettings.hosts} may set for one node host. */
export type PlatformNodeHostSettings = Omit<PlatformNodeSettings, "hosts" | "idlePort">;

export interface PlatformArgs {
  /** Which hosts carry which roles, where they listen, districts: the validated stack config. */
  readonly topology: PlatformTopology;
  /** The SSH private key for every `ssh` host (a secret). Required when any host connects by ssh. */
  readonly sshPrivateKey?: pulumi.Input<string>;
  /** The user's certificate and key; required when `topology.certificate.source` is `provided`. */
  readonly certificate?: ProvidedCertificate;
  /**
   * Root of Geartrain's state on every host: each daemon's directory (`<root>/datastore/...`, `bus`, `dns`)
   * and the hosts' service directory (`<root>/services`). Absolute.
   * @default "/var/lib/geartrain"
   */
  readonly dataDirectory?: string;
  /** Geartrain's configuration files on every host (node.json, broker config). @default "/etc/geartrain" */
  readonly configDirectory?: string;
  /**
   * Public keys put into the cloud-init user data (`ssh_authorized_keys`), so a VM made from it lets
   * Geartrain log in. @default []
   */
  readonly sshAuthorizedKeys?: readonly string[];
  /** Settings of every node host (stack config `geartrain:node`). @default {} */
  readonly node?: PlatformNodeSettings;
  /**
   * Where the Geartrain programs are on a host (the brokers' and agents' services run them).
   * @default an InstalledRelease of this checkout on each such host: in `<dataDirectory>/release` on a local
   * host, `/opt/geartrain` on an ssh host
   */
  readonly release?: (host: PlatformHost) => GeartrainRelease;
}

export const PLATFORM_DEFAULTS = {
  dataDirectory: "/var/lib/geartrain",
  configDirectory: "/etc/geartrain",
  /** The admin account the brokers create at start-up. */
  adminLogin: "admin",
  /** Each node's unidler, on 127.0.0.1. */
  idlePort: 10099,
} as const;
