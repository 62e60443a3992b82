// TypeScript mirror of platform.schema.json: the shape of `geartrain:platform` AFTER validation (defaults
// applied). The schema is the source of truth; test/unit/stacks/config.test.ts proves both list the same
// fields and enum values, so a change to one without the other fails the build.
import { GEAR_PROFILES, type GearProfile } from "../../common/profiles";

/** Stack config key of the structured platform object. */
export const PLATFORM_CONFIG_KEY = "geartrain:platform";

/** Secret stack config key holding the SSH private key (PEM/OpenSSH) used for every `ssh` host. */
export const SSH_PRIVATE_KEY_CONFIG_KEY = "geartrain:sshPrivateKey";

/** Platform roles a host can carry. */
export const HOST_ROLES = ["broker", "msgserver", "datastore", "nameserver", "node"] as const;
export type HostRole = (typeof HOST_ROLES)[number];

/** Roles that exactly one host must carry (no HA for these services yet). Brokers: one or more. */
export const SINGLETON_ROLES = [
  "msgserver",
  "datastore",
  "nameserver",
] as const satisfies readonly HostRole[];

/** Roles at least one host must carry. */
export const REQUIRED_ROLES = ["broker", "node"] as const satisfies readonly HostRole[];

/** Stack config key of a provided certificate chain (PEM), when `certificate.source` is `provided`. */
export const TLS_CERTIFICATE_CONFIG_KEY = "geartrain:tlsCertificate";

/** Secret stack config key of a provided certificate's private key (PEM). */
export const TLS_PRIVATE_KEY_CONFIG_KEY = "geartrain:tlsPrivateKey";

/** The ports a topology names, one per listening role. */
export const PORT_ROLES = [
  "broker",
  "msgserver",
  "datastore",
  "nameserver",
  "nodeHttp",
  "nodeHttps",
  "nodeSsh",
] as const;
export type PortRole = (typeof PORT_ROLES)[number];

/** Which host role listens on which ports. */
export const PORTS_OF_ROLE: Readonly<Record<HostRole, readonly PortRole[]>> = {
  broker: ["broker"],
  msgserver: ["msgserver"],
  datastore: ["datastore"],
  nameserver: ["nameserver"],
  node: ["nodeHttp", "nodeHttps", "nodeSsh"],
};

/** TCP ports by role (defaults applied). */
export interface PortsConfig {
  /** @default 18080 */
  readonly broker: number;
  /** @default 16163 */
  readonly msgserver: number;
  /** @default 15432 */
  readonly datastore: number;
  /** @default 10053 */
  readonly nameserver: number;
  /** @default 10080 */
  readonly nodeHttp: number;
  /** @default 10443 */
  readonly nodeHttps: number;
  /** @default 10022 */
  readonly nodeSsh: number;
}

export const CERTIFICATE_SOURCES = ["self-signed", "provided"] as const;
export type CertificateSource = (typeof CERTIFICATE_SOURCES)[number];

export interface BusConfig {
  /** STOMP over TLS; required when a broker or node is on another host than the bus. @default false */
  readonly tls: boolean;
}

export interface CertificateConfig {
  /** @default "self-signed" */
  readonly source: CertificateSource;
}

/** Gear profiles (sizes) a district can hold: the node config's vocabulary too. */
export { GEAR_PROFILES, type GearProfile };

/** Commands run on the machine running `pulumi`. */
export interface LocalConnection {
  readonly type: "local";
}

/** Commands run over SSH; the private key comes from the secret {@link SSH_PRIVATE_KEY_CONFIG_KEY}. */
export interface SshConnection {
  readonly type: "ssh";
  /** IPv4 address or DNS host name. */
  readonly address: string;
  /** @default 22 */
  readonly port: number;
  /** @default "root" */
  readonly user: string;
  /** Pinned OpenSSH public host key line `<type> <base64> [comment]`. */
  readonly hostKey: string;
  /** Seconds per connection attempt. @default 15 */
  readonly perDialTimeout: number;
  /** Failed attempts tolerated, -1 = unlimited. @default 10 */
  readonly dialErrorLimit: number;
}

export type HostConnection = LocalConnection | SshConnection;

export interface HostConfig {
  readonly name: string;
  readonly connection: HostConnection;
  /**
   * IPv4 address where the host's roles listen and the others reach it (its DNS record).
   * @default "127.0.0.1" for a local host; the connection address for an ssh host (required when that is a
   * DNS name)
   */
  readonly address: string;
  readonly roles: readonly HostRole[];
  /** Ports of this host only, over the top-level `ports`. */
  readonly ports?: Partial<PortsConfig>;
}

/** Inclusive UID range; min < max. */
export interface UidRange {
  readonly min: number;
  readonly max: number;
}

export interface DistrictConfig {
  readonly name: string;
  readonly profile: GearProfile;
  readonly uidRange: UidRange;
  /** Names of hosts with role node. @default [] */
  readonly nodes: readonly string[];
}

/**
 * An application the stack declares on its platform (`apps[]`): a BrokerDomain for its domain and an
 * Application, made as the admin user once the platform is up; with `source`, an AppSource pushes that
 * directory of the checkout to it.
 */
export interface AppConfig {
  /** The broker's application name: `^[a-z][a-z0-9]{0,31}$`. */
  readonly name: string;
  /** The namespace: `^[a-z][a-z0-9]{0,15}$`. */
  readonly domain: string;
  /** `<name>-<version>`, e.g. `nodejs-20`. */
  readonly webCartridge: string;
  /** Embedded cartridges, e.g. `postgresql-15`. @default [] */
  readonly cartridges: readonly string[];
  /** @default "small" */
  readonly gearProfile: GearProfile;
  /** Plain variables (the file is tracked: no secrets). @default {} */
  readonly env: Readonly<Record<string, string>>;
  /** A directory of the checkout, relative to the project root, pushed to the app's git repository. */
  readonly source?: string;
}

/** The validated value of `geartrain:platform`. */
export interface PlatformConfig {
  readonly domain: string;
  readonly hosts: readonly HostConfig[];
  readonly ports: PortsConfig;
  readonly bus: BusConfig;
  readonly certificate: CertificateConfig;
  /** @default [] */
  readonly districts: readonly DistrictConfig[];
  /** @default [] */
  readonly apps: readonly AppConfig[];
}
