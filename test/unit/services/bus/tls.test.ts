// STOMP over TLS, without ActiveMQ: the options a TLS socket is opened with (verification always on, the
// server name checked and sent as SNI unless it is an address), what a refused certificate is reported as,
// the socket against a local TLS server (a certificate made at run time), the CA file's checks and the
// bus.tls config of the broker and the agent (schema, each error naming its field).

import { X509Certificate } from "crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";
import { StompSocketState } from "@stomp/stompjs";
import { validateAgentConfig } from "../../../../common/config/agent-config";
import { validateBrokerConfig } from "../../../../common/config/broker-config";
import { generateSelfSignedCertificate } from "../../../../components/certificate/generate";
import { resolveSelfSignedCertificate } from "../../../../components/certificate/resolve";
import { busTlsOptions, readCaFile } from "../../../../services/bus/ca-file";
import {
  describeTlsError,
  expectedServerName,
  TcpStompSocket,
  tlsConnectOptions,
} from "../../../../services/bus/socket";

const DOMAIN = "apps.unit.geartrain.test";
let cert: { certificate: string; privateKey: string };
let other: { certificate: string; privateKey: string };
let dir: string;

beforeAll(async () => {
  cert = await generateSelfSignedCertificate(resolveSelfSignedCertificate({ domain: DOMAIN }));
  other = await generateSelfSignedCertificate(resolveSelfSignedCertificate({ domain: "other.test" }));
  dir = mkdtempSync(path.join(os.tmpdir(), "gt-unit-bus-tls-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("tlsConnectOptions", () => {
  test("verification on; the server name checked and sent as SNI", () => {
    const o = tlsConnectOptions("10.0.0.7", 16163, { ca: "PEM", servername: `bus.${DOMAIN}` });
    expect(o).toMatchObject({
      host: "10.0.0.7",
      port: 16163,
      ca: "PEM",
      rejectUnauthorized: true,
      servername: `bus.${DOMAIN}`,
    });
    expect(expectedServerName("10.0.0.7", { ca: "PEM", servername: "x.test" })).toBe("x.test");
  });

  test("without a server name, the host is checked; an address is sent as no SNI", () => {
    const byIp = tlsConnectOptions("127.0.0.1", 1, { ca: "PEM" });
    expect(byIp.servername).toBeUndefined();
    expect(expectedServerName("127.0.0.1", { ca: "PEM" })).toBe("127.0.0.1");
    expect(tlsConnectOptions("bus.example.com", 1, { ca: "PEM" }).servername).toBe("bus.example.com");
  });

  test("checkServerIdentity checks the expected name whatever the host", () => {
    const o = tlsConnectOptions("127.0.0.1", 1, { ca: "PEM", servername: `bus.${DOMAIN}` });
    const peer = new X509Certificate(cert.certificate).toLegacyObject();
    expect(o.checkServerIdentity!("127.0.0.1", peer)).toBeUndefined();
    const wrong = tlsConnectOptions("127.0.0.1", 1, { ca: "PEM", servername: "bus.elsewhere.test" });
    expect(wrong.checkServerIdentity!("127.0.0.1", peer)).toMatchObject({
      code: "ERR_TLS_CERT_ALTNAME_INVALID",
      message: expect.stringContaining("bus.elsewhere.test"),
    });
  });
});

describe("describeTlsError", () => {
  const err = (code: string, message = "m") => Object.assign(new Error(message), { code });
  test.each([
    ["ERR_TLS_CERT_ALTNAME_INVALID", /not valid for the name bus\.x\.test/],
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", /not signed by the trusted CA/],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", /not signed by the trusted CA/],
    ["SELF_SIGNED_CERT_IN_CHAIN", /not signed by the trusted CA/],
    ["CERT_HAS_EXPIRED", /outside its validity period/],
    ["EPROTO", /handshake with the bus failed \(is its connector stomp\+ssl\?\)/],
  ])("%s", (code, message) => {
    const said = describeTlsError(err(code), "bus.x.test");
    expect(said).toMatch(/^TLS: /);
    expect(said).toMatch(message);
    expect(said).toContain(code === "ERR_TLS_CERT_ALTNAME_INVALID" ? "(m)" : `${code}: m`);
  });
  test("not a certificate problem: null", () => {
    expect(describeTlsError(err("ECONNREFUSED"), "x")).toBeNull();
    expect(describeTlsError(err("ECONNRESET"), "x")).toBeNull();
    expect(describeTlsError(new Error("plain"), "x")).toBeNull();
  });
});

describe("TcpStompSocket over TLS against a local TLS server", () => {
  let server: tls.Server;
  let port: number;
  let received = "";
  beforeAll(async () => {
    server = tls.createServer({ cert: cert.certificate, key: cert.privateKey }, (s) => {
      s.on("data", (d) => (received += d.toString()));
      s.on("error", () => undefined);
      s.write("CONNECTED\n\n\0");
    });
    server.on("tlsClientError", () => undefined);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  function open(t: { ca: string; servername?: string }) {
    const sock = new TcpStompSocket({ host: "127.0.0.1", port, tls: t, establishTimeoutMs: 5000 });
    const events: string[] = [];
    const errors: Error[] = [];
    let data = "";
    sock.onopen = () => events.push("open");
    sock.onerror = (e) => void errors.push(e as Error);
    sock.onclose = () => events.push("close");
    sock.onmessage = (ev) => (data += Buffer.from((ev as { data: Uint8Array }).data).toString());
    const until = (cond: () => boolean) =>
      new Promise<void>((resolve, reject) => {
        const end = Date.now() + 5000;
        const t2 = setInterval(() => {
          if (cond()) {
            clearInterval(t2);
            resolve();
          } else if (Date.now() > end) {
            clearInterval(t2);
            reject(new Error(`timed out: ${events.join(",")}`));
          }
        }, 5);
      });
    return { sock, events, errors, data: () => data, until };
  }

  test("the right CA and name: open after the handshake, data both ways", async () => {
    const c = open({ ca: cert.certificate, servername: `bus.${DOMAIN}` });
    expect(c.sock.url).toBe(`ssl://127.0.0.1:${port}`);
    expect(c.sock.serverName).toBe(`bus.${DOMAIN}`);
    await c.until(() => c.events.includes("open") && c.data().startsWith("CONNECTED"));
    expect(c.sock.readyState).toBe(StompSocketState.OPEN);
    c.sock.send("SEND\n\n\0");
    await c.until(() => received.includes("SEND"));
    c.sock.terminate();
    await c.until(() => c.events.includes("close"));
  });

  test("another CA: no open, the error says the certificate is not signed by the trusted CA", async () => {
    const c = open({ ca: other.certificate, servername: `bus.${DOMAIN}` });
    await c.until(() => c.events.includes("close"));
    expect(c.events).not.toContain("open");
    expect(c.errors[0]!.message).toMatch(/^TLS: the bus's certificate is not signed by the trusted CA/);
  });

  test("another name: no open, the error names the name expected", async () => {
    const c = open({ ca: cert.certificate, servername: "bus.elsewhere.test" });
    await c.until(() => c.events.includes("close"));
    expect(c.events).not.toContain("open");
    expect(c.errors[0]!.message).toMatch(
      /^TLS: the bus's certificate is not valid for the name bus\.elsewhere\.test/,
    );
    // and by address: the wildcard does not list 127.0.0.1
    const byIp = open({ ca: cert.certificate });
    await byIp.until(() => byIp.events.includes("close"));
    expect(byIp.errors[0]!.message).toContain("not valid for the name 127.0.0.1");
  });
});

describe("the CA file", () => {
  test("PEM certificates are read back (a chain too)", () => {
    const f = path.join(dir, "ca.crt");
    writeFileSync(f, `junk before\n${cert.certificate}\n${other.certificate}`);
    const pem = readCaFile(f, "bus.tls.caFile");
    expect(pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(pem).not.toContain("junk");
  });

  test.each([
    ["missing", null, /cannot read the CA file .*missing: does not exist/],
    ["a directory", "dir", /cannot read the CA file .*: is a directory/],
    ["empty", "", /holds no PEM certificate/],
    ["a key", "key", /holds a private key: give the certificate\(s\) only/],
    [
      "a broken block",
      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
      /certificate 1 of 1 is not a valid X\.509/,
    ],
  ])("%s: refused naming the field and the path", (label, content, message) => {
    const f = path.join(dir, label.replace(/ /g, "-"));
    if (content === "dir") mkdirSync(f, { recursive: true });
    else if (content === "key") writeFileSync(f, `${cert.certificate}${cert.privateKey}`);
    else if (content !== null) writeFileSync(f, content);
    let e: { field?: string; message: string } | undefined;
    try {
      readCaFile(f, "bus.tls.caFile");
    } catch (err) {
      e = err as typeof e;
    }
    expect(e?.field).toBe("bus.tls.caFile");
    expect(e?.message).toMatch(/^invalid bus\.tls\.caFile: /);
    expect(e?.message).toContain(f);
    expect(e?.message).toMatch(message);
  });

  test("busTlsOptions: none for no bus.tls; the CA read and the server name passed on", () => {
    const f = path.join(dir, "bus-ca.crt");
    writeFileSync(f, cert.certificate);
    expect(busTlsOptions(undefined)).toBeUndefined();
    expect(busTlsOptions({ caFile: f })).toEqual({ ca: cert.certificate.trimEnd() + "\n" });
    expect(busTlsOptions({ caFile: f, serverName: "bus.x.test" })).toEqual({
      ca: cert.certificate.trimEnd() + "\n",
      servername: "bus.x.test",
    });
  });
});

describe("bus.tls in the broker's and the agent's config", () => {
  const agent = {
    bus: { host: "10.0.0.7", port: 16163, user: "agent-n1", passwordFile: "/etc/geartrain/agent.password" },
    node: "n1",
    district: "d",
    profile: "small",
    maxActiveGears: 10,
    publicHostname: "n1.example.com",
  };
  const broker = {
    listen: { host: "127.0.0.1", port: 8080 },
    cloudDomain: "apps.example.com",
    database: { host: "127.0.0.1", port: 5432, database: "g", user: "b", passwordFile: "/etc/g/db" },
    bus: { host: "10.0.0.7", port: 16163, user: "broker", passwordFile: "/etc/g/bus" },
    dns: { server: "127.0.0.1", port: 53, zone: "example.com", keyFile: "/etc/g/key" },
  };
  const withTls = <T extends { bus: object }>(doc: T, t: unknown) => ({
    ...doc,
    bus: { ...doc.bus, tls: t },
  });
  const both: [string, (d: unknown) => unknown, { bus: object }][] = [
    ["agent", validateAgentConfig, agent],
    ["broker", validateBrokerConfig, broker],
  ];

  test.each(both)("%s: absent (plain STOMP) and present are accepted", (_l, validate, doc) => {
    expect(validate(doc)).toEqual(doc);
    const t = withTls(doc, { caFile: "/etc/geartrain/bus-ca.crt", serverName: "bus1.apps.example.com" });
    expect(validate(t)).toEqual(t);
    const noName = withTls(doc, { caFile: "/etc/geartrain/bus-ca.crt" });
    expect(validate(noName)).toEqual(noName);
  });

  test.each(both)("%s: each bad value fails naming its field", (_l, validate, doc) => {
    const bad: [unknown, string][] = [
      [{}, "invalid config.bus.tls.caFile: is missing"],
      [
        { caFile: "bus-ca.crt" },
        'invalid config.bus.tls.caFile: must be an absolute path to a PEM CA certificate file (got "bus-ca.crt")',
      ],
      [
        { caFile: "/ca", serverName: "bus_1.example.com" },
        "invalid config.bus.tls.serverName: must be a DNS name",
      ],
      [
        { caFile: "/ca", serverName: "bus.example.com." },
        "invalid config.bus.tls.serverName: must be a DNS name",
      ],
      [{ caFile: "/ca", ca: "PEM" }, "invalid config.bus.tls.ca: unknown key"],
      [true, "invalid config.bus.tls: must be object"],
    ];
    for (const [t, message] of bad) expect(() => validate(withTls(doc, t))).toThrow(message);
  });
});
