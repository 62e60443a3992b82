// The broker command groups of `geartrain` against a stub broker (test/unit/clients/broker/stub-broker.ts).

import { readFileSync, statSync, writeFileSync } from "fs";
import * as path from "path";
import type { BrokerGroup, CliContext } from "../../../../services/cli/base";
import { group as admin } from "../../../../services/cli/groups/admin";
import { group as appGroup } from "../../../../services/cli/groups/app";
import { group as cartridge } from "../../../../services/cli/groups/cartridge";
import { group as check } from "../../../../services/cli/groups/check";
import { group as domain } from "../../../../services/cli/groups/domain";
import { group as env } from "../../../../services/cli/groups/env";
import { group as login } from "../../../../services/cli/groups/login";
import { group as sshkey } from "../../../../services/cli/groups/sshkey";
import { startStubBroker, type StubBroker } from "../../clients/broker/stub-broker";
import { testCli, type TestCli } from "./helpers";

let broker: StubBroker;
let t: TestCli;
beforeEach(async () => {
  broker = await startStubBroker();
  t = testCli();
});
afterEach(async () => {
  t.cleanup();
  await broker.close();
});

type Runnable = { runWith(argv: readonly string[], ctx: CliContext): Promise<number> };
async function run(g: Runnable | BrokerGroup, ...argv: string[]): Promise<number> {
  t.out.length = 0;
  t.err.length = 0;
  return g.runWith(argv, t.ctx);
}

async function loginAs(user = "demo", password = "s3cret-pw"): Promise<void> {
  const pw = path.join(t.home, "pw");
  writeFileSync(pw, `${password}\n`, { mode: 0o600 });
  expect(await run(login, "--server", broker.url, "--login", user, "--password-file", pw)).toBe(0);
}

