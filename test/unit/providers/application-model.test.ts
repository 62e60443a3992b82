// BrokerApp's pure decisions (providers/application/model.ts): check with the broker's wire schemas (fields
// named as the resource's properties), diff (replacements for identity, in place for the rest, drift as
// `observed`), the live state read as properties, variable changes; and the component's resolve.
import { resolveApplication } from "../../../components/application/resolve";
import {
  checkBrokerApp,
  desiredObserved,
  diffBrokerApp,
  envChanges,
  inputsOf,
  normalizeInputs,
  observedOf,
  outputsOf,
  UNKNOWN,
  type BrokerAppInputs,
  type LiveState,
} from "../../../providers/application/model";
import { operationsModule } from "../../../providers/application";
import { checkBrokerDomain, diffBrokerDomain } from "../../../providers/domain/model";

const conn = { server: "https://broker.example.test", token: "t0ken" };
const base: Partial<BrokerAppInputs> = {
  connection: conn,
  domain: "ns1",
  name: "web1",
  webCartridge: "nodejs-20",
  cartridges: ["postgresql-15"],
  gearProfile: "small",
  env: { GREETING: "hello" },
};
const inputs = normalizeInputs(base);

const liveGear = {
  id: "a".repeat(32),
  uid: 65000,
  node: "n1",
  present: true,
  error: null,
  mcs_label: "s0:c1,c2",
  cgroup: { "memory/memory.limit_in_bytes": "536870912" },
  drift: [],
  cartridges: [
    { name: "nodejs-20", status: "started" },
    { name: "postgresql-15", status: "started" },
  ],
  route: { hostnames: ["web1-ns1.apps.test"] },
};
const live: LiveState = { state: "started", gear_profile: "small", gears: [liveGear] };
const app = {
  id: "a".repeat(32),
  app_url: "http://web1-ns1.apps.test/",
  git_url: "ssh://x@n1/~/git/web1.git/",
  gear_profile: "small",
  state: "started",
  cartridges: [
    { name: "nodejs-20", type: "standalone" },
    { name: "postgresql-15", type: "embedded" },
  ],
};

describe("check", () => {
  test("good inputs pass and get their defaults and the desired observed state", () => {
    expect(checkBrokerApp(base)).toEqual([]);
    expect(normalizeInputs({ ...base, gearProfile: undefined, started: undefined })).toMatchObject({
      gearProfile: "small",
      started: true,
      observed: {
        drift: [],
        routed: true,
        cartridges: { "nodejs-20": "started", "postgresql-15": "started" },
      },
    });
  });
  test.each([
    [{ name: "Web_1" }, "name"],
    [{ domain: "NS-1" }, "domain"],
    [{ webCartridge: "NODE JS" }, "webCartridge"],
    [{ webCartridge: undefined }, "webCartridge"],
    [{ cartridges: ["ok-1", "bad cart"] }, "cartridges[1]"],
    [{ cartridges: ["nodejs-20"] }, "cartridges"],
    [{ env: { "1BAD": "x" } }, 'env["1BAD"]'],
    [{ gearProfile: "huge" }, "gearProfile"],
    [{ connection: { server: "" } }, "connection.server"],
    [{ connection: { server: "https://b" } }, "connection"],
    [{ started: "yes" }, "started"],
  ])("%j fails naming %s", (change, property) => {
    const failures = checkBrokerApp({ ...base, ...change } as Partial<BrokerAppInputs>);
    expect(failures.map((f) => f.property)).toContain(property);
  });
  test("the broker's rule is quoted", () => {
    expect(checkBrokerApp({ ...base, name: "Web_1" })[0].reason).toMatch(/broker's rule \^\[a-z\]/);
  });
  test("values not known yet (preview) are not judged", () => {
    expect(
      checkBrokerApp({ ...base, name: UNKNOWN, connection: UNKNOWN as never, env: UNKNOWN as never }),
    ).toEqual([]);
  });
});

describe("diff", () => {
  const outs = outputsOf(inputs, app, live, { GREETING: "hello" });
  test("no change when the nodes report what is declared", () => {
    expect(diffBrokerApp(outs, inputs)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: true });
  });
  test.each([
    ["domain", "ns2"],
    ["name", "web2"],
    ["webCartridge", "php-8"],
    ["gearProfile", "medium"],
  ])("%s replaces", (k, v) => {
    expect(diffBrokerApp(outs, { ...inputs, [k]: v })).toMatchObject({ changes: true, replaces: [k] });
  });
  test.each([
    ["env", { GREETING: "hi" }],
    ["cartridges", []],
    ["started", false],
  ])("%s updates in place", (k, v) => {
    const news = normalizeInputs({ ...base, [k]: v });
    expect(diffBrokerApp(outs, news)).toMatchObject({ changes: true, replaces: [] });
  });
  test("the order of embedded cartridges is no change", () => {
    const two = normalizeInputs({ ...base, cartridges: ["mysql-8", "postgresql-15"] });
    const outs2 = {
      ...outputsOf(two, app, live, null),
      cartridges: ["postgresql-15", "mysql-8"],
      observed: two.observed,
    };
    expect(diffBrokerApp(outs2, two).changes).toBe(false);
  });
  test("drift the nodes report is an update, not a replacement", () => {
    const drifted = outputsOf(
      inputs,
      app,
      {
        ...live,
        gears: [
          {
            ...liveGear,
            drift: [
              { field: "cgroup:memory/memory.limit_in_bytes", expected: "536870912", actual: "134217728" },
            ],
            cartridges: [
              { name: "nodejs-20", status: "stopped" },
              { name: "postgresql-15", status: "started" },
            ],
            route: null,
          },
        ],
      },
      null,
    );
    expect(drifted.observed).toEqual({
      drift: ["cgroup:memory/memory.limit_in_bytes: expected 536870912, actual 134217728"],
      cartridges: { "nodejs-20": "stopped", "postgresql-15": "started" },
      routed: false,
    });
    expect(diffBrokerApp(drifted, inputs)).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: true,
    });
    // refresh hands the engine these inputs: only `observed` differs from the declared ones
    const refreshed = inputsOf(drifted);
    expect({ ...refreshed, observed: null }).toEqual({ ...inputs, observed: null });
  });
});

