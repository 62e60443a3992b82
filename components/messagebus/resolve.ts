// The MessageBus's pure model: MessageBusArgs validated (errors name the field), defaults applied, the
// ActiveMQ spec for common/render/activemq.ts and the JVM's command line.
import { ValidationError } from "../../common/errors";
import { ActiveMQSpec, activemqUsers, agentUser, resolveActiveMQSpec } from "../../common/render/activemq";
import {
  isLoopback,
  validateAccount,
  validateComponentName,
  validateDirectory,
  validateInteger,
  validatePort,
} from "../platform-resolve";
import { MESSAGEBUS_DEFAULTS, MessageBusArgs } from "./args";

export interface MessageBusSpec {
  readonly name: string;
  readonly directory: string;
  readonly activemq: Required<ActiveMQSpec>;
  /** every user: role (broker, admin, agent:<identity>) and name */
  readonly users: readonly { role: string; name: string }[];
  readonly heapMb: number;
  readonly osUser: string;
  readonly activemqHome: string;
  readonly java: string;
}

export function resolveMessageBus(name: string, args: Omit<MessageBusArgs, "host">): MessageBusSpec {
  const d = MESSAGEBUS_DEFAULTS;
  validateComponentName(name);
  const directory = validateDirectory("directory", args.directory ?? `${d.directoryRoot}/${name}`);
  const address = args.address ?? d.address;
  const port = validatePort("port", args.port ?? d.port);
  const activemq = resolveActiveMQSpec({
    address,
    port,
    prefix: args.prefix,
    users: { broker: args.brokerUser ?? d.brokerUser, admin: args.adminUser ?? d.adminUser },
    nodes: args.nodes ?? [],
    brokerName: name.replace(/-/g, "_"),
    memoryMb: args.memoryMb,
    storeMb: args.storeMb,
    tempMb: args.tempMb,
    maxFrameSize: args.maxFrameSize,
    maxConnections: args.maxConnections,
    sendFailIfNoSpaceAfterTimeoutMs: args.sendFailIfNoSpaceAfterTimeoutMs,
    tls: args.tls ? { keyStore: args.tls.keyStore } : null,
  });
  if (!isLoopback(activemq.address) && activemq.tls === null)
    throw new ValidationError(
      "tls",
      `the bus listens on ${activemq.address}, reached from other hosts: give tls (a key store) or a loopback address`,
    );
  const byName = new Map(activemqUsers(activemq).map((u) => [u.name, u]));
  const users = [
    { role: "broker", name: activemq.users.broker },
    { role: "admin", name: activemq.users.admin },
    ...activemq.nodes.map((n) => ({ role: `agent:${n}`, name: agentUser(n) })),
  ].filter((u) => byName.has(u.name));
  return {
    name,
    directory,
    activemq,
    users,
    heapMb: validateInteger("heapMb", args.heapMb ?? d.heapMb, 64, 65536),
    osUser: validateAccount("osUser", args.osUser ?? d.osUser),
    activemqHome: validateDirectory("activemqHome", args.activemqHome ?? d.activemqHome),
    java: validateDirectory("java", args.java ?? d.java),
  };
}

export function messageBusPaths(spec: MessageBusSpec) {
  return {
    conf: `${spec.directory}/conf`,
    data: `${spec.directory}/data`,
    xml: `${spec.directory}/conf/activemq.xml`,
    credentials: `${spec.directory}/conf/credentials.properties`,
    log4j: `${spec.directory}/conf/log4j.properties`,
  };
}

/** The JVM's argv (as scripts/services/activemq.sh starts it): no secret on it. */
export function activemqCommand(spec: MessageBusSpec): string[] {
  const p = messageBusPaths(spec);
  return [
    spec.java,
    `-Xms${spec.heapMb}m`,
    `-Xmx${spec.heapMb}m`,
    "-XX:+UseSerialGC",
    "-Dorg.apache.activemq.UseDedicatedTaskRunner=false",
    "--add-reads=java.xml=java.logging",
    ...[
      "java.base/java.security",
      "java.base/java.net",
      "java.base/java.lang",
      "java.base/java.util",
      "java.naming/javax.naming.spi",
      "java.base/java.util.concurrent",
      "java.base/java.util.concurrent.atomic",
    ].flatMap((m) => ["--add-opens", `${m}=ALL-UNNAMED`]),
    `-Dlog4j.configuration=file:${p.log4j}`,
    `-Dactivemq.classpath=${p.conf}`,
    `-Dactivemq.home=${spec.activemqHome}`,
    `-Dactivemq.base=${spec.directory}`,
    `-Dactivemq.conf=${p.conf}`,
    `-Dactivemq.data=${p.data}`,
    "-jar",
    `${spec.activemqHome}/bin/activemq.jar`,
    "start",
    `xbean:file:${p.xml}`,
  ];
}

/** The endpoint clients connect to. */
export function messageBusEndpoint(spec: MessageBusSpec): string {
  const a = spec.activemq;
  return `${a.tls ? "stomp+ssl" : "stomp"}://${a.address}:${a.port}`;
}
