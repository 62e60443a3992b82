// Pure validation of the structured stack config `geartrain:platform`: the JSON schema (ajv) first, then
// the cross-field rules a schema cannot express. No Pulumi import, so unit tests need no engine.
// Every problem is collected and reported at once, one line each: `<field path>: <what was expected>`.
import type { AnySchemaObject, ErrorObject, ValidateFunction } from "ajv/dist/2020";
import {
  createAjv,
  dedupeProblems as dedupe,
  describeValue as describe,
  EXPECTED_KEYWORD,
  fallbackExpectation,
  fieldPath as joinPath,
  isRecord,
  pointerSegments,
  propertySchema as schemaOfProperty,
} from "../common/ajv-errors";
import { deepFreeze } from "../common/deep-freeze";
import { EXIT, GeartrainError } from "../common/errors";
import platformSchema from "./schema/platform.schema.json";
import {
  GEAR_PROFILES,
  HOST_ROLES,
  PLATFORM_CONFIG_KEY,
  PORTS_OF_ROLE,
  REQUIRED_ROLES,
  SINGLETON_ROLES,
  type HostRole,
  type PlatformConfig,
} from "./schema/platform";

export * from "./schema/platform";

/** One thing wrong with the config: where, and what was expected there. */
export interface ConfigProblem {
  /** Field path such as `geartrain:platform.hosts[1].connection.hostKey`. */
  readonly path: string;
  /** Plain English: what was expected, and the fix where there is one. */
  readonly message: string;
}

/** Thrown when the stack config is invalid; `problems` lists every problem found, not just the first. */
export class ConfigError extends GeartrainError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(
      `Invalid stack config ${PLATFORM_CONFIG_KEY} (${count}):\n` +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n"),
      { kind: "invalid_config", exitCode: EXIT.INVALID, httpStatus: 400 },
    );
    this.problems = problems;
  }

  override details(): Record<string, unknown> {
    return { problems: this.problems };
  }
}

/**
 * Validates the raw value of `geartrain:platform` (as parsed from Pulumi.<stack>.yaml) and returns it with
 * defaults applied, deeply frozen. Throws {@link ConfigError} listing all problems. Does not mutate `raw`.
 */
export function validatePlatformConfig(raw: unknown): PlatformConfig {
  let data: unknown;
  try {
    data = structuredClone(raw); // ajv's useDefaults writes into the value; keep the caller's untouched
  } catch {
    throw new ConfigError([
      { path: PLATFORM_CONFIG_KEY, message: "expected plain data (objects, lists, strings, numbers)" },
    ]);
  }
  const validate = compiledSchema();
  validate(data);
  const problems = [...schemaProblems(validate.errors ?? [], data), ...crossFieldProblems(data)];
  if (problems.length > 0) throw new ConfigError(dedupe(problems));
  for (const host of listOf((data as Record<string, unknown>).hosts) as Record<string, unknown>[])
    host.address = listenAddressOf(host); // the validated value says where every host listens
  return deepFreeze(data as PlatformConfig);
}

// ---------------------------------------------------------------------------------------------------------
// Schema (ajv)

let compiled: ValidateFunction | undefined;

function compiledSchema(): ValidateFunction {
  if (!compiled) {
    const ajv = createAjv({
      useDefaults: true,
      discriminator: true, // only the matching connection branch reports errors
    });
    compiled = ajv.compile(platformSchema);
  }
  return compiled;
}

function schemaProblems(errors: readonly ErrorObject[], data: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const error of errors) {
    const segments = pointerSegments(error.instancePath, data);
    const schema = error.parentSchema ?? {};
    switch (error.keyword) {
      case "discriminator":
        // Reported by the `enum`/`required` on the same `type` field.
        continue;
      case "propertyNames":
        // Reported by the name's own `pattern` error, which says what a name must be and shows it.
        continue;
      case "required": {
        const field = String(error.params.missingProperty);
        const expected = expectedOf(propertySchema(schema, field));
        problems.push({ path: fieldPath([...segments, field]), message: `missing; expected ${expected}` });
        continue;
      }
      case "additionalProperties": {
        const field = String(error.params.additionalProperty);
        const allowed = Object.keys(schema.properties ?? {}).join(", ");
        problems.push({
          path: fieldPath([...segments, field]),
          message: `unknown field; remove it or fix its spelling (allowed here: ${allowed})`,
        });
        continue;
      }
      case "uniqueItems":
        problems.push({
          path: fieldPath(segments),
          message: `expected no duplicates, but items ${error.params.j} and ${error.params.i} are both ${describe(
            (error.data as unknown[])[error.params.i],
          )}; remove one`,
        });
        continue;
      default:
        problems.push({
          path: fieldPath(segments),
          message: `expected ${schema[EXPECTED_KEYWORD] ?? fallbackExpectation(error)} (got ${describe(error.data)})`,
        });
    }
  }
  return problems;
}

