// The dev stack under the real engine, the way `npm run deploy:dev` runs it but in a sandbox: the program
// of platforms/dev.yaml on this machine (connection: local), its state under a temp data directory, the
// private runit there, free loopback ports. What the dev stack deploys today: the Host, PostgreSQL,
// ActiveMQ, BIND (checked with dig), the broker (its REST API answers, the generated admin logs in), the
// host's cloud-init user data. Then:
// no changes on a second preview; a dead daemon is drift that `up` repairs; no secret in the clear;
// destroy stops and removes everything.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { BrokerClient } from "../../clients/broker";
import { PROJECT_ROOT, PulumiSandbox, requireToolchain } from "../helpers/pulumi-cli";
import { processesUnder } from "../helpers/processes";
import { freePort } from "../helpers/sshd";

jest.setTimeout(15 * 60 * 1000);

/** This test's UID block (docs/node-operations.md), not the dev stack's 2000-6999. */
const UID_MIN = 65450;
const UID_MAX = 65499;

interface Outputs {
  domain: string;
  brokerUrl: string;
  brokerUrls: string[];
  admin: { login: string; password: string };
  dnsServer: { address: string; port: number; zone: string };
  nodes: { name: string; address: string; publicHostname: string; district: string | null }[];
  userData: Record<string, string>;
  certificate: string;
}

