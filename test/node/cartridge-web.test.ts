// The shipped web cartridges (nodejs, python, static) on the real host: install, served on the gear's
// private IP and routed by the frontend, status/inspect, stop (no longer served), start again, remove
// (the gear is exactly as before: files, env, processes, routes).

import { promises as fs, statSync, readFileSync, existsSync } from "fs";
import * as path from "path";
import { loopbackAddress } from "../../node/host/addresses";
import { cartridgeStatus, controlCartridge, installCartridge, removeCartridge } from "../../node";
import { repositoryRoot } from "../../node/cartridge/repository";
import { inspectGear } from "../../node/gear/lifecycle";
import {
  gearSnapshot,
  httpGet,
  makeCartridgeNode,
  refused,
  type CartridgeTestNode,
} from "./cartridge-helpers";

jest.setTimeout(120_000);

let node: CartridgeTestNode;
beforeAll(async () => {
  node = await makeCartridgeNode("cweb", 61700);
});
afterAll(async () => {
  await node?.cleanup();
});

const CASES = [
  {
    name: "nodejs",
    short: "NODEJS",
    page: /Welcome to nodejsapp.*Node\.js v/s,
    health: true,
    websocket: true,
    usr: false,
  },
  {
    name: "python",
    short: "PYTHON",
    page: /Welcome to pythonapp.*Python 3/s,
    health: true,
    websocket: false,
    usr: true,
  },
  {
    name: "static",
    short: "STATIC",
    page: /Welcome to your static site/,
    health: false,
    websocket: false,
    usr: true,
  },
] as const;

