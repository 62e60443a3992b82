import { DEFAULT_PROFILES } from "../../../node/config";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import platformSchema from "../../../stacks/schema/platform.schema.json";
import {
  type AppConfig,
  CERTIFICATE_SOURCES,
  ConfigError,
  GEAR_PROFILES,
  PORT_ROLES,
  type BusConfig,
  type CertificateConfig,
  type PortsConfig,
  HOST_ROLES,
  PLATFORM_CONFIG_KEY,
  validatePlatformConfig,
  type DistrictConfig,
  type HostConfig,
  type HostConnection,
  type LocalConnection,
  type PlatformConfig,
  type SshConnection,
  type UidRange,
} from "../../../stacks/validate";

const FIXTURES = path.join(__dirname, "../../fixtures/config");

/** Untyped on purpose: the tests mutate fixtures freely to build invalid configs. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Raw = Record<string, any>;

/** The raw `geartrain:platform` object of a Pulumi.<stack>.yaml-shaped fixture. */
function fixture(name: "minimal" | "full"): Raw {
  const stackFile = YAML.parse(fs.readFileSync(path.join(FIXTURES, `${name}.yaml`), "utf8"));
  return stackFile.config[PLATFORM_CONFIG_KEY];
}

function problemsOf(raw: unknown): { path: string; message: string }[] {
  try {
    validatePlatformConfig(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error("expected the config to be rejected");
}

const P = PLATFORM_CONFIG_KEY;
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGc9Sk1MEVoMLHRB1mjEMpSBst3Mwa+BAhsrCePKaJuf";

describe("validatePlatformConfig: valid configs", () => {
  it("accepts the minimal fixture and applies defaults", () => {
    expect(validatePlatformConfig(fixture("minimal"))).toEqual({
      domain: "apps.dev.geartrain.test",
      hosts: [
        {
          name: "local",
          connection: { type: "local" },
          address: "127.0.0.1",
          roles: ["broker", "msgserver", "datastore", "nameserver", "node"],
        },
      ],
      ports: {
        broker: 18080,
        msgserver: 16163,
        datastore: 15432,
        nameserver: 10053,
        nodeHttp: 10080,
        nodeHttps: 10443,
        nodeSsh: 10022,
      },
      bus: { tls: false },
      certificate: { source: "self-signed" },
      districts: [
        { name: "dev-small", profile: "small", uidRange: { min: 2000, max: 6999 }, nodes: ["local"] },
      ],
      apps: [],
    });
  });

  it("accepts the full fixture and fills ssh and district defaults", () => {
    const config = validatePlatformConfig(fixture("full"));
    expect(config.hosts.map((h) => h.name)).toEqual([
      "broker1",
      "infra1",
      "node1",
      "node2",
      "node3",
      "broker2",
    ]);
    expect(config.hosts.map((h) => h.address)).toEqual([
      "192.0.2.10",
      "192.0.2.11",
      "192.0.2.21",
      "192.0.2.22",
      "192.0.2.23",
      "192.0.2.12",
    ]);
    expect(config.hosts[1]?.ports).toEqual({ datastore: 5432 });
    expect(config.ports).toEqual({
      broker: 8443,
      msgserver: 61614,
      datastore: 15432,
      nameserver: 10053,
      nodeHttp: 80,
      nodeHttps: 443,
      nodeSsh: 2222,
    });
    expect(config.bus).toEqual({ tls: true });
    expect(config.certificate).toEqual({ source: "provided" });
    expect(config.hosts[0]?.connection).toEqual({
      type: "ssh",
      address: "192.0.2.10",
      port: 22,
      user: "root",
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGc9Sk1MEVoMLHRB1mjEMpSBst3Mwa+BAhsrCePKaJuf",
      perDialTimeout: 15,
      dialErrorLimit: 10,
    });
    expect(config.hosts[1]?.connection).toMatchObject({
      port: 2222,
      user: "deploy",
      perDialTimeout: 30,
      dialErrorLimit: -1,
    });
    expect(config.districts).toEqual([
      { name: "small-1", profile: "small", uidRange: { min: 1000, max: 6999 }, nodes: ["node1", "node2"] },
      { name: "large-1", profile: "large", uidRange: { min: 7000, max: 7999 }, nodes: ["node3"] },
      { name: "medium-1", profile: "medium", uidRange: { min: 10000, max: 10999 }, nodes: [] },
    ]);
    expect(config.apps).toEqual([
      {
        name: "shop",
        domain: "team1",
        webCartridge: "nodejs-20",
        cartridges: ["postgresql-15"],
        gearProfile: "large",
        env: { SHOP_MODE: "demo" },
        source: "quickstarts/guestbook",
      },
      {
        name: "docs",
        domain: "team1",
        webCartridge: "static-1.0",
        cartridges: [],
        gearProfile: "small",
        env: {},
      },
    ]);
  });

  it("does not mutate its input and returns a frozen value", () => {
    const raw = fixture("full");
    const before = structuredClone(raw);
    const config = validatePlatformConfig(raw);
    expect(raw).toEqual(before);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.hosts[0]?.connection)).toBe(true);
  });

  it("accepts host names as addresses and uppercase letters in them", () => {
    const raw = fixture("full");
    raw.hosts[2].connection.address = "Node1.Example.com";
    raw.hosts[2].address = "192.0.2.21";
    raw.hosts[3].connection.address = "localhost";
    raw.hosts[3].address = "192.0.2.22";
    expect(() => validatePlatformConfig(raw)).not.toThrow();
  });

  it("accepts several brokers, and roles of one host on distinct ports", () => {
    const raw = fixture("minimal");
    raw.hosts[0].roles = ["msgserver", "datastore", "nameserver"];
    raw.hosts.push(
      {
        name: "b1",
        connection: { type: "ssh", address: "192.0.2.31", hostKey: KEY },
        roles: ["broker", "node"],
      },
      { name: "b2", connection: { type: "ssh", address: "192.0.2.32", hostKey: KEY }, roles: ["broker"] },
    );
    raw.hosts[0].address = "192.0.2.30";
    raw.bus = { tls: true };
    raw.districts[0].nodes = ["b1"];
    const config = validatePlatformConfig(raw);
    expect(config.hosts.filter((h) => h.roles.includes("broker")).map((h) => h.name)).toEqual(["b1", "b2"]);
    expect(config.hosts.map((h) => h.address)).toEqual(["192.0.2.30", "192.0.2.31", "192.0.2.32"]);
  });
});