describe("dev stack", () => {
  let sandbox: PulumiSandbox;
  let dataDir: string;
  let configDir: string;
  let ports: Record<string, number>;
  let out: Outputs;
  const cli: string[] = [];

  beforeAll(async () => {
    requireToolchain();
    sandbox = new PulumiSandbox("e2e");
    // the daemons' own users (postgres, activemq, bind) must reach their directories
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-e2e-dev-"));
    fs.chmodSync(dataDir, 0o755);
    configDir = path.join(dataDir, "etc");
    ports = {
      broker: await freePort(),
      msgserver: await freePort(),
      datastore: await freePort(),
      nameserver: await freePort(),
      nodeHttp: await freePort(),
      nodeHttps: await freePort(),
      nodeSsh: await freePort(),
    };
    // platforms/dev.yaml as it is, on ports free now (a real dev stack of this machine may hold the
    // defaults), its district on this test's own UIDs (docs/node-operations.md: 65450-65499)
    const dev = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "platforms/dev.yaml"), "utf8"));
    const districts = dev.districts.map((d: object) => ({ ...d, uidRange: { min: UID_MIN, max: UID_MAX } }));
    const platformFile = path.join(sandbox.dir, "dev.yaml");
    fs.writeFileSync(platformFile, YAML.stringify({ ...dev, ports, districts }));
    sandbox.setPlatform(platformFile);
    sandbox.init();
    sandbox.ok(["config", "set", "dataDir", dataDir]);
    sandbox.ok(["config", "set", "configDir", configDir]);
  });

  afterAll(() => {
    if (sandbox) {
      sandbox.run(["destroy", "--yes", "--skip-preview"]);
      sandbox.cleanup();
    }
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("comes up: the outputs say where the platform is", () => {
    const up = sandbox.ok(["up", "--yes", "--skip-preview"]);
    cli.push(up.stdout + up.stderr);
    out = JSON.parse(sandbox.ok(["stack", "output", "--json", "--show-secrets"]).stdout);
    expect(out.domain).toBe("apps.dev.geartrain.test");
    expect(out.brokerUrl).toBe(`http://127.0.0.1:${ports.broker}`);
    expect(out.brokerUrls).toEqual([out.brokerUrl]);
    expect(out.admin.login).toBe("admin");
    expect(out.admin.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(out.dnsServer).toEqual({ address: "127.0.0.1", port: ports.nameserver, zone: out.domain });
    expect(out.nodes).toEqual([
      {
        name: "local",
        address: "127.0.0.1",
        publicHostname: "local.apps.dev.geartrain.test",
        district: "dev-small",
        profile: "small",
      },
    ]);
    expect(out.userData.local).toMatch(/^#cloud-config\n/);
    expect(out.userData.local).toContain("postgresql");
    // the generated certificate for the cloud domain (public; its key stays in the state, encrypted)
    expect(out.certificate).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    // the admin password is a secret output
    const plain = JSON.parse(sandbox.ok(["stack", "output", "--json"]).stdout);
    expect(plain.admin).toBe("[secret]");
  });

  it("runs PostgreSQL, ActiveMQ and BIND, each answering on its port", () => {
    const dig = execFileSync(
      "dig",
      ["+short", "-p", String(ports.nameserver), "@127.0.0.1", "local.apps.dev.geartrain.test", "A"],
      { encoding: "utf8" },
    );
    expect(dig.trim()).toBe("127.0.0.1");
    const ready = spawnSync("/usr/lib/postgresql/15/bin/pg_isready", [
      "-h",
      "127.0.0.1",
      "-p",
      String(ports.datastore),
    ]);
    expect(ready.status).toBe(0);
    // the bus answers a STOMP CONNECT without credentials with an ERROR frame: it is ActiveMQ listening
    const stomp = spawnSync(
      "bash",
      [
        "-c",
        'exec 3<>"/dev/tcp/127.0.0.1/$0"; printf "CONNECT\\naccept-version:1.2\\n\\n\\0" >&3; timeout 10 head -c 5 <&3',
        String(ports.msgserver),
      ],
      { encoding: "utf8" },
    );
    expect(stomp.stdout).toBe("ERROR");
    expect(processesUnder(path.join(dataDir, "services")).length).toBeGreaterThan(0);
  });

  it("runs the broker: its REST API answers, and the generated admin logs in", async () => {
    const api = await fetch(`${out.brokerUrl}/broker/rest/api`);
    expect(api.status).toBe(200);
    const auth = (password: string) =>
      `Basic ${Buffer.from(`${out.admin.login}:${password}`).toString("base64")}`;
    const user = await fetch(`${out.brokerUrl}/broker/rest/user`, {
      headers: { authorization: auth(out.admin.password), accept: "application/json" },
    });
    expect(user.status).toBe(200);
    const wrong = await fetch(`${out.brokerUrl}/broker/rest/user`, {
      headers: { authorization: auth("wrong-password"), accept: "application/json" },
    });
    expect(wrong.status).toBe(401);
    // the topology's district, made through the broker's admin API
    const admin = new BrokerClient({ server: out.brokerUrl, credentials: out.admin });
    const district = await admin.district("dev-small");
    expect(district).toMatchObject({ gear_profile: "small", first_uid: UID_MIN, max_uid: UID_MAX });
  });

  it("shows no changes on a second preview", () => {
    const preview = sandbox.run(["preview", "--expect-no-changes", "--diff"]);
    cli.push(preview.stdout + preview.stderr);
    expect(preview.stderr + preview.stdout).not.toMatch(/error/i);
    expect(preview.code).toBe(0);
  });

  it("finds a daemon stopped by hand, and up starts it again", () => {
    const sv = path.join(dataDir, "services/runit/sv/geartrain-dns-named");
    execFileSync("sv", ["down", sv]);
    const drift = sandbox.run(["preview", "--expect-no-changes", "--diff"]);
    expect(drift.code).not.toBe(0);
    expect(drift.stdout + drift.stderr).toMatch(/geartrain-dns-named.*not running/);
    sandbox.ok(["up", "--yes", "--skip-preview"]);
    sandbox.ok(["preview", "--expect-no-changes"]);
  });

  it("keeps the generated secrets out of the state, the config and the CLI output", () => {
    const exported = sandbox.ok(["stack", "export"]).stdout;
    const config = fs.readFileSync(sandbox.configFile, "utf8");
    for (const text of [exported, config, ...cli]) expect(text).not.toContain(out.admin.password);
  });

  it("leaves nothing behind on destroy", () => {
    sandbox.ok(["destroy", "--yes", "--skip-preview"]);
    expect(processesUnder(path.join(dataDir, "services"))).toEqual([]);
    for (const dir of ["datastore", "bus", "dns", "broker"])
      expect(fs.existsSync(path.join(dataDir, dir))).toBe(false);
    const exported = JSON.parse(sandbox.ok(["stack", "export"]).stdout);
    expect(exported.deployment.resources ?? []).toEqual([]);
  });
});

describe("invalid stack config", () => {
  it("fails before any resource is declared, naming every bad field", () => {
    requireToolchain();
    const sandbox = new PulumiSandbox(
      "bad",
      path.join(PROJECT_ROOT, "test/fixtures/config/invalid-dev.yaml"),
    );
    try {
      sandbox.init();
      const dataDir = path.join(sandbox.dir, "data");
      sandbox.ok(["config", "set", "dataDir", dataDir]);
      const up = sandbox.run(["up", "--yes", "--skip-preview"]);
      expect(up.code).not.toBe(0);
      const output = up.stdout + up.stderr;
      expect(output).toContain("geartrain:platform.hosts[0].name");
      expect(output).toContain("geartrain:platform.hosts[0].roles[1]");
      expect(output).not.toMatch(/at Object\.<anonymous>/); // a clean message, not a stack trace
      expect(fs.existsSync(dataDir)).toBe(false);
      // The engine registers the stack itself before the program runs; nothing else may exist.
      const exported = JSON.parse(sandbox.ok(["stack", "export"]).stdout);
      const types = (exported.deployment.resources ?? []).map((r: { type: string }) => r.type);
      expect(types).toEqual(["pulumi:pulumi:Stack"]);
    } finally {
      sandbox.cleanup();
    }
  });
});