/** Schema of `field` inside an object schema, following a local `$ref` (its own keywords win). */
function propertySchema(objectSchema: AnySchemaObject, field: string): AnySchemaObject {
  return schemaOfProperty(objectSchema, field, platformSchema);
}

function expectedOf(schema: AnySchemaObject): string {
  const expected = schema[EXPECTED_KEYWORD] ?? schema.description;
  if (typeof expected === "string") return expected;
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.join(", ")}`;
  return "a value";
}

// ---------------------------------------------------------------------------------------------------------
// Cross-field rules. They read the data defensively: the schema may have failed too, and every problem
// should still be reported in the same run.

function crossFieldProblems(data: unknown): ConfigProblem[] {
  if (!isRecord(data)) return [];
  const hosts = listOf(data.hosts);
  const districts = listOf(data.districts);
  return [
    ...duplicateNames(hosts, "hosts", "host"),
    ...localConnectionLimit(hosts),
    ...duplicateSshEndpoints(hosts),
    ...hostKeyData(hosts),
    ...roleCounts(hosts),
    ...listenAddresses(hosts),
    ...reachableAcrossHosts(hosts, data.bus),
    ...endpointClashes(hosts, data.ports),
    ...duplicateNames(districts, "districts", "district"),
    ...districtNodes(districts, hosts),
    ...undistrictedNodes(districts, hosts),
    ...uidRanges(districts),
    ...duplicateApps(listOf(data.apps)),
    ...appProfiles(listOf(data.apps), districts),
  ];
}

function duplicateNames(items: readonly unknown[], list: string, what: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const firstIndex = new Map<string, number>();
  items.forEach((item, i) => {
    const name = nameOf(item);
    if (name === undefined) return;
    const first = firstIndex.get(name);
    if (first === undefined) firstIndex.set(name, i);
    else
      problems.push({
        path: fieldPath([list, i, "name"]),
        message: `expected a unique ${what} name, but "${name}" is already used by ${list}[${first}]; rename one of them`,
      });
  });
  return problems;
}

/** Two `local` hosts would be the same machine under two names. */
function localConnectionLimit(hosts: readonly unknown[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  let first: number | undefined;
  hosts.forEach((host, i) => {
    if (connectionOf(host)?.type !== "local") return;
    if (first === undefined) first = i;
    else
      problems.push({
        path: fieldPath(["hosts", i, "connection", "type"]),
        message: `expected at most one host with connection type local, but hosts[${first}] is already local; give this host an ssh connection or merge its roles into hosts[${first}]`,
      });
  });
  return problems;
}

/** Two hosts reaching the same address and port are one machine under two names. */
function duplicateSshEndpoints(hosts: readonly unknown[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const firstIndex = new Map<string, number>();
  hosts.forEach((host, i) => {
    const conn = connectionOf(host);
    if (conn?.type !== "ssh" || typeof conn.address !== "string") return;
    const endpoint = `${conn.address.toLowerCase()}:${String(conn.port)}`;
    const first = firstIndex.get(endpoint);
    if (first === undefined) firstIndex.set(endpoint, i);
    else
      problems.push({
        path: fieldPath(["hosts", i, "connection", "address"]),
        message: `expected a distinct address and port per host, but hosts[${first}] already connects to ${endpoint}; merge the two hosts or fix the address`,
      });
  });
  return problems;
}

/** The pattern checks the line's shape; this checks the base64 blob really is a key of the declared type. */
function hostKeyData(hosts: readonly unknown[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  hosts.forEach((host, i) => {
    const conn = connectionOf(host);
    if (conn?.type !== "ssh" || typeof conn.hostKey !== "string") return;
    const match = /^(\S+) ([A-Za-z0-9+/]+={0,2})(?: |$)/.exec(conn.hostKey);
    if (!match) return; // the schema pattern already reported it
    const [, keyType, base64] = match;
    if (!(keyType && base64) || keyBlobType(base64) === keyType) return;
    problems.push({
      path: fieldPath(["hosts", i, "connection", "hostKey"]),
      message: `expected key data matching its type ${keyType}, but it is damaged or of another type; copy the whole line again (e.g. /etc/ssh/ssh_host_ed25519_key.pub on the host)`,
    });
  });
  return problems;
}

/** Algorithm name embedded at the start of an SSH public key blob (RFC 4253 §6.6), if well formed. */
function keyBlobType(base64: string): string | undefined {
  const blob = Buffer.from(base64, "base64");
  if (blob.toString("base64") !== base64 || blob.length < 4) return undefined; // truncated or not canonical
  const length = blob.readUInt32BE(0);
  if (length === 0 || blob.length < 4 + length) return undefined;
  return blob.toString("latin1", 4, 4 + length);
}

/** One host for each singleton service (no HA for them yet), at least one broker and one node. */
function roleCounts(hosts: readonly unknown[]): ConfigProblem[] {
  if (hosts.length === 0) return []; // the schema reports the empty list
  const carriers = new Map<string, string[]>(HOST_ROLES.map((role) => [role, []]));
  hosts.forEach((host, i) => {
    for (const role of new Set(rolesOf(host))) carriers.get(role)?.push(nameOf(host) ?? `hosts[${i}]`);
  });
  const path = fieldPath(["hosts"]);
  const problems: ConfigProblem[] = [];
  for (const role of REQUIRED_ROLES) {
    if ((carriers.get(role) ?? []).length === 0)
      problems.push({
        path,
        message:
          role === "broker"
            ? `expected at least one host with role broker, but none has it; add "broker" to the roles of a host`
            : `expected at least one host with role node, but none has it; add "node" to the roles of a host so gears can run`,
      });
  }
  for (const role of SINGLETON_ROLES) {
    const names = carriers.get(role) ?? [];
    if (names.length === 0)
      problems.push({
        path,
        message: `expected exactly one host with role ${role}, but none has it; add "${role}" to the roles of one host`,
      });
    else if (names.length > 1)
      problems.push({
        path,
        message: `expected exactly one host with role ${role}, but ${names.length} have it (${names.join(", ")}); more than one ${role} is not supported yet, keep it on one host`,
      });
  }
  return problems;
}

/** An ssh host reached by a DNS name must say which IPv4 address its roles listen on. */
function listenAddresses(hosts: readonly unknown[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  hosts.forEach((host, i) => {
    if (!isRecord(host) || host.address !== undefined) return;
    const conn = connectionOf(host);
    if (conn?.type !== "ssh" || typeof conn.address !== "string" || /^[0-9.]+$/.test(conn.address)) return;
    problems.push({
      path: fieldPath(["hosts", i, "address"]),
      message: `missing; expected the IPv4 address this host's roles listen on, since its connection address "${conn.address}" is a DNS name`,
    });
  });
  return problems;
}

