// The stage stack for real, on many hosts: the program of platforms/stage.yaml (the same stacks/ program as
// dev; only its config differs) under the real engine, onto four namespace test hosts made here
// (test/helpers/test-hosts, docs/test-hosts.md): two brokers and two node hosts in two districts reached over
// SSH with their pinned host keys, and this machine (connection: local) carrying the bus, the datastore and
// the nameserver on the run's bridge address 198.18.<k>.1. The test writes a copy of the stage topology with
// its run's addresses and host keys, its own data and config directories, its districts on UIDs of its own
// (60500-60599, docs/node-operations.md), each node's gear cgroups named apart (the test hosts share the
// machine's cgroups), free ports on the machine, and a certificate for *.<domain> from a CA it makes.
// Then: each broker answers `GET /broker/rest/api` (over HTTPS with the test's CA, when it serves it); an app
// made on each district through a broker with the typed broker client is served by its node's frontend at its
// DNS name (every name resolved against the stack's BIND, the request sent to that address); the topology's
// own app (`apps[]`, added in the copy: a static site from test/e2e/projects/stage-site) is made by `up`
// through the first broker over HTTPS and its source pushed over node1's gear git sshd (the `apps` output's
// commit is the gear repository's HEAD), and node1's frontend serves that page at its DNS name; the engine's
// processes get the CA (NODE_EXTRA_CA_CERTS) and the brokers' names (an /etc/hosts bound in a mount namespace
// of the CLI's: this machine's resolver does not ask the stack's BIND); a second preview shows no change; no
// secret in the state, the outputs, the config or the CLI output; destroy leaves the machine and the hosts as they were; the hosts are removed
// and nothing of them is left. Root; run under `flock /tmp/geartrain-heavy.lock`.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { BrokerClient } from "../../clients/broker";
import { createTestHosts, TestHost, TestHosts } from "../helpers/test-hosts";
import { PROJECT_ROOT, PulumiSandbox, requireToolchain } from "../helpers/pulumi-cli";
import { processesUnder } from "../helpers/processes";
import { freePort } from "../helpers/sshd";
import { testPki, TestCertificate, TestPki } from "../helpers/tls-test-cert";

jest.setTimeout(20 * 60 * 1000);

const ZONE = "apps.stage.geartrain.test";
const NAMESPACE = "e2estage";
/** This test's UID blocks, one per district (docs/node-operations.md "UID blocks"). */
const UIDS: Record<string, { min: number; max: number }> = {
  "stage-small": { min: 60500, max: 60549 },
  "stage-medium": { min: 60550, max: 60599 },
};
/** Per node host: its gears' cgroup names (the test hosts share this machine's /sys/fs/cgroup). */
const cgroupRootOf = (host: string) => `gt-e2e-stage-${host}`;
/** An app per district: its name, the district's profile. */
const APPS = [
  { app: "small1", district: "stage-small", profile: "small", node: "node1" },
  { app: "medium1", district: "stage-medium", profile: "medium", node: "node2" },
];
const SSH_HOSTS = ["broker1", "broker2", "node1", "node2"];
const SITE_LABEL = "site-stagetop";
const SITE_FQDN = `${SITE_LABEL}.${ZONE}`;
/** The topology's own app (`apps[]`): a directory of the checkout, pushed by `up` over its node's gear git sshd. */
const SITE = {
  spec: {
    name: "site",
    domain: "stagetop",
    webCartridge: "static-1.0",
    gearProfile: "small",
    source: "test/e2e/projects/stage-site",
  },
  node: "node1",
  /** a line of the source's index.html the template does not have */
  marker: "Stage site, pushed from the checkout by the stack",
};

/** A value of `stack export --show-secrets`: a secret is `{<sig>: ..., plaintext: "<JSON>"}`. */
function plainValue(v: unknown): unknown {
  if (v && typeof v === "object" && "plaintext" in v)
    return JSON.parse(String((v as { plaintext: string }).plaintext));
  return v;
}

/**
 * An HTTP(S) request to `url`, sent to `address` (the name in the URL need not resolve on this machine: the
 * stack's BIND knows it), TLS verified against `ca` under the URL's host name, or `host` when given.
 */
