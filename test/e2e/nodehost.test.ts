// A NodeHost through the real engine on this machine (no systemd as PID 1: the private runit under a temp
// service directory), against a MessageBus of the same program, everything in a temp directory on free
// loopback ports: `up` prepares the host and starts the node's own nginx, gear git sshd, unidler and agent;
// the agent's facts (district, profile, gear limit, public host name from the args; the shipped cartridges)
// arrive on the bus; node.check answers over the bus; nginx answers on its HTTP port, and on its HTTPS port
// with the given certificate; sshd answers with the pinned host key; node.json is what the node layer's
// parser reads; a second preview shows no changes; the bus password and the TLS key are in no state,
// output, CLI text or argv; destroy stops every daemon and removes every file (the PAM service too).
import { execFileSync, spawnSync } from "child_process";
import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { parseNodeJson } from "../../components/nodehost";
import { BusConnection } from "../../services/bus/connection";
import { NodeBus } from "../../services/bus/node-bus";
import { freePort } from "../helpers/sshd";
import { PROJECT_ROOT, PulumiSandbox, requireToolchain } from "../helpers/pulumi-cli";
import { processesUnder } from "../helpers/processes";

jest.setTimeout(20 * 60 * 1000);

const PROJECT = path.join(PROJECT_ROOT, "test/e2e/projects/nodehost");
const PAM_FILE = "/etc/pam.d/geartrain-e2enode-sshd";

function requirePrograms(): void {
  const needed: Record<string, string> = {
    "/usr/share/activemq/bin/activemq.jar": "activemq",
    "/usr/sbin/nginx": "nginx",
    "/usr/sbin/sshd": "openssh-server",
    "/usr/bin/ssh-keyscan": "openssh-client",
    "/usr/bin/runsvdir": "runit",
    "/usr/bin/openssl": "openssl",
  };
  const missing = Object.entries(needed).filter(([f]) => !fs.existsSync(f));
  if (missing.length)
    throw new Error(
      `missing ${missing.map(([f]) => f).join(", ")}. Fix: apt-get install -y ${[...new Set(missing.map(([, p]) => p))].join(" ")} (scripts/debian-packages.txt)`,
    );
  if (!fs.existsSync(path.join(PROJECT_ROOT, "dist/services/cli/main.js")))
    throw new Error("dist/ is missing (the agent runs bin/geartrain). Fix: npm run build");
  if (process.getuid?.() !== 0)
    throw new Error("the NodeHost e2e must run as root (its daemons run as root)");
}

interface Outputs {
  nodeHost: {
    identity: string;
    publicHostname: string;
    facts: Record<string, unknown>;
    httpEndpoint: string;
    httpsEndpoint: string;
    gitSshHost: string;
    gitSshPort: number;
    gitSshHostKey: string;
    nodeConfigPath: string;
    agentConfigPath: string;
  };
  messageBus: {
    port: number;
    broker: { name: string; password: string };
    agent: { name: string; password: string };
  };
}

