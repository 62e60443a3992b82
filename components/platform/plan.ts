// The Platform's pure plan: from the validated topology to each component's arguments: who listens where,
// which clients pg_hba lets in, which agent users the bus has, which A records the zone carries, which node
// is in which district, the broker URL, the children's names. No Pulumi, no I/O; unit-tested alone.
import { ValidationError } from "../../common/errors";
import { childName } from "../host/resolve";
import {
  COMPONENT_NAME_MAX,
  isLoopback,
  sha256,
  validateComponentName,
  validateDirectory,
} from "../platform-resolve";
import type { HostConnection } from "../host";
import {
  PLATFORM_DEFAULTS,
  type PlatformHost,
  type PlatformPorts,
  type PlatformRole,
  type PlatformTopology,
} from "./args";

export interface HostPlan {
  readonly name: string;
  /** The Host component's name: `${platform}-${name}`. */
  readonly resource: string;
  readonly connection: HostConnection;
  readonly address: string;
  /** `<name>.<domain>`: its A record. */
  readonly fqdn: string;
  readonly roles: readonly PlatformRole[];
  readonly ports: PlatformPorts;
}

export interface DatastorePlan {
  readonly resource: string;
  readonly host: string;
  readonly directory: string;
  readonly address: string;
  readonly port: number;
  /** The broker hosts' addresses: pg_hba's only `host` lines. Sorted, unique. */
  readonly clients: readonly string[];
}

export interface MessageBusPlan {
  readonly resource: string;
  readonly host: string;
  readonly directory: string;
  readonly address: string;
  readonly port: number;
  /** STOMP over TLS with the platform certificate (a key store made on the bus host). */
  readonly tls: boolean;
  /** The key store's path on the bus host, when `tls`. */
  readonly keyStore: string | null;
  /** Node identities: each gets the user `agent-<identity>`. Sorted. */
  readonly nodes: readonly string[];
}

export interface DnsPlan {
  readonly resource: string;
  readonly host: string;
  readonly directory: string;
  readonly address: string;
  readonly port: number;
  readonly zone: string;
  /** One A record per host of the platform (`<host>.<domain>`), in topology order. */
  readonly records: readonly { readonly name: string; readonly address: string }[];
}

export interface CertificatePlan {
  readonly resource: string;
  readonly source: "self-signed" | "provided";
  /** `*.<domain>`. */
  readonly commonName: string;
  /** Subject alternative names: `*.<domain>`, `<domain>`. */
  readonly dnsNames: readonly string[];
}

export interface BrokerPlan {
  readonly resource: string;
  readonly host: string;
  readonly address: string;
  readonly port: number;
  /**
   * HTTPS with the platform certificate under the name `fqdn` (the topology crosses hosts and the broker's
   * address is not loopback), a plain-HTTP listener on `127.0.0.1:<port>` for the host's own tools; else
   * plain HTTP on `address:port`.
   */
  readonly tls: boolean;
  /** `<host>.<domain>`: the name in its URL with tls, which the wildcard certificate covers. */
  readonly fqdn: string;
  /** How clients reach it: `https://<fqdn>:<port>` with tls, else `http://<address>:<port>`. */
  readonly url: string;
}

export interface NodePlan {
  readonly resource: string;
  readonly host: string;
  /** The node's identity on the bus and in the broker (`agent-<identity>`). */
  readonly identity: string;
  readonly address: string;
  /** `<host>.<domain>`: what app CNAMEs point to. */
  readonly publicHostname: string;
  readonly district: string;
  readonly profile: string;
  /** The district's UID range. */
  readonly uidRange: { readonly min: number; readonly max: number };
  readonly http: number;
  readonly https: number;
  readonly ssh: number;
  /** The NodeHost's own directory: `<dataDirectory>/node`. */
  readonly directory: string;
  /** Gear homes: `<dataDirectory>/gears`. */
  readonly gearBaseDir: string;
  /** Where its unidler listens: `127.0.0.1:<idlePort>`. */
  readonly idleStarter: string;
  /** Its gear git sshd's PAM service: `geartrain-<host>-<8 hex of sha256(dataDirectory)>-sshd`. */
  readonly pamService: string;
}

export interface DistrictPlan {
  readonly resource: string;
  readonly name: string;
  readonly profile: string;
  readonly uidRange: { readonly min: number; readonly max: number };
  /** Node identities. */
  readonly nodes: readonly string[];
}