type Case = [title: string, mutate: (raw: Raw) => void, paths: string[]];

// Cases built on the minimal fixture (one local host carrying every role).
const minimalCases: Case[] = [
  ["missing domain", (r) => delete r.domain, [`${P}.domain`]],
  ["domain with one label", (r) => (r.domain = "localhost"), [`${P}.domain`]],
  ["domain in uppercase with a trailing dot", (r) => (r.domain = "Apps.Example.com."), [`${P}.domain`]],
  [
    "host name with shell metacharacters (the district names it no more)",
    (r) => (r.hosts[0].name = "a;rm -rf /"),
    [`${P}.hosts[0].name`, `${P}.districts[0].nodes[0]`],
  ],
  ["unknown role", (r) => r.hosts[0].roles.push("webserver"), [`${P}.hosts[0].roles[5]`]],
  ["duplicate role", (r) => r.hosts[0].roles.push("node"), [`${P}.hosts[0].roles`]],
  ["no hosts", (r) => (r.hosts = []), [`${P}.hosts`, `${P}.districts[0].nodes[0]`]],
  ["unknown top-level field", (r) => (r.domian = "x"), [`${P}.domian`]],
  [
    "unknown field on a local connection",
    (r) => (r.hosts[0].connection.address = "10.0.0.1"),
    [`${P}.hosts[0].connection.address`],
  ],
  [
    "unknown connection type",
    (r) => (r.hosts[0].connection = { type: "telnet" }),
    [`${P}.hosts[0].connection.type`],
  ],
  ["connection without type", (r) => (r.hosts[0].connection = {}), [`${P}.hosts[0].connection.type`]],
  ["no broker", (r) => (r.hosts[0].roles = ["msgserver", "datastore", "nameserver", "node"]), [`${P}.hosts`]],
  [
    "two local hosts (the second is taken for another machine: the bus is used across hosts)",
    (r) => r.hosts.push({ name: "other", connection: { type: "local" }, roles: ["node"] }),
    [`${P}.hosts[1].connection.type`, `${P}.hosts[0].address`, `${P}.bus.tls`, `${P}.hosts[1].roles`],
  ],
  [
    "no broker and no node",
    (r) => (r.hosts[0].roles = ["msgserver", "datastore", "nameserver"]),
    [`${P}.hosts`, `${P}.hosts`, `${P}.districts[0].nodes[0]`],
  ],
  ["two roles on one port of one host", (r) => (r.ports = { datastore: 16163 }), [`${P}.ports.datastore`]],
  [
    "a host's own port clashing with another role",
    (r) => (r.hosts[0].ports = { nodeHttp: 18080 }),
    [`${P}.hosts[0].ports.nodeHttp`],
  ],
  ["a privileged port for the datastore", (r) => (r.ports = { datastore: 543 }), [`${P}.ports.datastore`]],
  ["an unknown port role", (r) => (r.ports = { web: 8080 }), [`${P}.ports.web`]],
  ["a host address that is not IPv4", (r) => (r.hosts[0].address = "localhost"), [`${P}.hosts[0].address`]],
  ["an unknown certificate source", (r) => (r.certificate = { source: "acme" }), [`${P}.certificate.source`]],
  ["bus tls not a boolean", (r) => (r.bus = { tls: "yes" }), [`${P}.bus.tls`]],
];

