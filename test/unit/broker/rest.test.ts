// The REST layer over a fake AppService, on a loopback port (fastify.inject's light-my-request needs the
// ESM-only `cookie`, which jest cannot load under Node 20): discovery, envelope, links, the Basic challenge,
// bearer tokens and their scopes, validation (422 with fields, nothing created), malformed and oversized
// bodies, version negotiation, admin role, OpenAPI, and no credential in any log line.
import { Writable } from "stream";
import type { FastifyInstance } from "fastify";
import { buildServer } from "../../../services/broker/rest/server";
import { FakeService } from "./fake-service";

const V = "application/json;version=1.7";
const basic = (login: string, pw: string) => `Basic ${Buffer.from(`${login}:${pw}`).toString("base64")}`;

let svc: FakeService;
let app: FastifyInstance;
let logLines: string[];
let url: string;
const ALICE_PW = "alice-secret-pw-1";
const BOB_PW = "bob-secret-pw-22";

beforeEach(async () => {
  svc = new FakeService();
  svc.addUser("alice", ALICE_PW);
  svc.addUser("bob", BOB_PW);
  svc.addUser("root", "root-secret-pw-333", "admin");
  logLines = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  });
  app = await buildServer({
    service: svc,
    logger: { level: "debug", stream },
    bodyLimit: 4096,
    publicUrl: "https://broker.example.test",
  });
  url = await app.listen({ host: "127.0.0.1", port: 0 });
});
afterEach(() => app.close());

const alice = { authorization: basic("alice", ALICE_PW), accept: V, "content-type": V };
const bob = { authorization: basic("bob", BOB_PW), accept: V, "content-type": V };

async function json(method: string, path: string, headers: Record<string, string>, payload?: unknown) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(payload !== undefined
      ? { body: typeof payload === "string" ? payload : JSON.stringify(payload) }
      : {}),
  });
  const text = await r.text();
  const res = { statusCode: r.status, headers: Object.fromEntries(r.headers.entries()), body: text };
  return { res, body: text ? JSON.parse(text) : null };
}

describe("discovery and envelope", () => {
  it("GET /api needs no login and gives versions and the links rhc needs", async () => {
    const { res, body } = await json("GET", "/broker/rest/api", { accept: "application/json" });
    expect(res.statusCode).toBe(200);
    expect(body).toMatchObject({ api_version: 1.7, version: "1.7", status: "ok", type: "links" });
    expect(body.supported_api_versions).toEqual([1.7]);
    for (const l of [
      "GET_USER",
      "ADD_DOMAIN",
      "LIST_DOMAINS",
      "SHOW_DOMAIN",
      "SHOW_APPLICATION_BY_DOMAIN",
      "LIST_CARTRIDGES",
      "ADD_AUTHORIZATION",
    ])
      expect(body.data[l]).toMatchObject({
        method: expect.any(String),
        href: expect.stringContaining("http"),
      });
    expect(body.data.SHOW_APPLICATION_BY_DOMAIN.href).toBe(
      "https://broker.example.test/broker/rest/domain/:domain_name/application/:name",
    );
  });

  it("answers an unsupported version with 406", async () => {
    const { res, body } = await json("GET", "/broker/rest/api", { accept: "application/json;version=1.5" });
    expect(res.statusCode).toBe(406);
    expect(body.messages[0].text).toMatch(/1\.5 is not supported/);
  });

  it("serves the catalogue without login, names <name>-<version>", async () => {
    const { body } = await json("GET", "/broker/rest/cartridges", { accept: V });
    expect(body.type).toBe("cartridges");
    expect(body.data.map((c: { name: string }) => c.name)).toEqual(["nodejs-20", "postgresql-15"]);
    expect(body.data[1]).toMatchObject({ type: "embedded", display_name: "PostgreSQL 15" });
  });

  it("serves an OpenAPI document listing the routes with their body schemas", async () => {
    const { res, body } = await json("GET", "/broker/rest/openapi.json", {});
    expect(res.statusCode).toBe(200);
    expect(body.openapi).toMatch(/^3\./);
    expect(body.paths["/broker/rest/domain/{name}/applications"].post.requestBody).toBeDefined();
    expect(body.paths["/broker/rest/admin/districts"].post).toBeDefined();
  });

  it("has a health endpoint", async () => {
    const { res, body } = await json("GET", "/broker/rest/health", {});
    expect([res.statusCode, body.data.ok]).toEqual([200, true]);
  });

  it("answers unknown paths 404 in the envelope", async () => {
    const { res, body } = await json("GET", "/broker/rest/nope", alice);
    expect(res.statusCode).toBe(404);
    expect(body.status).toBe("not_found");
  });
});

