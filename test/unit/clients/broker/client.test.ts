import {
  ConflictError,
  NotFoundError,
  RefusedError,
  UnavailableError,
  ValidationError,
} from "../../../../common/errors";
import { BrokerClient } from "../../../../clients/broker";
import { startStubBroker, type StubBroker } from "./stub-broker";

let broker: StubBroker;
beforeEach(async () => {
  broker = await startStubBroker();
});
afterEach(async () => {
  await broker.close();
});

const demo = () =>
  new BrokerClient({ server: broker.url, credentials: { login: "demo", password: "s3cret-pw" } });

it("discovers without credentials, negotiates 1.7, then sends every request versioned", async () => {
  const c = demo();
  await c.listDomains();
  const [first, second, third] = broker.requests;
  expect(first).toMatchObject({ method: "GET", url: "/broker/rest/api", accept: "application/json" });
  expect(first.authorization).toBeUndefined();
  // the stub answered the unversioned request as 1.3: the client asks again at 1.7
  expect(second).toMatchObject({ url: "/broker/rest/api", accept: "application/json;version=1.7" });
  expect(third).toMatchObject({
    method: "GET",
    url: "/broker/rest/domains",
    accept: "application/json;version=1.7",
  });
  expect(third.authorization).toBe(`Basic ${Buffer.from("demo:s3cret-pw").toString("base64")}`);
  await c.listDomains();
  expect(broker.requests.filter((r) => r.url === "/broker/rest/api")).toHaveLength(2); // discovered once
});

it("fails clearly when the broker has no common version", async () => {
  await broker.close();
  broker = await startStubBroker({ versions: [1.5, 1.6] });
  await expect(demo().listDomains()).rejects.toThrow(
    new UnavailableError(
      `GET ${broker.url}/broker/rest/api: the broker speaks API 1.5, 1.6; this client speaks 1.7`,
    ),
  );
});

it("follows links with templates escaped, bodies as versioned JSON, GET params in the query", async () => {
  const c = demo();
  await c.addDomain("ns1");
  const post = broker.requests.find((r) => r.method === "POST")!;
  expect(post).toMatchObject({
    url: "/broker/rest/domains",
    contentType: "application/json;version=1.7",
    body: { name: "ns1" },
  });
  const created = await c.createApplication("ns1", {
    name: "app1",
    cartridges: ["nodejs-20"],
    environmentVariables: [{ name: "A", value: "1" }],
  });
  expect(created.value).toMatchObject({
    name: "app1",
    domain_id: "ns1",
    app_url: "http://app1-ns1.apps.stub.test/",
  });
  // info messages are not shown, results are
  expect(created.messages.map((m) => m.text)).toEqual(["nodejs-20 installed"]);
  const app = await c.application("ns1", "app1", { includeCartridges: true });
  expect(broker.requests.at(-1)!.url).toBe("/broker/rest/domain/ns1/application/app1?include=cartridges");
  expect(app.cartridges?.map((x) => x.name)).toEqual(["nodejs-20"]);
  await expect(c.application("ns1", "a b/c")).rejects.toBeInstanceOf(NotFoundError);
  expect(broker.requests.at(-1)!.url).toBe("/broker/rest/domain/ns1/application/a%20b%2Fc");
});

it("a bearer token is sent up front", async () => {
  broker.state.tokens.set("tok-x", "demo");
  const c = new BrokerClient({ server: `${broker.url}/broker/rest/api`, credentials: { token: "tok-x" } });
  expect((await c.user()).login).toBe("demo");
  expect(broker.requests.at(-1)!.authorization).toBe("Bearer tok-x");
});

it("maps error replies to the common error classes with field and broker code", async () => {
  const c = demo();
  const invalid = await c.addDomain("Bad_Name").catch((e: unknown) => e);
  expect(invalid).toBeInstanceOf(ValidationError);
  expect(invalid).toMatchObject({
    field: "name",
    message: "invalid name: must be 1-16 lower-case letters or digits",
  });
  expect((invalid as ValidationError).details()).toEqual({ status: 422, broker_exit_code: 106 });

  const missing = await c.domain("nope").catch((e: unknown) => e);
  expect(missing).toBeInstanceOf(NotFoundError);
  expect((missing as NotFoundError).message).toBe("Domain 'nope' not found");
  expect((missing as NotFoundError).details()).toEqual({ status: 404, broker_exit_code: 127 });

  await c.addKey({ name: "k1", type: "ssh-ed25519", content: "AAAA" });
  await expect(c.addKey({ name: "k1", type: "ssh-ed25519", content: "AAAA" })).rejects.toBeInstanceOf(
    ConflictError,
  );

  const wrong = new BrokerClient({ server: broker.url, credentials: { login: "demo", password: "nope" } });
  await expect(wrong.listDomains()).rejects.toThrow(RefusedError);
  await expect(wrong.listDomains()).rejects.toThrow(/not authenticated: Not authenticated/);
  await expect(demo().listNodes()).rejects.toThrow(new RefusedError("admin only"));
});

it("an unreachable broker is unavailable, naming the URL", async () => {
  await broker.close();
  const c = new BrokerClient({ server: broker.url });
  await expect(c.catalogue()).rejects.toThrow(UnavailableError);
  await expect(c.catalogue()).rejects.toThrow(
    /GET http:\/\/127\.0\.0\.1:\d+\/broker\/rest\/api: cannot reach the broker \(ECONNREFUSED\)/,
  );
  broker = await startStubBroker();
});

it("a reply that is not an envelope fails as the server not responding correctly", async () => {
  const c = new BrokerClient({
    server: "http://broker.invalid",
    fetch: async () => new Response("<html>proxy error</html>", { status: 422 }),
  });
  await expect(c.listDomains()).rejects.toThrow(/did not respond correctly/);
});

it("env changes go as one PATCH; unset sends names without values", async () => {
  const c = demo();
  await c.addDomain("ns1");
  await c.createApplication("ns1", { name: "app1", cartridges: ["nodejs-20"] });
  await c.changeEnv("ns1", "app1", [
    { name: "A", value: "1" },
    { name: "B", value: "2" },
  ]);
  const r = await c.changeEnv("ns1", "app1", [{ name: "A" }]);
  expect(broker.requests.at(-1)).toMatchObject({
    method: "PATCH",
    body: { environment_variables: [{ name: "A" }] },
  });
  expect(r.value).toEqual([{ name: "B", value: "2" }]);
  expect(await c.listEnv("ns1", "app1")).toEqual([{ name: "B", value: "2" }]);
});

it("admin calls go below /broker/rest/admin with escaped names", async () => {
  const admin = new BrokerClient({
    server: broker.url,
    credentials: { login: "admin", password: "admin-pw" },
  });
  const d = await admin.createDistrict({ name: "d1", gearProfile: "small", firstUid: 2000, capacity: 10 });
  expect(d).toMatchObject({ name: "d1", first_uid: 2000, max_uid: 2009 });
  expect(broker.requests.at(-1)).toMatchObject({
    url: "/broker/rest/admin/districts",
    body: { name: "d1", gear_profile: "small", first_uid: 2000, capacity: 10 },
  });
  await admin.addDistrictNode("d1", "node1.example.test");
  const after = await admin.setDistrictNodeActive("d1", "node1.example.test", false);
  expect(broker.requests.at(-1)).toMatchObject({
    url: "/broker/rest/admin/district/d1/node/node1.example.test/events",
    body: { event: "deactivate" },
  });
  expect(after.nodes).toEqual([{ name: "node1.example.test", active: false }]);
});
