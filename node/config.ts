// Node configuration: compiled-in defaults, overlaid by a JSON file (/etc/geartrain/node.json, or the path in
// GEARTRAIN_NODE_CONFIG). Profiles follow OpenShift's shipped resource_limits.conf (reference §3.2) except the
// CPU weight: OpenShift ships cpu.shares 128 for every size; our contract is ~20% of a CPU against a
// default-weight workload, i.e. weight 25 (v2) = shares 256 (v1) against 100 / 1024. That holds because each
// gear's group is a sibling of the host's own entities (host/cgroups/layout.ts).

import { readFileSync } from "fs";
import * as path from "path";
import { ValidationError } from "../common/errors";
import { DEFAULT_ENV_PREFIX } from "../common/env-names";
import type { FrontendConfig, FrontendTlsConfig, IsolationSetting, NodeConfig, Profile } from "./types";
import { PROFILE_PATTERN } from "./validate";
import type { GearProfile } from "../common/profiles";

export const DEFAULT_CONFIG_PATH = "/etc/geartrain/node.json";
export const CONFIG_ENV = "GEARTRAIN_NODE_CONFIG";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** The limits of each platform profile (common/profiles.ts); a node config may add its own profiles. */
export const DEFAULT_PROFILES: Readonly<Record<GearProfile, Profile>> = {
  small: {
    memoryBytes: 512 * MiB,
    swapBytes: 100 * MiB,
    pids: 250,
    cpuWeight: 25,
    cpuMax: 2,
    diskBytes: 1 * GiB,
    diskFiles: 80000,
  },
  medium: {
    memoryBytes: 1 * GiB,
    swapBytes: 100 * MiB,
    pids: 2142,
    cpuWeight: 25,
    cpuMax: 2,
    diskBytes: 2 * GiB,
    diskFiles: 160000,
  },
  large: {
    memoryBytes: 2 * GiB,
    swapBytes: 100 * MiB,
    pids: 2142,
    cpuWeight: 25,
    cpuMax: 3,
    diskBytes: 4 * GiB,
    diskFiles: 320000,
  },
};

export function defaultConfig(): NodeConfig {
  const gearBaseDir = "/var/lib/geartrain";
  return {
    gearBaseDir,
    stateDir: path.join(gearBaseDir, ".geartrain"),
    gearShell: "/bin/bash",
    gecos: "Geartrain gear",
    district: { firstUid: 1000, maxUid: 6999 },
    cgroup: { version: "auto", rootName: "geartrain", mountRoot: null },
    disk: { mode: "auto" },
    limitsDir: "/etc/security/limits.d",
    limitsOrder: 84,
    envPrefix: DEFAULT_ENV_PREFIX,
    cloudDomain: "example.com",
    defaultProfile: "small",
    profiles: DEFAULT_PROFILES,
    frontend: DEFAULT_FRONTEND,
    network: { isolation: "auto", table: "geartrain" },
    selinux: { gitSshPort: null },
  };
}

export const DEFAULT_FRONTEND: FrontendConfig = {
  confDir: "/etc/nginx/geartrain.d",
  nginxConf: "/etc/nginx/nginx.conf",
  nginxBinary: "/usr/sbin/nginx",
  prefix: null,
  pidFile: null,
  reloadCommand: null,
  listen: "0.0.0.0:80",
  idleStarter: "127.0.0.1:8099",
  tls: null,
};

/** nginx listen: "port", "a.b.c.d:port", "*:port" or "[v6]:port". */
const LISTEN_PATTERN = /^(?:(?:(?:[0-9]{1,3}\.){3}[0-9]{1,3}|\*|\[[0-9a-f:]+\]):)?[0-9]{1,5}$/;
/** Paths that end up inside nginx directives: absolute, and nothing nginx would parse as syntax. */
const NGINX_SAFE_PATH = /^\/[A-Za-z0-9._/@+-]*$/;

function nginxPath(v: unknown, field: string): string {
  const p = absPath(v, field);
  if (!NGINX_SAFE_PATH.test(p))
    throw new ValidationError(`config.${field}`, "must match ^/[A-Za-z0-9._/@+-]*$");
  return p;
}

function listenPort(listen: string): number {
  return Number(listen.split(":").pop());
}

function parseListen(v: unknown, field: string): string {
  if (typeof v !== "string" || !LISTEN_PATTERN.test(v) || listenPort(v) < 1 || listenPort(v) > 65535) {
    throw new ValidationError(`config.${field}`, 'must be "port" or "address:port"');
  }
  return v;
}

