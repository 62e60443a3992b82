// Types of the Broker component: the Geartrain broker (`geartrain broker run --config F`) as a Service on a
// Host, with the config file it loads and the secret files it reads. docs/platform.md, "Broker".
import type * as pulumi from "@pulumi/pulumi";
import type { Host } from "../host";
import type { GeartrainRelease } from "../release";

/** Where the broker's PostgreSQL is: the shape of a Datastore's outputs (pass the Datastore itself). */
export interface BrokerDatastoreInput {
  readonly host: pulumi.Input<string>;
  readonly port: pulumi.Input<number>;
  readonly database: pulumi.Input<string>;
  readonly user: pulumi.Input<string>;
  /** A secret. */
  readonly password: pulumi.Input<string>;
}

/**
 * STOMP over TLS to the bus (a MessageBus with `tls`): the broker verifies the bus's certificate against `ca`
 * and the name `serverName`.
 */
export interface BrokerBusTls {
  /**
   * The CA certificate(s) the bus's certificate must chain to, PEM (not secret): written to
   * `<directory>/bus-ca.crt`, broker.json `bus.tls.caFile`. For a self-signed bus certificate, the certificate
   * itself; for a CA-signed one, the root CA (a leaf or an intermediate is no trust anchor).
   */
  readonly ca: pulumi.Input<string>;
  /**
   * The DNS name the bus's certificate must carry (broker.json `bus.tls.serverName`, also sent as SNI).
   * @default `host` (then the certificate must list that address)
   */
  readonly serverName?: string;
}

/**
 * The broker's STOMP login on the message bus: a MessageBus's `address`, `port` and `users.broker`; with `tls`
 * over TLS (required when the bus is on another host).
 */
export interface BrokerBusInput {
  readonly host: pulumi.Input<string>;
  readonly port: pulumi.Input<number>;
  readonly user: pulumi.Input<string>;
  /** A secret. */
  readonly password: pulumi.Input<string>;
  /** The bus's destination prefix (MessageBusArgs.prefix). @default "geartrain" */
  readonly prefix?: pulumi.Input<string>;
  /** STOMP over TLS. @default none (plain STOMP: a bus on the broker's own host) */
  readonly tls?: BrokerBusTls;
}

/** The DNS server and the TSIG key the broker updates the cloud domain with: a Dns's outputs (pass the Dns). */
export interface BrokerDnsInput {
  readonly server: pulumi.Input<string>;
  readonly port: pulumi.Input<number>;
  readonly zone: pulumi.Input<string>;
  readonly keyName: pulumi.Input<string>;
  /** @example "hmac-sha256" */
  readonly keyAlgorithm: pulumi.Input<string>;
  /** The key's secret, base64 (a secret). */
  readonly keySecret: pulumi.Input<string>;
}

/** The bootstrap admin the broker creates at start-up when no user of that login exists. */
export interface BrokerAdminInput {
  /** @default "admin" */
  readonly login?: string;
  /**
   * The admin's password (a secret). Brokers sharing one datastore share one admin: the Platform generates
   * it once and passes it to each of them.
   * @default a GeneratedSecret child (`<name>-admin-password`)
   */
  readonly password?: pulumi.Input<string>;
}

/**
 * The REST API over HTTPS (a platform whose clients reach the broker from other hosts): the public listener
 * `address:port` serves TLS only, and a second listener in plain HTTP on `127.0.0.1:localPort` answers the
 * tools that run on the broker's own host (the readiness check, the District's CLI), which reach it over
 * loopback.
 */
export interface BrokerTls {
  /**
   * The server's certificate, then any intermediates, PEM (not secret): `<directory>/tls.crt`. It must cover
   * `serverName` and match `privateKey`.
   */
  readonly certificate: pulumi.Input<string>;
  /** Its private key, PEM (a secret): `<directory>/tls.key`, 0600 owned by `osUser`. */
  readonly privateKey: pulumi.Input<string>;
  /**
   * The DNS name clients reach the broker by (the certificate must cover it): the `url` output is
   * `https://<serverName>:<port>`.
   * @default `address`
   * @example "broker1.apps.example.com"
   */
  readonly serverName?: string;
  /**
   * The port of the plain-HTTP loopback listener on `127.0.0.1` (the `localUrl` output). It may be `port`
   * when `address` is not 127.0.0.1 or 0.0.0.0.
   * @default `port`
   */
  readonly localPort?: number;
}

export interface BrokerArgs {
  /** The host the broker runs on. */
  readonly host: Host;
  /** Where the geartrain programs are on that host (the dev stack: `localRelease()`). */
  readonly release: GeartrainRelease;
  /** The address the REST API listens on. @default "127.0.0.1" */
  readonly address?: string;
  /** The REST API's TCP port (not 8080). @default 18080 */
  readonly port?: number;
  /**
   * The base of the API's link hrefs as clients reach it (a frontend, a load balancer).
   * @default none (the request's Host header)
   * @example "https://broker.example.com"
   */
  readonly publicUrl?: string;
  /** The cloud domain applications get names in. @example "apps.example.com" */
  readonly cloudDomain: string;
  /** This broker's id on the bus and in pending operations (unique among the brokers). @default the component's name */
  readonly brokerId?: string;
  readonly datastore: BrokerDatastoreInput;
  readonly bus: BrokerBusInput;
  readonly dns: BrokerDnsInput;
  /** @default { login: "admin", password: generated } */
  readonly admin?: BrokerAdminInput;
  /**
   * The broker's directory (absolute, 0750 root:<osUser>): `broker.json` and the secret files (0640
   * root:<osUser>). Removed on destroy.
   * @default "/var/lib/geartrain/broker/<name>"
   */
  readonly directory?: string;
  /**
   * The system user the broker runs as; created (system account, no login shell) when the host lacks it,
   * and removed on destroy only if this component created it. It must be able to read the release.
   * @default "geartrain-broker"
   */
  readonly osUser?: string;
  /** The gear profile of a new application when its request names none. @default "small" */
  readonly defaultProfile?: string;
  /**
   * The port of the nodes' gear git sshd, in the apps' `git_url` and `ssh_url` (broker.json `sshPort`).
   * @default 22 (no port in the URLs)
   */
  readonly gitSshPort?: number;
  /** @default "info" */
  readonly logLevel?: "fatal" | "error" | "warn" | "info" | "debug";
  /** HTTPS for the REST API. @default none (plain HTTP on `address:port`: clients on the broker's host) */
  readonly tls?: BrokerTls;
  /** Seconds `up` waits for `GET /broker/rest/api` to answer after (re)starting the broker. @default 120 */
  readonly readinessSeconds?: number;
}

export const BROKER_DEFAULTS = {
  directoryRoot: "/var/lib/geartrain/broker",
  address: "127.0.0.1",
  port: 18080,
  adminLogin: "admin",
  osUser: "geartrain-broker",
  readinessSeconds: 120,
} as const;
