// The Broker's rendered files, pure: broker.json (validated with the very schema the broker loads it with,
// common/config/broker-config.ts; keys in a fixed order, so the same inputs give the same bytes), the secret
// files' content, the REST API's certificate and key files (tls), the readiness command and the host scripts (values come as environment, never in the text).
import { validateBrokerConfig, type BrokerConfig } from "../../common/config/broker-config";
import { dnsNameProblem, validateDnsName, validateIpv4 } from "../../common/dns-names";
import { ValidationError } from "../../common/errors";
import { parseCertificateChain, parseKeyPair } from "../../common/pem";
import { renderKeyFile } from "../dns/render";
import { renderCaFile } from "../platform-resolve";
import { brokerPaths, BrokerSpec } from "./resolve";

/** The non-secret connection values of the datastore, bus and DNS server, once known. */
export interface BrokerConnections {
  readonly datastore: { host: string; port: number; database: string; user: string };
  readonly bus: {
    host: string;
    port: number;
    user: string;
    prefix?: string;
    /** over TLS: the name the bus's certificate is checked against (the CA is a file, busCa) */
    tls?: { serverName?: string };
  };
  readonly dns: { server: string; port: number; zone: string };
}

function hostName(field: string, value: unknown): string {
  if (typeof value === "string" && /^[0-9.]+$/.test(value)) return validateIpv4(field, value);
  const problem = typeof value === "string" ? dnsNameProblem(value) : "must be a string";
  if (problem !== null) throw new ValidationError(field, `${JSON.stringify(value)}: ${problem}`);
  return value as string;
}

function anyPort(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535)
    throw new ValidationError(field, `must be an integer in 1..65535 (got ${JSON.stringify(value)})`);
  return value;
}

function nonEmpty(field: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 63)
    throw new ValidationError(field, `must be a name of 1..63 characters (got ${JSON.stringify(value)})`);
  return value;
}

/** broker.json: every connection value checked (errors name `datastore.host`, ...), then the schema. */
export function renderBrokerConfig(spec: BrokerSpec, c: BrokerConnections): string {
  const p = brokerPaths(spec.directory);
  const zone = hostName("dns.zone", c.dns.zone);
  if (zone !== spec.cloudDomain && !spec.cloudDomain.endsWith(`.${zone}`))
    throw new ValidationError("dns.zone", `${zone} does not hold the cloud domain ${spec.cloudDomain}`);
  const doc: BrokerConfig = {
    listen: {
      host: spec.address,
      port: spec.port,
      ...(spec.tls
        ? {
            tls: { certificateFile: p.tlsCertificate, keyFile: p.tlsKey },
            local: { host: spec.tls.local.host, port: spec.tls.local.port },
          }
        : {}),
    },
    ...(spec.publicUrl !== undefined ? { publicUrl: spec.publicUrl } : {}),
    cloudDomain: spec.cloudDomain,
    brokerId: spec.brokerId,
    database: {
      host: hostName("datastore.host", c.datastore.host),
      port: anyPort("datastore.port", c.datastore.port),
      database: nonEmpty("datastore.database", c.datastore.database),
      user: nonEmpty("datastore.user", c.datastore.user),
      passwordFile: p.databasePassword,
    },
    bus: {
      host: hostName("bus.host", c.bus.host),
      port: anyPort("bus.port", c.bus.port),
      user: nonEmpty("bus.user", c.bus.user),
      passwordFile: p.busPassword,
      ...(c.bus.prefix !== undefined ? { prefix: c.bus.prefix } : {}),
      ...(c.bus.tls !== undefined
        ? {
            tls: {
              caFile: p.busCa,
              ...(c.bus.tls.serverName !== undefined
                ? { serverName: validateDnsName("bus.tls.serverName", c.bus.tls.serverName) }
                : {}),
            },
          }
        : {}),
    },
    dns: {
      server: hostName("dns.server", c.dns.server),
      port: anyPort("dns.port", c.dns.port),
      zone,
      keyFile: p.dnsKey,
    },
    admin: { login: spec.adminLogin, passwordFile: p.adminPassword },
    ...(spec.defaultProfile !== undefined ? { defaultProfile: spec.defaultProfile } : {}),
    ...(spec.gitSshPort !== undefined ? { sshPort: spec.gitSshPort } : {}),
    ...(spec.logLevel !== undefined ? { logLevel: spec.logLevel } : {}),
  };
  return `${JSON.stringify(validateBrokerConfig(doc), null, 2)}\n`;
}

