// Validation of frontend specs. Every value here ends up inside an nginx config file, so the patterns admit
// nothing nginx could read as syntax: no whitespace, quotes, ';', '{', '}', '#', '$', '\' or control
// characters. The result is canonical (fixed key order, routes sorted, defaults dropped), so the same spec
// always renders the same bytes.

import { ValidationError } from "../../common/errors";
import { UUID_PATTERN } from "../validate";

export interface FrontendRoute {
  /** URL path prefix on the public side: "" (the root) or "/something" */
  readonly path: string;
  /** where it goes: the gear's private endpoint */
  readonly backend: { readonly ip: string; readonly port: number; readonly path?: string };
  readonly websocket?: boolean;
}

export interface GearFrontendSpec {
  readonly gearUuid: string;
  /** "<app>-<namespace>.<cloudDomain>" first, then aliases */
  readonly hostnames: readonly string[];
  readonly routes: readonly FrontendRoute[];
  /** idle: serve a "starting" page and ask the node to start the gear instead of proxying */
  readonly idle?: boolean;
}

/** DNS host name, lower case, at least two labels, ≤ 253 characters. */
export const HOSTNAME_PATTERN =
  /^(?=.{3,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
/** URL path prefix: "/seg[/seg...]", each segment of unreserved URL characters, no trailing slash. */
export const ROUTE_PATH_PATTERN = /^(?:\/[A-Za-z0-9._~-]+)+$/;
export const MAX_HOSTNAMES = 32;
export const MAX_ROUTES = 64;

function describe(value: unknown): string {
  const s = typeof value === "string" ? JSON.stringify(value) : String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function validateHostname(value: unknown, field = "hostname"): string {
  if (typeof value !== "string" || !HOSTNAME_PATTERN.test(value)) {
    throw new ValidationError(
      field,
      `must be a lower-case DNS name with at least two labels (letters, digits, '-', '.'; got ${describe(value)})`,
    );
  }
  // an internationalised name can look like another (a homograph of a gear's name): not routed
  if (value.split(".").some((label) => label.startsWith("xn--")))
    throw new ValidationError(field, `must not have a punycode label (xn--...; got ${describe(value)})`);
  return value;
}

/** A host name of a gear's spec that is not the gear's to have (see hostnameProblems). */
export interface HostnameProblem {
  readonly field: string;
  readonly hostname: string;
  /** the gear whose own host name it is (a conflict), or null (not a name any gear may alias) */
  readonly ownerGear: string | null;
  readonly message: string;
}

/**
 * Names under the cloud domain belong to gears: each gear's own `<app>-<namespace>.<cloudDomain>` is its
 * alone (and its application's other gears'), whether or not that gear has routes yet. So a gear may have
 * no name under the cloud domain but its own, and never the cloud domain itself (OpenShift's broker, with
 * ALLOW_ALIAS_IN_DOMAIN=false, refused such aliases too). `ownName`: the gear's own host name;
 * `gearNames`: every other gear's own host name on the node → that gear's uuid. Pure.
 */
export function hostnameProblems(
  hostnames: readonly string[],
  ownName: string,
  cloudDomain: string,
  gearNames: ReadonlyMap<string, string>,
): HostnameProblem[] {
  const out: HostnameProblem[] = [];
  hostnames.forEach((h, i) => {
    const field = `hostnames[${i}]`;
    if (h === ownName) return;
    if (h === cloudDomain) {
      out.push({
        field,
        hostname: h,
        ownerGear: null,
        message: `${h} is the cloud domain ${cloudDomain} itself`,
      });
      return;
    }
    if (!h.endsWith(`.${cloudDomain}`)) return;
    const owner = gearNames.get(h) ?? null;
    out.push({
      field,
      hostname: h,
      ownerGear: owner,
      message: owner
        ? `${h} is the host name of gear ${owner}`
        : `${h} is under the cloud domain ${cloudDomain}, where a gear has only its own name (${ownName})`,
    });
  });
  return out;
}

/** A route path: "" (root) or "/a/b" (see ROUTE_PATH_PATTERN; "." and ".." segments are refused). */
export function validateRoutePath(value: unknown, field = "path"): string {
  if (value === "") return value;
  if (
    typeof value !== "string" ||
    !ROUTE_PATH_PATTERN.test(value) ||
    value.split("/").some((s) => s === "." || s === "..")
  ) {
    throw new ValidationError(
      field,
      `must be "" or "/segment[/segment...]" of letters, digits and . _ ~ - (no trailing slash; got ${describe(value)})`,
    );
  }
  return value;
}

/** A backend address: an IPv4 address inside 127.0.0.0/8 (gear private IPs), dotted quad, no leading zeros. */
export function validateBackendIp(value: unknown, field = "backend.ip"): string {
  const ok =
    typeof value === "string" &&
    /^127(?:\.(?:0|[1-9][0-9]{0,2})){3}$/.test(value) &&
    value.split(".").every((o) => Number(o) <= 255);
  if (!ok)
    throw new ValidationError(field, `must be an IPv4 address in 127.0.0.0/8 (got ${describe(value)})`);
  return value as string;
}

export function validatePort(value: unknown, field = "backend.port"): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new ValidationError(field, `must be an integer 1..65535 (got ${describe(value)})`);
  }
  return value;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function onlyKeys(o: Record<string, unknown>, allowed: string[], field: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k))
      throw new ValidationError(`${field}${k}`, `unknown field (allowed: ${allowed.join(", ")})`);
  }
}

