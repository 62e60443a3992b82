// The Platform component under the mocked engine on several hosts (a local one with the bus, the broker and
// the node; an SSH one with the datastore and the nameserver): every component built where the plan puts
// it, each child named after and parented to its component, no secret in a plain input, the outputs; and
// the arguments it refuses, naming the field (the stage topology among them: its bus is used across hosts,
// over TLS, which the brokers and agents cannot speak yet).
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { recordResources, RegisteredResource, valueOf } from "../../../helpers/pulumi-mocks";
import type { GeneratedCertificate } from "../../../../components/certificate/generate";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SSH_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nSSHKEYSECRETxxxxxxxx\n-----END OPENSSH PRIVATE KEY-----";
/** The provided certificate's key (a real one, made in beforeAll: NodeHost checks the pair). */
let TLS_KEY = "";
const FACTS = JSON.stringify({
  kernel: "Linux 6.1",
  os: "debian 12",
  cgroup: "v2",
  selinux: "unavailable",
  systemd: false,
});
const generated = (name: string) =>
  Buffer.from(`GENSECRET:${name}:`.padEnd(32, "x").slice(0, 32)).toString("base64");
/** What the mocked GeneratedCertificate returns: a real certificate and key, made at test time. */
let made: GeneratedCertificate;
const resources = recordResources((r) => {
  if (r.name.endsWith("-facts")) return { stdout: FACTS, stderr: "" };
  if (r.type.endsWith("GeneratedCertificate")) return { ...made };
  if (r.type.endsWith("GeneratedSecret")) return { value: generated(r.name) };
  return { stdout: "", stderr: "" };
});

import type * as PlatformModule from "../../../../components/platform";
import { validatePlatformConfig, type PlatformConfig } from "../../../../stacks/validate";

function plainText(value: unknown): string {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === "object") {
      if ((v as Record<string, unknown>)[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270")
        return "[secret]";
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, strip(x)]));
    }
    return v;
  };
  return JSON.stringify(strip(value));
}

const stage: PlatformConfig = validatePlatformConfig(
  YAML.parse(fs.readFileSync(path.join(__dirname, "../../../../platforms/stage.yaml"), "utf8")),
);
/**
 * Several hosts the Platform can deploy today: the brokers and agents speak plain STOMP only, so they share
 * the bus's host (loopback); the datastore and the nameserver are on an SSH host of their own.
 */
const plainBus: PlatformConfig = validatePlatformConfig({
  domain: "apps.stage.geartrain.test",
  hosts: [
    { name: "infra", connection: { type: "local" }, roles: ["msgserver", "broker", "node"] },
    {
      name: "db",
      connection: {
        type: "ssh",
        address: "198.18.0.2",
        hostKey: stage.hosts[1]!.connection.type === "ssh" ? stage.hosts[1]!.connection.hostKey : "",
      },
      roles: ["datastore", "nameserver"],
    },
  ],
  certificate: { source: "provided" },
  districts: [
    { name: "stage-small", profile: "small", uidRange: { min: 1000, max: 6999 }, nodes: ["infra"] },
  ],
});
const release = {
  node: "/usr/local/bin/node",
  entry: "/opt/geartrain/current/bin/geartrain",
  version: "t",
  dependsOn: [],
};
/** The stack's provided certificate and key (`certificate: {source: provided}`), made in beforeAll. */
const certificate = {
  certificate: "",
  privateKey: pulumi.output(""),
};
beforeAll(async () => {
  const { generateSelfSignedCertificate } = await import("../../../../components/certificate/generate");
  const { resolveSelfSignedCertificate } = await import("../../../../components/certificate");
  const provided = await generateSelfSignedCertificate(
    resolveSelfSignedCertificate({ domain: "apps.stage.geartrain.test" }),
  );
  TLS_KEY = provided.privateKey;
  certificate.certificate = provided.certificate;
  certificate.privateKey = pulumi.secret(TLS_KEY);
});

