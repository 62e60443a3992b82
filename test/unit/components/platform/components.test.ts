// Datastore, MessageBus and Dns under the mocked engine: every child is named `${component}-<role>` and
// parented to its component, the generated secrets are secret outputs and appear in no plain input, and
// bad arguments fail before any child is declared.
import * as pulumi from "@pulumi/pulumi";
import { recordResources, RegisteredResource, valueOf } from "../../../helpers/pulumi-mocks";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const factsOf = () =>
  JSON.stringify({
    kernel: "Linux 6.1",
    os: "debian 12",
    cgroup: "v2",
    selinux: "unavailable",
    systemd: false,
  });
/** Each GeneratedSecret's mocked value: recognisable, and valid base64 of 32 bytes for the TSIG key. */
const generated = (name: string) =>
  Buffer.from(`GENSECRET:${name}:`.padEnd(32, "x").slice(0, 32)).toString("base64");
const resources = recordResources((r) => {
  if (r.name.endsWith("-facts")) return { stdout: factsOf(), stderr: "" };
  if (r.type.endsWith("GeneratedSecret")) return { value: generated(r.name) };
  return { stdout: "", stderr: "" };
});

import type * as Host from "../../../../components/host";
import type * as Datastore from "../../../../components/datastore";
import type * as MessageBus from "../../../../components/messagebus";
import type * as Dns from "../../../../components/dns";
import type * as Broker from "../../../../components/broker";
import type * as District from "../../../../components/district";

/** The inputs with every secret-wrapped value cut out: what an engine would show and store in plain text. */
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

