// HTTPS on the node frontend against a real nginx (a private instance on 127.0.0.1, never the system one),
// with a wildcard certificate for *.example.com + example.com made here by Debian's openssl: a gear's route
// over https with the right SNI/Host, verified against that certificate, HTTP/2 by ALPN, HTTP still answering,
// X-Forwarded-Proto/Port telling the gear the scheme, an unknown name 404 over TLS too, an alias outside the
// wildcard failing verification; idle and unidle over https with the unidler; `syncGearFrontends` turning TLS
// on for gears routed before, serving a certificate replaced at the same path (one SelfSignedCertificate
// makes), and refused (nginx -t: a missing key) with every file restored and the old certificate served.

import { X509Certificate } from "crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as http from "http";
import * as http2 from "http2";
import * as https from "https";
import * as path from "path";
import * as tls from "tls";
import { resolveSelfSignedCertificate } from "../../components/certificate";
import { generateSelfSignedCertificate } from "../../components/certificate/generate";
import { makeContext, type NodeContext } from "../../node/context";
import {
  FrontendError,
  gearFrontendDrift,
  gearFrontendPath,
  setGearFrontend,
  syncGearFrontends,
  type GearFrontendSpec,
} from "../../node/frontend/operations";
import { startUnidler } from "../../node/frontend/unidler";
import { createGear } from "../../node/gear/lifecycle";
import { gearAddresses } from "../../node/host/addresses";
import { run } from "../../node/host/exec";
import type { FrontendTlsConfig } from "../../node/types";
import { freePort, startPrivateNginx, type PrivateNginx } from "../helpers/private-nginx";
import { makeTestNode, newUuid, type TestNode } from "./helpers";

jest.setTimeout(120_000);

const OPENSSL = "/usr/bin/openssl";

/** A self-signed EC P-256 certificate for *.example.com and example.com, key 0600 (openssl, argv only). */
async function makeCertificate(crt: string, key: string, cn: string): Promise<string> {
  if (!existsSync(OPENSSL)) throw new Error(`${OPENSSL} is missing. Fix: apt-get install -y openssl`);
  const r = await run(
    [
      OPENSSL,
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      key,
      "-out",
      crt,
      "-days",
      "2",
      "-subj",
      `/CN=${cn}`,
      "-addext",
      "subjectAltName=DNS:*.example.com,DNS:example.com",
    ],
    { timeoutMs: 30_000 },
  );
  if (r.code !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  return readFileSync(crt, "utf8");
}

interface Res {
  readonly status: number;
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
  /** sha256 fingerprint of the certificate the server presented (https only) */
  readonly fingerprint?: string;
}

function collect(res: http.IncomingMessage, extra: Partial<Res>, resolve: (r: Res) => void): void {
  let body = "";
  res.setEncoding("utf8");
  res.on("data", (d) => (body += d));
  res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, ...extra }));
}

