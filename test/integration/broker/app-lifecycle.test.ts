// The broker end to end over REST: real PostgreSQL, real BIND (TSIG nsupdate), a real node (gears, cgroups,
// cartridges, private nginx), the application service's pending-op chains. Create a nodejs app → the gear
// exists with its limits, dig resolves the app name, the page is served through nginx by Host; add
// postgresql → its connection variables reach the web cartridge; SSH keys reach the gear; delete → gear,
// route, DNS record gone, UID back. A node that does not answer fails the create with a clear error and no
// leaked UID. UID block 64600-64699 (docs/node-operations.md).

import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { inspectGear, listSshKeys, readGearFrontend } from "../../../node";
import { NsupdateDnsUpdater } from "../../../services/broker/dns";
import { makeCartridgeNode, type CartridgeTestNode } from "../../node/cartridge-helpers";
import { dig, startBind, type PrivateBind } from "../../helpers/services/bind";
import { api, startTestBroker, type TestBroker } from "../../helpers/services/broker";
import { startPostgres, type TestPostgres } from "../../helpers/services/postgres";
import { keygen } from "../../helpers/sshd";
import { LocalNode } from "./local-node";

jest.setTimeout(900_000);

const ZONE = "apps.geartrain.test";
const NODE_HOST = `node1.${ZONE}`;
const ROOT_PW = "root-secret-Pw-0001";
const ALICE_PW = "alice-secret-Pw-0002";
const BOB_PW = "bob-secret-Pw-00003";
const basic = (l: string, p: string) => `Basic ${Buffer.from(`${l}:${p}`).toString("base64")}`;
const alice = basic("alice", ALICE_PW);
const bob = basic("bob", BOB_PW);

let pg: TestPostgres;
let bind: PrivateBind;
let node: CartridgeTestNode;
let local: LocalNode;
let broker: TestBroker;
let root: string;

beforeAll(async () => {
  pg = await startPostgres();
  bind = await startBind({ zone: ZONE });
  node = await makeCartridgeNode("brest", 64600, { config: { cloudDomain: ZONE } });
  local = new LocalNode("brest-node", node.ctx, {
    profile: "small",
    maxActiveGears: 50,
    publicHostname: NODE_HOST,
  });
  broker = await startTestBroker({
    db: pg.connection,
    bus: local,
    dns: new NsupdateDnsUpdater(bind.nsupdateConfig()),
  });
  await local.report(broker.db);
  root = await broker.makeUser("root", ROOT_PW, "admin");
  const d = await api(broker, "POST", "/admin/districts", root, {
    name: "d1",
    gear_profile: "small",
    first_uid: 64600,
    capacity: 100,
  });
  expect(d.status).toBe(201);
  expect((await api(broker, "POST", "/admin/district/d1/nodes", root, { node: "brest-node" })).status).toBe(
    200,
  );
  for (const [login, password] of [
    ["alice", ALICE_PW],
    ["bob", BOB_PW],
  ])
    expect((await api(broker, "POST", "/admin/users", root, { login, password })).status).toBe(201);
  expect((await api(broker, "POST", "/domains", alice, { id: "ns1" })).status).toBe(201);
  expect((await api(broker, "POST", "/domains", bob, { id: "bobs" })).status).toBe(201);
});

afterAll(async () => {
  await broker?.stop();
  await node?.cleanup();
  await bind?.stop();
  await pg?.stop();
});

async function available(): Promise<number> {
  const d = await api(broker, "GET", "/admin/district/d1", root);
  return d.body.data.available_capacity as number;
}

async function appCount(): Promise<number> {
  const { rows } = await broker.db.query<{ n: number }>("SELECT count(*)::integer AS n FROM applications");
  return rows[0].n;
}

test("the catalogue names what the node runs", async () => {
  const c = await api(broker, "GET", "/cartridges", null);
  const names = c.body.data.map((x: { name: string }) => x.name);
  expect(names).toContain("nodejs-20");
  expect(names).toContain("postgresql-15");
  expect(c.body.data.find((x: { name: string }) => x.name === "postgresql-15").type).toBe("embedded");
});

