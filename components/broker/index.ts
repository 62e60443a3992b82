// Broker: the Geartrain broker on a Host, run from a GeartrainRelease as a Service
// (`geartrain broker run --config <dir>/broker.json`) under a dedicated system user. The config is rendered
// and validated with the broker's own schema; the datastore and bus passwords, the TSIG key and the admin's
// password are secret files (0640 root:<user>, written with logging off); over TLS the bus's CA is
// `bus-ca.crt` beside them (not secret) and broker.json's `bus.tls` names it. With `tls` the REST API is
// HTTPS (`tls.crt`, and `tls.key` 0600 owned by the broker's user) and a plain-HTTP listener on 127.0.0.1
// serves the host's own tools (readiness, the District's CLI). The broker migrates its database
// at start-up and creates the admin when missing; `up` waits until `GET /broker/rest/api` answers. A changed
// config, secret or release restarts it. docs/platform.md, "Broker".
import * as pulumi from "@pulumi/pulumi";
import { validateDnsName } from "../../common/dns-names";
import { Service } from "../host";
import { sha256 } from "../platform-resolve";
import { attributeErrors } from "../resource-error";
import { GeneratedSecret } from "../secret";
import { BrokerArgs } from "./args";
import {
  DIRECTORY_SCRIPT,
  OS_USER_SCRIPT,
  readinessCommand,
  REMOVE_DIRECTORY_SCRIPT,
  REMOVE_OS_USER_SCRIPT,
  renderBrokerCertificate,
  renderBrokerConfig,
  renderBrokerKey,
  renderCaFile,
  renderBrokerKeyFile,
  renderPasswordFile,
} from "./render";
import { brokerPaths, resolveBroker } from "./resolve";

export * from "./args";
export { resolveBroker, brokerPaths } from "./resolve";
export type { BrokerSpec, BrokerStaticArgs, BrokerTlsSpec } from "./resolve";
export {
  renderBrokerCertificate,
  renderBrokerConfig,
  renderBrokerKey,
  renderCaFile,
  readinessCommand,
} from "./render";
export type { BrokerConnections } from "./render";

function dependencies(d: pulumi.ComponentResourceOptions["dependsOn"]): pulumi.Input<pulumi.Resource>[] {
  if (d === undefined) return [];
  return Array.isArray(d) ? d : [d as pulumi.Input<pulumi.Resource>];
}

export class Broker extends pulumi.ComponentResource {
  /**
   * The API's base URL (publicUrl, else http://<address>:<port>, with tls https://<tls.serverName>:<port>):
   * `geartrain login --server <url>`.
   */
  public readonly url: pulumi.Output<string>;
  /**
   * Plain HTTP on the broker's own host: http://<address>:<port> (loopback when listening on 0.0.0.0), with
   * tls the loopback listener http://127.0.0.1:<tls.localPort>. What the District's CLI uses.
   */
  public readonly localUrl: pulumi.Output<string>;
  public readonly adminLogin: pulumi.Output<string>;
  /** The admin's password (secret). */
  public readonly adminPassword: pulumi.Output<string>;
  /** The broker's Service (ready: the API answers). */
  public readonly service: Service;

