// The platform components' pure halves: argument validation (each error names its field) and every file
// they render, snapshotted for a minimal and a full topology (deterministic: rendered twice, same bytes).
import { renderActiveMQXml, renderCredentials, renderLog4j } from "../../../../common/render/activemq";
import { renderPgHba, renderPgIdent, renderPostgresqlConf } from "../../../../components/datastore/render";
import { resolveDatastore } from "../../../../components/datastore/resolve";
import { renderKeyFile } from "../../../../components/dns/render";
import { renderDnsFiles, resolveDns } from "../../../../components/dns/resolve";
import { renderDefinition } from "../../../../components/host/service/render";
import { resolveService } from "../../../../components/host/service/model";
import {
  activemqCommand,
  messageBusEndpoint,
  resolveMessageBus,
} from "../../../../components/messagebus/resolve";
import { resolveGeneratedSecret } from "../../../../components/secret";

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

describe("Datastore resolve and render", () => {
  const minimal = resolveDatastore("db", {});
  const full = resolveDatastore("control-db", {
    directory: "/srv/geartrain/db",
    address: "10.0.0.5",
    port: 25432,
    clients: ["10.0.0.12", "10.0.0.11", "10.0.0.12"],
    database: "broker",
    user: "broker_rw",
    maxConnections: 300,
    sharedBuffersMb: 1024,
  });

  it("applies defaults: its own directory, loopback, a non-default port", () => {
    expect(minimal).toMatchObject({
      directory: "/var/lib/geartrain/datastore/db",
      address: "127.0.0.1",
      port: 15432,
      clients: ["127.0.0.1"],
      database: "geartrain",
      user: "geartrain",
      osUser: "postgres",
    });
    expect(full.clients).toEqual(["10.0.0.11", "10.0.0.12"]);
  });

  it.each([
    [{ address: "localhost" }, "address"],
    [{ port: 5 }, "port"],
    [{ clients: ["10.0.0.1", "nope"] }, "clients[1]"],
    [{ clients: [] }, "clients"],
    [{ database: "Bad-Name" }, "database"],
    [{ user: "x;drop" }, "user"],
    [{ user: "postgres" }, "user"],
    [{ directory: "relative/dir" }, "directory"],
    [{ directory: "/" }, "directory"],
    [{ directory: "/srv/../etc" }, "directory"],
    [{ maxConnections: 1 }, "maxConnections"],
  ])("refuses %j naming %s", (args, field) => {
    invalid(() => resolveDatastore("db", args as never), field);
  });

  it("refuses a bad component name", () => invalid(() => resolveDatastore("Bad_Name", {}), "name"));

  it.each([
    ["minimal", minimal],
    ["full", full],
  ])("renders postgresql.conf, pg_hba.conf, pg_ident.conf (%s)", (_label, spec) => {
    const files = { conf: renderPostgresqlConf(spec), hba: renderPgHba(spec), ident: renderPgIdent(spec) };
    expect(files).toEqual({
      conf: renderPostgresqlConf(spec),
      hba: renderPgHba(spec),
      ident: renderPgIdent(spec),
    });
    expect(files.conf).toContain(`listen_addresses = '${spec.address}'`);
    expect(files).toMatchSnapshot();
  });
});

