// The node frontend against a real nginx (a private instance on 127.0.0.1:<free port>, never the system
// one): routing by Host header to backends on gear loopback IPs, aliases, path mappings, validation before
// reload (a broken config keeps the previous routes served), a change served from the first request after
// set returns (no retries: the reload waits for nginx's workers to switch; a reload that does not switch
// times out and is undone), removal, idle page + unidler, CLI, node check.

import { ConflictError, ValidationError } from "../../common/errors";
import {
  existsSync,
  mkdtempSync,
  promises as fs,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "fs";
import * as http from "http";
import * as path from "path";
import { checkNode } from "../../node/check";
import { makeContext } from "../../node/context";
import {
  FrontendError,
  gearFrontendPath,
  listGearFrontends,
  readGearFrontend,
  removeGearFrontend,
  setGearFrontend,
  type GearFrontendSpec,
} from "../../node/frontend/operations";
import { freePort, startPrivateNginx, type PrivateNginx } from "../helpers/private-nginx";
import { startUnidler, type Unidler } from "../../node/frontend/unidler";
import { createGear, destroyGear } from "../../node/gear/lifecycle";
import { gearAddresses } from "../../node/host/addresses";
import { cli, makeTestNode, newUuid, type TestNode } from "./helpers";

jest.setTimeout(120_000);

interface Backend {
  readonly ip: string;
  readonly port: number;
  /** request paths it saw */
  readonly seen: string[];
  close(): Promise<void>;
}

/** An HTTP server on a gear loopback IP that answers "<name> <url>" (root, like nginx in the test). */
function backend(name: string, ip: string, port: number): Promise<Backend> {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? "");
    res.writeHead(200, { "Content-Type": "text/plain", "X-Host-Seen": String(req.headers.host) });
    res.end(`${name} ${req.url}`);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, ip, () =>
      resolve({
        ip,
        port,
        seen,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      }),
    );
  });
}

interface Res {
  readonly status: number;
  readonly body: string;
  readonly headers: http.IncomingHttpHeaders;
}

function get(port: number, host: string, urlPath = "/"): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: "127.0.0.1", port, path: urlPath, headers: { host }, timeout: 10_000, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

let node: TestNode;
let nginx: PrivateNginx;
let nginxDir: string;
let unidlerPort: number;
const backends: Backend[] = [];
const A = { uuid: newUuid(), app: "alpha", namespace: "dev" };
const B = { uuid: newUuid(), app: "beta", namespace: "dev" };
let ipA: string; // first private IP of gear A
let ipB: string;
let ipA2: string; // second private IP of gear A
const hostA = "alpha-dev.example.com";
const hostB = "beta-dev.example.com";

function specA(extra: Partial<GearFrontendSpec> = {}): GearFrontendSpec {
  return {
    gearUuid: A.uuid,
    hostnames: [hostA],
    routes: [{ path: "", backend: { ip: ipA, port: 8080 } }],
    ...extra,
  };
}

beforeAll(async () => {
  nginxDir = mkdtempSync("/tmp/gt-test-fe-nginx-");
  unidlerPort = await freePort();
  nginx = await startPrivateNginx(nginxDir, { idleStarter: `127.0.0.1:${unidlerPort}` });
  node = await makeTestNode("fe", 63000, { frontend: nginx.frontend, network: { isolation: "none" } });
  await createGear(node.ctx, { ...A, uid: node.uid(1) }, { inspect: false });
  await createGear(node.ctx, { ...B, uid: node.uid(2) }, { inspect: false });
  const a = gearAddresses(node.uid(1)).loopback.first;
  ipA = a;
  ipA2 = a.replace(/\.(\d+)$/, (_, n: string) => `.${Number(n) + 1}`);
  ipB = gearAddresses(node.uid(2)).loopback.first;
  backends.push(
    await backend("A", ipA, 8080),
    await backend("A-api", ipA2, 9000),
    await backend("B", ipB, 8080),
  );
});