describe("platform components under the mocked engine", () => {
  let host: typeof Host;
  let ds: typeof Datastore;
  let mb: typeof MessageBus;
  let dns: typeof Dns;
  let br: typeof Broker;
  let dis: typeof District;
  beforeAll(async () => {
    dis = await import("../../../../components/district");
    br = await import("../../../../components/broker");
    host = await import("../../../../components/host");
    ds = await import("../../../../components/datastore");
    mb = await import("../../../../components/messagebus");
    dns = await import("../../../../components/dns");
  });
  beforeEach(() => resources.splice(0));

  const childrenOf = (type: string, name: string): RegisteredResource[] =>
    resources.filter((r) => r.parent.endsWith(`${type}::${name}`));

  function checkChildren(type: string, name: string, roles: string[]) {
    const children = childrenOf(type, name);
    for (const c of children) expect(c.name.startsWith(`${name}-`)).toBe(true);
    expect(children.map((c) => c.name.slice(name.length + 1)).sort()).toEqual([...roles].sort());
    // nothing else claims to be one of its children without being parented to it
    const strays = resources.filter(
      (r) =>
        r.name.startsWith(`${name}-`) && !r.parent.endsWith(`::${name}`) && !r.parent.includes(`::${name}-`),
    );
    expect(strays.map((r) => r.name)).toEqual([]);
  }

  function checkSecrets() {
    const secrets = resources.filter((r) => r.type.endsWith("GeneratedSecret"));
    expect(secrets.length).toBeGreaterThan(0);
    for (const s of secrets) expect(s.additionalSecretOutputs).toContain("value");
    const values = secrets.map((s) => generated(s.name));
    for (const r of resources) {
      const text = plainText(r.inputs);
      for (const v of values)
        expect({ resource: r.name, leaked: text.includes(v) }).toEqual({ resource: r.name, leaked: false });
    }
  }

  it("Datastore: children, outputs, secrets", async () => {
    const local = new host.Host("local", { connection: { type: "local" }, serviceDirectory: "/srv/gt" });
    const db = new ds.Datastore("db", { host: local, directory: "/srv/gt/db", port: 25432 });
    expect(await valueOf(db.port)).toBe(25432);
    expect(await valueOf(db.user)).toBe("geartrain");
    expect(await valueOf(db.host)).toBe("127.0.0.1");
    expect(pulumi.Output.isInstance(db.password)).toBe(true);
    expect(await pulumi.isSecret(db.password)).toBe(true);
    await valueOf(db.service.daemon.urn);
    checkChildren("Datastore", "db", [
      "password",
      "cluster",
      "postgresql-conf",
      "pg-hba",
      "pg-ident",
      "service",
      "database",
    ]);
    expect(childrenOf("Service", "db-service").map((r) => r.name)).toEqual(["db-service-daemon"]);
    const database = resources.find((r) => r.name === "db-database")!;
    expect(database.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout", "stderr"]));
    expect(database.inputs.logging).toBe("none");
    checkSecrets();
  });

  it("MessageBus: one user per role, children, secrets", async () => {
    const local = new host.Host("local2", { connection: { type: "local" }, serviceDirectory: "/srv/gt" });
    const bus = new mb.MessageBus("bus", { host: local, directory: "/srv/gt/bus", nodes: ["n1", "n2"] });
    expect(await valueOf(bus.endpoint)).toBe("stomp://127.0.0.1:16163");
    expect(Object.keys(bus.users).sort()).toEqual(["admin", "agent:n1", "agent:n2", "broker"]);
    expect(bus.users["agent:n1"].name).toBe("agent-n1");
    expect(await pulumi.isSecret(bus.users.broker.password)).toBe(true);
    await valueOf(bus.service.daemon.urn);
    checkChildren("MessageBus", "bus", [
      "password-broker",
      "password-admin",
      "password-agent-n1",
      "password-agent-n2",
      "directory",
      "activemq-xml",
      "log4j",
      "credentials",
      "service",
    ]);
    const credentials = resources.find((r) => r.name === "bus-credentials")!;
    expect(credentials.inputs.logging).toBe("none");
    expect(plainText(credentials.inputs.stdin)).toBe('"[secret]"');
    checkSecrets();
  });

  it("Dns: key, children, secrets", async () => {
    const local = new host.Host("local3", { connection: { type: "local" }, serviceDirectory: "/srv/gt" });
    const d = new dns.Dns("dns", {
      host: local,
      zone: "apps.example.test",
      directory: "/srv/gt/dns",
      hosts: [{ name: "broker.apps.example.test", address: "127.0.0.1" }],
    });
    expect(await valueOf(d.zone)).toBe("apps.example.test");
    expect(await valueOf(d.port)).toBe(10053);
    expect(await valueOf(d.keyName)).toBe("geartrain-update");
    expect(await pulumi.isSecret(d.keySecret)).toBe(true);
    await valueOf(d.service.daemon.urn);
    checkChildren("Dns", "dns", ["tsig-key", "directory", "named-conf", "key-file", "zone-file", "service"]);
    const key = resources.find((r) => r.name === "dns-tsig-key")!;
    expect(key.inputs).toMatchObject({ bytes: 32, encoding: "base64" });
    checkSecrets();
  });

  const release = {
    node: "/usr/bin/node",
    entry: "/opt/geartrain/bin/geartrain",
    version: "1.2.3",
    dependsOn: [],
  };
  const given = {
    db: "GIVEN-db-password-1",
    bus: "GIVEN-bus-password-1",
    key: Buffer.alloc(32, 7).toString("base64"),
  };
  const brokerArgs = (h: InstanceType<typeof Host.Host>) => ({
    host: h,
    release,
    cloudDomain: "apps.example.test",
    datastore: {
      host: "127.0.0.1",
      port: 15432,
      database: "geartrain",
      user: "geartrain",
      password: pulumi.secret(given.db),
    },
    bus: { host: "127.0.0.1", port: 16163, user: "broker", password: pulumi.secret(given.bus) },
    dns: {
      server: "127.0.0.1",
      port: 10053,
      zone: "apps.example.test",
      keyName: "geartrain-update",
      keyAlgorithm: "hmac-sha256",
      keySecret: pulumi.secret(given.key),
    },
  });

  it("Broker: children, outputs, secret files, no secret in a plain input", async () => {
    const local = new host.Host("local5", { connection: { type: "local" }, serviceDirectory: "/srv/gt" });
    const b = new br.Broker("broker", brokerArgs(local));
    expect(await valueOf(b.url)).toBe("http://127.0.0.1:18080");
    expect(await valueOf(b.adminLogin)).toBe("admin");
    expect(await pulumi.isSecret(b.adminPassword)).toBe(true);
    expect(await valueOf(b.adminPassword)).toBe(generated("broker-admin-password"));
    await valueOf(b.service.daemon.urn);
    checkChildren("Broker", "broker", [
      "admin-password",
      "os-user",
      "directory",
      "config",
      "database-password-file",
      "bus-password-file",
      "dns-key-file",
      "admin-password-file",
      "service",
    ]);
    for (const role of [
      "database-password-file",
      "bus-password-file",
      "dns-key-file",
      "admin-password-file",
    ]) {
      const f = resources.find((r) => r.name === `broker-${role}`)!;
      expect({ role, logging: f.inputs.logging }).toEqual({ role, logging: "none" });
      expect(plainText(f.inputs.stdin)).toBe('"[secret]"');
      expect(f.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout", "stderr"]));
    }
    const config = resources.find((r) => r.name === "broker-config")!;
    expect(JSON.parse(String(config.inputs.stdin)).listen).toEqual({ host: "127.0.0.1", port: 18080 });
    const daemon = resources.find((r) => r.name === "broker-service-daemon")!;
    expect(plainText(daemon.inputs)).toContain(
      '"broker","run","--config","/var/lib/geartrain/broker/broker/broker.json"',
    );
    for (const r of resources) {
      const text = plainText(r.inputs);
      for (const v of Object.values(given))
        expect({ resource: r.name, leaked: text.includes(v) }).toEqual({ resource: r.name, leaked: false });
    }
    checkSecrets();
  });

  it("Broker: bus over TLS writes the CA beside broker.json, which names it; a new CA restarts it", async () => {
    const { generateSelfSignedCertificate } = await import("../../../../components/certificate/generate");
    const { resolveSelfSignedCertificate } = await import("../../../../components/certificate/resolve");
    const pem = async () =>
      (await generateSelfSignedCertificate(resolveSelfSignedCertificate({ domain: "apps.example.test" })))
        .certificate;
    const [ca1, ca2] = [await pem(), await pem()];
    const local = new host.Host("local8", { connection: { type: "local" }, serviceDirectory: "/srv/gt" });
    const tlsArgs = (ca: string) => ({
      ...brokerArgs(local),
      bus: { ...brokerArgs(local).bus, host: "10.0.0.7", tls: { ca, serverName: "bus1.apps.example.test" } },
    });
    const b = new br.Broker("broker4", { ...tlsArgs(ca1), port: 28081 });
    const c = new br.Broker("broker5", {
      ...tlsArgs(ca2),
      port: 28082,
      directory: "/var/lib/geartrain/broker/broker4",
    });
    await valueOf(b.service.daemon.urn);
    await valueOf(c.service.daemon.urn);
    const caFile = resources.find((r) => r.name === "broker4-bus-ca-file")!;
    expect(caFile.inputs.environment).toMatchObject({
      GT_PATH: "/var/lib/geartrain/broker/broker4/bus-ca.crt",
    });
    expect(caFile.inputs.stdin).toBe(ca1);
    const doc = JSON.parse(String(resources.find((r) => r.name === "broker4-config")!.inputs.stdin));
    expect(doc.bus).toMatchObject({
      host: "10.0.0.7",
      tls: { caFile: "/var/lib/geartrain/broker/broker4/bus-ca.crt", serverName: "bus1.apps.example.test" },
    });
    // the CA is part of the config hash in the service's environment: a new CA restarts the broker
    // (the environment is secret as a whole: it carries the secrets' hash)
    const hash = (n: string) =>
      (
        resources.find((r) => r.name === `${n}-service-daemon`)!.inputs.environment as {
          value: Record<string, string>;
        }
      ).value.GEARTRAIN_CONFIG_SHA256;
    const docC = JSON.parse(String(resources.find((r) => r.name === "broker5-config")!.inputs.stdin));
    expect({ ...docC, brokerId: "x", listen: 0 }).toEqual({ ...doc, brokerId: "x", listen: 0 });
    const { sha256 } = await import("../../../../components/platform-resolve");
    const config4 = String(resources.find((r) => r.name === "broker4-config")!.inputs.stdin);
    expect(hash("broker4")).toBe(sha256(config4 + ca1));
    expect(hash("broker4")).not.toBe(sha256(config4));
    expect(
      () =>
        new br.Broker("broker6", {
          ...brokerArgs(local),
          bus: { ...brokerArgs(local).bus, tls: { ca: ca1, serverName: "bus_1.example" } },
        }),
    ).toThrow(/invalid bus\.tls\.serverName/);
  });

  it("Broker: tls writes tls.crt (public) and tls.key (0600, the broker's user, secret); https URL, loopback localUrl", async () => {
    const { generateSelfSignedCertificate } = await import("../../../../components/certificate/generate");
    const { resolveSelfSignedCertificate } = await import("../../../../components/certificate/resolve");
    const made = await generateSelfSignedCertificate(
      resolveSelfSignedCertificate({ domain: "apps.example.test" }),
    );
    const local = new host.Host("local9", { connection: { type: "local" }, serviceDirectory: "/srv/gt" });
    const b = new br.Broker("broker7", {
      ...brokerArgs(local),
      address: "10.0.0.5",
      port: 28443,
      tls: {
        certificate: made.certificate,
        privateKey: pulumi.secret(made.privateKey),
        serverName: "broker1.apps.example.test",
      },
    });
    expect(await valueOf(b.url)).toBe("https://broker1.apps.example.test:28443");
    expect(await valueOf(b.localUrl)).toBe("http://127.0.0.1:28443");
    checkChildren("Broker", "broker7", [
      "admin-password",
      "os-user",
      "directory",
      "config",
      "database-password-file",
      "bus-password-file",
      "dns-key-file",
      "admin-password-file",
      "tls-certificate-file",
      "tls-key-file",
      "service",
    ]);
    const file = (role: string) => resources.find((r) => r.name === `broker7-${role}`)!;
    expect(file("tls-certificate-file").inputs.stdin).toBe(made.certificate);
    expect(file("tls-certificate-file").inputs.environment).toMatchObject({
      GT_PATH: "/var/lib/geartrain/broker/broker7/tls.crt",
      GT_MODE: "0640",
      GT_OWNER: "root:geartrain-broker",
    });
    const key = file("tls-key-file");
    expect(key.inputs.logging).toBe("none");
    expect(plainText(key.inputs.stdin)).toBe('"[secret]"');
    expect(key.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout", "stderr"]));
    expect(key.inputs.environment).toMatchObject({
      GT_PATH: "/var/lib/geartrain/broker/broker7/tls.key",
      GT_MODE: "0600",
      GT_OWNER: "geartrain-broker",
    });
    const doc = JSON.parse(String(file("config").inputs.stdin));
    expect(doc.listen).toEqual({
      host: "10.0.0.5",
      port: 28443,
      tls: {
        certificateFile: "/var/lib/geartrain/broker/broker7/tls.crt",
        keyFile: "/var/lib/geartrain/broker/broker7/tls.key",
      },
      local: { host: "127.0.0.1", port: 28443 },
    });
    // the readiness check asks the loopback listener
    const daemon = resources.find((r) => r.name === "broker7-service-daemon")!;
    expect(JSON.stringify(daemon.inputs)).toContain("http://127.0.0.1:28443/broker/rest/api");
    // no line of the key in any plain input (an EC key's last line can be its public point, which the
    // certificate carries too: only the lines the certificate does not hold are secret)
    const lines = made.privateKey.split("\n").filter((l) => l.length > 40 && !made.certificate.includes(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const r of resources)
      for (const l of lines)
        expect({ r: r.name, leaked: plainText(r.inputs).includes(l) }).toEqual({ r: r.name, leaked: false });
    // (a certificate that does not cover the server name: broker-district.test.ts, renderBrokerCertificate)
  });

  it("Broker: a given admin password makes no generated one", async () => {
    const local = new host.Host("local6", { connection: { type: "local" }, serviceDirectory: "/srv/gt" });
    const b = new br.Broker("broker3", {
      ...brokerArgs(local),
      admin: { login: "root-admin", password: pulumi.secret("GIVEN-admin-pw") },
      port: 28080,
    });
    expect(await valueOf(b.adminPassword)).toBe("GIVEN-admin-pw");
    expect(await valueOf(b.adminLogin)).toBe("root-admin");
    await valueOf(b.service.daemon.urn);
    expect(resources.filter((r) => r.name === "broker3-admin-password")).toEqual([]);
    for (const r of resources) expect(plainText(r.inputs)).not.toContain("GIVEN-admin-pw");
  });

  it("District: one command for the district and one per node, credentials secret, never argv", async () => {
    const local = new host.Host("local7", { connection: { type: "local" }, serviceDirectory: "/srv/gt" });
    const d = new dis.District("d1", {
      host: local,
      release,
      broker: {
        localUrl: "http://127.0.0.1:18080",
        adminLogin: "admin",
        adminPassword: pulumi.secret("GIVEN-admin-pw-2"),
      },
      nodes: ["n2.example.test", "n1.example.test"],
    });
    expect(await valueOf(d.districtName)).toBe("d1");
    expect(await valueOf(d.nodes)).toEqual(["n1.example.test", "n2.example.test"]);
    expect(await valueOf(d.firstUid)).toBe(1000);
    expect(await valueOf(d.capacity)).toBe(6000);
    checkChildren("District", "d1", ["district", "node-n1-example-test", "node-n2-example-test"]);
    for (const c of childrenOf("District", "d1")) {
      expect({ c: c.name, logging: c.inputs.logging }).toEqual({ c: c.name, logging: "none" });
      expect(c.additionalSecretOutputs).toEqual(expect.arrayContaining(["stdout", "stderr"]));
      const text = plainText(c.inputs);
      expect(text).not.toContain("GIVEN-admin-pw-2");
      expect(String(c.inputs.create)).not.toContain("GIVEN-admin-pw-2");
      // the password makes the whole environment secret
      expect(text).toContain('"environment":"[secret]"');
    }
    const envOf = (r: RegisteredResource) =>
      (r.inputs.environment as Record<string, unknown>)[SECRET_SIG]
        ? (r.inputs.environment as { value: unknown }).value
        : r.inputs.environment;
    const district = resources.find((r) => r.name === "d1-district")!;
    expect(envOf(district)).toMatchObject({
      GT_PROFILE: "small",
      GT_FIRST_UID: "1000",
      GT_CAPACITY: "6000",
    });
    const node = resources.find((r) => r.name === "d1-node-n1-example-test")!;
    expect(envOf(node)).toMatchObject({ GT_IDENTITY: "n1.example.test", GT_DISTRICT: "d1" });
  });

  it("bad arguments fail naming the field, before any child exists", async () => {
    const local = new host.Host("local4", { connection: { type: "local" } });
    const before = resources.length;
    expect(() => new ds.Datastore("db2", { host: local, clients: ["nope"] })).toThrow(/invalid clients\[0\]/);
    expect(() => new mb.MessageBus("bus2", { host: local, address: "10.1.2.3" })).toThrow(/invalid tls/);
    expect(() => new dns.Dns("dns2", { host: local, zone: "x" })).toThrow(/invalid zone/);
    expect(() => new br.Broker("broker2", { ...brokerArgs(local), port: 80 })).toThrow(/invalid port/);
    const broker = { localUrl: "http://127.0.0.1:18080", adminLogin: "admin", adminPassword: "x" };
    expect(
      () => new dis.District("district2", { host: local, release, broker, profile: "huge" as never }),
    ).toThrow(/invalid profile/);
    await new Promise((r) => setTimeout(r, 50));
    const made = resources.slice(before).map((r) => r.name);
    expect(made.filter((n) => /^(db2|bus2|dns2|broker2|district2)-/.test(n))).toEqual([]);
  });
});