const TLS_KEYS = ["listen", "certificate", "key", "http2"];

/** frontend.tls: null/absent = HTTP only; else {listen, certificate, key, http2?}, all but http2 required. */
function parseFrontendTls(v: unknown, listen: string): FrontendTlsConfig | null {
  if (v === undefined || v === null) return null;
  if (!isObj(v))
    throw new ValidationError("config.frontend.tls", "must be an object {listen, certificate, key}");
  for (const k of Object.keys(v)) {
    if (!TLS_KEYS.includes(k))
      throw new ValidationError(`config.frontend.tls.${k}`, `unknown key (allowed: ${TLS_KEYS.join(", ")})`);
  }
  for (const k of ["listen", "certificate", "key"]) {
    if (v[k] === undefined) throw new ValidationError(`config.frontend.tls.${k}`, "is required");
  }
  const tlsListen = parseListen(v.listen, "frontend.tls.listen");
  if (listenPort(tlsListen) === listenPort(listen)) {
    throw new ValidationError(
      "config.frontend.tls.listen",
      `must use another port than frontend.listen (${listen}): one port cannot speak both HTTP and HTTPS`,
    );
  }
  const certificate = nginxPath(v.certificate, "frontend.tls.certificate");
  const key = nginxPath(v.key, "frontend.tls.key");
  if (key === certificate)
    throw new ValidationError("config.frontend.tls.key", "must be another file than tls.certificate");
  if (v.http2 !== undefined && typeof v.http2 !== "boolean")
    throw new ValidationError("config.frontend.tls.http2", "must be a boolean");
  return { listen: tlsListen, certificate, key, http2: v.http2 ?? true };
}

function parseFrontend(v: unknown): FrontendConfig {
  const d = DEFAULT_FRONTEND;
  if (v === undefined) return d;
  if (!isObj(v)) throw new ValidationError("config.frontend", "must be an object");
  const keys = Object.keys(d);
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) throw new ValidationError(`config.frontend.${k}`, "unknown key");
  }
  const opt = (k: "prefix" | "pidFile") =>
    v[k] === undefined ? d[k] : v[k] === null ? null : nginxPath(v[k], `frontend.${k}`);
  const listen = parseListen(v.listen ?? d.listen, "frontend.listen");
  const idleStarter = v.idleStarter ?? d.idleStarter;
  const m =
    typeof idleStarter === "string"
      ? /^((?:[0-9]{1,3}\.){3}[0-9]{1,3}):([0-9]{1,5})$/.exec(idleStarter)
      : null;
  if (!m || m[1].split(".").some((o) => Number(o) > 255) || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw new ValidationError("config.frontend.idleStarter", 'must be "a.b.c.d:port"');
  }
  let reloadCommand = d.reloadCommand;
  if (v.reloadCommand !== undefined && v.reloadCommand !== null) {
    const rc = v.reloadCommand;
    if (
      !Array.isArray(rc) ||
      rc.length === 0 ||
      rc.some((a) => typeof a !== "string" || a.includes("\0")) ||
      !path.isAbsolute(rc[0] as string)
    ) {
      throw new ValidationError(
        "config.frontend.reloadCommand",
        "must be an argv array starting with an absolute path",
      );
    }
    reloadCommand = rc as string[];
  }
  return {
    confDir: v.confDir !== undefined ? nginxPath(v.confDir, "frontend.confDir") : d.confDir,
    nginxConf: v.nginxConf !== undefined ? nginxPath(v.nginxConf, "frontend.nginxConf") : d.nginxConf,
    nginxBinary: v.nginxBinary !== undefined ? absPath(v.nginxBinary, "frontend.nginxBinary") : d.nginxBinary,
    prefix: opt("prefix"),
    pidFile: opt("pidFile"),
    reloadCommand,
    listen,
    idleStarter: idleStarter as string,
    tls: parseFrontendTls(v.tls, listen),
  };
}

function parseNetwork(v: unknown, d: NodeConfig["network"]): NodeConfig["network"] {
  if (v === undefined) return d;
  if (!isObj(v)) throw new ValidationError("config.network", "must be an object");
  for (const k of Object.keys(v)) {
    if (k !== "isolation" && k !== "table") throw new ValidationError(`config.network.${k}`, "unknown key");
  }
  const isolation = v.isolation ?? d.isolation;
  if (!["auto", "nftables", "iptables", "none"].includes(isolation as string)) {
    throw new ValidationError("config.network.isolation", 'must be "auto", "nftables", "iptables" or "none"');
  }
  const table = v.table ?? d.table;
  if (typeof table !== "string" || !/^[a-z][a-z0-9_]{0,23}$/.test(table)) {
    throw new ValidationError("config.network.table", "must match ^[a-z][a-z0-9_]{0,23}$");
  }
  return { isolation: isolation as IsolationSetting, table };
}

