// The repositories against a real private PostgreSQL: what each writes reads back, limits and uniqueness
// hold, another user's records are not found through owner-scoped lookups, and bad input names the field
// with nothing written. No secret (password, token) is stored or logged in plain text.

import { Client } from "pg";
import {
  applications,
  authorizations,
  districts,
  domains,
  gears,
  nodes,
  placementCandidates,
  sshKeys,
  users,
} from "../../../services/broker/store";
import { placeGear } from "../../../services/broker/model/placement";
import { newId } from "../../../services/broker/store/secrets";
import type { NodeFacts } from "../../../services/broker/model/types";
import { startStore, stopStore, type StoreFixture } from "./helpers";

jest.setTimeout(120_000);

let f: StoreFixture;
beforeAll(async () => {
  f = await startStore();
});
afterAll(() => stopStore(f));

async function dump(): Promise<string> {
  const c = new Client(f.connection);
  await c.connect();
  try {
    const parts: string[] = [];
    for (const t of ["users", "authorizations", "ssh_keys"]) {
      const { rows } = await c.query(`SELECT * FROM ${t}`);
      parts.push(JSON.stringify(rows));
    }
    return parts.join("\n");
  } finally {
    await c.end();
  }
}

const PASSWORD = "correct horse battery staple";

test("users: scrypt hash, login check, limits; the password is stored nowhere in plain text", async () => {
  const u = await users.createUser(f.db, { login: "alice@example.com", password: PASSWORD });
  expect(u).toMatchObject({ login: "alice@example.com", role: "user", maxGears: 100, maxDomains: 10 });
  expect(await users.verifyLogin(f.db, "alice@example.com", PASSWORD)).toMatchObject({ id: u.id });
  expect(await users.verifyLogin(f.db, "alice@example.com", "wrong")).toBeNull();
  expect(await users.verifyLogin(f.db, "nobody", PASSWORD)).toBeNull();
  await expect(users.createUser(f.db, { login: "alice@example.com" })).rejects.toMatchObject({
    kind: "conflict",
  });
  const admin = await users.createUser(f.db, { login: "root-admin", role: "admin", maxGears: 3 });
  expect(await users.verifyLogin(f.db, "root-admin", "")).toBeNull();
  expect(await users.updateUser(f.db, admin.id, { maxDomains: 2 })).toMatchObject({
    maxDomains: 2,
    maxGears: 3,
  });
  await expect(users.createUser(f.db, { login: "bob", role: "root" as "admin" })).rejects.toMatchObject({
    field: "role",
  });
  await expect(users.createUser(f.db, { login: "bob", maxGears: -1 })).rejects.toMatchObject({
    field: "max_gears",
  });
  await expect(users.createUser(f.db, { login: "" })).rejects.toMatchObject({ field: "login" });
  expect(await users.getUserByLogin(f.db, "bob")).toBeNull();
  const stored = await dump();
  expect(stored).not.toContain(PASSWORD);
  expect(stored).toMatch(/scrypt\$16384\$8\$1\$/);
});

test("authorizations: the token is returned once, stored as sha256, found until it expires", async () => {
  const u = await users.createUser(f.db, { login: "tokens" });
  const { token, authorization } = await authorizations.createAuthorization(f.db, {
    userId: u.id,
    scopes: ["session"],
    note: "cli",
  });
  expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect((await authorizations.findByToken(f.db, token))?.user.login).toBe("tokens");
  expect(await authorizations.findByToken(f.db, token + "x")).toBeNull();
  expect(await dump()).not.toContain(token);
  const short = await authorizations.createAuthorization(f.db, {
    userId: u.id,
    scopes: ["read"],
    expiresIn: 1,
  });
  await new Promise((r) => setTimeout(r, 1200));
  expect(await authorizations.findByToken(f.db, short.token)).toBeNull();
  expect((await authorizations.listAuthorizations(f.db, u.id)).map((a) => a.id)).toContain(authorization.id);
  expect(await authorizations.deleteAuthorization(f.db, u.id, authorization.id)).toBe(true);
  expect(await authorizations.findByToken(f.db, token)).toBeNull();
  await expect(authorizations.createAuthorization(f.db, { userId: u.id, scopes: [] })).rejects.toMatchObject({
    field: "scopes",
  });
  await expect(
    authorizations.createAuthorization(f.db, { userId: u.id, scopes: ["x"], expiresIn: 10 ** 9 }),
  ).rejects.toMatchObject({ field: "expires_in" });
});

