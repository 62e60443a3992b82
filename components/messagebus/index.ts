// MessageBus: the control plane's ActiveMQ on a Host, from Debian's package, configured from the one
// activemq.xml template (common/render): the STOMP connector only (TLS when it is reached from other
// hosts), one user per role (the brokers, each node's agent, an admin) with generated secret passwords,
// authorization limited to Geartrain's destinations, no web console, systemUsage limits, a frame size cap,
// sendFailIfNoSpaceAfterTimeout; the JVM run as a Service. docs/platform.md.
import * as pulumi from "@pulumi/pulumi";
import { renderActiveMQXml, renderCredentials, renderLog4j } from "../../common/render/activemq";
import { Service } from "../host";
import { REMOVE_DIRECTORY_SCRIPT, SERVICE_DIRECTORY_SCRIPT, sha256 } from "../platform-resolve";
import { attributeErrors } from "../resource-error";
import { GeneratedSecret } from "../secret";
import { BusUser, MessageBusArgs } from "./args";
import { activemqCommand, messageBusEndpoint, messageBusPaths, resolveMessageBus } from "./resolve";

export * from "./args";
export { resolveMessageBus, activemqCommand, messageBusEndpoint } from "./resolve";

export class MessageBus extends pulumi.ComponentResource {
  /** `stomp://<address>:<port>` (or `stomp+ssl://`). */
  public readonly endpoint: pulumi.Output<string>;
  public readonly address: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  /** One user per role: `broker`, `admin`, `agent:<identity>`; passwords are secrets. */
  public readonly users: Readonly<Record<string, BusUser>>;
  public readonly service: Service;

  constructor(name: string, args: MessageBusArgs, opts?: pulumi.ComponentResourceOptions) {
    super("geartrain:platform:MessageBus", name, {}, opts);
    const { host, ...rest } = args;
    const spec = attributeErrors(this, () => resolveMessageBus(name, rest));
    const paths = messageBusPaths(spec);

    const users: Record<string, BusUser> = {};
    for (const u of spec.users) {
      const secret = new GeneratedSecret(`${name}-password-${u.name}`, { bytes: 24 }, { parent: this });
      users[u.role] = { name: u.name, password: secret.secret };
    }
    const passwords = pulumi
      .all(Object.values(users).map((u) => pulumi.all([u.name, u.password])))
      .apply((pairs) => Object.fromEntries(pairs));
    const keyStorePassword = args.tls ? pulumi.secret(args.tls.keyStorePassword) : pulumi.output("");
    const credentials = pulumi.secret(
      pulumi
        .all([passwords, keyStorePassword])
        .apply(([pw, ks]) =>
          attributeErrors(this, () =>
            renderCredentials(spec.activemq, pw, spec.activemq.tls ? ks : undefined),
          ),
        ),
    );

    const directory = host.commandFor(this, name, "directory", {
      create: SERVICE_DIRECTORY_SCRIPT,
      delete: REMOVE_DIRECTORY_SCRIPT,
      environment: {
        GT_DIR: spec.directory,
        GT_USER: spec.osUser,
        GT_SUBDIRS: "conf data",
        GT_SUBMODE: "0750",
        GT_FIX: "apt-get install -y activemq",
      },
    });
    const xml = renderActiveMQXml(spec.activemq);
    const log4j = renderLog4j();
    const owner = `${spec.osUser}:${spec.osUser}`;
    const after = { dependsOn: [directory] };
    const written = [
      host.fileFor(this, name, "activemq-xml", { path: paths.xml, content: xml, mode: "0640", owner }, after),
      host.fileFor(this, name, "log4j", { path: paths.log4j, content: log4j, mode: "0640", owner }, after),
      host.fileFor(
        this,
        name,
        "credentials",
        { path: paths.credentials, content: credentials, mode: "0600", owner, secret: true },
        after,
      ),
    ];
    this.service = new Service(
      `${name}-service`,
      {
        host,
        name: `${name}-activemq`,
        command: activemqCommand(spec),
        user: spec.osUser,
        workingDirectory: spec.directory,
        environment: {
          // a changed file restarts the JVM (the credentials' hash is kept secret like them)
          GEARTRAIN_CONFIG_SHA256: sha256(xml + log4j),
          GEARTRAIN_CREDENTIALS_SHA256: pulumi.secret(credentials.apply(sha256)),
        },
        readiness: { tcp: { address: spec.activemq.address, port: spec.activemq.port }, attempts: 120 },
        stopTimeoutSeconds: 30,
      },
      { parent: this, dependsOn: written },
    );
    this.users = users;
    this.endpoint = pulumi.output(messageBusEndpoint(spec));
    this.address = pulumi.output(spec.activemq.address);
    this.port = pulumi.output(spec.activemq.port);
    this.registerOutputs({
      endpoint: this.endpoint,
      address: this.address,
      port: this.port,
      users: Object.fromEntries(
        Object.entries(users).map(([role, u]) => [role, { name: u.name, password: u.password }]),
      ),
    });
  }
}
