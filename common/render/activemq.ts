// Pure, deterministic rendering of a Geartrain ActiveMQ instance's configuration (activemq.xml, the
// credentials file it reads, log4j.properties): the same spec gives the same bytes. Used by the test service
// (scripts/services/activemq.sh through test/helpers/services/activemq.ts), the bus (services/bus: user
// names) and the MessageBus component (components/messagebus). It lives in common/ because services/ and
// components/ may not import each other (eslint.config.mjs LAYER_POLICIES); one template, two users. The XML holds no password: each user's password is a ${geartrain.password.<user>} placeholder
// that Spring fills from credentials.properties (mode 0600), so the XML can be shown, diffed and snapshotted.

import { readFileSync } from "fs";
import Handlebars from "handlebars";
import * as path from "path";
import { ValidationError } from "../errors";
import { templateDir } from "../template-dir";

/** A node identity, a user name, a destination prefix: a name ActiveMQ never reads as syntax (no '.', '>', '*', ','). */
export const BUS_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9_-]{0,62})$/;

export interface ActiveMQUsers {
  /** the control plane's user (every broker process), group brokers */
  readonly broker: string;
  /** an operator's user: everything, on every destination */
  readonly admin: string;
}

export interface ActiveMQSpec {
  /** loopback or another address of this host; never 0.0.0.0 by default */
  readonly address: string;
  readonly port: number;
  /** first component of every Geartrain destination: <prefix>.node.<id>, <prefix>.reply.<broker>, <prefix>.facts.<id> */
  readonly prefix?: string;
  readonly users: ActiveMQUsers;
  /** node identities; each gets the user agentUser(identity) and a queue only it reads */
  readonly nodes: readonly string[];
  readonly brokerName?: string;
  readonly memoryMb?: number;
  readonly storeMb?: number;
  readonly tempMb?: number;
  readonly maxFrameSize?: number;
  readonly maxConnections?: number;
  readonly sendFailIfNoSpaceAfterTimeoutMs?: number;
  /**
   * STOMP over TLS (`stomp+nio+ssl`): the broker's JKS/PKCS12 key store (absolute path). Its password is a
   * `${geartrain.keystore.password}` placeholder filled from credentials.properties (renderCredentials'
   * `keyStorePassword`). null: plain STOMP, for loopback only.
   */
  readonly tls?: { readonly keyStore: string } | null;
}

export const ACTIVEMQ_DEFAULTS = {
  prefix: "geartrain",
  brokerName: "geartrain",
  memoryMb: 64,
  storeMb: 256,
  tempMb: 256,
  /** 4 MiB: a request or reply is JSON of a node operation; anything bigger is a bug or an attack */
  maxFrameSize: 4 * 1024 * 1024,
  maxConnections: 1000,
  sendFailIfNoSpaceAfterTimeoutMs: 3000,
} as const;

/** The user name of a node's agent. */
export function agentUser(identity: string): string {
  return `agent-${identity}`;
}

/** The Spring placeholder key of the TLS key store's password in credentials.properties. */
export const KEYSTORE_PASSWORD_KEY = "geartrain.keystore.password";

/** The Spring placeholder key of a user's password in credentials.properties. */
export function passwordKey(user: string): string {
  return `geartrain.password.${user}`;
}

function name(value: unknown, field: string): string {
  if (typeof value !== "string" || !BUS_NAME_PATTERN.test(value))
    throw new ValidationError(
      field,
      `must be 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit (got ${JSON.stringify(value)})`,
    );
  return value;
}

function int(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
    throw new ValidationError(field, `must be an integer in ${min}..${max} (got ${JSON.stringify(value)})`);
  return value;
}

/** Resolve defaults and validate; every error names its field. */
export function resolveActiveMQSpec(spec: ActiveMQSpec): Required<ActiveMQSpec> {
  if (typeof spec.address !== "string" || !/^(?:\d{1,3}\.){3}\d{1,3}$/.test(spec.address))
    throw new ValidationError("address", `must be an IPv4 address (got ${JSON.stringify(spec.address)})`);
  const tls = spec.tls ?? null;
  if (tls !== null && (typeof tls.keyStore !== "string" || !/^\/[A-Za-z0-9._/-]+$/.test(tls.keyStore)))
    throw new ValidationError(
      "tls.keyStore",
      `must be an absolute path (got ${JSON.stringify(tls.keyStore)})`,
    );
  const users = {
    broker: name(spec.users?.broker, "users.broker"),
    admin: name(spec.users?.admin, "users.admin"),
  };
  if (users.broker === users.admin) throw new ValidationError("users.admin", "must differ from users.broker");
  const nodes = (spec.nodes ?? []).map((n, i) => name(n, `nodes[${i}]`));
  const seen = new Set<string>([users.broker, users.admin]);
  nodes.forEach((n, i) => {
    if (seen.has(agentUser(n)))
      throw new ValidationError(`nodes[${i}]`, `${n} is listed twice or clashes with a user`);
    seen.add(agentUser(n));
  });
  const d = ACTIVEMQ_DEFAULTS;
  return {
    address: spec.address,
    port: int(spec.port, "port", 1, 65535),
    prefix: name(spec.prefix ?? d.prefix, "prefix"),
    users,
    nodes: [...nodes].sort(),
    brokerName: name(spec.brokerName ?? d.brokerName, "brokerName"),
    memoryMb: int(spec.memoryMb ?? d.memoryMb, "memoryMb", 8, 65536),
    storeMb: int(spec.storeMb ?? d.storeMb, "storeMb", 8, 1 << 20),
    tempMb: int(spec.tempMb ?? d.tempMb, "tempMb", 8, 1 << 20),
    maxFrameSize: int(spec.maxFrameSize ?? d.maxFrameSize, "maxFrameSize", 1024, 1 << 30),
    maxConnections: int(spec.maxConnections ?? d.maxConnections, "maxConnections", 1, 100000),
    sendFailIfNoSpaceAfterTimeoutMs: int(
      spec.sendFailIfNoSpaceAfterTimeoutMs ?? d.sendFailIfNoSpaceAfterTimeoutMs,
      "sendFailIfNoSpaceAfterTimeoutMs",
      1,
      600000,
    ),
    tls: tls === null ? null : { keyStore: tls.keyStore },
  };
}