test("ssh keys: add, list, replace, remove; bad bodies name the field", async () => {
  const u = await users.createUser(f.db, { login: "keys" });
  const body = "AAAAC3NzaC1lZDI1NTE5AAAAIG4xdGVzdGtleWJvZHlmb3J0aGVicm9rZXJzdG9yZQ";
  await sshKeys.addSshKey(f.db, { userId: u.id, name: "laptop", type: "ssh-ed25519", content: body });
  await expect(
    sshKeys.addSshKey(f.db, { userId: u.id, name: "laptop", type: "ssh-ed25519", content: body }),
  ).rejects.toMatchObject({ kind: "conflict" });
  await expect(
    sshKeys.addSshKey(f.db, { userId: u.id, name: "x", type: "ssh-ed25519", content: "not base64!" }),
  ).rejects.toMatchObject({ field: "content" });
  await expect(
    sshKeys.addSshKey(f.db, { userId: u.id, name: "x", type: "pgp", content: body }),
  ).rejects.toMatchObject({
    field: "type",
  });
  expect((await sshKeys.listSshKeys(f.db, u.id)).map((k) => k.name)).toEqual(["laptop"]);
  await sshKeys.updateSshKey(f.db, u.id, "laptop", { type: "ssh-rsa", content: body });
  expect((await sshKeys.getSshKey(f.db, u.id, "laptop"))?.type).toBe("ssh-rsa");
  expect((await sshKeys.removeSshKey(f.db, u.id, "laptop"))?.name).toBe("laptop");
  expect(await sshKeys.removeSshKey(f.db, u.id, "laptop")).toBeNull();
});

const facts = (node: string, over: Partial<NodeFacts> = {}): NodeFacts => ({
  node,
  district: null,
  profile: "small",
  activeGears: 0,
  maxActiveGears: 50,
  publicHostname: `${node}.example.com`,
  cartridges: [{ name: "nodejs", version: "20", type: "web" }],
  at: Date.now(),
  ...over,
});

