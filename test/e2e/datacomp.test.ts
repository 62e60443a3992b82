// Datastore, MessageBus and Dns through the real engine on this machine (no systemd as PID 1: the private
// runit under a temp service directory), each on a free loopback port in a temp directory: `up` starts
// PostgreSQL, ActiveMQ and BIND; each is checked with a real client (psql with the generated password, a
// STOMP send from the broker user received by the node's agent, dig of an infrastructure record and an
// nsupdate signed with the generated TSIG key); a second preview shows no changes; the generated secrets
// are in no state, output or CLI text in the clear; destroy stops everything and removes every file.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BusConnection } from "../../services/bus/connection";
import { freePort } from "../helpers/sshd";
import { PROJECT_ROOT, PulumiSandbox, requireToolchain } from "../helpers/pulumi-cli";
import { processesUnder } from "../helpers/processes";

jest.setTimeout(20 * 60 * 1000);

const PROJECT = path.join(PROJECT_ROOT, "test/e2e/projects/datacomp");
const PG_BIN = "/usr/lib/postgresql/15/bin";

function requirePrograms(): void {
  const needed: Record<string, string> = {
    [`${PG_BIN}/postgres`]: "postgresql",
    [`${PG_BIN}/psql`]: "postgresql",
    "/usr/share/activemq/bin/activemq.jar": "activemq",
    "/usr/sbin/named": "bind9",
    "/usr/bin/dig": "bind9-dnsutils",
    "/usr/bin/nsupdate": "bind9-dnsutils",
    "/usr/bin/runsvdir": "runit",
  };
  const missing = Object.entries(needed).filter(([f]) => !fs.existsSync(f));
  if (missing.length)
    throw new Error(
      `missing ${missing.map(([f]) => f).join(", ")}. Fix: apt-get install -y ${[...new Set(missing.map(([, p]) => p))].join(" ")} (scripts/debian-packages.txt)`,
    );
}

interface Outputs {
  database: { host: string; port: number; database: string; user: string; password: string };
  messageBus: {
    endpoint: string;
    port: number;
    broker: { name: string; password: string };
    agent: { name: string; password: string };
  };
  nameserver: {
    server: string;
    port: number;
    zone: string;
    keyName: string;
    keyAlgorithm: string;
    keySecret: string;
  };
  brokerApi: { url: string; adminLogin: string; adminPassword: string };
  districtOut: { name: string; nodes: string[] };
}

const BROKER_USER = "gt-e2e-broker";

function userExists(name: string): boolean {
  return spawnSync("id", ["-u", name]).status === 0;
}

/** Every file under `dir` (the runit service logs), concatenated. */
function filesUnder(dir: string): string {
  if (!fs.existsSync(dir)) return "";
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), "utf8"))
    .join("\n");
}

