// The rules of Geartrain's policy pack, pure: plain resource descriptions (type, URN, name and the inputs
// the program gave) and the stack's config in, violations out. index.ts wires them into @pulumi/policy;
// test/unit/policies/ runs them over fabricated resources. No Pulumi import here.

/** A resource as the rules see it: its inputs, as the program declared them (secrets already masked). */
export interface RuleResource {
  readonly type: string;
  readonly urn: string;
  readonly name: string;
  readonly props: Readonly<Record<string, unknown>>;
}

/** What every rule may read. */
export interface RuleInput {
  /** the stack's name (`pulumi stack`) */
  readonly stack: string;
  readonly resources: readonly RuleResource[];
  /** the stack's config as the engine gives it to a policy pack: `ns:key` → value (secrets in plain too) */
  readonly config: Readonly<Record<string, string>>;
  /** the config keys whose values are secrets (the engine gives the pack their plain values too) */
  readonly secretKeys: readonly string[];
  /** stack names (or `<name>-…`, `…-<name>` forms of them) that are stage or production */
  readonly strictStacks: readonly string[];
  /** brokers a stage/prod topology needs at least */
  readonly minBrokers: number;
}

export interface Violation {
  /** the policy's name (index.ts gives each rule its own policy) */
  readonly rule: RuleName;
  readonly message: string;
  /** the resource it is about; absent for a stack-wide violation */
  readonly urn?: string;
}

export const RULES = {
  "gear-profile-in-district": "a gear's (an application's) profile must be one its district allows",
  "stage-prod-topology": "a stage or prod stack has at least two brokers and TLS on its message bus",
  "no-plain-secrets": "no secret-looking value in plain (not secret) stack config",
  "node-in-one-district": "no node is in two districts",
  "district-with-gears": "a district that still has gears (applications) cannot be deleted",
} as const;

export type RuleName = keyof typeof RULES;

/** How the engine shows a secret config value to a policy pack. */
const SECRET = "[secret]";

/** The stack config key of the platform topology (stacks/schema/platform.ts PLATFORM_CONFIG_KEY). */
export const PLATFORM_CONFIG_KEY = "geartrain:platform";

export const DEFAULT_STRICT_STACKS: readonly string[] = ["stage", "staging", "prod", "production"];
export const DEFAULT_MIN_BROKERS = 2;