describe("authentication", () => {
  it("challenges a request without credentials with WWW-Authenticate: Basic", async () => {
    const { res, body } = await json("GET", "/broker/rest/user", { accept: V });
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toBe('Basic realm="geartrain"');
    expect(body.messages[0]).toMatchObject({ severity: "error", exit_code: 1 });
  });

  it("answers wrong credentials 401 again, with the challenge", async () => {
    const { res } = await json("GET", "/broker/rest/user", {
      accept: V,
      authorization: basic("alice", "nope"),
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toMatch(/^Basic realm=/);
  });

  it("gives the user with ADD_KEY and LIST_KEYS links after Basic login", async () => {
    const { res, body } = await json("GET", "/broker/rest/user", alice);
    expect(res.statusCode).toBe(200);
    expect(body).toMatchObject({ type: "user", data: { login: "alice", max_gears: 10 } });
    expect(body.data.links.ADD_KEY.method).toBe("POST");
    expect(body.data.links.LIST_KEYS.method).toBe("GET");
  });

  it("refuses a key a node would refuse (DSA, a name the node's rule rejects) with 422 naming the field", async () => {
    const dsa = await json("POST", "/broker/rest/user/keys", alice, {
      name: "old",
      type: "ssh-dss",
      content: "AAAAB3NzaC1kc3MAAACBAP1234567890",
    });
    expect(dsa.res.statusCode).toBe(422);
    expect(dsa.body.messages.map((m: { field: string }) => m.field)).toContain("type");
    const name = await json("POST", "/broker/rest/user/keys", alice, {
      name: "_hidden",
      type: "ssh-ed25519",
      content: "AAAAC3NzaC1lZDI1NTE5AAAAIG4x",
    });
    expect(name.res.statusCode).toBe(422);
    expect(name.body.messages.map((m: { field: string }) => m.field)).toContain("name");
  });

  it("creates a token once; it authenticates; read scope cannot write; revoked tokens fail", async () => {
    const { res, body } = await json("POST", "/broker/rest/user/authorizations", alice, {
      scope: "session",
      note: "cli",
    });
    expect(res.statusCode).toBe(201);
    const token = body.data.token as string;
    expect(token.length).toBeGreaterThan(30);
    const list = await json("GET", "/broker/rest/user/authorizations", alice);
    expect(list.body.data[0].token).toBeUndefined();
    const bearer = { authorization: `Bearer ${token}`, accept: V, "content-type": V };
    expect((await json("GET", "/broker/rest/user", bearer)).body.data.login).toBe("alice");
    expect((await json("POST", "/broker/rest/domains", bearer, { id: "ns1" })).res.statusCode).toBe(201);

    const ro = (await json("POST", "/broker/rest/user/authorizations", alice, { scope: "read" })).body.data
      .token;
    const roh = { authorization: `Bearer ${ro}`, accept: V, "content-type": V };
    expect((await json("GET", "/broker/rest/domains", roh)).res.statusCode).toBe(200);
    expect((await json("POST", "/broker/rest/domains", roh, { id: "ns2" })).res.statusCode).toBe(403);

    await json("DELETE", `/broker/rest/user/authorizations/${body.data.id}`, alice);
    expect((await json("GET", "/broker/rest/user", bearer)).res.statusCode).toBe(401);
  });

  it("refuses the admin API to a non-admin with 403, allows it to an admin", async () => {
    expect((await json("GET", "/broker/rest/admin/districts", alice)).res.statusCode).toBe(403);
    const root = { authorization: basic("root", "root-secret-pw-333"), accept: V, "content-type": V };
    const { res, body } = await json("POST", "/broker/rest/admin/districts", root, {
      name: "d1",
      gear_profile: "small",
      capacity: 100,
    });
    expect(res.statusCode).toBe(201);
    expect(body).toMatchObject({
      type: "district",
      data: { first_uid: 1000, max_uid: 1099, max_capacity: 100 },
    });
  });
});

describe("domains and applications", () => {
  it("creates a domain from rhc's {id}, and lists, shows, deletes it", async () => {
    const { res, body } = await json("POST", "/broker/rest/domains", alice, { id: "ns1" });
    expect(res.statusCode).toBe(201);
    expect(body).toMatchObject({
      type: "domain",
      status: "created",
      data: { name: "ns1", suffix: "example.test" },
    });
    expect(body.data.links.ADD_APPLICATION.href).toBe(
      "https://broker.example.test/broker/rest/domain/ns1/applications",
    );
    expect(body.data.members[0]).toMatchObject({ login: "alice", owner: true });
    const list = await json("GET", "/broker/rest/domains", alice);
    expect(list.body.data.map((d: { name: string }) => d.name)).toEqual(["ns1"]);
    // rhc's DELETE: the JSON content type and no body
    const del = await json("DELETE", "/broker/rest/domain/ns1", alice);
    expect(del.res.statusCode).toBe(200);
    expect(del.body).toMatchObject({ type: null, data: null, messages: [{ severity: "info" }] });
  });

  it("answers a taken namespace 409 with 103 and field id", async () => {
    await json("POST", "/broker/rest/domains", alice, { id: "ns1" });
    const { res, body } = await json("POST", "/broker/rest/domains", bob, { id: "ns1" });
    expect(res.statusCode).toBe(409);
    expect(body.messages[0]).toMatchObject({ exit_code: 103, field: "id" });
  });

  it("creates an app and shows it with ?include=cartridges; others get 404 with 127/101", async () => {
    await json("POST", "/broker/rest/domains", alice, { id: "ns1" });
    const { res, body } = await json("POST", "/broker/rest/domain/ns1/applications", alice, {
      name: "app1",
      cartridges: ["nodejs-20"],
      scale: false,
    });
    expect(res.statusCode).toBe(201);
    expect(body.data).toMatchObject({
      name: "app1",
      domain_id: "ns1",
      app_url: "http://app1-ns1.example.test/",
      framework: "nodejs-20",
      gear_count: 1,
    });
    expect(body.data.git_url).toBe(`ssh://${body.data.id}@node1.example.test:2222/~/git/app1.git/`);
    expect(body.messages.map((m: { severity: string }) => m.severity)).toEqual(["info", "result"]);
    const show = await json("GET", "/broker/rest/domain/ns1/application/app1?include=cartridges", alice);
    expect(show.body.data.cartridges[0]).toMatchObject({
      name: "nodejs-20",
      current_scale: 1,
      properties: [],
    });
    expect((await json("GET", "/broker/rest/domain/ns1/application/app1", alice)).body.data.cartridges).toBe(
      undefined,
    );

    const other = await json("GET", "/broker/rest/domain/ns1/application/app1", bob);
    expect(other.res.statusCode).toBe(404);
    expect(other.body.messages).toEqual([expect.objectContaining({ exit_code: 101 })]);
    const otherDomain = await json("GET", "/broker/rest/domain/ns1", bob);
    expect(otherDomain.res.statusCode).toBe(404);
    expect(otherDomain.body.messages[0].exit_code).toBe(127);
    expect((await json("GET", `/broker/rest/application/${body.data.id}`, bob)).res.statusCode).toBe(404);
    expect((await json("DELETE", `/broker/rest/application/${body.data.id}`, bob)).res.statusCode).toBe(404);
    expect(svc.apps).toHaveLength(1);

    const ev = await json("POST", `/broker/rest/application/${body.data.id}/events`, alice, {
      event: "restart",
    });
    expect([ev.res.statusCode, ev.body.type]).toEqual([200, "application"]);
    const gg = await json("GET", `/broker/rest/application/${body.data.id}/gear_groups`, alice);
    expect(gg.body).toMatchObject({ type: "gear_groups", data: [{ gears: [{ state: "started" }] }] });
    // the live state (what the nodes have) and the repair, for reconciling clients (the Pulumi providers)
    const live = await json("GET", `/broker/rest/application/${body.data.id}/live-state`, alice);
    expect(live.res.statusCode).toBe(200);
    expect(live.body).toMatchObject({
      type: "application-live-state",
      data: {
        id: body.data.id,
        gears: [
          {
            present: true,
            mcs_label: "s0:c0,c1",
            cgroup: { "memory.limit_in_bytes": "536870912" },
            drift: [],
            route: { hostnames: [expect.stringMatching(/\./)], idle: false },
          },
        ],
      },
    });
    expect(body.data.links.GET_LIVE_STATE).toMatchObject({ method: "GET" });
    expect(body.data.links.REPAIR).toMatchObject({ method: "POST" });
    const repaired = await json("POST", `/broker/rest/application/${body.data.id}/repair`, alice, {});
    expect([repaired.res.statusCode, repaired.body.type]).toEqual([200, "application-live-state"]);
    const othersLive = await json("GET", `/broker/rest/application/${body.data.id}/live-state`, bob);
    expect(othersLive.res.statusCode).toBe(404);
  });

  it("sets and unsets environment variables with PATCH", async () => {
    await json("POST", "/broker/rest/domains", alice, { id: "ns1" });
    const { body } = await json("POST", "/broker/rest/domain/ns1/applications", alice, {
      name: "app1",
      cartridges: ["nodejs-20"],
    });
    const href = body.data.links.SET_UNSET_ENVIRONMENT_VARIABLES.href.replace(
      "https://broker.example.test",
      "",
    );
    expect(body.data.links.SET_UNSET_ENVIRONMENT_VARIABLES.method).toBe("PATCH");
    const set = await json("PATCH", href, alice, { environment_variables: [{ name: "K", value: "V" }] });
    expect(set.body).toMatchObject({ type: "environment-variables", data: [{ name: "K", value: "V" }] });
    const unset = await json("PATCH", href, alice, { environment_variables: [{ name: "K" }] });
    expect(unset.body.data).toEqual([]);
  });
});

describe("bad input: 4xx with fields, nothing created", () => {
  beforeEach(async () => {
    await json("POST", "/broker/rest/domains", alice, { id: "ns1" });
    svc.calls = [];
  });

  it.each([
    [{ name: "App_1", cartridges: ["nodejs-20"] }, "name", 105],
    [{ name: 5, cartridges: ["nodejs-20"] }, "name", 105],
    [{ cartridges: ["nodejs-20"] }, "name", 105],
    [{ name: "app1", cartridges: "nodejs-20" }, "cartridges", 109],
    [{ name: "app1", cartridges: ["NODE JS"] }, "cartridges[0]", 109],
    [
      { name: "app1", cartridges: ["nodejs-20"], environment_variables: [{ name: "1X", value: "v" }] },
      "environment_variables[0].name",
      1,
    ],
    [
      { name: "app1", cartridges: ["nodejs-20"], environment_variables: [{ name: "X", value: 3 }] },
      "environment_variables[0].value",
      1,
    ],
  ])("app create %j → 422 field %s (exit %d)", async (payload, field, code) => {
    const { res, body } = await json("POST", "/broker/rest/domain/ns1/applications", alice, payload);
    expect(res.statusCode).toBe(422);
    expect(body.status).toBe("unprocessable_entity");
    expect(body.messages).toContainEqual(
      expect.objectContaining({ severity: "error", field, exit_code: code }),
    );
    expect(svc.calls).toEqual([]);
    expect(svc.apps).toEqual([]);
  });

  it("answers a bad namespace 422 with 106", async () => {
    const { res, body } = await json("POST", "/broker/rest/domains", alice, { id: "no-dash" });
    expect(res.statusCode).toBe(422);
    expect(body.messages[0]).toMatchObject({ field: "id", exit_code: 106 });
    expect(svc.calls).toEqual([]);
  });

  it("answers malformed JSON 400 with field body", async () => {
    const { res, body } = await json("POST", "/broker/rest/domain/ns1/applications", alice, '{"name": "x",');
    expect(res.statusCode).toBe(400);
    expect(body.messages[0]).toMatchObject({ field: "body" });
    expect(svc.calls).toEqual([]);
  });

  it("answers an oversized body 413 with field body", async () => {
    const { res, body } = await json("POST", "/broker/rest/domain/ns1/applications", alice, {
      name: "app1",
      cartridges: ["nodejs-20"],
      pad: "x".repeat(10000),
    });
    expect(res.statusCode).toBe(413);
    expect(body.messages[0]).toMatchObject({ field: "body" });
    expect(svc.calls).toEqual([]);
  });

  it("answers a bad event 422 with 126", async () => {
    await json("POST", "/broker/rest/domain/ns1/applications", alice, {
      name: "app1",
      cartridges: ["nodejs-20"],
    });
    const { res, body } = await json("POST", `/broker/rest/application/${svc.apps[0].id}/events`, alice, {
      event: "explode",
    });
    expect(res.statusCode).toBe(422);
    expect(body.messages[0]).toMatchObject({ field: "event", exit_code: 126 });
  });

  it("checks the body only after the login: no credentials → 401, not 422", async () => {
    const { res } = await json("POST", "/broker/rest/domains", { accept: V, "content-type": V }, { id: 5 });
    expect(res.statusCode).toBe(401);
  });
});

describe("logs", () => {
  it("never contain a password or a token", async () => {
    const tok = (await json("POST", "/broker/rest/user/authorizations", alice, { scope: "session" })).body
      .data.token as string;
    await json("GET", "/broker/rest/user", { authorization: `Bearer ${tok}`, accept: V });
    await json("GET", "/broker/rest/user", { authorization: basic("alice", "wrong-password-x"), accept: V });
    const root = { authorization: basic("root", "root-secret-pw-333"), accept: V, "content-type": V };
    await json("POST", "/broker/rest/admin/users", root, {
      login: "carol",
      password: "carol-secret-pw-4444",
    });
    await json("POST", "/broker/rest/admin/users", root, { login: "dave", password: 12345678 });
    const log = logLines.join("");
    expect(log.length).toBeGreaterThan(100);
    const b64 = Buffer.from(`alice:${ALICE_PW}`).toString("base64");
    for (const secret of [
      ALICE_PW,
      tok,
      "wrong-password-x",
      "root-secret-pw-333",
      "carol-secret-pw-4444",
      b64,
    ]) {
      expect(log).not.toContain(secret);
    }
  });
});
