// The BrokerApp dynamic resource's decisions, pure (docs/providers.md): what the inputs must be (the broker's
// own wire schemas, common/broker-wire.ts), which changes replace the application and which update it in
// place, and how the live state the nodes report (`GET_LIVE_STATE`) reads as the resource's properties, so
// that `refresh` shows drift as a change of `observed`. No I/O and no Pulumi import: operations.ts performs.

import { createAjv, fieldPath, pointerSegments } from "../../common/ajv-errors";
import { NAMESPACE, WIRE_SCHEMAS } from "../../common/broker-wire";
import { GEAR_PROFILES } from "../../common/profiles";

/** Bumped when what the provider does changes, so stacks see it as an update. */
export const APP_PROVIDER_VERSION = 1;

/** The engine's placeholder for a value not known yet (preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Where the broker is and who the provider is to it: a secret input, never in the provider's code. */
export interface BrokerConnection {
  /** the broker: a host, `https://host` or the API URL */
  readonly server: string;
  /** a token made with `geartrain login` (ADD_AUTHORIZATION); or login + password */
  readonly token?: string;
  readonly login?: string;
  readonly password?: string;
}

/** What the nodes should report: check fills it with the desired values, read with the live ones. */
export interface Observed {
  /** the node's drift of each gear from its spec, `field: expected E, actual A` ([] when none) */
  readonly drift: readonly string[];
  /** each cartridge (`name-version`) → `bin/control status`: started, stopped, unknown, missing */
  readonly cartridges: Readonly<Record<string, string>>;
  /** the node's frontend routes the application's host name */
  readonly routed: boolean;
}

export interface BrokerAppInputs {
  readonly connection: BrokerConnection;
  readonly domain: string;
  readonly name: string;
  readonly webCartridge: string;
  readonly cartridges: readonly string[];
  readonly gearProfile: string;
  readonly env: Readonly<Record<string, string>>;
  readonly started: boolean;
  readonly observed: Observed;
  readonly providerVersion: number;
}

export interface BrokerAppOutputs extends BrokerAppInputs {
  readonly appId: string;
  readonly fqdn: string;
  readonly appUrl: string;
  readonly gitUrl: string;
  readonly node: string | null;
  readonly uid: number | null;
  /** the gear's SELinux MCS label as the node reports it */
  readonly mcsLabel: string | null;
  /** the gear's cgroup values as the node read them back */
  readonly cgroup: Readonly<Record<string, string | null>>;
}

export interface CheckFailure {
  readonly property: string;
  readonly reason: string;
}

const isUnknown = (v: unknown): boolean => v === UNKNOWN;
const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** What every cartridge should report when the application runs (or is stopped) as declared. */
export function desiredObserved(web: string, cartridges: readonly string[], started: boolean): Observed {
  const status = started ? "started" : "stopped";
  return {
    drift: [],
    cartridges: Object.fromEntries([web, ...cartridges].sort().map((c) => [c, status])),
    routed: true,
  };
}

let validator: ReturnType<ReturnType<typeof createAjv>["compile"]> | null = null;

/** The body the broker validates an application create with, as this resource would send it. */
export function createBody(news: Partial<BrokerAppInputs>): Record<string, unknown> {
  const env = isObj(news.env) ? news.env : {};
  return {
    name: news.name,
    cartridges: [news.webCartridge, ...(Array.isArray(news.cartridges) ? news.cartridges : [])],
    environment_variables: Object.entries(env).map(([name, value]) => ({ name, value })),
    ...(news.gearProfile !== undefined ? { gear_profile: news.gearProfile } : {}),
  };
}

/** The body's field path as the resource's property (`cartridges[0]` is the web cartridge ...). */
function propertyOf(path: (string | number)[], news: Partial<BrokerAppInputs>): string {
  const [top, i] = path;
  if (top === "cartridges" && typeof i === "number") return i === 0 ? "webCartridge" : `cartridges[${i - 1}]`;
  if (top === "cartridges") return "cartridges";
  if (top === "environment_variables" && typeof i === "number") {
    const key = Object.keys(isObj(news.env) ? news.env : {})[i];
    return key === undefined ? "env" : fieldPath([key], "env");
  }
  if (top === "gear_profile") return "gearProfile";
  return fieldPath(path);
}

/**
 * Problems with the inputs, each naming its property: the application body against the broker's own schema
 * (WIRE_SCHEMAS.addApplication), the domain against its namespace rule, the profile against the platform's,
 * the connection's shape. A value not known yet (preview) is not judged.
 */