/** Resolves once no resource has been registered for half a second. */
async function settled(): Promise<void> {
  for (let count = -1; count !== resources.length;) {
    count = resources.length;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe("Platform on several hosts", () => {
  let platform: typeof PlatformModule;
  let built: PlatformModule.Platform;
  beforeAll(async () => {
    platform = await import("../../../../components/platform");
    const { generateSelfSignedCertificate } = await import("../../../../components/certificate/generate");
    const { resolveSelfSignedCertificate } = await import("../../../../components/certificate");
    made = await generateSelfSignedCertificate(resolveSelfSignedCertificate({ domain: "apps.unit.test" }));
    built = new platform.Platform("gt", {
      topology: plainBus,
      sshPrivateKey: pulumi.secret(SSH_KEY),
      certificate,
      release: () => release,
    });
    await valueOf(built.brokerUrls);
    await valueOf(built.admin);
    await settled();
  }, 60_000);
  // every registration (dynamic providers are serialized asynchronously) done before jest tears down
  afterAll(() => settled(), 60_000);

  const short = (urn: string) => (urn === "" ? "-" : urn.slice(urn.lastIndexOf("::") + 2));
  const mine = () => resources.filter((r) => r.name === "gt" || r.name.startsWith("gt-"));

  it("builds each component where the plan puts it", () => {
    expect(
      mine()
        .map((r: RegisteredResource) => `${r.type} ${r.name} < ${short(r.parent)}`)
        .sort(),
    ).toMatchSnapshot();
    const components = mine()
      .filter((r) => r.parent.endsWith("::gt"))
      .map((r) => `${r.type.split(":").pop()} ${r.name}`);
    expect(components.sort()).toEqual(
      [
        "Host gt-infra",
        "Host gt-db",
        "Datastore gt-datastore",
        "MessageBus gt-bus",
        "Dns gt-dns",
        "GeneratedSecret gt-admin-password",
        "Broker gt-broker-infra",
        "District gt-dist-stage-small",
        "NodeHost gt-node-infra",
        "UserData gt-infra-userdata",
        "UserData gt-db-userdata",
      ].sort(),
    );
  });

  it("names every child after its parent component", () => {
    const bad = mine().filter((r) => r.name !== "gt" && !r.name.startsWith(`${short(r.parent)}-`));
    expect(bad.map((r) => `${r.name} < ${short(r.parent)}`)).toEqual([]);
  });

  it("the broker reaches the datastore and DNS on the other host; pg_hba lets in only the broker's host", () => {
    expect(mine().find((r) => r.name === "gt-datastore-cluster")!.type).toBe("command:remote:Command");
    const config = mine().find((r) => r.name === "gt-broker-infra-config")!;
    expect(config.type).toBe("command:local:Command");
    const rendered = JSON.parse(String(config.inputs.stdin));
    expect(rendered.listen).toEqual({ host: "127.0.0.1", port: 18080 });
    // the apps' git URLs name the node's gear git sshd port
    expect(rendered.sshPort).toBe(10022);
    expect(rendered.database).toMatchObject({ host: "198.18.0.2", port: 15432 });
    expect(rendered.bus).toMatchObject({ host: "127.0.0.1", port: 16163, user: "broker" });
    expect(rendered.dns).toMatchObject({
      server: "198.18.0.2",
      port: 10053,
      zone: "apps.stage.geartrain.test",
    });
    const hba = String(mine().find((r) => r.name === "gt-datastore-pg-hba")!.inputs.stdin);
    expect(hba).toContain("127.0.0.1/32");
    expect(hba).not.toContain("198.18.0.2/32");
    const zone = String(mine().find((r) => r.name === "gt-dns-zone-file")!.inputs.stdin);
    expect(zone).toMatch(/^infra\s.*\sA\s+127\.0\.0\.1$/m);
    expect(zone).toMatch(/^db\s.*\sA\s+198\.18\.0\.2$/m);
  });

  it("makes each district through the first broker, on its host, with the topology's profile and UIDs", () => {
    const district = mine().find((r) => r.name === "gt-dist-stage-small-district")!;
    expect(district.type).toBe("command:local:Command");
    const text = JSON.stringify(district.inputs);
    for (const v of ['"GT_DISTRICT":"stage-small"', '"GT_FIRST_UID":"1000"', '"GT_CAPACITY":"6000"'])
      expect(text).toContain(v);
    expect(text).toContain('"GT_SERVER":"http://127.0.0.1:18080"');
    expect(plainText(district.inputs)).not.toContain(generated("gt-admin-password"));
  });

  it("each node host: its district's profile and UIDs, HTTPS with the platform certificate, its own bus user; registered once ready", () => {
    const nodeJson = JSON.parse(
      String(mine().find((r) => r.name === "gt-node-infra-node-json")!.inputs.stdin),
    );
    expect(nodeJson.district).toEqual({ firstUid: 1000, maxUid: 6999 });
    expect(nodeJson.defaultProfile).toBe("small");
    expect(nodeJson.gearBaseDir).toBe("/var/lib/geartrain/gears");
    expect(nodeJson.frontend).toMatchObject({
      listen: "127.0.0.1:10080",
      idleStarter: "127.0.0.1:10099",
      tls: { listen: "127.0.0.1:10443" },
    });
    const agentJson = JSON.parse(
      String(mine().find((r) => r.name === "gt-node-infra-agent-json")!.inputs.stdin),
    );
    expect(agentJson).toMatchObject({ district: "stage-small", profile: "small" });
    expect(JSON.stringify(agentJson)).toContain('"infra"');
    expect(JSON.stringify(agentJson)).toContain("agent-infra");
    const pam = mine().find((r) => r.name === "gt-node-infra-pam")!;
    expect(JSON.stringify(pam.inputs)).toMatch(/\/etc\/pam\.d\/geartrain-infra-fd122fc6-sshd/);
    const cert = mine().find((r) => r.name === "gt-node-infra-tls-certificate")!;
    expect(String(cert.inputs.stdin)).toBe(`${certificate.certificate.trimEnd()}\n`);
    // the node joins its district after its check passed; it starts after the bus and the brokers
    const urn = (name: string) => `::${name}`;
    const member = mine().find((r) => r.name === "gt-dist-stage-small-district")!;
    expect(member.dependencies.some((d) => d.endsWith(urn("gt-node-infra-check")))).toBe(true);
    const prepare = mine().find((r) => r.name === "gt-node-infra-prepare")!;
    for (const after of ["gt-bus-service-daemon", "gt-broker-infra-service-daemon"])
      expect(prepare.dependencies.some((d) => d.endsWith(urn(after)))).toBe(true);
  });

  it("puts no secret value into any plain input", () => {
    const secrets = [
      SSH_KEY,
      TLS_KEY,
      ...mine()
        .filter((r) => r.type.endsWith("GeneratedSecret"))
        .map((r) => generated(r.name)),
    ];
    const leaks = mine().flatMap((r) =>
      secrets.filter((s) => plainText(r.inputs).includes(JSON.stringify(s).slice(1, -1))).map(() => r.name),
    );
    expect(leaks).toEqual([]);
  });

  it("outputs the brokers' URLs, the shared admin (secret), the DNS server and the nodes", async () => {
    expect(Object.values(await valueOf(built.brokerUrls))).toEqual(["http://127.0.0.1:18080"]);
    expect(await pulumi.isSecret(built.admin)).toBe(true);
    expect(await valueOf(built.admin)).toEqual({ login: "admin", password: generated("gt-admin-password") });
    expect(await valueOf(built.dnsServer)).toEqual({
      address: "198.18.0.2",
      port: 10053,
      zone: "apps.stage.geartrain.test",
    });
    const nodes = Object.values(await valueOf(built.nodes));
    expect(nodes.map((n) => `${n.name} ${n.publicHostname} ${n.district}`)).toEqual([
      "infra infra.apps.stage.geartrain.test stage-small",
    ]);
  });

  it.each([
    [
      "a provided certificate missing",
      { topology: plainBus, sshPrivateKey: "k", release: () => release },
      /certificate/,
    ],
    [
      "an ssh host without the private key",
      { topology: plainBus, certificate, release: () => release },
      /private key/,
    ],
  ])("refuses %s", (_title, args, message) => {
    expect(() => new platform.Platform("bad", args as PlatformModule.PlatformArgs)).toThrow(message);
  });

  it("hands on the provided certificate as the platform's, its key secret; generates none", async () => {
    expect(built.selfSignedCertificate).toBeUndefined();
    expect(await valueOf(built.certificate.certificate)).toBe(certificate.certificate);
    expect(await pulumi.isSecret(built.certificate.privateKey)).toBe(true);
    expect(await valueOf(built.certificate.privateKey)).toBe(TLS_KEY);
    expect(mine().filter((r) => r.type.includes("Certificate"))).toEqual([]);
  });

  it("generates a self-signed certificate for *.<domain> and <domain> once, its key secret", async () => {
    const before = resources.length;
    const selfSigned = new platform.Platform("ss", {
      topology: { ...plainBus, certificate: { source: "self-signed" } },
      sshPrivateKey: pulumi.secret(SSH_KEY),
      release: () => release,
    });
    expect(await valueOf(selfSigned.certificate.certificate)).toBe(made.certificate);
    expect(await pulumi.isSecret(selfSigned.certificate.privateKey)).toBe(true);
    expect(await valueOf(selfSigned.certificate.privateKey)).toBe(made.privateKey);
    await settled();
    const mine = resources.slice(before);
    const component = mine.find((r) => r.type === "geartrain:platform:SelfSignedCertificate")!;
    expect(component.name).toBe("ss-certificate");
    expect(component.parent).toMatch(/::ss$/);
    const pair = mine.find((r) => r.parent.endsWith("::ss-certificate"))!;
    expect(pair.name).toBe("ss-certificate-keypair");
    expect(pair.additionalSecretOutputs).toEqual(["privateKey"]);
    expect(pair.inputs).toMatchObject({
      domain: "apps.stage.geartrain.test",
      commonName: "*.apps.stage.geartrain.test",
      dnsNames: ["*.apps.stage.geartrain.test", "apps.stage.geartrain.test"],
    });
    const keyLines = made.privateKey.split("\n").filter((l) => l.length > 40);
    const leaks = mine.filter((r) => keyLines.some((l) => plainText(r.inputs).includes(l)));
    expect(leaks.map((r) => r.name)).toEqual([]);
  }, 60_000);

  it("installs this checkout's release on each host that runs programs unless given one", async () => {
    const before = resources.length;
    new platform.Platform("own", {
      topology: plainBus,
      sshPrivateKey: pulumi.secret(SSH_KEY),
      certificate,
      dataDirectory: "/srv/gt-own",
    });
    await settled();
    const mine = resources.slice(before);
    // brokers and the node are on "infra" (local) only: one Release there, none on "db"
    expect(mine.filter((r) => r.type === "geartrain:platform:Release").map((r) => r.name)).toEqual([
      "own-infra-release",
    ]);
    const installs = mine.filter((r) => r.name === "own-infra-release-install");
    expect(installs).toHaveLength(1);
    // a local host keeps it with the platform's data, not in /opt (several dev stacks on one machine)
    expect(installs[0]!.inputs.directory).toBe("/srv/gt-own/release");
    const broker = mine.find((r) => r.type === "geartrain:platform:Broker")!;
    expect(broker).toBeDefined();
  }, 60_000);
  it("takes one node host's settings over the others' (geartrain:node hosts)", async () => {
    const { generateSelfSignedCertificate } = await import("../../../../components/certificate/generate");
    const { resolveSelfSignedCertificate } = await import("../../../../components/certificate");
    const stageCert = await generateSelfSignedCertificate(
      resolveSelfSignedCertificate({ domain: "apps.stage.geartrain.test" }),
    );
    const before = resources.length;
    new platform.Platform("per", {
      topology: stage,
      sshPrivateKey: pulumi.secret(SSH_KEY),
      // the stage bus and brokers are over TLS: a real certificate for the stage domain
      certificate: { certificate: stageCert.certificate, privateKey: pulumi.secret(stageCert.privateKey) },
      release: () => release,
      node: {
        cgroupRootName: "gt-all",
        gecos: "All gears",
        hosts: { node2: { cgroupRootName: "gt-two", factsIntervalSeconds: 7 } },
      },
    });
    await settled();
    const mine = resources.slice(before);
    const stdin = (name: string) => String(mine.find((r) => r.name === name)!.inputs.stdin);
    const nodeJson = (h: string) => JSON.parse(stdin(`per-node-${h}-node-json`));
    expect([nodeJson("node1").cgroup.rootName, nodeJson("node1").gecos]).toEqual(["gt-all", "All gears"]);
    expect([nodeJson("node2").cgroup.rootName, nodeJson("node2").gecos]).toEqual(["gt-two", "All gears"]);
    const facts = (h: string) => JSON.parse(stdin(`per-node-${h}-agent-json`)).factsIntervalMs;
    expect([facts("node1"), facts("node2")]).toEqual([30000, 7000]);
  }, 60_000);

  it("refuses node settings of a host that is no node host, or one host's idlePort", () => {
    const args = {
      topology: stage,
      sshPrivateKey: pulumi.secret(SSH_KEY),
      certificate,
      release: () => release,
    };
    expect(() => new platform.Platform("bad1", { ...args, node: { hosts: { broker1: {} } } })).toThrow(
      /node\.hosts\.broker1: "broker1" is no host with role node/,
    );
    expect(
      () =>
        new platform.Platform("bad2", { ...args, node: { hosts: { node1: { idlePort: 10199 } as object } } }),
    ).toThrow(/node\.hosts\.node1\.idlePort: is the platform's/);
    expect(
      () =>
        new platform.Platform("bad3", { ...args, node: { hosts: [] as unknown as Record<string, object> } }),
    ).toThrow(/node\.hosts: must be an object/);
  });
});
