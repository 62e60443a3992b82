// Types of the Datastore component: the control plane's PostgreSQL (Debian's server binaries, a cluster of
// its own in its own directory, never the distribution's default cluster).
import * as pulumi from "@pulumi/pulumi";
import type { Host } from "../host";

export interface DatastoreArgs {
  /** The host the server runs on. */
  readonly host: Host;
  /**
   * The cluster's directory (absolute): `conf/` (postgresql.conf, pg_hba.conf), `data/`, `run/` (socket),
   * `log/`. Removed on destroy.
   * @default "/var/lib/geartrain/datastore/<name>"
   */
  readonly directory?: string;
  /** The one address the server listens on: where the brokers reach it. @default "127.0.0.1" */
  readonly address?: string;
  /** TCP port (not PostgreSQL's 5432: a machine's own server keeps it). @default 15432 */
  readonly port?: number;
  /**
   * Addresses of the broker hosts: the only ones pg_hba lets log in (as `user`, to `database`, SCRAM).
   * @default [address]
   */
  readonly clients?: readonly string[];
  /** The database the brokers use. @default "geartrain" */
  readonly database?: string;
  /** The login role that owns it; its password is generated once and kept secret. @default "geartrain" */
  readonly user?: string;
  /** OS user the server runs as (Debian's package creates `postgres`). @default "postgres" */
  readonly osUser?: string;
  /** Debian's server binaries. @default "/usr/lib/postgresql/15/bin" */
  readonly pgBin?: string;
  /** @default 100 */
  readonly maxConnections?: number;
  /** @default 128 */
  readonly sharedBuffersMb?: number;
}

export const DATASTORE_DEFAULTS = {
  directoryRoot: "/var/lib/geartrain/datastore",
  address: "127.0.0.1",
  port: 15432,
  database: "geartrain",
  user: "geartrain",
  osUser: "postgres",
  pgBin: "/usr/lib/postgresql/15/bin",
  maxConnections: 100,
  sharedBuffersMb: 128,
} as const;

/** What the Datastore gives the brokers. */
export interface DatastoreConnection {
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly database: pulumi.Output<string>;
  readonly user: pulumi.Output<string>;
  /** Secret. */
  readonly password: pulumi.Output<string>;
}