afterAll(async () => {
  for (const b of backends) await b.close();
  try {
    await node?.cleanup();
  } finally {
    await nginx?.stop();
    rmSync(nginxDir, { recursive: true, force: true });
  }
  expect(existsSync(nginxDir)).toBe(false);
});

test("routes by Host header to each gear's backend; unknown hosts get 404", async () => {
  await setGearFrontend(node.ctx, specA());
  await setGearFrontend(node.ctx, {
    gearUuid: B.uuid,
    hostnames: [hostB],
    routes: [{ path: "", backend: { ip: ipB, port: 8080 } }],
  });
  // set returns once nginx serves the change: no old worker answers any more, from the first request on
  const burst = await Promise.all(Array.from({ length: 10 }, () => get(nginx.port, hostB)));
  expect(burst.map((r) => `${r.status} ${r.body}`)).toEqual(Array(10).fill("200 B /"));
  const a = await get(nginx.port, hostA);
  expect(a.body).toBe("A /");
  expect(a.headers["x-host-seen"]).toBe(hostA); // Host passed through to the gear
  expect((await get(nginx.port, hostB)).body).toBe("B /");
  expect((await get(nginx.port, "nobody-dev.example.com")).status).toBe(404);
  expect(await listGearFrontends(node.ctx)).toEqual([A.uuid, B.uuid].sort());
});

test("aliases route to the same gear; a host name of another gear is a conflict", async () => {
  await setGearFrontend(node.ctx, specA({ hostnames: [hostA, "www.alpha.example.org"] }));
  expect((await get(nginx.port, "www.alpha.example.org")).body).toBe("A /");
  await expect(
    setGearFrontend(node.ctx, {
      gearUuid: B.uuid,
      hostnames: [hostB, "www.alpha.example.org"],
      routes: [{ path: "", backend: { ip: ipB, port: 8080 } }],
    }),
  ).rejects.toThrow(ConflictError);
  await expect(
    setGearFrontend(node.ctx, {
      gearUuid: B.uuid,
      hostnames: [hostB, "www.alpha.example.org"],
      routes: [{ path: "", backend: { ip: ipB, port: 8080 } }],
    }),
  ).rejects.toThrow(`host name www.alpha.example.org is already routed to gear ${A.uuid}`);
  expect((await get(nginx.port, "www.alpha.example.org")).body).toBe("A /");
});

test("path mappings: /api → backend /v1 on a second gear IP, on segment boundaries", async () => {
  await setGearFrontend(
    node.ctx,
    specA({
      routes: [
        { path: "", backend: { ip: ipA, port: 8080 } },
        { path: "/api", backend: { ip: ipA2, port: 9000, path: "/v1" } },
        { path: "/raw", backend: { ip: ipA2, port: 9000 } },
      ],
    }),
  );
  expect((await get(nginx.port, hostA, "/api/x/y?q=1")).body).toBe("A-api /v1/x/y?q=1");
  expect((await get(nginx.port, hostA, "/api")).body).toBe("A-api /v1");
  expect((await get(nginx.port, hostA, "/raw/z")).body).toBe("A-api /z");
  expect((await get(nginx.port, hostA, "/apiary")).body).toBe("A /apiary"); // not under /api/
  expect((await get(nginx.port, hostA, "/other")).body).toBe("A /other");
});

test("set is idempotent: the same spec (in any order) rewrites nothing and reads back canonical", async () => {
  const spec = specA({
    routes: [
      { path: "/api", backend: { ip: ipA2, port: 9000, path: "/v1" } },
      { path: "", backend: { ip: ipA, port: 8080 }, websocket: false },
    ],
  });
  await setGearFrontend(node.ctx, spec);
  const file = gearFrontendPath(node.config, A.uuid);
  const before = statSync(file);
  const text = readFileSync(file, "utf8");
  await setGearFrontend(node.ctx, { ...spec, routes: [...spec.routes].reverse(), idle: false });
  const after = statSync(file);
  expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  expect(readFileSync(file, "utf8")).toBe(text);
  expect(await readGearFrontend(node.ctx, A.uuid)).toEqual({
    gearUuid: A.uuid,
    hostnames: [hostA],
    routes: [
      { path: "/api", backend: { ip: ipA2, port: 9000, path: "/v1" } },
      { path: "", backend: { ip: ipA, port: 8080 } },
    ],
  });
  expect(await readGearFrontend(node.ctx, newUuid())).toBeNull();
  expect((await get(nginx.port, hostA, "/api/q")).body).toBe("A-api /v1/q");
});