function validateRoute(value: unknown, i: number): FrontendRoute {
  const f = `routes[${i}]`;
  if (!isObj(value)) throw new ValidationError(f, "must be an object");
  onlyKeys(value, ["path", "backend", "websocket"], `${f}.`);
  const p = validateRoutePath(value.path, `${f}.path`);
  const b = value.backend;
  if (!isObj(b)) throw new ValidationError(`${f}.backend`, "must be an object {ip, port, path?}");
  onlyKeys(b, ["ip", "port", "path"], `${f}.backend.`);
  const ip = validateBackendIp(b.ip, `${f}.backend.ip`);
  const port = validatePort(b.port, `${f}.backend.port`);
  const bpath = b.path === undefined ? "" : validateRoutePath(b.path, `${f}.backend.path`);
  if (value.websocket !== undefined && typeof value.websocket !== "boolean") {
    throw new ValidationError(`${f}.websocket`, "must be a boolean");
  }
  return {
    path: p,
    backend: bpath ? { ip, port, path: bpath } : { ip, port },
    ...(value.websocket === true ? { websocket: true } : {}),
  };
}

/** Longest path first (as OpenShift orders its route files), then by name. */
function routeOrder(a: FrontendRoute, b: FrontendRoute): number {
  return b.path.length - a.path.length || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/** Validate a frontend spec and return its canonical form. Unknown keys are refused. Pure. */
export function validateFrontendSpec(input: unknown): GearFrontendSpec {
  if (!isObj(input)) throw new ValidationError("request", "must be a JSON object");
  onlyKeys(input, ["gearUuid", "hostnames", "routes", "idle"], "");
  if (typeof input.gearUuid !== "string" || !UUID_PATTERN.test(input.gearUuid)) {
    throw new ValidationError(
      "gearUuid",
      `must be exactly 32 lowercase hex characters (got ${describe(input.gearUuid)})`,
    );
  }
  const hs = input.hostnames;
  if (!Array.isArray(hs) || hs.length === 0 || hs.length > MAX_HOSTNAMES) {
    throw new ValidationError("hostnames", `must be a list of 1..${MAX_HOSTNAMES} host names`);
  }
  const hostnames = hs.map((h, i) => validateHostname(h, `hostnames[${i}]`));
  const dup = hostnames.find((h, i) => hostnames.indexOf(h) !== i);
  if (dup) throw new ValidationError("hostnames", `${describe(dup)} is listed twice`);
  const rs = input.routes;
  if (!Array.isArray(rs) || rs.length > MAX_ROUTES) {
    throw new ValidationError("routes", `must be a list of at most ${MAX_ROUTES} routes`);
  }
  const routes = rs.map(validateRoute).sort(routeOrder);
  const dupPath = routes.find((r, i) => i > 0 && routes[i - 1].path === r.path);
  if (dupPath) throw new ValidationError("routes", `path ${describe(dupPath.path)} is mapped twice`);
  if (input.idle !== undefined && typeof input.idle !== "boolean") {
    throw new ValidationError("idle", "must be a boolean");
  }
  return {
    gearUuid: input.gearUuid,
    hostnames,
    routes,
    ...(input.idle === true ? { idle: true } : {}),
  };
}