  constructor(name: string, args: BrokerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("geartrain:platform:Broker", name, {}, opts);
    const { host, release, datastore, bus, dns, admin, tls, ...rest } = args;
    const spec = attributeErrors(this, () =>
      resolveBroker(name, {
        ...rest,
        admin: { login: admin?.login },
        ...(tls !== undefined ? { tls: { serverName: tls.serverName, localPort: tls.localPort } } : {}),
      }),
    );
    const paths = brokerPaths(spec.directory);
    // a bus server name is known now: checked now, before anything is declared
    attributeErrors(this, () => {
      if (bus?.tls?.serverName !== undefined) validateDnsName("bus.tls.serverName", bus.tls.serverName);
    });

    const adminPassword: pulumi.Output<string> =
      admin?.password !== undefined
        ? pulumi.secret(admin.password)
        : new GeneratedSecret(`${name}-admin-password`, { bytes: 24 }, { parent: this }).secret;

    const osUser = host.commandFor(
      this,
      name,
      "os-user",
      {
        create: OS_USER_SCRIPT,
        delete: REMOVE_OS_USER_SCRIPT,
        environment: { GT_USER: spec.osUser, GT_NODE: release.node, GT_ENTRY: release.entry },
      },
      { dependsOn: [...release.dependsOn] },
    );
    const directory = host.commandFor(
      this,
      name,
      "directory",
      {
        create: DIRECTORY_SCRIPT,
        delete: REMOVE_DIRECTORY_SCRIPT,
        environment: { GT_DIR: spec.directory, GT_USER: spec.osUser },
      },
      { dependsOn: [osUser] },
    );

    const connections = pulumi.output({
      datastore: pulumi.output({
        host: datastore.host,
        port: datastore.port,
        database: datastore.database,
        user: datastore.user,
      }),
      bus: pulumi.output({ host: bus.host, port: bus.port, user: bus.user, prefix: bus.prefix }),
      dns: pulumi.output({ server: dns.server, port: dns.port, zone: dns.zone }),
    });
    const config = connections.apply((c) =>
      attributeErrors(this, () =>
        renderBrokerConfig(spec, {
          datastore: c.datastore,
          bus: {
            host: c.bus.host,
            port: c.bus.port,
            user: c.bus.user,
            ...(c.bus.prefix !== undefined ? { prefix: c.bus.prefix } : {}),
            ...(bus.tls ? { tls: { serverName: bus.tls.serverName } } : {}),
          },
          dns: c.dns,
        }),
      ),
    );
    const secretOf = (field: string, value: pulumi.Input<string>) =>
      pulumi.secret(
        pulumi.output(value).apply((v) => attributeErrors(this, () => renderPasswordFile(field, v))),
      );
    const secrets = {
      database: secretOf("datastore.password", datastore.password),
      bus: secretOf("bus.password", bus.password),
      admin: secretOf("admin.password", adminPassword),
      dnsKey: pulumi.secret(
        pulumi
          .all([dns.keyName, dns.keyAlgorithm, dns.keySecret])
          .apply(([k, a, s]) => attributeErrors(this, () => renderBrokerKeyFile(k, a, s))),
      ),
    };
    const after = { dependsOn: [directory] };
    const group = `root:${spec.osUser}`;
    const secretFile = (role: string, path: string, content: pulumi.Output<string>) =>
      host.fileFor(this, name, role, { path, content, mode: "0640", owner: group, secret: true }, after);
    // over TLS: the bus's CA (public), and a new CA restarts the broker like a new config
    const busCa = bus.tls
      ? pulumi.output(bus.tls.ca).apply((pem) => attributeErrors(this, () => renderCaFile("bus.tls.ca", pem)))
      : undefined;
    // HTTPS: the certificate (public) and its key (secret, 0600 owned by the broker's user, which reads it)
    const apiTls =
      tls && spec.tls
        ? {
            certificate: pulumi
              .output(tls.certificate)
              .apply((pem) =>
                attributeErrors(this, () => renderBrokerCertificate(pem, spec.tls!.serverName)),
              ),
            key: pulumi.secret(
              pulumi
                .all([tls.certificate, tls.privateKey])
                .apply(([pem, key]) => attributeErrors(this, () => renderBrokerKey(pem, key))),
            ),
          }
        : undefined;
    // a new CA or certificate restarts the broker like a new config
    const configHash = pulumi
      .all([config, busCa ?? "", apiTls?.certificate ?? ""])
      .apply(([c, ca, crt]) => sha256(c + ca + crt));
    const written = [
      host.fileFor(
        this,
        name,
        "config",
        { path: paths.config, content: config, mode: "0640", owner: group },
        after,
      ),
      secretFile("database-password-file", paths.databasePassword, secrets.database),
      secretFile("bus-password-file", paths.busPassword, secrets.bus),
      secretFile("dns-key-file", paths.dnsKey, secrets.dnsKey),
      secretFile("admin-password-file", paths.adminPassword, secrets.admin),
      ...(busCa
        ? [
            host.fileFor(
              this,
              name,
              "bus-ca-file",
              { path: paths.busCa, content: busCa, mode: "0640", owner: group },
              after,
            ),
          ]
        : []),
      ...(apiTls
        ? [
            host.fileFor(
              this,
              name,
              "tls-certificate-file",
              { path: paths.tlsCertificate, content: apiTls.certificate, mode: "0640", owner: group },
              after,
            ),
            host.fileFor(
              this,
              name,
              "tls-key-file",
              { path: paths.tlsKey, content: apiTls.key, mode: "0600", owner: spec.osUser, secret: true },
              after,
            ),
          ]
        : []),
    ];
    const secretHash = pulumi.secret(
      pulumi
        .all([secrets.database, secrets.bus, secrets.dnsKey, secrets.admin, apiTls?.key ?? ""])
        .apply((all) => sha256(all.join("\0"))),
    );
    this.service = new Service(
      `${name}-service`,
      {
        host,
        name: `${name}-broker`,
        command: [release.node, release.entry, "broker", "run", "--config", paths.config],
        user: spec.osUser,
        workingDirectory: spec.directory,
        environment: {
          HOME: spec.directory,
          // a changed config, secret or release restarts the broker
          GEARTRAIN_CONFIG_SHA256: configHash,
          GEARTRAIN_SECRETS_SHA256: secretHash,
          GEARTRAIN_RELEASE: release.version,
        },
        readiness: {
          command: readinessCommand(release.node, spec),
          attempts: spec.readinessSeconds,
          intervalSeconds: 1,
        },
        stopTimeoutSeconds: 30,
      },
      // what the component depends on (the datastore, bus and DNS services) is up before the broker starts
      { parent: this, dependsOn: [...written, ...release.dependsOn, ...dependencies(opts?.dependsOn)] },
    );

    this.url = pulumi.all([pulumi.output(spec.url), this.service.daemon.urn]).apply(([u]) => u);
    this.localUrl = pulumi.all([pulumi.output(spec.localUrl), this.service.daemon.urn]).apply(([u]) => u);
    this.adminLogin = pulumi.output(spec.adminLogin);
    this.adminPassword = pulumi.secret(
      pulumi.all([adminPassword, this.service.daemon.urn]).apply(([pw]) => pw),
    );
    this.registerOutputs({
      url: this.url,
      localUrl: this.localUrl,
      adminLogin: this.adminLogin,
      adminPassword: this.adminPassword,
    });
  }
}
