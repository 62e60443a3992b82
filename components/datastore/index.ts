// Datastore: the control plane's PostgreSQL on a Host. A cluster of its own (initdb into its directory, not
// Debian's default cluster), listening on one address where the brokers reach it, pg_hba letting only the
// broker hosts in, one database and login role whose password is generated once (a Pulumi secret), the
// server run as a Service. docs/platform.md.
import * as pulumi from "@pulumi/pulumi";
import { attributeErrors } from "../resource-error";
import { Service } from "../host";
import { GeneratedSecret } from "../secret";
import { sha256 } from "../platform-resolve";
import { DatastoreArgs } from "./args";
import { CLUSTER_SCRIPT, DATABASE_SCRIPT, renderPgHba, renderPgIdent, renderPostgresqlConf } from "./render";
import { datastorePaths, DatastoreSpec, resolveDatastore } from "./resolve";

export * from "./args";
export { resolveDatastore, datastorePaths } from "./resolve";
export type { DatastoreSpec } from "./resolve";

export class Datastore extends pulumi.ComponentResource {
  public readonly host: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  public readonly database: pulumi.Output<string>;
  public readonly user: pulumi.Output<string>;
  /** The role's password (secret). */
  public readonly password: pulumi.Output<string>;
  /** The server's Service (what a broker on the same host requires). */
  public readonly service: Service;
  /** The database and role exist (depend on this before connecting). */
  public readonly ready: pulumi.Resource;

  constructor(name: string, args: DatastoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("geartrain:platform:Datastore", name, {}, opts);
    const { host, ...rest } = args;
    const spec: DatastoreSpec = attributeErrors(this, () => resolveDatastore(name, rest));
    const paths = datastorePaths(spec);

    const secret = new GeneratedSecret(`${name}-password`, { bytes: 24 }, { parent: this });
    const cluster = host.commandFor(this, name, "cluster", {
      create: CLUSTER_SCRIPT,
      delete: 'rm -rf -- "$GT_DIR"',
      environment: { GT_DIR: spec.directory, GT_USER: spec.osUser, GT_PGBIN: spec.pgBin },
    });
    const files = {
      conf: renderPostgresqlConf(spec),
      hba: renderPgHba(spec),
      ident: renderPgIdent(spec),
    };
    const written = [
      host.fileFor(
        this,
        name,
        "postgresql-conf",
        { path: paths.conf, content: files.conf },
        { dependsOn: [cluster] },
      ),
      host.fileFor(this, name, "pg-hba", { path: paths.hba, content: files.hba }, { dependsOn: [cluster] }),
      host.fileFor(
        this,
        name,
        "pg-ident",
        { path: paths.ident, content: files.ident },
        { dependsOn: [cluster] },
      ),
    ];
    this.service = new Service(
      `${name}-service`,
      {
        host,
        name: `${name}-postgresql`,
        command: [`${spec.pgBin}/postgres`, "-D", paths.data, "-c", `config_file=${paths.conf}`],
        user: spec.osUser,
        workingDirectory: paths.data,
        // a changed config file restarts the server
        environment: { GEARTRAIN_CONFIG_SHA256: sha256(files.conf + files.hba + files.ident) },
        readiness: {
          command: [`${spec.pgBin}/pg_isready`, "-q", "-h", spec.address, "-p", String(spec.port)],
        },
        stopSignal: "INT",
        stopTimeoutSeconds: 30,
      },
      { parent: this, dependsOn: written },
    );
    const database = host.commandFor(
      this,
      name,
      "database",
      {
        create: DATABASE_SCRIPT,
        environment: {
          GT_USER: spec.osUser,
          GT_PGBIN: spec.pgBin,
          GT_RUN: paths.run,
          GT_PORT: String(spec.port),
          GT_DB: spec.database,
          GT_ROLE: spec.user,
          GT_PASSWORD: secret.secret,
        },
        secret: true,
      },
      { dependsOn: [this.service.daemon] },
    );
    this.ready = database;

    this.host = pulumi.output(spec.address);
    this.port = pulumi.output(spec.port);
    this.database = pulumi.output(spec.database);
    this.user = pulumi.output(spec.user);
    // the value once the role has it
    this.password = pulumi.secret(pulumi.all([secret.secret, database.stdout]).apply(([pw]) => pw));
    this.registerOutputs({
      host: this.host,
      port: this.port,
      database: this.database,
      user: this.user,
      password: this.password,
    });
  }
}