export function checkBrokerApp(news: Partial<BrokerAppInputs>): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const known = (v: unknown) => v !== undefined && !isUnknown(v);
  const conn = news.connection as Partial<BrokerConnection> | undefined;
  if (isUnknown(conn)) {
    // a connection made of outputs: checked when known
  } else if (!isObj(conn) || typeof conn.server !== "string" || conn.server.trim() === "")
    failures.push({ property: "connection.server", reason: "the broker's URL is required" });
  else if (!known(conn.token) && !(known(conn.login) && known(conn.password)))
    if (!isUnknown(conn.token) && !isUnknown(conn.password))
      failures.push({ property: "connection", reason: "needs a token, or a login and a password" });

  if (known(news.domain) && (typeof news.domain !== "string" || !new RegExp(NAMESPACE).test(news.domain)))
    failures.push({
      property: "domain",
      reason: `${JSON.stringify(news.domain)} is not a namespace (a lower-case letter, then letters and digits, up to 16)`,
    });
  if (news.webCartridge === undefined)
    failures.push({ property: "webCartridge", reason: "an application needs a web cartridge" });
  if (news.cartridges !== undefined && !isUnknown(news.cartridges) && !Array.isArray(news.cartridges))
    failures.push({ property: "cartridges", reason: "must be a list of cartridge names" });
  if (known(news.gearProfile) && !(GEAR_PROFILES as readonly unknown[]).includes(news.gearProfile))
    failures.push({ property: "gearProfile", reason: `must be one of ${GEAR_PROFILES.join(", ")}` });
  if (news.started !== undefined && !isUnknown(news.started) && typeof news.started !== "boolean")
    failures.push({ property: "started", reason: "must be true or false" });
  const all = [news.webCartridge, ...(Array.isArray(news.cartridges) ? news.cartridges : [])];
  const named = all.filter((c) => typeof c === "string" && !isUnknown(c));
  if (new Set(named).size !== named.length)
    failures.push({ property: "cartridges", reason: "a cartridge is named twice" });

  // the broker's schema, on the body with values not known yet left out
  const body = createBody(news);
  const strip = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.filter((x) => !isUnknown(x) && x !== undefined).map(strip)
      : isObj(v)
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([, x]) => !isUnknown(x) && x !== undefined)
              .map(([k, x]) => [k, strip(x)]),
          )
        : v;
  const cleaned = strip(body) as Record<string, unknown>;
  if (!Array.isArray(news.cartridges) && news.cartridges !== undefined)
    cleaned.cartridges = [news.webCartridge];
  if (cleaned.name === undefined) cleaned.name = "placeholder";
  // a web cartridge not known yet stands in as a valid name (its absence is reported above)
  if (
    Array.isArray(cleaned.cartridges) &&
    (typeof news.webCartridge !== "string" || isUnknown(news.webCartridge))
  )
    cleaned.cartridges = ["placeholder-1", ...(cleaned.cartridges as unknown[])];
  validator ??= createAjv({ strict: false }).compile(WIRE_SCHEMAS.addApplication as object);
  if (!validator(cleaned)) {
    for (const e of validator.errors ?? []) {
      if (e.keyword === "anyOf" || (e.keyword === "type" && e.instancePath.match(/^\/cartridges\/\d+$/)))
        continue;
      const property = propertyOf(pointerSegments(e.instancePath, cleaned), news);
      const value = e.data;
      const reason =
        e.keyword === "pattern"
          ? `${JSON.stringify(value)} does not match the broker's rule ${String(e.params.pattern)}`
          : (e.message ?? "is invalid");
      if (!failures.some((f) => f.property === property)) failures.push({ property, reason });
    }
  }
  return failures;
}

/** The inputs with their defaults and the desired `observed` (what check returns to the engine). */
export function normalizeInputs(news: Partial<BrokerAppInputs>): BrokerAppInputs {
  const cartridges = Array.isArray(news.cartridges) ? [...news.cartridges] : [];
  const started = typeof news.started === "boolean" ? news.started : true;
  return {
    connection: news.connection as BrokerConnection,
    domain: news.domain as string,
    name: news.name as string,
    webCartridge: news.webCartridge as string,
    cartridges,
    gearProfile: news.gearProfile ?? "small",
    env: isObj(news.env) ? (news.env as Record<string, string>) : {},
    started,
    observed: desiredObserved(news.webCartridge as string, cartridges, started),
    providerVersion: APP_PROVIDER_VERSION,
  };
}

/** JSON with sorted keys: equal values give equal text whatever the key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    isObj(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

/** Properties whose change makes it another application: the broker cannot change them in place. */
export const REPLACED = ["domain", "name", "webCartridge", "gearProfile"] as const;
/** Properties an update changes in place (observed: the update repairs what the nodes report). */
export const UPDATED = ["env", "cartridges", "started", "observed", "providerVersion"] as const;

export interface AppDiff {
  readonly changes: boolean;
  readonly replaces: string[];
  readonly deleteBeforeReplace: boolean;
}

/**
 * The diff of the recorded properties (after a refresh: what the nodes reported) against the declared
 * inputs. The old one is deleted first on a replacement: a domain cannot hold two applications of one name.
 */
export function diffBrokerApp(olds: Partial<BrokerAppOutputs>, news: BrokerAppInputs): AppDiff {
  const differs = (k: keyof BrokerAppInputs) => {
    if (isUnknown(news[k])) return true;
    if (k === "cartridges")
      return (
        canonicalJson([...(olds.cartridges ?? [])].sort()) !== canonicalJson([...news.cartridges].sort())
      );
    return canonicalJson(olds[k] ?? null) !== canonicalJson(news[k] ?? null);
  };
  const replaces = REPLACED.filter(differs);
  const changes = replaces.length > 0 || UPDATED.some(differs);
  return { changes, replaces: [...replaces], deleteBeforeReplace: true };
}

