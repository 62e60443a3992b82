// The Broker's pure model: the args known before any child exists (listen address, names, paths, the admin
// login) validated, each error a ValidationError naming the field, with the defaults applied. The values
// that come from other components (datastore, bus, dns) are checked when the config is rendered (render.ts).
import { validateDnsName, validateIpv4 } from "../../common/dns-names";
import { ValidationError } from "../../common/errors";
import {
  validateAccount,
  validateComponentName,
  validateDirectory,
  validateInteger,
  validatePort,
} from "../platform-resolve";
import { BROKER_DEFAULTS, BrokerArgs } from "./args";

const BROKER_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const LOGIN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;
const PUBLIC_URL = /^https?:\/\/[^/\s]+$/;
const PROFILE = /^[a-z][a-z0-9-]{0,31}$/;
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug"] as const;

export type BrokerStaticArgs = Omit<
  BrokerArgs,
  "host" | "release" | "datastore" | "bus" | "dns" | "admin"
> & {
  readonly admin?: { readonly login?: string };
};

export interface BrokerSpec {
  readonly name: string;
  readonly directory: string;
  readonly address: string;
  readonly port: number;
  readonly publicUrl?: string;
  readonly cloudDomain: string;
  readonly brokerId: string;
  readonly adminLogin: string;
  readonly osUser: string;
  readonly defaultProfile?: string;
  readonly gitSshPort?: number;
  readonly logLevel?: (typeof LOG_LEVELS)[number];
  readonly readinessSeconds: number;
  /** What clients use: publicUrl, else http://<address>:<port> */
  readonly url: string;
  /** http://<address>:<port>, loopback for 0.0.0.0: what the broker's own host reaches */
  readonly localUrl: string;
  /** What the readiness check asks (on the broker's host) */
  readonly apiUrl: string;
}

export function resolveBroker(name: string, args: BrokerStaticArgs): BrokerSpec {
  const d = BROKER_DEFAULTS;
  validateComponentName(name);
  const address = validateIpv4("address", args.address ?? d.address);
  const port = validatePort("port", args.port ?? d.port);
  if (
    args.publicUrl !== undefined &&
    (typeof args.publicUrl !== "string" || !PUBLIC_URL.test(args.publicUrl))
  )
    throw new ValidationError(
      "publicUrl",
      `${JSON.stringify(args.publicUrl)} must be http(s)://host[:port], no path`,
    );
  const brokerId = args.brokerId ?? name;
  if (typeof brokerId !== "string" || !BROKER_ID.test(brokerId))
    throw new ValidationError("brokerId", `${JSON.stringify(brokerId)} must match ${BROKER_ID}`);
  const adminLogin = args.admin?.login ?? d.adminLogin;
  if (typeof adminLogin !== "string" || !LOGIN.test(adminLogin))
    throw new ValidationError("admin.login", `${JSON.stringify(adminLogin)} must match ${LOGIN}`);
  if (
    args.defaultProfile !== undefined &&
    (typeof args.defaultProfile !== "string" || !PROFILE.test(args.defaultProfile))
  )
    throw new ValidationError(
      "defaultProfile",
      `${JSON.stringify(args.defaultProfile)} must match ${PROFILE}`,
    );
  if (args.logLevel !== undefined && !LOG_LEVELS.includes(args.logLevel))
    throw new ValidationError(
      "logLevel",
      `must be one of ${LOG_LEVELS.join(", ")} (got ${JSON.stringify(args.logLevel)})`,
    );
  const osUser = validateAccount("osUser", args.osUser ?? d.osUser);
  if (osUser === "root") throw new ValidationError("osUser", "must be a dedicated system user, not root");
  // the readiness check asks the API where it listens; 0.0.0.0 is answered on loopback
  const local = address === "0.0.0.0" ? "127.0.0.1" : address;
  return {
    name,
    directory: validateDirectory("directory", args.directory ?? `${d.directoryRoot}/${name}`),
    address,
    port,
    ...(args.publicUrl !== undefined ? { publicUrl: args.publicUrl } : {}),
    cloudDomain: validateDnsName("cloudDomain", args.cloudDomain, { minLabels: 2 }),
    brokerId,
    adminLogin,
    osUser,
    ...(args.defaultProfile !== undefined ? { defaultProfile: args.defaultProfile } : {}),
    ...(args.gitSshPort !== undefined
      ? { gitSshPort: validateInteger("gitSshPort", args.gitSshPort, 1, 65535) }
      : {}),
    ...(args.logLevel !== undefined ? { logLevel: args.logLevel } : {}),
    readinessSeconds: validateInteger(
      "readinessSeconds",
      args.readinessSeconds ?? d.readinessSeconds,
      5,
      3600,
    ),
    url: args.publicUrl ?? `http://${local}:${port}`,
    localUrl: `http://${local}:${port}`,
    apiUrl: `http://${local}:${port}/broker/rest/api`,
  };
}

/** The broker's files under its directory. */
export function brokerPaths(directory: string) {
  return {
    config: `${directory}/broker.json`,
    databasePassword: `${directory}/database.password`,
    busPassword: `${directory}/bus.password`,
    /** the bus's CA certificate (bus.tls) */
    busCa: `${directory}/bus-ca.crt`,
    dnsKey: `${directory}/tsig.key`,
    adminPassword: `${directory}/admin.password`,
  };
}
