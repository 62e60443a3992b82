// Shared setup of the cartridge tests (real host, as root): a temp node with the shipped cartridges in its
// repository, a frontend, HTTP helpers and a full snapshot of a gear (files, env, processes, routes) for
// "left exactly as it was" / "nothing left" assertions.

import { createHash } from "crypto";
import { existsSync, mkdtempSync, promises as fs, readdirSync, rmSync } from "fs";
import * as http from "http";
import * as path from "path";
import { createGear } from "../../node/gear/lifecycle";
import { processesOfUid } from "../../node/host/procs";
import { nodeFrontend, type Frontend, type GearFrontendSpec } from "../../node/cartridge/frontend";
import { startPrivateNginx, type PrivateNginx } from "../helpers/private-nginx";
import { addToRepository } from "../../node/cartridge/repository";
import { makeTestNode, newUuid, REPO, requirePrereqs, type TestNode } from "./helpers";

export const SHIPPED = ["nodejs", "python", "static", "postgresql", "cron"] as const;

/** Fail loudly (with the fix) when a Debian package the shipped cartridges need is missing. */
export function requireCartridgePrereqs(): void {
  requirePrereqs();
  const missing: string[] = [];
  if (!existsSync("/usr/bin/python3")) missing.push("python3");
  if (!existsSync("/usr/sbin/cron")) missing.push("cron");
  const pg =
    existsSync("/usr/lib/postgresql") &&
    readdirSync("/usr/lib/postgresql").some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/pg_ctl`));
  if (!pg) missing.push("postgresql");
  if (missing.length)
    throw new Error(
      `missing Debian packages: ${missing.join(", ")}. Fix: apt-get update && apt-get install -y ${missing.join(" ")}`,
    );
  const major = Number(process.versions.node.split(".")[0]);
  if (!existsSync("/usr/bin/node") || major < 18)
    throw new Error("the nodejs cartridge needs Node.js >= 18 at /usr/bin/node (the node host's node)");
}

export interface CartridgeTestNode extends TestNode {
  /** the node's frontend (node/frontend) driving the private nginx below */
  readonly frontend: Frontend;
  readonly nginx: PrivateNginx;
  /** a gear with the i-th UID; `appUuid` joins it to an application (publish/subscribe) */
  gear(
    i: number,
    app?: string,
    namespace?: string,
    appUuid?: string,
  ): Promise<{ uuid: string; uid: number; home: string }>;
  /**
   * GET through nginx with a Host header. A route change is served from the first request after the
   * operation that made it returns (the frontend's reload waits for nginx's workers to switch).
   */
  viaNginx(hostname: string, urlPath?: string): Promise<HttpResult>;
}

/**
 * A test node (see helpers.ts) whose frontend is a private nginx on 127.0.0.1:<free port> (never the
 * system nginx), with the shipped cartridges in its repository.
 */
export async function makeCartridgeNode(
  name: string,
  firstUid: number,
  opts: { idleStarter?: string; config?: Record<string, unknown> } = {},
): Promise<CartridgeTestNode> {
  requireCartridgePrereqs();
  const nginxDir = mkdtempSync(`/tmp/gt-test-${name}-nginx-`);
  const nginx = await startPrivateNginx(nginxDir, opts);
  let node: TestNode;
  try {
    node = await makeTestNode(name, firstUid, { ...opts.config, frontend: nginx.frontend });
    for (const c of SHIPPED) await addToRepository(node.config, path.join(REPO, "cartridges", c));
  } catch (e) {
    await nginx.stop();
    rmSync(nginxDir, { recursive: true, force: true });
    throw e;
  }
  const frontend: Frontend = nodeFrontend();
  return {
    ...node,
    frontend,
    nginx,
    async gear(i, app = "myapp", namespace = "dev", appUuid?: string) {
      const uuid = newUuid();
      const uid = node.uid(i);
      const spec = { uuid, uid, app, namespace, profile: "small", ...(appUuid ? { appUuid } : {}) };
      await createGear(node.ctx, spec, { inspect: false });
      return { uuid, uid, home: path.join(node.config.gearBaseDir, uuid) };
    },
    viaNginx: (hostname, urlPath = "/") => httpGet("127.0.0.1", nginx.port, urlPath, hostname),
    async cleanup() {
      try {
        await node.cleanup();
      } finally {
        await nginx.stop();
        rmSync(nginxDir, { recursive: true, force: true });
      }
    },
  };
}

export interface HttpResult {
  readonly status: number;
  readonly body: string;
}

/** GET http://ip:port/path (optionally with a Host header); rejects when nothing listens. */
export function httpGet(ip: string, port: number, urlPath = "/", host?: string): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: ip, port, path: urlPath, headers: host ? { host } : {}, timeout: 5000, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/** Everything observable about a gear: each path under the home (type, mode, owner, content digest). */
export async function homeTree(home: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    const abs = rel ? path.join(home, rel) : home;
    const st = await fs.lstat(abs);
    const mode = (st.mode & 0o7777).toString(8);
    const who = `${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) out.push(`L ${rel} ${who} -> ${await fs.readlink(abs)}`);
    else if (st.isDirectory()) {
      out.push(`D ${rel || "."} ${mode} ${who}`);
      for (const n of (await fs.readdir(abs)).sort()) await walk(rel ? `${rel}/${n}` : n);
    } else {
      const digest = createHash("sha256")
        .update(await fs.readFile(abs))
        .digest("hex")
        .slice(0, 16);
      out.push(`F ${rel} ${mode} ${who} ${digest}`);
    }
  };
  await walk("");
  return out;
}

export interface GearSnapshot {
  readonly tree: string[];
  readonly processes: string[];
  readonly frontend: GearFrontendSpec | null;
}

export async function gearSnapshot(
  node: CartridgeTestNode,
  g: { uuid: string; uid: number; home: string },
): Promise<GearSnapshot> {
  return {
    tree: await homeTree(g.home),
    processes: (await processesOfUid(g.uid)).map((p) => `${p.pid} ${p.comm}`).sort(),
    frontend: (await node.frontend.readGearFrontend(node.ctx, g.uuid)) ?? null,
  };
}

/** Wait until fn() is true (polling), or fail with `what`. */
export async function waitFor(what: string, fn: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function refused(ip: string, port: number): Promise<boolean> {
  return httpGet(ip, port).then(
    () => false,
    () => true,
  );
}