function parseSelinux(v: unknown, d: NodeConfig["selinux"]): NodeConfig["selinux"] {
  if (v === undefined) return d;
  if (!isObj(v)) throw new ValidationError("config.selinux", "must be an object");
  for (const k of Object.keys(v)) {
    if (k !== "gitSshPort")
      throw new ValidationError(`config.selinux.${k}`, "unknown key (allowed: gitSshPort)");
  }
  const port = v.gitSshPort ?? d.gitSshPort;
  if (port !== null && (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new ValidationError("config.selinux.gitSshPort", "must be null or an integer port 1..65535");
  }
  return { gitSshPort: port };
}

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function posInt(v: unknown, field: string, min = 1): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new ValidationError(`config.${field}`, `must be an integer ≥ ${min}`);
  }
  return v;
}

function absPath(v: unknown, field: string): string {
  if (typeof v !== "string" || !path.isAbsolute(v) || v.includes("\0") || /[\n\r]/.test(v)) {
    throw new ValidationError(`config.${field}`, "must be an absolute path");
  }
  return path.normalize(v).replace(/\/+$/, "") || "/";
}

function parseProfile(name: string, v: unknown, base: Profile | undefined): Profile {
  if (!isObj(v)) throw new ValidationError(`config.profiles.${name}`, "must be an object");
  const m = { ...(base ?? {}), ...v } as Record<string, unknown>;
  const f = (k: string) => `profiles.${name}.${k}`;
  const memoryBytes = posInt(m.memoryBytes, f("memoryBytes"), 4096);
  if (memoryBytes % 4096 !== 0)
    throw new ValidationError(`config.${f("memoryBytes")}`, "must be a multiple of 4096");
  const swapBytes = posInt(m.swapBytes, f("swapBytes"), 0);
  if (swapBytes % 4096 !== 0)
    throw new ValidationError(`config.${f("swapBytes")}`, "must be a multiple of 4096");
  const cpuWeight = posInt(m.cpuWeight, f("cpuWeight"), 1);
  if (cpuWeight > 10000) throw new ValidationError(`config.${f("cpuWeight")}`, "must be 1..10000");
  const cpuMax = m.cpuMax ?? null;
  if (cpuMax !== null && (typeof cpuMax !== "number" || !(cpuMax >= 0.01) || cpuMax > 1024)) {
    throw new ValidationError(`config.${f("cpuMax")}`, "must be null or a number of CPUs in 0.01..1024");
  }
  return {
    memoryBytes,
    swapBytes,
    pids: posInt(m.pids, f("pids")),
    cpuWeight,
    cpuMax: cpuMax as number | null,
    diskBytes: posInt(m.diskBytes, f("diskBytes"), 1024 * 1024),
    diskFiles: posInt(m.diskFiles, f("diskFiles"), 16),
  };
}

const TOP_KEYS = [
  "gearBaseDir",
  "stateDir",
  "gearShell",
  "gecos",
  "district",
  "cgroup",
  "disk",
  "limitsDir",
  "limitsOrder",
  "envPrefix",
  "cloudDomain",
  "defaultProfile",
  "profiles",
  "frontend",
  "network",
  "selinux",
];

