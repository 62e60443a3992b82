// The NodeHost's pure model: NodeHostArgs validated (every error a ValidationError naming the field) with
// defaults applied, and where everything lives on the host. No Pulumi, no I/O.
import * as path from "path";
import { validateDnsName, validateIpv4 } from "../../common/dns-names";
import { ValidationError } from "../../common/errors";
import { NODE_ID_PATTERN } from "../../common/node-id";
import { GEAR_PROFILES } from "../../common/profiles";
import { validateComponentName, validateDirectory, validateInteger, validatePort } from "../platform-resolve";
import { NODEHOST_DEFAULTS, NodeHostArgs, NodeHostNodeSettings } from "./args";

const NODE_ID = new RegExp(NODE_ID_PATTERN);
/** The broker's district names (services/broker/model/validate.ts). */
const DISTRICT_NAME = /^[\w.-]{1,64}$/;
const CARTRIDGE_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const PLAIN_FILE = /^\/[A-Za-z0-9._/@+-]+$/;

/** What resolve needs of the args: the plain values (the Host, secrets and bus endpoint are the class's). */
export type NodeHostInput = Omit<NodeHostArgs, "host" | "release" | "bus"> & {
  readonly release: { readonly node: string; readonly entry: string };
  /** `tls`: whether the agent speaks TLS, and the name it checks (the CA is the class's: an Input) */
  readonly bus: { readonly user: string; readonly tls?: { readonly serverName?: string } };
};

export interface NodeHostSpec {
  readonly name: string;
  readonly identity: string;
  readonly district: string;
  readonly profile: string;
  readonly firstUid: number;
  readonly maxUid: number;
  readonly publicHostname: string;
  readonly cloudDomain: string;
  readonly maxActiveGears: number;
  readonly busUser: string;
  /** STOMP over TLS: agent.json `bus.tls` (null: plain STOMP) */
  readonly busTls: { readonly serverName?: string } | null;
  readonly gearBaseDir: string;
  readonly configDirectory: string;
  readonly directory: string;
  readonly frontend: {
    readonly listen: string;
    readonly address: string;
    readonly port: number;
    readonly idleStarter: string;
    readonly idleAddress: string;
    readonly idlePort: number;
    readonly nginxBinary: string;
    /** HTTPS (the certificate and key are the class's: secrets) */
    readonly tls: {
      readonly listen: string;
      readonly address: string;
      readonly port: number;
      readonly http2: boolean;
    } | null;
  };
  readonly gitSsh: {
    readonly address: string;
    readonly port: number;
    readonly sshd: string;
    readonly pamService?: string;
  };
  readonly node: NodeHostNodeSettings;
  /** sorted, unique */
  readonly cartridges: readonly string[];
  readonly cartridgeDirectory: string;
  readonly release: { readonly node: string; readonly entry: string };
  readonly factsIntervalMs: number;
  readonly agentConcurrency: number;
}

function pattern(field: string, value: unknown, re: RegExp): string {
  if (typeof value !== "string" || !re.test(value))
    throw new ValidationError(field, `${JSON.stringify(value)} must match ${re}`);
  return value;
}

function file(field: string, value: unknown): string {
  if (typeof value !== "string" || !PLAIN_FILE.test(value) || value.split("/").includes(".."))
    throw new ValidationError(
      field,
      `${JSON.stringify(value)} must be an absolute path of [A-Za-z0-9._/@+-], no '..'`,
    );
  return value;
}

/**
 * "a.b.c.d:port" with a port of 1024..65535, or of 1..65535 where root binds it (`privileged`: nginx's master
 * process, so a node can serve on 80 and 443).
 */
function endpoint(field: string, value: unknown, privileged = false): { address: string; port: number } {
  const m = typeof value === "string" ? /^([0-9.]+):([0-9]{1,5})$/.exec(value) : null;
  if (!m) throw new ValidationError(field, `${JSON.stringify(value)} must be "a.b.c.d:port"`);
  const port = privileged
    ? validateInteger(field, Number(m[2]), 1, 65535)
    : validatePort(field, Number(m[2]));
  return { address: validateIpv4(field, m[1]), port };
}

