// The dev stack under the real engine, the way `npm run deploy:dev` runs it but in a sandbox: the program
// of platforms/dev.yaml on this machine (connection: local), its state under a temp data directory, the
// private runit there, free loopback ports, its district on UIDs of its own and its node's gears, cgroups,
// netfilter table and unidler port its own (geartrain:node), so it coexists with a dev stack deployed here.
// What the dev stack deploys: PostgreSQL (psql logs in with the generated password), ActiveMQ (a STOMP
// round trip through the node's agent), BIND (dig), the broker (its REST API, the generated admin), the
// district with the node in it, the node (nginx over HTTP and HTTPS with the generated certificate, the
// agent), the host's cloud-init user data. Then `geartrain app create` of a nodejs app through the broker,
// served at its DNS name (resolved with dig against the stack's BIND) through the node's nginx, and a
// `git push` to its git_url through the node's gear git sshd deploys a change; no changes
// on a second preview; a dead daemon is drift that `up` repairs; no secret in the clear; the app deleted,
// destroy leaves the host as it found it (users, groups, PAM files, netfilter tables, cgroups, files).
import { execFileSync, spawnSync } from "child_process";
import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { BrokerClient } from "../../clients/broker";
import { NodeBus } from "../../services/bus/node-bus";
import { PROJECT_ROOT, PulumiSandbox, requireToolchain } from "../helpers/pulumi-cli";
import { processesUnder } from "../helpers/processes";
import { freePort } from "../helpers/sshd";

jest.setTimeout(15 * 60 * 1000);

/** This test's UID block (docs/node-operations.md), not the dev stack's 2000-6999. */
const UID_MIN = 65450;
const UID_MAX = 65499;
/** The node's names of its own (a dev stack on this machine keeps "geartrain"). */
const CGROUP_ROOT = "gt-e2e-devstack";
const NETWORK_TABLE = "gt_e2e_devstack";
const GECOS = "Geartrain e2e dev-stack gear";
const PG_BIN = "/usr/lib/postgresql/15/bin";
const GEARTRAIN = path.join(PROJECT_ROOT, "bin/geartrain");
const APP = "web1";
const NAMESPACE = "e2edev";
const ZONE = "apps.dev.geartrain.test";
const FQDN = `${APP}-${NAMESPACE}.${ZONE}`;
/** The application platforms/dev.yaml declares (`apps[]`), by its DNS label. */
const GUESTBOOK = "guestbook-demo";
const GUESTBOOK_FQDN = `${GUESTBOOK}.${ZONE}`;

/** A value of `stack export --show-secrets`: a secret is `{<sig>: ..., plaintext: "<JSON>"}`. */
function plainValue(v: unknown): unknown {
  if (v && typeof v === "object" && "plaintext" in v)
    return JSON.parse(String((v as { plaintext: string }).plaintext));
  return v;
}

/** What the test compares before `up` and after `destroy`: the host's accounts, PAM files, tables, cgroups. */
function hostState(): Record<string, string[]> {
  const names = (file: string) =>
    fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(":")[0]!)
      .sort();
  const nft = spawnSync("nft", ["list", "tables"], { encoding: "utf8" });
  const cgroups = (dir: string): string[] => {
    if (!fs.existsSync(dir)) return [];
    return fs
      .readdirSync(dir)
      .filter((d) => d.startsWith(CGROUP_ROOT))
      .map((d) => path.join(dir, d));
  };
  return {
    users: names("/etc/passwd"),
    groups: names("/etc/group"),
    pam: fs.readdirSync("/etc/pam.d").sort(),
    nft: (nft.stdout ?? "").split("\n").filter((l) => l.includes(NETWORK_TABLE)),
    cgroups: [
      ...cgroups("/sys/fs/cgroup"),
      ...fs
        .readdirSync("/sys/fs/cgroup")
        .flatMap((c) =>
          fs.statSync(`/sys/fs/cgroup/${c}`).isDirectory() ? cgroups(`/sys/fs/cgroup/${c}`) : [],
        ),
    ],
  };
}

/**
 * A request through the node's nginx with a Host header (http or https; https verified against `ca`): GET /
 * unless `send` says otherwise (a JSON body).
 */
