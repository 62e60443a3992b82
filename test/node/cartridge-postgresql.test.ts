// The postgresql cartridge on the real host (Debian's PostgreSQL, started by the cartridge as the gear), and
// publish/subscribe: a web cartridge of the same application (the same appUuid) receives the database's
// connection variables, across gears and in the same gear, in either install order; removal takes them away.

import { execFile } from "child_process";
import { existsSync, readFileSync, statSync } from "fs";
import * as path from "path";
import { loopbackAddress } from "../../node/host/addresses";
import { connectGearApp, controlCartridge, installCartridge, removeCartridge } from "../../node";
import { inspectGear } from "../../node/gear/lifecycle";
import { runInGear } from "../../node/gear/run-in-gear";
import { newUuid } from "./helpers";
import { gearSnapshot, httpGet, makeCartridgeNode, type CartridgeTestNode } from "./cartridge-helpers";

jest.setTimeout(180_000);

let node: CartridgeTestNode;
beforeAll(async () => {
  node = await makeCartridgeNode("cpg", 61900);
});
afterAll(async () => {
  await node?.cleanup();
});

const PSQL = "/usr/bin/psql";

/** psql as root over TCP with the published URL (so the password and the listen address are real). */
function psql(url: string, sql: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      PSQL,
      [url, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
      { timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}`.trim() }),
    );
  });
}

const DB_VARS = ["DB_DATABASE", "DB_HOST", "DB_PORT", "DB_PASSWORD", "DB_URL", "DB_USERNAME"].map(
  (v) => `GEARTRAIN_POSTGRESQL_${v}`,
);

const envOf = (home: string, name: string) => readFileSync(path.join(home, ".env", name), "utf8");

test("a database per gear: initdb in the data dir, listening on the gear's IP, credentials kept 0600", async () => {
  expect(existsSync(PSQL)).toBe(true); // postgresql-client comes with the postgresql package
  const db = await node.gear(1, "shop");
  const before = await gearSnapshot(node, db);
  const res = await installCartridge(node.ctx, db.uuid, { name: "postgresql" }, { frontend: node.frontend });
  expect(res.cartridge).toMatchObject({ name: "postgresql", version: "15", status: "started" });
  expect(res.routes.status).toBe("none");
  const ip = loopbackAddress(db.uid, 1);
  expect(envOf(db.home, "GEARTRAIN_POSTGRESQL_DB_HOST")).toBe(ip);
  expect(envOf(db.home, "GEARTRAIN_POSTGRESQL_DB_PORT")).toBe("5432");

  // the cluster in the gear's data dir, the gear's; the password generated once, 0600, the gear's
  const data = path.join(db.home, "app-root/data/postgresql");
  const st = statSync(data);
  expect([st.uid, (st.mode & 0o777).toString(8)]).toEqual([db.uid, "700"]);
  const pwFile = path.join(db.home, "postgresql/env/GEARTRAIN_POSTGRESQL_DB_PASSWORD");
  const pst = statSync(pwFile);
  expect([pst.uid, (pst.mode & 0o777).toString(8)]).toEqual([db.uid, "600"]);
  const password = readFileSync(pwFile, "utf8");
  expect(password).toMatch(/^[A-Za-z0-9]{24}$/);
  const url = readFileSync(path.join(db.home, "postgresql/env/GEARTRAIN_POSTGRESQL_DB_URL"), "utf8");
  expect(url).toMatch(
    new RegExp(`^postgresql://admin[0-9a-f]{10}:${password}@${ip.replace(/\./g, "\\.")}:5432/shop$`),
  );

  // a real server: the app's database, writable; the server processes are the gear's, in its cgroup
  expect(await psql(url, "select current_database()")).toEqual({ code: 0, out: "shop" });
  expect(
    (await psql(url, "create table t (v text); insert into t values ('kept'); select v from t")).out,
  ).toBe("kept");
  expect((await psql(url.replace(password, "wrong"), "select 1")).code).not.toBe(0);
  const ins = await inspectGear(node.ctx, db.uuid);
  expect(ins.drift).toEqual([]);
  expect(ins.processes.filter((p) => p.comm === "postgres").length).toBeGreaterThan(0);
  expect(ins.processes.every((p) => p.inCgroup)).toBe(true);
  expect(ins.cartridges).toEqual([expect.objectContaining({ name: "postgresql", status: "started" })]);

  // stop: not served, status stopped; start: the data is still there
  expect((await controlCartridge(node.ctx, db.uuid, "postgresql", "stop")).ok).toBe(true);
  expect((await psql(url, "select 1")).code).not.toBe(0);
  expect((await controlCartridge(node.ctx, db.uuid, "postgresql", "status")).exitCode).toBe(1);
  expect((await controlCartridge(node.ctx, db.uuid, "postgresql", "start")).ok).toBe(true);
  expect((await psql(url, "select v from t")).out).toBe("kept");
  // install again: nothing changes (the password stays)
  expect((await installCartridge(node.ctx, db.uuid, { name: "postgresql" })).changed).toBe(false);
  expect(readFileSync(pwFile, "utf8")).toBe(password);

  // remove: server stopped, cluster and credentials gone, the gear exactly as before
  const rm = await removeCartridge(node.ctx, db.uuid, "postgresql", { frontend: node.frontend });
  expect(rm).toMatchObject({ removed: true, warnings: [] });
  expect((await psql(url, "select 1")).code).not.toBe(0);
  expect(await gearSnapshot(node, db)).toEqual(before);
});