export { renderCaFile };

/**
 * The REST API's certificate file (`tls.crt`, not secret): the chain's certificates only (common/pem.ts),
 * the leaf covering `serverName` (a DNS name, or an IP address in its IP names). Errors name `tls.certificate`.
 */
export function renderBrokerCertificate(pem: unknown, serverName: string): string {
  const chain = parseCertificateChain("tls.certificate", pem);
  const leaf = chain.certificates[0]!;
  const covered = /^[0-9.]+$/.test(serverName)
    ? leaf.checkIP(serverName) !== undefined
    : leaf.checkHost(serverName) !== undefined;
  if (!covered)
    throw new ValidationError(
      "tls.certificate",
      `does not cover ${serverName}, the name clients reach the broker by (${leaf.subjectAltName ?? leaf.subject})`,
    );
  return chain.pem;
}

/**
 * The REST API's key file (`tls.key`, secret): the one PEM private key, which must be the certificate's.
 * Errors name `tls.privateKey` and never quote it.
 */
export function renderBrokerKey(certificatePem: unknown, keyPem: unknown): string {
  return parseKeyPair({ certificate: "tls.certificate", key: "tls.privateKey" }, certificatePem, keyPem).pem;
}

/** A password file: the value on the first line (the broker reads that line). */
export function renderPasswordFile(field: string, password: string): string {
  if (typeof password !== "string" || password.length === 0 || /[\r\n]/.test(password))
    throw new ValidationError(field, "must be a non-empty single line");
  return `${password}\n`;
}

/** The TSIG key file, in tsig-keygen's format (the Dns component's renderer). */
export function renderBrokerKeyFile(keyName: string, algorithm: string, secret: string): string {
  return renderKeyFile(keyName, algorithm, secret);
}

/** Exits 0 when `GET <url>` answers 200 (Node's fetch: no curl needed on the host). */
const READY_SCRIPT =
  "fetch(process.argv[1],{headers:{accept:'application/json'},signal:AbortSignal.timeout(3000)})" +
  ".then((r)=>process.exit(r.status===200?0:1),()=>process.exit(1))";

export function readinessCommand(node: string, spec: BrokerSpec): string[] {
  return [node, "-e", READY_SCRIPT, spec.apiUrl];
}

/**
 * Creates the broker's system user when the host lacks it (prints `created`, so delete removes only a user
 * it made) and checks that it can run the release. Env: GT_USER, GT_NODE, GT_ENTRY.
 */
export const OS_USER_SCRIPT = [
  'if id -u "$GT_USER" >/dev/null 2>&1; then state=existing; else',
  '  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$GT_USER"',
  "  state=created",
  "fi",
  'for f in "$GT_NODE" "$GT_ENTRY"; do',
  '  runuser -u "$GT_USER" -- test -r "$f" || { echo "$GT_USER cannot read $f: make the release readable (chmod o+rX on its directories)" >&2; exit 1; }',
  "done",
  'echo "$state"',
].join("\n");

export const REMOVE_OS_USER_SCRIPT =
  'if [ "${PULUMI_COMMAND_STDOUT:-}" = created ] && id -u "$GT_USER" >/dev/null 2>&1; then userdel "$GT_USER"; fi';

/** The broker's directory, 0750 root:<user>. Env: GT_DIR, GT_USER. */
export const DIRECTORY_SCRIPT = 'install -d -m 0750 -o root -g "$GT_USER" -- "$GT_DIR"';
export const REMOVE_DIRECTORY_SCRIPT = 'rm -rf -- "$GT_DIR"';
