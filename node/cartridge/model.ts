// Pure rules of cartridges on a node: names, the directory in the gear, the variables the node writes,
// private IP allocation, the install plan (hook order), template passes, env layering for hooks,
// publish/subscribe matching and frontend routes. No I/O here; everything is unit-tested.

import * as path from "path";
import { ValidationError } from "../../common/errors";
// the parsed-manifest helpers, not the cartridges/manifest door: that loads the parser (yaml, ajv), and this
// module is on every gear-side start (the git forced command and hooks)
import {
  hasPrivateAddress,
  STANDARD_CONTROL_ACTIONS,
  type Manifest,
  type Mapping,
} from "../../cartridges/schema/manifest";
import { cartridgeVariable } from "../../cartridges/manifest/variables";
import { cartridgeIdent } from "../../cartridges/manifest/versions";
import { GEAR_PATH } from "../gear/env";
import { ENV_NAME_PATTERN, RESERVED_ENV_NAMES } from "../../common/env-names";

/** bin/control action names (standard or Additional-Control-Actions). */
export const ACTION_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;
/** Cartridge Name (as the manifest schema). */
export const CARTRIDGE_NAME_PATTERN = /^[a-z0-9](?:[-.a-z0-9_]*[a-z0-9])?$/;
export const VENDOR_PATTERN = /^[a-z0-9](?:[a-z0-9_]*[a-z0-9])?$/;
export const VERSION_PATTERN = /^[0-9]+(?:\.[0-9]+)*$/;
/** The cartridge's directory in the gear: its short name in lower case. */
export const CARTRIDGE_DIR_PATTERN = /^[a-z][a-z0-9]{0,31}$/;
/** Publish/subscribe event names (= hooks/<event>). */
export const EVENT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** Gear home entries a cartridge directory can never take. */
export const RESERVED_DIRS: readonly string[] = ["app-root", "git", "lost+found"];

/** Actions the node sends to every cartridge's bin/control (OpenShift v2 §6.3): the manifest schema's list. */
export const CONTROL_ACTIONS: readonly string[] = STANDARD_CONTROL_ACTIONS;

/** Variable (without prefix) a hook gets naming the cartridge it belongs to; marks the processes it starts. */
export const CARTRIDGE_MARK = "CARTRIDGE";

export const CRON_FREQUENCIES = ["minutely", "hourly", "daily", "weekly", "monthly"] as const;
export type CronFrequency = (typeof CRON_FREQUENCIES)[number];

