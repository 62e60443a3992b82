// Types of the MessageBus component: the control plane's ActiveMQ (Debian's package), configured from the
// one activemq.xml template (common/render/templates/activemq.xml.hbs), STOMP only.
import * as pulumi from "@pulumi/pulumi";
import type { Host } from "../host";

export interface MessageBusTls {
  /** The broker's key store (JKS or PKCS12) on the bus host, absolute path. */
  readonly keyStore: string;
  /** Its password (a secret). */
  readonly keyStorePassword: pulumi.Input<string>;
}

export interface MessageBusArgs {
  /** The host ActiveMQ runs on. */
  readonly host: Host;
  /**
   * The instance's directory (absolute): `conf/` (activemq.xml, credentials.properties 0600,
   * log4j.properties), `data/`. Removed on destroy.
   * @default "/var/lib/geartrain/messagebus/<name>"
   */
  readonly directory?: string;
  /** The address of the STOMP connector. @default "127.0.0.1" */
  readonly address?: string;
  /** The STOMP port (not 61613: a machine's own ActiveMQ keeps it). @default 16163 */
  readonly port?: number;
  /** Node identities: each gets the user `agent-<identity>` and a queue only it reads. @default [] */
  readonly nodes?: readonly string[];
  /** The broker processes' user. @default "broker" */
  readonly brokerUser?: string;
  /** The operators' user (everything, every destination). @default "admin" */
  readonly adminUser?: string;
  /**
   * STOMP over TLS. Required when `address` is not a loopback address (the topology crosses hosts).
   * @default none (plain STOMP, loopback only)
   */
  readonly tls?: MessageBusTls;
  /** First component of every Geartrain destination. @default "geartrain" */
  readonly prefix?: string;
  /** systemUsage memory limit. @default 64 */
  readonly memoryMb?: number;
  /** systemUsage store limit. @default 256 */
  readonly storeMb?: number;
  /** systemUsage temp limit. @default 256 */
  readonly tempMb?: number;
  /** STOMP frame size cap in bytes. @default 4194304 */
  readonly maxFrameSize?: number;
  /** @default 1000 */
  readonly maxConnections?: number;
  /** A producer blocked on a full store fails after this long. @default 3000 */
  readonly sendFailIfNoSpaceAfterTimeoutMs?: number;
  /** The JVM's heap (-Xms and -Xmx). @default 256 */
  readonly heapMb?: number;
  /** OS user the JVM runs as (Debian's package creates `activemq`). @default "activemq" */
  readonly osUser?: string;
  /** Debian's ActiveMQ. @default "/usr/share/activemq" */
  readonly activemqHome?: string;
  /** The Java launcher. @default "/usr/bin/java" */
  readonly java?: string;
}

export const MESSAGEBUS_DEFAULTS = {
  directoryRoot: "/var/lib/geartrain/messagebus",
  address: "127.0.0.1",
  port: 16163,
  brokerUser: "broker",
  adminUser: "admin",
  heapMb: 256,
  osUser: "activemq",
  activemqHome: "/usr/share/activemq",
  java: "/usr/bin/java",
} as const;

/** One bus user: its name, and its password (a secret). */
export interface BusUser {
  readonly name: string;
  readonly password: pulumi.Output<string>;
}
