// The broker process (`geartrain broker run`, services/broker/main.ts) started from the config the Broker
// component renders with `tls` (resolveBroker, renderBrokerConfig, renderBrokerCertificate, renderBrokerKey;
// the files named as brokerPaths says, the key 0600), on real PostgreSQL, ActiveMQ and BIND: its public
// listener (127.0.0.2 here, standing for the host's address) answers HTTPS with the certificate under the
// broker's DNS name and nothing in plain HTTP; the loopback listener answers plain HTTP on 127.0.0.1 only;
// the component's readiness command and the District's CLI (`admin district create --server <localUrl>`)
// work over it. No gear, no node: no UIDs of the machine are used.
import { execFile, spawn, type ChildProcess } from "child_process";
import { chmodSync, copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { generateSelfSignedCertificate } from "../../../components/certificate/generate";
import { resolveSelfSignedCertificate } from "../../../components/certificate/resolve";
import {
  readinessCommand,
  renderBrokerCertificate,
  renderBrokerConfig,
  renderBrokerKey,
  renderPasswordFile,
} from "../../../components/broker/render";
import { brokerPaths, resolveBroker, type BrokerSpec } from "../../../components/broker/resolve";
import { freePort } from "../../helpers/private-nginx";
import { REPO_ROOT } from "../../helpers/repo-root";
import { startActiveMQ, type PrivateActiveMQ } from "../../helpers/services/activemq";
import { startBind, type PrivateBind } from "../../helpers/services/bind";
import { startPostgres, type TestPostgres } from "../../helpers/services/postgres";

jest.setTimeout(60_000);
const execFileP = promisify(execFile);

const ZONE = "apps.geartrain.test";
const SERVER_NAME = `broker1.${ZONE}`;
const PUBLIC = "127.0.0.2";
const ADMIN_PW = "admin-secret-Pw-7301";
const cli = (args: string[]) => [
  "-r",
  path.join(REPO_ROOT, "test/helpers/register-ts.js"),
  path.join(REPO_ROOT, "test/helpers/services/run-cli.ts"),
  ...args,
];

let pg: TestPostgres | undefined;
let bind: PrivateBind | undefined;
let amq: PrivateActiveMQ | undefined;
let dir: string;
let child: ChildProcess | undefined;
let spec: BrokerSpec;
let certificate: string;
let listening: { listening: string; local?: string };
let log = "";

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "gt-broker-https-"));
  chmodSync(dir, 0o700);
  pg = await startPostgres();
  bind = await startBind({ zone: ZONE });
  amq = await startActiveMQ({ nodes: [], name: "https" });
  const port = await freePort(PUBLIC);
  spec = resolveBroker("broker1", {
    cloudDomain: ZONE,
    address: PUBLIC,
    port,
    directory: dir,
    tls: { serverName: SERVER_NAME },
  });
  const made = await generateSelfSignedCertificate(resolveSelfSignedCertificate({ domain: ZONE }));
  certificate = made.certificate;
  const p = brokerPaths(dir);
  writeFileSync(
    p.config,
    renderBrokerConfig(spec, {
      datastore: { ...pg.connection },
      bus: { host: amq.host, port: amq.port, user: amq.broker.user },
      dns: { server: bind.server, port: bind.port, zone: ZONE },
    }),
  );
  writeFileSync(p.databasePassword, renderPasswordFile("d", pg.connection.password), { mode: 0o600 });
  writeFileSync(p.busPassword, renderPasswordFile("b", amq.broker.password), { mode: 0o600 });
  writeFileSync(p.adminPassword, renderPasswordFile("a", ADMIN_PW), { mode: 0o600 });
  copyFileSync(bind.keyFile, p.dnsKey);
  chmodSync(p.dnsKey, 0o600);
  writeFileSync(p.tlsCertificate, renderBrokerCertificate(made.certificate, SERVER_NAME), { mode: 0o640 });
  writeFileSync(p.tlsKey, renderBrokerKey(made.certificate, made.privateKey), { mode: 0o600 });

  const c = spawn(process.execPath, cli(["broker", "run", "--config", p.config]), {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child = c;
  c.stderr!.on("data", (d) => (log += String(d)));
  listening = await new Promise((resolve, reject) => {
    let out = "";
    c.stdout!.on("data", (d) => {
      out += d;
      const line = out.split("\n").find((l) => l.startsWith('{"listening"'));
      if (line) resolve(JSON.parse(line));
    });
    c.once("exit", (code, signal) => reject(new Error(`broker exited ${code ?? signal}: ${log}`)));
  });
}, 300_000);

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((resolve) => child!.once("exit", resolve));
    child.kill("SIGTERM");
    await gone;
  }
  await amq?.stop();
  await bind?.stop();
  await pg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

