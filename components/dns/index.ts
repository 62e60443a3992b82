// Dns: BIND 9 on a Host, authoritative for the cloud domain, with a generated TSIG key (hmac-sha256, 32
// random bytes, a Pulumi secret) that may update the zone, A records for the infrastructure hosts, listening
// on one configurable address and port, named run as a Service. docs/platform.md.
import * as pulumi from "@pulumi/pulumi";
import { Service } from "../host";
import { REMOVE_DIRECTORY_SCRIPT, SERVICE_DIRECTORY_SCRIPT, sha256 } from "../platform-resolve";
import { attributeErrors } from "../resource-error";
import { GeneratedSecret } from "../secret";
import { DnsArgs } from "./args";
import { renderKeyFile, zoneFilePath } from "./render";
import { dnsPaths, renderDnsFiles, resolveDns } from "./resolve";

export * from "./args";
export { resolveDns, renderDnsFiles } from "./resolve";

export class Dns extends pulumi.ComponentResource {
  /** The address named answers on. */
  public readonly server: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  public readonly zone: pulumi.Output<string>;
  public readonly keyName: pulumi.Output<string>;
  /** "hmac-sha256" */
  public readonly keyAlgorithm: pulumi.Output<string>;
  /** The TSIG key's secret, base64 (a secret). */
  public readonly keySecret: pulumi.Output<string>;
  public readonly service: Service;

  constructor(name: string, args: DnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("geartrain:platform:Dns", name, {}, opts);
    const { host, ...rest } = args;
    const spec = attributeErrors(this, () => resolveDns(name, rest));
    const paths = dnsPaths(spec.directory);
    const files = renderDnsFiles(spec);
    const c = spec.namedConf;

    const key = new GeneratedSecret(`${name}-tsig-key`, { bytes: 32, encoding: "base64" }, { parent: this });
    const keyFile = pulumi.secret(
      key.secret.apply((v) => attributeErrors(this, () => renderKeyFile(c.keyName, spec.algorithm, v))),
    );
    const directory = host.commandFor(this, name, "directory", {
      create: [SERVICE_DIRECTORY_SCRIPT, 'install -d -m 0755 -- "$GT_DIR/conf"'].join("\n"),
      delete: REMOVE_DIRECTORY_SCRIPT,
      environment: {
        GT_DIR: spec.directory,
        GT_USER: spec.osUser,
        GT_SUBDIRS: "named",
        GT_SUBMODE: "0750",
        GT_FIX: "apt-get install -y bind9",
      },
    });
    const after = { dependsOn: [directory] };
    const group = `root:${spec.osUser}`;
    const written = [
      host.fileFor(
        this,
        name,
        "named-conf",
        { path: paths.conf, content: files.namedConf, mode: "0640", owner: group },
        after,
      ),
      host.fileFor(
        this,
        name,
        "key-file",
        { path: paths.keyFile, content: keyFile, mode: "0640", owner: group, secret: true },
        after,
      ),
      // named rewrites the zone file from its journal: it owns it
      host.fileFor(
        this,
        name,
        "zone-file",
        {
          path: zoneFilePath(paths.work, c.zone),
          content: files.zone,
          mode: "0644",
          owner: `${spec.osUser}:${spec.osUser}`,
        },
        after,
      ),
    ];
    this.service = new Service(
      `${name}-service`,
      {
        host,
        name: `${name}-named`,
        // -f: foreground (the supervisor's child), logging as named.conf says; -4: IPv4; -n 1: one worker
        command: [spec.named, "-f", "-4", "-n", "1", "-c", paths.conf],
        user: spec.osUser,
        workingDirectory: paths.work,
        environment: {
          GEARTRAIN_CONFIG_SHA256: sha256(files.namedConf + files.zone),
          GEARTRAIN_KEY_SHA256: pulumi.secret(keyFile.apply(sha256)),
        },
        readiness: { tcp: { address: c.address, port: c.port } },
      },
      { parent: this, dependsOn: written },
    );

    this.server = pulumi.output(c.address);
    this.port = pulumi.output(c.port);
    this.zone = pulumi.output(c.zone);
    this.keyName = pulumi.output(c.keyName);
    this.keyAlgorithm = pulumi.output(spec.algorithm);
    this.keySecret = key.secret;
    this.registerOutputs({
      server: this.server,
      port: this.port,
      zone: this.zone,
      keyName: this.keyName,
      keyAlgorithm: this.keyAlgorithm,
      keySecret: this.keySecret,
    });
  }
}