function get(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { host }, timeout: 5000, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

describe("NodeHost on this machine", () => {
  let sandbox: PulumiSandbox;
  let baseDir: string;
  let serviceDir: string;
  let ports: { bus: number; http: number; https: number; idle: number; ssh: number };
  let tls: { certificate: string; key: string };
  let out: Outputs;
  const cli: string[] = [];

  beforeAll(async () => {
    requireToolchain();
    requirePrograms();
    if (fs.existsSync(PAM_FILE)) throw new Error(`${PAM_FILE} exists already (a previous run left it?)`);
    sandbox = new PulumiSandbox("nodehost", undefined, PROJECT);
    serviceDir = path.join(sandbox.dir, "services");
    // the daemons' own users (activemq, nginx's workers) must reach their directories
    baseDir = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-e2e-nodehost-"));
    fs.chmodSync(baseDir, 0o755);
    ports = {
      bus: await freePort(),
      http: await freePort(),
      https: await freePort(),
      idle: await freePort(),
      ssh: await freePort(),
    };
    // a self-signed wildcard for the cloud domain (openssl, argv only), made in a 0700 directory
    const tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-e2e-nodehost-tls-"));
    try {
      execFileSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-days",
          "2",
          "-subj",
          "/CN=*.apps.e2e.test",
          "-addext",
          "subjectAltName=DNS:*.apps.e2e.test,DNS:apps.e2e.test",
          "-keyout",
          path.join(tlsDir, "key.pem"),
          "-out",
          path.join(tlsDir, "cert.pem"),
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      tls = {
        certificate: fs.readFileSync(path.join(tlsDir, "cert.pem"), "utf8"),
        key: fs.readFileSync(path.join(tlsDir, "key.pem"), "utf8"),
      };
    } finally {
      fs.rmSync(tlsDir, { recursive: true, force: true });
    }
    sandbox.init();
    for (const [k, v] of Object.entries({
      baseDir,
      serviceDirectory: serviceDir,
      busPort: String(ports.bus),
      httpPort: String(ports.http),
      idlePort: String(ports.idle),
      sshPort: String(ports.ssh),
      httpsPort: String(ports.https),
      tlsCertificate: Buffer.from(tls.certificate).toString("base64"),
    }))
      sandbox.ok(["config", "set", k, v]);
    sandbox.ok(["config", "set", "--secret", "tlsKey", Buffer.from(tls.key).toString("base64")]);
  });

  afterAll(() => {
    if (sandbox) {
      sandbox.run(["destroy", "--yes", "--skip-preview"]);
      sandbox.cleanup();
    }
    if (baseDir) fs.rmSync(baseDir, { recursive: true, force: true });
  });

  it("comes up with the outputs the Platform wires on", () => {
    const up = sandbox.ok(["up", "--yes", "--skip-preview", "--diff"]);
    cli.push(up.stdout + up.stderr);
    out = JSON.parse(sandbox.ok(["stack", "output", "--json", "--show-secrets"]).stdout);
    expect(out.nodeHost).toMatchObject({
      identity: "n1",
      publicHostname: "n1.apps.e2e.test",
      facts: {
        node: "n1",
        district: "d1",
        profile: "small",
        maxActiveGears: 42,
        publicHostname: "n1.apps.e2e.test",
      },
      httpEndpoint: `http://127.0.0.1:${ports.http}`,
      httpsEndpoint: `https://127.0.0.1:${ports.https}`,
      gitSshHost: "127.0.0.1",
      gitSshPort: ports.ssh,
      nodeConfigPath: `${baseDir}/etc/node.json`,
      agentConfigPath: `${baseDir}/etc/agent.json`,
    });
    expect(out.nodeHost.gitSshHostKey).toMatch(/^ssh-ed25519 AAAA[A-Za-z0-9+/=]+$/);
  });

  it("the agent connects and its facts, from the args, arrive on the bus", async () => {
    const m = out.messageBus;
    const broker = new BusConnection({
      host: "127.0.0.1",
      port: m.port,
      user: m.broker.name,
      password: m.broker.password,
      name: "e2e-broker",
    });
    try {
      broker.start();
      await broker.waitConnected(30000);
      const facts = await new Promise<Record<string, unknown>>((resolve) =>
        broker.subscribe("/topic/geartrain.facts.n1", (msg) => {
          msg.ack();
          resolve(JSON.parse(msg.body));
        }),
      );
      expect(facts).toMatchObject({
        node: "n1",
        district: "d1",
        profile: "small",
        maxActiveGears: 42,
        publicHostname: "n1.apps.e2e.test",
        activeGears: 0,
      });
      const names = (facts.cartridges as { name: string }[]).map((c) => c.name).sort();
      expect(names).toEqual(["cron", "nodejs", "postgresql", "python", "static"]);
    } finally {
      await broker.stop();
    }
  });

  it("the agent serves the broker's requests with this node's config (node.check over the bus)", async () => {
    const m = out.messageBus;
    const bus = await NodeBus.connect({
      host: "127.0.0.1",
      port: m.port,
      user: m.broker.name,
      password: m.broker.password,
    });
    try {
      const report = (await bus.call("n1", "node.check", {}, { timeoutMs: 60000 })) as {
        ok: boolean;
        node: { gears: number; frontend: string };
      };
      expect(report.ok).toBe(true);
      expect(report.node.gears).toBe(0);
      // the node's own nginx, not the system's /etc/nginx
      expect(report.node.frontend).toContain(`${baseDir}/node/nginx/conf.d`);
    } finally {
      await bus.close();
    }
  });

  it("the node's own nginx answers on its port (404 for a host no gear has)", async () => {
    const r = await get(`${out.nodeHost.httpEndpoint}/`, "nothing.apps.e2e.test");
    expect(r.status).toBe(404);
    const pid = Number(fs.readFileSync(`${baseDir}/node/nginx/run/nginx.pid`, "utf8").trim());
    // nginx rewrites its argv: "nginx: master process /usr/sbin/nginx -p <dir>/node/nginx/ -c ..."
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8")).toContain(`-c ${baseDir}/node/nginx/nginx.conf`);
  });

  it("HTTPS answers on its port with the given certificate (404 for a host no gear has)", async () => {
    const got = await new Promise<{ status: number; fingerprint: string }>((resolve, reject) => {
      const req = https.get(
        `${out.nodeHost.httpsEndpoint}/`,
        {
          servername: "nothing.apps.e2e.test",
          headers: { host: "nothing.apps.e2e.test" },
          ca: tls.certificate,
          checkServerIdentity: () => undefined,
          agent: false,
          timeout: 5000,
        },
        (res) => {
          const fingerprint = (res.socket as import("tls").TLSSocket).getPeerCertificate().fingerprint256;
          res.resume();
          res.on("end", () => resolve({ status: res.statusCode ?? 0, fingerprint }));
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
    });
    expect(got).toEqual({ status: 404, fingerprint: new X509Certificate(tls.certificate).fingerprint256 });
    expect(fs.statSync(`${baseDir}/node/nginx/tls/frontend.key`).mode & 0o777).toBe(0o600);
  });

  it("the gear git sshd answers with the pinned host key", () => {
    const scan = spawnSync(
      "ssh-keyscan",
      ["-p", String(ports.ssh), "-t", "ed25519", "-T", "10", "127.0.0.1"],
      { encoding: "utf8" },
    );
    const lines = scan.stdout.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(lines).toEqual([`[127.0.0.1]:${ports.ssh} ${out.nodeHost.gitSshHostKey}`]);
    // root may not log in there, passwords are off: public keys (gear forced commands) only
    const conf = fs.readFileSync(`${baseDir}/node/sshd/sshd_config`, "utf8");
    expect(conf).toMatch(/^PermitRootLogin no$/m);
    expect(conf).toMatch(/^PasswordAuthentication no$/m);
    expect(fs.statSync(`${baseDir}/node/sshd/ssh_host_ed25519_key`).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(PAM_FILE, "utf8")).toContain("gear-pam-attach --config");
  });

  it("node.json is what the node layer's parser reads; agent.json names the password file only", () => {
    const text = fs.readFileSync(out.nodeHost.nodeConfigPath, "utf8");
    const config = parseNodeJson(text);
    expect(config).toEqual(JSON.parse(text));
    expect(config.district).toEqual({ firstUid: 65300, maxUid: 65399 });
    expect(config.frontend.listen).toBe(`127.0.0.1:${ports.http}`);
    expect(fs.statSync(out.nodeHost.nodeConfigPath).mode & 0o777).toBe(0o644);
    const agent = JSON.parse(fs.readFileSync(out.nodeHost.agentConfigPath, "utf8"));
    expect(agent.bus.passwordFile).toBe(`${baseDir}/etc/agent.password`);
    expect(fs.statSync(agent.bus.passwordFile).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(agent.bus.passwordFile, "utf8")).toBe(`${out.messageBus.agent.password}\n`);
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

  it("keeps the bus password and the TLS key out of state, outputs, CLI output and the daemons' argv", () => {
    const argv = [...processesUnder(baseDir), ...processesUnder(serviceDir)]
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
      agentJson: fs.readFileSync(out.nodeHost.agentConfigPath, "utf8"),
    };
    const secrets = {
      busPassword: out.messageBus.agent.password,
      tlsKey: tls.key.split("\n")[1],
      tlsKeyBase64: Buffer.from(tls.key).toString("base64"),
    };
    for (const [secret, value] of Object.entries(secrets))
      for (const [where, text] of Object.entries(texts))
        expect({ secret, where, leaks: text.includes(value) }).toEqual({ secret, where, leaks: false });
  });

  it("destroy stops nginx, sshd, the unidler and the agent and removes every file", async () => {
    const d = sandbox.ok(["destroy", "--yes", "--skip-preview"]);
    cli.push(d.stdout + d.stderr);
    const left = () =>
      [...processesUnder(baseDir), ...processesUnder(serviceDir)].map((p) => {
        try {
          return `${p}: ${fs.readFileSync(`/proc/${p}/cmdline`, "utf8").replace(/\0/g, " ")}`;
        } catch {
          return `${p}: gone`;
        }
      });
    for (let i = 0; i < 50 && left().length > 0; i++) await new Promise((r) => setTimeout(r, 200));
    expect(left()).toEqual([]);
    expect(fs.readdirSync(baseDir)).toEqual([]);
    expect(fs.existsSync(serviceDir)).toBe(false);
    expect(fs.existsSync(PAM_FILE)).toBe(false);
    const exported = JSON.parse(sandbox.ok(["stack", "export"]).stdout);
    expect(exported.deployment.resources ?? []).toEqual([]);
  });
});