/** GET over HTTPS to `host`, checking the certificate against `ca` under `servername`. */
function httpsGet(
  host: string,
  servername: string,
  ca?: string,
): Promise<{ status: number; body: string; peer: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host,
        port: spec.port,
        servername,
        path: "/broker/rest/api",
        ca,
        headers: { accept: "application/json;version=1.7", host: `${SERVER_NAME}:${spec.port}` },
        timeout: 5000,
      },
      (res) => {
        const peer = (res.socket as import("tls").TLSSocket).getPeerCertificate().fingerprint256;
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, peer }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

const plain = (host: string, port: number) =>
  fetch(`http://${host}:${port}/broker/rest/api`, { signal: AbortSignal.timeout(5000) }).then(
    (r) => r.status,
    (e: Error) => `refused: ${(e.cause as Error | undefined)?.message ?? e.message}`,
  );

test("the process says where: https under the address, plain http on 127.0.0.1", () => {
  expect(listening.listening).toBe(`https://${PUBLIC}:${spec.port}`);
  expect(listening.local).toBe(`http://127.0.0.1:${spec.port}`);
  expect(spec.url).toBe(`https://${SERVER_NAME}:${spec.port}`);
  expect(spec.localUrl).toBe(listening.local);
  // the key file is the broker user's alone
  expect((statSync(brokerPaths(dir).tlsKey).mode & 0o777).toString(8)).toBe("600");
});

test("the public listener answers HTTPS with the certificate, verified under the broker's DNS name", async () => {
  const r = await httpsGet(PUBLIC, SERVER_NAME, certificate);
  expect(r.status).toBe(200);
  expect(JSON.parse(r.body).api_version).toBe(1.7);
  const { X509Certificate } = await import("crypto");
  expect(r.peer).toBe(new X509Certificate(certificate).fingerprint256);
  // a client that does not trust it, or checks another name, is refused
  await expect(httpsGet(PUBLIC, SERVER_NAME)).rejects.toThrow(/self[- ]signed/i);
  await expect(httpsGet(PUBLIC, "broker1.elsewhere.test", certificate)).rejects.toThrow(
    /altnames|does not match|not in the cert/i,
  );
  // and plain HTTP gets no answer there
  expect(await plain(PUBLIC, spec.port)).not.toBe(200);
});

test("the loopback listener answers plain HTTP on 127.0.0.1 only, and no TLS there", async () => {
  expect(await plain("127.0.0.1", spec.port)).toBe(200);
  await expect(httpsGet("127.0.0.1", SERVER_NAME, certificate)).rejects.toThrow();
  // not on another loopback address, nor on the host's other addresses
  expect(String(await plain("127.0.0.3", spec.port))).toMatch(/^refused: .*ECONNREFUSED/);
  const others = Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a && a.family === "IPv4" && !a.address.startsWith("127."))
    .map((a) => a!.address);
  for (const a of others) expect(String(await plain(a, spec.port))).toMatch(/^refused: /);
});

test("on-host tools over the loopback listener: the readiness command, the District's CLI", async () => {
  const [node, ...args] = readinessCommand(process.execPath, spec);
  await execFileP(node!, args, { timeout: 10_000 });
  const env = {
    ...process.env,
    GEARTRAIN_LOGIN: "admin",
    GEARTRAIN_PASSWORD: ADMIN_PW,
    GEARTRAIN_HOME: "/nonexistent/geartrain-district",
  };
  const create = ["admin", "district", "create", "dhttps", "--gear-profile", "small"];
  const r = await execFileP(
    process.execPath,
    cli([...create, "--first-uid", "1000", "--capacity", "10", "--exists-ok", "--server", spec.localUrl]),
    { cwd: REPO_ROOT, env, timeout: 60_000 },
  );
  expect(r.stdout + r.stderr).toMatch(/dhttps/);
  // it is the same API: the district is seen over HTTPS too
  const seen = await new Promise<number>((resolve, reject) => {
    https
      .get(
        {
          host: PUBLIC,
          port: spec.port,
          servername: SERVER_NAME,
          ca: certificate,
          path: "/broker/rest/admin/district/dhttps",
          headers: {
            accept: "application/json;version=1.7",
            authorization: `Basic ${Buffer.from(`admin:${ADMIN_PW}`).toString("base64")}`,
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      )
      .on("error", reject);
  });
  expect(seen).toBe(200);
  expect(log).not.toContain(ADMIN_PW);
});
