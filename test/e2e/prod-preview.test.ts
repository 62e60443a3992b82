// The prod topology's `pulumi preview` against namespace test hosts (issue #11: prod is "tested by `pulumi
// preview` against the namespace hosts"): a copy of platforms/prod.yaml (the same stacks/ program; only its
// config differs) with one test host (test/helpers/test-hosts) per prod host, their addresses and pinned host
// keys, the run's client key and a certificate for *.<domain> from a CA the test makes. The preview plans the
// whole platform, every resource a create (10 Hosts, 3 Brokers, the bus, the datastore, the nameserver, 4
// NodeHosts in 2 districts, a release on each of the 7 program hosts) and touches nothing: no host's
// filesystem changes (each host's overlay upper directory is the same before and after) and the stack's state
// stays empty. Root; run under `flock /tmp/geartrain-heavy.lock`.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { createTestHosts, TestHosts } from "../helpers/test-hosts";
import { hostNames, runNames } from "../helpers/test-hosts/model";
import { PROJECT_ROOT, PulumiSandbox, requireToolchain } from "../helpers/pulumi-cli";
import { testPki, TestPki } from "../helpers/tls-test-cert";

jest.setTimeout(10 * 60 * 1000);

const ZONE = "apps.example.com";

/** Every path under `dir` with its size and mtime: what a write anywhere in the host would change. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = fs.lstatSync(p);
      out.push(`${path.relative(dir, p)} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

interface PreviewStep {
  op: string;
  urn: string;
  newState?: { type: string };
}

describe("prod topology: preview against namespace test hosts", () => {
  let th: TestHosts | undefined;
  let sandbox: PulumiSandbox | undefined;
  let pki: TestPki | undefined;
  let prodHosts: string[];
  let dataDir: string;

  beforeAll(async () => {
    requireToolchain();
    const prod = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "platforms/prod.yaml"), "utf8"));
    expect(prod.domain).toBe(ZONE);
    prodHosts = prod.hosts.map((h: { name: string }) => h.name);
    th = await createTestHosts(prodHosts.length, { names: prodHosts });
    const byName = (name: string) => th!.hosts.find((h) => h.name === name)!;
    sandbox = new PulumiSandbox("e2e-prod");
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-e2e-prod-"));
    pki = testPki("prod");
    const ca = await pki.ca("prod-ca");
    const leaf = await pki.server(ca, "prod-wildcard", { dns: [`*.${ZONE}`, ZONE] });
    const hosts = prod.hosts.map((h: { name: string; connection: Record<string, unknown> }) => {
      const t = byName(h.name);
      return {
        ...h,
        connection: { ...h.connection, address: t.address, port: t.port, hostKey: t.hostPublicKey },
      };
    });
    const platformFile = path.join(sandbox.dir, "prod.yaml");
    fs.writeFileSync(platformFile, YAML.stringify({ ...prod, hosts }));
    sandbox.setPlatform(platformFile);
    sandbox.init();
    sandbox.ok(["config", "set", "dataDir", dataDir]);
    sandbox.ok(["config", "set", "configDir", path.join(dataDir, "etc")]);
    sandbox.ok(["config", "set", "--secret", "geartrain:sshPrivateKey"], { input: th.privateKey });
    sandbox.ok(["config", "set", "geartrain:tlsCertificate"], { input: leaf.pem });
    sandbox.ok(["config", "set", "geartrain:tlsCaCertificate"], { input: ca.pem });
    sandbox.ok(["config", "set", "--secret", "geartrain:tlsPrivateKey"], {
      input: fs.readFileSync(leaf.keyFile, "utf8"),
    });
  });

  afterAll(async () => {
    try {
      sandbox?.cleanup();
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      pki?.cleanup();
    } finally {
      await th?.destroy();
      await th?.assertNoLeftovers();
    }
  });

  it("plans the whole platform as creates and touches no host", () => {
    const run = runNames(os.tmpdir(), th!.runId);
    const uppers = th!.hosts.map((h) => hostNames(run, h.index).upper);
    const before = uppers.map(tree);
    const start = Date.now();
    const preview = sandbox!.run(["preview", "--json"]);
    const seconds = (Date.now() - start) / 1000;
    if (preview.code !== 0)
      throw new Error(`preview exited ${preview.code}\n${preview.stdout}\n${preview.stderr}`);
    const steps = (JSON.parse(preview.stdout).steps ?? []) as PreviewStep[];
    const typeOf = (s: PreviewStep) => s.newState?.type ?? s.urn.split("::")[2]!.split("$").pop()!;
    // every step a create
    expect([...new Set(steps.map((s) => s.op))]).toEqual(["create"]);
    const count = (type: string) => steps.filter((s) => typeOf(s) === type).length;
    expect({
      hosts: count("geartrain:host:Host"),
      releases: count("geartrain:platform:Release"),
      brokers: count("geartrain:platform:Broker"),
      datastores: count("geartrain:platform:Datastore"),
      buses: count("geartrain:platform:MessageBus"),
      nameservers: count("geartrain:platform:Dns"),
      nodeHosts: count("geartrain:platform:NodeHost"),
      districts: count("geartrain:platform:District"),
      platforms: count("geartrain:platform:Platform"),
    }).toEqual({
      hosts: 10,
      releases: 7,
      brokers: 3,
      datastores: 1,
      buses: 1,
      nameservers: 1,
      nodeHosts: 4,
      districts: 2,
      platforms: 1,
    });
    // each Host's commands run on it over SSH: one wait-for-SSH gate per prod host
    const gates = steps
      .filter((s) => s.urn.endsWith("-wait-ssh"))
      .map((s) => s.urn.slice(s.urn.lastIndexOf("::") + 2));
    expect(gates.sort()).toEqual(prodHosts.map((h) => `geartrain-${h}-wait-ssh`).sort());
    // nothing written on any host, nothing in the state
    expect(uppers.map(tree)).toEqual(before);
    const exported = JSON.parse(sandbox!.ok(["stack", "export"]).stdout);
    expect(exported.deployment.resources ?? []).toEqual([]);
    expect(fs.readdirSync(dataDir)).toEqual([]);
    console.log(`prod preview: ${steps.length} steps in ${seconds.toFixed(1)} s`);
  });
});