describe("live state as properties", () => {
  test("outputs carry the node's facts and the broker's URLs", () => {
    expect(outputsOf(inputs, app, live, null)).toMatchObject({
      appId: app.id,
      fqdn: "web1-ns1.apps.test",
      appUrl: app.app_url,
      gitUrl: app.git_url,
      node: "n1",
      uid: 65000,
      mcsLabel: "s0:c1,c2",
      cgroup: { "memory/memory.limit_in_bytes": "536870912" },
      observed: inputs.observed,
      env: { GREETING: "hello" },
    });
  });
  test("a gear the node lacks and a cartridge it does not report are drift", () => {
    const o = observedOf(
      { ...live, gears: [{ ...liveGear, present: false, cartridges: [], route: null }] },
      "web1-ns1.apps.test",
      ["nodejs-20"],
    );
    expect(o).toEqual({
      drift: [`gear ${"a".repeat(32)}: missing on node n1`],
      cartridges: { "nodejs-20": "missing" },
      routed: false,
    });
  });
  test("a stopped application wants its cartridges stopped", () => {
    expect(desiredObserved("nodejs-20", [], false).cartridges).toEqual({ "nodejs-20": "stopped" });
  });
});

test("variable changes: set what is new or changed, unset what is gone", () => {
  expect(envChanges({ A: "1", B: "2" }, { A: "1", B: "3", C: "4" })).toEqual([
    { name: "B", value: "3" },
    { name: "C", value: "4" },
  ]);
  expect(envChanges({ A: "1", B: "2" }, { B: "2" })).toEqual([{ name: "A" }]);
});

test("the provider's module is the compiled one, from the sources or from dist/", () => {
  expect(operationsModule("/repo/providers/application", ".ts")).toBe(
    "/repo/dist/providers/application/operations.js",
  );
  expect(operationsModule("/repo/dist/providers/application", ".js")).toBe(
    "/repo/dist/providers/application/operations.js",
  );
});

describe("Application component arguments", () => {
  test("plain values are checked naming the field; Outputs are left to the provider", () => {
    expect(() =>
      resolveApplication({ domain: "ns1", name: "web1", webCartridge: "nodejs-20" }),
    ).not.toThrow();
    expect(() => resolveApplication({ domain: "ns1", name: "web_1", webCartridge: "nodejs-20" })).toThrow(
      /name/,
    );
    expect(() => resolveApplication({ domain: "ns1", name: "web1", webCartridge: {} })).not.toThrow();
    expect(() =>
      resolveApplication({ domain: "ns1", name: "web1", webCartridge: "nodejs-20", gearProfile: "huge" }),
    ).toThrow(expect.objectContaining({ field: "gearProfile" }));
    expect(() =>
      resolveApplication({
        domain: "ns1",
        name: "web1",
        webCartridge: "nodejs-20",
        aliases: ["www.example.com"],
      }),
    ).toThrow(expect.objectContaining({ field: "aliases" }));
  });
});

describe("BrokerDomain", () => {
  test("the namespace is checked with the broker's schema; a new name replaces", () => {
    expect(checkBrokerDomain({ connection: conn, name: "team1" })).toEqual([]);
    expect(checkBrokerDomain({ connection: conn, name: "Team-1" }).map((f) => f.property)).toEqual(["name"]);
    expect(checkBrokerDomain({ name: "team1" }).map((f) => f.property)).toEqual(["connection.server"]);
    expect(checkBrokerDomain({ connection: conn, name: UNKNOWN })).toEqual([]);
    expect(diffBrokerDomain({ name: "a" }, { connection: conn, name: "b" })).toEqual({
      changes: true,
      replaces: ["name"],
      deleteBeforeReplace: true,
    });
    expect(diffBrokerDomain({ name: "a" }, { connection: conn, name: "a" }).changes).toBe(false);
  });
});