describe("Datastore, MessageBus and Dns on this machine", () => {
  let sandbox: PulumiSandbox;
  let baseDir: string;
  let serviceDir: string;
  let ports: { pg: number; bus: number; dns: number; broker: number };
  let out: Outputs;
  const cli: string[] = [];

  beforeAll(async () => {
    requireToolchain();
    requirePrograms();
    sandbox = new PulumiSandbox("datacomp", undefined, PROJECT);
    serviceDir = path.join(sandbox.dir, "services");
    // the daemons' own users (postgres, activemq, bind) must reach their directories
    baseDir = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-e2e-datacomp-"));
    fs.chmodSync(baseDir, 0o755);
    if (userExists(BROKER_USER))
      throw new Error(`OS user ${BROKER_USER} exists (left by an earlier run?). Fix: userdel ${BROKER_USER}`);
    ports = { pg: await freePort(), bus: await freePort(), dns: await freePort(), broker: await freePort() };
    sandbox.init();
    for (const [k, v] of Object.entries({
      baseDir,
      serviceDirectory: serviceDir,
      pgPort: String(ports.pg),
      busPort: String(ports.bus),
      dnsPort: String(ports.dns),
      brokerPort: String(ports.broker),
      brokerUser: BROKER_USER,
    }))
      sandbox.ok(["config", "set", k, v]);
  });

  afterAll(() => {
    if (sandbox) {
      sandbox.run(["destroy", "--yes", "--skip-preview"]);
      sandbox.cleanup();
    }
    if (userExists(BROKER_USER)) spawnSync("userdel", [BROKER_USER]);
    if (baseDir) fs.rmSync(baseDir, { recursive: true, force: true });
  });

  it("comes up with the outputs the brokers need", () => {
    const up = sandbox.ok(["up", "--yes", "--skip-preview", "--diff"]);
    cli.push(up.stdout + up.stderr);
    out = JSON.parse(sandbox.ok(["stack", "output", "--json", "--show-secrets"]).stdout);
    expect(out.database).toMatchObject({
      host: "127.0.0.1",
      port: ports.pg,
      database: "geartrain",
      user: "geartrain",
    });
    expect(out.database.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(out.messageBus.endpoint).toBe(`stomp://127.0.0.1:${ports.bus}`);
    expect(out.messageBus.broker.name).toBe("broker");
    expect(out.messageBus.agent.name).toBe("agent-n1");
    expect(out.nameserver).toMatchObject({
      server: "127.0.0.1",
      port: ports.dns,
      zone: "apps.e2e.test",
      keyName: "geartrain-update",
      keyAlgorithm: "hmac-sha256",
    });
    expect(Buffer.from(out.nameserver.keySecret, "base64")).toHaveLength(32);
    expect(out.brokerApi).toMatchObject({ url: `http://127.0.0.1:${ports.broker}`, adminLogin: "admin" });
    expect(out.brokerApi.adminPassword).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it("Broker: the API answers, as its own OS user; the admin logs in with the generated password only", async () => {
    const b = out.brokerApi;
    const api = await fetch(`${b.url}/broker/rest/api`, { headers: { accept: "application/json" } });
    expect(api.status).toBe(200);
    expect(((await api.json()) as { version: string }).version).toBeDefined();
    const user = (password: string) =>
      fetch(`${b.url}/broker/rest/user`, {
        headers: {
          accept: "application/json",
          authorization: `Basic ${Buffer.from(`${b.adminLogin}:${password}`).toString("base64")}`,
        },
      });
    const ok = await user(b.adminPassword);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { data: { login: string } }).data.login).toBe("admin");
    expect((await user("wrong-password")).status).toBe(401);
    // the daemon runs as the dedicated user; its files are 0640 root:<user>
    const owners = processesUnder(path.join(baseDir, "broker")).map(
      (p) => fs.readFileSync(`/proc/${p}/status`, "utf8").match(/^Uid:\s+(\d+)/m)![1],
    );
    const uid = execFileSync("id", ["-u", BROKER_USER]).toString().trim();
    expect(owners.length).toBeGreaterThan(0);
    expect([...new Set(owners)]).toEqual([uid]);
    for (const f of ["broker.json", "database.password", "bus.password", "tsig.key", "admin.password"])
      expect({ f, mode: fs.statSync(path.join(baseDir, "broker", f)).mode & 0o777 }).toEqual({
        f,
        mode: 0o640,
      });
  });

  it("Datastore: psql logs in with the generated password, and not without it", () => {
    const d = out.database;
    const args = ["-X", "-At", "-h", d.host, "-p", String(d.port), "-U", d.user, "-d", d.database];
    const ok = spawnSync(`${PG_BIN}/psql`, [...args, "-c", "SELECT current_user, current_database()"], {
      env: { ...process.env, PGPASSWORD: d.password },
      encoding: "utf8",
    });
    expect(ok.stderr).toBe("");
    expect(ok.stdout.trim()).toBe("geartrain|geartrain");
    const bad = spawnSync(`${PG_BIN}/psql`, [...args, "-c", "SELECT 1"], {
      env: { ...process.env, PGPASSWORD: "wrong-password" },
      encoding: "utf8",
    });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/password authentication failed/);
    // its own cluster, not the distribution's
    expect(fs.existsSync(path.join(baseDir, "db/data/PG_VERSION"))).toBe(true);
  });

  it("MessageBus: a STOMP message from the broker user reaches the node's agent", async () => {
    const m = out.messageBus;
    const conn = (user: { name: string; password: string }) =>
      new BusConnection({
        host: "127.0.0.1",
        port: m.port,
        user: user.name,
        password: user.password,
        name: user.name,
      });
    const broker = conn(m.broker);
    const agent = conn(m.agent);
    try {
      broker.start();
      agent.start();
      await Promise.all([broker.waitConnected(30000), agent.waitConnected(30000)]);
      const received = new Promise<string>((resolve) =>
        agent.subscribe("/queue/geartrain.node.n1", (msg) => {
          msg.ack();
          resolve(msg.body);
        }),
      );
      await new Promise((r) => setTimeout(r, 300));
      broker.publish("/queue/geartrain.node.n1", '{"hello":"n1"}');
      await expect(received).resolves.toBe('{"hello":"n1"}');
    } finally {
      await Promise.all([broker.stop(), agent.stop()]);
    }
    const wrong = new BusConnection({
      host: "127.0.0.1",
      port: m.port,
      user: m.broker.name,
      password: "wrong-password",
      name: "wrong",
      reconnectDelayMs: 60000,
    });
    try {
      wrong.start();
      await expect(wrong.waitConnected(5000)).rejects.toThrow();
    } finally {
      await wrong.stop();
    }
  });

  it("Dns: dig answers an infrastructure record; an nsupdate signed with the generated key is applied", () => {
    const n = out.nameserver;
    const dig = (name: string) =>
      execFileSync("dig", ["+short", "+tries=2", "+time=2", "-p", String(n.port), `@${n.server}`, name, "A"])
        .toString()
        .trim();
    expect(dig("broker.apps.e2e.test")).toBe("127.0.0.1");
    expect(dig("ns1.apps.e2e.test")).toBe("127.0.0.1");
    const keyFile = path.join(baseDir, "nsupdate.key");
    fs.writeFileSync(
      keyFile,
      `key "${n.keyName}" {\n\talgorithm ${n.keyAlgorithm};\n\tsecret "${n.keySecret}";\n};\n`,
      { mode: 0o600 },
    );
    const script = (name: string) =>
      `server ${n.server} ${n.port}\nzone ${n.zone}\nupdate add ${name}.${n.zone} 60 A 127.0.0.9\nsend\n`;
    try {
      execFileSync("nsupdate", ["-k", keyFile], { input: script("app1") });
    } finally {
      fs.rmSync(keyFile);
    }
    expect(dig("app1.apps.e2e.test")).toBe("127.0.0.9");
    // unsigned: refused
    const unsigned = spawnSync("nsupdate", [], { input: script("app2"), encoding: "utf8" });
    expect(unsigned.status).not.toBe(0);
    expect(dig("app2.apps.e2e.test")).toBe("");
  });

  /** GET an admin API path as the admin; the JSON body's data. */
  async function adminGet(p: string): Promise<{ status: number; data: Record<string, unknown> }> {
    const b = out.brokerApi;
    const r = await fetch(`${b.url}/broker/rest${p}`, {
      headers: {
        accept: "application/json",
        authorization: `Basic ${Buffer.from(`${b.adminLogin}:${b.adminPassword}`).toString("base64")}`,
      },
    });
    return { status: r.status, data: ((await r.json()) as { data: Record<string, unknown> }).data };
  }

  it("District: made through the admin API, with the default UID block", async () => {
    expect(out.districtOut).toEqual({ name: "e2e", nodes: [] });
    const d = await adminGet("/admin/district/e2e");
    expect(d.status).toBe(200);
    expect(d.data).toMatchObject({
      name: "e2e",
      gear_profile: "small",
      first_uid: 1000,
      max_uid: 6999,
      nodes: [],
    });
  });

  it("District: a node that has reported facts joins when listed, and nothing else changes", async () => {
    // n1's agent (its bus user) reports facts, as a node host's agent would
    const agent = new BusConnection({
      host: "127.0.0.1",
      port: out.messageBus.port,
      user: out.messageBus.agent.name,
      password: out.messageBus.agent.password,
      name: "agent-n1",
    });
    try {
      agent.start();
      await agent.waitConnected(30000);
      const facts = {
        node: "n1",
        district: "",
        profile: "small",
        activeGears: 0,
        maxActiveGears: 100,
        publicHostname: "n1.apps.e2e.test",
        cartridges: [],
        at: Date.now(),
      };
      for (let i = 0; i < 30 && (await adminGet("/admin/node/n1")).status !== 200; i++) {
        agent.publish("/topic/geartrain.facts.n1", JSON.stringify({ ...facts, at: Date.now() }));
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      await agent.stop();
    }
    expect((await adminGet("/admin/node/n1")).status).toBe(200);
    sandbox.ok(["config", "set", "districtNodes", "n1"]);
    const up = sandbox.ok(["up", "--yes", "--skip-preview", "--diff"]);
    cli.push(up.stdout + up.stderr);
    // one resource added: the node's membership
    const summary = up.stdout.slice(up.stdout.lastIndexOf("Resources:"));
    expect(summary).toMatch(/\+ 1 created/);
    expect(summary).not.toMatch(/updated|replaced|deleted/);
    const d = await adminGet("/admin/district/e2e");
    expect(d.data.nodes).toEqual([{ name: "n1", active: true }]);
    out = JSON.parse(sandbox.ok(["stack", "output", "--json", "--show-secrets"]).stdout);
    expect(out.districtOut.nodes).toEqual(["n1"]);
  });

  it("shows no changes on a second preview", () => {
    const preview = sandbox.run(["preview", "--expect-no-changes", "--diff"]);
    cli.push(preview.stdout + preview.stderr);
    expect({ code: preview.code, output: preview.code === 0 ? "" : preview.stdout + preview.stderr }).toEqual(
      {
        code: 0,
        output: "",
      },
    );
  });

  it("keeps every generated secret out of state, outputs, CLI output and the daemons' argv", () => {
    const secrets = {
      dbPassword: out.database.password,
      brokerPassword: out.messageBus.broker.password,
      agentPassword: out.messageBus.agent.password,
      tsigKey: out.nameserver.keySecret,
      adminPassword: out.brokerApi.adminPassword,
    };
    const argv = processesUnder(baseDir)
      .map((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/cmdline`, "utf8");
        } catch {
          return "";
        }
      })
      .join("\n");
    const texts = {
      state: sandbox.ok(["stack", "export"]).stdout,
      outputs: sandbox.ok(["stack", "output", "--json"]).stdout,
      config: fs.readFileSync(sandbox.configFile, "utf8"),
      cli: cli.join("\n"),
      argv,
      serviceLogs: filesUnder(serviceDir),
      postgresLog: fs
        .readdirSync(path.join(baseDir, "db/log"))
        .map((f) => fs.readFileSync(path.join(baseDir, "db/log", f), "utf8"))
        .join("\n"),
    };
    for (const [secret, value] of Object.entries(secrets))
      for (const [where, text] of Object.entries(texts))
        expect({ secret, where, leaks: text.includes(value) }).toEqual({ secret, where, leaks: false });
    expect(fs.statSync(path.join(baseDir, "bus/conf/credentials.properties")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(baseDir, "dns/conf/tsig.key")).mode & 0o777).toBe(0o640);
  });

  it("destroy removes the node and the district, stops the daemons and removes their files", async () => {
    const d = sandbox.ok(["destroy", "--yes", "--skip-preview"]);
    cli.push(d.stdout + d.stderr);
    for (let i = 0; i < 50 && processesUnder(baseDir).length > 0; i++)
      await new Promise((r) => setTimeout(r, 200));
    expect(processesUnder(baseDir)).toEqual([]);
    expect(processesUnder(serviceDir)).toEqual([]);
    expect(fs.readdirSync(baseDir)).toEqual([]);
    expect(fs.existsSync(serviceDir)).toBe(false);
    expect(userExists(BROKER_USER)).toBe(false);
    const exported = JSON.parse(sandbox.ok(["stack", "export"]).stdout);
    expect(exported.deployment.resources ?? []).toEqual([]);
  });
});