describe("login", () => {
  it("stores server and token 0600 and never the password", async () => {
    await loginAs();
    const file = path.join(t.home, "client.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(t.home).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(file, "utf8"));
    expect(stored).toEqual({ server: `${broker.url}/broker/rest`, login: "demo", token: "tok-1-demo" });
    expect(readFileSync(file, "utf8")).not.toContain("s3cret-pw");
    expect(t.out.join("\n")).toMatch(/Logged in to .* as demo/);
    expect([...t.out, ...t.err].join("\n")).not.toMatch(/tok-1-demo|s3cret-pw/);
    // the token was asked for with Basic credentials; later calls use it
    expect(broker.requests.find((r) => r.url === "/broker/rest/user/authorizations")!.authorization).toMatch(
      /^Basic /,
    );
    expect(await run(domain, "list")).toBe(0);
    expect(broker.requests.at(-1)!.authorization).toBe("Bearer tok-1-demo");
  });

  it("reads the password from stdin, and refuses one on the command line", async () => {
    t.stdin.text = "s3cret-pw\n";
    expect(await run(login, "--server", broker.url, "-l", "demo")).toBe(0);
    expect(await run(login, "--server", broker.url, "-l", "demo", "--password", "s3cret-pw")).toBe(2);
    expect(t.err.join("\n")).toMatch(/visible to everyone/);
  });

  it("on a terminal, asks for the password without echo", async () => {
    const asked: string[] = [];
    t.ctx = {
      ...t.ctx,
      stdinIsTTY: true,
      promptSecret: async (q) => {
        asked.push(q);
        return "s3cret-pw";
      },
    };
    const code = await run(login, "--server", broker.url, "-l", "demo");
    expect({ code, err: t.err }).toEqual({ code: 0, err: [] });
    expect(asked).toEqual(["Password: "]);
  });

  it("a wrong password fails (exit 1) without storing anything", async () => {
    t.stdin.text = "wrong\n";
    expect(await run(login, "--server", broker.url, "-l", "demo")).toBe(1);
    expect(t.err.join("\n")).toMatch(/not authenticated/);
    expect(() => statSync(path.join(t.home, "client.json"))).toThrow();
  });

  it("commands before login say how to log in", async () => {
    expect(await run(domain, "list")).toBe(2);
    expect(t.err.join("\n")).toMatch(/geartrain login --server URL/);
  });
});

describe("developer verbs", () => {
  beforeEach(() => loginAs());

  it("domain create|list|show|delete", async () => {
    expect(await run(domain, "create", "ns1")).toBe(0);
    expect(t.out).toEqual(["Domain ns1 created (apps at *-ns1.apps.stub.test)"]);
    expect(await run(domain, "list")).toBe(0);
    expect(t.out[1]).toMatch(/^ns1\s+demo/);
    expect(await run(domain, "show", "ns1", "--json")).toBe(0);
    expect(JSON.parse(t.out.join("\n"))).toMatchObject({ name: "ns1", applications: [] });
    expect(await run(domain, "delete", "ns1")).toBe(2);
    expect(await run(domain, "delete", "ns1", "--confirm")).toBe(0);
    expect(t.err).toEqual([]);
    expect(await run(domain, "show", "ns1")).toBe(4);
    expect(t.err).toEqual(["geartrain domain show: Domain 'ns1' not found"]);
  });

  it("invalid input exits 3 naming the field; --json prints the error object", async () => {
    expect(await run(domain, "create", "Bad_Name", "--json")).toBe(3);
    expect(JSON.parse(t.out.join("\n"))).toEqual({
      error: {
        kind: "invalid",
        message: "invalid name: must be 1-16 lower-case letters or digits",
        field: "name",
        status: 422,
        broker_exit_code: 106,
      },
    });
  });

  it("app create shows progress, then the app; list, show, events, delete", async () => {
    await run(domain, "create", "ns1");
    broker.createDelayMs = 150;
    expect(await run(appGroup, "create", "app1", "nodejs-20", "--env", "A=1")).toBe(0);
    expect(t.err[0]).toBe("Creating application app1 in ns1 with nodejs-20 ...");
    expect(t.err.some((l) => /^ {2}\.\.\. creating app1: \d+ s$/.test(l))).toBe(true);
    expect(t.err).toContain("nodejs-20 installed");
    expect(t.out[0]).toMatch(/^app1 @ http:\/\/app1-ns1\.apps\.stub\.test\/ \(uuid a+1\)$/);
    expect(broker.requests.find((r) => r.method === "POST" && r.url.endsWith("/applications"))!.body).toEqual(
      {
        name: "app1",
        cartridges: ["nodejs-20"],
        environment_variables: [{ name: "A", value: "1" }],
      },
    );
    expect(await run(appGroup, "list")).toBe(0);
    expect(t.out[1]).toMatch(/^app1\s+ns1\s+http/);
    expect(await run(appGroup, "show", "app1", "-n", "ns1")).toBe(0);
    expect(t.out).toContain("    nodejs-20");
    for (const [verb, state] of [
      ["stop", "stopped"],
      ["start", "started"],
      ["restart", "started"],
      ["tidy", "started"],
    ]) {
      expect(await run(appGroup, verb, "app1")).toBe(0);
      expect(broker.requests.at(-1)!.body).toEqual({ event: verb });
      expect(broker.state.apps[0].state).toBe(state);
    }
    expect(await run(appGroup, "show", "nope")).toBe(4);
    expect(t.err.join("\n")).toMatch(/Application 'nope' not found/);
    expect(await run(appGroup, "delete", "app1", "--confirm")).toBe(0);
    expect(broker.state.apps).toEqual([]);
  });

  it("app create needs a cartridge; unknown flags and commands are usage errors", async () => {
    expect(await run(appGroup, "create", "app1")).toBe(2);
    expect(t.err[0]).toMatch(/missing CARTRIDGE/);
    expect(await run(appGroup, "frob")).toBe(2);
    expect(await run(appGroup, "list", "--bogus")).toBe(2);
    expect(await run(appGroup, "--help")).toBe(0);
    expect(t.out.join("\n")).toMatch(/geartrain app create NAME CARTRIDGE/);
  });

  it("cartridge list|add|remove, and lint still goes to the authors' tool", async () => {
    await run(domain, "create", "ns1");
    await run(appGroup, "create", "app1", "nodejs-20");
    expect(await run(cartridge, "list")).toBe(0);
    expect(t.out.slice(1)).toEqual([
      "nodejs-20      web    Node.js 20",
      "postgresql-15  addon  PostgreSQL 15",
    ]);
    expect(await run(cartridge, "add", "postgresql-15", "-a", "app1")).toBe(0);
    expect(t.err).toContain("PostgreSQL password: pw");
    expect(t.out).toContain("  connection_url: postgresql://x");
    expect(await run(cartridge, "add", "mysql-8", "-a", "app1")).toBe(3);
    expect(await run(cartridge, "list", "-a", "app1", "--json")).toBe(0);
    expect(JSON.parse(t.out.join("\n")).map((c: { name: string }) => c.name)).toEqual([
      "nodejs-20",
      "postgresql-15",
    ]);
    expect(await run(cartridge, "remove", "postgresql-15", "-a", "app1", "--confirm")).toBe(0);
    expect(broker.state.apps[0].cartridges).toEqual(["nodejs-20"]);
    expect(await run(cartridge, "remove", "postgresql-15", "-a", "app1", "--confirm")).toBe(4);
    expect(await run(cartridge, "lint", "--help")).toBe(0);
    expect(t.out.join("\n")).toMatch(/geartrain cartridge lint \[--json\]/);
  });

  it("env set|list|unset", async () => {
    await run(domain, "create", "ns1");
    await run(appGroup, "create", "app1", "nodejs-20");
    expect(await run(env, "set", "A=1", "B=x=y", "-a", "app1")).toBe(0);
    expect(await run(env, "list", "-a", "app1")).toBe(0);
    expect(t.out).toEqual(["NAME  VALUE", "A     1", "B     x=y"]);
    expect(await run(env, "unset", "A", "-a", "app1")).toBe(0);
    expect(broker.requests.at(-1)!.body).toEqual({ environment_variables: [{ name: "A" }] });
    expect(await run(env, "set", "novalue", "-a", "app1")).toBe(3);
    expect(await run(env, "list")).toBe(2);
  });

  it("sshkey add|list|remove", async () => {
    const pub = path.join(t.home, "id.pub");
    writeFileSync(pub, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm9Zl5Ya1 me@host\n");
    expect(await run(sshkey, "add", "k1", pub)).toBe(0);
    expect(broker.state.keys).toEqual([
      { name: "k1", type: "ssh-ed25519", content: "AAAAC3NzaC1lZDI1NTE5AAAAIBm9Zl5Ya1" },
    ]);
    expect(await run(sshkey, "add", "k1", pub)).toBe(5);
    expect(await run(sshkey, "list")).toBe(0);
    expect(t.out[1]).toMatch(/^k1\s+ssh-ed25519\s+AAAAC3NzaC1l\.\.\./);
    writeFileSync(pub, "not a key");
    expect(await run(sshkey, "add", "k2", pub)).toBe(3);
    expect(await run(sshkey, "remove", "k1")).toBe(0);
    expect(await run(sshkey, "remove", "k1")).toBe(4);
  });
});

describe("admin", () => {
  it("district and node verbs; a developer is refused", async () => {
    await loginAs();
    expect(await run(admin, "district", "list")).toBe(1);
    expect(t.err.join("\n")).toMatch(/admin only/);
    await loginAs("admin", "admin-pw");
    expect(await run(admin, "district", "create", "d1", "--gear-profile", "small", "--capacity", "100")).toBe(
      0,
    );
    expect(t.out[1]).toMatch(/UIDs:\s+1000-1099 \(100 of 100 free\)/);
    expect(
      await run(admin, "district", "create", "d2", "--gear-profile", "small", "--capacity", "lots"),
    ).toBe(3);
    expect(await run(admin, "district", "add-node", "d1", "node1")).toBe(0);
    expect(await run(admin, "district", "deactivate-node", "d1", "node1")).toBe(0);
    expect(t.out.join("\n")).toMatch(/node1 \(inactive\)/);
    expect(await run(admin, "district", "activate-node", "d1", "node1")).toBe(0);
    expect(await run(admin, "district", "show", "d1", "--json")).toBe(0);
    expect(JSON.parse(t.out.join("\n")).nodes).toEqual([{ name: "node1", active: true }]);
    expect(await run(admin, "district", "remove-node", "d1", "node1")).toBe(0);
    expect(await run(admin, "district", "list")).toBe(0);
    expect(t.out[1]).toMatch(/^d1\s+small\s+1000-1099\s+100\s+-$/);
    broker.state.nodes.push(node("node1"));
    expect(await run(admin, "node", "list")).toBe(0);
    expect(t.out[1]).toMatch(/^node1\s+d1\s+small\s+1\/100\s+yes\s+node1\.example\.test$/);
    expect(await run(admin, "node", "show", "node1")).toBe(0);
    expect(await run(admin, "node", "show", "node9")).toBe(4);
    expect(await run(admin, "frob")).toBe(2);
  });

  it("what the District component runs: env credentials, create --exists-ok, add-node --wait, remove-node --if-present, delete", async () => {
    const ctx = { ...t.ctx, envCredentials: { login: "admin", password: "admin-pw" } };
    const go = (...argv: string[]) => {
      t.out.length = 0;
      t.err.length = 0;
      return admin.runWith(["district", ...argv, "--server", broker.url], ctx);
    };
    const create = ["create", "d1", "--gear-profile", "small", "--first-uid", "1000", "--capacity", "6000"];
    expect(await go(...create)).toBe(0);
    expect(broker.requests.at(-1)!.authorization).toBe(
      `Basic ${Buffer.from("admin:admin-pw").toString("base64")}`,
    );
    expect(await go(...create)).toBe(5);
    expect(await go(...create, "--exists-ok")).toBe(0);
    expect(await go("create", "d1", "--gear-profile", "small", "--capacity", "10", "--exists-ok")).toBe(5);
    expect(t.err.join("\n")).toMatch(/exists with 6000 UIDs, not 10/);
    expect(await go("create", "d1", "--gear-profile", "large", "--exists-ok")).toBe(5);
    broker.state.unreported.n1 = 1;
    broker.state.unreported.n2 = 100;
    expect(await go("add-node", "d1", "n1", "--wait", "10")).toBe(0);
    expect(await go("add-node", "d1", "n1", "--wait", "10")).toBe(0);
    expect(broker.state.districts[0].nodes).toEqual([{ name: "n1", active: true }]);
    expect(await go("add-node", "d1", "n2", "--wait", "0")).toBe(3);
    expect(t.err.join("\n")).toMatch(/n2 has not reported facts after 0 s/);
    expect(await go("delete", "d1")).toBe(5);
    expect(await go("remove-node", "d1", "n1", "--if-present")).toBe(0);
    expect(await go("remove-node", "d1", "n1", "--if-present")).toBe(0);
    expect(broker.state.districts[0].nodes).toEqual([]);
    expect(await go("delete", "d1")).toBe(0);
    expect(broker.state.districts).toEqual([]);
    expect(await go("delete", "d1")).toBe(4);
    expect(await go("delete", "d1", "--missing-ok")).toBe(0);
    expect(await go("remove-node", "d1", "n1", "--if-present")).toBe(0);
    expect([...t.out, ...t.err].join("\n")).not.toContain("admin-pw");
  });
});

function node(name: string, responsive = true) {
  return {
    name,
    district: "d1",
    active: true,
    responsive,
    last_seen: null,
    profile: "small",
    active_gears: 1,
    max_active_gears: 100,
    public_hostname: `${name}.example.test`,
    cartridges: ["nodejs-20"],
  };
}

describe("check", () => {
  const uuid = "0123456789abcdef0123456789abcdef";
  const record = {
    uuid,
    uid: 1000,
    node: "node1",
    district: "d1",
    application: "app1",
    application_id: "a".repeat(32),
    domain: "ns1",
    fqdn: "app1-ns1.apps.stub.test",
    cartridges: ["nodejs-20"],
    state: "started",
  };
  const nodeGear = {
    uuid,
    uid: 1000,
    phase: "created",
    app: "app1",
    namespace: "ns1",
    appUuid: "a".repeat(32),
    profile: "small",
  };
  const route = { gearUuid: uuid, hostnames: ["app1-ns1.apps.stub.test"], routes: [] };

  beforeEach(() => loginAs("admin", "admin-pw"));

  it("is clean (exit 0) when the nodes have what the broker records", async () => {
    broker.state.gears.push(record);
    broker.state.nodes.push(node("node1"));
    broker.state.nodeGears.node1 = { gears: [nodeGear], frontends: [route] };
    expect(await run(check)).toBe(0);
    expect(t.out).toEqual(["OK: 1 gear record(s), 1 node(s) checked; 0 finding(s)"]);
  });

  it("exits 6 with each finding and its repair", async () => {
    broker.state.gears.push(record, {
      ...record,
      uuid: "f".repeat(32),
      node: "node2",
      application: "app2",
      fqdn: "app2-ns1.apps.stub.test",
    });
    broker.state.nodes.push(node("node1"), node("node2"));
    broker.state.nodeGears.node1 = {
      gears: [
        { ...nodeGear, uid: 1001 },
        { ...nodeGear, uuid: "e".repeat(32), app: "old" },
      ],
      frontends: [],
    };
    broker.state.nodeGears.node2 = "fail";
    expect(await run(check, "--json")).toBe(6);
    const report = JSON.parse(t.out.join("\n"));
    expect(report.findings.map((f: { kind: string }) => f.kind)).toEqual([
      "uid-duplicate",
      "gear-uid",
      "route-missing",
      "node-unreachable",
      "gear-orphan",
    ]);
    expect(await run(check)).toBe(6);
    expect(t.out).toContain(`   repair: on node1, as root: geartrain node gear destroy ${"e".repeat(32)}`);
    expect(t.out.at(-1)).toBe("FAIL: 2 gear record(s), 2 node(s) checked; 5 finding(s)");
  });
});