test("publish/subscribe: the web cartridge of the app gets the database's variables, and loses them", async () => {
  const appUuid = newUuid(); // the application's id: what joins its gears (names do not)
  const db = await node.gear(2, "blog", "dev", appUuid);
  const web = await node.gear(3, "blog", "dev", appUuid);
  const other = await node.gear(4, "notblog");
  const webBefore = await gearSnapshot(node, web);
  const fe = { frontend: node.frontend };

  // database first: the web cartridge receives the variables at install, so it starts with them
  await installCartridge(node.ctx, db.uuid, { name: "postgresql" }, fe);
  await installCartridge(node.ctx, other.uuid, { name: "nodejs" }, fe);
  const res = await installCartridge(node.ctx, web.uuid, { name: "nodejs" }, fe);
  expect(res.cartridge.status).toBe("started");
  for (const v of DB_VARS) {
    const cartFile = path.join(db.home, "postgresql/env", v);
    const published = existsSync(cartFile) ? readFileSync(cartFile, "utf8") : envOf(db.home, v);
    expect([v, envOf(web.home, v)]).toEqual([v, published]);
    const st = statSync(path.join(web.home, ".env", v));
    expect([v, st.uid, st.gid, (st.mode & 0o777).toString(8)]).toEqual([v, 0, web.uid, "640"]);
  }
  const dbIp = loopbackAddress(db.uid, 1);
  const webIp = loopbackAddress(web.uid, 1);
  expect((await httpGet(webIp, 8080, "/")).body).toContain(`Database: PostgreSQL at ${dbIp}:5432`);
  // the web gear's processes really have them (whether a gear may connect to another gear's private
  // address is the network isolation's call: node/host/netfilter.ts refuses it; same-gear use is below)
  const url = envOf(web.home, "GEARTRAIN_POSTGRESQL_DB_URL");
  const inGear = await runInGear(node.ctx, web.uuid, [
    "/bin/sh",
    "-c",
    'printf %s "$GEARTRAIN_POSTGRESQL_DB_URL"',
  ]);
  expect(inGear.stdout).toBe(url);
  expect((await psql(url, "select current_database()")).out).toBe("blog");
  // another app on the node gets nothing
  expect(existsSync(path.join(other.home, ".env/GEARTRAIN_POSTGRESQL_DB_URL"))).toBe(false);

  // converging again changes nothing
  const again = await connectGearApp(node.ctx, web.uuid);
  expect(again.problems).toEqual([]);
  expect(again.received[web.uuid]).toEqual([...DB_VARS].sort());

  // the database removed: the subscriber loses the variables
  const rm = await removeCartridge(node.ctx, db.uuid, "postgresql", fe);
  expect(rm.connections?.received[web.uuid]).toEqual([]);
  for (const v of DB_VARS) expect(existsSync(path.join(web.home, ".env", v))).toBe(false);
  await removeCartridge(node.ctx, web.uuid, "nodejs", fe);
  expect(await gearSnapshot(node, web)).toEqual(webBefore);
  await removeCartridge(node.ctx, other.uuid, "nodejs", fe);
});

test("publish/subscribe in one gear, database installed after the web cartridge", async () => {
  const g = await node.gear(5, "wiki");
  const before = await gearSnapshot(node, g);
  const fe = { frontend: node.frontend };
  await installCartridge(node.ctx, g.uuid, { name: "nodejs" }, fe);
  const ip = loopbackAddress(g.uid, 1);
  expect((await httpGet(ip, 8080, "/")).body).toContain("Database: none");
  const pg = await installCartridge(node.ctx, g.uuid, { name: "postgresql" }, fe);
  // the second cartridge takes the next private IP of the gear
  const dbIp = loopbackAddress(g.uid, 2);
  expect(envOf(g.home, "GEARTRAIN_POSTGRESQL_DB_HOST")).toBe(dbIp);
  // HOST and PORT are already the gear's (the node wrote them for the cartridge); the rest is received
  expect(pg.connections?.received[g.uuid]).toEqual(
    ["DB_DATABASE", "DB_PASSWORD", "DB_URL", "DB_USERNAME"].map((v) => `GEARTRAIN_POSTGRESQL_${v}`),
  );
  // the web cartridge's processes can use the database
  const url = envOf(g.home, "GEARTRAIN_POSTGRESQL_DB_URL");
  const q = await runInGear(node.ctx, g.uuid, [PSQL, url, "-XAtc", "select current_database()"]);
  expect([q.stdout.trim(), q.stderr]).toEqual(["wiki", ""]);
  // variables reach processes started afterwards: restart the app
  expect((await controlCartridge(node.ctx, g.uuid, "nodejs", "restart", [], fe)).ok).toBe(true);
  expect((await httpGet(ip, 8080, "/")).body).toContain(`Database: PostgreSQL at ${dbIp}:5432`);
  const ins = await inspectGear(node.ctx, g.uuid);
  expect(ins.drift).toEqual([]);
  expect(ins.cartridges.map((c) => `${c.name} ${c.status}`)).toEqual([
    "nodejs started",
    "postgresql started",
  ]);
  // routes only for the web cartridge
  expect((await node.frontend.readGearFrontend(node.ctx, g.uuid))?.routes).toEqual([
    { path: "", backend: { ip, port: 8080 }, websocket: true },
  ]);
  await removeCartridge(node.ctx, g.uuid, "postgresql", fe);
  expect(existsSync(path.join(g.home, ".env/GEARTRAIN_POSTGRESQL_DB_URL"))).toBe(false);
  await removeCartridge(node.ctx, g.uuid, "nodejs", fe);
  expect(await gearSnapshot(node, g)).toEqual(before);
});