describe("MessageBus resolve and render", () => {
  const minimal = resolveMessageBus("bus", {});
  const full = resolveMessageBus("control-bus", {
    directory: "/srv/geartrain/bus",
    address: "10.0.0.6",
    port: 61614,
    nodes: ["node-b", "node-a"],
    tls: { keyStore: "/srv/geartrain/bus/tls/broker.p12", keyStorePassword: "ignored-here" },
    memoryMb: 128,
    storeMb: 1024,
    tempMb: 512,
    maxFrameSize: 1 << 20,
    maxConnections: 200,
    sendFailIfNoSpaceAfterTimeoutMs: 5000,
    heapMb: 512,
  });
  const passwords = (spec: typeof minimal) =>
    Object.fromEntries(spec.users.map((u) => [u.name, `password-of-${u.name}-0123456789`]));

  it("has one user per role", () => {
    expect(minimal.users).toEqual([
      { role: "broker", name: "broker" },
      { role: "admin", name: "admin" },
    ]);
    expect(full.users.map((u) => u.role)).toEqual(["broker", "admin", "agent:node-a", "agent:node-b"]);
    expect(messageBusEndpoint(minimal)).toBe("stomp://127.0.0.1:16163");
    expect(messageBusEndpoint(full)).toBe("stomp+ssl://10.0.0.6:61614");
  });

  it.each([
    [{ address: "10.0.0.6" }, "tls"],
    [{ address: "::1" }, "address"],
    [{ port: 99999 }, "port"],
    [{ nodes: ["ok", "Not.Ok"] }, "nodes[1]"],
    [{ nodes: ["a", "a"] }, "nodes[1]"],
    [{ brokerUser: "same", adminUser: "same" }, "users.admin"],
    [{ tls: { keyStore: "rel.p12", keyStorePassword: "x" } }, "tls.keyStore"],
    [{ maxFrameSize: 10 }, "maxFrameSize"],
    [{ heapMb: 1 }, "heapMb"],
    [{ directory: "/tmp" }, "directory"],
  ])("refuses %j naming %s", (args, field) => {
    invalid(() => resolveMessageBus("bus", args as never), field);
  });

  it.each([
    ["minimal", minimal],
    ["full", full],
  ])("renders activemq.xml, credentials, log4j and the JVM command (%s)", (_label, spec) => {
    const xml = renderActiveMQXml(spec.activemq);
    expect(renderActiveMQXml(spec.activemq)).toBe(xml);
    expect(xml).not.toContain("password-of");
    expect(xml).toContain("sendFailIfNoSpaceAfterTimeout=");
    expect(xml).toContain("wireFormat.maxFrameSize=");
    expect(xml).toContain('topic="ActiveMQ.Advisory.>"');
    expect(xml).toContain("<tempDestinationAuthorizationEntry");
    // one connector, STOMP; no web console
    expect(xml.match(/<transportConnector /g)).toHaveLength(1);
    expect(xml).toMatch(/<transportConnector name="stomp" uri="stomp\+nio(\+ssl)?:\/\//);
    expect(xml).not.toMatch(/jetty|webconsole/i);
    const credentials = renderCredentials(
      spec.activemq,
      passwords(spec),
      spec.activemq.tls ? "keystore-pass" : undefined,
    );
    expect({ xml, credentials, log4j: renderLog4j(), command: activemqCommand(spec) }).toMatchSnapshot();
  });

  it("needs the key store password when TLS is on", () => {
    invalid(() => renderCredentials(full.activemq, passwords(full)), "keyStorePassword");
  });
});

describe("Dns resolve and render", () => {
  const minimal = resolveDns("dns", { zone: "apps.example.test" });
  const full = resolveDns("cloud-dns", {
    zone: "cloud.example.org",
    directory: "/srv/geartrain/dns",
    address: "10.0.0.7",
    port: 5300,
    keyName: "cloud-update",
    nameserverLabel: "ns",
    nameserverAddress: "10.0.0.7",
    ttl: 300,
    hosts: [
      { name: "node1.cloud.example.org", address: "10.0.0.21" },
      { name: "broker.cloud.example.org", address: "10.0.0.11" },
    ],
  });

  it.each([
    [{ zone: "single" }, "zone"],
    [{ zone: "a.test", address: "1.2.3" }, "address"],
    [{ zone: "a.test", port: 53 }, "port"],
    [{ zone: "a.test", keyName: "bad key" }, "keyName"],
    [{ zone: "a.test", hosts: [{ name: "x.other.test", address: "10.0.0.1" }] }, "hosts[0].name"],
    [{ zone: "a.test", hosts: [{ name: "x.a.test", address: "999.0.0.1" }] }, "hosts[0].address"],
    [{ zone: "a.test", nameserverLabel: "a.b" }, "nameserverLabel"],
    [{ zone: "a.test", osUser: "Root!" }, "osUser"],
  ])("refuses %j naming %s", (args, field) => {
    invalid(() => resolveDns("dns", args as never), field);
  });

  it.each([
    ["minimal", minimal],
    ["full", full],
  ])("renders named.conf and the zone (%s)", (_label, spec) => {
    const files = renderDnsFiles(spec);
    expect(renderDnsFiles(spec)).toEqual(files);
    expect(files).toMatchSnapshot();
  });

  it("renders the key file, refusing a secret that is not base64 without showing it", () => {
    const secret = Buffer.alloc(32, 7).toString("base64");
    expect(renderKeyFile("geartrain-update", "hmac-sha256", secret)).toMatchSnapshot();
    let message = "";
    try {
      renderKeyFile("geartrain-update", "hmac-sha256", "not base64!!");
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("invalid keySecret");
    expect(message).not.toContain("not base64!!");
  });
});

describe("GeneratedSecret args", () => {
  it("defaults and refuses bad sizes and encodings", () => {
    expect(resolveGeneratedSecret()).toEqual({ bytes: 24, encoding: "base64url" });
    invalid(() => resolveGeneratedSecret({ bytes: 4 }), "bytes");
    invalid(() => resolveGeneratedSecret({ encoding: "utf8" as never }), "encoding");
  });
});

describe("service definitions of the three daemons", () => {
  const commands = {
    postgresql: {
      name: "db-postgresql",
      command: [
        "/usr/lib/postgresql/15/bin/postgres",
        "-D",
        "/var/lib/geartrain/datastore/db/data",
        "-c",
        "config_file=/var/lib/geartrain/datastore/db/conf/postgresql.conf",
      ],
      user: "postgres",
      workingDirectory: "/var/lib/geartrain/datastore/db/data",
      stopSignal: "INT",
      stopTimeoutSeconds: 30,
      readiness: {
        command: ["/usr/lib/postgresql/15/bin/pg_isready", "-q", "-h", "127.0.0.1", "-p", "15432"],
      },
    },
    activemq: {
      name: "bus-activemq",
      command: activemqCommand(resolveMessageBus("bus", {})),
      user: "activemq",
      workingDirectory: "/var/lib/geartrain/messagebus/bus",
      stopTimeoutSeconds: 30,
      readiness: { tcp: { address: "127.0.0.1", port: 16163 }, attempts: 120 },
    },
    named: {
      name: "dns-named",
      command: ["/usr/sbin/named", "-f", "-4", "-n", "1", "-c", "/var/lib/geartrain/dns/dns/conf/named.conf"],
      user: "bind",
      workingDirectory: "/var/lib/geartrain/dns/dns/named",
      readiness: { tcp: { address: "127.0.0.1", port: 10053 } },
    },
  };
  it.each(Object.entries(commands))("%s: systemd unit and runit service", (_label, args) => {
    for (const backend of ["systemd", "runit"]) {
      const spec = resolveService({
        ...args,
        backend,
        serviceDirectory: "/var/lib/geartrain/services",
        environmentNames: ["GEARTRAIN_CONFIG_SHA256"],
      });
      expect(renderDefinition(spec)).toMatchSnapshot(backend);
    }
  });
});
