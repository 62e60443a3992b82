// Types of the Dns component: BIND 9 (Debian's bind9), authoritative for the cloud domain, updated by the
// brokers with a generated TSIG key.
import type { Host } from "../host";

export interface DnsHostRecord {
  /** A fully qualified name inside the zone. @example "broker1.apps.example.test" */
  readonly name: string;
  /** Its IPv4 address. */
  readonly address: string;
}

export interface DnsArgs {
  /** The host named runs on. */
  readonly host: Host;
  /** The cloud domain the server is authoritative for. @example "apps.example.test" */
  readonly zone: string;
  /**
   * The instance's directory (absolute): `conf/` (named.conf, the key file 0640 root:bind), `named/` (working
   * directory of named: zone file, journal, log). Removed on destroy.
   * @default "/var/lib/geartrain/dns/<name>"
   */
  readonly directory?: string;
  /** The address named listens on (BIND only listens on addresses of an interface). @default "127.0.0.1" */
  readonly address?: string;
  /** UDP and TCP port (not 53: a machine's own resolver keeps it). @default 10053 */
  readonly port?: number;
  /** The TSIG key's name. @default "geartrain-update" */
  readonly keyName?: string;
  /** The nameserver's own label in the zone (its NS record). @default "ns1" */
  readonly nameserverLabel?: string;
  /** The nameserver's address for its A record. @default address */
  readonly nameserverAddress?: string;
  /** Records of the infrastructure hosts (brokers, nodes). @default [] */
  readonly hosts?: readonly DnsHostRecord[];
  /** The zone's default TTL. @default 60 */
  readonly ttl?: number;
  /** OS user named runs as (Debian's bind9 creates `bind`). @default "bind" */
  readonly osUser?: string;
  /** @default "/usr/sbin/named" */
  readonly named?: string;
}

export const DNS_DEFAULTS = {
  directoryRoot: "/var/lib/geartrain/dns",
  address: "127.0.0.1",
  port: 10053,
  keyName: "geartrain-update",
  algorithm: "hmac-sha256",
  osUser: "bind",
  named: "/usr/sbin/named",
} as const;
