// The unidler: a small HTTP server on the node (config frontend.idleStarter, loopback) that nginx sends every
// request of an idle gear to (OpenShift: restorer.php → oo-restorer, reference §9). It maps the Host header
// to the idle gear whose frontend lists that host name, calls startGear(uuid) once (concurrent requests for
// the same gear share the start), then switches the gear's frontend back to proxying (idle: false). Every
// request meanwhile gets the "starting" page: 503 with Retry-After, and a page that reloads itself.
//
// The host → gear map is read from the frontend files on each request, so there is no second copy of the
// routing state to keep in sync; only gears whose frontend is idle can be started through here.

import * as http from "http";
import type { AddressInfo } from "net";
import type { NodeContext } from "../context";
import { listGearFrontends, readGearFrontend, setGearFrontend } from "./operations";
import { renderStartingPage, RETRY_AFTER_SECONDS } from "./render";
import { HOSTNAME_PATTERN } from "./validate";

export interface UnidlerOptions {
  readonly ctx: NodeContext;
  /** start the gear's cartridges (the cartridge layer wires this to `bin/control start`) */
  readonly startGear: (gearUuid: string) => Promise<void>;
  /** listen here instead of config frontend.idleStarter (tests: port 0) */
  readonly listen?: { readonly host: string; readonly port: number };
  /** after a successful start, set the gear's frontend to idle: false (default true) */
  readonly unidleAfterStart?: boolean;
  /** a start or unidle failed (default: one line on stderr) */
  readonly onError?: (gearUuid: string, error: Error) => void;
}

export interface Unidler {
  readonly host: string;
  readonly port: number;
  /** starts in flight, by gear uuid (tests wait on these) */
  readonly starting: ReadonlyMap<string, Promise<void>>;
  close(): Promise<void>;
}

/** Host header → host name (lower case, port removed), or null if it is not a valid host name. */
export function hostOf(header: string | undefined): string | null {
  if (!header) return null;
  const h = header.toLowerCase().replace(/:[0-9]{1,5}$/, "");
  return HOSTNAME_PATTERN.test(h) ? h : null;
}

/** The gear whose frontend lists `host`, with its idle flag; null if none. */
export async function gearForHost(
  ctx: NodeContext,
  host: string,
): Promise<{ uuid: string; idle: boolean } | null> {
  for (const uuid of await listGearFrontends(ctx)) {
    const spec = await readGearFrontend(ctx, uuid).catch(() => null);
    if (spec?.hostnames.includes(host)) return { uuid, idle: !!spec.idle };
  }
  return null;
}

/** Set the gear's frontend idle flag, keeping its host names and routes. false when it has no frontend. */
export async function setGearIdle(ctx: NodeContext, gearUuid: string, idle: boolean): Promise<boolean> {
  const spec = await readGearFrontend(ctx, gearUuid);
  if (!spec) return false;
  await setGearFrontend(ctx, { ...spec, idle });
  return true;
}

export async function startUnidler(opts: UnidlerOptions): Promise<Unidler> {
  const { ctx } = opts;
  const [cfgHost, cfgPort] = ctx.config.frontend.idleStarter.split(":");
  const listen = opts.listen ?? { host: cfgHost, port: Number(cfgPort) };
  const onError =
    opts.onError ??
    ((uuid: string, e: Error) => process.stderr.write(`geartrain unidler: gear ${uuid}: ${e.message}\n`));
  const starting = new Map<string, Promise<void>>();
  const page = renderStartingPage();

  const start = (uuid: string): void => {
    if (starting.has(uuid)) return;
    const p = (async () => {
      try {
        await opts.startGear(uuid);
        if (opts.unidleAfterStart !== false) await setGearIdle(ctx, uuid, false);
      } catch (e) {
        onError(uuid, e as Error);
      } finally {
        starting.delete(uuid);
      }
    })();
    starting.set(uuid, p);
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const host = hostOf(req.headers.host);
      const gear = host ? await gearForHost(ctx, host).catch(() => null) : null;
      if (!gear) {
        res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : "no application with this host name\n");
        return;
      }
      // not idle any more: the proxy config is being reloaded; the client retries shortly
      if (gear.idle) start(gear.uuid);
      res.writeHead(503, {
        "Content-Type": "text/html; charset=utf-8",
        "Retry-After": String(RETRY_AFTER_SECONDS),
        "Cache-Control": "no-store",
      });
      res.end(req.method === "HEAD" ? undefined : page);
    })().catch((e: Error) => {
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(`unidler error: ${e.message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    host: addr.address,
    port: addr.port,
    starting,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