function describe(value: unknown): string {
  const s = typeof value === "string" ? JSON.stringify(value) : String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function validateCartridgeName(value: unknown, field = "cartridge"): string {
  if (typeof value !== "string" || value.length > 32 || !CARTRIDGE_NAME_PATTERN.test(value)) {
    throw new ValidationError(
      field,
      `must be a cartridge name (1-32 lowercase letters or digits, '-' '.' '_' inside; got ${describe(value)})`,
    );
  }
  return value;
}

export function validateVendor(value: unknown, field = "vendor"): string {
  if (typeof value !== "string" || value.length > 32 || !VENDOR_PATTERN.test(value)) {
    throw new ValidationError(field, `must be a vendor name (got ${describe(value)})`);
  }
  return value;
}

export function validateVersion(value: unknown, field = "version"): string {
  if (typeof value !== "string" || value.length > 32 || !VERSION_PATTERN.test(value)) {
    throw new ValidationError(field, `must be a version such as 1.2 (got ${describe(value)})`);
  }
  return value;
}

/** An action bin/control accepts for this manifest: a standard one or one of Additional-Control-Actions. */
export function validateAction(value: unknown, manifest: Manifest, field = "action"): string {
  if (typeof value !== "string" || !ACTION_PATTERN.test(value)) {
    throw new ValidationError(field, `must match ${ACTION_PATTERN.source} (got ${describe(value)})`);
  }
  if (!CONTROL_ACTIONS.includes(value) && !manifest["Additional-Control-Actions"].includes(value)) {
    const extra = manifest["Additional-Control-Actions"];
    throw new ValidationError(
      field,
      `unknown action ${describe(value)} for ${manifest.Name} (standard: ${CONTROL_ACTIONS.join(", ")}${
        extra.length ? `; additional: ${extra.join(", ")}` : ""
      })`,
    );
  }
  return value;
}

/** ~/<dir>/ of the cartridge in a gear: the short name in lower case (as OpenShift's cartridge.directory). */
export function cartridgeDir(manifest: Pick<Manifest, "Cartridge-Short-Name">): string {
  const dir = manifest["Cartridge-Short-Name"].toLowerCase();
  if (!CARTRIDGE_DIR_PATTERN.test(dir) || RESERVED_DIRS.includes(dir)) {
    throw new ValidationError(
      "Cartridge-Short-Name",
      `${describe(manifest["Cartridge-Short-Name"])} would use the gear directory ~/${dir}/, which is reserved`,
    );
  }
  return dir;
}

// ---------------------------------------------------------------------------------------------------------
// Private endpoints

/** Distinct Private-IP-Names of the manifest, in first-use order. */
export function ipNames(manifest: Manifest): string[] {
  const out: string[] = [];
  for (const e of manifest.Endpoints)
    if (hasPrivateAddress(e) && !out.includes(e["Private-IP-Name"])) out.push(e["Private-IP-Name"]);
  return out;
}

/**
 * OpenShift's find_open_ip: each distinct Private-IP-Name takes the lowest host id (1..127) of the gear's
 * loopback block not used by another cartridge of the gear.
 */
export function allocateHostIds(names: readonly string[], used: Iterable<number>): Record<string, number> {
  const taken = new Set(used);
  const out: Record<string, number> = {};
  for (const n of names) {
    let id = 1;
    while (taken.has(id)) id++;
    if (id > 127)
      throw new ValidationError("endpoints", "the gear's 127 private IP addresses are all in use");
    taken.add(id);
    out[n] = id;
  }
  return out;
}

export interface EndpointBinding {
  readonly ipName: string;
  readonly ip: string;
  readonly portName: string;
  readonly port: number;
  readonly mappings: readonly Mapping[];
}

export function endpointBindings(
  manifest: Manifest,
  ips: Readonly<Record<string, string>>,
): EndpointBinding[] {
  const out: EndpointBinding[] = [];
  for (const e of manifest.Endpoints) {
    if (!hasPrivateAddress(e)) continue;
    out.push({
      ipName: e["Private-IP-Name"],
      ip: ips[e["Private-IP-Name"]],
      portName: e["Private-Port-Name"],
      port: e["Private-Port"],
      mappings: e.Mappings ?? [],
    });
  }
  return out;
}

export interface NodeEnvInput {
  readonly manifest: Manifest;
  readonly prefix: string;
  readonly home: string;
  readonly dir: string;
  readonly ips: Readonly<Record<string, string>>;
  /** set <PREFIX>PRIMARY_CARTRIDGE_DIR (first web_framework of the gear) */
  readonly primary: boolean;
}

/**
 * Variables the node writes into ~/.env for a cartridge: <P><SHORT>_DIR, _IDENT, one per Private-IP-Name
 * (the allocated address) and per Private-Port-Name (the manifest's port); and the primary cartridge dir.
 */
export function nodeCartridgeEnv(input: NodeEnvInput): Record<string, string> {
  const { manifest, prefix } = input;
  const v = (name: string) => cartridgeVariable(manifest, name, prefix);
  const out: Record<string, string> = {
    [v("DIR")]: `${path.join(input.home, input.dir)}/`,
    [v("IDENT")]: cartridgeIdent(manifest),
  };
  for (const b of endpointBindings(manifest, input.ips)) {
    out[v(b.ipName)] = b.ip;
    out[v(b.portName)] = String(b.port);
  }
  if (input.primary) out[`${prefix}PRIMARY_CARTRIDGE_DIR`] = `${path.join(input.home, input.dir)}/`;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Is ip:port (or the wildcard address on that port) in LISTEN state in a /proc/net/tcp table? */
export function listeningOn(procNetTcp: string, ip: string, port: number): boolean {
  const hexIp = (s: string) =>
    s
      .split(".")
      .map((o) => Number(o).toString(16).padStart(2, "0").toUpperCase())
      .reverse()
      .join("");
  const want = new Set([`${hexIp(ip)}:${port.toString(16).toUpperCase().padStart(4, "0")}`]);
  want.add(`00000000:${port.toString(16).toUpperCase().padStart(4, "0")}`);
  for (const line of procNetTcp.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 3 && f[3] === "0A" && want.has(f[1].toUpperCase())) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------
// Install plan (hook order) and templates

export type InstallStep =
  | "copy"
  | "env"
  | "render-env"
  | "setup"
  | "render"
  | "install"
  | "build"
  | "repo"
  | "start"
  | "routes"
  | "post_install";

export interface PlanInput {
  readonly scripts: Readonly<Partial<Record<string, string>>>;
  readonly manifest: Manifest;
  /** the cartridge has a template/ starter app */
  readonly hasTemplate: boolean;
}

/**
 * The steps of an install, in the format's order (reference §6.3): copy, node env, env/*.hbs, bin/setup,
 * the other templates, bin/install, (build when Install-Build-Required), starter app into the repo,
 * bin/control start, frontend routes, bin/post_install. Optional scripts that are absent are skipped.
 */
export function installPlan(input: PlanInput): InstallStep[] {
  const steps: InstallStep[] = ["copy", "env", "render-env"];
  if (input.scripts.setup) steps.push("setup");
  steps.push("render");
  if (input.scripts.install) steps.push("install");
  if (input.hasTemplate) steps.push("repo");
  if (input.manifest["Install-Build-Required"]) steps.push("build");
  steps.push("start");
  if (input.manifest.Endpoints.some((e) => (e.Mappings ?? []).length > 0)) steps.push("routes");
  if (input.scripts.post_install) steps.push("post_install");
  return steps;
}

/** A managed_files glob as a RegExp: `**` any depth (also none), `*` and `?` within a segment, dotfiles too. */
export function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*" && pattern[i + 1] === "*") {
      i++;
      if (pattern[i + 1] === "/") {
        i++;
        re += "(?:.*/)?";
      } else re += ".*";
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Directories of a cartridge whose .hbs files are not the cartridge's (starter app, shared files). */
const NOT_RENDERED = ["template/", "template.git/", "usr/"];

/**
 * The templates rendered in each pass (reference §6.4): pass 1 = env/*.hbs, before bin/setup; pass 2 = the
 * files matching managed_files.yml processed_templates (default every *.hbs), after bin/setup, before
 * bin/install. Paths are relative to the cartridge directory; `~/<dir>/` patterns are anchored there.
 */
export function templatePass(
  files: readonly string[],
  pass: 1 | 2,
  processed: readonly string[],
  dir: string,
): string[] {
  const hbs = files.filter((f) => f.endsWith(".hbs") && !NOT_RENDERED.some((d) => f.startsWith(d)));
  if (pass === 1) return hbs.filter((f) => /^env\/[^/]+\.hbs$/.test(f)).sort();
  const patterns = (processed.length ? processed : ["**/*.hbs"])
    .map((p) => (p.startsWith(`~/${dir}/`) ? p.slice(dir.length + 3) : p))
    .filter((p) => !p.startsWith("~/") && !p.startsWith("/"))
    .map((p) => (p.endsWith("/") ? `${p}**` : p))
    .map(globToRegExp);
  return hbs.filter((f) => !f.startsWith("env/") && patterns.some((re) => re.test(f))).sort();
}

// ---------------------------------------------------------------------------------------------------------
// Env layering for hooks

export interface CartridgeEnvSource {
  readonly dir: string;
  readonly shortName: string;
  /** variables read from ~/<dir>/env/ */
  readonly vars: Readonly<Record<string, string>>;
}

/** Why a cartridge env/ variable is not used at run time, or undefined when it is. */
export function cartridgeEnvProblem(name: string, shortName: string, prefix: string): string | undefined {
  if (!ENV_NAME_PATTERN.test(name)) return "not a variable name";
  if (RESERVED_ENV_NAMES.includes(name)) return "set by the node";
  if (name === `${prefix}${CARTRIDGE_MARK}`) return "set by the node";
  if (name.startsWith(prefix) && !name.startsWith(`${prefix}${shortName}_`))
    return `outside the cartridge's ${prefix}${shortName}_* namespace`;
  return undefined;
}

export interface HookEnvInput {
  readonly prefix: string;
  /** ~/.env (node-written) variables */
  readonly dotEnv: Readonly<Record<string, string>>;
  /** ~/.env/user_vars */
  readonly userVars: Readonly<Record<string, string>>;
  /** every cartridge of the gear, sorted by dir */
  readonly cartridges: readonly CartridgeEnvSource[];
  /** the cartridge the hook belongs to (null: not a cartridge hook) */
  readonly self: string | null;
}

/**
 * The per-call extras for runInGear (which already loads ~/.env then user vars). OpenShift's load order is
 * ~/.env → ~/<cart>/env → user vars, and cartridge env may not override the node's variables: so a
 * cartridge variable is passed only when neither ~/.env nor the user vars have it. PATH gets every
 * <P><SHORT>_PATH_ELEMENT in front of the gear PATH. <P>CARTRIDGE names the hook's cartridge; it is
 * inherited by the processes the hook starts, which is how they are found again on removal.
 */
export function hookEnv(input: HookEnvInput): Record<string, string> {
  const out: Record<string, string> = {};
  const elements: string[] = [];
  for (const c of [...input.cartridges].sort((a, b) => (a.dir < b.dir ? -1 : 1))) {
    for (const [k, v] of Object.entries(c.vars).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (cartridgeEnvProblem(k, c.shortName, input.prefix) !== undefined) continue;
      if (k in input.dotEnv || k in input.userVars) continue;
      out[k] = v;
    }
    const el = `${input.prefix}${c.shortName}_PATH_ELEMENT`;
    const value = input.userVars[el] ?? input.dotEnv[el] ?? c.vars[el];
    if (value) elements.push(...value.split(":").filter((p) => p.startsWith("/")));
  }
  if (elements.length) out.PATH = [...elements, GEAR_PATH].join(":");
  if (input.self !== null) out[`${input.prefix}${CARTRIDGE_MARK}`] = input.self;
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Publish / subscribe

/**
 * Does a subscription of type `sub` take a publication of type `pub`? Exact match, or a `*` part in the
 * subscription matching the rest (`ENV:*` takes every `ENV:` publication).
 */
export function connectionMatches(pub: string, sub: string): boolean {
  const p = pub.split(":");
  const s = sub.split(":");
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "*") return i < p.length;
    if (p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

export const PUBLISHED_VALUE_MAX_BYTES = 4096;

/**
 * Parse a publish hook's output for an ENV: publication: `NAME=VALUE` lines (optionally `export NAME=VALUE`),
 * blank and `#` lines ignored. Names must be in the publisher's own <P><SHORT>_* namespace.
 */
export function parsePublishedEnv(
  output: string,
  publisherShort: string,
  prefix: string,
): { vars: Record<string, string>; problems: string[] } {
  const vars: Record<string, string> = {};
  const problems: string[] = [];
  const own = `${prefix}${publisherShort}_`;
  for (const raw of output.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    const m = /^(?:export\s+)?([^=\s]+)=(.*)$/.exec(line);
    if (!m) {
      problems.push(`not NAME=VALUE: ${describe(line)}`);
      continue;
    }
    const [, name, value] = m;
    if (!ENV_NAME_PATTERN.test(name) || !name.startsWith(own) || name.length === own.length) {
      problems.push(`${describe(name)} is not a variable in the publisher's ${own}* namespace`);
      continue;
    }
    if (value.includes("\0") || Buffer.byteLength(value) > PUBLISHED_VALUE_MAX_BYTES) {
      problems.push(`${name}: value longer than ${PUBLISHED_VALUE_MAX_BYTES} bytes or contains NUL`);
      continue;
    }
    vars[name] = value;
  }
  return { vars, problems };
}

// ---------------------------------------------------------------------------------------------------------
// Frontend routes

export interface RouteSpec {
  readonly path: string;
  readonly backend: { readonly ip: string; readonly port: number; readonly path?: string };
  readonly websocket?: boolean;
}

/**
 * Frontend routes of a gear's cartridges from their endpoints' Mappings (Frontend '' is the root, as in the
 * frontend's specs).
 * Only proxy routes (no option, or websocket) are routed; the others (health, gone, ...) are listed in
 * `skipped`. A Frontend path already routed by an earlier cartridge (sorted by dir) is skipped too.
 */
export function gearRoutes(cartridges: readonly { dir: string; endpoints: readonly EndpointBinding[] }[]): {
  routes: RouteSpec[];
  skipped: string[];
} {
  const routes: RouteSpec[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  for (const c of [...cartridges].sort((a, b) => (a.dir < b.dir ? -1 : 1))) {
    for (const e of c.endpoints) {
      for (const m of e.mappings) {
        const p = m.Frontend;
        const opts = Object.entries(m.Options ?? {})
          .filter(([, on]) => on)
          .map(([k]) => k);
        if (opts.some((o) => o !== "websocket")) {
          skipped.push(`${c.dir} ${p || "/"} (${opts.join(", ")}: not supported by the frontend)`);
          continue;
        }
        if (seen.has(p)) {
          skipped.push(`${c.dir} ${p || "/"} (already routed)`);
          continue;
        }
        seen.add(p);
        const backend = m.Backend ? { ip: e.ip, port: e.port, path: m.Backend } : { ip: e.ip, port: e.port };
        routes.push(
          opts.includes("websocket") ? { path: p, backend, websocket: true } : { path: p, backend },
        );
      }
    }
  }
  // longest path first, then by name (the frontend's canonical order, as OpenShift ordered its route files)
  routes.sort((a, b) => b.path.length - a.path.length || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { routes, skipped };
}

/** Numeric comparison of dotted versions. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The /etc/cron.d file that makes the system cron call the node's cron runner (the cron cartridge). */
export function systemCronFile(geartrainBin: string, configPath: string | null): string {
  const env = configPath ? `GEARTRAIN_NODE_CONFIG=${configPath}\n` : "";
  const line = (when: string, f: CronFrequency) =>
    `${when} root ${geartrainBin} node cartridge cron-run ${f} >/dev/null 2>&1\n`;
  return (
    "# Geartrain cron cartridge: runs each gear's .geartrain/cron/<frequency>/ jobs as the gear.\n" +
    "SHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n" +
    env +
    line("* * * * *", "minutely") +
    line("7 * * * *", "hourly") +
    line("17 3 * * *", "daily") +
    line("27 4 * * 0", "weekly") +
    line("37 5 1 * *", "monthly")
  );
}