// ---------------------------------------------------------------------------------------------------------
// What the stack declares: districts, gears, brokers, buses

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function strs(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

function lastSegment(type: string): string {
  return type.split(":").pop() ?? type;
}

/** Geartrain's own resources: `geartrain:<module>:<Name>`, or a dynamic resource typed `pulumi-nodejs:dynamic/<module>:<Name>`. */
function isOurs(type: string): boolean {
  return type.startsWith("geartrain:") || type.startsWith("pulumi-nodejs:");
}

function ofKind(r: RuleResource, ...names: string[]): boolean {
  return isOurs(r.type) && names.includes(lastSegment(r.type));
}

interface District {
  readonly name: string;
  readonly profiles: readonly string[];
  readonly nodes: readonly string[];
  /** the District resource, when the district is one (else it comes from the stack config) */
  readonly urn?: string;
  readonly source: string;
}

interface Gear {
  readonly urn: string;
  readonly label: string;
  readonly district?: string;
  readonly profile?: string;
}

interface HostEntry {
  readonly name: string;
  readonly roles: readonly string[];
}

interface Topology {
  readonly hosts: readonly HostEntry[];
  readonly districts: readonly District[];
  /** `bus.tls` of the topology, when it says */
  readonly busTls?: boolean;
}

/** The topology of `geartrain:platform` (a JSON object in the config), if the stack has one. */
export function configTopology(config: Readonly<Record<string, string>>): Topology | undefined {
  const raw = config[PLATFORM_CONFIG_KEY];
  if (raw === undefined || raw === SECRET) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  return isRecord(value) ? topologyOf(value, `stack config ${PLATFORM_CONFIG_KEY}`) : undefined;
}

function districtOf(
  v: unknown,
  fallbackName: string | undefined,
  source: string,
  urn?: string,
): District | undefined {
  if (!isRecord(v)) return undefined;
  const name = str(v.name) ?? str(v.districtName) ?? fallbackName;
  if (name === undefined) return undefined;
  const profiles = [
    ...strs(v.profiles),
    ...strs(v.gearProfiles),
    ...[str(v.profile), str(v.gearProfile)].flatMap((p) => (p ? [p] : [])),
  ];
  return { name, profiles, nodes: strs(v.nodes), source, ...(urn !== undefined ? { urn } : {}) };
}

function topologyOf(v: Record<string, unknown>, source: string): Topology {
  const hosts = (Array.isArray(v.hosts) ? v.hosts : [])
    .filter(isRecord)
    .flatMap((h) => (str(h.name) ? [{ name: h.name as string, roles: strs(h.roles) }] : []));
  const districts = (Array.isArray(v.districts) ? v.districts : []).flatMap((d) => {
    const district = districtOf(d, undefined, source);
    return district ? [district] : [];
  });
  const bus = isRecord(v.bus) ? v.bus : undefined;
  return { hosts, districts, ...(typeof bus?.tls === "boolean" ? { busTls: bus.tls } : {}) };
}

/** Districts: District resources, a Platform resource's `districts`, and the stack config's. */
function districtsOf(input: RuleInput): District[] {
  const out: District[] = [];
  for (const r of input.resources) {
    if (ofKind(r, "District")) {
      const d = districtOf(r.props, r.name, `District ${r.name}`, r.urn);
      if (d) out.push(d);
    } else if (ofKind(r, "Platform")) {
      out.push(...topologyOf(r.props, `Platform ${r.name}`).districts.map((d) => ({ ...d, urn: r.urn })));
    }
  }
  out.push(...(configTopology(input.config)?.districts ?? []));
  return out;
}

function gearsOf(input: RuleInput): Gear[] {
  return input.resources
    .filter((r) => ofKind(r, "Application", "Gear"))
    .map((r) => {
      const district = str(r.props.district);
      const profile = str(r.props.profile) ?? str(r.props.gearProfile) ?? str(r.props.gearSize);
      return {
        urn: r.urn,
        label: `${lastSegment(r.type)} ${r.name}`,
        ...(district !== undefined ? { district } : {}),
        ...(profile !== undefined ? { profile } : {}),
      };
    });
}

/** One entry per district name; a district that is both a resource and in the config is the resource. */
function byName(districts: readonly District[]): Map<string, District> {
  const map = new Map<string, District>();
  for (const d of districts) {
    const seen = map.get(d.name);
    if (seen === undefined || (seen.urn === undefined && d.urn !== undefined)) map.set(d.name, d);
  }
  return map;
}

// ---------------------------------------------------------------------------------------------------------
// The rules

export function gearProfileInDistrict(input: RuleInput): Violation[] {
  const districts = byName(districtsOf(input));
  const out: Violation[] = [];
  for (const g of gearsOf(input)) {
    if (g.district === undefined || g.profile === undefined) continue;
    const d = districts.get(g.district);
    if (d === undefined || d.profiles.length === 0) continue; // district-with-gears reports a missing one
    if (!d.profiles.includes(g.profile))
      out.push({
        rule: "gear-profile-in-district",
        urn: g.urn,
        message:
          `${g.label} asks for gear profile "${g.profile}", which district ${d.name} does not allow ` +
          `(it allows ${d.profiles.map((p) => `"${p}"`).join(", ")}): use one of those or place it in another district`,
      });
  }
  return out;
}

/** Whether `stack` is a stage or production stack: one of `names`, or such a name joined by - _ or . to more. */
export function isStrictStack(stack: string, names: readonly string[]): boolean {
  const s = stack.toLowerCase();
  return names.some((n) => {
    const name = n.toLowerCase();
    return (
      s === name ||
      s.startsWith(`${name}-`) ||
      s.startsWith(`${name}_`) ||
      s.startsWith(`${name}.`) ||
      s.endsWith(`-${name}`) ||
      s.endsWith(`_${name}`) ||
      s.endsWith(`.${name}`)
    );
  });
}

function hasTls(props: Readonly<Record<string, unknown>>): boolean {
  const tls = props.tls;
  return (
    (isRecord(tls) && Object.keys(tls).length > 0) ||
    tls === SECRET ||
    str(props.endpoint)?.startsWith("stomp+ssl://") === true
  );
}

export function stagProdTopology(input: RuleInput): Violation[] {
  if (!isStrictStack(input.stack, input.strictStacks)) return [];
  const out: Violation[] = [];
  const brokerResources = input.resources.filter((r) => ofKind(r, "Broker"));
  const topology = configTopology(input.config);
  const platforms = input.resources.filter((r) => ofKind(r, "Platform"));
  const brokerHosts = new Set([
    ...(topology?.hosts ?? []).filter((h) => h.roles.includes("broker")).map((h) => h.name),
    ...platforms.flatMap((p) =>
      topologyOf(p.props, p.name)
        .hosts.filter((h) => h.roles.includes("broker"))
        .map((h) => h.name),
    ),
  ]);
  const brokers = Math.max(brokerResources.length, brokerHosts.size);
  if (brokers < input.minBrokers)
    out.push({
      rule: "stage-prod-topology",
      ...(platforms[0] ? { urn: platforms[0].urn } : {}),
      message:
        `stack ${input.stack} is a stage/prod stack but has ${brokers} broker${brokers === 1 ? "" : "s"}; ` +
        `it needs at least ${input.minBrokers} (give the role broker to more hosts)`,
    });
  const buses = input.resources.filter((r) => ofKind(r, "MessageBus"));
  for (const bus of buses)
    if (!hasTls(bus.props))
      out.push({
        rule: "stage-prod-topology",
        urn: bus.urn,
        message: `MessageBus ${bus.name} has no TLS (\`tls\` unset) in stage/prod stack ${input.stack}: set its key store`,
      });
  // The topology's `bus.tls` (stack config, or a Platform's inputs): what the MessageBus is made from.
  const topologies = [
    ...(topology ? [{ where: `stack config ${PLATFORM_CONFIG_KEY}`, t: topology }] : []),
    ...platforms.map((p) => ({ where: `Platform ${p.name}`, t: topologyOf(p.props, p.name), urn: p.urn })),
  ];
  for (const { where, t, ...rest } of topologies)
    if (t.busTls !== true)
      out.push({
        rule: "stage-prod-topology",
        ...("urn" in rest ? { urn: rest.urn } : {}),
        message: `${where} has no TLS on the bus in stage/prod stack ${input.stack}: set \`bus: { tls: true }\``,
      });
  if (buses.length === 0 && topologies.length === 0 && brokers > 0)
    out.push({
      rule: "stage-prod-topology",
      message: `stage/prod stack ${input.stack} declares no MessageBus with TLS`,
    });
  return out;
}

const SECRET_NAME = /(pass(word|phrase|wd)?|secret|token|private[-_]?key|api[-_]?key|tsig|credential)s?$/i;
const SECRET_VALUE: readonly RegExp[] = [
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/,
  /\bgh[pousr]_[A-Za-z0-9]{30,}\b/,
  /\bglpat-[A-Za-z0-9_-]{20,}\b/,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}\b/,
  /\bAKIA[0-9A-Z]{16}\b/,
];