/** Who connects to a role's listener (the node frontends and the brokers' API are reached by users). */
const CLIENT_ROLES: Partial<Record<HostRole, readonly HostRole[]>> = {
  datastore: ["broker"],
  msgserver: ["broker", "node"],
  nameserver: ["broker"],
};

/**
 * A service used from another host must listen on an address that host can reach (not loopback), and the
 * bus is then reached over TLS only.
 */
function reachableAcrossHosts(hosts: readonly unknown[], bus: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  hosts.forEach((host, i) => {
    const address = listenAddressOf(host);
    const usedFrom = new Map<string, string[]>(); // role → the other hosts that use it
    for (const role of new Set(rolesOf(host))) {
      const clientRoles = CLIENT_ROLES[role as HostRole];
      if (!clientRoles) continue;
      const clients = hosts.flatMap((other, k) =>
        k !== i && rolesOf(other).some((r) => clientRoles.includes(r as HostRole))
          ? [nameOf(other) ?? `hosts[${k}]`]
          : [],
      );
      if (clients.length > 0) usedFrom.set(role, clients);
    }
    if (usedFrom.size === 0) return;
    const uses = [...usedFrom].map(([role, clients]) => `${role} from ${clients.join(", ")}`).join("; ");
    if (address !== undefined && isLoopbackAddress(address))
      problems.push({
        path: fieldPath(["hosts", i, "address"]),
        message: `expected an address the other hosts can reach, but this host listens on ${address} and is used across hosts (${uses}); set its address to one of its network addresses`,
      });
    const busClients = usedFrom.get("msgserver");
    if (busClients && !(isRecord(bus) && bus.tls === true))
      problems.push({
        path: fieldPath(["bus", "tls"]),
        message: `expected true, since the bus on host "${nameOf(host) ?? `hosts[${i}]`}" is used from ${busClients.join(", ")} (across hosts the bus is reached over TLS only); set bus.tls: true`,
      });
  });
  return problems;
}