/** Every user of the instance with its groups: the broker user, one per node agent, the admin. */
export function activemqUsers(spec: ActiveMQSpec): { name: string; groups: string }[] {
  const s = resolveActiveMQSpec(spec);
  return [
    { name: s.users.broker, groups: "brokers,everyone" },
    ...s.nodes.map((n) => ({ name: agentUser(n), groups: `nodes,node-${n},everyone` })),
    { name: s.users.admin, groups: "admins,brokers,everyone" },
  ];
}

let compiled: Handlebars.TemplateDelegate | null = null;

/** activemq.xml for the spec (no secrets in it). */
export function renderActiveMQXml(spec: ActiveMQSpec): string {
  const s = resolveActiveMQSpec(spec);
  if (compiled === null) {
    const dir = templateDir(__dirname, "common/render/templates", "activemq.xml.hbs");
    compiled = Handlebars.create().compile(readFileSync(path.join(dir, "activemq.xml.hbs"), "utf8"), {
      noEscape: true,
      strict: true,
    });
  }
  return compiled({
    ...s,
    users: activemqUsers(s).map((u) => ({ ...u, placeholder: `{${passwordKey(u.name)}}` })),
    nodes: s.nodes.map((identity) => ({ identity })),
    scheme: s.tls ? "stomp+nio+ssl" : "stomp+nio",
    keyStore: s.tls?.keyStore ?? "",
    keyStorePasswordPlaceholder: `\${${KEYSTORE_PASSWORD_KEY}}`,
    purgePeriodMs: 60000,
    expirePeriodMs: 5000,
    replyGcMs: 300000,
    // a client that asks for no heart-beat is still dropped after 60 s of silence
    defaultHeartBeat: "60000,0",
  });
}

/** A value escaped for a Java .properties file (ISO 8859-1 with \uXXXX escapes). */
export function propertiesValue(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    const c = value.charCodeAt(i); // UTF-16 code units, as Java's \uXXXX escapes are
    if ("\\=:#!".includes(ch)) out += `\\${ch}`;
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, "0")}`;
    else if (ch === " " && i === 0) out += "\\ ";
    else out += ch;
  }
  return out;
}

/** credentials.properties: one password per user of the spec (all required). Secret: write it 0600. */
export function renderCredentials(
  spec: ActiveMQSpec,
  passwords: Readonly<Record<string, string>>,
  keyStorePassword?: string,
): string {
  const lines = ["# Geartrain message bus passwords (secret; read by activemq.xml's placeholders)"];
  for (const u of activemqUsers(spec)) {
    const pw = passwords[u.name];
    if (typeof pw !== "string" || pw.length < 12)
      throw new ValidationError(`passwords.${u.name}`, "must be a string of at least 12 characters");
    // Spring resolves placeholders inside the values it reads too
    if (pw.includes("${")) throw new ValidationError(`passwords.${u.name}`, "must not contain '${'");
    lines.push(`${passwordKey(u.name)}=${propertiesValue(pw)}`);
  }
  if (resolveActiveMQSpec(spec).tls !== null) {
    if (
      typeof keyStorePassword !== "string" ||
      keyStorePassword.length < 6 ||
      keyStorePassword.includes("${")
    )
      throw new ValidationError("keyStorePassword", "must be a string of at least 6 characters without '${'");
    lines.push(`${KEYSTORE_PASSWORD_KEY}=${propertiesValue(keyStorePassword)}`);
  }
  return lines.join("\n") + "\n";
}

/** log4j.properties (Debian's ActiveMQ logs through log4j 1.2): INFO to <data>/activemq.log, nothing on the console. */
export function renderLog4j(): string {
  return [
    "log4j.rootLogger=INFO, logfile",
    "log4j.logger.org.springframework=WARN",
    "log4j.logger.org.apache.xbean=WARN",
    "log4j.appender.logfile=org.apache.log4j.FileAppender",
    "log4j.appender.logfile.file=${activemq.data}/activemq.log",
    "log4j.appender.logfile.append=true",
    "log4j.appender.logfile.layout=org.apache.log4j.PatternLayout",
    "log4j.appender.logfile.layout.ConversionPattern=%d | %-5p | %m | %c | %t%n",
    "",
  ].join("\n");
}
