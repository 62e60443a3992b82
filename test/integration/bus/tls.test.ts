// The message bus over TLS against a real private ActiveMQ whose connector is stomp+nio+ssl, its key store made
// at run time from test certificates (test/helpers/tls-test-cert.ts, openssl): a broker-side NodeBus and an
// agent make a round trip with the server's certificate verified; a client trusting another CA, one expecting
// another server name, and a plain STOMP client are refused, each with an error saying why; the CA file is
// read through the services' own path (bus.tls.caFile → busTlsOptions). Then the Platform's shape: the
// platform's self-signed wildcard certificate as the bus's key store and as the clients' CA, the server name
// `<host>.<domain>`. The agent runs a fake action table (no node work, no test users).

import { mkdtempSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { startActiveMQ, type PrivateActiveMQ } from "../../helpers/services/activemq";
import { testPki, type TestCertificate, type TestPki } from "../../helpers/tls-test-cert";
import { Agent } from "../../../services/agent/agent";
import { ACTION_TABLE } from "../../../services/agent/actions";
import type { NodeFacts } from "../../../services/bus/actions";
import { busTlsOptions } from "../../../services/bus/ca-file";
import { BusConnection, type BusTlsOptions } from "../../../services/bus/connection";
import { NodeBus } from "../../../services/bus/node-bus";
import { UnavailableError } from "../../../common/errors";
import type { NodeContext } from "../../../node";
import { generateSelfSignedCertificate } from "../../../components/certificate/generate";
import { resolveSelfSignedCertificate } from "../../../components/certificate/resolve";

jest.setTimeout(180_000);

const SERVER_NAME = "bus.geartrain.test";
const logs: string[] = [];
const log = (level: string, message: string) => void logs.push(`${level} ${message}`);

function facts(node: string): NodeFacts {
  return {
    node,
    district: "d",
    profile: "small",
    activeGears: 0,
    maxActiveGears: 1,
    publicHostname: `${node}.example.com`,
    cartridges: [],
    at: Date.now(),
  };
}

function fakeAgent(amq: PrivateActiveMQ, tls: BusTlsOptions | undefined): Agent {
  const user = amq.agents.node1;
  return new Agent({
    bus: { host: amq.host, port: amq.port, user: user.user, password: user.password, tls },
    ctx: {} as NodeContext,
    facts: {
      node: "node1",
      district: "d",
      profile: "small",
      maxActiveGears: 1,
      publicHostname: "n1.example.com",
    },
    table: { ...ACTION_TABLE, "gear.list": async () => [{ uuid: "over-tls" }] },
    collectFacts: async () => facts("node1"),
    factsIntervalMs: 3_600_000,
    reconnectDelayMs: 200,
    maxReconnectDelayMs: 1000,
    log,
  });
}

/** What waitConnected fails with for a client of these TLS options (or none: plain STOMP). */
async function refusal(amq: PrivateActiveMQ, tls: BusTlsOptions | undefined): Promise<Error> {
  const conn = new BusConnection({
    host: amq.host,
    port: amq.port,
    user: amq.broker.user,
    password: amq.broker.password,
    name: "refused client",
    reconnectDelayMs: 200,
    maxReconnectDelayMs: 500,
    ...(tls ? { tls } : {}),
    log,
  });
  conn.start();
  try {
    await conn.waitConnected(3000);
  } catch (e) {
    return e as Error;
  } finally {
    await conn.stop();
  }
  throw new Error("expected the connection to be refused");
}

function expectNoSecretLogged(amq: PrivateActiveMQ): void {
  const brokerLog = amq.log();
  for (const secret of amq.secrets) {
    expect(logs.join("\n")).not.toContain(secret);
    expect(brokerLog).not.toContain(secret);
  }
}

describe("a bus CA-signed certificate (bus.geartrain.test, 127.0.0.1)", () => {
  let pki: TestPki;
  let ca: TestCertificate;
  let otherCa: TestCertificate;
  let amq: PrivateActiveMQ;
  let confDir: string;

  beforeAll(async () => {
    pki = testPki("bus-tls");
    ca = await pki.ca("ca");
    otherCa = await pki.ca("other-ca");
    const server = await pki.server(ca, "bus", { dns: [SERVER_NAME], ip: ["127.0.0.1"] });
    amq = await startActiveMQ({ nodes: ["node1"], name: "tls", tls: { certificate: server, ca } });
    // the CA as a service finds it: a file named by bus.tls.caFile
    confDir = mkdtempSync(path.join(os.tmpdir(), "gt-bus-tls-conf-"));
    writeFileSync(path.join(confDir, "bus-ca.crt"), ca.pem);
    writeFileSync(path.join(confDir, "other-ca.crt"), otherCa.pem);
  });

  afterAll(async () => {
    if (amq) {
      expectNoSecretLogged(amq);
      await amq.stop();
    }
    pki?.cleanup();
    if (confDir) rmSync(confDir, { recursive: true, force: true });
  });

  test("a round trip over TLS: broker (server name checked) → agent (IP SAN checked) → reply", async () => {
    expect(amq.tls).toBe(true);
    const brokerTls = busTlsOptions({ caFile: path.join(confDir, "bus-ca.crt"), serverName: SERVER_NAME });
    expect(brokerTls).toEqual({ ca: expect.stringContaining("BEGIN CERTIFICATE"), servername: SERVER_NAME });
    // the agent names no server: its certificate is checked against the host, 127.0.0.1 (an IP SAN)
    const agentTls = busTlsOptions({ caFile: path.join(confDir, "bus-ca.crt") });
    const agent = fakeAgent(amq, agentTls);
    await agent.start();
    const bus = await NodeBus.connect({
      host: amq.host,
      port: amq.port,
      user: amq.broker.user,
      password: amq.broker.password,
      tls: brokerTls,
      reconnectDelayMs: 200,
      log,
    });
    try {
      await agent.waitConnected(15_000);
      const got: NodeFacts[] = [];
      bus.onFacts((f) => got.push(f));
      const list = await bus.call("node1", "gear.list", {}, { timeoutMs: 15_000 });
      expect(list).toEqual([{ uuid: "over-tls" }]);
      expect(bus.nodeStatus("node1").status).toBe("responsive");
      expect(logs.join("\n")).toMatch(
        new RegExp(`connected to 127\\.0\\.0\\.1:${amq.port} over TLS \\(certificate of ${SERVER_NAME}\\)`),
      );
      expect(logs.join("\n")).toMatch(
        /agent node1: connected to .* over TLS \(certificate of 127\.0\.0\.1\)/,
      );
    } finally {
      await bus.close();
      await agent.stop();
    }
  });

  test("a client trusting another CA is refused: the certificate is not signed by the trusted CA", async () => {
    const before = logs.length;
    const err = await refusal(amq, busTlsOptions({ caFile: path.join(confDir, "other-ca.crt") }));
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toMatch(
      /no connection to the message bus at 127\.0\.0\.1:\d+ within 3000 ms \(TLS: the bus's certificate is not signed by the trusted CA \(/,
    );
    // said once in the log, not at every reconnect
    const said = logs.slice(before).filter((l) => l.includes("not signed by the trusted CA"));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^error refused client: 127\.0\.0\.1:\d+: TLS: /);
  });

  test("a client expecting another server name is refused: the certificate is not valid for it", async () => {
    const err = await refusal(amq, { ca: ca.pem, servername: "other.geartrain.test" });
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toContain(
      "TLS: the bus's certificate is not valid for the name other.geartrain.test",
    );
    expect(err.message).toContain("DNS:bus.geartrain.test");
  });

  test("a plain STOMP client gets no connection to the TLS connector", async () => {
    const err = await refusal(amq, undefined);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err.message).toMatch(/no connection to the message bus at 127\.0\.0\.1:\d+ within 3000 ms/);
  });

  test("the CA file is checked before anything connects, the error naming the field and the path", () => {
    const missing = path.join(confDir, "missing.crt");
    expect(() => busTlsOptions({ caFile: missing })).toThrow(
      `invalid bus.tls.caFile: cannot read the CA file ${missing}: does not exist`,
    );
    const key = path.join(confDir, "key.pem");
    writeFileSync(key, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    expect(() => busTlsOptions({ caFile: key })).toThrow(/invalid bus\.tls\.caFile: .* holds a private key/);
  });
});

describe("the Platform's shape: its self-signed wildcard certificate, server name <host>.<domain>", () => {
  const domain = "apps.tls.geartrain.test";
  let pki: TestPki;
  let amq: PrivateActiveMQ;
  let certificate: string;

  beforeAll(async () => {
    const made = await generateSelfSignedCertificate(resolveSelfSignedCertificate({ domain }));
    certificate = made.certificate;
    pki = testPki("bus-tls-platform");
    const server = pki.fromPem("wildcard", made.certificate, made.privateKey);
    amq = await startActiveMQ({ nodes: ["node1"], name: "tls-platform", tls: { certificate: server } });
  });

  afterAll(async () => {
    if (amq) {
      expectNoSecretLogged(amq);
      await amq.stop();
    }
    pki?.cleanup();
  });

  test("ca: the certificate itself, serverName: the bus host's name in the domain", async () => {
    const tls = { ca: certificate, servername: `bus1.${domain}` };
    const agent = fakeAgent(amq, tls);
    await agent.start();
    const bus = await NodeBus.connect({
      host: amq.host,
      port: amq.port,
      user: amq.broker.user,
      password: amq.broker.password,
      tls,
      log,
    });
    try {
      await agent.waitConnected(15_000);
      expect(await bus.call("node1", "gear.list", {}, { timeoutMs: 15_000 })).toEqual([{ uuid: "over-tls" }]);
    } finally {
      await bus.close();
      await agent.stop();
    }
    // the wildcard covers one label only, and the address itself is no name of it
    const deeper = await refusal(amq, { ca: certificate, servername: `a.bus1.${domain}` });
    expect(deeper.message).toContain(`not valid for the name a.bus1.${domain}`);
    const byAddress = await refusal(amq, { ca: certificate });
    expect(byAddress.message).toContain("not valid for the name 127.0.0.1");
  });
});