// Cases built on the full fixture (five ssh hosts, three districts).
const fullCases: Case[] = [
  ["duplicate host names", (r) => (r.hosts[1].name = "broker1"), [`${P}.hosts[1].name`]],
  ["ssh without hostKey", (r) => delete r.hosts[2].connection.hostKey, [`${P}.hosts[2].connection.hostKey`]],
  ["ssh without address", (r) => delete r.hosts[0].connection.address, [`${P}.hosts[0].connection.address`]],
  ["port 70000", (r) => (r.hosts[1].connection.port = 70000), [`${P}.hosts[1].connection.port`]],
  ["port as a string", (r) => (r.hosts[1].connection.port = "22"), [`${P}.hosts[1].connection.port`]],
  [
    "hostKey pasted from ssh-keyscan with the host name",
    (r) => (r.hosts[0].connection.hostKey = `192.0.2.10 ${r.hosts[0].connection.hostKey}`),
    [`${P}.hosts[0].connection.hostKey`],
  ],
  [
    "hostKey whose data is of another type",
    (r) => (r.hosts[0].connection.hostKey = r.hosts[0].connection.hostKey.replace("ssh-ed25519", "ssh-rsa")),
    [`${P}.hosts[0].connection.hostKey`],
  ],
  [
    "hostKey truncated",
    (r) => (r.hosts[0].connection.hostKey = r.hosts[0].connection.hostKey.slice(0, -5)),
    [`${P}.hosts[0].connection.hostKey`],
  ],
  [
    "bad address",
    (r) => (r.hosts[2].connection.address = "192.0.2.300"),
    [`${P}.hosts[2].connection.address`],
  ],
  ["bad user", (r) => (r.hosts[2].connection.user = "root; id"), [`${P}.hosts[2].connection.user`]],
  [
    "password in an ssh connection",
    (r) => (r.hosts[0].connection.password = "x"),
    [`${P}.hosts[0].connection.password`],
  ],
  [
    "two hosts on one endpoint (and so their listeners on one address)",
    (r) => (r.hosts[3].connection.address = "192.0.2.21"),
    [`${P}.hosts[3].connection.address`, `${P}.ports.nodeHttp`, `${P}.ports.nodeHttps`, `${P}.ports.nodeSsh`],
  ],
  [
    "an ssh host reached by DNS name without an address",
    (r) => delete r.hosts[1].address,
    [`${P}.hosts[1].address`],
  ],
  ["the bus used across hosts without TLS", (r) => (r.bus.tls = false), [`${P}.bus.tls`]],
  [
    "a datastore used across hosts on a loopback address",
    (r) => (r.hosts[1].address = "127.0.0.1"),
    [`${P}.hosts[1].address`],
  ],
  [
    "the gear git sshd on the port the stack connects to",
    (r) => (r.ports.nodeSsh = 22),
    [`${P}.ports.nodeSsh`, `${P}.ports.nodeSsh`, `${P}.ports.nodeSsh`], // one per node host
  ],
  [
    "two hosts listening on one address and port",
    (r) => (r.hosts[5].address = "192.0.2.10"),
    [`${P}.ports.broker`],
  ],
  ["two msgservers", (r) => r.hosts[2].roles.push("msgserver"), [`${P}.hosts`]],
  [
    "no node host",
    (r) => {
      r.hosts = r.hosts.slice(0, 2);
      r.districts = [];
    },
    [`${P}.hosts`, `${P}.apps[0].gearProfile`, `${P}.apps[1].gearProfile`],
  ],
  [
    "district referencing an unknown host",
    (r) => r.districts[0].nodes.push("node9"),
    [`${P}.districts[0].nodes[2]`],
  ],
  [
    "district referencing a non-node host",
    (r) => r.districts[0].nodes.push("broker1"),
    [`${P}.districts[0].nodes[2]`],
  ],
  ["node in two districts", (r) => (r.districts[2].nodes = ["node1"]), [`${P}.districts[2].nodes[0]`]],
  ["duplicate district names", (r) => (r.districts[2].name = "small-1"), [`${P}.districts[2].name`]],
  [
    "unknown profile (and so no district of small for an app)",
    (r) => (r.districts[0].profile = "xlarge"),
    [`${P}.districts[0].profile`, `${P}.apps[1].gearProfile`],
  ],
  [
    "overlapping uid ranges",
    (r) => (r.districts[1].uidRange = { min: 6000, max: 7999 }),
    [`${P}.districts[1].uidRange`],
  ],
  [
    "uid range starting at another district's max (ranges share an endpoint)",
    (r) => (r.districts[1].uidRange = { min: 6999, max: 7999 }),
    [`${P}.districts[1].uidRange`],
  ],
  [
    "uid range ending at another district's min (ranges share an endpoint)",
    (r) => (r.districts[2].uidRange = { min: 500, max: 1000 }),
    [`${P}.districts[2].uidRange`],
  ],
  [
    "uid range inside another district's",
    (r) => (r.districts[2].uidRange = { min: 2000, max: 3000 }),
    [`${P}.districts[2].uidRange`],
  ],
  [
    "uid range with min > max",
    (r) => (r.districts[0].uidRange = { min: 6999, max: 1000 }),
    [`${P}.districts[0].uidRange`],
  ],
  [
    "uid range with min = max",
    (r) => (r.districts[0].uidRange = { min: 1000, max: 1000 }),
    [`${P}.districts[0].uidRange`],
  ],
  [
    "uid outside 500..523776",
    (r) => (r.districts[0].uidRange = { min: 100, max: 600000 }),
    [`${P}.districts[0].uidRange.min`, `${P}.districts[0].uidRange.max`],
  ],
  ["uid range without max", (r) => delete r.districts[0].uidRange.max, [`${P}.districts[0].uidRange.max`]],
  ["an app without a name", (r) => delete r.apps[0].name, [`${P}.apps[0].name`]],
  [
    "an app name with a hyphen (the broker's rule)",
    (r) => (r.apps[0].name = "my-shop"),
    [`${P}.apps[0].name`],
  ],
  ["an app name in uppercase", (r) => (r.apps[1].name = "Docs"), [`${P}.apps[1].name`]],
  ["an app without a domain", (r) => delete r.apps[1].domain, [`${P}.apps[1].domain`]],
  ["a domain longer than 16", (r) => (r.apps[0].domain = "a".repeat(17)), [`${P}.apps[0].domain`]],
  ["an app without a web cartridge", (r) => delete r.apps[0].webCartridge, [`${P}.apps[0].webCartridge`]],
  [
    "a web cartridge without a version",
    (r) => (r.apps[0].webCartridge = "nodejs"),
    [`${P}.apps[0].webCartridge`],
  ],
  [
    "an embedded cartridge with shell characters",
    (r) => (r.apps[0].cartridges = ["postgresql-15; id"]),
    [`${P}.apps[0].cartridges[0]`],
  ],
  [
    "an embedded cartridge twice",
    (r) => r.apps[0].cartridges.push("postgresql-15"),
    [`${P}.apps[0].cartridges`],
  ],
  [
    "the web cartridge embedded too",
    (r) => r.apps[0].cartridges.push("nodejs-20"),
    [`${P}.apps[0].cartridges`],
  ],
  ["an unknown gear profile", (r) => (r.apps[0].gearProfile = "huge"), [`${P}.apps[0].gearProfile`]],
  [
    "a gear profile only a district without nodes offers",
    (r) => (r.apps[0].gearProfile = "medium"),
    [`${P}.apps[0].gearProfile`],
  ],
  ["a variable name with a dot", (r) => (r.apps[0].env = { "A.B": "x" }), [`${P}.apps[0].env`]],
  ["a variable that is not a string", (r) => (r.apps[0].env = { PORT: 80 }), [`${P}.apps[0].env.PORT`]],
  ["an absolute source", (r) => (r.apps[0].source = "/etc"), [`${P}.apps[0].source`]],
  ["a source leaving the project", (r) => (r.apps[0].source = "quickstarts/../.."), [`${P}.apps[0].source`]],
  ["an unknown app field", (r) => (r.apps[0].replicas = 2), [`${P}.apps[0].replicas`]],
  ["two apps of one name in one domain", (r) => (r.apps[1].name = "shop"), [`${P}.apps[1].name`]],
  [
    "several problems at once, all reported",
    (r) => {
      delete r.domain;
      r.hosts[0].name = "Broker 1";
      r.hosts[1].connection.port = 0;
      delete r.hosts[2].connection.hostKey;
      r.hosts[4].name = "node2";
      r.hosts[3].extra = true;
      r.districts[1].uidRange.min = 6000;
      r.districts[2].uidRange = { min: 100, max: 8000 };
      r.districts.push({ name: "small-2", profile: "small", uidRange: { min: 20000, max: 19000 } });
    },
    [
      `${P}.domain`,
      `${P}.hosts[0].name`,
      `${P}.hosts[1].connection.port`,
      `${P}.hosts[2].connection.hostKey`,
      `${P}.hosts[3].extra`,
      `${P}.districts[2].uidRange.min`,
      `${P}.hosts[4].name`,
      `${P}.districts[1].nodes[0]`,
      `${P}.districts[1].uidRange`,
      `${P}.districts[3].uidRange`,
    ],
  ],
];

