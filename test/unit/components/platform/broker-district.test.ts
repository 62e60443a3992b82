// The Broker's (and District's) pure halves: each argument error names its field; broker.json is rendered
// with the broker's own schema for a minimal and a full topology (snapshots, rendered twice: same bytes).
import { validateBrokerConfig } from "../../../../common/config/broker-config";
import {
  readinessCommand,
  renderBrokerCertificate,
  renderBrokerConfig,
  renderBrokerKey,
  renderCaFile,
  renderPasswordFile,
  type BrokerConnections,
} from "../../../../components/broker/render";
import { brokerPaths, resolveBroker } from "../../../../components/broker/resolve";
import {
  ADD_NODE_SCRIPT,
  CREATE_DISTRICT_SCRIPT,
  DELETE_DISTRICT_SCRIPT,
  REMOVE_NODE_SCRIPT,
  resolveDistrict,
} from "../../../../components/district/resolve";
import { renderDefinition } from "../../../../components/host/service/render";
import { resolveService } from "../../../../components/host/service/model";

const invalid = (fn: () => unknown, field: string) => {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeDefined();
  expect((err as { field?: string }).field).toBe(field);
  expect((err as Error).message).toContain(`invalid ${field}`);
};

const local: BrokerConnections = {
  datastore: { host: "127.0.0.1", port: 15432, database: "geartrain", user: "geartrain" },
  bus: { host: "127.0.0.1", port: 16163, user: "broker" },
  dns: { server: "127.0.0.1", port: 10053, zone: "apps.example.test" },
};
const remote: BrokerConnections = {
  datastore: { host: "db.infra.example.com", port: 5432, database: "broker", user: "broker_rw" },
  bus: {
    host: "10.0.0.7",
    port: 61613,
    user: "broker",
    prefix: "gt",
    tls: { serverName: "bus.example.com" },
  },
  dns: { server: "10.0.0.8", port: 53, zone: "example.com" },
};