/** Overlay a parsed JSON document on the defaults and validate the result. Pure. */
export function resolveConfig(doc: unknown): NodeConfig {
  const d = defaultConfig();
  if (doc === undefined) return d;
  if (!isObj(doc)) throw new ValidationError("config", "must be a JSON object");
  for (const k of Object.keys(doc)) {
    if (!TOP_KEYS.includes(k)) throw new ValidationError(`config.${k}`, "unknown key");
  }
  const gearBaseDir = doc.gearBaseDir !== undefined ? absPath(doc.gearBaseDir, "gearBaseDir") : d.gearBaseDir;
  const stateDir =
    doc.stateDir !== undefined ? absPath(doc.stateDir, "stateDir") : path.join(gearBaseDir, ".geartrain");
  const gearShell = doc.gearShell !== undefined ? absPath(doc.gearShell, "gearShell") : d.gearShell;
  const gecos = doc.gecos ?? d.gecos;
  if (typeof gecos !== "string" || !/^[A-Za-z0-9 ._-]{1,64}$/.test(gecos)) {
    throw new ValidationError("config.gecos", "must be 1-64 of [A-Za-z0-9 ._-]");
  }
  const dist = isObj(doc.district) ? doc.district : {};
  const firstUid =
    dist.firstUid !== undefined ? posInt(dist.firstUid, "district.firstUid") : d.district.firstUid;
  const maxUid = dist.maxUid !== undefined ? posInt(dist.maxUid, "district.maxUid") : d.district.maxUid;
  if (maxUid < firstUid) throw new ValidationError("config.district.maxUid", "must be ≥ firstUid");
  if (firstUid < 500 || maxUid > 523776) {
    throw new ValidationError(
      "config.district",
      "UID range must lie within 500..523776 (ports and MCS labels)",
    );
  }
  const cg = isObj(doc.cgroup) ? doc.cgroup : {};
  const version = cg.version ?? d.cgroup.version;
  if (version !== "auto" && version !== "v1" && version !== "v2") {
    throw new ValidationError("config.cgroup.version", 'must be "auto", "v1" or "v2"');
  }
  const rootName = cg.rootName ?? d.cgroup.rootName;
  if (typeof rootName !== "string" || !/^[a-z][a-z0-9_-]{0,63}$/.test(rootName)) {
    throw new ValidationError("config.cgroup.rootName", "must match ^[a-z][a-z0-9_-]{0,63}$");
  }
  const mountRoot =
    cg.mountRoot === undefined || cg.mountRoot === null ? null : absPath(cg.mountRoot, "cgroup.mountRoot");
  const disk = isObj(doc.disk) ? doc.disk : {};
  const mode = disk.mode ?? d.disk.mode;
  if (!["auto", "quota", "loop", "none"].includes(mode as string)) {
    throw new ValidationError("config.disk.mode", 'must be "auto", "quota", "loop" or "none"');
  }
  const limitsDir = doc.limitsDir !== undefined ? absPath(doc.limitsDir, "limitsDir") : d.limitsDir;
  const limitsOrder =
    doc.limitsOrder !== undefined ? posInt(doc.limitsOrder, "limitsOrder", 0) : d.limitsOrder;
  const envPrefix = doc.envPrefix ?? d.envPrefix;
  if (typeof envPrefix !== "string" || !/^[A-Z][A-Z0-9]*_$/.test(envPrefix)) {
    throw new ValidationError("config.envPrefix", "must match ^[A-Z][A-Z0-9]*_$");
  }
  const cloudDomain = doc.cloudDomain ?? d.cloudDomain;
  if (
    typeof cloudDomain !== "string" ||
    !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(cloudDomain)
  ) {
    throw new ValidationError("config.cloudDomain", "must be a DNS name");
  }
  const profiles: Record<string, Profile> = { ...d.profiles };
  if (doc.profiles !== undefined) {
    if (!isObj(doc.profiles)) throw new ValidationError("config.profiles", "must be an object");
    for (const [name, p] of Object.entries(doc.profiles)) {
      if (!PROFILE_PATTERN.test(name))
        throw new ValidationError(`config.profiles.${name}`, "bad profile name");
      profiles[name] = parseProfile(name, p, d.profiles[name]);
    }
  }
  const defaultProfile = doc.defaultProfile ?? d.defaultProfile;
  if (typeof defaultProfile !== "string" || !profiles[defaultProfile]) {
    throw new ValidationError("config.defaultProfile", "must name a profile");
  }
  return {
    gearBaseDir,
    stateDir,
    gearShell,
    gecos,
    district: { firstUid, maxUid },
    cgroup: { version, rootName, mountRoot },
    disk: { mode: mode as NodeConfig["disk"]["mode"] },
    limitsDir,
    limitsOrder,
    envPrefix,
    cloudDomain,
    defaultProfile,
    profiles,
    frontend: parseFrontend(doc.frontend),
    network: parseNetwork(doc.network, d.network),
    selinux: parseSelinux(doc.selinux, d.selinux),
  };
}

/** Load the node config: $GEARTRAIN_NODE_CONFIG (must exist) or /etc/geartrain/node.json (optional). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const explicit = env[CONFIG_ENV];
  const file = explicit && explicit.length > 0 ? explicit : DEFAULT_CONFIG_PATH;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if (!explicit && (e as NodeJS.ErrnoException).code === "ENOENT") return defaultConfig();
    throw new ValidationError("config", `cannot read ${file}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ValidationError("config", `${file} is not valid JSON: ${(e as Error).message}`);
  }
  return resolveConfig(doc);
}