describe("validatePlatformConfig: invalid configs report exactly the expected paths", () => {
  it("rejects a value that is not an object", () => {
    expect(problemsOf("domain: x").map((p) => p.path)).toEqual([P]);
    expect(problemsOf(null).map((p) => p.path)).toEqual([P]);
  });

  it.each(minimalCases)("minimal + %s", (_title, mutate, paths) => {
    const raw = fixture("minimal");
    mutate(raw);
    expect(problemsOf(raw).map((p) => p.path)).toEqual(paths);
  });

  it.each(fullCases)("full + %s", (_title, mutate, paths) => {
    const raw = fixture("full");
    mutate(raw);
    expect(problemsOf(raw).map((p) => p.path)).toEqual(paths);
  });
});

describe("the bad topologies of issue #11, all in one config", () => {
  it("lists each problem with its field in one ConfigError", () => {
    const raw = fixture("full");
    raw.hosts[0].roles = ["nameserver"]; // broker1 is no broker any more …
    raw.hosts[5].roles = ["node"]; // … nor is broker2: no broker at all, and broker2 is a node in no district
    raw.districts[2].nodes = ["node1"]; // node1 is in small-1 already
    raw.districts[1].profile = "huge";
    raw.hosts[4].name = "Node3";
    raw.hosts[1].ports = { datastore: 61614 }; // the bus's port on the same host
    raw.districts[2].uidRange = { min: 7500, max: 8000 }; // inside large-1
    expect(problemsOf(raw).map((p) => p.path)).toEqual([
      `${P}.hosts[4].name`,
      `${P}.districts[1].profile`,
      `${P}.hosts`,
      `${P}.hosts[1].ports.datastore`,
      `${P}.districts[1].nodes[0]`,
      `${P}.districts[2].nodes[0]`,
      `${P}.hosts[5].roles`,
      `${P}.districts[2].uidRange`,
      `${P}.apps[0].gearProfile`, // no district of large left
    ]);
  });
});