/** The live state's shape this module reads (clients/broker ApplicationLiveState). */
export interface LiveState {
  readonly state: string;
  readonly gear_profile: string;
  readonly gears: readonly {
    readonly id: string;
    readonly uid: number;
    readonly node: string;
    readonly present: boolean;
    readonly error: string | null;
    readonly mcs_label: string | null;
    readonly cgroup: Readonly<Record<string, string | null>>;
    readonly drift: readonly { readonly field: string; readonly expected: string; readonly actual: string }[];
    readonly cartridges: readonly { readonly name: string; readonly status: string }[];
    readonly route: { readonly hostnames: readonly string[] } | null;
  }[];
}

/**
 * What the nodes report, as `observed`: the drift of every gear, each declared cartridge's status
 * (`missing` when the node has none of that name) and whether the host name is routed.
 */
export function observedOf(live: LiveState, fqdn: string, declared: readonly string[]): Observed {
  const drift: string[] = [];
  const status: Record<string, string> = {};
  let routed = live.gears.length > 0;
  for (const g of live.gears) {
    if (!g.present)
      drift.push(g.error ? `gear ${g.id}: ${g.error}` : `gear ${g.id}: missing on node ${g.node}`);
    for (const d of g.drift) drift.push(`${d.field}: expected ${d.expected}, actual ${d.actual}`);
    for (const c of g.cartridges)
      status[c.name] = status[c.name] && status[c.name] !== c.status ? "mixed" : c.status;
    if (!g.route || !g.route.hostnames.includes(fqdn)) routed = false;
  }
  const cartridges: Record<string, string> = {};
  for (const c of [...declared].sort()) cartridges[c] = status[c] ?? "missing";
  for (const c of Object.keys(status).sort()) if (!(c in cartridges)) cartridges[c] = status[c];
  return { drift: drift.sort(), cartridges, routed };
}

/** The application as the broker and its nodes report it (clients/broker Application). */
export interface AppRecord {
  readonly id: string;
  readonly app_url?: string;
  readonly git_url?: string;
  readonly gear_profile?: string;
  readonly state?: string;
  readonly cartridges?: readonly { readonly name: string; readonly type?: string }[];
}

/** The fqdn from `app_url` (`http://<fqdn>/`). */
export function fqdnOf(app: AppRecord): string {
  try {
    return new URL(app.app_url ?? "").hostname;
  } catch {
    return "";
  }
}

/**
 * The resource's properties from what the broker and the nodes report. `base` gives what they do not
 * report (the connection) and, when `env` is null, the variables.
 */
export function outputsOf(
  base: BrokerAppInputs,
  app: AppRecord,
  live: LiveState,
  env: Readonly<Record<string, string>> | null,
): BrokerAppOutputs {
  const carts = app.cartridges ?? [];
  const web = carts.find((c) => c.type === "standalone")?.name ?? base.webCartridge;
  const embedded = carts.filter((c) => c.type !== "standalone").map((c) => c.name);
  const embeddedOrdered = [
    ...base.cartridges.filter((c) => embedded.includes(c)),
    ...embedded.filter((c) => !base.cartridges.includes(c)).sort(),
  ];
  const fqdn = fqdnOf(app);
  const head = live.gears[0];
  return {
    connection: base.connection,
    domain: base.domain,
    name: base.name,
    webCartridge: web,
    cartridges: app.cartridges ? embeddedOrdered : [...base.cartridges],
    gearProfile: app.gear_profile ?? live.gear_profile ?? base.gearProfile,
    env: env ?? base.env,
    started: (app.state ?? live.state) !== "stopped",
    observed: observedOf(live, fqdn, [web, ...(app.cartridges ? embeddedOrdered : base.cartridges)]),
    providerVersion: APP_PROVIDER_VERSION,
    appId: app.id,
    fqdn,
    appUrl: app.app_url ?? "",
    gitUrl: app.git_url ?? "",
    node: head?.node ?? null,
    uid: head?.uid ?? null,
    mcsLabel: head?.mcs_label ?? null,
    cgroup: { ...(head?.cgroup ?? {}) },
  };
}

/** The input part of the properties (what read hands the engine as the refreshed inputs). */
export function inputsOf(p: BrokerAppOutputs): BrokerAppInputs {
  return {
    connection: p.connection,
    domain: p.domain,
    name: p.name,
    webCartridge: p.webCartridge,
    cartridges: p.cartridges,
    gearProfile: p.gearProfile,
    env: p.env,
    started: p.started,
    observed: p.observed,
    providerVersion: p.providerVersion,
  };
}

/** The variables to set (with a value) and unset (without) to go from `olds` to `news`. */
export function envChanges(
  olds: Readonly<Record<string, string>>,
  news: Readonly<Record<string, string>>,
): { name: string; value?: string }[] {
  const out: { name: string; value?: string }[] = [];
  for (const [name, value] of Object.entries(news)) if (olds[name] !== value) out.push({ name, value });
  for (const name of Object.keys(olds)) if (!(name in news)) out.push({ name });
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}