function viaNginx(
  endpoint: string,
  hostname: string,
  ca?: string,
  send?: { method: string; path: string; json?: unknown },
): Promise<{ status: number; body: string; peer?: string }> {
  const url = new URL(endpoint);
  const secure = url.protocol === "https:";
  const body = send?.json === undefined ? undefined : JSON.stringify(send.json);
  return new Promise((resolve, reject) => {
    const options = {
      host: url.hostname,
      port: Number(url.port),
      method: send?.method ?? "GET",
      path: send?.path ?? "/",
      headers: {
        host: hostname,
        ...(body !== undefined
          ? { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) }
          : {}),
      },
      timeout: 10000,
      agent: false as const,
      ...(secure ? { servername: hostname, ca } : {}),
    };
    const req = (secure ? https : http).request(options, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => {
        const socket = res.socket as unknown as { getPeerCertificate?: () => { fingerprint256?: string } };
        resolve({ status: res.statusCode ?? 0, body, peer: socket.getPeerCertificate?.()?.fingerprint256 });
      });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body);
  });
}

interface Outputs {
  domain: string;
  brokerUrl: string;
  brokerUrls: string[];
  admin: { login: string; password: string };
  dnsServer: { address: string; port: number; zone: string };
  nodes: {
    name: string;
    address: string;
    publicHostname: string;
    district: string | null;
    profile: string;
    httpEndpoint: string;
    httpsEndpoint: string | null;
    gitSsh: { host: string; port: number; hostKey: string };
  }[];
  userData: Record<string, string>;
  certificate: string;
  apps: Record<string, { url: string; gitUrl: string; commit: string | null }>;
}