describe("error messages", () => {
  function messageFor(base: "minimal" | "full", mutate: (raw: Raw) => void): string {
    const raw = fixture(base);
    mutate(raw);
    const problems = problemsOf(raw);
    expect(problems).toHaveLength(1);
    return `${problems[0]?.path}: ${problems[0]?.message}`;
  }

  it("says what was expected and what was found, in plain English", () => {
    expect(messageFor("full", (r) => (r.hosts[0].name = "a;rm -rf /"))).toBe(
      `${P}.hosts[0].name: expected a name made of a lowercase letter, then up to 62 lowercase letters, digits or hyphens (e.g. node1) (got "a;rm -rf /")`,
    );
    expect(messageFor("full", (r) => (r.hosts[1].connection.port = 70000))).toBe(
      `${P}.hosts[1].connection.port: expected a TCP port: an integer from 1 to 65535 (got 70000)`,
    );
    expect(messageFor("minimal", (r) => r.hosts[0].roles.push("webserver"))).toBe(
      `${P}.hosts[0].roles[5]: expected one of broker, msgserver, datastore, nameserver, node (got "webserver")`,
    );
  });

  it("names the app's field and says what it must be", () => {
    expect(messageFor("full", (r) => (r.apps[0].name = "my-shop"))).toBe(
      `${P}.apps[0].name: expected an application name: a lowercase letter, then up to 31 lowercase letters or digits (e.g. guestbook) (got "my-shop")`,
    );
    expect(messageFor("full", (r) => (r.apps[0].env = { "A.B": "x" }))).toBe(
      `${P}.apps[0].env: expected a variable name: a letter or underscore, then up to 127 letters, digits or underscores (got "A.B")`,
    );
    expect(messageFor("full", (r) => (r.apps[0].gearProfile = "medium"))).toBe(
      `${P}.apps[0].gearProfile: expected a gear profile a district with nodes offers (small, large), but no such district has medium; add a district of that profile or choose another`,
    );
    expect(messageFor("full", (r) => (r.apps[1].name = "shop"))).toMatch(
      /apps\[1\]\.name: expected a unique application name in its domain, but "shop" in domain "team1" is already apps\[0\]/,
    );
  });

  it("names the fix", () => {
    expect(messageFor("full", (r) => delete r.hosts[2].connection.hostKey)).toMatch(
      /: missing; expected .*ssh-keyscan/,
    );
    expect(messageFor("full", (r) => (r.hosts[0].connection.password = "x"))).toBe(
      `${P}.hosts[0].connection.password: unknown field; remove it or fix its spelling (allowed here: type, address, port, user, hostKey, perDialTimeout, dialErrorLimit)`,
    );
    expect(messageFor("full", (r) => r.districts[0].nodes.push("broker1"))).toBe(
      `${P}.districts[0].nodes[2]: expected a host with role node, but host "broker1" does not have it; add "node" to hosts[0].roles or remove "broker1" from this district`,
    );
    expect(messageFor("full", (r) => r.districts[0].nodes.push("node9"))).toBe(
      `${P}.districts[0].nodes[2]: expected the name of a host with role node (node1, node2, node3), but there is no host "node9"`,
    );
    expect(messageFor("full", (r) => (r.districts[1].uidRange = { min: 6000, max: 7999 }))).toBe(
      `${P}.districts[1].uidRange: expected a UID range that overlaps no other district, but 6000..7999 overlaps districts[0] (1000..6999); choose a range outside it`,
    );
    // bounds are inclusive: two ranges sharing one UID overlap
    expect(
      messageFor("full", (r) => {
        r.districts[0].uidRange = { min: 2000, max: 3000 };
        r.districts[1].uidRange = { min: 3000, max: 4000 };
      }),
    ).toBe(
      `${P}.districts[1].uidRange: expected a UID range that overlaps no other district, but 3000..4000 overlaps districts[0] (2000..3000); choose a range outside it`,
    );
    expect(
      messageFor("minimal", (r) => (r.hosts[0].roles = ["msgserver", "datastore", "nameserver", "node"])),
    ).toBe(
      `${P}.hosts: expected at least one host with role broker, but none has it; add "broker" to the roles of a host`,
    );
    expect(messageFor("minimal", (r) => (r.ports = { datastore: 16163 }))).toBe(
      `${P}.ports.datastore: expected a port no other listener uses, but msgserver of host "local" and datastore of host "local" both listen on 127.0.0.1:16163; give one of them another port`,
    );
    expect(messageFor("full", (r) => (r.bus.tls = false))).toBe(
      `${P}.bus.tls: expected true, since the bus on host "infra1" is used from broker1, node1, node2, node3, broker2 (across hosts the bus is reached over TLS only); set bus.tls: true`,
    );
    expect(messageFor("full", (r) => (r.hosts[1].address = "127.0.0.1"))).toBe(
      `${P}.hosts[1].address: expected an address the other hosts can reach, but this host listens on 127.0.0.1 and is used across hosts (msgserver from broker1, node1, node2, node3, broker2; datastore from broker1, broker2); set its address to one of its network addresses`,
    );
  });

  it("lists every problem in the ConfigError message, one per line", () => {
    const raw = fixture("full");
    delete raw.domain;
    raw.hosts[1].connection.port = 70000;
    expect(() => validatePlatformConfig(raw)).toThrow(ConfigError);
    try {
      validatePlatformConfig(raw);
    } catch (err) {
      const lines = (err as Error).message.split("\n");
      expect(lines[0]).toBe(`Invalid stack config ${P} (2 problems):`);
      expect(lines.slice(1)).toEqual([
        expect.stringMatching(/^ {2}- geartrain:platform\.domain: missing; expected a lowercase DNS name/),
        expect.stringMatching(/^ {2}- geartrain:platform\.hosts\[1\]\.connection\.port: expected a TCP port/),
      ]);
    }
  });
});