/** Shannon entropy in bits per character. */
function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) h -= (n / s.length) * Math.log2(n / s.length);
  return h;
}

/** Why `value` (under `name`) looks like a secret, if it does. */
export function secretLooking(name: string, value: string): string | undefined {
  if (value === "" || value === SECRET) return undefined;
  if (SECRET_VALUE.some((re) => re.test(value)))
    return "its value looks like a private key or an access token";
  const leaf =
    name
      .split(/[.:[\]]/)
      .filter((p) => p !== "")
      .pop() ?? name;
  if (SECRET_NAME.test(leaf) && !/^(true|false|\d+)$/.test(value))
    return `its name (${leaf}) says it is a secret`;
  // A long random-looking word (a generated password, a base64 key); public keys carry a type and a space.
  if (
    /^[A-Za-z0-9+/=_-]{32,}$/.test(value) &&
    /\d/.test(value) &&
    /[A-Za-z]/.test(value) &&
    entropy(value) >= 4.2
  )
    return "its value looks like a generated key or password";
  return undefined;
}

function configLeaves(v: unknown, base: string, out: [string, string][]): void {
  if (typeof v === "string") out.push([base, v]);
  else if (Array.isArray(v)) v.forEach((x, i) => configLeaves(x, `${base}[${i}]`, out));
  else if (isRecord(v)) for (const [k, x] of Object.entries(v)) configLeaves(x, `${base}.${k}`, out);
}