describe.each(CASES.map((c, i) => ({ ...c, i })))("$name cartridge", (c) => {
  test("install, serve, route, status, stop, start, remove leaves the gear as it was", async () => {
    const app = `${c.name}app`;
    const host = `${app}-dev.example.com`;
    const g = await node.gear(c.i + 1, app);
    const before = await gearSnapshot(node, g);
    const fe = node.frontend;

    const res = await installCartridge(node.ctx, g.uuid, { name: c.name }, { frontend: fe });
    expect(res.changed).toBe(true);
    expect(res.steps).toEqual(["copy", "env", "render-env", "setup", "render", "repo", "start", "routes"]);
    expect(res.cartridge).toMatchObject({ name: c.name, dir: c.name, phase: "installed", status: "started" });

    // env: node-written variables, private IP from the gear's loopback block, port from the manifest
    const ip = loopbackAddress(g.uid, 1);
    const env = (n: string) => readFileSync(path.join(g.home, ".env", n), "utf8");
    expect(env(`GEARTRAIN_${c.short}_IP`)).toBe(ip);
    expect(env(`GEARTRAIN_${c.short}_PORT`)).toBe("8080");
    expect(env(`GEARTRAIN_${c.short}_DIR`)).toBe(`${g.home}/${c.name}/`);
    expect(env(`GEARTRAIN_${c.short}_IDENT`)).toMatch(new RegExp(`^geartrain:${c.name}:[0-9.]+:0\\.1\\.0$`));
    expect(env("GEARTRAIN_PRIMARY_CARTRIDGE_DIR")).toBe(`${g.home}/${c.name}/`);
    const st = statSync(path.join(g.home, ".env", `GEARTRAIN_${c.short}_IP`));
    expect([st.uid, st.gid, (st.mode & 0o777).toString(8)]).toEqual([0, g.uid, "640"]);

    // files: copied and owned by the gear; usr/ is a link to the repository copy; env template rendered
    // as the gear (pass 1), the .hbs gone
    const cart = path.join(g.home, c.name);
    expect(statSync(cart).uid).toBe(g.uid);
    expect(statSync(path.join(cart, "bin/control")).uid).toBe(g.uid);
    const logVar = path.join(cart, "env", `GEARTRAIN_${c.short}_LOG_FILE`);
    expect(statSync(logVar).uid).toBe(g.uid);
    expect(readFileSync(logVar, "utf8").trim()).toBe(`${g.home}/app-root/logs/${c.name}.log`);
    expect(existsSync(`${logVar}.hbs`)).toBe(false);
    if (c.usr) {
      const link = await fs.readlink(path.join(cart, "usr"));
      expect(link.startsWith(repositoryRoot(node.config))).toBe(true);
      expect((await fs.lstat(path.join(cart, "usr"))).isSymbolicLink()).toBe(true);
    } else expect(existsSync(path.join(cart, "usr"))).toBe(false);

    // served on the private address
    const page = await httpGet(ip, 8080, "/");
    expect(page.status).toBe(200);
    expect(page.body).toMatch(c.page);
    if (c.health) expect((await httpGet(ip, 8080, "/health")).body).toBe("ok\n");

    // routed: <app>-<namespace>.<domain> → the endpoint, as the manifest's Mappings say; served through
    // nginx by Host header
    const spec = await fe.readGearFrontend(node.ctx, g.uuid);
    expect(spec).toEqual({
      gearUuid: g.uuid,
      hostnames: [host],
      routes: [{ path: "", backend: { ip, port: 8080 }, ...(c.websocket ? { websocket: true } : {}) }],
    });
    expect(res.routes.status).toBe("set");
    const viaNginx = await node.viaNginx(host, "/");
    expect(viaNginx.status).toBe(200);
    expect(viaNginx.body).toMatch(c.page);

    // the process runs as the gear, in the gear's cgroup
    const ins = await inspectGear(node.ctx, g.uuid);
    expect(ins.drift).toEqual([]);
    expect(ins.cartridges).toEqual([
      expect.objectContaining({
        name: c.name,
        version: res.cartridge.version,
        status: "started",
        exitCode: 0,
      }),
    ]);
    expect(ins.processes.length).toBeGreaterThan(0);
    expect(ins.processes.every((p) => p.inCgroup)).toBe(true);

    // stop: no longer served; status says so; inspect shows no drift (it was asked to stop)
    const stop = await controlCartridge(node.ctx, g.uuid, c.name, "stop", [], { frontend: fe });
    expect(stop.ok).toBe(true);
    expect(await refused(ip, 8080)).toBe(true);
    expect((await node.viaNginx(host, "/")).status).toBe(502);
    expect((await cartridgeStatus(node.ctx, g.uuid, c.name))[0]).toMatchObject({
      status: "stopped",
      exitCode: 1,
    });
    expect((await inspectGear(node.ctx, g.uuid)).drift).toEqual([]);

    // start and restart: served again
    expect((await controlCartridge(node.ctx, g.uuid, c.name, "start", [], { frontend: fe })).ok).toBe(true);
    expect((await httpGet(ip, 8080, "/")).status).toBe(200);
    expect((await node.viaNginx(host, "/")).body).toMatch(c.page);
    expect((await controlCartridge(node.ctx, g.uuid, c.name, "restart", [], { frontend: fe })).ok).toBe(true);
    expect((await httpGet(ip, 8080, "/")).status).toBe(200);
    expect((await controlCartridge(node.ctx, g.uuid, c.name, "tidy", [], { frontend: fe })).ok).toBe(true);

    // a crashed server shows as drift (asked to run, not running)
    const pid = Number(
      readFileSync(
        path.join(
          cart,
          "run",
          c.name === "nodejs" ? "node.pid" : c.name === "python" ? "wsgi.pid" : "static.pid",
        ),
        "utf8",
      ),
    );
    process.kill(pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
    expect((await inspectGear(node.ctx, g.uuid)).drift).toEqual([
      { field: `cartridge:${c.name}.status`, expected: "started", actual: "stopped" },
    ]);
    expect((await controlCartridge(node.ctx, g.uuid, c.name, "start", [], { frontend: fe })).ok).toBe(true);

    // install again: nothing to do
    expect((await installCartridge(node.ctx, g.uuid, { name: c.name }, { frontend: fe })).changed).toBe(
      false,
    );

    // remove: nothing left (files, env, processes, routes): the gear is exactly as before the install
    const rm = await removeCartridge(node.ctx, g.uuid, c.name, { frontend: fe });
    expect(rm).toMatchObject({ removed: true, warnings: [] });
    expect(await refused(ip, 8080)).toBe(true);
    const gone = await node.viaNginx(host, "/");
    expect(gone.status).toBe(404);
    expect(gone.body).not.toMatch(c.page);
    expect(await gearSnapshot(node, g)).toEqual(before);
    expect((await inspectGear(node.ctx, g.uuid)).cartridges).toEqual([]);
    expect((await removeCartridge(node.ctx, g.uuid, c.name, { frontend: fe })).removed).toBe(false);
  });
});