test("domains, applications, cartridges, env vars and gears; owner-scoped lookups hide others' domains", async () => {
  const owner = await users.createUser(f.db, { login: "owner", maxDomains: 1, maxGears: 1 });
  const other = await users.createUser(f.db, { login: "other" });
  const dom = await f.db.tx((q) => domains.createDomain(q, { namespace: "Team1", ownerId: owner.id }));
  await expect(
    f.db.tx((q) => domains.createDomain(q, { namespace: "team2", ownerId: owner.id })),
  ).rejects.toMatchObject({
    kind: "conflict",
    message: expect.stringMatching(/max_domains/),
  });
  await expect(
    f.db.tx((q) => domains.createDomain(q, { namespace: "TEAM1", ownerId: other.id })),
  ).rejects.toMatchObject({
    kind: "conflict",
    message: expect.stringMatching(/taken/),
  });
  await expect(domains.createDomain(f.db, { namespace: "bad-ns", ownerId: other.id })).rejects.toMatchObject({
    field: "namespace",
  });
  expect(await domains.getDomain(f.db, "team1", owner.id)).toMatchObject({ id: dom.id });
  expect(await domains.getDomain(f.db, "team1", other.id)).toBeNull();

  const app = await applications.createApplication(f.db, { name: "web", domainId: dom.id, profile: "small" });
  expect(app).toMatchObject({ state: "creating", profile: "small" });
  expect(app.id).toMatch(/^[0-9a-f]{32}$/);
  await expect(
    applications.createApplication(f.db, { name: "WEB", domainId: dom.id, profile: "small" }),
  ).rejects.toMatchObject({
    kind: "conflict",
  });
  await expect(
    applications.createApplication(f.db, { name: "w-1", domainId: dom.id, profile: "small" }),
  ).rejects.toMatchObject({
    field: "name",
  });
  await applications.addCartridge(f.db, { appId: app.id, name: "nodejs", version: "20", type: "web" });
  await applications.addCartridge(f.db, { appId: app.id, name: "postgresql", version: "15", type: "addon" });
  await expect(
    applications.addCartridge(f.db, { appId: app.id, name: "python", version: "3.11", type: "web" }),
  ).rejects.toMatchObject({ message: expect.stringMatching(/already has a web cartridge/) });
  await applications.setCartridgeStatus(f.db, app.id, "nodejs", "started");
  expect((await applications.listCartridges(f.db, app.id)).map((c) => [c.name, c.status])).toEqual([
    ["nodejs", "started"],
    ["postgresql", "new"],
  ]);
  await applications.setEnvVars(f.db, app.id, [
    { name: "A", value: "1" },
    { name: "B", value: "2" },
  ]);
  await applications.setEnvVars(f.db, app.id, [{ name: "A", value: "3" }]);
  await expect(applications.setEnvVars(f.db, app.id, [{ name: "lower", value: "x" }])).rejects.toMatchObject({
    field: "environment_variables[0].name",
  });
  expect(await applications.unsetEnvVars(f.db, app.id, ["B", "C"])).toEqual(["B"]);
  expect(await applications.listEnvVars(f.db, app.id)).toEqual([{ appId: app.id, name: "A", value: "3" }]);

  const d = await f.db.tx((q) =>
    districts.createDistrict(q, { name: "d-repos", profile: "small", uidCount: 10 }),
  );
  await nodes.recordFacts(f.db, facts("node1"));
  await nodes.recordFacts(f.db, facts("node-medium", { profile: "medium" }));
  await districts.addDistrictNode(f.db, d.id, "node1");
  await expect(districts.addDistrictNode(f.db, d.id, "node-medium")).rejects.toMatchObject({ field: "node" });
  const gearId = newId();
  const uid = await districts.reserveUid(f.db, d.id, gearId);
  const gear = await f.db.tx((q) =>
    gears.createGear(q, { id: gearId, appId: app.id, districtId: d.id, uid, node: "node1" }),
  );
  expect(await f.db.tx((q) => gears.createGear(q, { ...gear }))).toMatchObject({ id: gearId });
  // the owner's max_gears is 1
  const second = newId();
  const uid2 = await districts.reserveUid(f.db, d.id, second);
  await expect(
    f.db.tx((q) =>
      gears.createGear(q, { id: second, appId: app.id, districtId: d.id, uid: uid2, node: "node1" }),
    ),
  ).rejects.toMatchObject({ message: expect.stringMatching(/max_gears/) });
  await districts.releaseUid(f.db, d.id, uid2);
  await expect(districts.releaseUid(f.db, d.id, uid)).rejects.toMatchObject({ kind: "conflict" });
  await expect(applications.deleteApplication(f.db, app.id)).rejects.toMatchObject({ kind: "conflict" });
  await expect(districts.setDistrictNodeActive(f.db, "node1", false)).resolves.toBeUndefined();
  await expect(districts.removeDistrictNode(f.db, "node1")).rejects.toMatchObject({
    message: /still hosts gears/,
  });

  const before = (await districts.getDistrict(f.db, d.id))!.availableUids;
  expect(await f.db.tx((q) => gears.deleteGear(q, gearId))).toMatchObject({ uid });
  expect(await f.db.tx((q) => gears.deleteGear(q, gearId))).toBeNull();
  expect((await districts.getDistrict(f.db, d.id))!.availableUids).toBe(before + 1);
  expect(await applications.deleteApplication(f.db, app.id)).toBe(true);
  expect(await applications.listEnvVars(f.db, app.id)).toEqual([]);
  expect(await domains.deleteDomain(f.db, dom.id)).toBe(true);
  expect(await districts.removeDistrictNode(f.db, "node1")).toBe(true);
});

test("nodes: facts are validated field by field and upserted", async () => {
  await expect(nodes.recordFacts(f.db, { ...facts("n2"), activeGears: -1 })).rejects.toMatchObject({
    field: "facts.activeGears",
  });
  await expect(nodes.recordFacts(f.db, { ...facts("N2!") })).rejects.toMatchObject({ field: "facts.node" });
  await nodes.recordFacts(f.db, facts("n2", { activeGears: 3 }));
  await nodes.recordFacts(f.db, facts("n2", { activeGears: 4 }));
  const n = await nodes.getNode(f.db, "n2");
  expect(n?.facts?.activeGears).toBe(4);
  expect(n?.lastSeen).toBeInstanceOf(Date);
});