function nodeSettings(v: NodeHostNodeSettings | undefined): NodeHostNodeSettings {
  const n = v ?? {};
  const out: Record<string, unknown> = {};
  if (n.stateDir !== undefined) out.stateDir = validateDirectory("node.stateDir", n.stateDir);
  if (n.gecos !== undefined) out.gecos = pattern("node.gecos", n.gecos, /^[A-Za-z0-9 ._-]{1,64}$/);
  if (n.limitsDir !== undefined) out.limitsDir = validateDirectory("node.limitsDir", n.limitsDir);
  if (n.cgroupRootName !== undefined)
    out.cgroupRootName = pattern("node.cgroupRootName", n.cgroupRootName, /^[a-z][a-z0-9_-]{0,63}$/);
  if (n.isolation !== undefined) {
    if (!["auto", "nftables", "iptables", "none"].includes(n.isolation))
      throw new ValidationError("node.isolation", 'must be "auto", "nftables", "iptables" or "none"');
    out.isolation = n.isolation;
  }
  if (n.networkTable !== undefined)
    out.networkTable = pattern("node.networkTable", n.networkTable, /^[a-z][a-z0-9_]{0,23}$/);
  if (n.diskMode !== undefined) {
    if (!["auto", "quota", "loop", "none"].includes(n.diskMode))
      throw new ValidationError("node.diskMode", 'must be "auto", "quota", "loop" or "none"');
    out.diskMode = n.diskMode;
  }
  for (const k of Object.keys(n))
    if (!(k in out) && (n as Record<string, unknown>)[k] !== undefined)
      throw new ValidationError(`node.${k}`, "unknown setting");
  return out as NodeHostNodeSettings;
}

export function resolveNodeHost(name: string, args: NodeHostInput): NodeHostSpec {
  const d = NODEHOST_DEFAULTS;
  validateComponentName(name);
  const identity = pattern("identity", args.identity, NODE_ID);
  const district = pattern("district", args.district, DISTRICT_NAME);
  if (!(GEAR_PROFILES as readonly string[]).includes(args.profile as string))
    throw new ValidationError(
      "profile",
      `${JSON.stringify(args.profile)} must be one of ${GEAR_PROFILES.join(", ")}`,
    );
  const uids = args.uidRange as { firstUid?: unknown; maxUid?: unknown } | undefined;
  if (typeof uids !== "object" || uids === null)
    throw new ValidationError("uidRange", "must be {firstUid, maxUid}");
  const firstUid = validateInteger("uidRange.firstUid", uids.firstUid, 500, 523776);
  const maxUid = validateInteger("uidRange.maxUid", uids.maxUid, 500, 523776);
  if (maxUid < firstUid)
    throw new ValidationError("uidRange.maxUid", `${maxUid} must be ≥ firstUid ${firstUid}`);
  const publicHostname = validateDnsName("publicHostname", args.publicHostname);
  const cloudDomain = validateDnsName("cloudDomain", args.cloudDomain);
  if (args.bus === undefined || args.bus === null) throw new ValidationError("bus", "is missing");
  const busUser = pattern("bus.user", args.bus.user, NODE_ID);
  let busTls: NodeHostSpec["busTls"] = null;
  if (args.bus.tls !== undefined) {
    const t = args.bus.tls as unknown;
    if (typeof t !== "object" || t === null || Array.isArray(t))
      throw new ValidationError("bus.tls", `must be {ca, serverName?} (got ${JSON.stringify(t)})`);
    const serverName = (t as { serverName?: unknown }).serverName;
    busTls =
      serverName === undefined ? {} : { serverName: validateDnsName("bus.tls.serverName", serverName) };
  }
  const gearBaseDir = validateDirectory("gearBaseDir", args.gearBaseDir ?? d.gearBaseDir);
  const configDirectory = validateDirectory("configDirectory", args.configDirectory ?? d.configDirectory);
  const directory = validateDirectory("directory", args.directory ?? `${d.directoryRoot}/${name}`);
  const overlaps = (a: string, b: string) => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
  if (overlaps(configDirectory, directory))
    throw new ValidationError(
      "configDirectory",
      `${configDirectory} must not overlap directory ${directory}`,
    );
  // the default directory is inside the default gearBaseDir; the other way round is refused
  if (directory === gearBaseDir || gearBaseDir.startsWith(`${directory}/`))
    throw new ValidationError(
      "gearBaseDir",
      `${gearBaseDir} must not be or be inside directory ${directory}`,
    );
  const fe = args.frontend ?? {};
  const listen = fe.listen ?? d.listen;
  const http = endpoint("frontend.listen", listen, true);
  const idleStarter = fe.idleStarter ?? d.idleStarter;
  const idle = endpoint("frontend.idleStarter", idleStarter);
  let tls: NodeHostSpec["frontend"]["tls"] = null;
  if (fe.tls !== undefined) {
    if (typeof fe.tls !== "object" || fe.tls === null)
      throw new ValidationError("frontend.tls", "must be {listen, certificate, key, http2?}");
    const t = endpoint("frontend.tls.listen", fe.tls.listen, true);
    if (fe.tls.http2 !== undefined && typeof fe.tls.http2 !== "boolean")
      throw new ValidationError("frontend.tls.http2", "must be a boolean");
    for (const k of ["certificate", "key"] as const)
      if (fe.tls[k] === undefined || fe.tls[k] === null || fe.tls[k] === "")
        throw new ValidationError(`frontend.tls.${k}`, "is required (PEM)");
    tls = { listen: fe.tls.listen, address: t.address, port: t.port, http2: fe.tls.http2 ?? true };
  }
  const ssh = args.gitSsh ?? {};
  const gitSsh = {
    address: validateIpv4("gitSsh.address", ssh.address ?? d.sshAddress),
    port: validatePort("gitSsh.port", ssh.port ?? d.sshPort),
    sshd: file("gitSsh.sshd", ssh.sshd ?? d.sshd),
    ...(ssh.pamService !== undefined
      ? { pamService: pattern("gitSsh.pamService", ssh.pamService, /^geartrain-[a-z0-9][a-z0-9-]{0,120}$/) }
      : {}),
  };
  const taken = new Map<string, string>();
  for (const [field, a, p] of [
    ["frontend.listen", http.address, http.port],
    ...(tls ? [["frontend.tls.listen", tls.address, tls.port] as const] : []),
    ["frontend.idleStarter", idle.address, idle.port],
    ["gitSsh.port", gitSsh.address, gitSsh.port],
  ] as const) {
    const key = `${a}:${p}`;
    const other = [...taken.entries()].find(
      ([k]) => k === key || (k.endsWith(`:${p}`) && (a === "0.0.0.0" || k.startsWith("0.0.0.0:"))),
    );
    if (other) throw new ValidationError(field, `${key} is also ${other[1]}`);
    taken.set(key, field);
  }
  const release = {
    node: file("release.node", args.release?.node),
    entry: file("release.entry", args.release?.entry),
  };
  const cartridges = [...(args.cartridges ?? d.cartridges)].map((c, i) =>
    pattern(`cartridges[${i}]`, c, CARTRIDGE_NAME),
  );
  return {
    name,
    identity,
    district,
    profile: args.profile,
    firstUid,
    maxUid,
    publicHostname,
    cloudDomain,
    maxActiveGears: validateInteger("maxActiveGears", args.maxActiveGears ?? d.maxActiveGears, 0, 1000000),
    busUser,
    busTls,
    gearBaseDir,
    configDirectory,
    directory,
    frontend: {
      listen,
      address: http.address,
      port: http.port,
      idleStarter,
      idleAddress: idle.address,
      idlePort: idle.port,
      nginxBinary: file("frontend.nginxBinary", fe.nginxBinary ?? d.nginxBinary),
      tls,
    },
    gitSsh,
    node: nodeSettings(args.node),
    cartridges: [...new Set(cartridges)].sort(),
    cartridgeDirectory: validateDirectory(
      "cartridgeDirectory",
      args.cartridgeDirectory ?? path.join(path.dirname(path.dirname(release.entry)), "cartridges"),
    ),
    release,
    factsIntervalMs:
      validateInteger("factsIntervalSeconds", args.factsIntervalSeconds ?? d.factsIntervalSeconds, 1, 3600) *
      1000,
    agentConcurrency: validateInteger("agentConcurrency", args.agentConcurrency ?? d.agentConcurrency, 1, 64),
  };
}

