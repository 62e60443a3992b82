// Pure, deterministic rendering of the nginx files of the frontend: the same spec and config give the same
// bytes (no time, no randomness), so an unchanged spec is a no-op and a changed file is drift.

import { readFileSync } from "fs";
import Handlebars from "handlebars";
import * as path from "path";
import type { FrontendConfig, FrontendTlsConfig } from "../types";
import type { GearFrontendSpec } from "./validate";
import { templateDir } from "../../common/template-dir";

/** Seconds a client is told to wait (Retry-After, meta refresh) while an idle gear starts. */
export const RETRY_AFTER_SECONDS = 5;
/** The line of a gear file that holds its spec (canonical JSON); read back by readGearFrontend. */
export const SPEC_PREFIX = "# geartrain-spec ";
export const BASE_FILE = "00-geartrain-base.conf";
export const GEAR_FILE_PATTERN = /^gear-([0-9a-f]{32})\.conf$/;

export function gearFileName(uuid: string): string {
  return `gear-${uuid}.conf`;
}

interface Templates {
  gear: Handlebars.TemplateDelegate;
  base: Handlebars.TemplateDelegate;
  starting: Handlebars.TemplateDelegate;
}

let cached: Templates | null = null;

function templates(): Templates {
  if (cached) return cached;
  const dir = templateDir(__dirname, "node/frontend/templates", "gear.conf.hbs");
  const hb = Handlebars.create();
  const read = (f: string) => readFileSync(path.join(dir, f), "utf8");
  hb.registerPartial("headers", read("headers.hbs"));
  hb.registerPartial("tls", read("tls.hbs"));
  const opts = { noEscape: true, strict: true };
  cached = {
    gear: hb.compile(read("gear.conf.hbs"), opts),
    base: hb.compile(read("base.conf.hbs"), opts),
    starting: hb.compile(read("starting.html.hbs"), opts),
  };
  return cached;
}

/** The "starting" page of an idle gear (one line; safe inside an nginx double-quoted string). */
export function renderStartingPage(retryAfter = RETRY_AFTER_SECONDS): string {
  const page = templates().starting({ retryAfter }).trim();
  if (/["$\\\n\r]/.test(page)) throw new Error("starting page must not contain quotes, $, \\ or newlines");
  return page;
}

/** The canonical JSON of a (validated) spec, one line. */
export function specJson(spec: GearFrontendSpec): string {
  return JSON.stringify({
    gearUuid: spec.gearUuid,
    hostnames: spec.hostnames,
    routes: spec.routes.map((r) => ({
      path: r.path,
      backend: r.backend.path
        ? { ip: r.backend.ip, port: r.backend.port, path: r.backend.path }
        : { ip: r.backend.ip, port: r.backend.port },
      ...(r.websocket ? { websocket: true } : {}),
    })),
    ...(spec.idle ? { idle: true } : {}),
  });
}

interface Location {
  readonly match: string;
  readonly target: string;
  readonly websocket: boolean;
}

/**
 * nginx locations of the routes (spec already canonical: longest path first). OpenShift's `ProxyPass <path>
 * http://<ip:port><backend path>` semantics, on path-segment boundaries:
 *   ""   → backend B: `location /`                           → http://ip:port (B "") or http://ip:port/B/
 *   "/a" → backend B: `location = /a` + `location /a/`       → /a → B or "/", /a/x → B/x
 */
export function routeLocations(spec: GearFrontendSpec): Location[] {
  const out: Location[] = [];
  for (const r of spec.routes) {
    const origin = `http://${r.backend.ip}:${r.backend.port}`;
    const b = r.backend.path ?? "";
    const websocket = !!r.websocket;
    if (r.path === "") {
      out.push({ match: "/", target: b ? `${origin}${b}/` : origin, websocket });
    } else {
      out.push({ match: `= ${r.path}`, target: `${origin}${b || "/"}`, websocket });
      out.push({ match: `${r.path}/`, target: `${origin}${b}/`, websocket });
    }
  }
  return out;
}

/** What the templates need of frontend.tls (null: HTTP only). */
function tlsView(tls: FrontendTlsConfig | null | undefined) {
  if (!tls) return null;
  return {
    listenDirective: `${tls.listen} ssl${tls.http2 ? " http2" : ""}`,
    certificate: tls.certificate,
    key: tls.key,
  };
}

/** The frontend config a gear file depends on (`tls` absent or null: HTTP only). */
export type GearConfFrontend = Pick<FrontendConfig, "listen" | "idleStarter"> & {
  readonly tls?: FrontendTlsConfig | null;
};

/**
 * The nginx file of one gear: one server block for its host names on `listen` and, with `fe.tls`, on the TLS
 * listener too (same locations, so idling and routes are the same over both). Pure; the spec must be
 * validated (validateFrontendSpec).
 */
export function renderGearConf(spec: GearFrontendSpec, fe: GearConfFrontend): string {
  return templates().gear({
    tls: tlsView(fe.tls),
    uuid: spec.gearUuid,
    specJson: specJson(spec),
    listen: fe.listen,
    serverNames: spec.hostnames.join(" "),
    idle: !!spec.idle,
    idleStarter: fe.idleStarter,
    retryAfter: RETRY_AFTER_SECONDS,
    startingPage: renderStartingPage(),
    hasRoot: spec.routes.some((r) => r.path === ""),
    locations: routeLocations(spec),
  });
}

/** The shared file (map for websockets, server name hash sizes, default servers for HTTP and TLS). Pure. */
export function renderBaseConf(
  fe: Pick<FrontendConfig, "listen"> & { readonly tls?: FrontendTlsConfig | null },
): string {
  return templates().base({ listen: fe.listen, tls: tlsView(fe.tls) });
}

/** The spec stored in a gear file (null when the line is missing). Throws on a damaged line. */
export function parseSpecLine(text: string): unknown {
  const line = text.split("\n").find((l) => l.startsWith(SPEC_PREFIX));
  if (line === undefined) return null;
  return JSON.parse(line.slice(SPEC_PREFIX.length)) as unknown;
}