test("refused before anything is written: unknown gear, backend outside the gear's block, injection", async () => {
  const file = gearFrontendPath(node.config, A.uuid);
  const text = readFileSync(file, "utf8");
  const ghost = newUuid();
  await expect(setGearFrontend(node.ctx, { ...specA(), gearUuid: ghost })).rejects.toThrow(
    `invalid gearUuid: no gear ${ghost} on this node`,
  );
  await expect(
    setGearFrontend(node.ctx, specA({ routes: [{ path: "", backend: { ip: ipB, port: 8080 } }] })),
  ).rejects.toThrow(/invalid routes\[0\]\.backend\.ip: .* is not in the gear's private block/);
  for (const evil of ["x.example.com; return 200 pwned", "x.example.com}\nserver{", 'x"y.example.com']) {
    await expect(setGearFrontend(node.ctx, specA({ hostnames: [evil] }))).rejects.toThrow(ValidationError);
  }
  await expect(
    setGearFrontend(
      node.ctx,
      specA({ routes: [{ path: "/a { return 200; }", backend: { ip: ipA, port: 1 } }] }),
    ),
  ).rejects.toThrow(/invalid routes\[0\]\.path/);
  expect(readFileSync(file, "utf8")).toBe(text);
  expect(existsSync(gearFrontendPath(node.config, ghost))).toBe(false);
});

test("nginx -t fails: the error is nginx's, the previous file is restored and still served", async () => {
  const file = gearFrontendPath(node.config, A.uuid);
  const text = readFileSync(file, "utf8");
  // someone broke the nginx config: our change must not be applied on top of it
  const broken = path.join(node.config.frontend.confDir, "zz-broken.conf");
  writeFileSync(broken, "this_is_not_a_directive on;\n");
  try {
    const err = await setGearFrontend(node.ctx, specA({ hostnames: [hostA, "new.alpha.example.org"] })).catch(
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(FrontendError);
    expect((err as Error).message).toMatch(
      /nginx rejected the configuration \(previous files restored\): .*unknown directive "this_is_not_a_directive"/,
    );
    expect(readFileSync(file, "utf8")).toBe(text);
    expect(readdirSync(node.config.frontend.confDir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  } finally {
    rmSync(broken);
  }
  expect((await get(nginx.port, hostA, "/still")).body).toBe("A /still");
  expect((await get(nginx.port, "new.alpha.example.org")).status).toBe(404);
});

test("reload fails (configured reload command): previous file restored, error thrown", async () => {
  const file = gearFrontendPath(node.config, A.uuid);
  const text = readFileSync(file, "utf8");
  const ctx = await makeContext({
    ...node.config,
    frontend: { ...node.config.frontend, reloadCommand: ["/bin/false"] },
  });
  await expect(setGearFrontend(ctx, specA({ hostnames: [hostA, "other.example.org"] }))).rejects.toThrow(
    /nginx reload failed \(previous files restored\)/,
  );
  expect(readFileSync(file, "utf8")).toBe(text);
});

test("reload signalled but nginx does not switch within 10 s: previous file restored, the error says so", async () => {
  const file = gearFrontendPath(node.config, A.uuid);
  const text = readFileSync(file, "utf8");
  // a master that does not act on the reload (stopped): the old workers keep serving the old config
  const master = Number(readFileSync(nginx.pidFile, "utf8").trim());
  process.kill(master, "SIGSTOP");
  let err: unknown;
  try {
    err = await setGearFrontend(node.ctx, specA({ hostnames: [hostA, "late.alpha.example.org"] })).catch(
      (e: Error) => e,
    );
    expect(readFileSync(file, "utf8")).toBe(text);
  } finally {
    process.kill(master, "SIGCONT");
  }
  expect(err).toBeInstanceOf(FrontendError);
  expect((err as Error).message).toMatch(
    new RegExp(
      `^nginx reload failed \\(previous files restored\\): nginx did not switch to the new configuration within 10 s: no new worker process; old worker\\(s\\) [0-9]+(, [0-9]+)* still accept connections; master ${master} \\(see nginx's error log\\)$`,
    ),
  );
  // the master resumes and reloads the restored files: the refused host name is not served, A still is
  expect((await get(nginx.port, "late.alpha.example.org")).status).toBe(404);
  expect((await get(nginx.port, hostA)).body).toBe("A /");
  expect(readFileSync(file, "utf8")).toBe(text);
});

test("idle: starting page (503, Retry-After), the unidler starts the gear once, then it is served again", async () => {
  const started: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const unidler: Unidler = await startUnidler({
    ctx: node.ctx,
    listen: { host: "127.0.0.1", port: unidlerPort },
    startGear: async (uuid) => {
      started.push(uuid);
      await gate; // a start takes a while: concurrent requests must not start it again
    },
  });
  try {
    await setGearFrontend(node.ctx, specA({ idle: true }));
    expect((await readGearFrontend(node.ctx, A.uuid))?.idle).toBe(true);
    const first = await get(nginx.port, hostA);
    expect(first.status).toBe(503);
    expect(first.headers["retry-after"]).toBe("5");
    expect(first.headers["content-type"]).toMatch(/text\/html/);
    expect(first.body).toMatch(/This application is starting/);
    const more = await Promise.all([1, 2, 3].map(() => get(nginx.port, hostA, "/deep/link")));
    expect(more.map((r) => r.status)).toEqual([503, 503, 503]);
    expect(started).toEqual([A.uuid]);
    // B is not idle and not touched
    expect((await get(nginx.port, hostB)).body).toBe("B /");
    // a request to the unidler for a host it does not know
    expect((await getDirect(unidlerPort, "nobody.example.com")).status).toBe(404);
    release();
    await unidler.starting.get(A.uuid);
    expect((await readGearFrontend(node.ctx, A.uuid))?.idle).toBeUndefined();
    expect((await get(nginx.port, hostA, "/back")).body).toBe("A /back");
    expect(started).toEqual([A.uuid]);
  } finally {
    release();
    await unidler.close();
  }
});

test("idle with the unidler down: nginx still answers with the starting page", async () => {
  await setGearFrontend(node.ctx, specA({ idle: true }));
  const r = await get(nginx.port, hostA);
  expect(r.status).toBe(503);
  expect(r.headers["retry-after"]).toBe("5");
  expect(r.body).toMatch(/This application is starting/);
  await setGearFrontend(node.ctx, specA());
  expect((await get(nginx.port, hostA)).status).toBe(200);
});

test("remove: 404 afterwards, file gone, removing again succeeds", async () => {
  await setGearFrontend(node.ctx, {
    gearUuid: B.uuid,
    hostnames: [hostB],
    routes: [{ path: "", backend: { ip: ipB, port: 8080 } }],
  });
  expect((await get(nginx.port, hostB)).status).toBe(200);
  await removeGearFrontend(node.ctx, B.uuid);
  expect((await get(nginx.port, hostB)).status).toBe(404);
  expect(existsSync(gearFrontendPath(node.config, B.uuid))).toBe(false);
  await removeGearFrontend(node.ctx, B.uuid);
  expect(await readGearFrontend(node.ctx, B.uuid)).toBeNull();
  expect((await get(nginx.port, hostA)).status).toBe(200);
});

test("CLI: set (JSON on stdin), show, list, remove; bad input exit 3, missing exit 4", async () => {
  const spec = {
    gearUuid: B.uuid,
    hostnames: [hostB],
    routes: [{ path: "", backend: { ip: ipB, port: 8080 } }],
  };
  const set = await cli(node, ["frontend", "set"], JSON.stringify(spec));
  expect([set.code, set.stderr]).toEqual([0, ""]);
  expect(set.json).toEqual(spec);
  expect((await get(nginx.port, hostB)).status).toBe(200);
  const show = await cli(node, ["frontend", "show", B.uuid]);
  expect([show.code, show.json]).toEqual([0, spec]);
  const list = await cli(node, ["frontend", "list"]);
  expect(list.json).toEqual([A.uuid, B.uuid].sort());
  const bad = await cli(
    node,
    ["frontend", "set"],
    JSON.stringify({ ...spec, hostnames: ["a b.example.com"] }),
  );
  expect(bad.code).toBe(3);
  expect(bad.json).toEqual({ error: expect.objectContaining({ kind: "invalid", field: "hostnames[0]" }) });
  const conflict = await cli(node, ["frontend", "set"], JSON.stringify({ ...spec, hostnames: [hostA] }));
  expect(conflict.code).toBe(5);
  expect((await cli(node, ["frontend", "show", "nothex"])).code).toBe(3);
  const rm = await cli(node, ["frontend", "remove", B.uuid]);
  expect([rm.code, rm.json]).toEqual([0, { gearUuid: B.uuid, removed: true }]);
  const missing = await cli(node, ["frontend", "show", B.uuid]);
  expect(missing.code).toBe(4);
  expect((await cli(node, ["frontend", "bogus"])).code).toBe(2);
  expect((await get(nginx.port, hostB)).status).toBe(404);
});

test("node check: nginx -t runs, a frontend file without a gear is reported; destroy removes the gear's file", async () => {
  let report = await checkNode(node.ctx);
  expect(report.failures).toEqual([]);
  expect(report.checks).toContainEqual(expect.objectContaining({ check: "nginx -t", ok: true }));
  expect(report.node.frontend).toMatch(/^nginx, 1 gear route file\(s\) in /);
  // a gear whose frontend is set, then destroyed: its route goes with it
  const C = { uuid: newUuid(), uid: node.uid(3), app: "gamma", namespace: "dev" };
  await createGear(node.ctx, C, { inspect: false });
  const ipC = gearAddresses(C.uid).loopback.first;
  await setGearFrontend(node.ctx, {
    gearUuid: C.uuid,
    hostnames: ["gamma-dev.example.com"],
    routes: [{ path: "", backend: { ip: ipC, port: 8080 } }],
  });
  const fileC = gearFrontendPath(node.config, C.uuid);
  const textC = readFileSync(fileC, "utf8");
  await destroyGear(node.ctx, C.uuid);
  expect(existsSync(fileC)).toBe(false);
  // the same file put back by hand (no gear): check names it
  await fs.writeFile(fileC, textC);
  report = await checkNode(node.ctx);
  expect(report.ok).toBe(false);
  expect(report.failures).toContainEqual({
    check: `frontend ${C.uuid}`,
    ok: false,
    detail: "leftover frontend file without a gear user",
  });
  // a gear file edited by hand is drift
  const fileA = gearFrontendPath(node.config, A.uuid);
  const textA = readFileSync(fileA, "utf8");
  await fs.writeFile(fileA, textA.replace("proxy_http_version 1.1;", "proxy_http_version 1.0;"));
  report = await checkNode(node.ctx);
  expect(report.failures).toContainEqual(
    expect.objectContaining({
      check: `frontend ${A.uuid}`,
      detail: expect.stringMatching(/differs from its rendered spec/),
    }),
  );
  await fs.writeFile(fileA, textA);
  await destroyGear(node.ctx, C.uuid); // gone already: removes the leftover route file too
  expect(existsSync(fileC)).toBe(false);
  expect((await checkNode(node.ctx)).failures).toEqual([]);
});

function getDirect(port: number, host: string): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/", headers: { host }, agent: false }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
  });
}