export interface PlatformPlan {
  readonly name: string;
  readonly domain: string;
  /** More than one host: services are reached over the network (TLS for the bus and the brokers). */
  readonly crossesHosts: boolean;
  readonly dataDirectory: string;
  readonly configDirectory: string;
  /** Each Host's service directory (`<dataDirectory>/services`). */
  readonly serviceDirectory: string;
  readonly hosts: readonly HostPlan[];
  readonly datastore: DatastorePlan;
  readonly messageBus: MessageBusPlan;
  readonly dns: DnsPlan;
  readonly certificate: CertificatePlan;
  /** The one admin password all brokers share: its GeneratedSecret's name. */
  readonly adminPassword: string;
  readonly adminLogin: string;
  readonly brokers: readonly BrokerPlan[];
  /** The first broker's URL (the platform has no load balancer in front of its brokers yet). */
  readonly brokerUrl: string;
  readonly nodes: readonly NodePlan[];
  readonly districts: readonly DistrictPlan[];
}

export interface PlanOptions {
  /** @default "/var/lib/geartrain" */
  readonly dataDirectory?: string;
  /** @default "/etc/geartrain" */
  readonly configDirectory?: string;
  /** Each node's unidler port on 127.0.0.1. @default 10099 */
  readonly idlePort?: number;
}

/**
 * The plan of platform `name` for `topology`. Throws a ValidationError naming the field when the topology
 * breaks a rule the components rely on (stacks/validate.ts reports these for a stack config, all at once).
 */
