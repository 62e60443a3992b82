// The Platform's pure plan and its cloud-init user data, from the project's own topologies and the config
// fixtures: who listens where, pg_hba's clients, the bus's agent users, the zone's records, districts,
// broker URLs, children's names; each host's user data passes Debian's `cloud-init schema`.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { planPlatform } from "../../../../components/platform/plan";
import { hostCloudConfig, renderHostUserData } from "../../../../components/platform/render";
import {
  PLATFORM_CONFIG_KEY,
  validatePlatformConfig,
  type PlatformConfig,
} from "../../../../stacks/validate";

const ROOT = path.join(__dirname, "../../../..");
const platformFile = (stack: string): PlatformConfig =>
  validatePlatformConfig(YAML.parse(fs.readFileSync(path.join(ROOT, "platforms", `${stack}.yaml`), "utf8")));
const fixture = (name: string): PlatformConfig =>
  validatePlatformConfig(
    YAML.parse(fs.readFileSync(path.join(ROOT, "test/fixtures/config", `${name}.yaml`), "utf8")).config[
      PLATFORM_CONFIG_KEY
    ],
  );

describe("planPlatform", () => {
  it("dev: everything on loopback of one host, on the non-default ports, no TLS", () => {
    const plan = planPlatform("geartrain", platformFile("dev"));
    expect(plan.crossesHosts).toBe(false);
    expect(plan.hosts.map((h) => [h.resource, h.address, h.fqdn])).toEqual([
      ["geartrain-local", "127.0.0.1", "local.apps.dev.geartrain.test"],
    ]);
    expect(plan.datastore).toEqual({
      resource: "geartrain-datastore",
      host: "local",
      directory: "/var/lib/geartrain/datastore",
      address: "127.0.0.1",
      port: 15432,
      clients: ["127.0.0.1"],
    });
    expect(plan.messageBus).toEqual({
      resource: "geartrain-bus",
      host: "local",
      directory: "/var/lib/geartrain/bus",
      address: "127.0.0.1",
      port: 16163,
      tls: false,
      keyStore: null,
      nodes: ["local"],
    });
    expect(plan.dns).toMatchObject({
      resource: "geartrain-dns",
      address: "127.0.0.1",
      port: 10053,
      zone: "apps.dev.geartrain.test",
      records: [{ name: "local.apps.dev.geartrain.test", address: "127.0.0.1" }],
    });
    expect(plan.brokers).toEqual([
      {
        resource: "geartrain-broker-local",
        host: "local",
        fqdn: "local.apps.dev.geartrain.test",
        address: "127.0.0.1",
        port: 18080,
        tls: false,
        url: "http://127.0.0.1:18080",
      },
    ]);
    expect(plan.brokerUrl).toBe("http://127.0.0.1:18080");
    expect(plan.nodes).toEqual([
      {
        resource: "geartrain-node-local",
        host: "local",
        identity: "local",
        address: "127.0.0.1",
        publicHostname: "local.apps.dev.geartrain.test",
        district: "dev-small",
        profile: "small",
        uidRange: { min: 2000, max: 6999 },
        http: 10080,
        https: 10443,
        ssh: 10022,
        directory: "/var/lib/geartrain/node",
        gearBaseDir: "/var/lib/geartrain/gears",
        idleStarter: "127.0.0.1:10099",
        pamService: "geartrain-local-fd122fc6-sshd",
      },
    ]);
    expect(plan.districts).toEqual([
      {
        resource: "geartrain-dist-dev-small",
        name: "dev-small",
        profile: "small",
        uidRange: { min: 2000, max: 6999 },
        nodes: ["local"],
      },
    ]);
    expect(plan.certificate).toEqual({
      resource: "geartrain-certificate",
      source: "self-signed",
      commonName: "*.apps.dev.geartrain.test",
      dnsNames: ["*.apps.dev.geartrain.test", "apps.dev.geartrain.test"],
    });
    expect(plan.adminPassword).toBe("geartrain-admin-password");
  });

  it("full: each role where its host listens, brokers as pg_hba clients, an agent user per node, TLS", () => {
    const plan = planPlatform("gt", fixture("full"), { dataDirectory: "/srv/gt" });
    expect(plan.crossesHosts).toBe(true);
    expect(plan.serviceDirectory).toBe("/srv/gt/services");
    expect(plan.datastore).toMatchObject({ host: "infra1", address: "192.0.2.11", port: 5432 });
    expect(plan.datastore.clients).toEqual(["192.0.2.10", "192.0.2.12"]);
    expect(plan.messageBus).toMatchObject({
      host: "infra1",
      address: "192.0.2.11",
      port: 61614,
      tls: true,
      keyStore: "/srv/gt/bus-tls/keystore.p12",
      nodes: ["node1", "node2", "node3"],
    });
    expect(plan.dns).toMatchObject({ host: "broker1", address: "192.0.2.10", port: 10053 });
    expect(plan.dns.records.map((r) => `${r.name} ${r.address}`)).toEqual([
      "broker1.apps.stage.geartrain.test 192.0.2.10",
      "infra1.apps.stage.geartrain.test 192.0.2.11",
      "node1.apps.stage.geartrain.test 192.0.2.21",
      "node2.apps.stage.geartrain.test 192.0.2.22",
      "node3.apps.stage.geartrain.test 192.0.2.23",
      "broker2.apps.stage.geartrain.test 192.0.2.12",
    ]);
    // reached from other hosts: HTTPS under <host>.<domain>, which the wildcard certificate covers
    expect(plan.brokers.map((b) => [b.tls, b.url])).toEqual([
      [true, "https://broker1.apps.stage.geartrain.test:8443"],
      [true, "https://broker2.apps.stage.geartrain.test:8443"],
    ]);
    expect(plan.nodes.map((n) => [n.identity, n.district, n.profile, n.http, n.https, n.ssh])).toEqual([
      ["node1", "small-1", "small", 80, 443, 2222],
      ["node2", "small-1", "small", 80, 443, 2222],
      ["node3", "large-1", "large", 80, 443, 2222],
    ]);
    expect(plan.districts.map((d) => [d.resource, d.nodes])).toEqual([
      ["gt-dist-small-1", ["node1", "node2"]],
      ["gt-dist-large-1", ["node3"]],
      ["gt-dist-medium-1", []],
    ]);
  });

  it("brokers over HTTPS only where other hosts reach them: stage yes; a broker on loopback of a topology of several hosts no", () => {
    const stage = planPlatform("geartrain", platformFile("stage"));
    expect(stage.brokers.map((b) => [b.host, b.tls, b.url])).toEqual([
      ["broker1", true, "https://broker1.apps.stage.geartrain.test:18080"],
      ["broker2", true, "https://broker2.apps.stage.geartrain.test:18080"],
    ]);
    expect(stage.brokerUrl).toBe("https://broker1.apps.stage.geartrain.test:18080");
    // the local host carries the broker on 127.0.0.1, a node is elsewhere: only that host reaches it
    const topology = platformFile("stage");
    const mixed = {
      ...topology,
      hosts: topology.hosts.map((h) =>
        h.name === "infra"
          ? { ...h, address: "127.0.0.1", roles: [...h.roles, "broker" as const] }
          : { ...h, roles: h.roles.filter((r) => r !== "broker") },
      ),
    };
    const plan = planPlatform("geartrain", mixed);
    expect(plan.crossesHosts).toBe(true);
    expect(plan.brokers.map((b) => [b.host, b.tls, b.url])).toEqual([
      ["infra", false, "http://127.0.0.1:18080"],
    ]);
  });

  it("puts each node's unidler on the idle port given, and refuses one a role of its host listens on", () => {
    const dev = platformFile("dev");
    const plan = planPlatform("gt", dev, { dataDirectory: "/srv/gt", idlePort: 12099 });
    expect(plan.nodes.map((n) => [n.idleStarter, n.directory, n.gearBaseDir])).toEqual([
      ["127.0.0.1:12099", "/srv/gt/node", "/srv/gt/gears"],
    ]);
    // another data directory, another PAM service (two platforms on one machine)
    expect(plan.nodes[0]!.pamService).toMatch(/^geartrain-local-[0-9a-f]{8}-sshd$/);
    expect(plan.nodes[0]!.pamService).not.toBe(planPlatform("gt", dev).nodes[0]!.pamService);
    expect(() => planPlatform("gt", dev, { idlePort: 10080 })).toThrow(
      expect.objectContaining({ field: "node.idlePort", message: expect.stringMatching(/nodeHttp/) }),
    );
    expect(() => planPlatform("gt", dev, { idlePort: 80 })).toThrow(
      expect.objectContaining({ field: "node.idlePort" }),
    );
  });

  it("refuses a node in no district, naming the field", () => {
    expect(() => planPlatform("gt", { ...fixture("full"), districts: [] })).toThrow(
      expect.objectContaining({ field: "topology.districts" }),
    );
  });

  it.each([
    ["a bad platform name", "Geartrain", {}, "name"],
    ["a relative data directory", "gt", { dataDirectory: "var/lib" }, "dataDirectory"],
  ])("rejects %s naming the field", (_title, name, options, field) => {
    expect(() => planPlatform(name, fixture("minimal"), options)).toThrow(expect.objectContaining({ field }));
  });

  it("rejects a topology the stack validation would have refused, naming the field", () => {
    const full = fixture("full");
    const noBroker = {
      ...full,
      hosts: full.hosts.map((h) => ({ ...h, roles: h.roles.filter((r) => r !== "broker") })),
    };
    expect(() => planPlatform("gt", noBroker)).toThrow(expect.objectContaining({ field: "topology.hosts" }));
    const twice = {
      ...full,
      districts: [
        ...full.districts,
        { name: "x", profile: "small", uidRange: { min: 50000, max: 50010 }, nodes: ["node1"] },
      ],
    };
    expect(() => planPlatform("gt", twice)).toThrow(
      expect.objectContaining({ field: "topology.districts[3].nodes[0]" }),
    );
  });

  it("is deterministic", () => {
    expect(planPlatform("gt", fixture("full"))).toEqual(planPlatform("gt", fixture("full")));
  });
});