describe("schema and TypeScript types stay in sync", () => {
  type Schema = { properties?: Record<string, unknown>; enum?: unknown[]; [key: string]: unknown };
  const defs = platformSchema.$defs as Record<string, Schema>;
  const fieldsOf = (schema: Schema) => Object.keys(schema.properties ?? {}).sort();

  // Record<keyof T, true> literals fail to compile when a field is added to or removed from T.
  const platformFields: Record<keyof PlatformConfig, true> = {
    apps: true,
    domain: true,
    hosts: true,
    ports: true,
    bus: true,
    certificate: true,
    districts: true,
  };
  const hostFields: Record<keyof HostConfig, true> = {
    name: true,
    connection: true,
    address: true,
    roles: true,
    ports: true,
  };
  const portFields: Record<keyof PortsConfig, true> = {
    broker: true,
    msgserver: true,
    datastore: true,
    nameserver: true,
    nodeHttp: true,
    nodeHttps: true,
    nodeSsh: true,
  };
  const busFields: Record<keyof BusConfig, true> = { tls: true };
  const certificateFields: Record<keyof CertificateConfig, true> = { source: true };
  const localFields: Record<keyof LocalConnection, true> = { type: true };
  const sshFields: Record<keyof SshConnection, true> = {
    type: true,
    address: true,
    port: true,
    user: true,
    hostKey: true,
    perDialTimeout: true,
    dialErrorLimit: true,
  };
  const districtFields: Record<keyof DistrictConfig, true> = {
    name: true,
    profile: true,
    uidRange: true,
    nodes: true,
  };
  const uidRangeFields: Record<keyof UidRange, true> = { min: true, max: true };
  const appFields: Record<keyof AppConfig, true> = {
    name: true,
    domain: true,
    webCartridge: true,
    cartridges: true,
    gearProfile: true,
    env: true,
    source: true,
  };
  const connectionTypes: Record<HostConnection["type"], true> = { local: true, ssh: true };

  it.each([
    ["platform", platformSchema as Schema, platformFields],
    ["host", defs.host!, hostFields],
    ["localConnection", defs.localConnection!, localFields],
    ["sshConnection", defs.sshConnection!, sshFields],
    ["district", defs.district!, districtFields],
    ["uidRange", defs.uidRange!, uidRangeFields],
    ["app", defs.app!, appFields],
    ["ports", defs.ports!, portFields],
    ["portOverrides", defs.portOverrides!, portFields],
    ["bus", defs.bus!, busFields],
    ["certificate", defs.certificate!, certificateFields],
  ])("%s has the same fields in schema and type", (_name, schema, fields) => {
    expect(fieldsOf(schema)).toEqual(Object.keys(fields).sort());
  });

  it("enums match", () => {
    expect(defs.role!.enum).toEqual([...HOST_ROLES]);
    expect((defs.district!.properties!.profile as Schema).enum).toEqual([...GEAR_PROFILES]);
    expect((defs.app!.properties!.gearProfile as Schema).enum).toEqual([...GEAR_PROFILES]);
    expect((defs.certificate!.properties!.source as Schema).enum).toEqual([...CERTIFICATE_SOURCES]);
    expect(Object.keys(defs.ports!.properties!)).toEqual([...PORT_ROLES]);
    expect(((defs.connection!.properties as Record<string, Schema>).type!.enum ?? []).slice().sort()).toEqual(
      Object.keys(connectionTypes).sort(),
    );
  });

  it("every object is closed and every field is described", () => {
    const missing: string[] = [];
    const walk = (schema: Schema, where: string) => {
      if (schema.properties) {
        // The discriminated connection is closed by its branches (each has additionalProperties: false).
        if (schema.additionalProperties !== false && !schema.oneOf)
          missing.push(`${where}: additionalProperties`);
        for (const [field, child] of Object.entries(schema.properties as Record<string, Schema>)) {
          const target =
            typeof child.$ref === "string" ? defs[child.$ref.replace("#/$defs/", "")] : undefined;
          if (typeof child.description !== "string" && typeof target?.description !== "string")
            missing.push(`${where}.${field}: description`);
          walk(child, `${where}.${field}`);
        }
      }
      if (schema.items) walk(schema.items as Schema, `${where}[]`);
    };
    walk(platformSchema as Schema, "platform");
    for (const [name, def] of Object.entries(defs)) {
      if (typeof def.description !== "string") missing.push(`$defs.${name}: description`);
      walk(def, `$defs.${name}`);
    }
    expect(missing).toEqual([]);
  });
});