function httpGet(port: number, host: string, urlPath = "/"): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: "127.0.0.1", port, path: urlPath, headers: { host }, timeout: 10_000, agent: false },
      (res) => collect(res, {}, resolve),
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/** GET over TLS with SNI = Host = `host`, verified against `ca` (the certificate itself: self-signed). */
function httpsGet(port: number, host: string, ca: string, urlPath = "/"): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: "127.0.0.1",
        port,
        path: urlPath,
        servername: host,
        headers: { host },
        ca,
        timeout: 10_000,
        agent: false,
      },
      (res) => {
        const cert = (res.socket as tls.TLSSocket).getPeerCertificate();
        collect(res, { fingerprint: cert.fingerprint256 }, resolve);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/** One GET over HTTP/2 (ALPN h2), verified against `ca`. */
function h2Get(
  port: number,
  host: string,
  ca: string,
): Promise<{ status: number; body: string; alpn: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${port}`, { ca, servername: host });
    session.on("error", reject);
    const req = session.request({ ":path": "/", ":authority": host });
    let status = 0;
    let body = "";
    req.setEncoding("utf8");
    req.on("response", (h) => (status = Number(h[":status"])));
    req.on("data", (d: string) => (body += d));
    req.on("end", () => {
      const alpn = String(session.alpnProtocol);
      session.close();
      resolve({ status, body, alpn });
    });
    req.on("error", reject);
    req.end();
  });
}

let node: TestNode;
let nginx: PrivateNginx;
let dir: string;
let crtFile: string;
let keyFile: string;
let certPem: string;
let unidlerPort: number;
let tlsCtx: NodeContext;
let backendServer: http.Server;
const A = { uuid: newUuid(), app: "alpha", namespace: "dev" };
const hostA = "alpha-dev.example.com";
let ipA: string;

function specA(extra: Partial<GearFrontendSpec> = {}): GearFrontendSpec {
  return {
    gearUuid: A.uuid,
    hostnames: [hostA, "www.alpha.example.org"],
    routes: [{ path: "", backend: { ip: ipA, port: 8080 } }],
    ...extra,
  };
}

beforeAll(async () => {
  dir = mkdtempSync("/tmp/gt-test-fetls-");
  crtFile = path.join(dir, "wildcard.crt");
  keyFile = path.join(dir, "wildcard.key");
  certPem = await makeCertificate(crtFile, keyFile, "*.example.com");
  unidlerPort = await freePort();
  nginx = await startPrivateNginx(path.join(dir, "nginx"), {
    idleStarter: `127.0.0.1:${unidlerPort}`,
    tls: { certificate: crtFile, key: keyFile },
  });
  // the node starts without TLS (its gears routed before the platform had a certificate); tlsCtx has it
  const plain = { ...nginx.frontend, tls: null };
  node = await makeTestNode("fetls", 65400, { frontend: plain, network: { isolation: "none" } }, 50);
  tlsCtx = await makeContext({ ...node.config, frontend: nginx.frontend });
  await createGear(node.ctx, { ...A, uid: node.uid(1) }, { inspect: false });
  ipA = gearAddresses(node.uid(1)).loopback.first;
  // the gear's app: says what it was told about the request
  backendServer = http.createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end(
      `A ${req.url} host=${req.headers.host} proto=${String(req.headers["x-forwarded-proto"])} port=${String(
        req.headers["x-forwarded-port"],
      )}`,
    );
  });
  await new Promise<void>((resolve, reject) => {
    backendServer.once("error", reject);
    backendServer.listen(8080, ipA, () => resolve());
  });
});

afterAll(async () => {
  if (backendServer) {
    backendServer.closeAllConnections();
    await new Promise<void>((r) => backendServer.close(() => r()));
  }
  try {
    await node?.cleanup();
  } finally {
    await nginx?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  expect(existsSync(dir)).toBe(false);
});

test("without frontend.tls nothing listens on the TLS port; sync with tls turns HTTPS on for routed gears", async () => {
  await setGearFrontend(node.ctx, specA());
  expect(readFileSync(gearFrontendPath(node.config, A.uuid), "utf8")).not.toMatch(/ssl/);
  expect((await httpGet(nginx.port, hostA)).body).toBe(`A / host=${hostA} proto=http port=${nginx.port}`);
  await expect(httpsGet(nginx.tlsPort!, hostA, certPem)).rejects.toThrow(/ECONNREFUSED/);
  // the config now has tls: the file rendered without it is drift until synced
  expect(await gearFrontendDrift(tlsCtx, A.uuid)).toMatch(/differs from its rendered spec/);
  expect(await syncGearFrontends(tlsCtx)).toEqual({ rewritten: [A.uuid], unchanged: [], damaged: {} });
  expect(await gearFrontendDrift(tlsCtx, A.uuid)).toBeNull();
  const r = await httpsGet(nginx.tlsPort!, hostA, certPem, "/x?y=1");
  expect(r.status).toBe(200);
  expect(r.body).toBe(`A /x?y=1 host=${hostA} proto=https port=${nginx.tlsPort}`);
  // a second sync rewrites nothing (and still reloads)
  expect(await syncGearFrontends(tlsCtx)).toEqual({ rewritten: [], unchanged: [A.uuid], damaged: {} });
});

test("https: the app's page with the right SNI/Host, verified against the certificate; HTTP still answers", async () => {
  await setGearFrontend(tlsCtx, specA());
  const r = await httpsGet(nginx.tlsPort!, hostA, certPem);
  expect(r.status).toBe(200);
  expect(r.body).toBe(`A / host=${hostA} proto=https port=${nginx.tlsPort}`);
  expect(r.fingerprint).toBe(new X509Certificate(certPem).fingerprint256);
  // HTTP on its own port, same route, told it is http
  expect((await httpGet(nginx.port, hostA)).body).toBe(`A / host=${hostA} proto=http port=${nginx.port}`);
  // HTTP/2 by ALPN
  expect(await h2Get(nginx.tlsPort!, hostA, certPem)).toEqual({
    status: 200,
    alpn: "h2",
    body: `A / host=${hostA} proto=https port=${nginx.tlsPort}`,
  });
  // a name no gear has: 404 over TLS too (served with the same certificate)
  expect((await httpsGet(nginx.tlsPort!, "nobody-dev.example.com", certPem)).status).toBe(404);
  // an alias outside *.example.com is routed but the wildcard does not cover it
  await expect(httpsGet(nginx.tlsPort!, "www.alpha.example.org", certPem)).rejects.toMatchObject({
    code: "ERR_TLS_CERT_ALTNAME_INVALID",
  });
  // and another CA does not vouch for it
  const otherCrt = path.join(dir, "other.crt");
  const other = await makeCertificate(otherCrt, path.join(dir, "other.key"), "*.example.com");
  await expect(httpsGet(nginx.tlsPort!, hostA, other)).rejects.toThrow(/self.signed|unable to verify/i);
});

test("idle over https: the unidler starts the gear once; unidled, https routes to the app again", async () => {
  const started: string[] = [];
  const unidler = await startUnidler({
    ctx: tlsCtx,
    listen: { host: "127.0.0.1", port: unidlerPort },
    startGear: async (uuid) => {
      started.push(uuid);
    },
  });
  try {
    await setGearFrontend(tlsCtx, specA({ idle: true }));
    const r = await httpsGet(nginx.tlsPort!, hostA, certPem);
    expect(r.status).toBe(503);
    expect(r.headers["retry-after"]).toBe("5");
    expect(r.body).toMatch(/This application is starting/);
    await unidler.starting.get(A.uuid);
    expect(started).toEqual([A.uuid]);
    expect((await httpsGet(nginx.tlsPort!, hostA, certPem)).body).toMatch(/^A \/ .*proto=https/);
    expect((await httpGet(nginx.port, hostA)).body).toMatch(/^A \/ .*proto=http /);
  } finally {
    await unidler.close();
  }
  // the unidler down: nginx's own starting page, over https too
  await setGearFrontend(tlsCtx, specA({ idle: true }));
  expect((await httpsGet(nginx.tlsPort!, hostA, certPem)).status).toBe(503);
  await setGearFrontend(tlsCtx, specA());
  expect((await httpsGet(nginx.tlsPort!, hostA, certPem)).status).toBe(200);
});

test("a certificate replaced at the same path is served after sync; a refused sync restores every file", async () => {
  const before = readFileSync(gearFrontendPath(node.config, A.uuid), "utf8");
  // the replacement is what the platform's SelfSignedCertificate makes (components/certificate): nginx takes it
  const made = await generateSelfSignedCertificate(resolveSelfSignedCertificate({ domain: "example.com" }));
  writeFileSync(keyFile, made.privateKey, { mode: 0o600 });
  writeFileSync(crtFile, made.certificate);
  const rotated = made.certificate;
  expect(await syncGearFrontends(tlsCtx)).toEqual({ rewritten: [], unchanged: [A.uuid], damaged: {} });
  const r = await httpsGet(nginx.tlsPort!, hostA, rotated);
  expect(r.fingerprint).toBe(new X509Certificate(rotated).fingerprint256);
  expect(r.fingerprint).not.toBe(new X509Certificate(certPem).fingerprint256);
  // a config naming a key that is not there: nginx -t refuses, nothing changes, the rotated cert is served
  const missing: FrontendTlsConfig = { ...nginx.frontend.tls!, key: path.join(dir, "missing.key") };
  const badCtx = await makeContext({ ...node.config, frontend: { ...nginx.frontend, tls: missing } });
  await expect(syncGearFrontends(badCtx)).rejects.toThrow(FrontendError);
  await expect(syncGearFrontends(badCtx)).rejects.toThrow(/nginx rejected the configuration.*missing\.key/);
  expect(readFileSync(gearFrontendPath(node.config, A.uuid), "utf8")).toBe(before);
  expect((await httpsGet(nginx.tlsPort!, hostA, rotated)).status).toBe(200);
  // a set under the bad config is refused the same way and leaves the route served
  await expect(setGearFrontend(badCtx, specA({ routes: [] }))).rejects.toThrow(FrontendError);
  expect((await httpsGet(nginx.tlsPort!, hostA, rotated)).body).toMatch(/^A \//);
  // turning TLS off again: the HTTP-only bytes, the TLS port closed
  expect(await syncGearFrontends(node.ctx)).toEqual({ rewritten: [A.uuid], unchanged: [], damaged: {} });
  expect(readFileSync(gearFrontendPath(node.config, A.uuid), "utf8")).not.toMatch(/ssl/);
  await expect(httpsGet(nginx.tlsPort!, hostA, rotated)).rejects.toThrow(/ECONNREFUSED/);
  expect((await httpGet(nginx.port, hostA)).status).toBe(200);
});