export function noPlainSecrets(input: RuleInput): Violation[] {
  const out: Violation[] = [];
  for (const key of Object.keys(input.config).sort()) {
    const raw = input.config[key];
    if (raw === SECRET || input.secretKeys.includes(key)) continue;
    const leaves: [string, string][] = [];
    let parsed: unknown;
    try {
      parsed = raw.startsWith("{") || raw.startsWith("[") ? JSON.parse(raw) : raw;
    } catch {
      parsed = raw;
    }
    configLeaves(parsed, key, leaves);
    for (const [name, value] of leaves) {
      const why = secretLooking(name, value);
      if (why)
        out.push({
          rule: "no-plain-secrets",
          message: `stack config ${name} is plain text but ${why}: set it with \`pulumi config set --secret\``,
        });
    }
  }
  return out;
}

export function nodeInOneDistrict(input: RuleInput): Violation[] {
  const seen = new Map<string, District[]>();
  for (const d of byName(districtsOf(input)).values())
    for (const n of new Set(d.nodes)) seen.set(n, [...(seen.get(n) ?? []), d]);
  const out: Violation[] = [];
  for (const [node, list] of [...seen.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (list.length < 2) continue;
    const names = list.map((d) => d.name).sort();
    out.push({
      rule: "node-in-one-district",
      ...(list.find((d) => d.urn)?.urn ? { urn: list.find((d) => d.urn)?.urn } : {}),
      message: `node ${node} is in ${list.length} districts (${names.join(", ")}): a node belongs to one district`,
    });
  }
  return out;
}

export function districtWithGears(input: RuleInput): Violation[] {
  const districts = byName(districtsOf(input));
  const declaresDistricts =
    districts.size > 0 ||
    configTopology(input.config) !== undefined ||
    input.resources.some((r) => ofKind(r, "Platform"));
  if (!declaresDistricts) return []; // an apps-only stack: its districts live in another stack
  const out: Violation[] = [];
  for (const g of gearsOf(input)) {
    if (g.district === undefined || districts.has(g.district)) continue;
    out.push({
      rule: "district-with-gears",
      urn: g.urn,
      message:
        `${g.label} is placed in district ${g.district}, which this stack no longer declares: deleting a district ` +
        `that still has gears is denied (move or delete its applications first)`,
    });
  }
  return out;
}

/** Every rule, by name. */
export const RULE_CHECKS: Readonly<Record<RuleName, (input: RuleInput) => Violation[]>> = {
  "gear-profile-in-district": gearProfileInDistrict,
  "stage-prod-topology": stagProdTopology,
  "no-plain-secrets": noPlainSecrets,
  "node-in-one-district": nodeInOneDistrict,
  "district-with-gears": districtWithGears,
};