describe("loadPlatformConfig", () => {
  // Reads the topology as the Pulumi program does; the runtime config map needs no engine.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
  const { loadPlatformConfig, platformFileOf } =
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("../../../stacks/config") as typeof import("../../../stacks/config");

  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "gt-platform-"));
    fs.mkdirSync(path.join(root, "platforms"));
    fs.mkdirSync(path.join(root, "quickstarts/guestbook"), { recursive: true }); // the full fixture's app source
  });
  afterEach(() => {
    pulumi.runtime.setAllConfig({});
    fs.rmSync(root, { recursive: true, force: true });
  });

  const load = (stack = "dev") =>
    loadPlatformConfig({ rootDirectory: root, stack, config: new pulumi.Config("geartrain") });
  const writePlatform = (stack: string, raw: unknown) =>
    fs.writeFileSync(path.join(root, "platforms", `${stack}.yaml`), YAML.stringify(raw));
  function errorOf(fn: () => unknown): Error {
    try {
      fn();
    } catch (err) {
      expect(pulumi.RunError.isInstance(err)).toBe(true);
      return err as Error;
    }
    throw new Error("expected a RunError");
  }

  it("reads the tracked platforms/<stack>.yaml of the stack", () => {
    writePlatform("dev", fixture("full"));
    writePlatform("stage", fixture("minimal"));
    expect(load("dev").hosts).toHaveLength(6);
    expect(load("stage").districts).toHaveLength(1);
  });

  it("reads the project's own dev topology", () => {
    const dev = loadPlatformConfig({
      rootDirectory: path.join(__dirname, "../../.."),
      stack: "dev",
      config: new pulumi.Config("geartrain"),
    });
    expect(dev.hosts.map((h) => h.connection.type)).toEqual(["local"]);
  });

  it("lays geartrain:ports over the topology's ports, validated with it", () => {
    writePlatform("dev", fixture("minimal"));
    const before = load("dev").ports;
    pulumi.runtime.setAllConfig({ "geartrain:ports": JSON.stringify({ broker: 28080, nodeSsh: 28022 }) });
    const after = load("dev").ports;
    expect(after).toEqual({ ...before, broker: 28080, nodeSsh: 28022 });
    pulumi.runtime.setAllConfig({ "geartrain:ports": JSON.stringify({ broker: 0 }) });
    expect(errorOf(() => load("dev")).message).toMatch(/ports\.broker/);
    pulumi.runtime.setAllConfig({ "geartrain:ports": JSON.stringify([1]) });
    expect(errorOf(() => load("dev")).message).toMatch(/geartrain:ports must be an object/);
  });

  it("lays geartrain:uidRanges over the named districts' UID ranges, validated with them", () => {
    writePlatform("dev", fixture("minimal"));
    const [district] = load("dev").districts;
    const set = (ranges: unknown) =>
      pulumi.runtime.setAllConfig({ "geartrain:uidRanges": JSON.stringify(ranges) });
    set({ [district!.name]: { min: 60600, max: 60649 } });
    expect(load("dev").districts[0]).toEqual({ ...district, uidRange: { min: 60600, max: 60649 } });
    set({ [district!.name]: { min: 60649, max: 60600 } });
    expect(errorOf(() => load("dev")).message).toMatch(/districts\[0\]\.uidRange/);
    set({ nosuch: { min: 60600, max: 60649 } });
    expect(errorOf(() => load("dev")).message).toMatch(
      /^geartrain:uidRanges\.nosuch: no district of the topology has that name/,
    );
    set([{ min: 1 }]);
    expect(errorOf(() => load("dev")).message).toMatch(/geartrain:uidRanges must be an object/);
    set({ [district!.name]: 5 });
    expect(errorOf(() => load("dev")).message).toMatch(/geartrain:uidRanges must be an object/);
  });

  it("falls back to geartrain:platform in the stack config when there is no tracked file", () => {
    pulumi.runtime.setAllConfig({ [P]: JSON.stringify(fixture("minimal")) });
    expect(load("sandbox-1").domain).toBe("apps.dev.geartrain.test");
  });

  it("refuses a topology defined in both places", () => {
    writePlatform("dev", fixture("minimal"));
    pulumi.runtime.setAllConfig({ [P]: JSON.stringify(fixture("minimal")) });
    expect(errorOf(load).message).toMatch(/platforms\/dev\.yaml.*pulumi config rm geartrain:platform/);
  });

  it("fails with the fix when there is no topology at all", () => {
    expect(errorOf(() => load("stage")).message).toMatch(
      /stack stage has no topology: create platforms\/stage\.yaml/,
    );
  });

  it("fails with a RunError listing every problem and the file it read", () => {
    const raw = fixture("minimal");
    delete raw.domain;
    raw.hosts[0].name = "Local";
    writePlatform("dev", raw);
    const message = errorOf(load).message;
    expect(message).toContain(`${P}.domain: missing`);
    expect(message).toContain(`${P}.hosts[0].name: expected a name`);
    expect(message).toContain("(read from platforms/dev.yaml)");
  });

  it("refuses an app source that is no directory of the project, naming the field", () => {
    const app = { name: "web", domain: "demo", webCartridge: "nodejs-20" };
    fs.mkdirSync(path.join(root, "apps/web"), { recursive: true });
    fs.writeFileSync(path.join(root, "apps/file"), "x");
    fs.symlinkSync(os.tmpdir(), path.join(root, "apps/out"));
    const sources = ["apps/web", "apps/missing", "apps/file", "apps/out"];
    writePlatform("dev", {
      ...fixture("minimal"),
      apps: sources.map((source, i) => ({ ...app, name: `web${i}`, source })),
    });
    const message = errorOf(() => load("dev")).message;
    expect(message).not.toContain("apps[0]");
    expect(message).toContain(
      `${P}.apps[1].source: expected a directory of the project, but apps/missing does not exist`,
    );
    expect(message).toContain(
      `${P}.apps[2].source: expected a directory of the project, but apps/file is no directory`,
    );
    expect(message).toContain(
      `${P}.apps[3].source: expected a directory inside the project, but apps/out leads out of it`,
    );
    writePlatform("dev", { ...fixture("minimal"), apps: [{ ...app, source: "apps/web" }] });
    expect(load("dev").apps[0]?.source).toBe("apps/web");
  });

  it("names the file that is not YAML", () => {
    fs.writeFileSync(path.join(root, "platforms/dev.yaml"), "hosts: [\n");
    expect(errorOf(load).message).toMatch(/^platforms\/dev\.yaml is not valid YAML/);
  });

  it("never turns a stack name into a path outside platforms/", () => {
    expect(platformFileOf("dev")).toBe("platforms/dev.yaml");
    for (const bad of ["../dev", "a/b", ".hidden", ""]) {
      expect(() => platformFileOf(bad)).toThrow(/unexpected stack name/);
    }
  });
});

describe("gear profiles", () => {
  test("the node config defines limits for exactly the profiles a district can name", () => {
    expect(Object.keys(DEFAULT_PROFILES).sort()).toEqual([...GEAR_PROFILES].sort());
  });
});