/** No two listeners on one address and port: per host for loopback addresses, across hosts otherwise. */
function endpointClashes(hosts: readonly unknown[], ports: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, string>();
  hosts.forEach((host, i) => {
    const address = listenAddressOf(host);
    if (address === undefined || !isRecord(host)) return;
    const own = isRecord(host.ports) ? host.ports : {};
    const name = nameOf(host) ?? `hosts[${i}]`;
    const conn = connectionOf(host);
    if (conn?.type === "ssh" && conn.address === address && Number.isInteger(conn.port))
      seen.set(
        isLoopbackAddress(address)
          ? `${i}/${address}:${String(conn.port)}`
          : `${address}:${String(conn.port)}`,
        `the ssh connection of host "${name}"`,
      );
    for (const role of new Set(rolesOf(host))) {
      for (const portRole of PORTS_OF_ROLE[role as HostRole] ?? []) {
        const port = own[portRole] ?? (isRecord(ports) ? ports[portRole] : undefined);
        if (!Number.isInteger(port)) continue; // the schema reported it
        const endpoint = `${address}:${String(port)}`;
        const key = isLoopbackAddress(address) ? `${i}/${endpoint}` : endpoint;
        const listener = `${portRole} of host "${name}"`;
        const first = seen.get(key);
        if (first === undefined) {
          seen.set(key, listener);
          continue;
        }
        const path = own[portRole] !== undefined ? ["hosts", i, "ports", portRole] : ["ports", portRole];
        problems.push({
          path: fieldPath(path),
          message: `expected a port no other listener uses, but ${first} and ${listener} both listen on ${endpoint}; give one of them another port`,
        });
      }
    }
  });
  return problems;
}

function districtNodes(districts: readonly unknown[], hosts: readonly unknown[]): ConfigProblem[] {
  const hostByName = new Map<string, { index: number; roles: string[] }>();
  hosts.forEach((host, index) => {
    const name = nameOf(host);
    if (name !== undefined && !hostByName.has(name)) hostByName.set(name, { index, roles: rolesOf(host) });
  });
  const nodeNames = [...hostByName].filter(([, h]) => h.roles.includes("node")).map(([name]) => name);
  const districtOfNode = new Map<string, number>();
  const problems: ConfigProblem[] = [];
  districts.forEach((district, d) => {
    if (!isRecord(district)) return;
    listOf(district.nodes).forEach((node, k) => {
      if (typeof node !== "string") return;
      const path = fieldPath(["districts", d, "nodes", k]);
      const host = hostByName.get(node);
      if (!host) {
        const choices = nodeNames.length > 0 ? nodeNames.join(", ") : "none defined yet";
        problems.push({
          path,
          message: `expected the name of a host with role node (${choices}), but there is no host "${node}"`,
        });
      } else if (!host.roles.includes("node")) {
        problems.push({
          path,
          message: `expected a host with role node, but host "${node}" does not have it; add "node" to hosts[${host.index}].roles or remove "${node}" from this district`,
        });
      } else if (districtOfNode.has(node)) {
        problems.push({
          path,
          message: `expected each node in at most one district, but "${node}" is already in districts[${districtOfNode.get(node)}]; remove it from one of them`,
        });
      } else {
        districtOfNode.set(node, d);
      }
    });
  });
  return problems;
}

/** A node host takes its gears' UIDs and profile from its district: every node is in one. */
function undistrictedNodes(districts: readonly unknown[], hosts: readonly unknown[]): ConfigProblem[] {
  const named = new Set(districts.flatMap((d) => (isRecord(d) ? listOf(d.nodes) : [])));
  const problems: ConfigProblem[] = [];
  hosts.forEach((host, i) => {
    const name = nameOf(host);
    if (name === undefined || !NAME.test(name) || !rolesOf(host).includes("node") || named.has(name)) return;
    problems.push({
      path: fieldPath(["hosts", i, "roles"]),
      message: `expected every host with role node in a district (its gears' UIDs and profile come from it), but "${name}" is in none; add it to the nodes of a district`,
    });
  });
  return problems;
}

