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

/** Roles that exactly one host must carry (no HA for these services yet). */
export const SINGLETON_ROLES = [
  "broker",
  "msgserver",
  "datastore",
  "nameserver",
] as const satisfies readonly HostRole[];

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
  readonly roles: readonly HostRole[];
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

/** The validated value of `geartrain:platform`. */
export interface PlatformConfig {
  readonly domain: string;
  readonly hosts: readonly HostConfig[];
  /** @default [] */
  readonly districts: readonly DistrictConfig[];
}