test("create nodejs → gear with limits, DNS, page via nginx; add postgresql; keys; delete → all gone, UID back", async () => {
  const before = await available();
  const pub = keygen(path.join(node.dir, "alice_key"), "ed25519", "alice@test");
  const [ktype, kbody] = pub.split(" ");
  expect(
    (await api(broker, "POST", "/user/keys", alice, { name: "laptop", type: ktype, content: kbody })).status,
  ).toBe(201);

  const created = await api(broker, "POST", "/domain/ns1/applications", alice, {
    name: "app1",
    cartridges: ["nodejs-20"],
  });
  if (created.status !== 201) throw new Error(JSON.stringify(created.body.messages));
  const app = created.body.data;
  expect(app).toMatchObject({
    name: "app1",
    domain_id: "ns1",
    app_url: `http://app1-ns1.${ZONE}/`,
    framework: "nodejs-20",
  });
  expect(app.git_url).toBe(`ssh://${app.id}@${NODE_HOST}/~/git/app1.git/`);
  expect(await available()).toBe(before - 1);

  // the gear on the node, with the profile's limits and no drift
  const gear = await inspectGear(node.ctx, app.id);
  expect(gear.phase).toBe("created");
  expect(gear.uid).toBeGreaterThanOrEqual(64600);
  expect(gear.uid).toBeLessThanOrEqual(64699);
  expect(gear.drift).toEqual([]);
  const mem = String(node.config.profiles.small.memoryBytes);
  expect(Object.values(gear.cgroup.values)).toContain(mem);
  // DNS and the page through nginx by Host
  expect(await dig(bind, `app1-ns1.${ZONE}`, "CNAME")).toEqual([`${NODE_HOST}.`]);
  const page = await node.viaNginx(`app1-ns1.${ZONE}`);
  expect(page.status).toBe(200);
  expect(page.body).toMatch(/Welcome to app1/);
  // the user's key reached the gear; a key added later does too, and removing it takes it off
  expect((await listSshKeys(node.ctx, app.id)).keys.map((k) => k.name)).toEqual(["laptop"]);
  const pub2 = keygen(path.join(node.dir, "alice_key2"), "ed25519", "alice2@test");
  expect(
    (
      await api(broker, "POST", "/user/keys", alice, {
        name: "desk",
        type: "ssh-ed25519",
        content: pub2.split(" ")[1],
      })
    ).status,
  ).toBe(201);
  expect((await listSshKeys(node.ctx, app.id)).keys.map((k) => k.name).sort()).toEqual(["desk", "laptop"]);
  expect((await api(broker, "DELETE", "/user/keys/desk", alice)).status).toBe(200);
  expect((await listSshKeys(node.ctx, app.id)).keys.map((k) => k.name)).toEqual(["laptop"]);

  // show with cartridges, gear groups
  const shown = await api(broker, "GET", "/domain/ns1/application/app1?include=cartridges", alice);
  expect(shown.body.data.cartridges.map((c: { name: string }) => c.name)).toEqual(["nodejs-20"]);
  const gg = await api(broker, "GET", `/application/${app.id}/gear_groups`, alice);
  expect(gg.body.data[0].gears[0]).toMatchObject({ id: app.id, state: "started" });

  // postgresql: its connection variables reach the web cartridge's gear env
  const pgAdd = await api(broker, "POST", `/application/${app.id}/cartridges`, alice, {
    name: "postgresql-15",
  });
  expect(pgAdd.status).toBe(201);
  expect(pgAdd.body.data).toMatchObject({ name: "postgresql-15", type: "embedded", current_scale: 1 });
  const home = gear.home;
  expect(readFileSync(path.join(home, ".env/GEARTRAIN_POSTGRESQL_DB_URL"), "utf8")).toMatch(
    /^postgresql:\/\//,
  );

  // env vars and events
  const env = await api(broker, "PATCH", `/application/${app.id}/environment-variables`, alice, {
    environment_variables: [{ name: "GREETING", value: "hi" }],
  });
  expect(env.status).toBe(201);
  expect(readFileSync(path.join(home, ".env/user_vars/GREETING"), "utf8")).toBe("hi");
  expect((await api(broker, "POST", `/application/${app.id}/events`, alice, { event: "stop" })).status).toBe(
    200,
  );
  expect((await api(broker, "POST", `/application/${app.id}/events`, alice, { event: "start" })).status).toBe(
    200,
  );
  expect((await node.viaNginx(`app1-ns1.${ZONE}`)).status).toBe(200);

  // delete: gear, route, record gone, UID back
  const del = await api(broker, "DELETE", "/domain/ns1/application/app1", alice);
  expect(del.status).toBe(200);
  expect(del.body).toMatchObject({ type: null, data: null });
  await expect(inspectGear(node.ctx, app.id)).rejects.toThrow(/not found|no gear/i);
  expect(await readGearFrontend(node.ctx, app.id)).toBeNull();
  expect(await dig(bind, `app1-ns1.${ZONE}`, "CNAME")).toEqual([]);
  expect(existsSync(home)).toBe(false);
  expect(await available()).toBe(before);
  expect((await api(broker, "GET", "/domain/ns1/application/app1", alice)).status).toBe(404);
});

