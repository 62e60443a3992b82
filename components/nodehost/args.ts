// Types of the NodeHost component: one node host of a district. The host is prepared (packages checked,
// cgroup hierarchy checked, directories), node.json and agent.json are rendered from the node layer's and
// the agent's own types and validated with their own parsers, and the node's daemons run as Services: its
// own nginx (the HTTP frontend), its own sshd (gear git access), the unidler and the agent.
import * as pulumi from "@pulumi/pulumi";
import type { Host, Service } from "../host";
import type { GeartrainRelease } from "../release";

/** How the agent reaches the message bus: the MessageBus's endpoint and its `users["agent:<identity>"]`. */
export interface NodeHostBus {
  /** Address of the bus's STOMP connector. @example "127.0.0.1" */
  readonly host: pulumi.Input<string>;
  /** Its port. @example 16163 */
  readonly port: pulumi.Input<number>;
  /** The agent's bus user (MessageBus `users["agent:<identity>"].name`). @example "agent-node1" */
  readonly user: string;
  /** Its password (a secret): written only to a 0600 file on the host. */
  readonly password: pulumi.Input<string>;
  /**
   * STOMP over TLS (required when the bus is on another host): the agent verifies the bus's certificate.
   * @default none (plain STOMP)
   */
  readonly tls?: NodeHostBusTls;
}

/** The agent's TLS to the bus: agent.json `bus.tls` (the same shape as the Broker's `bus.tls`). */
export interface NodeHostBusTls {
  /**
   * The CA certificate(s) the bus's certificate must chain to, PEM (not secret): written to
   * `<configDirectory>/bus-ca.crt`, agent.json `bus.tls.caFile`. For a self-signed bus certificate, the
   * certificate itself; for a CA-signed one, the root CA (a leaf or an intermediate is no trust anchor).
   */
  readonly ca: pulumi.Input<string>;
  /**
   * The DNS name the bus's certificate must carry (agent.json `bus.tls.serverName`, also sent as SNI).
   * @default `host` (then the certificate must list that address)
   */
  readonly serverName?: string;
}

/**
 * HTTPS of the frontend (node/frontend `frontend.tls`): every gear's server block also listens here with
 * this certificate, normally the platform's wildcard for `*.<cloudDomain>`; HTTP keeps answering.
 */
export interface NodeHostFrontendTls {
  /** Where HTTPS listens, "a.b.c.d:port" (not the HTTP port). @example "127.0.0.1:18443" */
  readonly listen: string;
  /** The certificate chain (PEM, the leaf first). Written to `<directory>/nginx/tls/frontend.crt`. */
  readonly certificate: pulumi.Input<string>;
  /** Its private key (PEM, a secret). Written to `<directory>/nginx/tls/frontend.key`, 0600 root. */
  readonly key: pulumi.Input<string>;
  /** Offer HTTP/2 by ALPN. @default true */
  readonly http2?: boolean;
}

/** The node's own nginx: its prefix, config and pid file under the NodeHost's directory, never the system's. */
export interface NodeHostFrontend {
  /** Where the gears' HTTP server blocks listen, "address:port". @default "127.0.0.1:18081" */
  readonly listen?: string;
  /** Where the unidler listens (nginx sends idle gears' requests there), "a.b.c.d:port". @default "127.0.0.1:18099" */
  readonly idleStarter?: string;
  /** The nginx binary. @default "/usr/sbin/nginx" */
  readonly nginxBinary?: string;
  /** HTTPS beside HTTP. @default none (HTTP only) */
  readonly tls?: NodeHostFrontendTls;
}

/** The node's own sshd for gear git access (the forced command of node/deploy), never the system's sshd. */
export interface NodeHostGitSsh {
  /** Listen address. @default "127.0.0.1" */
  readonly address?: string;
  /** TCP port. @default 12222 */
  readonly port?: number;
  /** The sshd binary. @default "/usr/sbin/sshd" */
  readonly sshd?: string;
  /**
   * Its PAM service: `/etc/pam.d/<pamService>`, and the name sshd runs under (OpenSSH takes its program
   * name as the service). Two platforms on one machine need two names. `geartrain-` and lower-case letters,
   * digits and `-`. @default "geartrain-<name>-sshd"
   */
  readonly pamService?: string;
}