function uidRanges(districts: readonly unknown[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const accepted: { index: number; min: number; max: number }[] = [];
  districts.forEach((district, d) => {
    const range = isRecord(district) ? district.uidRange : undefined;
    if (!isRecord(range) || !isUid(range.min) || !isUid(range.max)) return; // the schema reported it
    const { min, max } = range;
    const path = fieldPath(["districts", d, "uidRange"]);
    if (min >= max) {
      problems.push({
        path,
        message: `expected min to be less than max, but min is ${min} and max is ${max}; swap or fix them`,
      });
      return;
    }
    const clash = accepted.find((other) => min <= other.max && other.min <= max);
    if (clash)
      problems.push({
        path,
        message: `expected a UID range that overlaps no other district, but ${min}..${max} overlaps districts[${clash.index}] (${clash.min}..${clash.max}); choose a range outside it`,
      });
    else accepted.push({ index: d, min, max });
  });
  return problems;
}

/** An application is one per name in its domain (the broker's rule); its web cartridge is not embedded too. */
function duplicateApps(apps: readonly unknown[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const firstIndex = new Map<string, number>();
  apps.forEach((app, i) => {
    if (!isRecord(app)) return;
    if (typeof app.webCartridge === "string" && listOf(app.cartridges).includes(app.webCartridge))
      problems.push({
        path: fieldPath(["apps", i, "cartridges"]),
        message: `expected embedded cartridges only, but the web cartridge ${app.webCartridge} is listed too; remove it here`,
      });
    if (typeof app.name !== "string" || typeof app.domain !== "string") return;
    const key = `${app.domain}/${app.name}`;
    const first = firstIndex.get(key);
    if (first === undefined) firstIndex.set(key, i);
    else
      problems.push({
        path: fieldPath(["apps", i, "name"]),
        message: `expected a unique application name in its domain, but "${app.name}" in domain "${app.domain}" is already apps[${first}]; rename one of them`,
      });
  });
  return problems;
}

/** A gear is placed in a district of its profile: some district with a node must offer it. */
function appProfiles(apps: readonly unknown[], districts: readonly unknown[]): ConfigProblem[] {
  const offered = new Set(
    districts
      .filter((d) => isRecord(d) && listOf(d.nodes).length > 0)
      .map((d) => (d as Record<string, unknown>).profile),
  );
  const problems: ConfigProblem[] = [];
  apps.forEach((app, i) => {
    if (!isRecord(app) || typeof app.gearProfile !== "string" || offered.has(app.gearProfile)) return;
    if (!(GEAR_PROFILES as readonly string[]).includes(app.gearProfile)) return; // the schema reported it
    const choices = offered.size > 0 ? [...offered].join(", ") : "none: no district has a node";
    problems.push({
      path: fieldPath(["apps", i, "gearProfile"]),
      message: `expected a gear profile a district with nodes offers (${choices}), but no such district has ${app.gearProfile}; add a district of that profile or choose another`,
    });
  });
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers

const IPV4 = new RegExp(platformSchema.$defs.ipv4.pattern);
const NAME = new RegExp(platformSchema.$defs.name.pattern);

function isLoopbackAddress(address: string): boolean {
  return address.startsWith("127.");
}

/**
 * Where a host's roles listen: its `address`, else 127.0.0.1 for a local host, else an IPv4 connection
 * address. Undefined when there is none (reported by listenAddresses) or the host is malformed.
 */
function listenAddressOf(host: unknown): string | undefined {
  if (!isRecord(host)) return undefined;
  if (typeof host.address === "string") return IPV4.test(host.address) ? host.address : undefined;
  const conn = connectionOf(host);
  if (conn?.type === "local") return "127.0.0.1";
  if (conn?.type === "ssh" && typeof conn.address === "string" && IPV4.test(conn.address))
    return conn.address;
  return undefined;
}

/** Same bounds as `$defs.uid` in the schema. */
function isUid(value: unknown): value is number {
  const { minimum, maximum } = platformSchema.$defs.uid;
  return Number.isInteger(value) && (value as number) >= minimum && (value as number) <= maximum;
}

function listOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

function nameOf(item: unknown): string | undefined {
  return isRecord(item) && typeof item.name === "string" ? item.name : undefined;
}

function connectionOf(host: unknown): Record<string, unknown> | undefined {
  return isRecord(host) && isRecord(host.connection) ? host.connection : undefined;
}

function rolesOf(host: unknown): string[] {
  return isRecord(host) ? listOf(host.roles).filter((r): r is string => typeof r === "string") : [];
}

/** `geartrain:platform` + segments, e.g. `geartrain:platform.hosts[1].connection.hostKey`. */
function fieldPath(segments: readonly (string | number)[]): string {
  return joinPath(segments, PLATFORM_CONFIG_KEY);
}