function request(
  url: URL,
  address: string,
  opts: { method?: string; host?: string; ca?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const secure = url.protocol === "https:";
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(
      {
        host: address,
        port: Number(url.port) || (secure ? 443 : 80),
        method: opts.method ?? "GET",
        path: `${url.pathname}${url.search}`,
        headers: { host: opts.host ?? url.host, ...opts.headers },
        timeout: 300_000,
        agent: false as const,
        ...(secure ? { servername: opts.host ?? url.hostname, ca: opts.ca } : {}),
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timeout: ${opts.method ?? "GET"} ${url}`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** What must be the same before `up` and after `destroy` on a test host. */
async function hostStateOf(h: TestHost, dataDir: string, configDir: string): Promise<Record<string, string>> {
  const sh = async (script: string) => (await h.exec(["sh", "-c", script])).stdout;
  return {
    users: await sh("cut -d: -f1 /etc/passwd | sort"),
    groups: await sh("cut -d: -f1 /etc/group | sort"),
    pam: await sh("ls /etc/pam.d | sort"),
    opt: await sh("ls -A /opt | sort"),
    // the stack's directories, and what is in them when they are there
    dirs: (
      await h.exec([
        "sh",
        "-c",
        'for d in "$@"; do test -e "$d" && find "$d"; done; true',
        "sh",
        dataDir,
        configDir,
      ])
    ).stdout,
    // what runs in the host besides its init and its sshd
    processes: await sh(
      "ps -eo comm= | grep -vxE 'geartrain-test-h|python3|sshd|ps|sh|grep|sort' | sort; true",
    ),
  };
}

/** This machine's accounts, PAM files and this test's cgroups. */
function machineState(): Record<string, string[]> {
  const names = (file: string) =>
    fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(":")[0]!)
      .sort();
  const cgroups: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!d.isDirectory()) continue;
      if (d.name.startsWith("gt-e2e-stage")) cgroups.push(path.join(dir, d.name));
      else if (depth === 0) walk(path.join(dir, d.name), 1);
    }
  };
  walk("/sys/fs/cgroup", 0);
  return {
    users: names("/etc/passwd"),
    groups: names("/etc/group"),
    pam: fs.readdirSync("/etc/pam.d").sort(),
    cgroups,
  };
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
    district: string;
    profile: string;
    httpEndpoint: string;
    httpsEndpoint: string | null;
    gitSsh: { host: string; port: number; hostKey: string };
  }[];
  certificate: string;
  apps: Record<string, { url: string; gitUrl: string; commit: string | null }>;
}

describe("stage stack on namespace test hosts", () => {
  let th: TestHosts | undefined;
  let sandbox: PulumiSandbox | undefined;
  let pki: TestPki | undefined;
  let ca: TestCertificate;
  let leaf: TestCertificate;
  let dataDir: string;
  let configDir: string;
  let ports: Record<string, number>;
  let out: Outputs;
  let hostsBefore: Record<string, Record<string, string>>;
  let machineBefore: Record<string, string[]>;
  const byName = (name: string) => th!.hosts.find((h) => h.name === name)!;
  const cli: string[] = [];
  const timings: Record<string, number> = {};
  const timed = <T>(what: string, f: () => T): T => {
    const start = Date.now();
    try {
      return f();
    } finally {
      timings[what] = (Date.now() - start) / 1000;
    }
  };
  const dig = (name: string, type: string) =>
    execFileSync(
      "dig",
      [
        "+short",
        "+time=3",
        "+tries=2",
        "-p",
        String(out.dnsServer.port),
        `@${out.dnsServer.address}`,
        name,
        type,
      ],
      { encoding: "utf8" },
    ).trim();

  /** An IPv4 literal, or the A record of a name in the stack's BIND. */
  const addressOf = (hostname: string) =>
    /^\d+\.\d+\.\d+\.\d+$/.test(hostname) ? hostname : dig(hostname, "A");
  /** GET `path` of `endpoint` (its host name resolved in the stack's BIND), optionally with a Host header. */
  const get = (
    endpoint: string,
    opts: { path?: string; host?: string; headers?: Record<string, string> } = {},
  ) => {
    const url = new URL(opts.path ?? "/", endpoint);
    return request(url, addressOf(url.hostname), {
      host: opts.host,
      ca: ca.pem,
      headers: { accept: "application/json", ...opts.headers },
    });
  };
  /** `fetch` for the typed broker client: names resolved in the stack's BIND, TLS checked with the test's CA. */
  const brokerFetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const r = await request(url, addressOf(url.hostname), {
      method: init?.method,
      ca: ca.pem,
      headers,
      body: typeof init?.body === "string" ? init.body : undefined,
    });
    const h = new Headers();
    for (const [k, v] of Object.entries(r.headers)) if (typeof v === "string") h.set(k, v);
    return new Response(r.status === 204 || r.status === 304 ? null : r.body, {
      status: r.status,
      headers: h,
    });
  };
  const brokerClient = (server: string) =>
    new BrokerClient({ server, credentials: out.admin, fetch: brokerFetch });

  beforeAll(async () => {
    requireToolchain();
    const start = Date.now();
    th = await createTestHosts(SSH_HOSTS.length, { names: SSH_HOSTS });
    timings.createTestHosts = (Date.now() - start) / 1000;
    sandbox = new PulumiSandbox("e2e-stage");
    // the daemons' own users (postgres, activemq, bind) must reach their directories on this machine
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-e2e-stage-"));
    fs.chmodSync(dataDir, 0o755);
    configDir = path.join(dataDir, "etc");
    // the machine's roles listen on the run's bridge address, on ports free here; the SSH hosts each have
    // a network of their own, where the topology's defaults are free
    ports = { msgserver: await freePort(), datastore: await freePort(), nameserver: await freePort() };
    pki = testPki("stage");
    ca = await pki.ca("stage-ca");
    leaf = await pki.server(ca, "stage-wildcard", { dns: [`*.${ZONE}`, ZONE] });

    // platforms/stage.yaml with this run's addresses and host keys
    const stage = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "platforms/stage.yaml"), "utf8"));
    expect(stage.domain).toBe(ZONE);
    const hosts = stage.hosts.map((h: { name: string; connection: Record<string, unknown> }) => {
      if (h.connection.type === "local") return { ...h, address: th!.gateway };
      const t = byName(h.name);
      return {
        ...h,
        connection: { ...h.connection, address: t.address, port: t.port, hostKey: t.hostPublicKey },
      };
    });
    expect(hosts.map((h: { name: string }) => h.name).sort()).toEqual(["infra", ...SSH_HOSTS].sort());
    const districts = stage.districts.map((d: { name: string }) => ({ ...d, uidRange: UIDS[d.name] }));
    const platformFile = path.join(sandbox.dir, "stage.yaml");
    expect(stage.apps ?? []).toEqual([]);
    fs.writeFileSync(platformFile, YAML.stringify({ ...stage, hosts, districts, ports, apps: [SITE.spec] }));
    sandbox.setPlatform(platformFile);
    // The apps' providers reach the first broker from this machine, under its name in the domain, over HTTPS:
    // the engine's Node processes trust the test's CA, and see the brokers' names in an /etc/hosts of
    // their own (this machine's, plus those names; bound over it in a mount namespace of the CLI's, so
    // nothing else on the machine sees it) since this machine's resolver does not ask the stack's BIND.
    const caFile = path.join(sandbox.dir, "ca.pem");
    fs.writeFileSync(caFile, ca.pem);
    const hostsFile = path.join(sandbox.dir, "hosts");
    const brokerNames = ["broker1", "broker2"].map((b) => `${byName(b).address} ${b}.${ZONE}\n`);
    fs.writeFileSync(
      hostsFile,
      fs.readFileSync("/etc/hosts", "utf8").replace(/\n?$/, "\n") + brokerNames.join(""),
    );
    sandbox.setDefaults({
      env: { NODE_EXTRA_CA_CERTS: caFile },
      launcher: [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        'mount --bind "$0" /etc/hosts && exec "$@"',
        hostsFile,
      ],
    });
    sandbox.init();
    sandbox.ok(["config", "set", "dataDir", dataDir]);
    sandbox.ok(["config", "set", "configDir", configDir]);
    // secrets on stdin, never argv
    sandbox.ok(["config", "set", "--secret", "geartrain:sshPrivateKey"], { input: th.privateKey });
    sandbox.ok(["config", "set", "geartrain:tlsCertificate"], { input: leaf.pem });
    sandbox.ok(["config", "set", "geartrain:tlsCaCertificate"], { input: ca.pem });
    sandbox.ok(["config", "set", "--secret", "geartrain:tlsPrivateKey"], {
      input: fs.readFileSync(leaf.keyFile, "utf8"),
    });
    const node = {
      factsIntervalSeconds: 5,
      hosts: Object.fromEntries(["node1", "node2"].map((n) => [n, { cgroupRootName: cgroupRootOf(n) }])),
    };
    sandbox.ok(["config", "set", "node", JSON.stringify(node)]);
    machineBefore = machineState();
    hostsBefore = {};
    for (const h of th.hosts) hostsBefore[h.name] = await hostStateOf(h, dataDir, configDir);
  });

  afterAll(async () => {
    try {
      if (sandbox) {
        sandbox.run(["destroy", "--yes", "--skip-preview"]);
        sandbox.cleanup();
      }
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      pki?.cleanup();
    } finally {
      const start = Date.now();
      await th?.destroy();
      timings.destroyTestHosts = (Date.now() - start) / 1000;
      await th?.assertNoLeftovers();
      console.log(`stage e2e timings (s): ${JSON.stringify(timings)}`);
    }
  });

  it("comes up on the hosts: the outputs say where the platform is", () => {
    const up = timed("up", () => sandbox!.run(["up", "--yes", "--skip-preview"]));
    cli.push(up.stdout + up.stderr);
    if (up.code !== 0) throw new Error(`pulumi up exited ${up.code}\n${up.stdout}\n${up.stderr}`);
    out = JSON.parse(sandbox!.ok(["stack", "output", "--json", "--show-secrets"]).stdout);
    expect(out.domain).toBe(ZONE);
    expect(out.brokerUrls).toHaveLength(2);
    // the brokers are reached from other hosts: HTTPS under their names in the domain (the wildcard covers them)
    expect(out.brokerUrls).toEqual([`https://broker1.${ZONE}:18080`, `https://broker2.${ZONE}:18080`]);
    expect(out.dnsServer).toEqual({ address: th!.gateway, port: ports.nameserver, zone: ZONE });
    expect(out.nodes.map((n) => [n.name, n.address, n.district, n.profile])).toEqual([
      ["node1", byName("node1").address, "stage-small", "small"],
      ["node2", byName("node2").address, "stage-medium", "medium"],
    ]);
    expect(JSON.parse(sandbox!.ok(["stack", "output", "--json"]).stdout).admin).toBe("[secret]");
    // the topology's app, made through the first broker and its source pushed to its node
    const node = out.nodes.find((n) => n.name === SITE.node)!;
    expect(out.apps).toEqual({
      [SITE_LABEL]: {
        url: `http://${SITE_FQDN}/`,
        gitUrl: expect.stringMatching(
          new RegExp(
            `^ssh://[0-9a-f]{32}@${node.publicHostname.replace(/\./g, "\\.")}(:\\d+)?/~/git/site\\.git/$`,
          ),
        ),
        commit: expect.stringMatching(/^[0-9a-f]{40}$/),
      },
    });
  });

  it("each broker answers GET /broker/rest/api, and the districts have their nodes", async () => {
    for (const url of out.brokerUrls) {
      const api = await get(url, { path: "/broker/rest/api" });
      expect({ url, status: api.status }).toEqual({ url, status: 200 });
      expect(JSON.parse(api.body).data).toBeDefined();
      // its name is its host's address in the stack's BIND, and its certificate chains to the test's CA only
      const name = new URL(url).hostname;
      expect(addressOf(name)).toBe(byName(name.split(".")[0]!).address);
      if (url.startsWith("https:"))
        await expect(request(new URL("/broker/rest/api", url), addressOf(name))).rejects.toThrow(
          /self.signed|unable to (get|verify)/i,
        );
    }
    const auth = `Basic ${Buffer.from(`${out.admin.login}:${out.admin.password}`).toString("base64")}`;
    for (const [name, uids] of Object.entries(UIDS)) {
      const res = await get(out.brokerUrls[1]!, {
        path: `/broker/rest/admin/district/${name}`,
        headers: { authorization: auth },
      });
      expect({ name, status: res.status }).toEqual({ name, status: 200 });
      const d = JSON.parse(res.body).data;
      expect({ first: d.first_uid, max: d.max_uid }).toEqual({ first: uids.min, max: uids.max });
      expect(d.nodes.map((n: { name: string }) => n.name)).toEqual([
        name === "stage-small" ? "node1" : "node2",
      ]);
    }
  });

  it("serves an app made on each district through a broker at its DNS name from that node", async () => {
    // through the second broker: both share the datastore, so it sees what the first one made
    const broker = brokerClient(out.brokerUrls[1]!);
    await broker.addDomain(NAMESPACE);
    for (const a of APPS) {
      const fqdn = `${a.app}-${NAMESPACE}.${ZONE}`;
      const created = (
        await broker.createApplication(NAMESPACE, {
          name: a.app,
          cartridges: ["nodejs-20"],
          gearProfile: a.profile,
        })
      ).value;
      expect(JSON.stringify(created)).toContain(fqdn);
      // its name in the stack's BIND: a CNAME to its node's public name, whose A record is the node's address
      const node = out.nodes.find((n) => n.name === a.node)!;
      expect(dig(fqdn, "CNAME")).toBe(`${node.publicHostname}.`);
      expect(dig(node.publicHostname, "A")).toBe(node.address);
      // served by that node's frontend, over HTTP and over HTTPS with the provided certificate
      const page = await get(node.httpEndpoint, { host: fqdn });
      expect({ app: a.app, status: page.status, body: page.body }).toEqual({
        app: a.app,
        status: 200,
        body: expect.stringMatching(new RegExp(`Welcome to ${a.app}`)),
      });
      const secure = await get(node.httpsEndpoint!, { host: fqdn });
      expect([secure.status, secure.body]).toEqual([
        200,
        expect.stringMatching(new RegExp(`Welcome to ${a.app}`)),
      ]);
      // the gear is a user of its district's UIDs on that node host, and of no other host
      const gear = String(created.git_url).match(/^ssh:\/\/([0-9a-f]{32})@/)![1]!;
      const uid = Number((await byName(a.node).exec(["id", "-u", gear])).stdout);
      expect(uid).toBeGreaterThanOrEqual(UIDS[a.district]!.min);
      expect(uid).toBeLessThanOrEqual(UIDS[a.district]!.max);
      const other = byName(a.node === "node1" ? "node2" : "node1");
      await expect(other.exec(["id", "-u", gear])).rejects.toThrow();
    }
  });

  it("serves the topology's app (apps[] with a source) from its node at its DNS name, with the pushed content", async () => {
    const node = out.nodes.find((n) => n.name === SITE.node)!;
    expect(dig(SITE_FQDN, "CNAME")).toBe(`${node.publicHostname}.`);
    for (const endpoint of [node.httpEndpoint, node.httpsEndpoint!]) {
      const page = await get(endpoint, { host: SITE_FQDN, headers: { accept: "text/html" } });
      expect({ endpoint, status: page.status, body: page.body }).toEqual({
        endpoint,
        status: 200,
        body: expect.stringContaining(SITE.marker),
      });
    }
    // the pushed commit is what the gear's repository holds, on that node host only
    const gear = out.apps[SITE_LABEL]!.gitUrl.match(/^ssh:\/\/([0-9a-f]{32})@/)![1]!;
    const home = (await byName(SITE.node).exec(["getent", "passwd", gear])).stdout.split(":")[5]!;
    const head = await byName(SITE.node).exec([
      "git",
      "--git-dir",
      `${home}/git/site.git`,
      "rev-parse",
      "HEAD",
    ]);
    expect(head.stdout.trim()).toBe(out.apps[SITE_LABEL]!.commit);
    await expect(
      byName(SITE.node === "node1" ? "node2" : "node1").exec(["id", "-u", gear]),
    ).rejects.toThrow();
  });

  it("shows no changes on a second preview", () => {
    const preview = timed("preview", () => sandbox!.run(["preview", "--expect-no-changes", "--diff"]));
    cli.push(preview.stdout + preview.stderr);
    if (preview.code !== 0)
      throw new Error(`preview exited ${preview.code}\n${preview.stdout}\n${preview.stderr}`);
  });

  it("keeps every secret out of the state, the outputs, the config, the CLI output and the daemons' logs", async () => {
    const exported = sandbox!.ok(["stack", "export"]).stdout;
    const outputs = sandbox!.ok(["stack", "output", "--json"]).stdout;
    const config = fs.readFileSync(sandbox!.configFile, "utf8");
    const state = JSON.parse(sandbox!.ok(["stack", "export", "--show-secrets"]).stdout);
    // each secret by a label that names it (never its value)
    const secrets: [string, string][] = [["admin password", out.admin.password]];
    for (const r of state.deployment.resources as {
      urn: string;
      type: string;
      outputs?: { value?: unknown };
    }[])
      if (r.type.endsWith("GeneratedSecret") && r.outputs?.value)
        secrets.push([r.urn.slice(r.urn.lastIndexOf("::") + 2), String(plainValue(r.outputs.value))]);
    // the bus's agent, broker and admin users, the datastore, the admin, the TSIG key, the key store
    expect(secrets.length).toBeGreaterThanOrEqual(8);
    const pemLines = (label: string, pem: string): [string, string][] =>
      pem
        .split("\n")
        .filter((l) => l.length > 40)
        .map((l, i) => [`${label} line ${i + 1}`, l]);
    secrets.push(...pemLines("SSH private key", th!.privateKey));
    // (an EC key's last base64 line is its public point, which the certificate carries too: public)
    secrets.push(
      ...pemLines("TLS private key", fs.readFileSync(leaf.keyFile, "utf8")).filter(
        ([, line]) => !leaf.pem.includes(line),
      ),
    );
    // every log of the platform's daemons, on the machine and on each host (runit's `current`, *.log, log/)
    const LOGS =
      'find "$0" -type f \\( -name current -o -name "*.log" -o -path "*/log/*" \\) -exec cat -- {} +; true';
    const logs: Record<string, string> = {
      "machine logs": execFileSync("sh", ["-c", LOGS, dataDir], { encoding: "utf8", maxBuffer: 256 << 20 }),
    };
    for (const h of th!.hosts) logs[`${h.name} logs`] = (await h.exec(["sh", "-c", LOGS, dataDir])).stdout;
    expect(Object.values(logs).join("").length).toBeGreaterThan(0);
    const texts = { exported, outputs, config, cli: cli.join("\n"), ...logs };
    const leaks = secrets.flatMap(([label, value]) =>
      Object.entries(texts)
        .filter(([, text]) => text.includes(value))
        .map(([what]) => `${label} in ${what}`),
    );
    expect(leaks).toEqual([]);
  });

  it("deletes the apps, then destroy leaves the machine and the hosts as it found them", async () => {
    const broker = brokerClient(out.brokerUrls[0]!);
    for (const a of APPS) await broker.deleteApplication(NAMESPACE, a.app);
    await broker.deleteDomain(NAMESPACE);
    const destroy = timed("destroy", () => sandbox!.run(["destroy", "--yes", "--skip-preview"]));
    if (destroy.code !== 0)
      throw new Error(`destroy exited ${destroy.code}\n${destroy.stdout}\n${destroy.stderr}`);
    // the topology's app is destroy's to delete (through the broker, before the platform goes)
    expect(destroy.stdout).toMatch(/apps-stagetop-site-app\s+deleted/);
    expect(processesUnder(dataDir)).toEqual([]);
    expect(fs.readdirSync(dataDir)).toEqual([]);
    expect(machineState()).toEqual(machineBefore);
    for (const h of th!.hosts)
      expect({ [h.name]: await hostStateOf(h, dataDir, configDir) }).toEqual({
        [h.name]: hostsBefore[h.name],
      });
    const exported = JSON.parse(sandbox!.ok(["stack", "export"]).stdout);
    expect(exported.deployment.resources ?? []).toEqual([]);
  });
});