/** Node settings passed on to node.json (docs/node-operations.md, Configuration); unset ones keep the node's defaults. */
export interface NodeHostNodeSettings {
  /** Node-private state (markers, locks, the cartridge repository). @default "<gearBaseDir>/.geartrain" */
  readonly stateDir?: string;
  /** GECOS of every gear account (how the node finds its gears). @default "Geartrain gear" */
  readonly gecos?: string;
  /** PAM limits directory. @default "/etc/security/limits.d" */
  readonly limitsDir?: string;
  /** Prefix of the gears' cgroup names. @default "geartrain" */
  readonly cgroupRootName?: string;
  /** Gear network isolation backend. @default "auto" */
  readonly isolation?: "auto" | "nftables" | "iptables" | "none";
  /** The netfilter table (nft) / chain (iptables) of the gear rules. @default "geartrain" */
  readonly networkTable?: string;
  /** Disk limit enforcement. @default "auto" */
  readonly diskMode?: "auto" | "quota" | "loop" | "none";
}

export interface NodeHostArgs {
  /** The host the node runs on. */
  readonly host: Host;
  /** Where the Geartrain programs are on that host (the dev stack: `localRelease()`). */
  readonly release: GeartrainRelease;
  /** The node's identity on the bus and in its district (its queue is `geartrain.node.<identity>`). */
  readonly identity: string;
  /** The district this node belongs to (reported in its facts; the District registers it). */
  readonly district: string;
  /** The gear profile of the district: the node's default profile, reported in its facts. */
  readonly profile: string;
  /** The district's UID range (inclusive): the only UIDs this node creates gears with. */
  readonly uidRange: { readonly firstUid: number; readonly maxUid: number };
  /** The node's public host name (what the broker's DNS records point gears' names at). */
  readonly publicHostname: string;
  /** The platform's cloud domain: gears are `<app>-<namespace>.<cloudDomain>`. */
  readonly cloudDomain: string;
  /** How many gears may be active on this node (reported in its facts). @default 100 */
  readonly maxActiveGears?: number;
  /** The message bus, as the agent reaches it. */
  readonly bus: NodeHostBus;
  /** Gear homes live in `<gearBaseDir>/<uuid>`. @default "/var/lib/geartrain" */
  readonly gearBaseDir?: string;
  /**
   * Where node.json, agent.json and agent.password are written (a non-default one keeps a machine's own
   * /etc/geartrain alone: the agent, the unidler and the forced command find node.json through
   * GEARTRAIN_NODE_CONFIG / --config).
   * @default "/etc/geartrain"
   */
  readonly configDirectory?: string;
  /**
   * The NodeHost's own directory: `nginx/` (prefix, conf, conf.d, pid, logs, temp), `sshd/` (config, host
   * key, pid), `agent/` (the request journal). Removed on destroy.
   * @default "/var/lib/geartrain/nodehost/<name>"
   */
  readonly directory?: string;
  /** The HTTP frontend (nginx). @default {} */
  readonly frontend?: NodeHostFrontend;
  /** The gear git sshd. @default {} */
  readonly gitSsh?: NodeHostGitSsh;
  /** More node.json settings. @default {} */
  readonly node?: NodeHostNodeSettings;
  /**
   * Cartridges of the release added to the node's cartridge repository (`geartrain node cartridge repo add`).
   * @default ["cron", "nodejs", "postgresql", "python", "static"]
   */
  readonly cartridges?: readonly string[];
  /**
   * Where those cartridges are on the host.
   * @default "<the release's checkout>/cartridges" (beside bin/ of `release.entry`)
   */
  readonly cartridgeDirectory?: string;
  /** Seconds between two facts messages of the agent. @default 30 */
  readonly factsIntervalSeconds?: number;
  /** Requests the agent runs at once. @default 1 */
  readonly agentConcurrency?: number;
}

export const NODEHOST_DEFAULTS = {
  directoryRoot: "/var/lib/geartrain/nodehost",
  configDirectory: "/etc/geartrain",
  gearBaseDir: "/var/lib/geartrain",
  maxActiveGears: 100,
  listen: "127.0.0.1:18081",
  idleStarter: "127.0.0.1:18099",
  nginxBinary: "/usr/sbin/nginx",
  sshAddress: "127.0.0.1",
  sshPort: 12222,
  sshd: "/usr/sbin/sshd",
  cartridges: ["cron", "nodejs", "postgresql", "python", "static"],
  factsIntervalSeconds: 30,
  agentConcurrency: 1,
} as const;

/** The node host's Services, for a component that must start after one of them. */
export interface NodeHostServices {
  readonly nginx: Service;
  readonly sshd: Service;
  readonly unidler: Service;
  readonly agent: Service;
}