export function planPlatform(
  name: string,
  topology: PlatformTopology,
  options: PlanOptions = {},
): PlatformPlan {
  validateComponentName(name);
  const dataDirectory = validateDirectory(
    "dataDirectory",
    options.dataDirectory ?? PLATFORM_DEFAULTS.dataDirectory,
  );
  const configDirectory = validateDirectory(
    "configDirectory",
    options.configDirectory ?? PLATFORM_DEFAULTS.configDirectory,
  );
  const idlePort = options.idlePort ?? PLATFORM_DEFAULTS.idlePort;
  if (!Number.isInteger(idlePort) || idlePort < 1024 || idlePort > 65535)
    throw new ValidationError("node.idlePort", `must be a TCP port from 1024 to 65535 (got ${idlePort})`);
  const domain = topology.domain;
  const child = (role: string) => childName(name, role);
  // a child that is a component itself must have a component's name (at most 30 characters)
  const component = (field: string, role: string): string => {
    const resource = child(role);
    try {
      return validateComponentName(resource);
    } catch {
      throw new ValidationError(
        field,
        `makes the component name "${resource}", longer than a component name may be (${COMPONENT_NAME_MAX} ` +
          "characters): shorten it, or the platform's name",
      );
    }
  };
  const names = new Set<string>();
  const hosts: HostPlan[] = topology.hosts.map((h, i) => {
    if (names.has(h.name))
      throw new ValidationError(`topology.hosts[${i}].name`, `"${h.name}" is used twice`);
    names.add(h.name);
    return {
      name: h.name,
      resource: component(`topology.hosts[${i}].name`, h.name),
      connection: h.connection,
      address: h.address,
      fqdn: `${h.name}.${domain}`,
      roles: [...h.roles],
      ports: { ...topology.ports, ...h.ports },
    };
  });
  const carriers = (role: PlatformRole) => hosts.filter((h) => h.roles.includes(role));
  const one = (role: PlatformRole): HostPlan => {
    const found = carriers(role);
    if (found.length !== 1)
      throw new ValidationError("topology.hosts", `exactly one host must carry ${role} (${found.length} do)`);
    return found[0]!;
  };
  const brokerHosts = carriers("broker");
  const nodeHosts = carriers("node");
  if (brokerHosts.length === 0) throw new ValidationError("topology.hosts", "no host carries broker");
  if (nodeHosts.length === 0) throw new ValidationError("topology.hosts", "no host carries node");
  const crossesHosts = hosts.length > 1;

  const db = one("datastore");
  const busHost = one("msgserver");
  const ns = one("nameserver");
  const datastore: DatastorePlan = {
    resource: child("datastore"),
    host: db.name,
    directory: `${dataDirectory}/datastore`,
    address: db.address,
    port: db.ports.datastore,
    clients: [...new Set(brokerHosts.map((b) => b.address))].sort(),
  };
  const messageBus: MessageBusPlan = {
    resource: child("bus"),
    host: busHost.name,
    directory: `${dataDirectory}/bus`,
    address: busHost.address,
    port: busHost.ports.msgserver,
    tls: topology.bus.tls,
    keyStore: topology.bus.tls ? `${dataDirectory}/bus-tls/keystore.p12` : null,
    nodes: nodeHosts.map((n) => n.name).sort(),
  };
  const dns: DnsPlan = {
    resource: child("dns"),
    host: ns.name,
    directory: `${dataDirectory}/dns`,
    address: ns.address,
    port: ns.ports.nameserver,
    zone: domain,
    records: hosts.map((h) => ({ name: h.fqdn, address: h.address })),
  };
  const certificate: CertificatePlan = {
    resource: child("certificate"),
    source: topology.certificate.source,
    commonName: `*.${domain}`,
    dnsNames: [`*.${domain}`, domain],
  };
  const brokers: BrokerPlan[] = brokerHosts.map((h) => {
    const index = topology.hosts.findIndex((t) => t.name === h.name);
    // reached from other hosts: HTTPS on the host's address, plain HTTP on its loopback (same port); a
    // broker on a loopback address is reached from its own host only, in plain HTTP
    const tls = crossesHosts && !isLoopback(h.address);
    return {
      resource: component(`topology.hosts[${index}].name`, `broker-${h.name}`),
      host: h.name,
      address: h.address,
      port: h.ports.broker,
      tls,
      fqdn: h.fqdn,
      url: tls ? `https://${h.fqdn}:${h.ports.broker}` : `http://${h.address}:${h.ports.broker}`,
    };
  });

  const districtOf = new Map<string, PlatformTopology["districts"][number]>();
  topology.districts.forEach((d, i) =>
    d.nodes.forEach((n, k) => {
      const host = hosts.find((h) => h.name === n);
      if (!host?.roles.includes("node"))
        throw new ValidationError(`topology.districts[${i}].nodes[${k}]`, `"${n}" is no host with role node`);
      if (districtOf.has(n))
        throw new ValidationError(`topology.districts[${i}].nodes[${k}]`, `"${n}" is in two districts`);
      districtOf.set(n, d);
    }),
  );
  const nodes: NodePlan[] = nodeHosts.map((h) => {
    const d = districtOf.get(h.name);
    if (!d)
      throw new ValidationError(
        "topology.districts",
        `node host "${h.name}" is in no district (its gears' UIDs and profile come from one)`,
      );
    const clash = Object.entries(h.ports).find(([, port]) => port === idlePort);
    if (clash)
      throw new ValidationError(
        "node.idlePort",
        `${idlePort} is host "${h.name}"'s ${clash[0]} port too: give the unidler another one`,
      );
    return {
      resource: component(
        `topology.hosts[${topology.hosts.findIndex((t) => t.name === h.name)}].name`,
        `node-${h.name}`,
      ),
      host: h.name,
      identity: h.name,
      address: h.address,
      publicHostname: h.fqdn,
      district: d.name,
      profile: d.profile,
      uidRange: { min: d.uidRange.min, max: d.uidRange.max },
      http: h.ports.nodeHttp,
      https: h.ports.nodeHttps,
      ssh: h.ports.nodeSsh,
      directory: `${dataDirectory}/node`,
      gearBaseDir: `${dataDirectory}/gears`,
      idleStarter: `127.0.0.1:${idlePort}`,
      pamService: `geartrain-${h.name
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, "-")
        .slice(0, 40)}-${sha256(dataDirectory).slice(0, 8)}-sshd`,
    };
  });
  const districts: DistrictPlan[] = topology.districts.map((d, i) => ({
    resource: component(`topology.districts[${i}].name`, `dist-${d.name}`),
    name: d.name,
    profile: d.profile,
    uidRange: { min: d.uidRange.min, max: d.uidRange.max },
    nodes: [...d.nodes],
  }));

  return {
    name,
    domain,
    crossesHosts,
    dataDirectory,
    configDirectory,
    serviceDirectory: `${dataDirectory}/services`,
    hosts,
    datastore,
    messageBus,
    dns,
    certificate,
    adminPassword: child("admin-password"),
    adminLogin: PLATFORM_DEFAULTS.adminLogin,
    brokers,
    brokerUrl: brokers[0]!.url,
    nodes,
    districts,
  };
}

/** The plan's host of that name (the plan only names hosts it has). */
export function hostOf(plan: PlatformPlan, name: string): HostPlan {
  const host = plan.hosts.find((h) => h.name === name);
  if (!host) throw new ValidationError("host", `no host "${name}" in the platform`);
  return host;
}

/** The topology host behind a plan host (for callbacks that take the topology's shape). */
export function topologyHost(topology: PlatformTopology, name: string): PlatformHost {
  const host = topology.hosts.find((h) => h.name === name);
  if (!host) throw new ValidationError("host", `no host "${name}" in the topology`);
  return host;
}