describe("Broker resolve and render", () => {
  const minimal = resolveBroker("broker", { cloudDomain: "apps.example.test" });
  const full = resolveBroker("broker2", {
    cloudDomain: "apps.example.com",
    address: "0.0.0.0",
    port: 28080,
    publicUrl: "https://broker.example.com",
    brokerId: "b2",
    admin: { login: "ops@example.com" },
    directory: "/srv/geartrain/broker2",
    osUser: "gtbroker",
    defaultProfile: "medium",
    logLevel: "debug",
    readinessSeconds: 300,
  });
  // across hosts: HTTPS on the host's address under its DNS name, plain HTTP on its loopback
  const tls = resolveBroker("broker3", {
    cloudDomain: "apps.example.com",
    address: "10.0.0.5",
    port: 8443,
    tls: { serverName: "broker1.apps.example.com" },
  });

  it("applies defaults: its own directory, loopback, port 18080, the component's name as broker id", () => {
    expect(minimal).toMatchObject({
      directory: "/var/lib/geartrain/broker/broker",
      address: "127.0.0.1",
      port: 18080,
      brokerId: "broker",
      adminLogin: "admin",
      osUser: "geartrain-broker",
      readinessSeconds: 120,
      url: "http://127.0.0.1:18080",
      apiUrl: "http://127.0.0.1:18080/broker/rest/api",
    });
    // listening on every address: the check and the default URL use loopback; the public URL wins
    expect(full).toMatchObject({
      url: "https://broker.example.com",
      apiUrl: "http://127.0.0.1:28080/broker/rest/api",
    });
  });

  it("with tls: an https URL under the server name; localUrl and the readiness check on loopback", () => {
    expect(tls).toMatchObject({
      tls: { serverName: "broker1.apps.example.com", local: { host: "127.0.0.1", port: 8443 } },
      url: "https://broker1.apps.example.com:8443",
      localUrl: "http://127.0.0.1:8443",
      apiUrl: "http://127.0.0.1:8443/broker/rest/api",
    });
    expect(readinessCommand("/usr/bin/node", tls).at(-1)).toBe("http://127.0.0.1:8443/broker/rest/api");
    // on every address, the loopback listener needs a port of its own
    expect(
      resolveBroker("b", {
        cloudDomain: "apps.example.com",
        address: "0.0.0.0",
        tls: { serverName: "b.apps.example.com", localPort: 18081 },
      }),
    ).toMatchObject({ url: "https://b.apps.example.com:18080", localUrl: "http://127.0.0.1:18081" });
    // without a server name, the address
    expect(resolveBroker("b", { cloudDomain: "apps.example.com", address: "10.0.0.5", tls: {} }).url).toBe(
      "https://10.0.0.5:18080",
    );
  });

  it.each([
    [{ address: "10.0.0.5", tls: { serverName: "bad_name.example.com" } }, "tls.serverName"],
    [{ address: "0.0.0.0", tls: {} }, "tls.serverName"],
    [{ address: "0.0.0.0", tls: { serverName: "b.example.com" } }, "tls.localPort"],
    [{ tls: { serverName: "b.example.com" } }, "tls.localPort"],
    [{ address: "10.0.0.5", tls: { localPort: 80 } }, "tls.localPort"],
    [{ tls: null }, "tls"],
  ])("refuses tls %j naming %s", (args, field) => {
    invalid(() => resolveBroker("broker", { cloudDomain: "apps.example.test", ...args } as never), field);
  });

  it("the API's certificate must cover the server name, and the key must be its own", async () => {
    const { generateSelfSignedCertificate } = await import("../../../../components/certificate/generate");
    const { resolveSelfSignedCertificate } = await import("../../../../components/certificate/resolve");
    const make = (domain: string) => generateSelfSignedCertificate(resolveSelfSignedCertificate({ domain }));
    const [made, other] = await Promise.all([make("apps.example.com"), make("apps.example.com")]);
    expect(renderBrokerCertificate(made.certificate, "broker1.apps.example.com")).toBe(
      `${made.certificate.trimEnd()}\n`,
    );
    expect(renderBrokerKey(made.certificate, made.privateKey)).toBe(`${made.privateKey.trimEnd()}\n`);
    invalid(() => renderBrokerCertificate(made.certificate, "broker1.elsewhere.test"), "tls.certificate");
    invalid(() => renderBrokerCertificate(made.certificate, "10.0.0.5"), "tls.certificate");
    invalid(() => renderBrokerCertificate(made.privateKey, "broker1.apps.example.com"), "tls.certificate");
    invalid(() => renderBrokerKey(made.certificate, made.certificate), "tls.privateKey");
    let message = "";
    try {
      renderBrokerKey(made.certificate, other.privateKey);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe("invalid tls.privateKey: is not the key of tls.certificate");
  });

  it.each([
    [{ address: "localhost" }, "address"],
    [{ port: 80 }, "port"],
    [{ publicUrl: "https://broker.example.com/x" }, "publicUrl"],
    [{ publicUrl: "ftp://broker" }, "publicUrl"],
    [{ cloudDomain: "nodots" }, "cloudDomain"],
    [{ cloudDomain: undefined }, "cloudDomain"],
    [{ brokerId: "Has Space" }, "brokerId"],
    [{ admin: { login: "a b" } }, "admin.login"],
    [{ defaultProfile: "Big" }, "defaultProfile"],
    [{ logLevel: "loud" }, "logLevel"],
    [{ osUser: "root" }, "osUser"],
    [{ osUser: "Bad User" }, "osUser"],
    [{ directory: "relative" }, "directory"],
    [{ directory: "/srv/../etc" }, "directory"],
    [{ readinessSeconds: 1 }, "readinessSeconds"],
  ])("refuses %j naming %s", (args, field) => {
    invalid(() => resolveBroker("broker", { cloudDomain: "apps.example.test", ...args } as never), field);
  });

  it("refuses a bad component name", () =>
    invalid(() => resolveBroker("Bad_Name", { cloudDomain: "apps.example.test" }), "name"));

  it.each([
    [{ datastore: { ...local.datastore, host: "bad host" } }, "datastore.host"],
    [{ datastore: { ...local.datastore, port: 0 } }, "datastore.port"],
    [{ datastore: { ...local.datastore, database: "" } }, "datastore.database"],
    [{ datastore: { ...local.datastore, user: "" } }, "datastore.user"],
    [{ bus: { ...local.bus, host: "1.2.3" } }, "bus.host"],
    [{ bus: { ...local.bus, port: 70000 } }, "bus.port"],
    [{ bus: { ...local.bus, user: "" } }, "bus.user"],
    [{ bus: { ...local.bus, user: "Broker!" } }, "config.bus.user"],
    [{ bus: { ...local.bus, prefix: "A.B" } }, "config.bus.prefix"],
    [{ bus: { ...local.bus, tls: { serverName: "bus_1.example.com" } } }, "bus.tls.serverName"],
    [{ bus: { ...local.bus, tls: { serverName: "10.0.0.7." } } }, "bus.tls.serverName"],
    [{ dns: { ...local.dns, server: "" } }, "dns.server"],
    [{ dns: { ...local.dns, port: -1 } }, "dns.port"],
    [{ dns: { ...local.dns, zone: "other.test" } }, "dns.zone"],
  ])("refuses connection values %j naming %s", (patch, field) => {
    invalid(() => renderBrokerConfig(minimal, { ...local, ...patch } as BrokerConnections), field);
  });

  it("a bus CA file is PEM certificates only, each parsed; else the error names bus.tls.ca", async () => {
    const { generateSelfSignedCertificate } = await import("../../../../components/certificate/generate");
    const { resolveSelfSignedCertificate } = await import("../../../../components/certificate/resolve");
    const made = await generateSelfSignedCertificate(
      resolveSelfSignedCertificate({ domain: "apps.example.test" }),
    );
    expect(renderCaFile("bus.tls.ca", made.certificate.trimEnd())).toBe(`${made.certificate.trimEnd()}\n`);
    // two certificates (a chain) stay two
    const two = renderCaFile("bus.tls.ca", `${made.certificate}\n${made.certificate}`);
    expect(two.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    invalid(() => renderCaFile("bus.tls.ca", undefined), "bus.tls.ca");
    invalid(() => renderCaFile("bus.tls.ca", "not a certificate"), "bus.tls.ca");
    invalid(
      () => renderCaFile("bus.tls.ca", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
      "bus.tls.ca",
    );
    invalid(() => renderCaFile("bus.tls.ca", `${made.certificate}${made.privateKey}`), "bus.tls.ca");
  });

  it("refuses an empty or multi-line password", () => {
    invalid(() => renderPasswordFile("bus.password", ""), "bus.password");
    invalid(() => renderPasswordFile("bus.password", "a\nb"), "bus.password");
    expect(renderPasswordFile("bus.password", "pw")).toBe("pw\n");
  });

  it.each([
    ["minimal", minimal, local],
    ["full", full, remote],
    ["tls", tls, remote],
  ] as const)("renders broker.json the broker's own schema accepts (%s)", (_label, spec, conn) => {
    const text = renderBrokerConfig(spec, conn);
    expect(renderBrokerConfig(spec, conn)).toBe(text);
    const doc = validateBrokerConfig(JSON.parse(text));
    const p = brokerPaths(spec.directory);
    expect(doc.database.passwordFile).toBe(p.databasePassword);
    expect(doc.bus.passwordFile).toBe(p.busPassword);
    // over TLS the CA file is beside broker.json; without, plain STOMP
    expect(doc.bus.tls).toEqual(
      conn.bus.tls ? { caFile: p.busCa, serverName: conn.bus.tls.serverName } : undefined,
    );
    // with tls: HTTPS with the files beside broker.json, plain HTTP on loopback for the host's own tools
    expect(doc.listen).toEqual(
      spec.tls
        ? {
            host: spec.address,
            port: spec.port,
            tls: { certificateFile: p.tlsCertificate, keyFile: p.tlsKey },
            local: spec.tls.local,
          }
        : { host: spec.address, port: spec.port },
    );
    expect(doc.dns.keyFile).toBe(p.dnsKey);
    expect(doc.admin).toEqual({ login: spec.adminLogin, passwordFile: p.adminPassword });
    expect(text).not.toMatch(/password"\s*:/i);
    expect(text).toMatchSnapshot();
  });

  it("renders its service: systemd unit and runit service", () => {
    for (const backend of ["systemd", "runit"]) {
      const spec = resolveService({
        name: "broker-broker",
        command: [
          "/usr/bin/node",
          "/opt/geartrain/bin/geartrain",
          "broker",
          "run",
          "--config",
          brokerPaths(minimal.directory).config,
        ],
        user: minimal.osUser,
        workingDirectory: minimal.directory,
        stopTimeoutSeconds: 30,
        readiness: { command: readinessCommand("/usr/bin/node", minimal), attempts: 120 },
        backend,
        serviceDirectory: "/var/lib/geartrain/services",
        environmentNames: [
          "HOME",
          "GEARTRAIN_CONFIG_SHA256",
          "GEARTRAIN_SECRETS_SHA256",
          "GEARTRAIN_RELEASE",
        ],
      });
      expect(renderDefinition(spec)).toMatchSnapshot(backend);
    }
  });
});

describe("District resolve", () => {
  it("applies defaults: the component's name, small, UIDs 1000.., 6000 of them, no nodes", () => {
    expect(resolveDistrict("d1", {})).toEqual({
      name: "d1",
      districtName: "d1",
      profile: "small",
      firstUid: 1000,
      capacity: 6000,
      nodes: [],
      nodeRoles: {},
      nodeWaitSeconds: 300,
    });
    const long = `n${"x".repeat(60)}.example.com`;
    expect(resolveDistrict("d3", { nodes: ["a.b", "a-b", "n1.example.com", long] }).nodeRoles).toEqual({
      "a-b": expect.stringMatching(/^node-a-b-[0-9a-f]{8}$/),
      "a.b": expect.stringMatching(/^node-a-b-[0-9a-f]{8}$/),
      "n1.example.com": "node-n1-example-com",
      [long]: expect.stringMatching(/^node-nx{35}-[0-9a-f]{8}$/),
    });
    expect(resolveDistrict("d2", { nodes: ["node2.example.com", "node1.example.com"] }).nodes).toEqual([
      "node1.example.com",
      "node2.example.com",
    ]);
  });

  it.each([
    [{ districtName: "has space" }, "districtName"],
    [{ profile: "huge" }, "profile"],
    [{ firstUid: 999 }, "firstUid"],
    [{ firstUid: 1000.5 }, "firstUid"],
    [{ capacity: 0 }, "capacity"],
    [{ firstUid: 520000, capacity: 6000 }, "capacity"],
    [{ nodes: ["n1", "Bad_Node"] }, "nodes[1]"],
    [{ nodes: ["n1", "n2", "n1"] }, "nodes[2]"],
    [{ nodeWaitSeconds: -1 }, "nodeWaitSeconds"],
  ])("refuses %j naming %s", (args, field) => {
    invalid(() => resolveDistrict("d1", args as never), field);
  });

  it("refuses a bad component name", () => invalid(() => resolveDistrict("D1", {}), "name"));

  it("its scripts take every value from the environment", () => {
    for (const script of [
      CREATE_DISTRICT_SCRIPT,
      DELETE_DISTRICT_SCRIPT,
      ADD_NODE_SCRIPT,
      REMOVE_NODE_SCRIPT,
    ]) {
      // only quoted $GT_ variables: no value is ever part of the text
      expect(script.replace(/"\$GT_[A-Z_]+"/g, "")).toMatch(/^[a-z -]+$/);
      expect(script).not.toMatch(/PASSWORD|LOGIN/);
    }
  });
});