test("a node that does not answer: the create fails with a clear error, no UID leaked, nothing left", async () => {
  const before = await available();
  const apps = await appCount();
  local.down = true;
  try {
    const r = await api(broker, "POST", "/domain/ns1/applications", alice, {
      name: "app2",
      cartridges: ["nodejs-20"],
    });
    expect(r.status).toBe(503);
    expect(r.body.messages[0].text).toMatch(/brest-node did not answer gear\.create/);
  } finally {
    local.down = false;
  }
  expect(await available()).toBe(before);
  expect(await appCount()).toBe(apps);
  expect((await api(broker, "GET", "/domain/ns1/application/app2", alice)).status).toBe(404);
  const { rows } = await broker.db.query<{ state: string }>(
    "SELECT state FROM pending_ops WHERE kind = 'app.create' ORDER BY created_at DESC LIMIT 1",
  );
  expect(rows[0].state).toBe("failed");
});

test("security: others' resources are 404, no login is 401 with the challenge, bad payloads create nothing", async () => {
  const created = await api(broker, "POST", "/domain/ns1/applications", alice, {
    name: "app3",
    cartridges: ["nodejs-20"],
  });
  expect(created.status).toBe(201);
  const id = created.body.data.id as string;
  try {
    const tok = (await api(broker, "POST", "/user/authorizations", bob, { scope: "session" })).body.data
      .token as string;
    const bobToken = `Bearer ${tok}`;
    for (const [method, p] of [
      ["GET", "/domain/ns1"],
      ["GET", "/domain/ns1/application/app3"],
      ["GET", `/application/${id}`],
      ["DELETE", `/application/${id}`],
      ["DELETE", "/domain/ns1?force=true"],
      ["GET", `/application/${id}/environment-variables`],
    ]) {
      const r = await api(broker, method, p, bobToken);
      expect([p, r.status]).toEqual([p, 404]);
    }
    const ev = await api(broker, "POST", `/application/${id}/events`, bobToken, { event: "stop" });
    expect(ev.status).toBe(404);
    const add = await api(broker, "POST", "/domain/ns1/applications", bobToken, {
      name: "x1",
      cartridges: ["nodejs-20"],
    });
    expect([add.status, add.body.messages[0].exit_code]).toEqual([404, 127]);
    expect(
      (await api(broker, "GET", "/domains", bobToken)).body.data.map((d: { name: string }) => d.name),
    ).toEqual(["bobs"]);

    const anon = await api(broker, "GET", "/domain/ns1", null);
    expect(anon.status).toBe(401);
    expect(anon.headers.get("www-authenticate")).toMatch(/^Basic realm="/);

    const apps = await appCount();
    const avail = await available();
    for (const bad of [
      '{"name": "x2", "cartridges": ["nodejs-20"]',
      { name: "x2", cartridges: ["nodejs-99"] },
      { name: "x2", cartridges: ["postgresql-15"] },
      { name: ["x2"], cartridges: ["nodejs-20"] },
      {
        name: "x2",
        cartridges: ["nodejs-20"],
        environment_variables: [{ name: "A", value: "x".repeat(100_000) }],
      },
    ]) {
      const r = await api(broker, "POST", "/domain/ns1/applications", alice, bad);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.body.messages[0].field).toEqual(expect.any(String));
    }
    expect(await appCount()).toBe(apps);
    expect(await available()).toBe(avail);
  } finally {
    expect((await api(broker, "DELETE", `/application/${id}`, alice)).status).toBe(200);
  }
});

test("no password or token in any log line (broker and PostgreSQL)", async () => {
  const tok = (await api(broker, "POST", "/user/authorizations", alice, { scope: "session" })).body.data
    .token as string;
  await api(broker, "GET", "/user", `Bearer ${tok}`);
  await api(broker, "GET", "/user", basic("alice", "wrong-Pw-9999"));
  const logs = broker.log() + pg.log();
  expect(broker.log().length).toBeGreaterThan(1000);
  for (const secret of [
    ROOT_PW,
    ALICE_PW,
    BOB_PW,
    "wrong-Pw-9999",
    tok,
    Buffer.from(`alice:${ALICE_PW}`).toString("base64"),
  ])
    expect(logs).not.toContain(secret);
});