describe("dev stack", () => {
  let sandbox: PulumiSandbox;
  let dataDir: string;
  let configDir: string;
  let ports: Record<string, number>;
  let out: Outputs;
  let before: Record<string, string[]>;
  /** the generated secrets, from the state (decrypted): the datastore's and the bus users' passwords */
  let secrets: Record<string, string>;
  let clientHome: string;
  /** the sandbox's copy of platforms/dev.yaml (ports and UIDs of its own) */
  let platformFile: string;
  /** a copy of quickstarts/guestbook in the checkout's git-ignored .geartrain/, removed after */
  let changedSource: string | undefined;
  const cli: string[] = [];
  /** `geartrain <args>` as a user runs it, logged in under the test's own GEARTRAIN_HOME */
  const geartrain = (args: string[], input?: string) => {
    const r = spawnSync(GEARTRAIN, args, {
      encoding: "utf8",
      input,
      env: { ...process.env, GEARTRAIN_HOME: clientHome, GEARTRAIN_LOGIN: "", GEARTRAIN_PASSWORD: "" },
    });
    cli.push(r.stdout + r.stderr);
    if (r.status !== 0)
      throw new Error(`geartrain ${args.join(" ")} exited ${r.status}\n${r.stdout}${r.stderr}`);
    return r.stdout;
  };

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
    const idlePort = await freePort();
    clientHome = path.join(dataDir, "client");
    // platforms/dev.yaml as it is, on ports free now (a real dev stack of this machine may hold the
    // defaults), its district on this test's own UIDs (docs/node-operations.md: 65450-65499)
    const dev = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "platforms/dev.yaml"), "utf8"));
    const districts = dev.districts.map((d: object) => ({ ...d, uidRange: { min: UID_MIN, max: UID_MAX } }));
    platformFile = path.join(sandbox.dir, "dev.yaml");
    fs.writeFileSync(platformFile, YAML.stringify({ ...dev, ports, districts }));
    sandbox.setPlatform(platformFile);
    sandbox.init();
    sandbox.ok(["config", "set", "dataDir", dataDir]);
    sandbox.ok(["config", "set", "configDir", configDir]);
    const node = {
      idlePort,
      gecos: GECOS,
      cgroupRootName: CGROUP_ROOT,
      networkTable: NETWORK_TABLE,
      limitsDir: path.join(dataDir, "limits.d"),
      factsIntervalSeconds: 5,
    };
    sandbox.ok(["config", "set", "node", JSON.stringify(node)]);
    before = hostState();
  });

  afterAll(() => {
    if (sandbox) {
      sandbox.run(["destroy", "--yes", "--skip-preview"]);
      sandbox.cleanup();
    }
    if (changedSource) fs.rmSync(changedSource, { recursive: true, force: true });
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
        httpEndpoint: `http://127.0.0.1:${ports.nodeHttp}`,
        httpsEndpoint: `https://127.0.0.1:${ports.nodeHttps}`,
        gitSsh: { host: "127.0.0.1", port: ports.nodeSsh, hostKey: expect.stringMatching(/^ssh-ed25519 /) },
      },
    ]);
    // the guestbook of platforms/dev.yaml, made through the broker and its code pushed
    expect(out.apps).toEqual({
      [GUESTBOOK]: {
        url: `http://${GUESTBOOK_FQDN}/`,
        gitUrl: expect.stringMatching(
          new RegExp(
            `^ssh://[0-9a-f]{32}@local\\.apps\\.dev\\.geartrain\\.test:${ports.nodeSsh}/~/git/guestbook\\.git/$`,
          ),
        ),
        commit: expect.stringMatching(/^[0-9a-f]{40}$/),
      },
    });
    expect(out.userData.local).toMatch(/^#cloud-config\n/);
    expect(out.userData.local).toContain("postgresql");
    // the generated certificate for the cloud domain (public; its key stays in the state, encrypted)
    expect(out.certificate).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    // the admin password is a secret output
    const plain = JSON.parse(sandbox.ok(["stack", "output", "--json"]).stdout);
    expect(plain.admin).toBe("[secret]");
    const state = JSON.parse(sandbox.ok(["stack", "export", "--show-secrets"]).stdout);
    secrets = {};
    for (const r of state.deployment.resources as { urn: string; outputs?: { value?: unknown } }[]) {
      const m = r.urn.match(/::geartrain-(datastore-password|bus-password-[a-z-]+)$/);
      if (m && r.outputs?.value) secrets[m[1]!] = String(plainValue(r.outputs.value));
    }
    for (const v of Object.values(secrets)) expect(v).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(Object.keys(secrets).sort()).toEqual([
      "bus-password-admin",
      "bus-password-agent-local",
      "bus-password-broker",
      "datastore-password",
    ]);
  });

  it("runs PostgreSQL, ActiveMQ and BIND, each answering a real client", async () => {
    const dig = execFileSync(
      "dig",
      ["+short", "-p", String(ports.nameserver), "@127.0.0.1", "local.apps.dev.geartrain.test", "A"],
      { encoding: "utf8" },
    );
    expect(dig.trim()).toBe("127.0.0.1");
    // psql logs in with the generated password (and not with another)
    const psql = (password: string) =>
      spawnSync(
        `${PG_BIN}/psql`,
        [
          "-X",
          "-At",
          "-h",
          "127.0.0.1",
          "-p",
          String(ports.datastore),
          "-U",
          "geartrain",
          "-d",
          "geartrain",
        ].concat(["-c", "SELECT current_user, current_database()"]),
        { env: { ...process.env, PGPASSWORD: password }, encoding: "utf8" },
      );
    const pg = psql(secrets["datastore-password"]!);
    expect([pg.stderr, pg.stdout.trim()]).toEqual(["", "geartrain|geartrain"]);
    expect(psql("wrong-password").stderr).toMatch(/password authentication failed/);
    // a STOMP round trip: the broker's bus user asks the node's agent over the bus, the agent answers
    const bus = await NodeBus.connect({
      host: "127.0.0.1",
      port: ports.msgserver,
      user: "broker",
      password: secrets["bus-password-broker"]!,
    });
    try {
      const report = (await bus.call("local", "node.check", {}, { timeoutMs: 60000 })) as {
        ok: boolean;
        node: { frontend: string };
      };
      expect(report.ok).toBe(true);
      expect(report.node.frontend).toContain(path.join(dataDir, "node/nginx/conf.d"));
    } finally {
      await bus.close();
    }
    // the bus answers a STOMP CONNECT without credentials with an ERROR frame: it is ActiveMQ listening
    // (asked up to 3 times: under load ActiveMQ has once closed such a connection before answering)
    const rawConnect = () =>
      spawnSync(
        "bash",
        [
          "-c",
          'exec 3<>"/dev/tcp/127.0.0.1/$0"; printf "CONNECT\\naccept-version:1.2\\n\\n\\0" >&3; timeout 10 head -c 5 <&3',
          String(ports.msgserver),
        ],
        { encoding: "utf8" },
      ).stdout;
    let answer = rawConnect();
    for (let attempt = 1; attempt < 3 && answer !== "ERROR"; attempt++) answer = rawConnect();
    expect(answer).toBe("ERROR");
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
    // with its node in it (the node's agent reported facts; the District added it)
    expect(district.nodes).toEqual([{ name: "local", active: true }]);
  });

  it("runs the node's nginx over HTTP and over HTTPS with the generated certificate", async () => {
    const node = out.nodes[0]!;
    expect((await viaNginx(node.httpEndpoint, "nothing.apps.dev.geartrain.test")).status).toBe(404);
    const tls = await viaNginx(node.httpsEndpoint!, `x.${ZONE}`, out.certificate);
    expect(tls.status).toBe(404);
    expect(tls.peer).toBe(new X509Certificate(out.certificate).fingerprint256);
  });

  it("serves the stack's guestbook (platforms/dev.yaml apps[]) at its DNS name, storing entries in its gear's PostgreSQL", async () => {
    const node = out.nodes[0]!;
    const dig = (name: string, type: string) =>
      execFileSync("dig", ["+short", "-p", String(ports.nameserver), "@127.0.0.1", name, type], {
        encoding: "utf8",
      }).trim();
    expect(dig(GUESTBOOK_FQDN, "CNAME")).toBe("local.apps.dev.geartrain.test.");
    // the page of quickstarts/guestbook (pushed by the AppSource), over HTTP and HTTPS with the certificate
    const page = await viaNginx(node.httpEndpoint, GUESTBOOK_FQDN);
    expect([page.status, page.body]).toEqual([200, expect.stringContaining("<h1>guestbook guestbook</h1>")]);
    expect(page.body).toContain("stored in PostgreSQL");
    const secure = await viaNginx(node.httpsEndpoint!, GUESTBOOK_FQDN, out.certificate);
    expect([secure.status, secure.body]).toEqual([
      200,
      expect.stringContaining("<h1>guestbook guestbook</h1>"),
    ]);
    expect(secure.peer).toBe(new X509Certificate(out.certificate).fingerprint256);
    // an entry POSTed is read back: from the page, the JSON, and the gear's own PostgreSQL
    const message = `signed by the dev-stack test ${process.pid}`;
    const posted = await viaNginx(node.httpsEndpoint!, GUESTBOOK_FQDN, out.certificate, {
      method: "POST",
      path: "/entries",
      json: { name: "e2e", message },
    });
    expect(posted.status).toBe(201);
    expect((await viaNginx(node.httpEndpoint, GUESTBOOK_FQDN)).body).toContain(
      `<strong>e2e</strong>: ${message}`,
    );
    const json = await viaNginx(node.httpEndpoint, GUESTBOOK_FQDN, undefined, {
      method: "GET",
      path: "/entries.json",
    });
    expect(JSON.parse(json.body)).toEqual([expect.objectContaining({ name: "e2e", message })]);
    const gear = out.apps[GUESTBOOK]!.gitUrl.match(/^ssh:\/\/([0-9a-f]{32})@/)![1]!;
    const home = execFileSync("getent", ["passwd", gear], { encoding: "utf8" }).trim().split(":")[5]!;
    const db = new URL(
      fs.readFileSync(path.join(home, "postgresql/env/GEARTRAIN_POSTGRESQL_DB_URL"), "utf8"),
    );
    const sql = spawnSync(
      "/usr/sbin/runuser",
      ["-u", gear, "--", "/usr/bin/psql", "-XAt", "-c", "SELECT name, message FROM guestbook_entries"],
      {
        encoding: "utf8",
        env: {
          PATH: "/usr/bin:/bin",
          PGHOST: db.hostname,
          PGPORT: db.port,
          PGUSER: decodeURIComponent(db.username),
          PGPASSWORD: decodeURIComponent(db.password),
          PGDATABASE: db.pathname.slice(1),
        },
      },
    );
    expect([sql.error, sql.stderr, sql.stdout.trim()]).toEqual([undefined, "", `e2e|${message}`]);
    // the push key lived for the push only: the admin has no key left
    const admin = new BrokerClient({ server: out.brokerUrl, credentials: out.admin });
    expect(await admin.listKeys()).toEqual([]);
  });

  it("creates a nodejs app through the broker with the geartrain CLI; its DNS name serves its page", async () => {
    // as the README says: log in with the admin output (the password on stdin), a domain, an app
    geartrain(["login", "--server", out.brokerUrl, "--login", out.admin.login], `${out.admin.password}\n`);
    geartrain(["domain", "create", NAMESPACE]);
    const created = JSON.parse(geartrain(["app", "create", APP, "nodejs-20", "-n", NAMESPACE, "--json"]));
    expect(JSON.stringify(created)).toContain(FQDN);
    // its DNS name, from the stack's BIND: a CNAME to the node's public name, which is the node's address
    const dig = (name: string, type: string) =>
      execFileSync("dig", ["+short", "-p", String(ports.nameserver), "@127.0.0.1", name, type], {
        encoding: "utf8",
      }).trim();
    expect(dig(FQDN, "CNAME")).toBe("local.apps.dev.geartrain.test.");
    expect(dig("local.apps.dev.geartrain.test", "A")).toBe("127.0.0.1");
    const node = out.nodes.find((n) => `${n.publicHostname}.` === dig(FQDN, "CNAME"))!;
    const page = await viaNginx(node.httpEndpoint, FQDN);
    expect([page.status, page.body]).toEqual([200, expect.stringMatching(/Welcome to web1/)]);
    const secure = await viaNginx(node.httpsEndpoint!, FQDN, out.certificate);
    expect([secure.status, secure.body]).toEqual([200, expect.stringMatching(/Welcome to web1/)]);
    // the gear is a user of this test's UID block
    const gear = String(created.git_url).match(
      /^ssh:\/\/([0-9a-f]{32})@local\.apps\.dev\.geartrain\.test:(\d+)\//,
    );
    expect(gear?.[2]).toBe(String(ports.nodeSsh));
    const uid = Number(execFileSync("id", ["-u", gear![1]!]).toString());
    expect(uid).toBeGreaterThanOrEqual(UID_MIN);
    expect(uid).toBeLessThanOrEqual(UID_MAX);
  });

  it("git push to the app's git_url through the node's gear git sshd deploys a change that is served", async () => {
    const key = path.join(clientHome, "id_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "e2e-dev-stack", "-f", key]);
    geartrain(["sshkey", "add", "e2e", `${key}.pub`]);
    const app = JSON.parse(geartrain(["app", "show", APP, "-n", NAMESPACE, "--json"]));
    const node = out.nodes[0]!;
    // the pinned host key from the outputs; the git_url's host is the node's public name, at 127.0.0.1
    const knownHosts = path.join(clientHome, "known_hosts");
    fs.writeFileSync(knownHosts, `[127.0.0.1]:${node.gitSsh.port} ${node.gitSsh.hostKey}\n`);
    const env = {
      PATH: "/usr/bin:/bin",
      HOME: clientHome,
      LANG: "C.UTF-8",
      GIT_SSH_COMMAND: `ssh -i ${key} -o IdentitiesOnly=yes -o BatchMode=yes -o HostName=127.0.0.1 -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${knownHosts}`,
      GIT_AUTHOR_NAME: "E2E",
      GIT_AUTHOR_EMAIL: "e2e@example.com",
      GIT_COMMITTER_NAME: "E2E",
      GIT_COMMITTER_EMAIL: "e2e@example.com",
      GIT_CONFIG_NOSYSTEM: "1",
    };
    const git = (args: string[], cwd: string) => {
      const r = spawnSync("git", args, { cwd, env, encoding: "utf8", timeout: 240_000 });
      cli.push(r.stdout + r.stderr);
      return { code: r.status, out: r.stdout + r.stderr };
    };
    const work = path.join(clientHome, "web1");
    expect(git(["clone", app.git_url, work], clientHome)).toMatchObject({ code: 0 });
    fs.writeFileSync(
      path.join(work, "server.js"),
      `const http = require("http");
http
  .createServer((req, res) => res.end("pushed to the dev stack\\n"))
  .listen(Number(process.env.GEARTRAIN_NODEJS_PORT), process.env.GEARTRAIN_NODEJS_IP);
`,
    );
    expect(git(["add", "-A"], work).code).toBe(0);
    expect(git(["commit", "-q", "-m", "v2"], work).code).toBe(0);
    const push = git(["push", "origin", "HEAD"], work);
    expect(push.out).toMatch(/remote: geartrain: deployed/);
    expect(push.code).toBe(0);
    const page = await viaNginx(node.httpEndpoint, FQDN);
    expect([page.status, page.body]).toEqual([200, "pushed to the dev stack\n"]);
  });

  it("pushes the guestbook again when its source changes, keeping its entries; nothing else changes", async () => {
    // a changed copy of the source, inside the project (a source may not lead out of it), git-ignored
    fs.mkdirSync(path.join(PROJECT_ROOT, ".geartrain"), { recursive: true });
    changedSource = fs.mkdtempSync(path.join(PROJECT_ROOT, ".geartrain", "e2e-guestbook-"));
    const quickstart = path.join(PROJECT_ROOT, "quickstarts/guestbook");
    for (const f of ["package.json", "package-lock.json", "server.js"])
      fs.copyFileSync(path.join(quickstart, f), path.join(changedSource, f));
    const server = path.join(changedSource, "server.js");
    fs.writeFileSync(
      server,
      fs.readFileSync(server, "utf8").replace("<p>Served by", "<p>Pushed again, served by"),
    );
    const platform = YAML.parse(fs.readFileSync(platformFile, "utf8"));
    platform.apps[0].source = path.relative(PROJECT_ROOT, changedSource);
    fs.writeFileSync(platformFile, YAML.stringify(platform));
    sandbox.setPlatform(platformFile);
    // the preview: one update, of the AppSource, for its content hash (no replacement, the app untouched)
    const preview = sandbox.ok(["preview", "--diff"]);
    cli.push(preview.stdout + preview.stderr);
    expect(preview.stdout).toContain("::geartrain-apps-demo-guestbook-source]");
    expect(preview.stdout).toMatch(/~ sourceHash\s*: "[0-9a-f]{64}" => "[0-9a-f]{64}"/);
    expect(preview.stdout).toMatch(/\b1 to update\b/);
    expect(preview.stdout).not.toMatch(/to (create|replace|delete)\b/);
    const up = sandbox.ok(["up", "--yes", "--skip-preview"]);
    cli.push(up.stdout + up.stderr);
    const after = JSON.parse(sandbox.ok(["stack", "output", "--json", "--show-secrets"]).stdout) as Outputs;
    expect(after.apps[GUESTBOOK]!.gitUrl).toBe(out.apps[GUESTBOOK]!.gitUrl);
    expect(after.apps[GUESTBOOK]!.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(after.apps[GUESTBOOK]!.commit).not.toBe(out.apps[GUESTBOOK]!.commit);
    const page = await viaNginx(out.nodes[0]!.httpEndpoint, GUESTBOOK_FQDN);
    expect(page.status).toBe(200);
    expect(page.body).toContain("<p>Pushed again, served by Node.js");
    expect(page.body).toContain(`<strong>e2e</strong>: signed by the dev-stack test ${process.pid}`);
    // and its push key is gone too (the admin's only key is the one this test added by hand)
    const admin = new BrokerClient({ server: out.brokerUrl, credentials: out.admin });
    expect((await admin.listKeys()).map((k) => k.name)).toEqual(["e2e"]);
    out = after;
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

  it("keeps the generated secrets out of the state, the outputs, the config and the CLI output", () => {
    const exported = sandbox.ok(["stack", "export"]).stdout;
    const outputs = sandbox.ok(["stack", "output", "--json"]).stdout;
    const config = fs.readFileSync(sandbox.configFile, "utf8");
    const keyOutput = JSON.parse(
      sandbox.ok(["stack", "export", "--show-secrets"]).stdout,
    ).deployment.resources.find((r: { urn: string }) => r.urn.endsWith("::geartrain-certificate-keypair"))
      .outputs.privateKey;
    const key = String(plainValue(keyOutput));
    const keyLines = key.split("\n").filter((l) => l.length > 40);
    expect(keyLines.length).toBeGreaterThan(0);
    for (const secret of [out.admin.password, ...Object.values(secrets), ...keyLines])
      for (const [what, text] of Object.entries({ exported, outputs, config, cli: cli.join("\n") }))
        expect({ what, leaks: text.includes(secret) }).toEqual({ what, leaks: false });
  });

  it("deletes the app through the broker, then destroy leaves the host as it found it", () => {
    geartrain(["app", "delete", APP, "-n", NAMESPACE, "--confirm"]);
    geartrain(["domain", "delete", NAMESPACE, "--confirm"]);
    fs.rmSync(clientHome, { recursive: true, force: true });
    // the stack's own guestbook is destroy's to delete, before the platform goes: its gear goes with it
    const guestbookGear = out.apps[GUESTBOOK]!.gitUrl.match(/^ssh:\/\/([0-9a-f]{32})@/)![1]!;
    expect(spawnSync("getent", ["passwd", guestbookGear]).status).toBe(0);
    const destroy = sandbox.ok(["destroy", "--yes", "--skip-preview"]);
    expect(destroy.stdout).toMatch(/geartrain-apps-demo-guestbook-app\s+deleted/);
    expect(spawnSync("getent", ["passwd", guestbookGear]).status).toBe(2);
    expect(processesUnder(dataDir)).toEqual([]);
    expect(fs.readdirSync(dataDir)).toEqual([]);
    expect(hostState()).toEqual(before);
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