describe("cloud-init user data per host", () => {
  const CLOUD_INIT = "/usr/bin/cloud-init";
  if (!fs.existsSync(CLOUD_INIT))
    throw new Error(
      "cloud-init is not installed: run `bash scripts/setup-debian.sh` (apt-get install -y cloud-init)",
    );
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "geartrain-platform-cloudinit-"))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("dev: the packages of all five roles, the host's names and directories", () => {
    const plan = planPlatform("geartrain", platformFile("dev"));
    const config = hostCloudConfig(plan, plan.hosts[0]!);
    expect(config.packages).toEqual([
      "activemq",
      "bind9",
      "bind9-dnsutils",
      "ca-certificates",
      "cron",
      "git",
      "iptables",
      "nftables",
      "nginx",
      "nodejs",
      "openssh-server",
      "openssl",
      "postgresql",
      "python3",
      "quota",
      "runit",
    ]);
    expect(renderHostUserData(plan, plan.hosts[0]!)).toMatchSnapshot();
  });

  it("full: each role's own packages, and the login keys", () => {
    const plan = planPlatform("gt", fixture("full"));
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGc9Sk1MEVoMLHRB1mjEMpSBst3Mwa+BAhsrCePKaJuf geartrain";
    const byHost = Object.fromEntries(plan.hosts.map((h) => [h.name, hostCloudConfig(plan, h, [key])]));
    expect(byHost.broker1!.packages).toEqual(["bind9", "bind9-dnsutils", "ca-certificates", "runit"]);
    expect(byHost.infra1!.packages).toEqual(["activemq", "openssl", "postgresql", "runit"]);
    expect(byHost.node1!.packages).toContain("nginx");
    expect(byHost.node1!.ssh_authorized_keys).toEqual([key]);
    expect(renderHostUserData(plan, plan.hosts[1]!, [key])).toMatchSnapshot();
  });

  it("every host's user data of every topology passes `cloud-init schema` with no warning", () => {
    const topologies = {
      dev: platformFile("dev"),
      stage: platformFile("stage"),
      prod: platformFile("prod"),
      full: fixture("full"),
    };
    for (const [stack, topology] of Object.entries(topologies)) {
      const plan = planPlatform("geartrain", topology);
      for (const host of plan.hosts) {
        const file = path.join(dir, `${stack}-${host.name}.yaml`);
        fs.writeFileSync(
          file,
          renderHostUserData(plan, host, [
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGc9Sk1MEVoMLHRB1mjEMpSBst3Mwa+BAhsrCePKaJuf",
          ]),
        );
        const run = spawnSync(CLOUD_INIT, ["schema", "--config-file", file], { encoding: "utf8" });
        expect({ file: path.basename(file), status: run.status, stderr: run.stderr }).toEqual({
          file: path.basename(file),
          status: 0,
          stderr: "",
        });
        expect(run.stdout).toContain("Valid cloud-config");
      }
    }
  });

  it("`cloud-init schema` catches a broken one (the check is real)", () => {
    const plan = planPlatform("geartrain", platformFile("dev"));
    const file = path.join(dir, "bad.yaml");
    fs.writeFileSync(
      file,
      renderHostUserData(plan, plan.hosts[0]!).replace("package_update: true", "package_update: 3"),
    );
    const run = spawnSync(CLOUD_INIT, ["schema", "--config-file", file], { encoding: "utf8" });
    expect(run.status).not.toBe(0);
  });
});
