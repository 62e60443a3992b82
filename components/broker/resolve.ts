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
import { BROKER_DEFAULTS, BrokerArgs, type BrokerTls } from "./args";

const BROKER_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const LOGIN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;
const PUBLIC_URL = /^https?:\/\/[^/\s]+$/;
const PROFILE = /^[a-z][a-z0-9-]{0,31}$/;
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug"] as const;
/** Where the plain-HTTP listener of a broker with tls is (the host's own tools). */
const LOOPBACK = "127.0.0.1";

export type BrokerStaticArgs = Omit<
  BrokerArgs,
  "host" | "release" | "datastore" | "bus" | "dns" | "admin" | "tls"
> & {
  readonly admin?: { readonly login?: string };
  /** `tls` without its certificate and key (they come from other resources). */
  readonly tls?: Omit<BrokerTls, "certificate" | "privateKey">;
};

/** HTTPS on `address:port`; plain HTTP on loopback (`local`) for the broker host's own tools. */
export interface BrokerTlsSpec {
  /** The name in `url` (the certificate must cover it). */
  readonly serverName: string;
  readonly local: { readonly host: string; readonly port: number };
}

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
  /** With HTTPS: the loopback listener and the name in `url`. */
  readonly tls?: BrokerTlsSpec;
  /** What clients use: publicUrl, else http://<address>:<port> (https://<tls.serverName>:<port> with tls) */
  readonly url: string;
  /**
   * What the broker's own host reaches, in plain HTTP: http://<address>:<port> (loopback for 0.0.0.0), with
   * tls the loopback listener http://127.0.0.1:<tls.localPort>
   */
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
  const tls = resolveTls(args.tls, address, port);
  const localUrl = tls ? `http://${tls.local.host}:${tls.local.port}` : `http://${local}:${port}`;
  const url = args.publicUrl ?? (tls ? `https://${tls.serverName}:${port}` : localUrl);
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
    ...(tls ? { tls } : {}),
    url,
    localUrl,
    // on the loopback listener with tls: it is started after the public one, so its answer means both are up
    apiUrl: `${localUrl}/broker/rest/api`,
  };
}

function resolveTls(tls: BrokerStaticArgs["tls"], address: string, port: number): BrokerTlsSpec | undefined {
  if (tls === undefined) return undefined;
  if (tls === null || typeof tls !== "object") throw new ValidationError("tls", "must be an object");
  const serverName =
    tls.serverName === undefined ? address : validateDnsName("tls.serverName", tls.serverName);
  if (serverName === "0.0.0.0")
    throw new ValidationError("tls.serverName", "is required when address is 0.0.0.0 (the name clients use)");
  const localPort = tls.localPort === undefined ? port : validatePort("tls.localPort", tls.localPort);
  if (localPort === port && (address === "0.0.0.0" || address === LOOPBACK))
    throw new ValidationError(
      "tls.localPort",
      `the loopback listener ${LOOPBACK}:${localPort} would share ${address}:${port}: give it another port`,
    );
  return { serverName, local: { host: LOOPBACK, port: localPort } };
}

/** The broker's files under its directory. */
export function brokerPaths(directory: string) {
  return {
    config: `${directory}/broker.json`,
    databasePassword: `${directory}/database.password`,
    busPassword: `${directory}/bus.password`,
    /** the bus's CA certificate (bus.tls) */
    busCa: `${directory}/bus-ca.crt`,
    /** the REST API's certificate chain and key (tls) */
    tlsCertificate: `${directory}/tls.crt`,
    tlsKey: `${directory}/tls.key`,
    dnsKey: `${directory}/tsig.key`,
    adminPassword: `${directory}/admin.password`,
  };
}
