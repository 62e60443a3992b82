// The Datastore's pure model: DatastoreArgs validated (errors name the field) with defaults applied.
import { validateIpv4 } from "../../common/dns-names";
import { ValidationError } from "../../common/errors";
import {
  validateAccount,
  validateComponentName,
  validateDirectory,
  validateInteger,
  validatePort,
} from "../platform-resolve";
import { DATASTORE_DEFAULTS, DatastoreArgs } from "./args";

const SQL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface DatastoreSpec {
  readonly name: string;
  readonly directory: string;
  readonly address: string;
  readonly port: number;
  /** sorted, unique */
  readonly clients: readonly string[];
  readonly database: string;
  readonly user: string;
  readonly osUser: string;
  readonly pgBin: string;
  readonly maxConnections: number;
  readonly sharedBuffersMb: number;
}

function sqlName(field: string, value: unknown): string {
  if (typeof value !== "string" || !SQL_NAME.test(value))
    throw new ValidationError(field, `${JSON.stringify(value)} must match ${SQL_NAME}`);
  return value;
}

export function resolveDatastore(name: string, args: Omit<DatastoreArgs, "host">): DatastoreSpec {
  const d = DATASTORE_DEFAULTS;
  validateComponentName(name);
  const address = validateIpv4("address", args.address ?? d.address);
  const clients = (args.clients ?? [address]).map((c, i) => validateIpv4(`clients[${i}]`, c));
  if (clients.length === 0) throw new ValidationError("clients", "must list at least one broker address");
  const database = sqlName("database", args.database ?? d.database);
  const user = sqlName("user", args.user ?? d.user);
  const osUser = validateAccount("osUser", args.osUser ?? d.osUser);
  if (user === osUser)
    throw new ValidationError("user", `must differ from osUser '${osUser}' (the cluster's superuser)`);
  return {
    name,
    directory: validateDirectory("directory", args.directory ?? `${d.directoryRoot}/${name}`),
    address,
    port: validatePort("port", args.port ?? d.port),
    clients: [...new Set(clients)].sort(),
    database,
    user,
    osUser,
    pgBin: validateDirectory("pgBin", args.pgBin ?? d.pgBin),
    maxConnections: validateInteger("maxConnections", args.maxConnections ?? d.maxConnections, 5, 10000),
    sharedBuffersMb: validateInteger(
      "sharedBuffersMb",
      args.sharedBuffersMb ?? d.sharedBuffersMb,
      16,
      1 << 20,
    ),
  };
}

/** Where the cluster keeps its files. */
export function datastorePaths(spec: DatastoreSpec) {
  const dir = spec.directory;
  return {
    conf: `${dir}/conf/postgresql.conf`,
    hba: `${dir}/conf/pg_hba.conf`,
    ident: `${dir}/conf/pg_ident.conf`,
    data: `${dir}/data`,
    run: `${dir}/run`,
    log: `${dir}/log`,
  };
}
