// The broker's REST API over HTTPS (config listen.tls): served with the configured certificate, verified by a
// client that trusts it, refused by one that does not, and no plain HTTP on the same port. The certificate is
// made at run time (openssl, a throwaway key in a temporary directory).
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import type { FastifyInstance } from "fastify";
import { buildServer } from "../../../services/broker/rest/server";
import {
  readCertificateFile,
  readPrivateKeyFile,
  validateBrokerConfig,
} from "../../../services/broker/config";
import { FakeService } from "./fake-service";

let dir: string;
let cert: string;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "gt-broker-https-"));
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
    "-subj", "/CN=broker.test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:broker.test",
    "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
  ], { stdio: "pipe" }); // prettier-ignore
  cert = readCertificateFile(path.join(dir, "cert.pem"), "listen.tls.certificateFile");
  app = await buildServer({
    service: new FakeService(),
    logger: false,
    https: { cert, key: fs.readFileSync(path.join(dir, "key.pem"), "utf8") },
  });
  url = await app.listen({ host: "127.0.0.1", port: 0 });
});
afterAll(async () => {
  await app?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function get(target: string, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(target, { ca, headers: { accept: "application/json;version=1.7" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
  });
}

it("listens on https and answers GET /broker/rest/api to a client that trusts the certificate", async () => {
  expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  const res = await get(`${url}/broker/rest/api`, cert);
  expect(res.status).toBe(200);
  expect(JSON.parse(res.body).api_version).toBe(1.7);
});

it("is refused by a client that does not trust the certificate", async () => {
  await expect(get(`${url}/broker/rest/api`)).rejects.toThrow(/self[- ]signed/i);
});

it("does not answer plain HTTP on its port", async () => {
  const plain = url.replace(/^https:/, "http:");
  const answered = await fetch(`${plain}/broker/rest/api`).then(
    (r) => r.status,
    () => "refused",
  );
  expect(answered).not.toBe(200);
});

it("refuses a certificate file that holds no certificate, naming the field", () => {
  fs.writeFileSync(path.join(dir, "not-a-cert.pem"), "hello\n");
  expect(() => readCertificateFile(path.join(dir, "not-a-cert.pem"), "listen.tls.certificateFile")).toThrow(
    /listen\.tls\.certificateFile.*no PEM certificate/,
  );
});

it("reads the key file through the shared PEM check: a certificate or a key others may read is refused", () => {
  const keyFile = path.join(dir, "key.pem");
  fs.chmodSync(keyFile, 0o600);
  expect(readPrivateKeyFile(keyFile, "listen.tls.keyFile")).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
  const certAsKey = path.join(dir, "cert-as-key.pem");
  fs.writeFileSync(certAsKey, cert, { mode: 0o600 });
  expect(() => readPrivateKeyFile(certAsKey, "listen.tls.keyFile")).toThrow(
    /^invalid listen\.tls\.keyFile: .*cert-as-key\.pem: holds a certificate, not a private key/,
  );
  fs.chmodSync(keyFile, 0o644);
  expect(() => readPrivateKeyFile(keyFile, "listen.tls.keyFile")).toThrow(/readable by others/);
  fs.chmodSync(keyFile, 0o600);
  // a key beside the certificate is refused too (the certificate file is public)
  fs.writeFileSync(path.join(dir, "both.pem"), `${cert}${fs.readFileSync(keyFile, "utf8")}`);
  expect(() => readCertificateFile(path.join(dir, "both.pem"), "listen.tls.certificateFile")).toThrow(
    /listen\.tls\.certificateFile: .*both\.pem: holds a private key/,
  );
});

describe("listen.tls in the broker config", () => {
  const base = {
    listen: { host: "127.0.0.1", port: 8443 },
    cloudDomain: "apps.example.test",
    database: { host: "127.0.0.1", port: 5432, database: "g", user: "b", passwordFile: "/etc/g/db" },
    bus: { host: "127.0.0.1", port: 61613, user: "broker", passwordFile: "/etc/g/bus" },
    dns: { server: "127.0.0.1", port: 53, zone: "apps.example.test", keyFile: "/etc/g/tsig" },
  };
  const withTls = (tls: unknown) => ({ ...base, listen: { ...base.listen, tls } });

  it("is accepted with absolute certificate and key files", () => {
    const tls = { certificateFile: "/etc/g/cert.pem", keyFile: "/etc/g/key.pem" };
    expect(validateBrokerConfig(withTls(tls)).listen.tls).toEqual(tls);
  });
  it("listen.local: a plain-HTTP listener on a 127.0.0.0/8 address only", () => {
    const tls = { certificateFile: "/etc/g/cert.pem", keyFile: "/etc/g/key.pem" };
    const withLocal = (local: unknown) => ({ ...base, listen: { ...base.listen, tls, local } });
    expect(validateBrokerConfig(withLocal({ host: "127.0.0.1", port: 8443 })).listen.local).toEqual({
      host: "127.0.0.1",
      port: 8443,
    });
    for (const local of [{ host: "0.0.0.0", port: 1 }, { host: "10.0.0.5", port: 1 }, { host: "127.0.0.1" }])
      expect(() => validateBrokerConfig(withLocal(local))).toThrow(/listen\.local/);
  });
  it.each([
    [{ certificateFile: "/etc/g/cert.pem" }, /listen\.tls/],
    [{ certificateFile: "cert.pem", keyFile: "/etc/g/key.pem" }, /listen\.tls\.certificateFile/],
    [{ certificateFile: "/c", keyFile: "/k", ca: "/x" }, /listen\.tls/],
  ])("refuses %j naming the field", (tls, message) => {
    expect(() => validateBrokerConfig(withTls(tls))).toThrow(message);
  });
});