test("placement candidates: every district node with its district, facts, recent gears and the app's gears", async () => {
  const u = await users.createUser(f.db, { login: "placer" });
  const dom = await f.db.tx((q) => domains.createDomain(q, { namespace: "placer", ownerId: u.id }));
  const app = await applications.createApplication(f.db, { name: "app", domainId: dom.id, profile: "small" });
  const d = await f.db.tx((q) =>
    districts.createDistrict(q, { name: "d-place", profile: "small", uidCount: 5 }),
  );
  await nodes.recordFacts(
    f.db,
    facts("place1", { activeGears: 2, maxActiveGears: 4, at: Date.now() - 60_000 }),
  );
  await districts.addDistrictNode(f.db, d.id, "place1");
  await districts.addDistrictNode(f.db, d.id, "place2"); // never reported facts
  await districts.setDistrictNodeActive(f.db, "place2", false);
  const gearId = newId();
  const uid = await districts.reserveUid(f.db, d.id, gearId);
  await f.db.tx((q) =>
    gears.createGear(q, { id: gearId, appId: app.id, districtId: d.id, uid, node: "place1" }),
  );

  const { now, nodes: all } = await placementCandidates(f.db, { appId: app.id });
  expect(Math.abs(now - Date.now())).toBeLessThan(60_000);
  const mine = all.filter((n) => n.districtId === d.id);
  expect(mine).toEqual([
    {
      identity: "place1",
      districtId: d.id,
      districtProfile: "small",
      districtActive: true,
      districtFreeUids: 4,
      active: true,
      lastSeen: expect.any(Number),
      profile: "small",
      // 2 from the facts + the gear recorded since they were taken
      activeGears: 3,
      maxActiveGears: 4,
      appGears: 1,
      publicHostname: "place1.example.com",
    },
    {
      identity: "place2",
      districtId: d.id,
      districtProfile: "small",
      districtActive: true,
      districtFreeUids: 4,
      active: false,
      lastSeen: null,
      profile: null,
      activeGears: 0,
      maxActiveGears: 0,
      appGears: 0,
      publicHostname: null,
    },
  ]);
  const p = placeGear(mine, { profile: "small", now, silenceMs: 60_000, random: 0.5 });
  expect(p.node?.publicHostname).toBe("place1.example.com");
  await f.db.tx((q) => gears.deleteGear(q, gearId));
});

test("limits hold under concurrency: of five creates at once past max_domains (max_gears) 2, two succeed", async () => {
  const u = await users.createUser(f.db, { login: "racer", maxDomains: 2 });
  const results = await Promise.allSettled(
    ["ra", "rb", "rc", "rd", "re"].map((ns) =>
      f.db.tx((q) => domains.createDomain(q, { namespace: ns, ownerId: u.id })),
    ),
  );
  expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
  for (const r of results) if (r.status === "rejected") expect(r.reason).toMatchObject({ kind: "conflict" });
  expect(await domains.listDomains(f.db, u.id)).toHaveLength(2);

  // and max_gears 2: five gears recorded at once (each with its UID), two succeed, three UIDs go back
  await users.updateUser(f.db, u.id, { maxGears: 2 });
  const dom = (await domains.listDomains(f.db, u.id))[0];
  const app = await applications.createApplication(f.db, {
    name: "racer",
    domainId: dom.id,
    profile: "small",
  });
  const d = await f.db.tx((q) =>
    districts.createDistrict(q, { name: "d-race", profile: "small", uidCount: 10 }),
  );
  const made = await Promise.allSettled(
    Array.from({ length: 5 }, () =>
      f.db.tx(async (q) => {
        const id = newId();
        const uid = await districts.reserveUid(q, d.id, id);
        return gears.createGear(q, { id, appId: app.id, districtId: d.id, uid, node: "race1" });
      }),
    ),
  );
  expect(made.filter((r) => r.status === "fulfilled")).toHaveLength(2);
  expect(await gears.listGears(f.db, app.id)).toHaveLength(2);
  expect((await districts.getDistrict(f.db, d.id))!.availableUids).toBe(8);
});

test("a transaction that fails leaves nothing of what it wrote", async () => {
  await expect(
    f.db.tx(async (q) => {
      await users.createUser(q, { login: "half-made" });
      await districts.createDistrict(q, { name: "d-half", profile: "small", uidCount: 10 });
      throw new Error("later step failed");
    }),
  ).rejects.toThrow("later step failed");
  expect(await users.getUserByLogin(f.db, "half-made")).toBeNull();
  expect(await districts.getDistrictByName(f.db, "d-half")).toBeNull();
});

test("while the database is down the pool answers UnavailableError; once it is back, the same pool works", async () => {
  expect((await f.db.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  await f.pg.pause();
  try {
    await expect(f.db.query("SELECT 1 AS one")).rejects.toMatchObject({ kind: "unavailable" });
    await expect(users.getUserByLogin(f.db, "owner")).rejects.toMatchObject({ kind: "unavailable" });
  } finally {
    await f.pg.resume();
  }
  expect((await f.db.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  expect(await users.getUserByLogin(f.db, "placer")).toMatchObject({ login: "placer" });
});