/** Where the NodeHost keeps its files on the host. */
export function nodeHostPaths(spec: NodeHostSpec) {
  const dir = spec.directory;
  const cfg = spec.configDirectory;
  const pamService = spec.gitSsh.pamService ?? `geartrain-${spec.name}-sshd`;
  return {
    nodeJson: `${cfg}/node.json`,
    agentJson: `${cfg}/agent.json`,
    agentPassword: `${cfg}/agent.password`,
    /** the bus's CA certificate (bus.tls) */
    busCa: `${cfg}/bus-ca.crt`,
    nginx: `${dir}/nginx`,
    nginxConf: `${dir}/nginx/nginx.conf`,
    nginxConfD: `${dir}/nginx/conf.d`,
    nginxPid: `${dir}/nginx/run/nginx.pid`,
    nginxLog: `${dir}/nginx/log`,
    nginxTmp: `${dir}/nginx/tmp`,
    tlsCertificate: `${dir}/nginx/tls/frontend.crt`,
    tlsKey: `${dir}/nginx/tls/frontend.key`,
    sshd: `${dir}/sshd`,
    sshdConfig: `${dir}/sshd/sshd_config`,
    sshdHostKey: `${dir}/sshd/ssh_host_ed25519_key`,
    sshdPid: `${dir}/sshd/sshd.pid`,
    /** sshd run through a link of this name: OpenSSH takes its program name as the PAM service */
    sshdProgram: `${dir}/sshd/${pamService}`,
    pamService,
    pamFile: `/etc/pam.d/${pamService}`,
    journal: `${dir}/agent/requests`,
    stateDir: spec.node.stateDir ?? `${spec.gearBaseDir}/.geartrain`,
  };
}

export type NodeHostPaths = ReturnType<typeof nodeHostPaths>;
